# Empty dependencies file for test_quant.
# This may be replaced when dependencies are built.
