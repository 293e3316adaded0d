file(REMOVE_RECURSE
  "CMakeFiles/test_quant.dir/test_quant.c.o"
  "CMakeFiles/test_quant.dir/test_quant.c.o.d"
  "test_quant"
  "test_quant.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_quant.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
