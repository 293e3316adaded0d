file(REMOVE_RECURSE
  "CMakeFiles/test_kernels_cpu.dir/test_kernels_cpu.c.o"
  "CMakeFiles/test_kernels_cpu.dir/test_kernels_cpu.c.o.d"
  "test_kernels_cpu"
  "test_kernels_cpu.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_kernels_cpu.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
