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

#endif
