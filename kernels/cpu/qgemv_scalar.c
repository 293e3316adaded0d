/* kernels/cpu/qgemv_scalar.c: portable row kernels of the quantised GEMV: dequantising Q8_0 and
 * Q4_0 dots, the Q8_0 x Q8_0 integer dot, and ggml's reference activation quantiser.
 * SPDX-License-Identifier: MIT */
#include <math.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_common.h"

static float block_scale(const uint8_t *blk)
{
    return mc_f16_to_f32(mc_cpu_load_u16(blk));
}

static int code_q8_0(const uint8_t *blk, int j)
{
    int v = blk[2 + j];
    return v < 128 ? v : v - 256;
}

/* The dequantised weight d q is exact in f32 (an 11-bit scale times an 8-bit code), so this is
 * the f32 dot of the dequantised row with x, one rounding per product and per sum. */
float mc_qgemv_row_q8_0_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq)
{
    (void)xq;
    float acc = 0.0f;
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *blk = row + b * block_stride;
        const float d = block_scale(blk);
        const float *xb = x + b * MC_QGEMV_QK;
        for (int j = 0; j < MC_QGEMV_QK; j++)
            acc += (d * (float)code_q8_0(blk, j)) * xb[j];
    }
    return acc;
}

/* Byte j holds element j (low nibble) and element j + 16 (high nibble); weight (nibble - 8) d. */
float mc_qgemv_row_q4_0_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq)
{
    (void)xq;
    float acc = 0.0f;
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *blk = row + b * block_stride;
        const float d = block_scale(blk);
        const float *xb = x + b * MC_QGEMV_QK;
        for (int j = 0; j < MC_QGEMV_QK / 2; j++) {
            acc += (d * (float)((blk[2 + j] & 0x0F) - 8)) * xb[j];
            acc += (d * (float)((blk[2 + j] >> 4) - 8)) * xb[j + MC_QGEMV_QK / 2];
        }
    }
    return acc;
}

/* ggml's vec_dot_q8_0_q8_0, generic path: an exact integer dot per block, scaled by the product
 * of the two fp16 scales. */
float mc_qgemv_row_q8_0_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks,
                                     const float *x, const uint8_t *xq)
{
    (void)x;
    float acc = 0.0f;
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *wb = row + b * block_stride;
        const uint8_t *xb = xq + b * MC_QGEMV_Q8_0_BYTES;
        int32_t sumi = 0;
        for (int j = 0; j < MC_QGEMV_QK; j++)
            sumi += code_q8_0(wb, j) * code_q8_0(xb, j);
        acc += (float)sumi * (block_scale(wb) * block_scale(xb));
    }
    return acc;
}

/* ggml's vec_dot_q4_0_q8_0, generic path: codes (nibble - 8) against x's q8_0 codes. */
float mc_qgemv_row_q4_0_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks,
                                     const float *x, const uint8_t *xq)
{
    (void)x;
    float acc = 0.0f;
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *wb = row + b * block_stride;
        const uint8_t *xb = xq + b * MC_QGEMV_Q8_0_BYTES;
        int32_t sumi = 0;
        for (int j = 0; j < MC_QGEMV_QK / 2; j++) {
            sumi += ((wb[2 + j] & 0x0F) - 8) * code_q8_0(xb, j);
            sumi += ((wb[2 + j] >> 4) - 8) * code_q8_0(xb, j + MC_QGEMV_QK / 2);
        }
        acc += (float)sumi * (block_scale(wb) * block_scale(xb));
    }
    return acc;
}

/* The activation quantiser of ggml's reference (quantize_row_q8_0_ref), written again here:
 * kernels share no code with reference/. Activations are finite, so the NaN corner cases of the
 * reference quantiser do not arise. */
void mc_qgemv_quantise_x_q8_0_scalar(const float *x, uint8_t *out, int64_t n)
{
    for (int64_t b = 0; b < n / MC_QGEMV_QK; b++) {
        const float *xb = x + b * MC_QGEMV_QK;
        uint8_t *blk = out + b * MC_QGEMV_Q8_0_BYTES;
        float amax = 0.0f;
        for (int j = 0; j < MC_QGEMV_QK; j++)
            amax = fmaxf(amax, fabsf(xb[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        uint16_t h = mc_f32_to_f16(d);
        memcpy(blk, &h, sizeof h);
        for (int j = 0; j < MC_QGEMV_QK; j++) {
            const float v = roundf(xb[j] * id);
            const int q = fabsf(v) <= 128.0f ? (int)v : 0; /* finite x: |v| <= 127; NaN -> 0 */
            blk[2 + j] = (uint8_t)(q & 0xFF);
        }
    }
}
