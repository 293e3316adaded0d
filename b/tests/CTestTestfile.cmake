# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/b/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test([=[test_case]=] "/work/main/b/tests/test_case")
set_tests_properties([=[test_case]=] PROPERTIES  ENVIRONMENT "MC_SOURCE_DIR=/work/main;ASAN_OPTIONS=handle_segv=0:detect_leaks=1" LABELS "unit" TIMEOUT "900" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;10;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[test_cases_lua]=] "/work/main/b/tests/test_cases_lua")
set_tests_properties([=[test_cases_lua]=] PROPERTIES  ENVIRONMENT "MC_SOURCE_DIR=/work/main;ASAN_OPTIONS=handle_segv=0:detect_leaks=1" LABELS "unit" TIMEOUT "900" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;10;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[test_check]=] "/work/main/b/tests/test_check")
set_tests_properties([=[test_check]=] PROPERTIES  ENVIRONMENT "MC_SOURCE_DIR=/work/main;ASAN_OPTIONS=handle_segv=0:detect_leaks=1" LABELS "unit" TIMEOUT "900" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;10;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[test_gemm_tiled]=] "/work/main/b/tests/test_gemm_tiled")
set_tests_properties([=[test_gemm_tiled]=] PROPERTIES  ENVIRONMENT "MC_SOURCE_DIR=/work/main;ASAN_OPTIONS=handle_segv=0:detect_leaks=1" LABELS "unit" TIMEOUT "900" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;10;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[test_half]=] "/work/main/b/tests/test_half")
set_tests_properties([=[test_half]=] PROPERTIES  ENVIRONMENT "MC_SOURCE_DIR=/work/main;ASAN_OPTIONS=handle_segv=0:detect_leaks=1" LABELS "unit" TIMEOUT "900" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;10;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[test_kernels_cpu]=] "/work/main/b/tests/test_kernels_cpu")
set_tests_properties([=[test_kernels_cpu]=] PROPERTIES  ENVIRONMENT "MC_SOURCE_DIR=/work/main;ASAN_OPTIONS=handle_segv=0:detect_leaks=1" LABELS "unit" TIMEOUT "900" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;10;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[test_pool]=] "/work/main/b/tests/test_pool")
set_tests_properties([=[test_pool]=] PROPERTIES  ENVIRONMENT "MC_SOURCE_DIR=/work/main;ASAN_OPTIONS=handle_segv=0:detect_leaks=1" LABELS "unit" TIMEOUT "900" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;10;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[test_quant]=] "/work/main/b/tests/test_quant")
set_tests_properties([=[test_quant]=] PROPERTIES  ENVIRONMENT "MC_SOURCE_DIR=/work/main;ASAN_OPTIONS=handle_segv=0:detect_leaks=1" LABELS "unit" TIMEOUT "900" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;10;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[test_reference]=] "/work/main/b/tests/test_reference")
set_tests_properties([=[test_reference]=] PROPERTIES  ENVIRONMENT "MC_SOURCE_DIR=/work/main;ASAN_OPTIONS=handle_segv=0:detect_leaks=1" LABELS "unit" TIMEOUT "900" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;10;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[test_stats]=] "/work/main/b/tests/test_stats")
set_tests_properties([=[test_stats]=] PROPERTIES  ENVIRONMENT "MC_SOURCE_DIR=/work/main;ASAN_OPTIONS=handle_segv=0:detect_leaks=1" LABELS "unit" TIMEOUT "900" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;10;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[test_tensor]=] "/work/main/b/tests/test_tensor")
set_tests_properties([=[test_tensor]=] PROPERTIES  ENVIRONMENT "MC_SOURCE_DIR=/work/main;ASAN_OPTIONS=handle_segv=0:detect_leaks=1" LABELS "unit" TIMEOUT "900" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;10;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[test_timing]=] "/work/main/b/tests/test_timing")
set_tests_properties([=[test_timing]=] PROPERTIES  ENVIRONMENT "MC_SOURCE_DIR=/work/main;ASAN_OPTIONS=handle_segv=0:detect_leaks=1" LABELS "unit" TIMEOUT "900" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;10;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[cli_exit_codes]=] "bash" "/work/main/tests/cli_exit_codes.sh" "/work/main/b/metallic-check" "/work/main")
set_tests_properties([=[cli_exit_codes]=] PROPERTIES  LABELS "cli" TIMEOUT "900" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;16;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[cli_quant]=] "bash" "/work/main/tests/cli_quant.sh" "/work/main/b/metallic-check" "/work/main")
set_tests_properties([=[cli_quant]=] PROPERTIES  LABELS "cli" TIMEOUT "900" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;16;add_test;/work/main/tests/CMakeLists.txt;0;")
