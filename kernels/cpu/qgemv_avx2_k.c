/* kernels/cpu/qgemv_avx2_k.c: AVX2/FMA/F16C row kernels of Q4_K, Q5_K and Q6_K. Built with
 * -mavx2 -mfma -mf16c; called only after the cpuid probe. Each weight is made exactly as ggml's
 * dequantiser makes it: Q4_K's and Q5_K's fma(d sc, q, -dmin m) rounds the exact d sc q - dmin m once, as
 * ggml's two-step float code does (d sc q is exact in f32); Q6_K's (d sc) q is exact. The row is
 * then an f32 dot of those weights with x on two accumulators; the q8_K dots follow.
 * SPDX-License-Identifier: MIT */
#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_avx2.h"
#include "kernels/cpu/qgemv_common.h"

static float f16_at(const uint8_t *p)
{
    return mc_qgemv_f16_table[p[0] | p[1] << 8];
}

/* The 64 codes of chunk c (sub-blocks 2 c, 2 c + 1) of a Q4_K (qh_at 0) or Q5_K block: the low
 * and the high nibbles of qs[32 c ..], plus 16 where bit 2 c (2 c + 1) of qh[l] is set. */
static inline __attribute__((always_inline)) void k45_codes(const uint8_t *blk, int c, int qs_at, int qh_at,
                                                            __m256i *lo, __m256i *hi)
{
    const __m256i low4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    const __m256i q = mc_qgemv_bytes32(blk + qs_at + 32 * c);
    *lo = _mm256_and_si256(q, low4);
    *hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
    if (qh_at) {
        const __m256i qh = mc_qgemv_bytes32(blk + qh_at);
        const __m256i h0 = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * c)), one);
        const __m256i h1 = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * c + 1)), one);
        *lo = _mm256_or_si256(*lo, _mm256_slli_epi16(h0, 4));
        *hi = _mm256_or_si256(*hi, _mm256_slli_epi16(h1, 4));
    }
}

/* One 32-element sub-block: weights fma(d1, q, -m1), dotted with x on acc. */
static inline __attribute__((always_inline)) __m256 k45_sub(__m256i q, float d1, float m1, const float *xb,
                                                            __m256 acc)
{
    const __m256 dv = _mm256_set1_ps(d1), mv = _mm256_set1_ps(-m1);
    acc = _mm256_fmadd_ps(_mm256_fmadd_ps(dv, mc_qgemv_codes_ps(q, 0), mv), _mm256_loadu_ps(xb), acc);
    acc = _mm256_fmadd_ps(_mm256_fmadd_ps(dv, mc_qgemv_codes_ps(q, 1), mv), _mm256_loadu_ps(xb + 8), acc);
    acc = _mm256_fmadd_ps(_mm256_fmadd_ps(dv, mc_qgemv_codes_ps(q, 2), mv), _mm256_loadu_ps(xb + 16), acc);
    return _mm256_fmadd_ps(_mm256_fmadd_ps(dv, mc_qgemv_codes_ps(q, 3), mv), _mm256_loadu_ps(xb + 24), acc);
}

/* Q4_K: qs at 16, no qh (qh_at 0); Q5_K: qh at 16, qs at 48. */
static inline __attribute__((always_inline)) float k45_row(const uint8_t *row, int64_t block_stride,
                                                           int64_t nblocks, const float *x, int qs_at, int qh_at)
{
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *blk = row + b * block_stride;
        _mm_prefetch((const char *)(blk + 1024), _MM_HINT_T0);
        const float d = f16_at(blk), dmin = f16_at(blk + 2);
        const float *xb = x + b * MC_QGEMV_QK_K;
        for (int c = 0; c < 4; c++) {
            int sc, m;
            __m256i lo, hi;
            k45_codes(blk, c, qs_at, qh_at, &lo, &hi);
            mc_qgemv_scale_min_k4(2 * c, blk + 4, &sc, &m);
            acc0 = k45_sub(lo, d * (float)sc, dmin * (float)m, xb + 64 * c, acc0);
            mc_qgemv_scale_min_k4(2 * c + 1, blk + 4, &sc, &m);
            acc1 = k45_sub(hi, d * (float)sc, dmin * (float)m, xb + 64 * c + 32, acc1);
        }
    }
    return mc_qgemv_hsum(_mm256_add_ps(acc0, acc1));
}

float mc_qgemv_row_q4_K_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                             const uint8_t *xq)
{
    (void)xq;
    return k45_row(row, block_stride, nblocks, x, 16, 0);
}

float mc_qgemv_row_q5_K_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                             const uint8_t *xq)
{
    (void)xq;
    return k45_row(row, block_stride, nblocks, x, 48, 16);
}

/* The 32 unsigned Q6_K codes (0..63, before the -32) of quarter f of half h, elements
 * 128 h + 32 f + l in byte l: the nibble of ql (low for f < 2, of the second 32 bytes for odd f)
 * or-ed with two bits of qh shifted to 16 and 32. Byte-wide ops on whole 32-byte rows. */
static inline __attribute__((always_inline)) __m256i q6_K_codes32(const uint8_t *blk, int h, int f)
{
    const __m256i ql = mc_qgemv_bytes32(blk + 64 * h + 32 * (f & 1)), qh = mc_qgemv_bytes32(blk + 128 + 32 * h);
    const __m256i low = _mm256_and_si256(f < 2 ? ql : _mm256_srli_epi16(ql, 4), _mm256_set1_epi8(0x0F));
    const __m256i high = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * f)), _mm256_set1_epi8(3));
    return _mm256_or_si256(low, _mm256_slli_epi16(high, 4));
}

/* Each quarter's 32 codes, minus 32 as signed bytes, widen 8 at a time; sub-block 8 h + 2 f
 * covers codes 0..15 and 8 h + 2 f + 1 codes 16..31. */
float mc_qgemv_row_q6_K_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                             const uint8_t *xq)
{
    (void)xq;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *blk = row + b * block_stride;
        _mm_prefetch((const char *)(blk + 1024), _MM_HINT_T0);
        const float d = f16_at(blk + 208);
        const int8_t *sc = (const int8_t *)(const void *)(blk + 192);
        for (int h = 0; h < 2; h++) {
            for (int f = 0; f < 4; f++) {
                const __m256i q = _mm256_sub_epi8(q6_K_codes32(blk, h, f), _mm256_set1_epi8(32));
                const float *xb = x + b * MC_QGEMV_QK_K + 128 * h + 32 * f;
                const __m256 s0 = _mm256_set1_ps(d * (float)sc[8 * h + 2 * f]);
                const __m256 s1 = _mm256_set1_ps(d * (float)sc[8 * h + 2 * f + 1]);
                acc0 = _mm256_fmadd_ps(_mm256_mul_ps(s0, mc_qgemv_codes_ps(q, 0)), _mm256_loadu_ps(xb), acc0);
                acc1 = _mm256_fmadd_ps(_mm256_mul_ps(s0, mc_qgemv_codes_ps(q, 1)), _mm256_loadu_ps(xb + 8), acc1);
                acc0 = _mm256_fmadd_ps(_mm256_mul_ps(s1, mc_qgemv_codes_ps(q, 2)), _mm256_loadu_ps(xb + 16), acc0);
                acc1 = _mm256_fmadd_ps(_mm256_mul_ps(s1, mc_qgemv_codes_ps(q, 3)), _mm256_loadu_ps(xb + 24), acc1);
            }
        }
    }
    return mc_qgemv_hsum(_mm256_add_ps(acc0, acc1));
}

/* ---- K-quant x q8_K dots (ggml's AVX2 vec_dot_q4_K_q8_K / q5_K / q6_K_q8_K, written again) -----------
 * Codes are unsigned bytes (Q4_K 0..15, Q5_K 0..31, Q6_K 0..63 before its -32), so maddubs takes them as the
 * unsigned operand and x's int8 codes as the signed one: a pair sums to at most 2 * 63 * 127 =
 * 16002, below int16 saturation. Every integer is exact; the float work per super-block is
 * d_w d_x times an int32 vector (lanes < 2^24, so converted exactly) and, for Q4_K/Q5_K, dmin d_x
 * times the mins' sum from x's bsums. */

/* Q4_K (qh_at 0) and Q5_K: codes 0..15 or 0..31, the fifth bit of sub-block s being bit s of qh. */
static inline __attribute__((always_inline)) float k45_q8dot_row(const uint8_t *row, int64_t block_stride,
                                                                 int64_t nblocks, const uint8_t *xq, int qs_at,
                                                                 int qh_at)
{
    __m256 acc = _mm256_setzero_ps();
    float acc_min = 0.0f;
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *wb = row + b * block_stride, *xb = xq + b * MC_QGEMV_Q8_K_BYTES;
        _mm_prefetch((const char *)(wb + 1024), _MM_HINT_T0);
        __m256i sumi = _mm256_setzero_si256();
        int32_t mins = 0;
        for (int c = 0; c < 4; c++) {
            int sc0, m0, sc1, m1;
            mc_qgemv_scale_min_k4(2 * c, wb + 4, &sc0, &m0);
            mc_qgemv_scale_min_k4(2 * c + 1, wb + 4, &sc1, &m1);
            __m256i lo, hi;
            k45_codes(wb, c, qs_at, qh_at, &lo, &hi);
            const __m256i d0 =
                mc_qgemv_udot32_scaled(lo, mc_qgemv_bytes32(xb + 4 + 64 * c), _mm256_set1_epi16((short)sc0));
            const __m256i d1 =
                mc_qgemv_udot32_scaled(hi, mc_qgemv_bytes32(xb + 4 + 64 * c + 32), _mm256_set1_epi16((short)sc1));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(d0, d1));
            mins += m0 * (mc_qgemv_bsum(xb, 4 * c) + mc_qgemv_bsum(xb, 4 * c + 1)) +
                    m1 * (mc_qgemv_bsum(xb, 4 * c + 2) + mc_qgemv_bsum(xb, 4 * c + 3));
        }
        const float dx = mc_cpu_load_f32(xb);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(f16_at(wb) * dx), _mm256_cvtepi32_ps(sumi), acc);
        acc_min += f16_at(wb + 2) * dx * (float)mins;
    }
    return mc_qgemv_hsum(acc) - acc_min;
}

float mc_qgemv_row_q4_K_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq)
{
    (void)x;
    return k45_q8dot_row(row, block_stride, nblocks, xq, 16, 0);
}

float mc_qgemv_row_q5_K_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq)
{
    (void)x;
    return k45_q8dot_row(row, block_stride, nblocks, xq, 48, 16);
}

float mc_qgemv_row_q6_K_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq)
{
    (void)x;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *wb = row + b * block_stride, *xb = xq + b * MC_QGEMV_Q8_K_BYTES;
        _mm_prefetch((const char *)(wb + 1024), _MM_HINT_T0);
        const int8_t *sc = (const int8_t *)(const void *)(wb + 192);
        __m256i sumi = _mm256_setzero_si256();
        int32_t offset = 0; /* sum of scale * 32 * bsum: the codes' -32 */
        for (int h = 0; h < 2; h++) {
            for (int f = 0; f < 4; f++) {
                const __m256i q = q6_K_codes32(wb, h, f);
                const int is = 8 * h + 2 * f;
                const __m256i scales = mc_qgemv_scale_pair16(sc[is], sc[is + 1]);
                const __m256i v = mc_qgemv_bytes32(xb + 4 + 128 * h + 32 * f);
                sumi = _mm256_add_epi32(sumi, mc_qgemv_udot32_scaled(q, v, scales));
                offset += 32 * (sc[is] * mc_qgemv_bsum(xb, is) + sc[is + 1] * mc_qgemv_bsum(xb, is + 1));
            }
        }
        sumi = _mm256_sub_epi32(sumi, _mm256_setr_epi32(offset, 0, 0, 0, 0, 0, 0, 0));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(f16_at(wb + 208) * mc_cpu_load_f32(xb)), _mm256_cvtepi32_ps(sumi), acc);
    }
    return mc_qgemv_hsum(acc);
}
