/* kernels/cpu/sdpa_avx2.h: AVX2/FMA/F16C building blocks of the SDPA variants (sdpa_avx2.c):
 * a small cache-blocked f32 GEMM on packed panels, and dot/axpy loops over dense K and V rows.
 * Call them only when mc_cpu_has_avx2() said yes.
 * SPDX-License-Identifier: MIT */
#ifndef MC_SDPA_AVX2_H
#define MC_SDPA_AVX2_H

#include <stdint.h>

#include "core/variant.h"

/* C (m x n) = alpha * A (m x k) B (k x n), plus C when accumulate, all f32, row-major with leading
 * dimensions lda, ldb, ldc. n must be a multiple of 16. Summation over k runs in order, one FMA
 * chain per output, so the result never depends on m or on how rows are split. */
void mc_sdpa_gemm_avx2(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                       const float *b, int64_t ldb, float *c, int64_t ldc, int accumulate);
/* out[t] = sum_c q[c] * key_t[c] for the keys at k_row + t * k_stride, t < count (1..4); each key
 * row a dense, element-aligned row of d elements of dtype dt; q is f32. */
void mc_sdpa_dot_keys_avx2(mc_dtype dt, const uint8_t *k_row, int64_t k_stride, int count, const float *q,
                           int64_t d, float *out);
/* o[c] += p * v[c] for a dense, element-aligned row v of d elements of dtype dt. */
void mc_sdpa_axpy_avx2(mc_dtype dt, float *o, const uint8_t *v, int64_t d, float p);
/* dst[c * ldd + j] = element c of key row j, for j < nk and c < d: K^T as an f32 panel. Key row j
 * starts at src + j * row_stride, dense and element-aligned, of dtype dt. 8 x 8 blocks go through
 * register transposes. */
void mc_sdpa_pack_transposed_avx2(mc_dtype dt, const uint8_t *src, int64_t row_stride, int64_t nk, int64_t d,
                                  float *dst, int64_t ldd);
/* v[c] *= s for c < n. */
void mc_sdpa_scale_avx2(float *v, int64_t n, float s);

#endif
