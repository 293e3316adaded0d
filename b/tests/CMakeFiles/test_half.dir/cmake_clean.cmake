file(REMOVE_RECURSE
  "CMakeFiles/test_half.dir/test_half.c.o"
  "CMakeFiles/test_half.dir/test_half.c.o.d"
  "test_half"
  "test_half.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_half.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
