/* kernels/cpu/gemv_avx512.h: the AVX-512 two-row inner loops of the vectorised GEMV (gemv_avx512.c).
 * Call them only when the avx512 GEMV probe said yes.
 * SPDX-License-Identifier: MIT */
#ifndef MC_GEMV_AVX512_H
#define MC_GEMV_AVX512_H

#include <stdint.h>

/* Two rows' dot products with x into out[0] and out[1], n a multiple of 8, any alignment (aligned
 * to 32 bytes streams best); each row's sum is the same whether paired or alone (pass a1 = a0). */
void mc_gemv_dot2_f32_avx512(const float *a0, const float *a1, const float *x, int64_t n, float out[2]);
void mc_gemv_dot2_f16_avx512(const uint16_t *a0, const uint16_t *a1, const float *x, int64_t n, float out[2]);
void mc_gemv_dot2_bf16_avx512(const uint16_t *a0, const uint16_t *a1, const float *x, int64_t n, float out[2]);

#endif
