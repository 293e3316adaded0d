file(REMOVE_RECURSE
  "CMakeFiles/metallic-check.dir/harness/main.c.o"
  "CMakeFiles/metallic-check.dir/harness/main.c.o.d"
  "metallic-check"
  "metallic-check.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/metallic-check.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
