file(REMOVE_RECURSE
  "CMakeFiles/test_timing.dir/test_timing.c.o"
  "CMakeFiles/test_timing.dir/test_timing.c.o.d"
  "test_timing"
  "test_timing.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_timing.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
