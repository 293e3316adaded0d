file(REMOVE_RECURSE
  "CMakeFiles/test_cases_lua.dir/test_cases_lua.c.o"
  "CMakeFiles/test_cases_lua.dir/test_cases_lua.c.o.d"
  "test_cases_lua"
  "test_cases_lua.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_cases_lua.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
