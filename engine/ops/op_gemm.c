/* engine/ops/op_gemm.c: the gemm op: C = alpha A B + beta C + bias, batched, over strided views.
 * SPDX-License-Identifier: MIT */
#include <float.h>
#include <stdlib.h>

#include "engine/ops/op_common.h"
#include "engine/runparams.h"
#include "reference/ref_gemm.h"

enum {
    P_DTYPE, P_M, P_N, P_K, P_BATCH, P_LAYOUT_A, P_LAYOUT_B, P_LAYOUT_C,
    P_ALIGN, P_ALPHA, P_BETA, P_BIAS, P_MAG, P_THREADS, P_KERNEL, P_COUNT
};

static const mc_param_def gemm_params[P_COUNT] = {
    [P_DTYPE] = {"dtype", MC_PARAM_STR, "f32", "element type of A, B, C and bias: f32|f16|bf16"},
    [P_M] = {"m", MC_PARAM_INT, "1", "rows of A and C"},
    [P_N] = {"n", MC_PARAM_INT, "1", "columns of B and C"},
    [P_K] = {"k", MC_PARAM_INT, "1", "columns of A, rows of B (the dot length)"},
    [P_BATCH] = {"batch", MC_PARAM_INT, "1", "independent products"},
    [P_LAYOUT_A] = {"layout_a", MC_PARAM_STR, "contiguous",
                    "contiguous|transposed|padded|stride2|broadcast|sliced"},
    [P_LAYOUT_B] = {"layout_b", MC_PARAM_STR, "contiguous",
                    "contiguous|transposed|padded|stride2|broadcast|sliced"},
    [P_LAYOUT_C] = {"layout_c", MC_PARAM_STR, "contiguous", "contiguous|transposed|padded|stride2|sliced"},
    [P_ALIGN] = {"align", MC_PARAM_INT, "0", "byte offset of every tensor's data past an aligned base"},
    [P_ALPHA] = {"alpha", MC_PARAM_NUM, "1", "scale of A B"},
    [P_BETA] = {"beta", MC_PARAM_NUM, "0", "scale of the old C (0: C is not read)"},
    [P_BIAS] = {"bias", MC_PARAM_INT, "0", "1 adds a bias row of n"},
    [P_MAG] = {"mag", MC_PARAM_NUM, "1", "inputs uniform in [-mag, mag]"},
    [P_THREADS] = MC_RUNPARAM_THREADS_ROW,
    [P_KERNEL] = MC_RUNPARAM_KERNEL_ROW,
};

enum { T_A, T_B, T_C, T_BIAS, T_COUNT };

static const unsigned gemm_dtypes = MC_BIT(MC_DTYPE_F32) | MC_BIT(MC_DTYPE_F16) | MC_BIT(MC_DTYPE_BF16);
static const unsigned input_layouts = MC_BIT(MC_LAYOUT_CONTIGUOUS) | MC_BIT(MC_LAYOUT_TRANSPOSED) |
                                      MC_BIT(MC_LAYOUT_PADDED) | MC_BIT(MC_LAYOUT_STRIDE2) |
                                      MC_BIT(MC_LAYOUT_BROADCAST) | MC_BIT(MC_LAYOUT_SLICED);
/* C is written: a broadcast C would have batches overwrite each other. */
static const unsigned output_layouts = MC_BIT(MC_LAYOUT_CONTIGUOUS) | MC_BIT(MC_LAYOUT_TRANSPOSED) |
                                       MC_BIT(MC_LAYOUT_PADDED) | MC_BIT(MC_LAYOUT_STRIDE2) |
                                       MC_BIT(MC_LAYOUT_SLICED);

#define GEMM_MAX_DIM (INT64_C(1) << 24)
#define GEMM_MAX_K (INT64_C(1) << 22) /* keeps (k + 3) u_acc below 1/4: gamma stays meaningful */

static mc_status gemm_validate(const mc_case *c, mc_err *err)
{
    mc_dtype dt;
    mc_layout l;
    mc_status st = mc_op_check_dtype(c, P_DTYPE, gemm_dtypes, &dt, err);
    if (!st)
        st = mc_op_check_int(c, P_M, 1, GEMM_MAX_DIM, err);
    if (!st)
        st = mc_op_check_int(c, P_N, 1, GEMM_MAX_DIM, err);
    if (!st)
        st = mc_op_check_int(c, P_K, 1, GEMM_MAX_K, err);
    if (!st)
        st = mc_op_check_int(c, P_BATCH, 1, GEMM_MAX_DIM, err);
    if (!st)
        st = mc_op_check_layout(c, P_LAYOUT_A, input_layouts, &l, err);
    if (!st)
        st = mc_op_check_layout(c, P_LAYOUT_B, input_layouts, &l, err);
    if (!st)
        st = mc_op_check_layout(c, P_LAYOUT_C, output_layouts, &l, err);
    if (!st)
        st = mc_op_check_align_mag(c, P_ALIGN, P_MAG, dt, err);
    if (!st) /* the kernel gets them as float */
        st = mc_op_check_num(c, P_ALPHA, -FLT_MAX, FLT_MAX, err);
    if (!st)
        st = mc_op_check_num(c, P_BETA, -FLT_MAX, FLT_MAX, err);
    if (!st)
        st = mc_op_check_int(c, P_BIAS, 0, 1, err);
    if (!st)
        st = mc_runparams_check(c, err);
    return st;
}

static mc_layout layout_of(const mc_case *c, int idx)
{
    mc_layout l = MC_LAYOUT_CONTIGUOUS;
    mc_layout_parse(mc_case_str(c, idx), &l);
    return l;
}

static mc_dtype dtype_of(const mc_case *c)
{
    mc_dtype dt = MC_DTYPE_F32;
    mc_dtype_parse(mc_case_str(c, P_DTYPE), &dt);
    return dt;
}

static mc_status gemm_tensors(const mc_case *c, mc_tensor_spec specs[MC_MAX_TENSORS], int *n, int *out_index,
                              mc_err *err)
{
    const mc_dtype dt = dtype_of(c);
    const int64_t m = mc_case_int(c, P_M), nn = mc_case_int(c, P_N), k = mc_case_int(c, P_K);
    const int64_t batch = mc_case_int(c, P_BATCH), align = mc_case_int(c, P_ALIGN);
    const double mag = mc_case_num(c, P_MAG);
    const mc_role c_role = mc_case_num(c, P_BETA) == 0 ? MC_ROLE_OUT : MC_ROLE_INOUT;
    const int64_t ne_a[MC_MAX_DIMS] = {k, m, batch, 1}, ne_b[MC_MAX_DIMS] = {nn, k, batch, 1};
    const int64_t ne_c[MC_MAX_DIMS] = {nn, m, batch, 1}, ne_bias[MC_MAX_DIMS] = {nn, 1, 1, 1};
    mc_status st = mc_op_spec(&specs[T_A], "a", MC_ROLE_IN, dt, ne_a, layout_of(c, P_LAYOUT_A), align, mag, err);
    if (!st)
        st = mc_op_spec(&specs[T_B], "b", MC_ROLE_IN, dt, ne_b, layout_of(c, P_LAYOUT_B), align, mag, err);
    if (!st)
        st = mc_op_spec(&specs[T_C], "c", c_role, dt, ne_c, layout_of(c, P_LAYOUT_C), align, mag, err);
    if (!st)
        st = mc_op_spec(&specs[T_BIAS], "bias", MC_ROLE_IN, dt, ne_bias, MC_LAYOUT_CONTIGUOUS, align, mag, err);
    specs[T_BIAS].absent = mc_case_int(c, P_BIAS) == 0;
    *n = T_COUNT;
    *out_index = T_C;
    return st;
}

static void gemm_args(const mc_case *c, const mc_tensor placed[MC_MAX_TENSORS], mc_args *out)
{
    out->op = MC_OP_GEMM;
    mc_gemm_args *g = &out->u.gemm;
    g->a = placed[T_A];
    g->b = placed[T_B];
    g->c = placed[T_C];
    g->bias = placed[T_BIAS];
    g->alpha = (float)mc_case_num(c, P_ALPHA);
    g->beta = (float)mc_case_num(c, P_BETA);
    g->has_bias = mc_case_int(c, P_BIAS) != 0;
}

static mc_status gemm_reference(const mc_case *c, const mc_tensor_spec specs[MC_MAX_TENSORS],
                                const uint8_t *const hosts[MC_MAX_TENSORS], mc_ref_out *out, mc_err *err)
{
    const mc_ref_gemm_in in = {
        .a = &specs[T_A].t, .b = &specs[T_B].t,
        .c = mc_case_num(c, P_BETA) != 0 ? &specs[T_C].t : NULL,
        .bias = mc_case_int(c, P_BIAS) ? &specs[T_BIAS].t : NULL,
        .a_host = hosts[T_A], .b_host = hosts[T_B], .c_host = hosts[T_C], .bias_host = hosts[T_BIAS],
        /* the floats the kernel receives (model point 2) */
        .alpha = (float)mc_case_num(c, P_ALPHA), .beta = (float)mc_case_num(c, P_BETA),
        .m = mc_case_int(c, P_M), .n = mc_case_int(c, P_N), .k = mc_case_int(c, P_K),
        .batch = mc_case_int(c, P_BATCH),
    };
    const int64_t n_out = in.m * in.n * in.batch;
    double *mag = malloc((size_t)n_out * sizeof *mag);
    if (!mag)
        return mc_err_set(err, MC_ERR_NOMEM, "gemm reference: no memory for %lld magnitudes", (long long)n_out);
    mc_status st = mc_ref_gemm(&in, MC_REF_GEMM_AUTO, out->expected, mag, err);
    const mc_dtype dt = specs[T_C].t.dtype;
    for (int64_t e = 0; !st && e < n_out; e++)
        out->bound[e] = mc_bound_dot(&mc_gemm_bound_consts, in.k, mag[e], out->expected[e], dt);
    free(mag);
    return st;
}

static double gemm_flops(const mc_case *c)
{
    return 2.0 * (double)mc_case_int(c, P_M) * (double)mc_case_int(c, P_N) * (double)mc_case_int(c, P_K) *
           (double)mc_case_int(c, P_BATCH);
}

/* Bytes a kernel must move at least: each stored element once (a broadcast operand is stored for
 * one batch), C written once and read once more when beta != 0. */
static double gemm_bytes(const mc_case *c)
{
    const mc_dtype dt = dtype_of(c);
    const double m = (double)mc_case_int(c, P_M), n = (double)mc_case_int(c, P_N);
    const double k = (double)mc_case_int(c, P_K), batch = (double)mc_case_int(c, P_BATCH);
    const double batch_a = layout_of(c, P_LAYOUT_A) == MC_LAYOUT_BROADCAST ? 1 : batch;
    const double batch_b = layout_of(c, P_LAYOUT_B) == MC_LAYOUT_BROADCAST ? 1 : batch;
    const double c_passes = mc_case_num(c, P_BETA) != 0 ? 2 : 1;
    double elems = m * k * batch_a + k * n * batch_b + c_passes * m * n * batch;
    if (mc_case_int(c, P_BIAS))
        elems += n;
    return mc_op_elem_bytes(dt, elems);
}

const mc_op mc_op_gemm = {
    .id = MC_OP_GEMM,
    .name = "gemm",
    .doc = "C[b] = alpha A[b] B[b] + beta C[b] + bias, A m x k, B k x n, over strided views",
    .params = gemm_params,
    .n_params = P_COUNT,
    .validate = gemm_validate,
    .tensors = gemm_tensors,
    .args = gemm_args,
    .reference = gemm_reference,
    .flops = gemm_flops,
    .bytes = gemm_bytes,
    .mistrust_zero_share = 0.3,
    .perf_peer = "gemm_openblas_sgemm",
    .roof = MC_ROOF_COMPUTE,
    .sweep_axes = {
        {"m", {"n", "k"}, true, "size (m = n = k)"},
        {"m", {0}, false, "m"},
        {"n", {0}, false, "n"},
        {"k", {0}, false, "k"},
    },
};
