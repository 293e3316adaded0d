/* kernels/cpu/qgemv_avx512_k.h: the pieces the AVX-512 VNNI q8_K dots (qgemv_avx512_k.c) and
 * their planted-bug copies share: horizontal sums, per-lane sub-block scales, the scaled
 * vpdpbusd dot (Q6_K), the Q4_K eight-row kernel. Each function carries its target
 * (AVX512F/BW/VL/VNNI): call only after the probe.
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

/* vpermw indices (mc_qgemv512_q4_K_rows8) that spread the scale words of sub-blocks 4 p .. 4 p + 3
 * (spread[p]) over the vpackssdw of chunk pair p's low- and high-nibble sums: 128-bit lane k holds
 * the low half's dwords 4 k .. 4 k + 3 (sub-block 4 p + 2 (k / 2)) then the high half's (4 p +
 * 2 (k / 2) + 1). */
extern const uint16_t mc_qgemv512_q4_K_spread[2][32];

/* Q4_K dots of the eight rows rows[0..7] (block i of row r at rows[r] + i * block_stride) with
 * the q8_K blocks xq, into out[0..7]; spread as mc_qgemv512_q4_K_spread (the planted-bug copy
 * passes another). Each row's lanes are its own: a row's bits do not depend on the other seven. */
void mc_qgemv512_q4_K_rows8(const uint8_t *const rows[8], int64_t block_stride, int64_t nblocks,
                            const uint8_t *xq, const uint16_t spread[2][32], float out[8]);

#endif
