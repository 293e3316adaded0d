/* kernels/opencl/registry_opencl.c: the opencl backend's variant table and the program each variant
 * is identified by, one row per variant, in a fixed order.
 * SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "kernels/opencl/backend_opencl.h"

extern const mc_variant mc_variant_gemm_opencl_tiled_32;
extern const mc_variant mc_variant_gemm_opencl_tiled_128;
extern const mc_variant mc_variant_gemv_opencl_wgreduce;
extern const mc_variant mc_variant_gemv_q8_0_opencl;
extern const mc_variant mc_variant_gemv_q4_0_opencl;
extern const mc_variant mc_variant_softmax_opencl_blocked;
extern const mc_variant mc_variant_sdpa_opencl_three_stage;
extern const mc_variant mc_variant_sdpa_opencl_fused;

extern const mc_opencl_program_def mc_opencl_program_gemm_tiled_32;
extern const mc_opencl_program_def mc_opencl_program_gemm_tiled_128;
extern const mc_opencl_program_def mc_opencl_program_gemv_plain;
extern const mc_opencl_program_def mc_opencl_program_gemv_q8_0;
extern const mc_opencl_program_def mc_opencl_program_gemv_q4_0;
extern const mc_opencl_program_def mc_opencl_program_softmax;
extern const mc_opencl_program_def mc_opencl_program_sdpa_three_stage;
extern const mc_opencl_program_def mc_opencl_program_sdpa_fused;

const mc_variant *const mc_opencl_variants[] = {
    &mc_variant_gemm_opencl_tiled_32,
    &mc_variant_gemm_opencl_tiled_128,
    &mc_variant_gemv_opencl_wgreduce,
    &mc_variant_gemv_q8_0_opencl,
    &mc_variant_gemv_q4_0_opencl,
    &mc_variant_softmax_opencl_blocked,
    &mc_variant_sdpa_opencl_three_stage,
    &mc_variant_sdpa_opencl_fused,
    NULL,
};

/* Same order as the variants: each variant's name is its program key (mc_opencl_program_hash). */
const mc_opencl_program_def *const mc_opencl_programs[] = {
    &mc_opencl_program_gemm_tiled_32,
    &mc_opencl_program_gemm_tiled_128,
    &mc_opencl_program_gemv_plain,
    &mc_opencl_program_gemv_q8_0,
    &mc_opencl_program_gemv_q4_0,
    &mc_opencl_program_softmax,
    &mc_opencl_program_sdpa_three_stage,
    &mc_opencl_program_sdpa_fused,
    NULL,
};

/* The opencl backend's row (core/backend.h): listed in mc_backend_rows[] by CMakeLists.txt's MC_BACKENDS. */
extern const mc_backend mc_backend_opencl;
const mc_backend_row mc_backend_row_opencl = {
    .name = "opencl", .backend = &mc_backend_opencl, .variants = mc_opencl_variants,
};
