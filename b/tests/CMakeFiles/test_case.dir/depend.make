# Empty dependencies file for test_case.
# This may be replaced when dependencies are built.
