/* kernels/cuda/registry_cuda.c: the cuda backend's variant table and the program each variant is
 * identified by, one row per variant, in a fixed order.
 * SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "kernels/cuda/backend_cuda.h"

extern const mc_variant mc_variant_gemm_cuda_tiled_32;
extern const mc_variant mc_variant_gemm_cuda_tiled_128;
extern const mc_variant mc_variant_gemm_cuda_mma;
extern const mc_variant mc_variant_gemm_cuda_dispatch;
extern const mc_variant mc_variant_gemv_cuda_vec16;
extern const mc_variant mc_variant_gemv_q8_0_cuda;
extern const mc_variant mc_variant_gemv_q4_0_cuda;
extern const mc_variant mc_variant_softmax_cuda_warp;
extern const mc_variant mc_variant_softmax_cuda_block;
extern const mc_variant mc_variant_sdpa_cuda_three_stage;
extern const mc_variant mc_variant_sdpa_cuda_fused;
extern const mc_variant mc_variant_sdpa_cuda_flash;
extern const mc_variant mc_variant_gemm_cublas_sgemm;
extern const mc_variant mc_variant_gemm_cublas_hgemm;
extern const mc_variant mc_variant_gemv_cublas_sgemv;

extern const mc_cuda_program_def mc_cuda_program_gemm_tiled_32;
extern const mc_cuda_program_def mc_cuda_program_gemm_tiled_128;
extern const mc_cuda_program_def mc_cuda_program_gemm_mma;
extern const mc_cuda_program_def mc_cuda_program_gemm_dispatch;
extern const mc_cuda_program_def mc_cuda_program_gemv_plain;
extern const mc_cuda_program_def mc_cuda_program_gemv_q8_0;
extern const mc_cuda_program_def mc_cuda_program_gemv_q4_0;
extern const mc_cuda_program_def mc_cuda_program_softmax_warp;
extern const mc_cuda_program_def mc_cuda_program_softmax_block;
extern const mc_cuda_program_def mc_cuda_program_sdpa_three_stage;
extern const mc_cuda_program_def mc_cuda_program_sdpa_fused;
extern const mc_cuda_program_def mc_cuda_program_sdpa_flash;

const mc_variant *const mc_cuda_variants[] = {
    &mc_variant_gemm_cuda_tiled_32,
    &mc_variant_gemm_cuda_tiled_128,
    &mc_variant_gemm_cuda_mma,
    &mc_variant_gemm_cuda_dispatch,
    &mc_variant_gemv_cuda_vec16,
    &mc_variant_gemv_q8_0_cuda,
    &mc_variant_gemv_q4_0_cuda,
    &mc_variant_softmax_cuda_warp,
    &mc_variant_softmax_cuda_block,
    &mc_variant_sdpa_cuda_three_stage,
    &mc_variant_sdpa_cuda_fused,
    &mc_variant_sdpa_cuda_flash,
    &mc_variant_gemm_cublas_sgemm,
    &mc_variant_gemm_cublas_hgemm,
    &mc_variant_gemv_cublas_sgemv,
    NULL,
};

/* The variants' own code (peers run cuBLAS: no program of ours). Same order as the variants: each variant's name is its program key (mc_cuda_program_hash). */
const mc_cuda_program_def *const mc_cuda_programs[] = {
    &mc_cuda_program_gemm_tiled_32,
    &mc_cuda_program_gemm_tiled_128,
    &mc_cuda_program_gemm_mma,
    &mc_cuda_program_gemm_dispatch,
    &mc_cuda_program_gemv_plain,
    &mc_cuda_program_gemv_q8_0,
    &mc_cuda_program_gemv_q4_0,
    &mc_cuda_program_softmax_warp,
    &mc_cuda_program_softmax_block,
    &mc_cuda_program_sdpa_three_stage,
    &mc_cuda_program_sdpa_fused,
    &mc_cuda_program_sdpa_flash,
    NULL,
};

/* The cuda backend's row (core/backend.h): listed in mc_backend_rows[] by CMakeLists.txt's MC_BACKENDS. */
extern const mc_backend mc_backend_cuda;
const mc_backend_row mc_backend_row_cuda = {
    .name = "cuda", .backend = &mc_backend_cuda, .variants = mc_cuda_variants,
};
