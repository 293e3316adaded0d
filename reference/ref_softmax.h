/* reference/ref_softmax.h: fp64 reference for row softmax with scale, causal mask and -inf entries.
 * SPDX-License-Identifier: MIT */
#ifndef MC_REF_SOFTMAX_H
#define MC_REF_SOFTMAX_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "core/tensor.h"

/* What the error bound needs of one row, over its visible (unmasked) entries, t_j = scale x_j. */
typedef struct mc_ref_softmax_row {
    int64_t n;     /* visible entries (>= 1) */
    double max;    /* m = max_j t_j */
    double span;   /* m - min_j t_j */
    double t_max;  /* max_j |t_j| */
    double yt_sum; /* sum_j y_j |t_j| */
} mc_ref_softmax_row;

/* x: ne = {cols, rows, batch}. Column j of row i is masked when x is -inf there, or when causal
 * and j > i + q_offset. */
typedef struct mc_ref_softmax_in {
    const mc_tensor *x;
    const uint8_t *x_host; /* the buffer's first byte */
    double scale;
    bool causal;
    int64_t q_offset;
} mc_ref_softmax_in;

/* y[e] = softmax of the row (exactly 0 where masked), e in x's logical order (i0 fastest);
 * t_abs[e] = |t_j|, or -1 where masked; rows[r] for row r = i1 + ne1 * (i2 + ne2 * i3).
 * Fails with MC_ERR_CONFIG when a row has no visible entry. */
mc_status mc_ref_softmax(const mc_ref_softmax_in *in, double *y, double *t_abs, mc_ref_softmax_row *rows,
                         mc_err *err);

#endif
