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

/* Four Q4_K block headers (d, dmin, then the 12 packed scale bytes; one per 128-bit lane) to 16
 * bytes a lane, scales 0..7 then mins 0..7: ggml's utmp unpacking done on each lane's dwords
 * u0, u1, u2 (the scale bytes; dword 0, d and dmin, is dropped). Bytes of dwords 0 and 2: u0,
 * u1 & 63; of 1 and 3: the nibbles of u2 (low, then high) with the top two bits of u0, u1 at 0x30.
 * mc_qgemv_scale_min_k4 does one sub-block. */
VNNI512_INLINE __m512i mc_qgemv512_q4_K_unpack4(__m512i headers)
{
    const __m512i p = _mm512_shuffle_epi32(headers, _MM_SHUFFLE(3, 2, 3, 1)); /* u0 u2 u1 u2 */
    const __m512i q = _mm512_shuffle_epi32(headers, _MM_SHUFFLE(2, 2, 1, 1)); /* u0 u0 u1 u1 */
    const __m512i low =
        _mm512_and_si512(_mm512_srlv_epi32(p, _mm512_broadcast_i32x4(_mm_setr_epi32(0, 0, 0, 4))),
                         _mm512_broadcast_i32x4(_mm_setr_epi32(0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F)));
    const __m512i high = _mm512_and_si512(_mm512_srli_epi32(q, 2),
                                          _mm512_broadcast_i32x4(_mm_setr_epi32(0, 0x30303030, 0, 0x30303030)));
    return _mm512_or_si512(low, high);
}

/* The 16-byte headers of four Q4_K blocks, at rows[i] + off, in the four 128-bit lanes. */
VNNI512_INLINE __m512i mc_qgemv512_q4_K_headers(const uint8_t *const *rows, int64_t off)
{
    __m512i h = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(const void *)(rows[0] + off)));
    h = _mm512_inserti32x4(h, _mm_loadu_si128((const __m128i *)(const void *)(rows[1] + off)), 1);
    h = _mm512_inserti32x4(h, _mm_loadu_si128((const __m128i *)(const void *)(rows[2] + off)), 2);
    return _mm512_inserti32x4(h, _mm_loadu_si128((const __m128i *)(const void *)(rows[3] + off)), 3);
}

/* A q8_K block's bsums (at p) summed in pairs, bsum_2j + bsum_2j+1 (|.| <= 4064) in int16 lane
 * 8 + j, lanes 0..7 zero: vpmaddwd with a row's unpacked scale bytes widened to int16 (scales in
 * lanes 0..7, mins in 8..15) gives sum_j m_j pair_j in four int32 lanes (the others 0). */
VNNI512_INLINE __m256i mc_qgemv512_q8_K_pair_sums(const uint8_t *p)
{
    const __m256i pairs =
        _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(const void *)p), _mm256_set1_epi16(1));
    const __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(pairs, pairs), _MM_SHUFFLE(2, 0, 0, 0));
    return _mm256_blend_epi32(_mm256_setzero_si256(), words, 0xF0);
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

/* Sums each of the 8 accumulators' 16 lanes less its 8 lanes of sub (row 2 i's: lanes 0..7 of
 * sub[i]; row 2 i + 1's: 8..15) into out[0..7], transposed: the 8 sums in one register. */
VNNI512_INLINE void mc_qgemv512_hsums8(const __m512 acc[8], const __m512 sub[4], float out[8])
{
    __m512 s[4], t[2];
    for (int i = 0; i < 4; i++) /* row 2i's halves' sums in lanes 0..7, row 2i + 1's in 8..15 */
        s[i] = _mm512_sub_ps(_mm512_add_ps(_mm512_shuffle_f32x4(acc[2 * i], acc[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                                           _mm512_shuffle_f32x4(acc[2 * i], acc[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2))),
                             sub[i]);
    for (int i = 0; i < 2; i++) /* row 4i + q's 4 sums in 128-bit lane q */
        t[i] = _mm512_add_ps(_mm512_shuffle_f32x4(s[2 * i], s[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_f32x4(s[2 * i], s[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    /* lane q: rows q and q + 4, (t0 + t2) and (t1 + t3) each */
    const __m512 w = _mm512_add_ps(_mm512_shuffle_ps(t[0], t[1], _MM_SHUFFLE(1, 0, 1, 0)),
                                   _mm512_shuffle_ps(t[0], t[1], _MM_SHUFFLE(3, 2, 3, 2)));
    /* lane q: rows q, q + 4, q, q + 4 */
    const __m512 f = _mm512_add_ps(_mm512_shuffle_ps(w, w, _MM_SHUFFLE(2, 0, 2, 0)),
                                   _mm512_shuffle_ps(w, w, _MM_SHUFFLE(3, 1, 3, 1)));
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0);
    _mm256_storeu_ps(out, _mm512_castps512_ps256(_mm512_permutexvar_ps(order, f)));
}

#endif
