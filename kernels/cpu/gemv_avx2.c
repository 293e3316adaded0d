/* kernels/cpu/gemv_avx2.c: AVX2/FMA/F16C GEMV inner loops (built with -mavx2 -mfma -mf16c):
 * aligned 8-wide loads of A, f32 accumulation in four independent FMA chains per row, one or two
 * rows per pass, software prefetch ahead of each row.
 * SPDX-License-Identifier: MIT */
#include <immintrin.h>

#include "kernels/cpu/gemv_avx2.h"
#include "kernels/cpu/softmax_avx2.h"

static inline __m256 load8_f32(const void *p, int64_t j)
{
    return _mm256_load_ps((const float *)p + j);
}

static inline __m256 load8_f16(const void *p, int64_t j)
{
    return _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(const void *)((const uint16_t *)p + j)));
}

/* bf16 is the top half of an f32: widen to 32 bits and shift into place (exact). */
static inline __m256 load8_bf16(const void *p, int64_t j)
{
    const __m128i h = _mm_load_si128((const __m128i *)(const void *)((const uint16_t *)p + j));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

typedef __m256 (*load8_fn)(const void *p, int64_t j);

/* Prefetch distance in bytes ahead of each row's loads: the hardware prefetcher alone leaves a
 * core short of misses in flight (the same lever as the quantised GEMV, docs/quant.md). */
#ifndef MC_GEMV_PREFETCH_BYTES
#define MC_GEMV_PREFETCH_BYTES 2048
#endif

static inline void prefetch_ahead(const void *row, int64_t byte)
{
    _mm_prefetch((const char *)row + byte + MC_GEMV_PREFETCH_BYTES, _MM_HINT_T0);
}

/* `rows` (1 or 2, a constant once inlined) rows at once, each on its own four FMA chains in the
 * same order as alone: a row's sum is bitwise the same whether it is paired or not, so the
 * thread partition (which decides the pairs) never changes a result. Two rows share each x load
 * and keep two streams in flight. eb: bytes per element of A. */
static inline __attribute__((always_inline)) void dot_rows(load8_fn load, int64_t eb, int rows, const void *a0,
                                                           const void *a1, const float *x, int64_t n, float *out)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    __m256 t0 = s0, t1 = s0, t2 = s0, t3 = s0;
    int64_t j = 0;
    for (; j + 32 <= n; j += 32) {
        for (int64_t line = 0; line < 32 * eb; line += 64) {
            prefetch_ahead(a0, j * eb + line);
            if (rows == 2)
                prefetch_ahead(a1, j * eb + line);
        }
        const __m256 x0 = _mm256_loadu_ps(x + j), x1 = _mm256_loadu_ps(x + j + 8);
        const __m256 x2 = _mm256_loadu_ps(x + j + 16), x3 = _mm256_loadu_ps(x + j + 24);
        s0 = _mm256_fmadd_ps(load(a0, j), x0, s0);
        s1 = _mm256_fmadd_ps(load(a0, j + 8), x1, s1);
        s2 = _mm256_fmadd_ps(load(a0, j + 16), x2, s2);
        s3 = _mm256_fmadd_ps(load(a0, j + 24), x3, s3);
        if (rows == 2) {
            t0 = _mm256_fmadd_ps(load(a1, j), x0, t0);
            t1 = _mm256_fmadd_ps(load(a1, j + 8), x1, t1);
            t2 = _mm256_fmadd_ps(load(a1, j + 16), x2, t2);
            t3 = _mm256_fmadd_ps(load(a1, j + 24), x3, t3);
        }
    }
    for (; j < n; j += 8) {
        const __m256 xj = _mm256_loadu_ps(x + j);
        s0 = _mm256_fmadd_ps(load(a0, j), xj, s0);
        if (rows == 2)
            t0 = _mm256_fmadd_ps(load(a1, j), xj, t0);
    }
    out[0] = mc_hsum_avx2(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    if (rows == 2)
        out[1] = mc_hsum_avx2(_mm256_add_ps(_mm256_add_ps(t0, t1), _mm256_add_ps(t2, t3)));
}

float mc_gemv_dot_f32_avx2(const float *a, const float *x, int64_t n)
{
    float y;
    dot_rows(load8_f32, 4, 1, a, NULL, x, n, &y);
    return y;
}

float mc_gemv_dot_f16_avx2(const uint16_t *a, const float *x, int64_t n)
{
    float y;
    dot_rows(load8_f16, 2, 1, a, NULL, x, n, &y);
    return y;
}

float mc_gemv_dot_bf16_avx2(const uint16_t *a, const float *x, int64_t n)
{
    float y;
    dot_rows(load8_bf16, 2, 1, a, NULL, x, n, &y);
    return y;
}

void mc_gemv_dot2_f32_avx2(const float *a0, const float *a1, const float *x, int64_t n, float out[2])
{
    dot_rows(load8_f32, 4, 2, a0, a1, x, n, out);
}

void mc_gemv_dot2_f16_avx2(const uint16_t *a0, const uint16_t *a1, const float *x, int64_t n, float out[2])
{
    dot_rows(load8_f16, 2, 2, a0, a1, x, n, out);
}

void mc_gemv_dot2_bf16_avx2(const uint16_t *a0, const uint16_t *a1, const float *x, int64_t n, float out[2])
{
    dot_rows(load8_bf16, 2, 2, a0, a1, x, n, out);
}

void mc_gemv_axpy_f32_avx2(float *acc, const float *col, int64_t n, float xp)
{
    const __m256 s = _mm256_set1_ps(xp);
    for (int64_t i = 0; i < n; i += 8)
        _mm256_storeu_ps(acc + i, _mm256_fmadd_ps(s, _mm256_load_ps(col + i), _mm256_loadu_ps(acc + i)));
}

void mc_gemv_axpy_f16_avx2(float *acc, const uint16_t *col, int64_t n, float xp)
{
    const __m256 s = _mm256_set1_ps(xp);
    for (int64_t i = 0; i < n; i += 8)
        _mm256_storeu_ps(acc + i, _mm256_fmadd_ps(s, load8_f16(col, i), _mm256_loadu_ps(acc + i)));
}

void mc_gemv_axpy_bf16_avx2(float *acc, const uint16_t *col, int64_t n, float xp)
{
    const __m256 s = _mm256_set1_ps(xp);
    for (int64_t i = 0; i < n; i += 8)
        _mm256_storeu_ps(acc + i, _mm256_fmadd_ps(s, load8_bf16(col, i), _mm256_loadu_ps(acc + i)));
}
