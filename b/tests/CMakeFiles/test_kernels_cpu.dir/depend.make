# Empty dependencies file for test_kernels_cpu.
# This may be replaced when dependencies are built.
