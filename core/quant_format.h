/* core/quant_format.h: the quantised formats (GGUF blocks): one row per format saying how a block
 * decodes and what activation format its dot product takes; block sizes are the dtype table's.
 * SPDX-License-Identifier: MIT */
#ifndef MC_QUANT_FORMAT_H
#define MC_QUANT_FORMAT_H

#include <stdbool.h>
#include <stdint.h>

#include "dtype.h"

/* Element j of the block at blk, bit-exact with ggml's dequantize_row_* (float arithmetic in its
 * order). mag (may be NULL) gets |scale part| + |min part| in double, exactly: for the formats
 * with a min the value is fl(d_s q - m_s), one rounding of two exact products, and a kernel that
 * applies scale and min separately errs relative to mag, not to |value|. */
typedef float (*mc_quant_decode_fn)(const uint8_t *blk, int j, double *mag /* out */);

typedef struct mc_quant_format {
    mc_dtype dtype;
    mc_dtype act;             /* what a quantised-activation dot quantises x to: Q8_0 or Q8_K */
    mc_quant_decode_fn decode;
    int ties_top;             /* code magnitude of a block's largest element (the ties pattern) */
} mc_quant_format;

/* The format row of a quantised dtype; NULL for plain floats. */
const mc_quant_format *mc_quant_format_of(mc_dtype dt);

/* Dequantises n values (n a multiple of the block size; the caller checks) of blocks at in. */
void mc_quant_dequantize_row(mc_dtype dt, const uint8_t *in, float *out, int64_t n);

/* The element (i % block) of block i / block of a row at row: the exact value and its magnitude. */
double mc_quant_elem(mc_dtype dt, const uint8_t *row_block, int j, double *mag /* out, may be NULL */);

/* 6-bit scale and min j (0..7) of a Q4_K/Q5_K block's 12 packed bytes (ggml's get_scale_min_k4). */
void mc_quant_scale_min_k4(int j, const uint8_t *q, uint8_t *sc /* out */, uint8_t *m /* out */);

/* 6-bit scale j (0..15) of a Q3_K block's 12 packed bytes, minus 32. */
int mc_quant_scale_q3_K(int j, const uint8_t *q);

#endif
