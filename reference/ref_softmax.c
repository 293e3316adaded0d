/* reference/ref_softmax.c: plain fp64 row softmax over a strided view.
 * SPDX-License-Identifier: MIT */
#include "ref_softmax.h"

#include <math.h>

static bool is_masked(const mc_ref_softmax_in *in, int64_t row, int64_t col, double x)
{
    return x == -INFINITY || (in->causal && col > row + in->q_offset);
}

/* One row: values at e0, e0 + 1, ... of the outputs (logical order keeps a row together). */
static mc_status softmax_row(const mc_ref_softmax_in *in, const int64_t idx_row[MC_MAX_DIMS], double *y,
                             double *t_abs, mc_ref_softmax_row *row, mc_err *err)
{
    const int64_t cols = in->x->ne[0], i = idx_row[1];
    int64_t idx[MC_MAX_DIMS] = {0, idx_row[1], idx_row[2], idx_row[3]};
    double m = -INFINITY, lo = INFINITY, t_max = 0;
    int64_t n = 0;
    for (int64_t j = 0; j < cols; j++) { /* pass 1: t_j, the max, the span */
        idx[0] = j;
        double x = mc_tensor_get(in->x, in->x_host, idx);
        t_abs[j] = -1;
        y[j] = 0;
        if (is_masked(in, i, j, x))
            continue;
        double t = in->scale * x;
        y[j] = t; /* kept here until pass 2 */
        t_abs[j] = fabs(t);
        m = fmax(m, t);
        lo = fmin(lo, t);
        t_max = fmax(t_max, fabs(t));
        n++;
    }
    if (n == 0)
        return mc_err_set(err, MC_ERR_CONFIG, "softmax row %lld has every column masked", (long long)i);
    double sum = 0;
    for (int64_t j = 0; j < cols; j++)
        if (t_abs[j] >= 0)
            sum += exp(y[j] - m);
    double yt = 0;
    for (int64_t j = 0; j < cols; j++)
        if (t_abs[j] >= 0) {
            y[j] = exp(y[j] - m) / sum;
            yt += y[j] * t_abs[j];
        }
    *row = (mc_ref_softmax_row){.n = n, .max = m, .span = m - lo, .t_max = t_max, .yt_sum = yt};
    return MC_OK;
}

mc_status mc_ref_softmax(const mc_ref_softmax_in *in, double *y, double *t_abs, mc_ref_softmax_row *rows,
                         mc_err *err)
{
    const int64_t cols = in->x->ne[0];
    const int64_t row_ne[MC_MAX_DIMS] = {1, in->x->ne[1], in->x->ne[2], in->x->ne[3]};
    int64_t idx[MC_MAX_DIMS] = {0, 0, 0, 0};
    int64_t r = 0;
    do {
        mc_status st = softmax_row(in, idx, y + r * cols, t_abs + r * cols, &rows[r], err);
        if (st)
            return st;
        r++;
    } while (mc_index_next(idx, row_ne));
    return MC_OK;
}
