/* kernels/cpu/qgemv_avx2_k.c: AVX2/FMA/F16C dequantising row kernels of Q4_K and Q6_K. Built with
 * -mavx2 -mfma -mf16c; called only after the cpuid probe. Each weight is made exactly as ggml's
 * dequantiser makes it: Q4_K's fma(d sc, q, -dmin m) rounds the exact d sc q - dmin m once, as
 * ggml's two-step float code does (d sc q is exact in f32); Q6_K's (d sc) q is exact. The row is
 * then an f32 dot of those weights with x on two accumulators.
 * SPDX-License-Identifier: MIT */
#include <immintrin.h>
#include <string.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_common.h"

static float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static float f16_at(const uint8_t *p)
{
    return mc_qgemv_f16_table[p[0] | p[1] << 8];
}

/* Eight bytes at p as 32-bit lanes. */
static __m256i bytes8(const uint8_t *p)
{
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)p));
}

/* One 32-element Q4_K sub-block: codes from the low (shift 0) or high (shift 4) nibbles of qs. */
static __m256 q4_K_sub(const uint8_t *qs, int shift, float d1, float m1, const float *xb, __m256 acc)
{
    const __m256 dv = _mm256_set1_ps(d1), mv = _mm256_set1_ps(-m1);
    const __m256i low4 = _mm256_set1_epi32(0x0F);
    for (int i = 0; i < 32; i += 8) {
        const __m256i q = _mm256_and_si256(_mm256_srl_epi32(bytes8(qs + i), _mm_cvtsi32_si128(shift)), low4);
        const __m256 w = _mm256_fmadd_ps(dv, _mm256_cvtepi32_ps(q), mv);
        acc = _mm256_fmadd_ps(w, _mm256_loadu_ps(xb + i), acc);
    }
    return acc;
}

float mc_qgemv_row_q4_K_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                             const uint8_t *xq)
{
    (void)xq;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *blk = row + b * block_stride;
        _mm_prefetch((const char *)(blk + 1024), _MM_HINT_T0);
        const float d = f16_at(blk), dmin = f16_at(blk + 2);
        const float *xb = x + b * MC_QGEMV_QK_K;
        for (int c = 0; c < 4; c++) {
            int sc, m;
            mc_qgemv_scale_min_k4(2 * c, blk + 4, &sc, &m);
            acc0 = q4_K_sub(blk + 16 + 32 * c, 0, d * (float)sc, dmin * (float)m, xb + 64 * c, acc0);
            mc_qgemv_scale_min_k4(2 * c + 1, blk + 4, &sc, &m);
            acc1 = q4_K_sub(blk + 16 + 32 * c, 4, d * (float)sc, dmin * (float)m, xb + 64 * c + 32, acc1);
        }
    }
    return hsum(_mm256_add_ps(acc0, acc1));
}

/* Eight Q6_K codes: nibble (shift 0 or 4) of ql, two bits (at qshift) of qh, minus 32. */
static __m256 q6_K_codes(const uint8_t *ql, int shift, const uint8_t *qh, int qshift)
{
    const __m256i low = _mm256_and_si256(_mm256_srl_epi32(bytes8(ql), _mm_cvtsi32_si128(shift)), _mm256_set1_epi32(0x0F));
    const __m256i high = _mm256_and_si256(_mm256_srl_epi32(bytes8(qh), _mm_cvtsi32_si128(qshift)), _mm256_set1_epi32(3));
    const __m256i q = _mm256_or_si256(low, _mm256_slli_epi32(high, 4));
    return _mm256_cvtepi32_ps(_mm256_sub_epi32(q, _mm256_set1_epi32(32)));
}

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
            const uint8_t *ql = blk + 64 * h, *qh = blk + 128 + 32 * h;
            const float *xb = x + b * MC_QGEMV_QK_K + 128 * h;
            for (int l = 0; l < 32; l += 8) {
                const int is = 8 * h + l / 16;
                for (int f = 0; f < 4; f++) {
                    const __m256 s = _mm256_set1_ps(d * (float)sc[is + 2 * f]);
                    const __m256 w = _mm256_mul_ps(s, q6_K_codes(ql + 32 * (f & 1) + l, f < 2 ? 0 : 4, qh + l, 2 * f));
                    if (f & 1)
                        acc1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(xb + 32 * f + l), acc1);
                    else
                        acc0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(xb + 32 * f + l), acc0);
                }
            }
        }
    }
    return hsum(_mm256_add_ps(acc0, acc1));
}
