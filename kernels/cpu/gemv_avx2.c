/* kernels/cpu/gemv_avx2.c: AVX2/FMA/F16C GEMV inner loops (built with -mavx2 -mfma -mf16c):
 * aligned 8-wide loads of A, f32 accumulation in four independent FMA chains.
 * SPDX-License-Identifier: MIT */
#include <immintrin.h>

#include "kernels/cpu/gemv_avx2.h"
#include "kernels/cpu/softmax_avx2.h"

float mc_gemv_dot_f32_avx2(const float *a, const float *x, int64_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t j = 0;
    for (; j + 32 <= n; j += 32) {
        s0 = _mm256_fmadd_ps(_mm256_load_ps(a + j), _mm256_loadu_ps(x + j), s0);
        s1 = _mm256_fmadd_ps(_mm256_load_ps(a + j + 8), _mm256_loadu_ps(x + j + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_load_ps(a + j + 16), _mm256_loadu_ps(x + j + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_load_ps(a + j + 24), _mm256_loadu_ps(x + j + 24), s3);
    }
    for (; j < n; j += 8)
        s0 = _mm256_fmadd_ps(_mm256_load_ps(a + j), _mm256_loadu_ps(x + j), s0);
    return mc_hsum_avx2(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

static inline __m256 load8_f16(const uint16_t *p)
{
    return _mm256_cvtph_ps(_mm_load_si128((const __m128i *)p));
}

/* bf16 is the top half of an f32: widen to 32 bits and shift into place (exact). */
static inline __m256 load8_bf16(const uint16_t *p)
{
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_load_si128((const __m128i *)p)), 16));
}

float mc_gemv_dot_f16_avx2(const uint16_t *a, const float *x, int64_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t j = 0;
    for (; j + 32 <= n; j += 32) {
        s0 = _mm256_fmadd_ps(load8_f16(a + j), _mm256_loadu_ps(x + j), s0);
        s1 = _mm256_fmadd_ps(load8_f16(a + j + 8), _mm256_loadu_ps(x + j + 8), s1);
        s2 = _mm256_fmadd_ps(load8_f16(a + j + 16), _mm256_loadu_ps(x + j + 16), s2);
        s3 = _mm256_fmadd_ps(load8_f16(a + j + 24), _mm256_loadu_ps(x + j + 24), s3);
    }
    for (; j < n; j += 8)
        s0 = _mm256_fmadd_ps(load8_f16(a + j), _mm256_loadu_ps(x + j), s0);
    return mc_hsum_avx2(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

float mc_gemv_dot_bf16_avx2(const uint16_t *a, const float *x, int64_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t j = 0;
    for (; j + 32 <= n; j += 32) {
        s0 = _mm256_fmadd_ps(load8_bf16(a + j), _mm256_loadu_ps(x + j), s0);
        s1 = _mm256_fmadd_ps(load8_bf16(a + j + 8), _mm256_loadu_ps(x + j + 8), s1);
        s2 = _mm256_fmadd_ps(load8_bf16(a + j + 16), _mm256_loadu_ps(x + j + 16), s2);
        s3 = _mm256_fmadd_ps(load8_bf16(a + j + 24), _mm256_loadu_ps(x + j + 24), s3);
    }
    for (; j < n; j += 8)
        s0 = _mm256_fmadd_ps(load8_bf16(a + j), _mm256_loadu_ps(x + j), s0);
    return mc_hsum_avx2(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
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
        _mm256_storeu_ps(acc + i, _mm256_fmadd_ps(s, load8_f16(col + i), _mm256_loadu_ps(acc + i)));
}

void mc_gemv_axpy_bf16_avx2(float *acc, const uint16_t *col, int64_t n, float xp)
{
    const __m256 s = _mm256_set1_ps(xp);
    for (int64_t i = 0; i < n; i += 8)
        _mm256_storeu_ps(acc + i, _mm256_fmadd_ps(s, load8_bf16(col + i), _mm256_loadu_ps(acc + i)));
}
