/* core/dtype.h: element types, their storage sizes and precisions.
 * SPDX-License-Identifier: MIT */
#ifndef MC_DTYPE_H
#define MC_DTYPE_H

#include <stdbool.h>
#include <stdint.h>

typedef enum mc_dtype {
    MC_DTYPE_F32,
    MC_DTYPE_F16,
    MC_DTYPE_BF16,
    MC_DTYPE_Q8_0,
    MC_DTYPE_Q4_0,
    MC_DTYPE_COUNT
} mc_dtype;

typedef struct mc_dtype_info {
    const char *name;      /* as written in case files and keys */
    int block_elems;       /* elements per storage block (1 for plain floats, 32 for quants) */
    int block_bytes;       /* bytes per storage block */
    double unit_roundoff;  /* u = 2^-p of the storage format; for quants, of its fp16 scale */
    bool quantised;        /* block-quantised: no element-level strides */
} mc_dtype_info;

/* Static description of a dtype; never NULL for a valid dtype. */
const mc_dtype_info *mc_dtype_info_of(mc_dtype dt);
/* Name of a dtype ("f32"). */
const char *mc_dtype_name(mc_dtype dt);
/* Parses a dtype name; returns false when unknown. */
bool mc_dtype_parse(const char *name, mc_dtype *out);
/* Bytes of one element (plain floats only). */
int mc_dtype_elem_bytes(mc_dtype dt);

/* The Q8_0/Q4_0 block format (GGUF): a fp16 scale d, then 32 codes. */
#define MC_QK 32               /* elements per block */
#define MC_Q8_0_BLOCK_BYTES 34 /* fp16 d + 32 x int8 */
#define MC_Q4_0_BLOCK_BYTES 18 /* fp16 d + 16 x packed nibbles */

/* Dequantises n/32 blocks at in into n floats, as ggml's dequantize_row_*: q * fp16-to-f32(d)
 * in float arithmetic. */
void mc_dtype_dequantize_row_q8_0(const uint8_t *in, float *out, int64_t n);
void mc_dtype_dequantize_row_q4_0(const uint8_t *in, float *out, int64_t n);

/* Dequantises element j (0..31) of the block at blk (exact: the float product widened). */
double mc_dtype_dequant_q8_0_elem(const uint8_t *blk, int j);
double mc_dtype_dequant_q4_0_elem(const uint8_t *blk, int j);

#endif
