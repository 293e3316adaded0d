/* kernels/cpu/gemv_avx2.h: the AVX2/FMA/F16C inner loops of the vectorised GEMV (gemv_avx2.c).
 * Call them only when mc_cpu_has_avx2() said yes, with the alignment each one states.
 * SPDX-License-Identifier: MIT */
#ifndef MC_GEMV_AVX2_H
#define MC_GEMV_AVX2_H

#include <stdint.h>

/* sum_j a[j] * x[j] for n a multiple of 8: a 32-byte aligned, x anywhere. */
float mc_gemv_dot_f32_avx2(const float *a, const float *x, int64_t n);
/* The same with f16 a, 16-byte aligned. */
float mc_gemv_dot_f16_avx2(const uint16_t *a, const float *x, int64_t n);
/* The same with bf16 a, 16-byte aligned. */
float mc_gemv_dot_bf16_avx2(const uint16_t *a, const float *x, int64_t n);
/* Two rows' dot products at once into out[0] and out[1], each bitwise equal to the one-row call
 * (same chains, same order), both rows aligned as the one-row call asks. */
void mc_gemv_dot2_f32_avx2(const float *a0, const float *a1, const float *x, int64_t n, float out[2]);
void mc_gemv_dot2_f16_avx2(const uint16_t *a0, const uint16_t *a1, const float *x, int64_t n, float out[2]);
void mc_gemv_dot2_bf16_avx2(const uint16_t *a0, const uint16_t *a1, const float *x, int64_t n, float out[2]);
/* acc[i] += xp * col[i] for n a multiple of 8: col 32-byte aligned, acc anywhere. */
void mc_gemv_axpy_f32_avx2(float *acc, const float *col, int64_t n, float xp);
/* The same with f16 col, 16-byte aligned. */
void mc_gemv_axpy_f16_avx2(float *acc, const uint16_t *col, int64_t n, float xp);
/* The same with bf16 col, 16-byte aligned. */
void mc_gemv_axpy_bf16_avx2(float *acc, const uint16_t *col, int64_t n, float xp);

#endif
