file(REMOVE_RECURSE
  "CMakeFiles/test_case.dir/test_case.c.o"
  "CMakeFiles/test_case.dir/test_case.c.o.d"
  "test_case"
  "test_case.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_case.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
