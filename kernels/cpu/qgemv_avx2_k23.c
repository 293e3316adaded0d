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

/* Q2_K: qs at 16, no hmask; Q3_K: hmask at 0, qs at 32. */
static inline __attribute__((always_inline)) float k23_row(const uint8_t *row, int64_t block_stride,
                                                           int64_t nblocks, const float *x, int q3)
{
    const __m256i three = _mm256_set1_epi32(3), one = _mm256_set1_epi32(1);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *blk = row + b * block_stride, *qs = blk + (q3 ? 32 : 16);
        _mm_prefetch((const char *)(blk + 1024), _MM_HINT_T0);
        float dl[16], ml[16];
        k23_scales(blk, q3, dl, ml);
        for (int s = 0; s < 16; s++) {
            const int h = s / 8, f = (s % 8) / 2, l0 = 16 * (s % 2);
            const __m256 dv = _mm256_set1_ps(dl[s]), mv = _mm256_set1_ps(-ml[s]);
            __m256 acc = s % 2 ? acc1 : acc0;
            for (int l = l0; l < l0 + 16; l += 8) {
                const __m256i field = _mm256_srl_epi32(mc_qgemv_bytes8(qs + 32 * h + l), _mm_cvtsi32_si128(2 * f));
                __m256i q = _mm256_and_si256(field, three);
                if (q3) {
                    const __m256i hb = _mm256_and_si256(
                        _mm256_srl_epi32(mc_qgemv_bytes8(blk + l), _mm_cvtsi32_si128(4 * h + f)), one);
                    q = _mm256_sub_epi32(q, _mm256_slli_epi32(_mm256_xor_si256(hb, one), 2));
                }
                const __m256 w = _mm256_fmadd_ps(dv, _mm256_cvtepi32_ps(q), mv);
                acc = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + b * MC_QGEMV_QK_K + 128 * h + 32 * f + l), acc);
            }
            if (s % 2)
                acc1 = acc;
            else
                acc0 = acc;
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
    const __m256i three = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    float acc_min = 0.0f;
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *wb = row + b * block_stride, *xb = xq + b * MC_QGEMV_Q8_K_BYTES;
        const uint8_t *qs = wb + (q3 ? 32 : 16);
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
            const __m256i q2 = mc_qgemv_bytes32(qs + 32 * h);
            for (int f = 0; f < 4; f++) {
                __m256i q = _mm256_and_si256(_mm256_srl_epi16(q2, _mm_cvtsi32_si128(2 * f)), three);
                if (q3) {
                    const __m256i hb =
                        _mm256_and_si256(_mm256_srl_epi16(mc_qgemv_bytes32(wb), _mm_cvtsi32_si128(4 * h + f)), one);
                    q = _mm256_or_si256(q, _mm256_slli_epi16(hb, 2));
                }
                const int s = 8 * h + 2 * f;
                const __m256i scales = mc_qgemv_scale_pair16(sc[s], sc[s + 1]);
                sumi = _mm256_add_epi32(sumi, mc_qgemv_udot32_scaled(q, mc_qgemv_bytes32(xb + 4 + 128 * h + 32 * f), scales));
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
