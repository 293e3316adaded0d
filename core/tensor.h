/* core/tensor.h: strided tensor views (dtype, shape, byte strides, byte offset, buffer).
 * SPDX-License-Identifier: MIT */
#ifndef MC_TENSOR_H
#define MC_TENSOR_H

#include <stdbool.h>
#include <stdint.h>

#include "dtype.h"
#include "status.h"

#define MC_MAX_DIMS 4

typedef struct mc_buf mc_buf; /* a backend buffer; see backend.h */

/* A view: element (i0,i1,i2,i3) lives at byte offset + i0*nb[0] + i1*nb[1] + i2*nb[2] + i3*nb[3]
 * of its buffer. ne[0] is the innermost logical index (a row's length for a matrix), as in ggml.
 * For quantised dtypes nb[0] is the stride between 32-element blocks, and element i0 lives in
 * block i0/32. Strides may be 0 (broadcast) and need not be increasing (transposed views). */
typedef struct mc_tensor {
    mc_dtype dtype;
    int64_t ne[MC_MAX_DIMS]; /* elements per dim; unused dims are 1 */
    int64_t nb[MC_MAX_DIMS]; /* byte strides per dim */
    int64_t offset;          /* byte offset of element (0,0,0,0) from the buffer's start */
    mc_buf *buf;             /* device buffer; NULL for a view not yet placed */
} mc_tensor;

/* How a view is laid out over its buffer. Every one is zero-copy over the same logical tensor. */
typedef enum mc_layout {
    MC_LAYOUT_CONTIGUOUS, /* rows packed, dims packed */
    MC_LAYOUT_TRANSPOSED, /* dims 0 and 1 swapped in memory: column-major matrix, no copy */
    MC_LAYOUT_PADDED,     /* row stride longer than the row (13 spare elements) */
    MC_LAYOUT_STRIDE2,    /* innermost stride doubled: a gap after every element */
    MC_LAYOUT_BROADCAST,  /* contiguous matrix, stride 0 over the batch dims */
    MC_LAYOUT_SLICED,     /* a sub-view at row 1, column 3 of a larger parent */
    MC_LAYOUT_PERMUTED,   /* dims 1 and 2 swapped in memory (seq-major heads), no copy */
    MC_LAYOUT_COUNT
} mc_layout;

#define MC_LAYOUT_PAD_ELEMS 13 /* padded rows: an odd pad so rows never realign */

/* Name of a layout ("contiguous"). */
const char *mc_layout_name(mc_layout l);
/* Parses a layout name; false when unknown. */
bool mc_layout_parse(const char *name, mc_layout *out);

/* Fills t's strides and offset (relative to a buffer that starts at the parent's first byte)
 * for the logical shape ne in the given layout. Fails with MC_ERR_UNSUPPORTED for layouts a
 * quantised dtype cannot take. t->buf is left NULL. */
mc_status mc_tensor_init(mc_tensor *t, mc_dtype dt, const int64_t ne[MC_MAX_DIMS], mc_layout l,
                         mc_err *err);

/* Logical element count. */
int64_t mc_tensor_nelems(const mc_tensor *t);
/* Bytes from the buffer's start up to one past the last byte the view can touch. */
int64_t mc_tensor_span_bytes(const mc_tensor *t);
/* Byte offset (from the buffer's start) of the first byte of element idx. For quantised
 * dtypes, of the block that holds it. */
int64_t mc_tensor_elem_offset(const mc_tensor *t, const int64_t idx[MC_MAX_DIMS]);
/* True when rows are packed and dims follow each other with no gaps. */
bool mc_tensor_is_contiguous(const mc_tensor *t);
/* Bytes one element (or one block, for quants) occupies. */
int64_t mc_tensor_unit_bytes(const mc_tensor *t);

/* Advances a 4-d index with i0 fastest; false once it wraps past the end. */
bool mc_index_next(int64_t idx[MC_MAX_DIMS], const int64_t ne[MC_MAX_DIMS]);

/* Reads element idx of a view laid over host memory `base` (the buffer's first byte) as
 * a double. Quantised elements are dequantised with the reference dequantiser. */
double mc_tensor_get(const mc_tensor *t, const uint8_t *base, const int64_t idx[MC_MAX_DIMS]);
/* What an element's error is relative to: |value| for plain floats, |scale part| + |min part| of
 * a quantised element (core/quant_format.h). */
double mc_tensor_get_mag(const mc_tensor *t, const uint8_t *base, const int64_t idx[MC_MAX_DIMS]);
/* Writes v, rounded to the view's dtype (nearest even), at element idx. Plain floats only. */
void mc_tensor_set(const mc_tensor *t, uint8_t *base, const int64_t idx[MC_MAX_DIMS], double v);

#endif
