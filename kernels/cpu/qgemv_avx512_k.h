/* kernels/cpu/qgemv_avx512_k.h: the pieces the AVX-512 VNNI q8_K dots (qgemv_avx512_k.c) and
 * their planted-bug copies share: horizontal sums, per-lane sub-block scales, the scaled
 * vpdpbusd dot, Q4_K's scale unpacking. Each function carries its target (AVX512F/BW/VL/VNNI):
 * call only after the probe.
 * SPDX-License-Identifier: MIT */
#ifndef MC_QGEMV_AVX512_K_H
#define MC_QGEMV_AVX512_K_H

#include <immintrin.h>
#include <stdint.h>

#include "kernels/cpu/qgemv_common.h"

#define VNNI512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
#define VNNI512_INLINE VNNI512 static inline __attribute__((always_inline))

static inline float mc_qgemv512_f16_at(const uint8_t *p)
{
    return mc_qgemv_f16_table[p[0] | p[1] << 8];
}

VNNI512_INLINE float mc_qgemv512_hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

VNNI512_INLINE float mc_qgemv512_hsum512(__m512 v)
{
    const __m256 high = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    return mc_qgemv512_hsum256(_mm256_add_ps(_mm512_castps512_ps256(v), high));
}

/* Sub-block scales spread over the 16 int32 lanes of one vpdpbusd result: lane i gets scale
 * lane first + i / per (per = 8: two 32-element sub-blocks; 4: four 16-element ones). */
VNNI512_INLINE __m512i mc_qgemv512_lane_scales(__m512i scales, int first, int per)
{
    __m512i idx = _mm512_set1_epi32(first);
    idx = _mm512_add_epi32(idx, _mm512_srli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                                                     14, 15),
                                                  per == 8 ? 3 : 2));
    return _mm512_permutexvar_epi32(idx, scales);
}

/* w (unsigned codes) dot v (x's int8 codes), four products a lane, times the lane's scale (an
 * int32 lane whose high 16 bits are 0; |four-product sum| <= 4 * 63 * 127 fits the low 16
 * bits), added to acc: vpdpwssd multiplies the low halves and adds 0 for the high ones. */
VNNI512_INLINE __m512i mc_qgemv512_scaled_dot(__m512i acc, __m512i w, __m512i v, __m512i scale)
{
    return _mm512_dpwssd_epi32(acc, _mm512_dpbusd_epi32(_mm512_setzero_si512(), w, v), scale);
}

/* Q4_K's 12 packed scale bytes as int32 lanes, scales 0..7 in lanes 0..7 and mins in 8..15:
 * ggml's utmp unpacking done on the dwords u0, u1, u2 in one register (16 bytes loaded; the last
 * 4 are qs, unused). Bytes of lanes 0 and 2: u0, u1 & 63; of 1 and 3: the nibbles of u2 (low, then
 * high) with the top two bits of u0, u1 at 0x30. mc_qgemv_scale_min_k4 does one sub-block. */
VNNI512_INLINE __m512i mc_qgemv512_q4_K_scales_mins(const uint8_t *s)
{
    const __m128i u = _mm_loadu_si128((const __m128i *)(const void *)s);
    const __m128i p = _mm_shuffle_epi32(u, _MM_SHUFFLE(2, 1, 2, 0)); /* u0 u2 u1 u2 */
    const __m128i q = _mm_shuffle_epi32(u, _MM_SHUFFLE(1, 1, 0, 0)); /* u0 u0 u1 u1 */
    const __m128i low = _mm_and_si128(_mm_srlv_epi32(p, _mm_setr_epi32(0, 0, 0, 4)),
                                      _mm_setr_epi32(0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F));
    const __m128i high = _mm_and_si128(_mm_srli_epi32(q, 2), _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
    return _mm512_cvtepu8_epi32(_mm_or_si128(low, high));
}

#endif
