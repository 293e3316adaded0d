/* tests/fake/op_fake.c: a fake op row ("fake": y = 2 x), built only with -DMC_FAKE_SEAMS=ON, to show
 * that an op is its record plus one MC_OPS entry: selection, list, perf table and report follow.
 * SPDX-License-Identifier: MIT */
#include "engine/ops/op_common.h"
#include "engine/runparams.h"

enum { P_N, P_THREADS, P_KERNEL, P_COUNT };

static const mc_param_def fake_params[] = {
    [P_N] = {"n", MC_PARAM_INT, "1", "elements"},
    [P_THREADS] = MC_RUNPARAM_THREADS_ROW,
    [P_KERNEL] = MC_RUNPARAM_KERNEL_ROW,
};
_Static_assert(sizeof fake_params / sizeof fake_params[0] == P_COUNT, "one row per parameter");

enum { T_X, T_Y, T_COUNT };

static mc_status fake_validate(const mc_case *c, mc_err *err)
{
    mc_status st = mc_op_check_int(c, P_N, 1, 1 << 20, err);
    return st ? st : mc_runparams_check(c, err);
}

static mc_status fake_tensors(const mc_case *c, mc_tensor_spec specs[MC_MAX_TENSORS], int *n, int *out_index,
                              mc_err *err)
{
    const int64_t ne[MC_MAX_DIMS] = {mc_case_int(c, P_N), 1, 1, 1};
    *n = T_COUNT;
    *out_index = T_Y;
    mc_status st = mc_op_spec(&specs[T_X], "x", MC_ROLE_IN, MC_DTYPE_F32, ne, MC_LAYOUT_CONTIGUOUS, 0, 1.0, err);
    if (!st)
        st = mc_op_spec(&specs[T_Y], "y", MC_ROLE_OUT, MC_DTYPE_F32, ne, MC_LAYOUT_CONTIGUOUS, 0, 1.0, err);
    return st;
}

static void fake_args(const mc_case *c, const mc_tensor placed[MC_MAX_TENSORS], mc_args *out)
{
    out->op = MC_OP_FAKE;
    out->u.softmax.x = placed[T_X]; /* two tensors, as softmax has: its argument struct serves */
    out->u.softmax.y = placed[T_Y];
}

/* 2 x is exact in f32: bound 0. */
static mc_status fake_reference(const mc_case *c, const mc_tensor_spec specs[MC_MAX_TENSORS],
                                const uint8_t *const hosts[MC_MAX_TENSORS], mc_ref_out *out, mc_err *err)
{
    int64_t idx[MC_MAX_DIMS] = {0};
    int64_t e = 0;
    do {
        out->expected[e] = 2.0 * mc_tensor_get(&specs[T_X].t, hosts[T_X], idx);
        out->bound[e++] = 0.0;
    } while (mc_index_next(idx, specs[T_X].t.ne));
    return MC_OK;
}

static double fake_flops(const mc_case *c)
{
    return (double)mc_case_int(c, P_N);
}

static double fake_bytes(const mc_case *c)
{
    return 8.0 * (double)mc_case_int(c, P_N);
}

const mc_op mc_op_fake = {
    .id = MC_OP_FAKE,
    .name = "fake",
    .doc = "y = 2 x (the fake op of the seam test)",
    .params = fake_params,
    .n_params = P_COUNT,
    .validate = fake_validate,
    .tensors = fake_tensors,
    .args = fake_args,
    .reference = fake_reference,
    .flops = fake_flops,
    .bytes = fake_bytes,
    .mistrust_zero_share = 0.3,
    .perf_peer = NULL,
    .roof = MC_ROOF_COPY_BW,
    .sweep_axes = {{"n", {0}, false, "n (elements)"}},
};
