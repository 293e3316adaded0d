/* engine/ops/op_softmax.c: the softmax op: row softmax of scale * x with a causal mask and -inf entries.
 * SPDX-License-Identifier: MIT */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "engine/ops/op_common.h"
#include "engine/runparams.h"
#include "reference/ref_softmax.h"

enum {
    P_DTYPE, P_ROWS, P_COLS, P_BATCH, P_SCALE, P_CAUSAL, P_Q_OFFSET, P_NEG_INF, P_LAYOUT,
    P_ALIGN, P_MAG, P_THREADS, P_KERNEL, P_COUNT
};

static const mc_param_def softmax_params[P_COUNT] = {
    [P_DTYPE] = {"dtype", MC_PARAM_STR, "f32", "element type of x and y: f32|f16|bf16"},
    [P_ROWS] = {"rows", MC_PARAM_INT, "1", "rows per batch"},
    [P_COLS] = {"cols", MC_PARAM_INT, "1", "row length (the softmax axis)"},
    [P_BATCH] = {"batch", MC_PARAM_INT, "1", "independent matrices"},
    [P_SCALE] = {"scale", MC_PARAM_NUM, "1", "y = softmax(scale * x)"},
    [P_CAUSAL] = {"causal", MC_PARAM_INT, "0", "1 masks column j of row i when j > i + q_offset"},
    [P_Q_OFFSET] = {"q_offset", MC_PARAM_INT, "0", "causal: position of row 0 among the columns (>= 0)"},
    [P_NEG_INF] = {"neg_inf", MC_PARAM_NUM, "0", "share of input entries set to -inf (never column 0)"},
    [P_LAYOUT] = {"layout", MC_PARAM_STR, "contiguous", "contiguous|transposed|padded|stride2|sliced"},
    [P_ALIGN] = {"align", MC_PARAM_INT, "0", "byte offset of every tensor's data past an aligned base"},
    [P_MAG] = {"mag", MC_PARAM_NUM, "1", "inputs uniform in [-mag, mag]"},
    [P_THREADS] = MC_RUNPARAM_THREADS_ROW,
    [P_KERNEL] = MC_RUNPARAM_KERNEL_ROW,
};

enum { T_X, T_Y, T_COUNT };

static const unsigned softmax_dtypes = MC_BIT(MC_DTYPE_F32) | MC_BIT(MC_DTYPE_F16) | MC_BIT(MC_DTYPE_BF16);
static const unsigned softmax_layouts = MC_BIT(MC_LAYOUT_CONTIGUOUS) | MC_BIT(MC_LAYOUT_TRANSPOSED) |
                                        MC_BIT(MC_LAYOUT_PADDED) | MC_BIT(MC_LAYOUT_STRIDE2) |
                                        MC_BIT(MC_LAYOUT_SLICED);

#define SOFTMAX_MAX_DIM (INT64_C(1) << 24)
/* The bound's rescale budget grows as about 10 n u_acc (every element may be a segment); at 2^18
 * columns that is 0.16, still inside the analysis (which needs it below 1/2). */
#define SOFTMAX_MAX_COLS (INT64_C(1) << 18)
/* Largest |scale| * mag: beyond it every row is one-hot in fp32 (exp(-2e4) underflows) and the
 * error analysis's first-order terms (about 3 u |t|) stop being small. Still far above the
 * logits (> 88.7) that overflow expf, so a kernel that forgets the max subtraction is caught. */
#define SOFTMAX_MAX_SCALED_MAG 1e4
/* Flops per element: scale, subtract, exp, add, divide (the max's compares are not counted). */
#define SOFTMAX_FLOPS_PER_ELEM 5.0

static mc_dtype dtype_of(const mc_case *c)
{
    mc_dtype dt = MC_DTYPE_F32;
    mc_dtype_parse(mc_case_str(c, P_DTYPE), &dt);
    return dt;
}

static mc_status check_scale(const mc_case *c, mc_err *err)
{
    const double scale = mc_case_num(c, P_SCALE), mag = mc_case_num(c, P_MAG);
    mc_status st = mc_op_check_num(c, P_SCALE, -FLT_MAX, FLT_MAX, err);
    if (st)
        return st;
    if (mc_case_num(c, P_NEG_INF) > 0 && !(scale > 0))
        return mc_err_set(err, MC_ERR_CONFIG,
                          "softmax: parameter 'scale' is %g; with neg_inf > 0 it must be > 0 (scale * -inf "
                          "must stay -inf)", scale);
    if (fabs(scale) * mag > SOFTMAX_MAX_SCALED_MAG)
        return mc_err_set(err, MC_ERR_CONFIG,
                          "softmax: |scale| * mag is %g; allowed: <= %g (beyond it rows are one-hot and the "
                          "fp32 error analysis does not hold)", fabs(scale) * mag, SOFTMAX_MAX_SCALED_MAG);
    return MC_OK;
}

static mc_status softmax_validate(const mc_case *c, mc_err *err)
{
    mc_dtype dt;
    mc_layout l;
    mc_status st = mc_op_check_dtype(c, P_DTYPE, softmax_dtypes, &dt, err);
    if (!st)
        st = mc_op_check_int(c, P_ROWS, 1, SOFTMAX_MAX_DIM, err);
    if (!st)
        st = mc_op_check_int(c, P_COLS, 1, SOFTMAX_MAX_COLS, err);
    if (!st)
        st = mc_op_check_int(c, P_BATCH, 1, SOFTMAX_MAX_DIM, err);
    if (!st)
        st = mc_op_check_int(c, P_CAUSAL, 0, 1, err);
    if (!st) /* >= 0: column 0 is never causally masked, so no row is fully masked */
        st = mc_op_check_int(c, P_Q_OFFSET, 0, SOFTMAX_MAX_DIM, err);
    if (!st)
        st = mc_op_check_num(c, P_NEG_INF, 0, 1, err);
    if (!st)
        st = mc_op_check_layout(c, P_LAYOUT, softmax_layouts, &l, err);
    if (!st)
        st = mc_op_check_align_mag(c, P_ALIGN, P_MAG, dt, err);
    if (!st)
        st = check_scale(c, err);
    if (!st)
        st = mc_runparams_check(c, err);
    return st;
}

static mc_status softmax_tensors(const mc_case *c, mc_tensor_spec specs[MC_MAX_TENSORS], int *n,
                                 int *out_index, mc_err *err)
{
    const mc_dtype dt = dtype_of(c);
    mc_layout l = MC_LAYOUT_CONTIGUOUS;
    mc_layout_parse(mc_case_str(c, P_LAYOUT), &l);
    const int64_t ne[MC_MAX_DIMS] = {mc_case_int(c, P_COLS), mc_case_int(c, P_ROWS), mc_case_int(c, P_BATCH), 1};
    const int64_t align = mc_case_int(c, P_ALIGN);
    const double mag = mc_case_num(c, P_MAG);
    *n = T_COUNT;
    *out_index = T_Y;
    mc_status st = mc_op_spec(&specs[T_X], "x", MC_ROLE_IN, dt, ne, l, align, mag, err);
    specs[T_X].neg_inf_share = mc_case_num(c, P_NEG_INF);
    if (!st)
        st = mc_op_spec(&specs[T_Y], "y", MC_ROLE_OUT, dt, ne, l, align, mag, err);
    return st;
}

static void softmax_args(const mc_case *c, const mc_tensor placed[MC_MAX_TENSORS], mc_args *out)
{
    out->op = MC_OP_SOFTMAX;
    mc_softmax_args *s = &out->u.softmax;
    s->x = placed[T_X];
    s->y = placed[T_Y];
    s->scale = (float)mc_case_num(c, P_SCALE);
    s->causal = mc_case_int(c, P_CAUSAL) != 0;
    s->q_offset = mc_case_int(c, P_Q_OFFSET);
}

/* Masked entries must come out exactly 0 (exp(-inf) is 0 in every format): bound 0. */
static mc_status fill_bounds(const mc_tensor *y, const double *t_abs, const mc_ref_softmax_row *rows,
                             mc_ref_out *out, mc_err *err)
{
    const int64_t cols = y->ne[0], n_out = mc_tensor_nelems(y);
    for (int64_t e = 0; e < n_out; e++) {
        const mc_ref_softmax_row *row = &rows[e / cols];
        out->bound[e] = t_abs[e] < 0 ? 0.0
                                     : mc_bound_softmax(&mc_softmax_bound_consts, row, out->expected[e],
                                                        t_abs[e], y->dtype);
        if (!isfinite(out->bound[e]))
            return mc_err_set(err, MC_ERR_CONFIG,
                              "softmax: row %lld is too ill-conditioned for the fp32 error analysis "
                              "(max |scale x| %g over %lld entries)",
                              (long long)(e / cols), row->t_max, (long long)row->n);
    }
    return MC_OK;
}

static mc_status softmax_reference(const mc_case *c, const mc_tensor_spec specs[MC_MAX_TENSORS],
                                   const uint8_t *const hosts[MC_MAX_TENSORS], mc_ref_out *out, mc_err *err)
{
    const mc_tensor *x = &specs[T_X].t;
    const int64_t n_out = mc_tensor_nelems(x), n_rows = n_out / x->ne[0];
    const mc_ref_softmax_in in = {
        .x = x, .x_host = hosts[T_X],
        .scale = (float)mc_case_num(c, P_SCALE), /* the float the kernel receives */
        .causal = mc_case_int(c, P_CAUSAL) != 0, .q_offset = mc_case_int(c, P_Q_OFFSET),
    };
    double *t_abs = malloc((size_t)n_out * sizeof *t_abs);
    mc_ref_softmax_row *rows = malloc((size_t)n_rows * sizeof *rows);
    mc_status st;
    if (!t_abs || !rows)
        st = mc_err_set(err, MC_ERR_NOMEM, "softmax reference: no memory for %lld elements", (long long)n_out);
    else
        st = mc_ref_softmax(&in, out->expected, t_abs, rows, err);
    if (!st)
        st = fill_bounds(&specs[T_Y].t, t_abs, rows, out, err);
    free(t_abs);
    free(rows);
    return st;
}

static double softmax_elems(const mc_case *c)
{
    return (double)mc_case_int(c, P_ROWS) * (double)mc_case_int(c, P_COLS) * (double)mc_case_int(c, P_BATCH);
}

static double softmax_flops(const mc_case *c)
{
    return SOFTMAX_FLOPS_PER_ELEM * softmax_elems(c);
}

static double softmax_bytes(const mc_case *c)
{
    return mc_op_elem_bytes(dtype_of(c), 2 * softmax_elems(c)); /* x read, y written */
}

const mc_op mc_op_softmax = {
    .id = MC_OP_SOFTMAX,
    .name = "softmax",
    .doc = "y = softmax(scale * x) along rows, causal mask and -inf entries give exact zeros",
    .params = softmax_params,
    .n_params = P_COUNT,
    .validate = softmax_validate,
    .tensors = softmax_tensors,
    .args = softmax_args,
    .reference = softmax_reference,
    .flops = softmax_flops,
    .bytes = softmax_bytes,
    .mistrust_zero_share = 0.3,
    .perf_peer = NULL,
    .roof = MC_ROOF_COPY_BW,
    .sweep_axes = {
        {"cols", {0}, false, "cols (row length)"},
        {"rows", {0}, false, "rows"},
    },
};
