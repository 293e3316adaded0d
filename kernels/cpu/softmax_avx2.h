/* kernels/cpu/softmax_avx2.h: AVX2 row primitives (convert, max, exp-sum, online statistics, scaled
 * store) shared by the softmax and SDPA variants, and the vectorised exp they are built on.
 * SPDX-License-Identifier: MIT */
#ifndef MC_SOFTMAX_AVX2_H
#define MC_SOFTMAX_AVX2_H

#include <stdint.h>

#include "core/variant.h"

/* Every function here runs AVX2/FMA/F16C code: call it only when mc_cpu_has_avx2() said yes.
 * "Dense" rows have packed elements and start on an element boundary (mc_cpu_row_is_dense_aligned);
 * the callers send every other row down their scalar path. f32 scratch rows may sit anywhere. */

/* dst[j] = scale * x[j] for a dense row of n f32, f16 or bf16 elements. */
void mc_avx2_load_row(mc_dtype dt, const uint8_t *x, int64_t n, float scale, float *dst);
/* The same, returning the largest dst[j] (-inf for n == 0): the max pass folded into the load. */
float mc_avx2_load_row_max(mc_dtype dt, const uint8_t *x, int64_t n, float scale, float *dst);
/* Writes y[j] = v[j] * (mul / div), rounded to dt (nearest even), for a dense row of n elements. */
void mc_avx2_store_row(mc_dtype dt, uint8_t *y, const float *v, int64_t n, float mul, float div);
/* Largest of v[0..n); -inf for n == 0. */
float mc_avx2_max(const float *v, int64_t n);
/* v[j] = exp(v[j] - max) in place; returns the sum, added in a fixed order. max must be finite. */
float mc_avx2_exp_sum(float *v, int64_t n, float max);
/* One pass over a dense row: the running max of scale * x and the sum of exp(scale * x - max),
 * rescaled whenever the max grows. max is -inf and sum 0 when every entry is -inf. */
void mc_avx2_online_stats(mc_dtype dt, const uint8_t *x, int64_t n, float scale, float *max /* out */,
                          float *sum /* out */);
/* y[j] = exp(scale * x[j] - max) / sum over dense rows x (dtype xdt) and y (dtype ydt). */
void mc_avx2_online_out(mc_dtype xdt, const uint8_t *x, mc_dtype ydt, uint8_t *y, int64_t n, float scale,
                        float max, float sum);
/* exp of each of n floats (n <= 8 is fine): the vectorised exp, for tests and lane merges. */
void mc_avx2_exp_n(const float *x, float *out, int n);

/* The streaming three-pass rows (softmax_avx2_stream): x read twice, never copied.
 * The largest scale * x[j], each product rounded to f32 (-inf for n == 0). */
float mc_avx2_row_max(mc_dtype dt, const uint8_t *x, int64_t n, float scale);
/* v[j] = exp(scale * x[j] - max), the argument rounded once (an FMA); returns the sum, added in a
 * fixed order. max must be finite and >= every scale * x[j]; v may be x itself when dt is f32.
 * next_x (NULL: none): a row of the same dtype read next, whose lines are prefetched while the
 * exponentials compute, so memory works under the arithmetic. */
float mc_avx2_exp_sum_x(mc_dtype dt, const uint8_t *x, int64_t n, float scale, float max, float *v,
                        const uint8_t *next_x);
/* mc_avx2_store_row; stream != 0: with non-temporal stores where the row is vector-aligned (for
 * outputs far larger than the caches, which would only be evicted again), fenced before returning. */
void mc_avx2_store_row_nt(mc_dtype dt, uint8_t *y, const float *v, int64_t n, float mul, float div, int stream);

/* Prefetches the cache lines of elements [j, j + 32) of a row of eb-byte elements at p (NULL: none),
 * into L2 (prefetcht1): L1 already holds this row's x and the f32 scratch row (32 KiB of 48 at
 * 4096 f32 columns); prefetcht0 measured x0.94-0.98 at 7.8 and 58.7 MB (load ~1). */
static inline void mc_softmax_prefetch_block(const uint8_t *p, int64_t eb, int64_t j)
{
    if (!p)
        return;
    for (int64_t o = 0; o < 32 * eb; o += 64)
        __builtin_prefetch(p + j * eb + o, 0, 2);
}

#ifdef __AVX2__
#include <immintrin.h>

/* Cephes' expf reduction and polynomial: given n = round(x / ln2), r = x - n ln2 (ln2 in two
 * parts, so r is nearly exact, |r| <= ln2/2); returns exp(r) by a degree-6 polynomial. */
static inline __m256 mc_exp_reduced_avx2(__m256 x, __m256 n)
{
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r);
    return _mm256_add_ps(p, _mm256_set1_ps(1.0f));
}

/* exp(x) over the whole float range. 2^n is applied as two halves, so results that underflow to
 * subnormals round once, correctly. x < -104 (below half the smallest subnormal), -inf included,
 * gives exactly 0; x > 89 gives inf. */
static inline __m256 mc_exp_wide_avx2(__m256 x)
{
    const __m256 lo = _mm256_set1_ps(-104.0f), hi = _mm256_set1_ps(89.0f);
    const __m256 underflow = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 p = mc_exp_reduced_avx2(x, n);
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    const __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    return _mm256_andnot_ps(underflow, y);
}

/* exp(x), 8 lanes, within 2 ulp over the whole float range (test_kernels_cpu sweeps it).
 * When every lane lies in [-87, 88] (results normal, 2^n representable: softmax's usual case),
 * n comes from the 1.5 * 2^23 rounding trick and 2^n is one exponent-field add; otherwise the
 * careful path above runs. */
static inline __m256 mc_exp_avx2(__m256 x)
{
    const __m256 outside = _mm256_or_ps(_mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_NGE_UQ),
                                        _mm256_cmp_ps(x, _mm256_set1_ps(88.0f), _CMP_NLE_UQ));
    if (_mm256_movemask_ps(outside))
        return mc_exp_wide_avx2(x);
    const __m256 magic = _mm256_set1_ps(12582912.0f); /* 1.5 * 2^23: adding it rounds to an integer */
    const __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), magic);
    const __m256 p = mc_exp_reduced_avx2(x, _mm256_sub_ps(t, magic));
    /* t's low mantissa bits hold n: 2^n = (bits(t) - bits(magic) + 127) << 23 */
    const __m256i e = _mm256_add_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(127 - 0x4B400000));
    return _mm256_mul_ps(p, _mm256_castsi256_ps(_mm256_slli_epi32(e, 23)));
}

/* Sum of the 8 lanes in a fixed order (so results never depend on anything but the inputs). */
static inline float mc_hsum_avx2(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float mc_hmax_avx2(__m256 v)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
#endif

#endif
