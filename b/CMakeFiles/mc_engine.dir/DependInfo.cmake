
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/harness/backends.c" "CMakeFiles/mc_engine.dir/harness/backends.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/backends.c.o.d"
  "/work/main/harness/case.c" "CMakeFiles/mc_engine.dir/harness/case.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/case.c.o.d"
  "/work/main/harness/cases_lua.c" "CMakeFiles/mc_engine.dir/harness/cases_lua.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/cases_lua.c.o.d"
  "/work/main/harness/check.c" "CMakeFiles/mc_engine.dir/harness/check.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/check.c.o.d"
  "/work/main/harness/cli_list.c" "CMakeFiles/mc_engine.dir/harness/cli_list.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/cli_list.c.o.d"
  "/work/main/harness/cli_quant.c" "CMakeFiles/mc_engine.dir/harness/cli_quant.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/cli_quant.c.o.d"
  "/work/main/harness/cli_run.c" "CMakeFiles/mc_engine.dir/harness/cli_run.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/cli_run.c.o.d"
  "/work/main/harness/dtype.c" "CMakeFiles/mc_engine.dir/harness/dtype.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/dtype.c.o.d"
  "/work/main/harness/generate.c" "CMakeFiles/mc_engine.dir/harness/generate.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/generate.c.o.d"
  "/work/main/harness/half.c" "CMakeFiles/mc_engine.dir/harness/half.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/half.c.o.d"
  "/work/main/harness/json.c" "CMakeFiles/mc_engine.dir/harness/json.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/json.c.o.d"
  "/work/main/harness/junit.c" "CMakeFiles/mc_engine.dir/harness/junit.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/junit.c.o.d"
  "/work/main/harness/ops/op_common.c" "CMakeFiles/mc_engine.dir/harness/ops/op_common.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/ops/op_common.c.o.d"
  "/work/main/harness/ops/op_gemm.c" "CMakeFiles/mc_engine.dir/harness/ops/op_gemm.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/ops/op_gemm.c.o.d"
  "/work/main/harness/ops/op_gemv.c" "CMakeFiles/mc_engine.dir/harness/ops/op_gemv.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/ops/op_gemv.c.o.d"
  "/work/main/harness/ops/op_sdpa.c" "CMakeFiles/mc_engine.dir/harness/ops/op_sdpa.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/ops/op_sdpa.c.o.d"
  "/work/main/harness/ops/op_softmax.c" "CMakeFiles/mc_engine.dir/harness/ops/op_softmax.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/ops/op_softmax.c.o.d"
  "/work/main/harness/ops/ops.c" "CMakeFiles/mc_engine.dir/harness/ops/ops.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/ops/ops.c.o.d"
  "/work/main/harness/place.c" "CMakeFiles/mc_engine.dir/harness/place.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/place.c.o.d"
  "/work/main/harness/pool.c" "CMakeFiles/mc_engine.dir/harness/pool.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/pool.c.o.d"
  "/work/main/harness/probe.c" "CMakeFiles/mc_engine.dir/harness/probe.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/probe.c.o.d"
  "/work/main/harness/progress.c" "CMakeFiles/mc_engine.dir/harness/progress.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/progress.c.o.d"
  "/work/main/harness/registry.c" "CMakeFiles/mc_engine.dir/harness/registry.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/registry.c.o.d"
  "/work/main/harness/result.c" "CMakeFiles/mc_engine.dir/harness/result.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/result.c.o.d"
  "/work/main/harness/rng.c" "CMakeFiles/mc_engine.dir/harness/rng.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/rng.c.o.d"
  "/work/main/harness/runinfo.c" "CMakeFiles/mc_engine.dir/harness/runinfo.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/runinfo.c.o.d"
  "/work/main/harness/runner.c" "CMakeFiles/mc_engine.dir/harness/runner.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/runner.c.o.d"
  "/work/main/harness/select.c" "CMakeFiles/mc_engine.dir/harness/select.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/select.c.o.d"
  "/work/main/harness/session.c" "CMakeFiles/mc_engine.dir/harness/session.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/session.c.o.d"
  "/work/main/harness/stats.c" "CMakeFiles/mc_engine.dir/harness/stats.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/stats.c.o.d"
  "/work/main/harness/status.c" "CMakeFiles/mc_engine.dir/harness/status.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/status.c.o.d"
  "/work/main/harness/summary.c" "CMakeFiles/mc_engine.dir/harness/summary.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/summary.c.o.d"
  "/work/main/harness/tensor.c" "CMakeFiles/mc_engine.dir/harness/tensor.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/tensor.c.o.d"
  "/work/main/harness/timing.c" "CMakeFiles/mc_engine.dir/harness/timing.c.o" "gcc" "CMakeFiles/mc_engine.dir/harness/timing.c.o.d"
  "/work/main/kernels/cpu/backend_cpu.c" "CMakeFiles/mc_engine.dir/kernels/cpu/backend_cpu.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/backend_cpu.c.o.d"
  "/work/main/kernels/cpu/cpu_threads.c" "CMakeFiles/mc_engine.dir/kernels/cpu/cpu_threads.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/cpu_threads.c.o.d"
  "/work/main/kernels/cpu/gemm_dispatch.c" "CMakeFiles/mc_engine.dir/kernels/cpu/gemm_dispatch.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/gemm_dispatch.c.o.d"
  "/work/main/kernels/cpu/gemm_pack.c" "CMakeFiles/mc_engine.dir/kernels/cpu/gemm_pack.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/gemm_pack.c.o.d"
  "/work/main/kernels/cpu/gemm_scalar.c" "CMakeFiles/mc_engine.dir/kernels/cpu/gemm_scalar.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/gemm_scalar.c.o.d"
  "/work/main/kernels/cpu/gemm_tiled.c" "CMakeFiles/mc_engine.dir/kernels/cpu/gemm_tiled.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/gemm_tiled.c.o.d"
  "/work/main/kernels/cpu/gemm_tiled_avx2.c" "CMakeFiles/mc_engine.dir/kernels/cpu/gemm_tiled_avx2.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/gemm_tiled_avx2.c.o.d"
  "/work/main/kernels/cpu/gemm_tiles.c" "CMakeFiles/mc_engine.dir/kernels/cpu/gemm_tiles.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/gemm_tiles.c.o.d"
  "/work/main/kernels/cpu/gemv_avx2.c" "CMakeFiles/mc_engine.dir/kernels/cpu/gemv_avx2.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/gemv_avx2.c.o.d"
  "/work/main/kernels/cpu/gemv_scalar.c" "CMakeFiles/mc_engine.dir/kernels/cpu/gemv_scalar.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/gemv_scalar.c.o.d"
  "/work/main/kernels/cpu/gemv_variants.c" "CMakeFiles/mc_engine.dir/kernels/cpu/gemv_variants.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/gemv_variants.c.o.d"
  "/work/main/kernels/cpu/qgemv_avx2.c" "CMakeFiles/mc_engine.dir/kernels/cpu/qgemv_avx2.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/qgemv_avx2.c.o.d"
  "/work/main/kernels/cpu/qgemv_scalar.c" "CMakeFiles/mc_engine.dir/kernels/cpu/qgemv_scalar.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/qgemv_scalar.c.o.d"
  "/work/main/kernels/cpu/qgemv_variants.c" "CMakeFiles/mc_engine.dir/kernels/cpu/qgemv_variants.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/qgemv_variants.c.o.d"
  "/work/main/kernels/cpu/registry_cpu.c" "CMakeFiles/mc_engine.dir/kernels/cpu/registry_cpu.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/registry_cpu.c.o.d"
  "/work/main/kernels/cpu/sdpa_avx2.c" "CMakeFiles/mc_engine.dir/kernels/cpu/sdpa_avx2.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/sdpa_avx2.c.o.d"
  "/work/main/kernels/cpu/sdpa_scalar.c" "CMakeFiles/mc_engine.dir/kernels/cpu/sdpa_scalar.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/sdpa_scalar.c.o.d"
  "/work/main/kernels/cpu/sdpa_variants.c" "CMakeFiles/mc_engine.dir/kernels/cpu/sdpa_variants.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/sdpa_variants.c.o.d"
  "/work/main/kernels/cpu/softmax_avx2.c" "CMakeFiles/mc_engine.dir/kernels/cpu/softmax_avx2.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/softmax_avx2.c.o.d"
  "/work/main/kernels/cpu/softmax_scalar.c" "CMakeFiles/mc_engine.dir/kernels/cpu/softmax_scalar.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/softmax_scalar.c.o.d"
  "/work/main/kernels/cpu/softmax_variants.c" "CMakeFiles/mc_engine.dir/kernels/cpu/softmax_variants.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/softmax_variants.c.o.d"
  "/work/main/kernels/cpu/testonly_variants.c" "CMakeFiles/mc_engine.dir/kernels/cpu/testonly_variants.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/cpu/testonly_variants.c.o.d"
  "/work/main/kernels/opencl/backend_opencl.c" "CMakeFiles/mc_engine.dir/kernels/opencl/backend_opencl.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/opencl/backend_opencl.c.o.d"
  "/work/main/kernels/opencl/gemm_opencl.c" "CMakeFiles/mc_engine.dir/kernels/opencl/gemm_opencl.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/opencl/gemm_opencl.c.o.d"
  "/work/main/kernels/opencl/gemv_opencl.c" "CMakeFiles/mc_engine.dir/kernels/opencl/gemv_opencl.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/opencl/gemv_opencl.c.o.d"
  "/work/main/kernels/opencl/program_opencl.c" "CMakeFiles/mc_engine.dir/kernels/opencl/program_opencl.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/opencl/program_opencl.c.o.d"
  "/work/main/kernels/opencl/registry_opencl.c" "CMakeFiles/mc_engine.dir/kernels/opencl/registry_opencl.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/opencl/registry_opencl.c.o.d"
  "/work/main/kernels/opencl/sdpa_opencl.c" "CMakeFiles/mc_engine.dir/kernels/opencl/sdpa_opencl.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/opencl/sdpa_opencl.c.o.d"
  "/work/main/kernels/opencl/softmax_opencl.c" "CMakeFiles/mc_engine.dir/kernels/opencl/softmax_opencl.c.o" "gcc" "CMakeFiles/mc_engine.dir/kernels/opencl/softmax_opencl.c.o.d"
  "/work/main/reference/ref_gemm.c" "CMakeFiles/mc_engine.dir/reference/ref_gemm.c.o" "gcc" "CMakeFiles/mc_engine.dir/reference/ref_gemm.c.o.d"
  "/work/main/reference/ref_gemv.c" "CMakeFiles/mc_engine.dir/reference/ref_gemv.c.o" "gcc" "CMakeFiles/mc_engine.dir/reference/ref_gemv.c.o.d"
  "/work/main/reference/ref_quant.c" "CMakeFiles/mc_engine.dir/reference/ref_quant.c.o" "gcc" "CMakeFiles/mc_engine.dir/reference/ref_quant.c.o.d"
  "/work/main/reference/ref_sdpa.c" "CMakeFiles/mc_engine.dir/reference/ref_sdpa.c.o" "gcc" "CMakeFiles/mc_engine.dir/reference/ref_sdpa.c.o.d"
  "/work/main/reference/ref_softmax.c" "CMakeFiles/mc_engine.dir/reference/ref_softmax.c.o" "gcc" "CMakeFiles/mc_engine.dir/reference/ref_softmax.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
