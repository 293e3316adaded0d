# Empty dependencies file for test_cases_lua.
# This may be replaced when dependencies are built.
