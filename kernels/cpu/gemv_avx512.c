/* kernels/cpu/gemv_avx512.c: AVX-512 GEMV inner loops for f32, f16 and bf16 A (built with
 * -mavx512f): 16 elements per load or conversion (vcvtph2ps zmm; bf16 widened and shifted, exact),
 * four FMA chains per row, two rows per pass, software prefetch ahead of each row.
 * SPDX-License-Identifier: MIT */
#include <immintrin.h>

#include "kernels/cpu/gemv_avx512.h"

#ifndef MC_GEMV512_PREFETCH_BYTES
#define MC_GEMV512_PREFETCH_BYTES 1024
#endif

static inline __m512 load16_f32(const void *p, int64_t j)
{
    return _mm512_loadu_ps((const float *)p + j);
}

static inline __m512 load16_f16(const void *p, int64_t j)
{
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)((const uint16_t *)p + j)));
}

static inline __m512 load16_bf16(const void *p, int64_t j)
{
    const __m256i h = _mm256_loadu_si256((const __m256i *)(const void *)((const uint16_t *)p + j));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* The last 8 elements (n % 16 == 8): the upper half of the vector loads nothing and adds zero. */
static inline __m512 load8_f32(const void *p, int64_t j)
{
    return _mm512_zextps256_ps512(_mm256_loadu_ps((const float *)p + j));
}

static inline __m512 load8_f16(const void *p, int64_t j)
{
    const __m128i h = _mm_loadu_si128((const __m128i *)(const void *)((const uint16_t *)p + j));
    return _mm512_cvtph_ps(_mm256_zextsi128_si256(h));
}

static inline __m512 load8_bf16(const void *p, int64_t j)
{
    const __m128i h = _mm_loadu_si128((const __m128i *)(const void *)((const uint16_t *)p + j));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_zextsi128_si256(h)), 16));
}

typedef __m512 (*load_fn)(const void *p, int64_t j);

/* Rows a0 and a1 on their own four chains each, in the same order (so a row's sum does not depend
 * on its partner): 64 elements a pass, then 16 at a time into chain 0, then a last 8. */
static inline __attribute__((always_inline)) void dot2(load_fn load16, load_fn load8, int64_t eb, const void *a0,
                                                       const void *a1, const float *x, int64_t n, float out[2])
{
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    __m512 t0 = s0, t1 = s0, t2 = s0, t3 = s0;
    int64_t j = 0;
    for (; j + 64 <= n; j += 64) {
        for (int64_t line = 0; line < 64 * eb; line += 64) {
            _mm_prefetch((const char *)a0 + j * eb + line + MC_GEMV512_PREFETCH_BYTES, _MM_HINT_T0);
            _mm_prefetch((const char *)a1 + j * eb + line + MC_GEMV512_PREFETCH_BYTES, _MM_HINT_T0);
        }
        const __m512 x0 = _mm512_loadu_ps(x + j), x1 = _mm512_loadu_ps(x + j + 16);
        const __m512 x2 = _mm512_loadu_ps(x + j + 32), x3 = _mm512_loadu_ps(x + j + 48);
        s0 = _mm512_fmadd_ps(load16(a0, j), x0, s0);
        t0 = _mm512_fmadd_ps(load16(a1, j), x0, t0);
        s1 = _mm512_fmadd_ps(load16(a0, j + 16), x1, s1);
        t1 = _mm512_fmadd_ps(load16(a1, j + 16), x1, t1);
        s2 = _mm512_fmadd_ps(load16(a0, j + 32), x2, s2);
        t2 = _mm512_fmadd_ps(load16(a1, j + 32), x2, t2);
        s3 = _mm512_fmadd_ps(load16(a0, j + 48), x3, s3);
        t3 = _mm512_fmadd_ps(load16(a1, j + 48), x3, t3);
    }
    for (; j + 16 <= n; j += 16) {
        const __m512 xj = _mm512_loadu_ps(x + j);
        s0 = _mm512_fmadd_ps(load16(a0, j), xj, s0);
        t0 = _mm512_fmadd_ps(load16(a1, j), xj, t0);
    }
    if (j < n) {
        const __m512 xj = _mm512_zextps256_ps512(_mm256_loadu_ps(x + j));
        s0 = _mm512_fmadd_ps(load8(a0, j), xj, s0);
        t0 = _mm512_fmadd_ps(load8(a1, j), xj, t0);
    }
    out[0] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
    out[1] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(t0, t1), _mm512_add_ps(t2, t3)));
}

void mc_gemv_dot2_f32_avx512(const float *a0, const float *a1, const float *x, int64_t n, float out[2])
{
    dot2(load16_f32, load8_f32, 4, a0, a1, x, n, out);
}

void mc_gemv_dot2_f16_avx512(const uint16_t *a0, const uint16_t *a1, const float *x, int64_t n, float out[2])
{
    dot2(load16_f16, load8_f16, 2, a0, a1, x, n, out);
}

void mc_gemv_dot2_bf16_avx512(const uint16_t *a0, const uint16_t *a1, const float *x, int64_t n, float out[2])
{
    dot2(load16_bf16, load8_bf16, 2, a0, a1, x, n, out);
}
