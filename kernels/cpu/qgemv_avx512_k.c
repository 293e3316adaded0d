/* kernels/cpu/qgemv_avx512_k.c: Q4_K and Q6_K dots against q8_K activations on AVX-512 VNNI,
 * several rows a pass sharing x's loads (mc_qgemv_rows_fn). Called only after the probe (AVX512F,
 * BW, VL, VNNI). Integer sums exact as in the AVX2 q8_K dots (qgemv_avx2_k.c); per row and
 * super-block one FMA of d_w d_x into 16 float lanes, as there.
 * SPDX-License-Identifier: MIT */
#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_avx512_k.h"

/* n rows of Q4_K. A chunk pair p (qs bytes 64 p .. 64 p + 63, one load) holds sub-blocks 4 p and
 * 4 p + 2 in its low nibbles and 4 p + 1, 4 p + 3 in its high ones; x's codes are laid out to match
 * once per block for all n rows (xl, xh). Each nibble half's vpdpbusd sums (|lane| <= 4 * 15 * 127)
 * are packed to int16, low and high halves side by side (vpackssdw, exact), and one vpdpwssd per
 * pair multiplies them by their sub-block scales (one vpermw). The mins: m_s (bsum_2s +
 * bsum_2s+1) by one vpmaddwd against the scale words (pair sums <= 4064, mins < 64). */
VNNI512_INLINE void q4_K_rows(const uint8_t *row, int64_t row_stride, int n, int64_t block_stride,
                              int64_t nblocks, const uint8_t *xq, float *out)
{
    __m512 acc[MC_QGEMV_ROWS_MAX];
    __m256 acc_min[MC_QGEMV_ROWS_MAX];
#pragma GCC unroll 8
    for (int r = 0; r < n; r++) {
        acc[r] = _mm512_setzero_ps();
        acc_min[r] = _mm256_setzero_ps();
    }
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    const __m512i pick[2] = {mc_qgemv512_q4_K_pair_scales(0), mc_qgemv512_q4_K_pair_scales(4)};
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *xb = xq + b * MC_QGEMV_Q8_K_BYTES;
        const float dx = mc_cpu_load_f32(xb);
        __m512i xl[2], xh[2];
#pragma GCC unroll 2
        for (int p = 0; p < 2; p++) {
            const __m512i v0 = _mm512_loadu_si512(xb + 4 + 128 * p), v1 = _mm512_loadu_si512(xb + 68 + 128 * p);
            xl[p] = _mm512_shuffle_i64x2(v0, v1, _MM_SHUFFLE(1, 0, 1, 0));
            xh[p] = _mm512_shuffle_i64x2(v0, v1, _MM_SHUFFLE(3, 2, 3, 2));
        }
        const __m256i pairs = mc_qgemv512_q8_K_pair_sums(xb + 260);
#pragma GCC unroll 8
        for (int r = 0; r < n; r++) {
            const uint8_t *wb = row + r * row_stride + b * block_stride;
            const __m256i sm = mc_qgemv512_q4_K_scale_words(wb + 4);
            __m512i sumi = _mm512_setzero_si512();
#pragma GCC unroll 2
            for (int p = 0; p < 2; p++) {
                const __m512i q = _mm512_loadu_si512(wb + 16 + 64 * p);
                const __m512i lo = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(q, low4), xl[p]);
                const __m512i hi =
                    _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(_mm512_srli_epi16(q, 4), low4), xh[p]);
                sumi = _mm512_dpwssd_epi32(sumi, _mm512_packs_epi32(lo, hi),
                                           _mm512_permutexvar_epi16(pick[p], _mm512_castsi256_si512(sm)));
            }
            const __m256i mins = _mm256_madd_epi16(pairs, sm);
            acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(mc_qgemv512_f16_at(wb) * dx), _mm512_cvtepi32_ps(sumi), acc[r]);
            const __m256 dmin_dx = _mm256_set1_ps(mc_qgemv512_f16_at(wb + 2) * dx);
            acc_min[r] = _mm256_fmadd_ps(dmin_dx, _mm256_cvtepi32_ps(mins), acc_min[r]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < n; r++)
        acc[r] = _mm512_sub_ps(acc[r], _mm512_zextps256_ps512(acc_min[r]));
    mc_qgemv512_hsums(acc, n, out);
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

/* One format's n-row kernel (q4_K_rows, q6_K_rows). */
typedef void (*rows_kernel)(const uint8_t *row, int64_t row_stride, int n, int64_t block_stride, int64_t nblocks,
                            const uint8_t *xq, float *out);

/* A full group at once (its accumulators in registers); fewer rows one at a time, which gives
 * each row the same operations in the same order, so the same bits. Inlined with its kernel
 * known, so each call below is a copy with n constant. */
VNNI512_INLINE void rows_group_or_single(rows_kernel kernel, const uint8_t *row, int64_t row_stride, int nrows,
                                         int64_t block_stride, int64_t nblocks, const uint8_t *xq, float *out)
{
    if (nrows == MC_QGEMV_ROWS_MAX) {
        kernel(row, row_stride, MC_QGEMV_ROWS_MAX, block_stride, nblocks, xq, out);
        return;
    }
    for (int i = 0; i < nrows; i++)
        kernel(row + i * row_stride, row_stride, 1, block_stride, nblocks, xq, out + i);
}

VNNI512 void mc_qgemv_rows_q4_K_q8dot_avx512(const uint8_t *row, int64_t row_stride, int nrows,
                                             int64_t block_stride, int64_t nblocks, const float *x,
                                             const uint8_t *xq, float *out)
{
    (void)x;
    rows_group_or_single(q4_K_rows, row, row_stride, nrows, block_stride, nblocks, xq, out);
}

VNNI512 void mc_qgemv_rows_q6_K_q8dot_avx512(const uint8_t *row, int64_t row_stride, int nrows,
                                             int64_t block_stride, int64_t nblocks, const float *x,
                                             const uint8_t *xq, float *out)
{
    (void)x;
    rows_group_or_single(q6_K_rows, row, row_stride, nrows, block_stride, nblocks, xq, out);
}
