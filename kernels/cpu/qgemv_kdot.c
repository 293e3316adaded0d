/* kernels/cpu/qgemv_kdot.c: the K-quant dots against q8_K activations (ggml's vec_dot_q4_K_q8_K,
 * q5_K, q2_K, q3_K and q6_K, generic paths) and the q8_K activation quantiser, scalar.
 * Per super-block the integer sums are exact; the float work is d_w d_x times one integer for the
 * scales and dmin d_x times one for the mins (docs/quant.md, error bounds).
 * SPDX-License-Identifier: MIT */
#include <math.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_common.h"

static float f16_at(const uint8_t *p)
{
    return mc_f16_to_f32(mc_cpu_load_u16(p));
}

static float q8_K_scale(const uint8_t *blk)
{
    return mc_cpu_load_f32(blk);
}

static int16_t q8_K_bsum(const uint8_t *blk, int j)
{
    int16_t s;
    memcpy(&s, blk + 260 + 2 * j, sizeof s);
    return s;
}

/* Q4_K (qh NULL, qs at 16) and Q5_K (qh at 16, qs at 48): sub-block s (32 elements) of chunk
 * c = s / 2 reads the low (s even) or high nibbles of qs[32 c .. 32 c + 31], plus 16 where bit s
 * of qh[l] is set; sum_s sc_s dot_s - sum_s m_s (bsum_{2s} + bsum_{2s+1}). */
static float k45_row(const uint8_t *row, int64_t block_stride, int64_t nblocks, const uint8_t *xq, int qs_at,
                     int qh_at)
{
    float acc = 0.0f;
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *wb = row + b * block_stride, *xb = xq + b * MC_QGEMV_Q8_K_BYTES;
        const int8_t *q8 = (const int8_t *)(const void *)(xb + 4);
        int32_t sum_scaled = 0, sum_mins = 0;
        for (int s = 0; s < 8; s++) {
            int sc, m;
            mc_qgemv_scale_min_k4(s, wb + 4, &sc, &m);
            const uint8_t *qs = wb + qs_at + 32 * (s / 2);
            int32_t dot = 0;
            for (int l = 0; l < 32; l++) {
                const int high = qh_at ? ((wb[qh_at + l] >> s) & 1) << 4 : 0;
                dot += ((s % 2 ? (qs[l] >> 4) : (qs[l] & 0x0F)) | high) * q8[32 * s + l];
            }
            sum_scaled += sc * dot;
            sum_mins += m * (q8_K_bsum(xb, 2 * s) + q8_K_bsum(xb, 2 * s + 1));
        }
        const float dx = q8_K_scale(xb);
        acc += f16_at(wb) * dx * (float)sum_scaled - f16_at(wb + 2) * dx * (float)sum_mins;
    }
    return acc;
}

float mc_qgemv_row_q4_K_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                     const uint8_t *xq)
{
    (void)x;
    return k45_row(row, block_stride, nblocks, xq, 16, 0);
}

float mc_qgemv_row_q5_K_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                     const uint8_t *xq)
{
    (void)x;
    return k45_row(row, block_stride, nblocks, xq, 48, 16);
}

/* Q2_K and Q3_K: element j = 128 h + 32 f + l has the 2-bit field f of qs[32 h + l] and sits in
 * sub-block j / 16, which is also its q8_K bsum's index. Q2_K: scale sc & 15 and min sc >> 4 of
 * byte j / 16 (ggml's dall isum - dmin summs). Q3_K: minus 4 where bit 4 h + f of hmask[l] is
 * clear, signed 6-bit scales; d_w d_x times one integer. */
static int32_t k23_sub_dot(const uint8_t *qs, const uint8_t *hm, int s, const int8_t *q8)
{
    const int h = s / 8, f = (s % 8) / 2;
    int32_t dot = 0;
    for (int l = 16 * (s % 2); l < 16 * (s % 2) + 16; l++) {
        int q = (qs[32 * h + l] >> (2 * f)) & 3;
        if (hm && !((hm[l] >> (4 * h + f)) & 1))
            q -= 4;
        dot += q * q8[128 * h + 32 * f + l];
    }
    return dot;
}

/* Q2_K (q3 = 0: scales at 0, qs at 16, d at 80, dmin at 82) or Q3_K (hmask at 0, qs at 32,
 * scales at 96, d at 108). */
static float k23_row(const uint8_t *row, int64_t block_stride, int64_t nblocks, const uint8_t *xq, int q3)
{
    float acc = 0.0f;
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *wb = row + b * block_stride, *xb = xq + b * MC_QGEMV_Q8_K_BYTES;
        const int8_t *q8 = (const int8_t *)(const void *)(xb + 4);
        int sc[16];
        int32_t isum = 0, summs = 0;
        if (q3)
            mc_qgemv_scales_q3_K(wb + 96, sc);
        for (int s = 0; !q3 && s < 16; s++) {
            sc[s] = wb[s] & 0x0F;
            summs += (wb[s] >> 4) * q8_K_bsum(xb, s);
        }
        for (int s = 0; s < 16; s++)
            isum += sc[s] * k23_sub_dot(wb + (q3 ? 32 : 16), q3 ? wb : NULL, s, q8);
        const float dx = q8_K_scale(xb);
        acc += dx * f16_at(wb + (q3 ? 108 : 80)) * (float)isum - (q3 ? 0.0f : dx * f16_at(wb + 82) * (float)summs);
    }
    return acc;
}

float mc_qgemv_row_q2_K_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                     const uint8_t *xq)
{
    (void)x;
    return k23_row(row, block_stride, nblocks, xq, 0);
}

float mc_qgemv_row_q3_K_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                     const uint8_t *xq)
{
    (void)x;
    return k23_row(row, block_stride, nblocks, xq, 1);
}

/* Q6_K: element 128 h + 32 f + l has code ((ql nibble) | (2 high bits)) - 32 and scale
 * scales[8 h + 2 f + l / 16]; sum over 16 sub-blocks of scale times the exact dot. */
float mc_qgemv_row_q6_K_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                     const uint8_t *xq)
{
    (void)x;
    float acc = 0.0f;
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *wb = row + b * block_stride, *xb = xq + b * MC_QGEMV_Q8_K_BYTES;
        const int8_t *q8 = (const int8_t *)(const void *)(xb + 4);
        const int8_t *scales = (const int8_t *)(const void *)(wb + 192);
        int32_t sumi = 0;
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = wb + 64 * h, *qh = wb + 128 + 32 * h;
            for (int f = 0; f < 4; f++) {
                for (int half = 0; half < 2; half++) {
                    int32_t dot = 0;
                    for (int l = 16 * half; l < 16 * half + 16; l++) {
                        const uint8_t byte = ql[32 * (f & 1) + l];
                        const int low = f < 2 ? (byte & 0x0F) : (byte >> 4);
                        const int q = (low | (((qh[l] >> (2 * f)) & 3) << 4)) - 32;
                        dot += q * q8[128 * h + 32 * f + l];
                    }
                    sumi += scales[8 * h + 2 * f + half] * dot;
                }
            }
        }
        acc += f16_at(wb + 208) * q8_K_scale(xb) * (float)sumi;
    }
    return acc;
}

/* ggml's nearest_int for |v| < 2^22 (activations here are finite and |v| <= 127): round to
 * nearest, ties to even, as the default rounding mode's rintf does. */
void mc_qgemv_quantise_x_q8_K_scalar(const float *x, uint8_t *out, int64_t n)
{
    for (int64_t b = 0; b < n / MC_QGEMV_QK_K; b++) {
        const float *xb = x + b * MC_QGEMV_QK_K;
        uint8_t *blk = out + b * MC_QGEMV_Q8_K_BYTES;
        float max = 0.0f, amax = 0.0f;
        for (int j = 0; j < MC_QGEMV_QK_K; j++) {
            if (fabsf(xb[j]) > amax) {
                amax = fabsf(xb[j]);
                max = xb[j];
            }
        }
        memset(blk, 0, MC_QGEMV_Q8_K_BYTES);
        if (amax == 0.0f)
            continue;
        const float iscale = -127.0f / max, d = 1.0f / iscale;
        memcpy(blk, &d, sizeof d);
        for (int j = 0; j < MC_QGEMV_QK_K; j++) {
            const float v = rintf(iscale * xb[j]);
            const int q = v < 127.0f ? (int)v : 127;
            blk[4 + j] = (uint8_t)(q & 0xFF);
        }
        for (int s = 0; s < 16; s++) {
            int16_t sum = 0;
            for (int l = 0; l < 16; l++)
                sum = (int16_t)(sum + (int8_t)blk[4 + 16 * s + l]);
            memcpy(blk + 260 + 2 * s, &sum, sizeof sum);
        }
    }
}
