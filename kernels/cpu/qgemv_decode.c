/* kernels/cpu/qgemv_decode.c: the quantised GEMV's own block decoders for Q4_1, Q5_0, Q5_1 and the
 * K-quants (written as ggml's dequantize_row_* loops, independently of core/quant_format.c, whose
 * per-element decoders the reference uses), and the scalar dequantising row kernels built on them.
 * Every product before the last step is exact in f32 (core/quant_format.c, point 2), so a decoded
 * weight is bit for bit ggml's and the row is an f32 dot of those weights with x.
 * SPDX-License-Identifier: MIT */
#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_common.h"

static float f16_at(const uint8_t *p)
{
    return mc_f16_to_f32(mc_cpu_load_u16(p));
}

void mc_qgemv_decode_q4_1(const uint8_t *blk, float *out)
{
    const float d = f16_at(blk), m = f16_at(blk + 2);
    for (int j = 0; j < 16; j++) {
        out[j] = (float)(blk[4 + j] & 0x0F) * d + m;
        out[j + 16] = (float)(blk[4 + j] >> 4) * d + m;
    }
}

static uint32_t load_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Q5: bit j of qh is element j's fifth bit, bit j + 16 element j + 16's. */
void mc_qgemv_q5_codes(const uint8_t *qh_bytes, const uint8_t *qs, int codes[32])
{
    const uint32_t qh = load_u32(qh_bytes);
    for (int j = 0; j < 16; j++) {
        codes[j] = (qs[j] & 0x0F) | (int)(((qh >> j) << 4) & 0x10);
        codes[j + 16] = (qs[j] >> 4) | (int)((qh >> (j + 12)) & 0x10);
    }
}

void mc_qgemv_decode_q5_0(const uint8_t *blk, float *out)
{
    int q[32];
    const float d = f16_at(blk);
    mc_qgemv_q5_codes(blk + 2, blk + 6, q);
    for (int j = 0; j < 32; j++)
        out[j] = (float)(q[j] - 16) * d;
}

void mc_qgemv_decode_q5_1(const uint8_t *blk, float *out)
{
    int q[32];
    const float d = f16_at(blk), m = f16_at(blk + 2);
    mc_qgemv_q5_codes(blk + 4, blk + 8, q);
    for (int j = 0; j < 32; j++)
        out[j] = (float)q[j] * d + m;
}

/* Q2_K: scales[16] at 0, qs[64] at 16, d at 80, dmin at 82. */
void mc_qgemv_decode_q2_K(const uint8_t *blk, float *out)
{
    const float d = f16_at(blk + 80), dmin = f16_at(blk + 82);
    const uint8_t *q = blk + 16;
    int is = 0;
    for (int n = 0; n < 256; n += 128, q += 32) {
        for (int shift = 0; shift < 8; shift += 2) {
            for (int half = 0; half < 2; half++) {
                const uint8_t sc = blk[is++];
                const float dl = d * (float)(sc & 0x0F), ml = dmin * (float)(sc >> 4);
                for (int l = 0; l < 16; l++)
                    *out++ = dl * (float)((q[l + 16 * half] >> shift) & 3) - ml;
            }
        }
    }
}

void mc_qgemv_scales_q3_K(const uint8_t *s, int scales[16])
{
    for (int j = 0; j < 16; j++) {
        const int low = j < 8 ? (s[j] & 0x0F) : (s[j - 8] >> 4);
        scales[j] = (low | (((s[8 + (j & 3)] >> (2 * (j >> 2))) & 3) << 4)) - 32;
    }
}

/* Q3_K: hmask[32] at 0, qs[64] at 32, scales[12] at 96, d at 108. */
void mc_qgemv_decode_q3_K(const uint8_t *blk, float *out)
{
    const float d_all = f16_at(blk + 108);
    const uint8_t *hm = blk, *q = blk + 32;
    int scales[16];
    mc_qgemv_scales_q3_K(blk + 96, scales);
    int is = 0;
    uint8_t bit = 1;
    for (int n = 0; n < 256; n += 128, q += 32) {
        for (int shift = 0; shift < 8; shift += 2, bit = (uint8_t)(bit << 1)) {
            for (int half = 0; half < 2; half++) {
                const float dl = d_all * (float)scales[is++];
                for (int l = 16 * half; l < 16 * half + 16; l++)
                    *out++ = dl * (float)(((q[l] >> shift) & 3) - ((hm[l] & bit) ? 0 : 4));
            }
        }
    }
}

/* Q4_K: d, dmin, scales[12] at 4, qs[128] at 16; Q5_K adds qh[32] at 16 and moves qs to 48. */
static void decode_k4(const uint8_t *blk, const uint8_t *ql, const uint8_t *qh, float *out)
{
    const float d = f16_at(blk), dmin = f16_at(blk + 2);
    uint8_t u1 = 1, u2 = 2;
    for (int c = 0; c < 4; c++, ql += 32, u1 = (uint8_t)(u1 << 2), u2 = (uint8_t)(u2 << 2)) {
        int sc, m;
        mc_qgemv_scale_min_k4(2 * c, blk + 4, &sc, &m);
        const float d1 = d * (float)sc, m1 = dmin * (float)m;
        mc_qgemv_scale_min_k4(2 * c + 1, blk + 4, &sc, &m);
        const float d2 = d * (float)sc, m2 = dmin * (float)m;
        for (int l = 0; l < 32; l++)
            *out++ = d1 * (float)((ql[l] & 0x0F) + (qh && (qh[l] & u1) ? 16 : 0)) - m1;
        for (int l = 0; l < 32; l++)
            *out++ = d2 * (float)((ql[l] >> 4) + (qh && (qh[l] & u2) ? 16 : 0)) - m2;
    }
}

void mc_qgemv_decode_q4_K(const uint8_t *blk, float *out)
{
    decode_k4(blk, blk + 16, NULL, out);
}

void mc_qgemv_decode_q5_K(const uint8_t *blk, float *out)
{
    decode_k4(blk, blk + 48, blk + 16, out);
}

/* Q6_K: ql[128] at 0, qh[64] at 128, int8 scales[16] at 192, d at 208. */
void mc_qgemv_decode_q6_K(const uint8_t *blk, float *out)
{
    const float d = f16_at(blk + 208);
    const uint8_t *ql = blk, *qh = blk + 128;
    const int8_t *sc = (const int8_t *)(const void *)(blk + 192);
    for (int n = 0; n < 256; n += 128, out += 128, ql += 64, qh += 32, sc += 8) {
        for (int l = 0; l < 32; l++) {
            const int is = l / 16;
            const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            out[l] = d * (float)sc[is] * (float)q1;
            out[l + 32] = d * (float)sc[is + 2] * (float)q2;
            out[l + 64] = d * (float)sc[is + 4] * (float)q3;
            out[l + 96] = d * (float)sc[is + 6] * (float)q4;
        }
    }
}

float mc_qgemv_dequant_dot(mc_qgemv_decode_fn decode, int qk, const uint8_t *row, int64_t block_stride,
                           int64_t nblocks, const float *x)
{
    float w[MC_QGEMV_QK_K];
    float acc = 0.0f;
    for (int64_t b = 0; b < nblocks; b++) {
        decode(row + b * block_stride, w);
        const float *xb = x + b * qk;
        for (int j = 0; j < qk; j++)
            acc += w[j] * xb[j];
    }
    return acc;
}

float mc_qgemv_row_q4_1_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq)
{
    (void)xq;
    return mc_qgemv_dequant_dot(mc_qgemv_decode_q4_1, MC_QGEMV_QK, row, block_stride, nblocks, x);
}

float mc_qgemv_row_q5_0_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq)
{
    (void)xq;
    return mc_qgemv_dequant_dot(mc_qgemv_decode_q5_0, MC_QGEMV_QK, row, block_stride, nblocks, x);
}

float mc_qgemv_row_q5_1_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq)
{
    (void)xq;
    return mc_qgemv_dequant_dot(mc_qgemv_decode_q5_1, MC_QGEMV_QK, row, block_stride, nblocks, x);
}

float mc_qgemv_row_q2_K_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq)
{
    (void)xq;
    return mc_qgemv_dequant_dot(mc_qgemv_decode_q2_K, MC_QGEMV_QK_K, row, block_stride, nblocks, x);
}

float mc_qgemv_row_q3_K_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq)
{
    (void)xq;
    return mc_qgemv_dequant_dot(mc_qgemv_decode_q3_K, MC_QGEMV_QK_K, row, block_stride, nblocks, x);
}

float mc_qgemv_row_q4_K_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq)
{
    (void)xq;
    return mc_qgemv_dequant_dot(mc_qgemv_decode_q4_K, MC_QGEMV_QK_K, row, block_stride, nblocks, x);
}

float mc_qgemv_row_q5_K_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq)
{
    (void)xq;
    return mc_qgemv_dequant_dot(mc_qgemv_decode_q5_K, MC_QGEMV_QK_K, row, block_stride, nblocks, x);
}

float mc_qgemv_row_q6_K_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq)
{
    (void)xq;
    return mc_qgemv_dequant_dot(mc_qgemv_decode_q6_K, MC_QGEMV_QK_K, row, block_stride, nblocks, x);
}
