/* core/dtype.c: the dtype table.
 * SPDX-License-Identifier: MIT */
#include "dtype.h"

#include <assert.h>
#include <string.h>

#include "half.h"

static const mc_dtype_info dtype_table[] = {
    [MC_DTYPE_F32] = {"f32", 1, 4, 0x1p-24, false},
    [MC_DTYPE_F16] = {"f16", 1, 2, 0x1p-11, false},
    [MC_DTYPE_BF16] = {"bf16", 1, 2, 0x1p-8, false},
    [MC_DTYPE_Q8_0] = {"q8_0", 32, 34, 0x1p-11, true},
    [MC_DTYPE_Q4_0] = {"q4_0", 32, 18, 0x1p-11, true},
};
static_assert(sizeof dtype_table / sizeof dtype_table[0] == MC_DTYPE_COUNT, "one entry per dtype");

const mc_dtype_info *mc_dtype_info_of(mc_dtype dt)
{
    assert(dt >= 0 && dt < MC_DTYPE_COUNT);
    return &dtype_table[dt];
}

const char *mc_dtype_name(mc_dtype dt)
{
    return mc_dtype_info_of(dt)->name;
}

bool mc_dtype_parse(const char *name, mc_dtype *out)
{
    for (int i = 0; i < MC_DTYPE_COUNT; i++) {
        if (strcmp(name, dtype_table[i].name) == 0) {
            *out = (mc_dtype)i;
            return true;
        }
    }
    return false;
}

int mc_dtype_elem_bytes(mc_dtype dt)
{
    assert(!dtype_table[dt].quantised);
    return dtype_table[dt].block_bytes;
}

/* ---- the Q8_0/Q4_0 block decoders: q * fp16-to-f32(d), as ggml's dequantize_row_* ---- */

static float load_scale(const uint8_t *blk)
{
    return mc_f16_to_f32((uint16_t)(blk[0] | (blk[1] << 8)));
}

void mc_dtype_dequantize_row_q8_0(const uint8_t *in, float *out, int64_t n)
{
    for (int64_t b = 0; b < n / MC_QK; b++) {
        const uint8_t *blk = in + b * MC_Q8_0_BLOCK_BYTES;
        const float d = load_scale(blk);
        for (int j = 0; j < MC_QK; j++)
            out[b * MC_QK + j] = (float)(int8_t)blk[2 + j] * d;
    }
}

void mc_dtype_dequantize_row_q4_0(const uint8_t *in, float *out, int64_t n)
{
    for (int64_t b = 0; b < n / MC_QK; b++) {
        const uint8_t *blk = in + b * MC_Q4_0_BLOCK_BYTES;
        const float d = load_scale(blk);
        for (int j = 0; j < MC_QK / 2; j++) {
            out[b * MC_QK + j] = (float)((blk[2 + j] & 0x0F) - 8) * d;
            out[b * MC_QK + j + MC_QK / 2] = (float)((blk[2 + j] >> 4) - 8) * d;
        }
    }
}

double mc_dtype_dequant_q8_0_elem(const uint8_t *blk, int j)
{
    return (double)(int8_t)blk[2 + j] * (double)load_scale(blk);
}

double mc_dtype_dequant_q4_0_elem(const uint8_t *blk, int j)
{
    uint8_t byte = blk[2 + (j % 16)];
    int q = j < 16 ? (byte & 0x0F) : (byte >> 4);
    return (double)(q - 8) * (double)load_scale(blk);
}
