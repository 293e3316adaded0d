# Empty compiler generated dependencies file for test_half.
# This may be replaced when dependencies are built.
