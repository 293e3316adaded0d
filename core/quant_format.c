/* core/quant_format.c: the format table and each format's element decoder, bit-exact with
 * ggml's dequantize_row_* (docs/quant.md has the layouts).
 *
 * Numbered facts every decoder relies on:
 *   1. Every fp16 scale is read little-endian whatever the host.
 *   2. All products before the last step are exact in float: an 11-bit fp16 significand times a
 *      6-bit (K-quant) or 8-bit (Q6_K) sub-block scale times a code of at most 6 bits stays
 *      within 24 bits. So ggml's float value is one rounding of the real d_s q - m_s (for formats
 *      with a min) or exact (the others), whatever order a kernel multiplies in.
 *   3. mag is |d_s q| + |m_s| (exact in double): the size a kernel's error is relative to.
 * SPDX-License-Identifier: MIT */
#include "quant_format.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "half.h"

static float f16_at(const uint8_t *p)
{
    return mc_f16_to_f32((uint16_t)(p[0] | (p[1] << 8)));
}

/* value = s q (formats without a min); the product is exact (point 2). */
static float scaled(float s, int q, double *mag)
{
    const float v = s * (float)q;
    if (mag)
        *mag = fabs((double)s * q);
    return v;
}

/* value = fl(s q - m) (K-quants) or fl(s q + m) (Q4_1, Q5_1), each in ggml's float order; q >= 0.
 * Never s q - (-m): the negation flips a NaN m's sign bit where the compiler does not fold it
 * back, so ggml's NaN would come out negated in some builds (ctest ggml_crosscheck found it). */
static float scaled_minus(float s, int q, float m, double *mag)
{
    const float v = s * (float)q - m;
    if (mag)
        *mag = fabs((double)s * q) + fabs((double)m);
    return v;
}

static float scaled_plus(float s, int q, float m, double *mag)
{
    const float v = s * (float)q + m;
    if (mag)
        *mag = fabs((double)s * q) + fabs((double)m);
    return v;
}

static float decode_q8_0(const uint8_t *blk, int j, double *mag)
{
    return scaled(f16_at(blk), (int8_t)blk[2 + j], mag);
}

/* Byte j % 16 of qs: element j in the low nibble, element j + 16 in the high one. */
static int nibble32(const uint8_t *qs, int j)
{
    const uint8_t b = qs[j % 16];
    return j < 16 ? (b & 0x0F) : (b >> 4);
}

/* Bit j of Q5's 32-bit little-endian qh, as 16. */
static int fifth_bit(const uint8_t *qh, int j)
{
    return ((qh[j / 8] >> (j % 8)) & 1) << 4;
}

static float decode_q4_0(const uint8_t *blk, int j, double *mag)
{
    return scaled(f16_at(blk), nibble32(blk + 2, j) - 8, mag);
}

/* ggml: x = q d + m, the min added. */
static float decode_q4_1(const uint8_t *blk, int j, double *mag)
{
    return scaled_plus(f16_at(blk), nibble32(blk + 4, j), f16_at(blk + 2), mag);
}

static float decode_q5_0(const uint8_t *blk, int j, double *mag)
{
    return scaled(f16_at(blk), (nibble32(blk + 6, j) | fifth_bit(blk + 2, j)) - 16, mag);
}

static float decode_q5_1(const uint8_t *blk, int j, double *mag)
{
    return scaled_plus(f16_at(blk), nibble32(blk + 8, j) | fifth_bit(blk + 4, j), f16_at(blk + 2), mag);
}

void mc_quant_scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m)
{
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

int mc_quant_scale_q3_K(int j, const uint8_t *q)
{
    const int low = j < 8 ? (q[j] & 0x0F) : (q[j - 8] >> 4);
    const int high = (q[8 + j % 4] >> (2 * (j / 4))) & 3;
    return (low | (high << 4)) - 32;
}

/* Q2_K: 16 sub-blocks of 16. Element j: half h = j / 128, 2-bit field f = (j % 128) / 32 of byte
 * qs[32 h + j % 32], sub-block 8 h + 2 f + (j % 32 >= 16); value (d sc) q - (dmin m). */
static float decode_q2_K(const uint8_t *blk, int j, double *mag)
{
    const int h = j / 128, f = (j % 128) / 32, l = j % 32;
    const uint8_t sc = blk[8 * h + 2 * f + (l >= 16)];
    const int q = (blk[16 + 32 * h + l] >> (2 * f)) & 3;
    const float dl = f16_at(blk + 80) * (float)(sc & 0x0F), ml = f16_at(blk + 82) * (float)(sc >> 4);
    return scaled_minus(dl, q, ml, mag);
}

/* Q3_K: as Q2_K's 2-bit fields (qs at 32), minus 4 where bit 4 h + f of hmask[j % 32] is clear;
 * value (d (scale - 32)) q. */
static float decode_q3_K(const uint8_t *blk, int j, double *mag)
{
    const int h = j / 128, f = (j % 128) / 32, l = j % 32;
    const int sc = mc_quant_scale_q3_K(8 * h + 2 * f + (l >= 16), blk + 96);
    const int low = (blk[32 + 32 * h + l] >> (2 * f)) & 3;
    const int q = low - ((blk[l] >> (4 * h + f)) & 1 ? 0 : 4);
    return scaled(f16_at(blk + 108) * (float)sc, q, mag);
}

/* Q4_K: 8 sub-blocks of 32. Element j: chunk c = j / 64, byte qs[32 c + j % 32] (at 16), low
 * nibble for j % 64 < 32 (sub-block 2 c), high nibble otherwise (2 c + 1). */
static float decode_q4_K(const uint8_t *blk, int j, double *mag)
{
    const int c = j / 64, hi = (j % 64) >= 32;
    uint8_t sc, m;
    mc_quant_scale_min_k4(2 * c + hi, blk + 4, &sc, &m);
    const uint8_t b = blk[16 + 32 * c + j % 32];
    const int q = hi ? (b >> 4) : (b & 0x0F);
    return scaled_minus(f16_at(blk) * (float)sc, q, f16_at(blk + 2) * (float)m, mag);
}

/* Q5_K: Q4_K's nibbles (qs at 48) plus 16 where bit 2 c + hi of qh[j % 32] (at 16) is set. */
static float decode_q5_K(const uint8_t *blk, int j, double *mag)
{
    const int c = j / 64, hi = (j % 64) >= 32;
    uint8_t sc, m;
    mc_quant_scale_min_k4(2 * c + hi, blk + 4, &sc, &m);
    const uint8_t b = blk[48 + 32 * c + j % 32];
    const int q = (hi ? (b >> 4) : (b & 0x0F)) + (((blk[16 + j % 32] >> (2 * c + hi)) & 1) << 4);
    return scaled_minus(f16_at(blk) * (float)sc, q, f16_at(blk + 2) * (float)m, mag);
}

/* Q6_K: halves h = j / 128, quarter f = (j % 128) / 32, l = j % 32: low nibble of ql[64 h + l]
 * (f = 0) or ql[64 h + 32 + l] (f = 1), their high nibbles for f = 2, 3; two high bits
 * (qh[32 h + l] >> 2 f) & 3; scale int8 scales[8 h + l / 16 + 2 f]; value (d sc) (q - 32). */
static float decode_q6_K(const uint8_t *blk, int j, double *mag)
{
    const int h = j / 128, f = (j % 128) / 32, l = j % 32;
    const uint8_t b = blk[64 * h + 32 * (f & 1) + l];
    const int low = f < 2 ? (b & 0x0F) : (b >> 4);
    const int q = (low | (((blk[128 + 32 * h + l] >> (2 * f)) & 3) << 4)) - 32;
    const int8_t sc = (int8_t)blk[192 + 8 * h + l / 16 + 2 * f];
    return scaled(f16_at(blk + 208) * (float)sc, q, mag);
}

static float decode_q8_K(const uint8_t *blk, int j, double *mag)
{
    float d;
    uint32_t bits = (uint32_t)blk[0] | (uint32_t)blk[1] << 8 | (uint32_t)blk[2] << 16 | (uint32_t)blk[3] << 24;
    memcpy(&d, &bits, sizeof d);
    return scaled(d, (int8_t)blk[4 + j], mag);
}

static const mc_quant_format formats[] = {
    [MC_DTYPE_F32] = {MC_DTYPE_F32, MC_DTYPE_F32, NULL, 0},
    [MC_DTYPE_F16] = {MC_DTYPE_F16, MC_DTYPE_F32, NULL, 0},
    [MC_DTYPE_BF16] = {MC_DTYPE_BF16, MC_DTYPE_F32, NULL, 0},
    [MC_DTYPE_Q8_0] = {MC_DTYPE_Q8_0, MC_DTYPE_Q8_0, decode_q8_0, 127},
    [MC_DTYPE_Q4_0] = {MC_DTYPE_Q4_0, MC_DTYPE_Q8_0, decode_q4_0, 8},
    [MC_DTYPE_Q4_1] = {MC_DTYPE_Q4_1, MC_DTYPE_Q8_0, decode_q4_1, 8},
    [MC_DTYPE_Q5_0] = {MC_DTYPE_Q5_0, MC_DTYPE_Q8_0, decode_q5_0, 16},
    [MC_DTYPE_Q5_1] = {MC_DTYPE_Q5_1, MC_DTYPE_Q8_0, decode_q5_1, 16},
    [MC_DTYPE_Q2_K] = {MC_DTYPE_Q2_K, MC_DTYPE_Q8_K, decode_q2_K, 2},
    [MC_DTYPE_Q3_K] = {MC_DTYPE_Q3_K, MC_DTYPE_Q8_K, decode_q3_K, 4},
    [MC_DTYPE_Q4_K] = {MC_DTYPE_Q4_K, MC_DTYPE_Q8_K, decode_q4_K, 8},
    [MC_DTYPE_Q5_K] = {MC_DTYPE_Q5_K, MC_DTYPE_Q8_K, decode_q5_K, 16},
    [MC_DTYPE_Q6_K] = {MC_DTYPE_Q6_K, MC_DTYPE_Q8_K, decode_q6_K, 32},
    [MC_DTYPE_Q8_K] = {MC_DTYPE_Q8_K, MC_DTYPE_Q8_K, decode_q8_K, 127},
};
static_assert(sizeof formats / sizeof formats[0] == MC_DTYPE_COUNT, "one row per dtype");

const mc_quant_format *mc_quant_format_of(mc_dtype dt)
{
    assert(dt >= 0 && dt < MC_DTYPE_COUNT);
    return formats[dt].decode ? &formats[dt] : NULL;
}

double mc_quant_elem(mc_dtype dt, const uint8_t *blk, int j, double *mag)
{
    return (double)formats[dt].decode(blk, j, mag);
}

void mc_quant_dequantize_row(mc_dtype dt, const uint8_t *in, float *out, int64_t n)
{
    const mc_dtype_info *info = mc_dtype_info_of(dt);
    const int qk = info->block_elems;
    for (int64_t b = 0; b < n / qk; b++)
        for (int j = 0; j < qk; j++)
            out[b * qk + j] = formats[dt].decode(in + b * info->block_bytes, j, NULL);
}
