file(REMOVE_RECURSE
  "CMakeFiles/test_gemm_tiled.dir/test_gemm_tiled.c.o"
  "CMakeFiles/test_gemm_tiled.dir/test_gemm_tiled.c.o.d"
  "test_gemm_tiled"
  "test_gemm_tiled.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_gemm_tiled.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
