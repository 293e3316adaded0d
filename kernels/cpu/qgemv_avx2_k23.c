/* kernels/cpu/qgemv_avx2_k23.c: AVX2/FMA/F16C row kernels of Q2_K and Q3_K: dequantising (Q2_K's
 * weight fma(d sc, q, -dmin m), one rounding of the exact value as ggml's dl q - ml; Q3_K's
 * (d scale) q exact) and dots against q8_K activations. Element 128 h + 32 f + l takes the 2-bit
 * field f of qs[32 h + l] and sits in sub-block 8 h + 2 f + l / 16 (Q3_K: minus 4 where bit
 * 4 h + f of hmask[l] is clear). Built with -mavx2 -mfma -mf16c; called after the cpuid probe.
 * SPDX-License-Identifier: MIT */
#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_avx2.h"
#include "kernels/cpu/qgemv_common.h"

static float f16_at(const uint8_t *p)
{
    return mc_qgemv_f16_table[p[0] | p[1] << 8];
}

/* Sub-block scales as floats: Q2_K d (sc & 15) and dmin (sc >> 4); Q3_K d (scale - 32), no min.
 * Each is exact (11-bit d times at most 6 bits). */
static inline __attribute__((always_inline)) void k23_scales(const uint8_t *blk, int q3, float dl[16],
                                                             float ml[16])
{
    if (q3) {
        int sc[16];
        const float d = f16_at(blk + 108);
        mc_qgemv_scales_q3_K(blk + 96, sc);
        for (int s = 0; s < 16; s++) {
            dl[s] = d * (float)sc[s];
            ml[s] = 0.0f;
        }
        return;
    }
    const float d = f16_at(blk + 80), dmin = f16_at(blk + 82);
    for (int s = 0; s < 16; s++) {
        dl[s] = d * (float)(blk[s] & 0x0F);
        ml[s] = dmin * (float)(blk[s] >> 4);
    }
}

/* The 32 codes of quarter f of half h (elements 128 h + 32 f + l in byte l): Q2_K 0..3, Q3_K
 * -4..3 (minus 4 where bit 4 h + f of hmask[l] is clear), as bytes. */
static inline __attribute__((always_inline)) __m256i k23_codes(const uint8_t *blk, int h, int f, int q3)
{
    const __m256i q2 = mc_qgemv_bytes32(blk + (q3 ? 32 : 16) + 32 * h);
    const __m256i q = _mm256_and_si256(_mm256_srl_epi16(q2, _mm_cvtsi32_si128(2 * f)), _mm256_set1_epi8(3));
    if (!q3)
        return q;
    const __m256i hb = _mm256_and_si256(_mm256_srl_epi16(mc_qgemv_bytes32(blk), _mm_cvtsi32_si128(4 * h + f)),
                                        _mm256_set1_epi8(1));
    return _mm256_or_si256(q, _mm256_slli_epi16(hb, 2)); /* 0..7: the caller takes 4 off */
}

/* Q2_K: qs at 16, no hmask; Q3_K: hmask at 0, qs at 32. Codes 0..15 of each quarter are
 * sub-block 8 h + 2 f, codes 16..31 the next. */
static inline __attribute__((always_inline)) float k23_row(const uint8_t *row, int64_t block_stride,
                                                           int64_t nblocks, const float *x, int q3)
{
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *blk = row + b * block_stride;
        _mm_prefetch((const char *)(blk + 1024), _MM_HINT_T0);
        float dl[16], ml[16];
        k23_scales(blk, q3, dl, ml);
        for (int h = 0; h < 2; h++) {
            for (int f = 0; f < 4; f++) {
                const int s = 8 * h + 2 * f;
                __m256i q = k23_codes(blk, h, f, q3);
                if (q3)
                    q = _mm256_sub_epi8(q, _mm256_set1_epi8(4));
                const float *xb = x + b * MC_QGEMV_QK_K + 128 * h + 32 * f;
                const __m256 d0 = _mm256_set1_ps(dl[s]), m0 = _mm256_set1_ps(-ml[s]);
                const __m256 d1 = _mm256_set1_ps(dl[s + 1]), m1 = _mm256_set1_ps(-ml[s + 1]);
                const __m256 w0 = _mm256_fmadd_ps(d0, mc_qgemv_codes_ps(q, 0), m0);
                const __m256 w1 = _mm256_fmadd_ps(d0, mc_qgemv_codes_ps(q, 1), m0);
                const __m256 w2 = _mm256_fmadd_ps(d1, mc_qgemv_codes_ps(q, 2), m1);
                const __m256 w3 = _mm256_fmadd_ps(d1, mc_qgemv_codes_ps(q, 3), m1);
                acc0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xb), acc0);
                acc1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xb + 8), acc1);
                acc0 = _mm256_fmadd_ps(w2, _mm256_loadu_ps(xb + 16), acc0);
                acc1 = _mm256_fmadd_ps(w3, _mm256_loadu_ps(xb + 24), acc1);
            }
        }
    }
    return mc_qgemv_hsum(_mm256_add_ps(acc0, acc1));
}

float mc_qgemv_row_q2_K_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                             const uint8_t *xq)
{
    (void)xq;
    return k23_row(row, block_stride, nblocks, x, 0);
}

float mc_qgemv_row_q3_K_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                             const uint8_t *xq)
{
    (void)xq;
    return k23_row(row, block_stride, nblocks, x, 1);
}

/* q8_K dots: unsigned codes (Q2_K 0..3; Q3_K 0..7, its -4 taken out as 4 bsum) times x's int8
 * codes by maddubs (no saturation: 2 * 7 * 127 < 32768); lanes 0..3 hold sub-block 8 h + 2 f,
 * lanes 4..7 the next, each lane's integer exact (|lane| < 2^24) and scaled per sub-block. The
 * float work per super-block: d_w d_x times one int32 vector, Q2_K also dmin d_x times its mins'
 * sum (ggml's dall isum - dmin summs). */
static inline __attribute__((always_inline)) float k23_q8dot_row(const uint8_t *row, int64_t block_stride,
                                                                 int64_t nblocks, const uint8_t *xq, int q3)
{
    __m256 acc = _mm256_setzero_ps();
    float acc_min = 0.0f;
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *wb = row + b * block_stride, *xb = xq + b * MC_QGEMV_Q8_K_BYTES;
        _mm_prefetch((const char *)(wb + 1024), _MM_HINT_T0);
        int sc[16];
        int32_t mins = 0, offset = 0;
        if (q3) {
            mc_qgemv_scales_q3_K(wb + 96, sc);
            for (int s = 0; s < 16; s++)
                offset += 4 * sc[s] * mc_qgemv_bsum(xb, s);
        } else {
            for (int s = 0; s < 16; s++) {
                sc[s] = wb[s] & 0x0F;
                mins += (wb[s] >> 4) * mc_qgemv_bsum(xb, s);
            }
        }
        __m256i sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            for (int f = 0; f < 4; f++) {
                const __m256i q = k23_codes(wb, h, f, q3);
                const int s = 8 * h + 2 * f;
                const __m256i scales = mc_qgemv_scale_pair16(sc[s], sc[s + 1]);
                const __m256i v = mc_qgemv_bytes32(xb + 4 + 128 * h + 32 * f);
                sumi = _mm256_add_epi32(sumi, mc_qgemv_udot32_scaled(q, v, scales));
            }
        }
        sumi = _mm256_sub_epi32(sumi, _mm256_setr_epi32(offset, 0, 0, 0, 0, 0, 0, 0));
        const float dx = mc_cpu_load_f32(xb);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dx * f16_at(wb + (q3 ? 108 : 80))), _mm256_cvtepi32_ps(sumi), acc);
        if (!q3)
            acc_min += dx * f16_at(wb + 82) * (float)mins;
    }
    return mc_qgemv_hsum(acc) - acc_min;
}

float mc_qgemv_row_q2_K_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq)
{
    (void)x;
    return k23_q8dot_row(row, block_stride, nblocks, xq, 0);
}

float mc_qgemv_row_q3_K_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq)
{
    (void)x;
    return k23_q8dot_row(row, block_stride, nblocks, xq, 1);
}
