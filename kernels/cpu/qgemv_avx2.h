/* kernels/cpu/qgemv_avx2.h: small AVX2 helpers the quantised row kernels share (horizontal sum,
 * byte loads widened to lanes, the unsigned-by-signed byte dot). Include only from files built
 * with -mavx2 -mfma -mf16c (the files named qgemv_avx2*.c).
 * SPDX-License-Identifier: MIT */
#ifndef MC_QGEMV_AVX2_H
#define MC_QGEMV_AVX2_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

static inline float mc_qgemv_hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Eight bytes at p, zero-extended to 32-bit lanes. */
static inline __m256i mc_qgemv_bytes8(const uint8_t *p)
{
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)p));
}

static inline __m256i mc_qgemv_bytes32(const uint8_t *p)
{
    return _mm256_loadu_si256((const __m256i *)(const void *)p);
}

/* 32 unsigned codes times 32 int8 codes: 8 exact int32 lanes, lane i the bytes 4i .. 4i + 3. The
 * caller keeps 2 u_max 127 below 32768 (maddubs saturates its int16 pair sums). */
static inline __m256i mc_qgemv_udot32(__m256i u, __m256i s)
{
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/* Codes 8 i .. 8 i + 7 (i = 0..3) of 32 signed byte codes, as floats (exact). */
static inline __attribute__((always_inline)) __m256 mc_qgemv_codes_ps(__m256i q, int i)
{
    const __m128i half = i < 2 ? _mm256_castsi256_si128(q) : _mm256_extracti128_si256(q, 1);
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(i % 2 ? _mm_srli_si128(half, 8) : half));
}

/* As mc_qgemv_udot32, each int16 pair sum then times its lane of scales16 (int16; |pair| <=
 * 2 u_max 127 and |scale| <= 127 keep every int32 lane exact): a sub-block's scaled dot in one
 * madd, where a multiply of the int32 lanes would take two uops and ten cycles. */
static inline __m256i mc_qgemv_udot32_scaled(__m256i u, __m256i s, __m256i scales16)
{
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), scales16);
}

/* Scales for 32 codes of two 16-element sub-blocks: int16 lanes 0..7 (codes 0..15) a, 8..15 b. */
static inline __m256i mc_qgemv_scale_pair16(int a, int b)
{
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_set1_epi16((short)a)), _mm_set1_epi16((short)b), 1);
}

/* x's q8_K bsum j (the sum of its 16 codes 16 j .. 16 j + 15). */
static inline int16_t mc_qgemv_bsum(const uint8_t *xb, int j)
{
    int16_t v;
    memcpy(&v, xb + 260 + 2 * j, sizeof v);
    return v;
}

#endif
