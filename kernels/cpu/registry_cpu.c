/* kernels/cpu/registry_cpu.c: the cpu backend's variant table, one row per variant, in a fixed order.
 * SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "core/backend.h"
#include "core/variant.h"

extern const mc_variant mc_variant_gemm_scalar;
extern const mc_variant mc_variant_gemm_tiled_portable;
extern const mc_variant mc_variant_gemm_tiled_f32_avx2_6x16;
extern const mc_variant mc_variant_gemm_tiled_f32_avx512_12x32;
extern const mc_variant mc_variant_gemm_gemv;
extern const mc_variant mc_variant_gemm_small_n;
extern const mc_variant mc_variant_gemm_dispatch;
extern const mc_variant mc_variant_gemm_openblas;
extern const mc_variant mc_variant_gemv_scalar;
extern const mc_variant mc_variant_gemv_f32_avx2;
extern const mc_variant mc_variant_gemv_f16_avx2;
extern const mc_variant mc_variant_gemv_openblas;
extern const mc_variant mc_variant_gemv_bf16_avx2;
extern const mc_variant mc_variant_gemv_q8_0_scalar;
extern const mc_variant mc_variant_gemv_q8_0_avx2;
extern const mc_variant mc_variant_gemv_q4_0_scalar;
extern const mc_variant mc_variant_gemv_q4_0_avx2;
extern const mc_variant mc_variant_gemv_q8_0_q8dot_scalar;
extern const mc_variant mc_variant_gemv_q8_0_q8dot_avx2;
extern const mc_variant mc_variant_gemv_q4_0_q8dot_scalar;
extern const mc_variant mc_variant_gemv_q4_0_q8dot_avx2;
extern const mc_variant mc_variant_softmax_scalar;
extern const mc_variant mc_variant_softmax_avx2;
extern const mc_variant mc_variant_softmax_online;
extern const mc_variant mc_variant_softmax_blocked;
extern const mc_variant mc_variant_sdpa_scalar;
extern const mc_variant mc_variant_sdpa_three_stage;
extern const mc_variant mc_variant_sdpa_fused_qk_softmax;
extern const mc_variant mc_variant_sdpa_flash;
extern const mc_variant mc_variant_gemv_q8_0_q8dot_vnni;
extern const mc_variant mc_variant_gemv_q4_0_q8dot_vnni;
extern const mc_variant mc_variant_gemm_tiled_bf16_avx512bf16_12x32;
extern const mc_variant mc_variant_gemm_tiled_bf16_amx_16x32;

const mc_variant *const mc_cpu_variants[] = {
    &mc_variant_gemm_scalar,
    &mc_variant_gemm_tiled_portable,
    &mc_variant_gemm_tiled_f32_avx2_6x16,
    &mc_variant_gemm_tiled_f32_avx512_12x32,
    &mc_variant_gemm_gemv,
    &mc_variant_gemm_small_n,
    &mc_variant_gemm_dispatch,
    &mc_variant_gemm_openblas,
    &mc_variant_gemv_scalar,
    &mc_variant_gemv_f32_avx2,
    &mc_variant_gemv_f16_avx2,
    &mc_variant_gemv_openblas,
    &mc_variant_gemv_bf16_avx2,
    &mc_variant_gemv_q8_0_scalar,
    &mc_variant_gemv_q8_0_avx2,
    &mc_variant_gemv_q4_0_scalar,
    &mc_variant_gemv_q4_0_avx2,
    &mc_variant_gemv_q8_0_q8dot_scalar,
    &mc_variant_gemv_q8_0_q8dot_avx2,
    &mc_variant_gemv_q4_0_q8dot_scalar,
    &mc_variant_gemv_q4_0_q8dot_avx2,
    &mc_variant_softmax_scalar,
    &mc_variant_softmax_avx2,
    &mc_variant_softmax_online,
    &mc_variant_softmax_blocked,
    &mc_variant_sdpa_scalar,
    &mc_variant_sdpa_three_stage,
    &mc_variant_sdpa_fused_qk_softmax,
    &mc_variant_sdpa_flash,
    &mc_variant_gemv_q8_0_q8dot_vnni,
    &mc_variant_gemv_q4_0_q8dot_vnni,
    &mc_variant_gemm_tiled_bf16_avx512bf16_12x32,
    &mc_variant_gemm_tiled_bf16_amx_16x32,
    NULL,
};

/* The cpu backend's row (core/backend.h): listed in mc_backend_rows[] by CMakeLists.txt's MC_BACKENDS. */
extern const mc_backend mc_backend_cpu;
const mc_backend_row mc_backend_row_cpu = {
    .name = "cpu", .backend = &mc_backend_cpu, .variants = mc_cpu_variants,
};
