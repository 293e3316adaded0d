# Empty dependencies file for test_timing.
# This may be replaced when dependencies are built.
