/* kernels/cpu/qgemv_avx2.c: AVX2/FMA/F16C row kernels of the quantised GEMV and ggml's x86
 * activation quantiser. Built with -mavx2 -mfma -mf16c; called only after the cpuid probe.
 * Blocks are read with unaligned loads of exactly their own bytes (32 codes of a q8_0 block,
 * 16 bytes of a q4_0 block), so misaligned bases and padded rows need no scalar path.
 * SPDX-License-Identifier: MIT */
#include <immintrin.h>
#include <string.h>

#include "kernels/cpu/qgemv_common.h"

static float block_scale(const uint8_t *blk)
{
    uint16_t h;
    memcpy(&h, blk, sizeof h);
    return _cvtsh_ss(h); /* exact */
}

static float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Sum over one block of code_j x_j in f32, the codes given as int8: lo holds codes 0..15,
 * hi codes 16..31. Each code converts exactly; one rounding per product and per sum. */
static __m256 block_dot(__m128i lo, __m128i hi, const float *xb)
{
    __m256 c0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo));
    __m256 c1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)));
    __m256 c2 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi));
    __m256 c3 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)));
    __m256 s = _mm256_mul_ps(c0, _mm256_loadu_ps(xb));
    s = _mm256_fmadd_ps(c1, _mm256_loadu_ps(xb + 8), s);
    s = _mm256_fmadd_ps(c2, _mm256_loadu_ps(xb + 16), s);
    return _mm256_fmadd_ps(c3, _mm256_loadu_ps(xb + 24), s);
}

/* Two accumulators (even and odd blocks) so consecutive blocks do not wait on one FMA chain. */
float mc_qgemv_row_q8_0_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                             const uint8_t *xq)
{
    (void)xq;
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *blk = row + b * block_stride;
        const __m256i q = _mm256_loadu_si256((const __m256i *)(blk + 2));
        const __m256 s = block_dot(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1), x + b * MC_QGEMV_QK);
        acc[b & 1] = _mm256_fmadd_ps(_mm256_set1_ps(block_scale(blk)), s, acc[b & 1]);
    }
    return hsum(_mm256_add_ps(acc[0], acc[1]));
}

float mc_qgemv_row_q4_0_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                             const uint8_t *xq)
{
    (void)xq;
    const __m128i low4 = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *blk = row + b * block_stride;
        const __m128i packed = _mm_loadu_si128((const __m128i *)(blk + 2));
        const __m128i lo = _mm_sub_epi8(_mm_and_si128(packed, low4), eight);                     /* elements 0..15 */
        const __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(packed, 4), low4), eight); /* 16..31 */
        const __m256 s = block_dot(lo, hi, x + b * MC_QGEMV_QK);
        acc[b & 1] = _mm256_fmadd_ps(_mm256_set1_ps(block_scale(blk)), s, acc[b & 1]);
    }
    return hsum(_mm256_add_ps(acc[0], acc[1]));
}

/* Exact int8 x int8 products summed in int32 (sign-extended to int16 first, so any code,
 * -128 included, is safe), then scaled by the product of the two fp16 scales. */
float mc_qgemv_row_q8_0_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq)
{
    (void)x;
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *wb = row + b * block_stride;
        const uint8_t *xb = xq + b * MC_QGEMV_Q8_0_BYTES;
        const __m256i w = _mm256_loadu_si256((const __m256i *)(wb + 2));
        const __m256i v = _mm256_loadu_si256((const __m256i *)(xb + 2));
        __m256i p = _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm256_castsi256_si128(w)),
                                      _mm256_cvtepi8_epi16(_mm256_castsi256_si128(v)));
        p = _mm256_add_epi32(p, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm256_extracti128_si256(w, 1)),
                                                  _mm256_cvtepi8_epi16(_mm256_extracti128_si256(v, 1))));
        const float scale = block_scale(wb) * block_scale(xb);
        acc[b & 1] = _mm256_fmadd_ps(_mm256_set1_ps(scale), _mm256_cvtepi32_ps(p), acc[b & 1]);
    }
    return hsum(_mm256_add_ps(acc[0], acc[1]));
}

/* ggml's AVX2 quantize_row_q8_0: amax by vector max, id = 127 / amax, round to nearest even,
 * pack 32 int32 to int8 (packs interleave 128-bit lanes; the permute restores element order). */
void mc_qgemv_quantise_x_q8_0_avx2(const float *x, uint8_t *out, int64_t n)
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int64_t b = 0; b < n / MC_QGEMV_QK; b++) {
        const float *xb = x + b * MC_QGEMV_QK;
        uint8_t *blk = out + b * MC_QGEMV_Q8_0_BYTES;
        __m256 v[4], m = _mm256_setzero_ps();
        for (int i = 0; i < 4; i++) {
            v[i] = _mm256_loadu_ps(xb + 8 * i);
            m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v[i]));
        }
        __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(m, 1), _mm256_castps256_ps128(m));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        const uint16_t d = _cvtss_sh(amax / 127.0f, 0);
        memcpy(blk, &d, sizeof d);
        const __m256 id = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
        __m256i q[4];
        for (int i = 0; i < 4; i++)
            q[i] = _mm256_cvtps_epi32(
                _mm256_round_ps(_mm256_mul_ps(v[i], id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        __m256i q01 = _mm256_packs_epi32(q[0], q[1]);
        __m256i q23 = _mm256_packs_epi32(q[2], q[3]);
        __m256i q8 = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(q01, q23), order);
        _mm256_storeu_si256((__m256i *)(blk + 2), q8);
    }
}
