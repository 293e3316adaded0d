/* kernels/cpu/softmax_avx512.h: AVX-512 row primitives for softmax_avx512 (max, exp-sum straight
 * from x with the next row prefetched, scaled store) and the 16-lane exp they are built on.
 * SPDX-License-Identifier: MIT */
#ifndef MC_SOFTMAX_AVX512_H
#define MC_SOFTMAX_AVX512_H

#include <stdint.h>

#include "core/variant.h"

/* AVX-512 F/BW/VL code: call only when mc_avx512_softmax_probe() said yes. Rows are dense (packed,
 * element-aligned: mc_cpu_row_is_dense_aligned); f32 scratch may sit anywhere. */

/* The largest scale * x[j], each product rounded to f32 (-inf for n == 0). */
float mc_avx512_row_max(mc_dtype dt, const uint8_t *x, int64_t n, float scale);
/* v[j] = exp(scale * x[j] - max), the argument rounded once (an FMA); returns the sum, added in a
 * fixed order. max must be finite and >= every scale * x[j]; v may be x itself when dt is f32.
 * next_x (NULL: none): a row of the same dtype read next, whose lines are prefetched while the
 * exponentials compute, so memory works under the arithmetic. */
float mc_avx512_exp_sum(mc_dtype dt, const uint8_t *x, int64_t n, float scale, float max, float *v,
                        const uint8_t *next_x);
/* Writes y[j] = v[j] * (mul / div), rounded to dt (nearest even), for a dense row of n elements;
 * stream != 0: with non-temporal stores where the row is vector-aligned (for outputs far larger
 * than the caches, which would only be evicted again), fenced before returning. */
void mc_avx512_store_row(mc_dtype dt, uint8_t *y, const float *v, int64_t n, float mul, float div, int stream);
/* A row's output held back one row (softmax_variants.c's stream_row): mc_avx512_store_row's
 * arguments, written while the next row's exponentials compute. */
typedef struct mc_avx512_pending {
    mc_dtype dt;
    uint8_t *y;      /* NULL: nothing pending */
    const float *v;  /* the row's exponentials (in the scratch row the next row's go into) */
    int64_t n;
    float mul, div;
    int stream;
} mc_avx512_pending;

/* mc_avx512_exp_sum, and meanwhile prev's row stored exactly as mc_avx512_store_row would (same
 * values, streaming where it would stream): its stores go out under the arithmetic instead of in
 * a pass of their own. v is prev->v itself (each block of prev's is stored before this row's
 * exponentials overwrite it) or does not overlap it; x does not overlap prev->v; prev->dt must
 * be dt (x and y of one dtype). */
float mc_avx512_exp_sum_store(mc_dtype dt, const uint8_t *x, int64_t n, float scale, float max, float *v,
                              const uint8_t *next_x, const mc_avx512_pending *prev);
/* exp of each of n floats (each <= 1e5): the 16-lane exp, for tests. */
void mc_avx512_exp_n(const float *x, float *out, int n);
/* NULL when this CPU runs the functions above, else why not. */
const char *mc_avx512_softmax_probe(void);

#endif
