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
    MC_DTYPE_Q4_1,
    MC_DTYPE_Q5_0,
    MC_DTYPE_Q5_1,
    MC_DTYPE_Q2_K,
    MC_DTYPE_Q3_K,
    MC_DTYPE_Q4_K,
    MC_DTYPE_Q5_K,
    MC_DTYPE_Q6_K,
    MC_DTYPE_Q8_K, /* activations of the K-quant dots: float d, int8 qs[256], int16 bsums[16] */
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

/* GGUF block sizes (ggml-common.h); core/quant_format.h says how each block decodes. */
#define MC_QK 32                /* elements per block of the 32-element formats */
#define MC_QK_K 256             /* elements per super-block of the K-quants */
#define MC_Q8_0_BLOCK_BYTES 34  /* fp16 d, int8 qs[32] */
#define MC_Q4_0_BLOCK_BYTES 18  /* fp16 d, qs[16] nibbles */
#define MC_Q4_1_BLOCK_BYTES 20  /* fp16 d, fp16 m, qs[16] */
#define MC_Q5_0_BLOCK_BYTES 22  /* fp16 d, qh[4] (fifth bits, u32 LE), qs[16] */
#define MC_Q5_1_BLOCK_BYTES 24  /* fp16 d, fp16 m, qh[4], qs[16] */
#define MC_Q2_K_BLOCK_BYTES 84  /* scales[16] (4-bit scale | 4-bit min << 4), qs[64], fp16 d, fp16 dmin */
#define MC_Q3_K_BLOCK_BYTES 110 /* hmask[32], qs[64], scales[12] (6-bit), fp16 d */
#define MC_Q4_K_BLOCK_BYTES 144 /* fp16 d, fp16 dmin, scales[12] (6-bit scales and mins), qs[128] */
#define MC_Q5_K_BLOCK_BYTES 176 /* fp16 d, fp16 dmin, scales[12], qh[32], qs[128] */
#define MC_Q6_K_BLOCK_BYTES 210 /* ql[128], qh[64], int8 scales[16], fp16 d */
#define MC_Q8_K_BLOCK_BYTES 292 /* f32 d, int8 qs[256], int16 bsums[16] */

#endif
