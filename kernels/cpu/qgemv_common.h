/* kernels/cpu/qgemv_common.h: the quantised GEMV kernels' shared pieces: row-kernel and
 * x-quantiser types, the scalar and AVX2 row kernels, and the driver that runs them.
 * SPDX-License-Identifier: MIT */
#ifndef MC_QGEMV_COMMON_H
#define MC_QGEMV_COMMON_H

#include <stdint.h>

#include "core/variant.h"

#define MC_QGEMV_QK 32          /* elements per q8_0 / q4_0 block */
#define MC_QGEMV_Q8_0_BYTES 34  /* fp16 d + 32 x int8: also the layout of quantised x */

/* One output element: the dot product of a quantised row (nblocks blocks, block i at
 * row + i * block_stride, any alignment) with x, given as k contiguous f32 values and, for the
 * q8_0 x q8_0 kernels, as k/32 contiguous q8_0 blocks (xq; NULL for the others). */
typedef float (*mc_qgemv_row_fn)(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                 const uint8_t *xq);

/* Quantises n (a multiple of 32) contiguous f32 values into q8_0 blocks. */
typedef void (*mc_qgemv_quantise_fn)(const float *x, uint8_t *out, int64_t n);

/* fp16 bits -> f32 value, all 65536 of them (exact; NaN payloads kept): a block scale then costs
 * one load, not a shuffle and a conversion. The AVX2 row kernels read it: call
 * mc_qgemv_fill_tables() first (mc_qgemv_run does). */
extern float mc_qgemv_f16_table[1 << 16];
/* Fills mc_qgemv_f16_table once per process; safe to call from any thread, any number of times. */
void mc_qgemv_fill_tables(void);

/* Scalar kernels (qgemv_scalar.c). */
float mc_qgemv_row_q8_0_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq);
float mc_qgemv_row_q4_0_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq);
float mc_qgemv_row_q8_0_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks,
                                     const float *x, const uint8_t *xq);
float mc_qgemv_row_q4_0_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks,
                                     const float *x, const uint8_t *xq);
/* ggml's reference rule: d = amax / 127, id = 1 / d, q = roundf(x id) (ties away from zero). */
void mc_qgemv_quantise_x_q8_0_scalar(const float *x, uint8_t *out, int64_t n);

/* AVX2/FMA/F16C kernels (qgemv_avx2.c): call only when mc_cpu_has_avx2(). */
float mc_qgemv_row_q8_0_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                             const uint8_t *xq);
float mc_qgemv_row_q4_0_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                             const uint8_t *xq);
float mc_qgemv_row_q8_0_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq);
float mc_qgemv_row_q4_0_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq);
/* The q8dot rows on vpdpbusd (qgemv_avx2.c): call only when mc_qgemv_has_vnni(); bitwise equal
 * to the AVX2 q8dot rows. */
float mc_qgemv_row_q8_0_q8dot_vnni(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq);
float mc_qgemv_row_q4_0_q8dot_vnni(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq);
/* ggml's x86 rule: id = 127 / amax, q = round-to-nearest-even(x id); d = amax / 127. */
void mc_qgemv_quantise_x_q8_0_avx2(const float *x, uint8_t *out, int64_t n);

/* Runs y = A x row by row on kc->threads threads: gathers x (any dtype, stride, alignment) into
 * contiguous f32, quantises it with quantise_x when that is not NULL, calls row() per output
 * element and stores the result rounded to y's dtype. */
mc_status mc_qgemv_run(mc_kernel_ctx *kc, const mc_gemv_args *g, mc_qgemv_row_fn row,
                       mc_qgemv_quantise_fn quantise_x, mc_err *err);

#endif
