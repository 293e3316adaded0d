/* kernels/cpu/qgemv_avx512_k.c: Q4_K and Q6_K dots against q8_K activations on AVX-512 VNNI,
 * several rows a pass sharing x's loads (mc_qgemv_rows_fn). Called only after the probe (AVX512F,
 * BW, VL, VNNI). Integer sums exact as in the AVX2 q8_K dots (qgemv_avx2_k.c); per row and
 * super-block one FMA of d_w d_x into 16 float lanes, as there.
 * SPDX-License-Identifier: MIT */
#include <assert.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_avx512_k.h"

/* How far ahead (bytes) each row of the Q4_K and Q6_K kernels is prefetched (prefetcht0): at
 * the LM head (Q4_K 88 MB, Q6_K 128 MB) this VM's hardware prefetcher alone kept too few lines in
 * flight (docs/quant.md: Q6_K 37-42 GB/s on 2 threads without, 55-56 with; Q4_K 1.46x, loaded
 * runs; 1024 to 3072 within the noise for both). Each row prefetches the lines of a block (Q4_K
 * 144 bytes: 3; Q6_K 210: 4), past a row's end into the next row of its run; never a fault. */
#define ROW_PREFETCH 2048

/* Four Q4_K block headers (d, dmin, then the 12 packed scale bytes; one per 128-bit lane) to 16
 * bytes a lane, scales 0..7 then mins 0..7: ggml's utmp unpacking done on each lane's dwords
 * u0, u1, u2 (the scale bytes; dword 0, d and dmin, is dropped). Bytes of dwords 0 and 2: u0,
 * u1 & 63; of 1 and 3: the nibbles of u2 (low, then high) with the top two bits of u0, u1 at 0x30.
 * mc_qgemv_scale_min_k4 does one sub-block. */
VNNI512_INLINE __m512i q4_K_unpack4(__m512i headers)
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
VNNI512_INLINE __m512i q4_K_headers(const uint8_t *const *rows, int64_t off)
{
    __m512i h = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(const void *)(rows[0] + off)));
    h = _mm512_inserti32x4(h, _mm_loadu_si128((const __m128i *)(const void *)(rows[1] + off)), 1);
    h = _mm512_inserti32x4(h, _mm_loadu_si128((const __m128i *)(const void *)(rows[2] + off)), 2);
    return _mm512_inserti32x4(h, _mm_loadu_si128((const __m128i *)(const void *)(rows[3] + off)), 3);
}

/* A q8_K block's bsums (at p) summed in pairs, bsum_2j + bsum_2j+1 (|.| <= 4064) in int16 lane
 * 8 + j, lanes 0..7 zero: vpmaddwd with a row's unpacked scale bytes widened to int16 (scales in
 * lanes 0..7, mins in 8..15) gives sum_j m_j pair_j in four int32 lanes (the others 0). */
VNNI512_INLINE __m256i q8_K_pair_sums(const uint8_t *p)
{
    const __m256i pairs =
        _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(const void *)p), _mm256_set1_epi16(1));
    const __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(pairs, pairs), _MM_SHUFFLE(2, 0, 0, 0));
    return _mm256_blend_epi32(_mm256_setzero_si256(), words, 0xF0);
}

/* Sums each of the 8 accumulators' 16 lanes less its 8 lanes of sub (row 2 i's: lanes 0..7 of
 * sub[i]; row 2 i + 1's: 8..15) into out[0..7], transposed: the 8 sums in one register. */
VNNI512_INLINE void hsums8(const __m512 acc[8], const __m512 sub[4], float out[8])
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

const uint16_t mc_qgemv512_q4_K_spread[2][32] = {
    {0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 2, 2, 2, 2, 3, 3, 3, 3},
    {4, 4, 4, 4, 5, 5, 5, 5, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 6, 6, 6, 6, 7, 7, 7, 7},
};

/* Eight rows of Q4_K. Per block, for all eight rows at once: x's codes laid out to match the
 * nibble halves (xl, xh); the headers, four rows a register: scales and mins unpacked and widened
 * to int16 (two rows a register, sw), d and dmin converted together and times d_x (f: d_r in lane r,
 * dmin_r in 8 + r); the mins' sums, sum_j m_j (bsum_2j + bsum_2j+1) by one vpmaddwd per two rows
 * (pair sums <= 4064, mins < 64), kept in acc_min (row 2 i: lanes 0..7 of acc_min[i], 2 i + 1:
 * 8..15). Per row: a chunk pair p (qs bytes 64 p .. 64 p + 63, one load) holds sub-blocks 4 p and
 * 4 p + 2 in its low nibbles and 4 p + 1, 4 p + 3 in its high ones; each half's vpdpbusd sums
 * (|lane| <= 4 * 15 * 127) are packed to int16 side by side (vpackssdw, exact) and one vpdpwssd
 * multiplies them by their sub-block scales (one vpermw of sw). */
VNNI512 void mc_qgemv512_q4_K_rows8(const uint8_t *const rows[8], int64_t block_stride, int64_t nblocks,
                                    const uint8_t *xq, const uint16_t spread[2][32], float out[8])
{
    __m512 acc[8], acc_min[4];
#pragma GCC unroll 8
    for (int r = 0; r < 8; r++)
        acc[r] = _mm512_setzero_ps();
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++)
        acc_min[i] = _mm512_setzero_ps();
    const __m512i low4 = _mm512_set1_epi8(0x0F), odd = _mm512_set1_epi16(16);
    const __m512i pick[2][2] = {{_mm512_loadu_si512(spread[0]), _mm512_add_epi16(_mm512_loadu_si512(spread[0]), odd)},
                                {_mm512_loadu_si512(spread[1]), _mm512_add_epi16(_mm512_loadu_si512(spread[1]), odd)}};
    /* words d_0 .. d_7, dmin_0 .. dmin_7 of the two header registers (row r: lane r % 4 of r / 4) */
    const __m512i d_words = _mm512_setr_epi32(0x00080000, 0x00180010, 0x00280020, 0x00380030, 0x00090001,
                                              0x00190011, 0x00290021, 0x00390031, 0, 0, 0, 0, 0, 0, 0, 0);
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *xb = xq + b * MC_QGEMV_Q8_K_BYTES;
        const int64_t off = b * block_stride;
        __m512i xl[2], xh[2];
#pragma GCC unroll 2
        for (int p = 0; p < 2; p++) {
            const __m512i v0 = _mm512_loadu_si512(xb + 4 + 128 * p), v1 = _mm512_loadu_si512(xb + 68 + 128 * p);
            xl[p] = _mm512_shuffle_i64x2(v0, v1, _MM_SHUFFLE(1, 0, 1, 0));
            xh[p] = _mm512_shuffle_i64x2(v0, v1, _MM_SHUFFLE(3, 2, 3, 2));
        }
        const __m512i pairs = _mm512_broadcast_i64x4(q8_K_pair_sums(xb + 260));
        const __m512i head[2] = {q4_K_headers(rows, off), q4_K_headers(rows + 4, off)};
        const __m512 f = _mm512_mul_ps(
            _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutex2var_epi16(head[0], d_words, head[1]))),
            _mm512_set1_ps(mc_cpu_load_f32(xb)));
        __m512i sw[4];
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            const __m512i sm = q4_K_unpack4(head[h]);
            sw[2 * h] = _mm512_cvtepu8_epi16(_mm512_castsi512_si256(sm));
            sw[2 * h + 1] = _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(sm, 1));
        }
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) {
            const __m512 dmin = _mm512_permutexvar_ps(
                _mm512_inserti64x4(_mm512_set1_epi32(8 + 2 * i), _mm256_set1_epi32(9 + 2 * i), 1), f);
            acc_min[i] = _mm512_fmadd_ps(dmin, _mm512_cvtepi32_ps(_mm512_madd_epi16(sw[i], pairs)), acc_min[i]);
        }
#pragma GCC unroll 8
        for (int r = 0; r < 8; r++) {
            const uint8_t *wb = rows[r] + off;
#pragma GCC unroll 3
            for (int l = 0; l < 3; l++)
                _mm_prefetch((const char *)(wb + ROW_PREFETCH + 64 * l), _MM_HINT_T0);
            __m512i sumi = _mm512_setzero_si512();
#pragma GCC unroll 2
            for (int p = 0; p < 2; p++) {
                const __m512i q = _mm512_loadu_si512(wb + 16 + 64 * p);
                const __m512i lo = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(q, low4), xl[p]);
                const __m512i hi =
                    _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(_mm512_srli_epi16(q, 4), low4), xh[p]);
                sumi = _mm512_dpwssd_epi32(sumi, _mm512_packs_epi32(lo, hi),
                                           _mm512_permutexvar_epi16(pick[p][r & 1], sw[r >> 1]));
            }
            const __m512 d = _mm512_permutexvar_ps(_mm512_set1_epi32(r), f);
            acc[r] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(sumi), acc[r]);
        }
    }
    hsums8(acc, acc_min, out);
}

/* n rows of Q6_K. Half h's 64 ql bytes give elements 128 h + 0..63 (low nibbles) and
 * 128 h + 64..127 (high ones) in order; its 32 qh bytes, in both halves of a zmm, shifted per
 * 16-bit lane by 4 and 2 (left) or 0 and 2 (right), put the right two bits at 0x30. Codes are
 * 0..63; the -32 is 32 sum_s sc_s bsum_s, kept in its own lanes (< 2^24 each, as the dot's). */
VNNI512_INLINE void q6_K_rows(const uint8_t *row, int64_t row_stride, int n, int64_t block_stride,
                              int64_t nblocks, const uint8_t *xq, float *out)
{
    __m512 acc[MC_QGEMV_ROWS_MAX];
    __m256 acc_off[MC_QGEMV_ROWS_MAX];
#pragma GCC unroll 8
    for (int r = 0; r < n; r++) {
        acc[r] = _mm512_setzero_ps();
        acc_off[r] = _mm256_setzero_ps();
    }
    const __m512i low4 = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
    const __m512i shl = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    const __m512i shr = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *xb = xq + b * MC_QGEMV_Q8_K_BYTES;
        const float dx = mc_cpu_load_f32(xb);
        __m512i v[4];
#pragma GCC unroll 8
        for (int c = 0; c < 4; c++)
            v[c] = _mm512_loadu_si512(xb + 4 + 64 * c);
        const __m256i bsums = _mm256_loadu_si256((const __m256i *)(const void *)(xb + 260));
#pragma GCC unroll 8
        for (int r = 0; r < n; r++) {
            const uint8_t *wb = row + r * row_stride + b * block_stride;
#pragma GCC unroll 4
            for (int l = 0; l < 4; l++)
                _mm_prefetch((const char *)(wb + ROW_PREFETCH + 64 * l), _MM_HINT_T0);
            const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(wb + 192)));
            const __m512i sc = _mm512_cvtepu16_epi32(sc16); /* low 16 bits the signed scale, high 0 */
            __m512i sumi = _mm512_setzero_si512();
#pragma GCC unroll 8
            for (int h = 0; h < 2; h++) {
                const __m512i ql = _mm512_loadu_si512(wb + 64 * h);
                const __m512i qh = _mm512_broadcast_i64x4(
                    _mm256_loadu_si256((const __m256i *)(const void *)(wb + 128 + 32 * h)));
                const __m512i lo = _mm512_or_si512(_mm512_and_si512(ql, low4),
                                                   _mm512_and_si512(_mm512_sllv_epi16(qh, shl), bits45));
                const __m512i hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                                                   _mm512_and_si512(_mm512_srlv_epi16(qh, shr), bits45));
                sumi = mc_qgemv512_scaled_dot(sumi, lo, v[2 * h], mc_qgemv512_lane_scales(sc, 8 * h, 4));
                sumi = mc_qgemv512_scaled_dot(sumi, hi, v[2 * h + 1], mc_qgemv512_lane_scales(sc, 8 * h + 4, 4));
            }
            const __m256i off = _mm256_madd_epi16(bsums, sc16);
            const __m512 ddx = _mm512_set1_ps(mc_qgemv512_f16_at(wb + 208) * dx);
            acc[r] = _mm512_fmadd_ps(ddx, _mm512_cvtepi32_ps(sumi), acc[r]);
            acc_off[r] = _mm256_fmadd_ps(_mm512_castps512_ps256(ddx), _mm256_cvtepi32_ps(off), acc_off[r]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < n; r++)
        out[r] = mc_qgemv512_hsum512(acc[r]) - 32.0f * mc_qgemv512_hsum256(acc_off[r]);
}

/* A full group at once (its accumulators in registers); fewer rows one at a time, which gives
 * each row the same operations in the same order, so the same bits. Inlined with n constant. */
VNNI512_INLINE void q6_K_group_or_single(const uint8_t *row, int64_t row_stride, int nrows, int64_t block_stride,
                                         int64_t nblocks, const uint8_t *xq, float *out)
{
    if (nrows == MC_QGEMV_ROWS_MAX) {
        q6_K_rows(row, row_stride, MC_QGEMV_ROWS_MAX, block_stride, nblocks, xq, out);
        return;
    }
    for (int i = 0; i < nrows; i++)
        q6_K_rows(row + i * row_stride, row_stride, 1, block_stride, nblocks, xq, out + i);
}

/* Fewer than eight rows go as eight, the last one repeated: each row's lanes are its own, so a
 * row gets the same bits in any group. */
VNNI512 void mc_qgemv_rows_q4_K_q8dot_avx512(const uint8_t *row, int64_t row_stride, int nrows,
                                             int64_t block_stride, int64_t nblocks, const float *x,
                                             const uint8_t *xq, float *out)
{
    (void)x;
    static_assert(MC_QGEMV_ROWS_MAX == 8, "the Q4_K kernel takes 8 rows");
    const uint8_t *rows[8];
    float all[8];
    for (int i = 0; i < 8; i++)
        rows[i] = row + (i < nrows ? i : nrows - 1) * row_stride;
    mc_qgemv512_q4_K_rows8(rows, block_stride, nblocks, xq, mc_qgemv512_q4_K_spread, all);
    for (int i = 0; i < nrows; i++)
        out[i] = all[i];
}

VNNI512 void mc_qgemv_rows_q6_K_q8dot_avx512(const uint8_t *row, int64_t row_stride, int nrows,
                                             int64_t block_stride, int64_t nblocks, const float *x,
                                             const uint8_t *xq, float *out)
{
    (void)x;
    q6_K_group_or_single(row, row_stride, nrows, block_stride, nblocks, xq, out);
}
