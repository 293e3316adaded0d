/* engine/ops/op_sdpa.c: the sdpa op: softmax(scale Q K^T + causal mask) V with grouped-query heads.
 * SPDX-License-Identifier: MIT */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "engine/ops/op_common.h"
#include "engine/runparams.h"
#include "reference/ref_sdpa.h"

enum {
    P_DTYPE, P_N_Q, P_N_KV, P_HEADS, P_KV_HEADS, P_HEAD_DIM, P_CAUSAL, P_Q_OFFSET, P_SCALE, P_LAYOUT,
    P_ALIGN, P_MAG, P_THREADS, P_KERNEL, P_COUNT
};

static const mc_param_def sdpa_params[P_COUNT] = {
    [P_DTYPE] = {"dtype", MC_PARAM_STR, "f32", "element type of q, k, v and o: f32|f16"},
    [P_N_Q] = {"n_q", MC_PARAM_INT, "1", "queries per head"},
    [P_N_KV] = {"n_kv", MC_PARAM_INT, "1", "keys (and values) per kv head"},
    [P_HEADS] = {"heads", MC_PARAM_INT, "1", "query heads"},
    [P_KV_HEADS] = {"kv_heads", MC_PARAM_INT, "1", "key/value heads; heads is a multiple (GQA)"},
    [P_HEAD_DIM] = {"head_dim", MC_PARAM_INT, "64", "dimension of each head"},
    [P_CAUSAL] = {"causal", MC_PARAM_INT, "0", "1: key j is visible to query i iff j <= i + q_offset"},
    [P_Q_OFFSET] = {"q_offset", MC_PARAM_INT, "0", "causal: position of query 0 among the keys (>= 0)"},
    [P_SCALE] = {"scale", MC_PARAM_NUM, "0", "score scale; 0 means 1/sqrt(head_dim)"},
    [P_LAYOUT] = {"layout", MC_PARAM_STR, "contiguous", "layout of q, k, v and o: contiguous|permuted|padded"},
    [P_ALIGN] = {"align", MC_PARAM_INT, "0", "byte offset of every tensor's data past an aligned base"},
    [P_MAG] = {"mag", MC_PARAM_NUM, "1", "inputs uniform in [-mag, mag]"},
    [P_THREADS] = MC_RUNPARAM_THREADS_ROW,
    [P_KERNEL] = MC_RUNPARAM_KERNEL_ROW,
};

enum { T_Q, T_K, T_V, T_O, T_COUNT };

static const unsigned sdpa_dtypes = MC_BIT(MC_DTYPE_F32) | MC_BIT(MC_DTYPE_F16);
static const unsigned sdpa_layouts = MC_BIT(MC_LAYOUT_CONTIGUOUS) | MC_BIT(MC_LAYOUT_PERMUTED) |
                                     MC_BIT(MC_LAYOUT_PADDED);

#define SDPA_MAX_DIM (INT64_C(1) << 20)
#define SDPA_MAX_HEAD_DIM (INT64_C(1) << 16)
/* Like softmax's: the bound's rescale budget (about 10 n u_acc) stays below 0.16. */
#define SDPA_MAX_KV (INT64_C(1) << 18)
/* Largest |scale| * head_dim * mag^2, the worst |score|: beyond it rows are one-hot and the
 * first-order terms of the analysis stop being small. */
#define SDPA_MAX_SCORE 1e4

static mc_dtype dtype_of(const mc_case *c)
{
    mc_dtype dt = MC_DTYPE_F32;
    mc_dtype_parse(mc_case_str(c, P_DTYPE), &dt);
    return dt;
}

/* The scale as the kernel receives it: a float, 1/sqrt(head_dim) when the parameter is 0. */
static float effective_scale(const mc_case *c)
{
    double s = mc_case_num(c, P_SCALE);
    return (float)(s != 0 ? s : 1.0 / sqrt((double)mc_case_int(c, P_HEAD_DIM)));
}

static mc_status check_heads_and_scale(const mc_case *c, mc_err *err)
{
    const int64_t heads = mc_case_int(c, P_HEADS), kv_heads = mc_case_int(c, P_KV_HEADS);
    if (heads % kv_heads != 0)
        return mc_err_set(err, MC_ERR_CONFIG,
                          "sdpa: parameter 'heads' (%lld) must be a multiple of 'kv_heads' (%lld)",
                          (long long)heads, (long long)kv_heads);
    mc_status st = mc_op_check_num(c, P_SCALE, -FLT_MAX, FLT_MAX, err);
    if (st)
        return st;
    const double mag = mc_case_num(c, P_MAG);
    const double worst = fabs((double)effective_scale(c)) * (double)mc_case_int(c, P_HEAD_DIM) * mag * mag;
    if (worst > SDPA_MAX_SCORE)
        return mc_err_set(err, MC_ERR_CONFIG,
                          "sdpa: |scale| * head_dim * mag^2 is %g; allowed: <= %g (beyond it rows are one-hot "
                          "and the fp32 error analysis does not hold)", worst, SDPA_MAX_SCORE);
    return MC_OK;
}

static mc_status sdpa_validate(const mc_case *c, mc_err *err)
{
    mc_dtype dt;
    mc_layout l;
    mc_status st = mc_op_check_dtype(c, P_DTYPE, sdpa_dtypes, &dt, err);
    if (!st)
        st = mc_op_check_int(c, P_N_Q, 1, SDPA_MAX_DIM, err);
    if (!st)
        st = mc_op_check_int(c, P_N_KV, 1, SDPA_MAX_KV, err);
    if (!st)
        st = mc_op_check_int(c, P_HEADS, 1, SDPA_MAX_DIM, err);
    if (!st)
        st = mc_op_check_int(c, P_KV_HEADS, 1, SDPA_MAX_DIM, err);
    if (!st)
        st = mc_op_check_int(c, P_HEAD_DIM, 1, SDPA_MAX_HEAD_DIM, err);
    if (!st)
        st = mc_op_check_int(c, P_CAUSAL, 0, 1, err);
    if (!st) /* >= 0: key 0 is visible to every query, so no row is fully masked */
        st = mc_op_check_int(c, P_Q_OFFSET, 0, SDPA_MAX_DIM, err);
    if (!st)
        st = mc_op_check_layout(c, P_LAYOUT, sdpa_layouts, &l, err);
    if (!st)
        st = mc_op_check_align_mag(c, P_ALIGN, P_MAG, dt, err);
    if (!st)
        st = check_heads_and_scale(c, err);
    if (!st)
        st = mc_runparams_check(c, err);
    return st;
}

static mc_status sdpa_tensors(const mc_case *c, mc_tensor_spec specs[MC_MAX_TENSORS], int *n, int *out_index,
                              mc_err *err)
{
    const mc_dtype dt = dtype_of(c);
    mc_layout l = MC_LAYOUT_CONTIGUOUS;
    mc_layout_parse(mc_case_str(c, P_LAYOUT), &l);
    const int64_t d = mc_case_int(c, P_HEAD_DIM), align = mc_case_int(c, P_ALIGN);
    const double mag = mc_case_num(c, P_MAG);
    const int64_t ne_q[MC_MAX_DIMS] = {d, mc_case_int(c, P_N_Q), mc_case_int(c, P_HEADS), 1};
    const int64_t ne_kv[MC_MAX_DIMS] = {d, mc_case_int(c, P_N_KV), mc_case_int(c, P_KV_HEADS), 1};
    *n = T_COUNT;
    *out_index = T_O;
    mc_status st = mc_op_spec(&specs[T_Q], "q", MC_ROLE_IN, dt, ne_q, l, align, mag, err);
    if (!st)
        st = mc_op_spec(&specs[T_K], "k", MC_ROLE_IN, dt, ne_kv, l, align, mag, err);
    if (!st)
        st = mc_op_spec(&specs[T_V], "v", MC_ROLE_IN, dt, ne_kv, l, align, mag, err);
    if (!st)
        st = mc_op_spec(&specs[T_O], "o", MC_ROLE_OUT, dt, ne_q, l, align, mag, err);
    return st;
}

static void sdpa_args(const mc_case *c, const mc_tensor placed[MC_MAX_TENSORS], mc_args *out)
{
    out->op = MC_OP_SDPA;
    mc_sdpa_args *s = &out->u.sdpa;
    s->q = placed[T_Q];
    s->k = placed[T_K];
    s->v = placed[T_V];
    s->o = placed[T_O];
    s->scale = effective_scale(c);
    s->causal = mc_case_int(c, P_CAUSAL) != 0;
    s->q_offset = mc_case_int(c, P_Q_OFFSET);
}

typedef struct sdpa_mags {
    double *pv, *pvs;
    mc_ref_sdpa_row *rows;
} sdpa_mags;

static mc_status fill_bounds(const mc_case *c, const mc_tensor *o, const sdpa_mags *g, mc_ref_out *out,
                             mc_err *err)
{
    const int64_t d = o->ne[0], n_out = mc_tensor_nelems(o);
    /* generated values are rounded to the dtype, so they may pass mag by a rounding: 2 mag is safe */
    const double v_max = 2 * mc_case_num(c, P_MAG);
    for (int64_t e = 0; e < n_out; e++) {
        const mc_ref_sdpa_row *row = &g->rows[e / d];
        out->bound[e] = mc_bound_sdpa(&mc_sdpa_bound_consts, d, row, out->expected[e], g->pv[e], g->pvs[e],
                                      v_max, o->dtype);
        if (!isfinite(out->bound[e]))
            return mc_err_set(err, MC_ERR_CONFIG,
                              "sdpa: query row %lld is too ill-conditioned for the fp32 error analysis "
                              "(max |score| bound %g over %lld keys)",
                              (long long)(e / d), row->s_mag_max, (long long)row->n);
    }
    return MC_OK;
}

static mc_status sdpa_reference(const mc_case *c, const mc_tensor_spec specs[MC_MAX_TENSORS],
                                const uint8_t *const hosts[MC_MAX_TENSORS], mc_ref_out *out, mc_err *err)
{
    const mc_tensor *o = &specs[T_O].t;
    const int64_t n_out = mc_tensor_nelems(o), n_rows = n_out / o->ne[0];
    const mc_ref_sdpa_in in = {
        .q = &specs[T_Q].t, .k = &specs[T_K].t, .v = &specs[T_V].t,
        .q_host = hosts[T_Q], .k_host = hosts[T_K], .v_host = hosts[T_V],
        .scale = effective_scale(c), /* the float the kernel receives */
        .causal = mc_case_int(c, P_CAUSAL) != 0, .q_offset = mc_case_int(c, P_Q_OFFSET),
    };
    sdpa_mags g = {
        .pv = malloc((size_t)n_out * sizeof(double)),
        .pvs = malloc((size_t)n_out * sizeof(double)),
        .rows = malloc((size_t)n_rows * sizeof(mc_ref_sdpa_row)),
    };
    mc_status st;
    if (!g.pv || !g.pvs || !g.rows)
        st = mc_err_set(err, MC_ERR_NOMEM, "sdpa reference: no memory for %lld elements", (long long)n_out);
    else
        st = mc_ref_sdpa(&in, out->expected, g.pv, g.pvs, g.rows, err);
    if (!st)
        st = fill_bounds(c, o, &g, out, err);
    free(g.pv);
    free(g.pvs);
    free(g.rows);
    return st;
}

/* Query/key pairs that are computed: all of them, or the visible ones under the causal mask. */
static double visible_pairs(const mc_case *c)
{
    const int64_t n_q = mc_case_int(c, P_N_Q), n_kv = mc_case_int(c, P_N_KV);
    if (!mc_case_int(c, P_CAUSAL))
        return (double)n_q * (double)n_kv;
    const int64_t q_offset = mc_case_int(c, P_Q_OFFSET);
    double pairs = 0;
    for (int64_t i = 0; i < n_q; i++) {
        int64_t n = i + q_offset + 1;
        pairs += (double)(n < n_kv ? n : n_kv);
    }
    return pairs;
}

/* Q K^T and P V: two multiply-adds per pair and dimension. The softmax is not counted. */
static double sdpa_flops(const mc_case *c)
{
    return 4.0 * visible_pairs(c) * (double)mc_case_int(c, P_HEAD_DIM) * (double)mc_case_int(c, P_HEADS);
}

static double sdpa_bytes(const mc_case *c)
{
    const double d = (double)mc_case_int(c, P_HEAD_DIM);
    const double q_elems = d * (double)mc_case_int(c, P_N_Q) * (double)mc_case_int(c, P_HEADS);
    const double kv_elems = d * (double)mc_case_int(c, P_N_KV) * (double)mc_case_int(c, P_KV_HEADS);
    return mc_op_elem_bytes(dtype_of(c), 2 * q_elems + 2 * kv_elems); /* q, o; k, v */
}

const mc_op mc_op_sdpa = {
    .id = MC_OP_SDPA,
    .name = "sdpa",
    .doc = "o = softmax(scale q k^T, causal mask) v per head, grouped-query kv heads",
    .params = sdpa_params,
    .n_params = P_COUNT,
    .validate = sdpa_validate,
    .tensors = sdpa_tensors,
    .args = sdpa_args,
    .reference = sdpa_reference,
    .flops = sdpa_flops,
    .bytes = sdpa_bytes,
    .mistrust_zero_share = 0.3,
    .perf_peer = "sdpa_three_stage",
    .roof = MC_ROOF_COMPUTE,
    .sweep_axes = {
        {"n_kv", {"q_offset"}, false, "n_kv (keys per head)"},
        {"n_q", {"q_offset"}, false, "n_q (queries per head)"},
    },
};
