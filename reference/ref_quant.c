/* reference/ref_quant.c: Q8_0/Q4_0 blocks, byte-exact with ggml's reference quantisers.
 * SPDX-License-Identifier: MIT */
#include "ref_quant.h"

#include <string.h>

#include "../harness/half.h"

static double block_scale(const uint8_t *blk)
{
    uint16_t d;
    memcpy(&d, blk, sizeof d); /* little-endian hosts only, as GGUF */
    return mc_f16_to_f32(d);
}

double mc_ref_dequant_q8_0_elem(const uint8_t *blk, int j)
{
    return (double)(int8_t)blk[2 + j] * block_scale(blk);
}

double mc_ref_dequant_q4_0_elem(const uint8_t *blk, int j)
{
    uint8_t byte = blk[2 + (j % 16)];
    int q = j < 16 ? (byte & 0x0F) : (byte >> 4);
    return (double)(q - 8) * block_scale(blk);
}
