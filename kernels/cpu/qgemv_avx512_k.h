/* kernels/cpu/qgemv_avx512_k.h: the pieces the AVX-512 VNNI q8_K dots (qgemv_avx512_k.c) and
 * their planted-bug copies share: horizontal sums, per-lane sub-block scales, the scaled
 * vpdpbusd dot, Q4_K's scale unpacking. Each function carries its target (AVX512F/BW/VL/VNNI):
 * call only after the probe.
 * SPDX-License-Identifier: MIT */
#ifndef MC_QGEMV_AVX512_K_H
#define MC_QGEMV_AVX512_K_H

#include <assert.h>
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

/* Q4_K's 12 packed scale bytes as 16 bytes, scales 0..7 then mins 0..7: ggml's utmp unpacking
 * done on the dwords u0, u1, u2 in one register (16 bytes loaded; the last 4 are qs, unused).
 * Bytes of dwords 0 and 2: u0, u1 & 63; of 1 and 3: the nibbles of u2 (low, then high) with the
 * top two bits of u0, u1 at 0x30. mc_qgemv_scale_min_k4 does one sub-block. */
VNNI512_INLINE __m128i mc_qgemv512_q4_K_scale_bytes(const uint8_t *s)
{
    const __m128i u = _mm_loadu_si128((const __m128i *)(const void *)s);
    const __m128i p = _mm_shuffle_epi32(u, _MM_SHUFFLE(2, 1, 2, 0)); /* u0 u2 u1 u2 */
    const __m128i q = _mm_shuffle_epi32(u, _MM_SHUFFLE(1, 1, 0, 0)); /* u0 u0 u1 u1 */
    const __m128i low = _mm_and_si128(_mm_srlv_epi32(p, _mm_setr_epi32(0, 0, 0, 4)),
                                      _mm_setr_epi32(0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F));
    const __m128i high = _mm_and_si128(_mm_srli_epi32(q, 2), _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
    return _mm_or_si128(low, high);
}

/* The same as int16 lanes: scales in words 0..7, mins in 8..15. */
VNNI512_INLINE __m256i mc_qgemv512_q4_K_scale_words(const uint8_t *s)
{
    return _mm256_cvtepu8_epi16(mc_qgemv512_q4_K_scale_bytes(s));
}

/* A q8_K block's bsums (at p) summed in pairs, bsum_2j + bsum_2j+1 (|.| <= 4064) in int16 lane
 * 8 + j, lanes 0..7 zero: vpmaddwd with mc_qgemv512_q4_K_scale_words gives sum_j m_j pair_j in
 * four int32 lanes (the others 0). */
VNNI512_INLINE __m256i mc_qgemv512_q8_K_pair_sums(const uint8_t *p)
{
    const __m256i pairs =
        _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(const void *)p), _mm256_set1_epi16(1));
    const __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(pairs, pairs), _MM_SHUFFLE(2, 0, 0, 0));
    return _mm256_blend_epi32(_mm256_setzero_si256(), words, 0xF0);
}

/* vpermw indices that spread scale words first .. first + 3 (mc_qgemv512_q4_K_scale_words) over
 * the vpackssdw of a chunk pair's low- and high-nibble sums: 128-bit lane k holds the low half's
 * dwords 4 k .. 4 k + 3 (sub-block first + 2 (k / 2)) then the high half's (first + 2 (k / 2) + 1). */
VNNI512_INLINE __m512i mc_qgemv512_q4_K_pair_scales(int first)
{
    static const uint16_t spread[32] = {0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1,
                                        2, 2, 2, 2, 3, 3, 3, 3, 2, 2, 2, 2, 3, 3, 3, 3};
    return _mm512_add_epi16(_mm512_loadu_si512(spread), _mm512_set1_epi16((short)first));
}

/* Reduces n accumulators to out[0 .. n - 1], each as mc_qgemv512_hsum512 sums it (same order,
 * same bits); MC_QGEMV_ROWS_MAX of them transposed together, the 8 sums in one register. */
VNNI512_INLINE void mc_qgemv512_hsums(const __m512 *acc, int n, float *out)
{
    static_assert(MC_QGEMV_ROWS_MAX == 8, "the transposed reduction takes 8 accumulators");
    if (n != MC_QGEMV_ROWS_MAX) {
        for (int r = 0; r < n; r++)
            out[r] = mc_qgemv512_hsum512(acc[r]);
        return;
    }
    __m512 s[4], t[2];
    for (int i = 0; i < 4; i++) /* row 2i's 8 halves' sums in lanes 0..7, row 2i + 1's in 8..15 */
        s[i] = _mm512_add_ps(_mm512_shuffle_f32x4(acc[2 * i], acc[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_f32x4(acc[2 * i], acc[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
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
