# Empty dependencies file for test_gemm_tiled.
# This may be replaced when dependencies are built.
