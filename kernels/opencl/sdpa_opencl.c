/* kernels/opencl/sdpa_opencl.c: the OpenCL attention variants (sdpa.cl): three stages through an
 * f32 score buffer, and the fused QK-softmax kernel that keeps a query's scores in __local.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "kernels/opencl/backend_opencl.h"

#define SDPA_TILE 16                                /* stage-1 and stage-3 tiles: 256 work-items */
#define SDPA_GROUP 128                              /* row kernels */
#define SDPA_MAX_KV 4096                            /* fused: 16 KiB of scores in __local */
#define SDPA_MAX_D 256                              /* fused: the query row in __local */
#define SDPA_MAX_SCORE_BYTES (256ull * 1024 * 1024) /* three-stage: largest score buffer it allocates */

static void sdpa_options(char *opts, const mc_sdpa_args *s)
{
    const bool bytewise = mc_opencl_needs_bytewise(&s->q) || mc_opencl_needs_bytewise(&s->k) ||
                          mc_opencl_needs_bytewise(&s->v) || mc_opencl_needs_bytewise(&s->o);
    mc_opencl_options_add(opts, "-DTILE=%d -DGROUP=%d -DMAX_KV=%d -DMAX_D=%d", SDPA_TILE, SDPA_GROUP, SDPA_MAX_KV,
                          SDPA_MAX_D);
    mc_opencl_options_add(opts, "-DDT_Q=%d -DDT_K=%d -DDT_V=%d -DDT_O=%d -DMC_BYTEWISE=%d",
                          mc_opencl_dtype_code(s->q.dtype), mc_opencl_dtype_code(s->k.dtype),
                          mc_opencl_dtype_code(s->v.dtype), mc_opencl_dtype_code(s->o.dtype), bytewise);
}

/* Query rows of all heads and batches: the number of score rows. */
static size_t sdpa_rows(const mc_sdpa_args *s)
{
    return (size_t)(s->q.ne[1] * s->q.ne[2] * s->q.ne[3]);
}

static mc_status sdpa_common_args(cl_kernel k, cl_uint *arg, const mc_sdpa_args *s, mc_err *err)
{
    cl_int causal = s->causal;
    cl_long q_offset = s->q_offset;
    mc_status st = mc_opencl_arg(k, arg, sizeof s->scale, &s->scale, err);
    if (!st)
        st = mc_opencl_arg(k, arg, sizeof causal, &causal, err);
    if (!st)
        st = mc_opencl_arg(k, arg, sizeof q_offset, &q_offset, err);
    return st;
}

static mc_status stage_scores(mc_kernel_ctx *kc, const mc_sdpa_args *s, const char *opts, cl_mem scores, mc_err *err)
{
    cl_kernel k;
    cl_uint arg = 0;
    mc_status st = mc_opencl_kernel(kc->backend, "sdpa", opts, "sdpa_scores", &k, err);
    if (!st)
        st = mc_opencl_check_group(kc->backend, k, SDPA_TILE * SDPA_TILE, err);
    if (!st)
        st = mc_opencl_arg_tensor(k, &arg, &s->q, err);
    if (!st)
        st = mc_opencl_arg_tensor(k, &arg, &s->k, err);
    if (!st)
        st = mc_opencl_arg(k, &arg, sizeof scores, &scores, err);
    if (!st)
        st = sdpa_common_args(k, &arg, s, err);
    if (st)
        return st;
    const size_t local[3] = {SDPA_TILE, SDPA_TILE, 1};
    const size_t global[3] = {mc_opencl_round_up((size_t)s->k.ne[1], SDPA_TILE),
                              mc_opencl_round_up((size_t)s->q.ne[1], SDPA_TILE), (size_t)(s->q.ne[2] * s->q.ne[3])};
    return mc_opencl_launch(kc->backend, k, 3, global, local, err);
}

static mc_status stage_softmax(mc_kernel_ctx *kc, const mc_sdpa_args *s, const char *opts, cl_mem scores, mc_err *err)
{
    cl_kernel k;
    cl_uint arg = 0;
    cl_long n_kv = s->k.ne[1];
    mc_status st = mc_opencl_kernel(kc->backend, "sdpa", opts, "sdpa_softmax", &k, err);
    if (!st)
        st = mc_opencl_check_group(kc->backend, k, SDPA_GROUP, err);
    if (!st)
        st = mc_opencl_arg(k, &arg, sizeof scores, &scores, err);
    if (!st)
        st = mc_opencl_arg(k, &arg, sizeof n_kv, &n_kv, err);
    if (st)
        return st;
    const size_t local = SDPA_GROUP, global = sdpa_rows(s) * SDPA_GROUP;
    return mc_opencl_launch(kc->backend, k, 1, &global, &local, err);
}

static mc_status stage_pv(mc_kernel_ctx *kc, const mc_sdpa_args *s, const char *opts, cl_mem scores, mc_err *err)
{
    cl_kernel k;
    cl_uint arg = 0;
    mc_status st = mc_opencl_kernel(kc->backend, "sdpa", opts, "sdpa_pv", &k, err);
    if (!st)
        st = mc_opencl_check_group(kc->backend, k, SDPA_TILE * SDPA_TILE, err);
    if (!st)
        st = mc_opencl_arg(k, &arg, sizeof scores, &scores, err);
    if (!st)
        st = mc_opencl_arg_tensor(k, &arg, &s->v, err);
    if (!st)
        st = mc_opencl_arg_tensor(k, &arg, &s->o, err);
    if (st)
        return st;
    const size_t local[3] = {SDPA_TILE, SDPA_TILE, 1};
    const size_t global[3] = {mc_opencl_round_up((size_t)s->o.ne[0], SDPA_TILE),
                              mc_opencl_round_up((size_t)s->o.ne[1], SDPA_TILE), (size_t)(s->o.ne[2] * s->o.ne[3])};
    return mc_opencl_launch(kc->backend, k, 3, global, local, err);
}

static size_t score_bytes(const mc_sdpa_args *s)
{
    return sdpa_rows(s) * (size_t)s->k.ne[1] * sizeof(float);
}

static bool sdpa_empty(const mc_sdpa_args *s)
{
    return !s->o.ne[0] || !sdpa_rows(s);
}

static mc_status sdpa_three_stage_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_sdpa_args *s = &args->u.sdpa;
    if (sdpa_empty(s))
        return MC_OK; /* an empty o: nothing to write (a zero-sized NDRange is invalid) */
    char opts[MC_OPENCL_OPTIONS_LEN] = "";
    sdpa_options(opts, s);
    cl_mem scores;
    mc_status st = mc_opencl_scratch(kc->backend, 0, score_bytes(s), &scores, err);
    if (!st && s->k.ne[1] > 0)
        st = stage_scores(kc, s, opts, scores, err);
    if (!st && s->k.ne[1] > 0)
        st = stage_softmax(kc, s, opts, scores, err);
    if (!st)
        st = stage_pv(kc, s, opts, scores, err);
    return st;
}

static mc_status sdpa_fused_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_sdpa_args *s = &args->u.sdpa;
    if (sdpa_empty(s))
        return MC_OK;
    char opts[MC_OPENCL_OPTIONS_LEN] = "";
    sdpa_options(opts, s);
    cl_kernel k;
    cl_uint arg = 0;
    mc_status st = mc_opencl_kernel(kc->backend, "sdpa", opts, "sdpa_fused", &k, err);
    if (!st)
        st = mc_opencl_check_group(kc->backend, k, SDPA_GROUP, err);
    if (!st)
        st = mc_opencl_arg_tensor(k, &arg, &s->q, err);
    if (!st)
        st = mc_opencl_arg_tensor(k, &arg, &s->k, err);
    if (!st)
        st = mc_opencl_arg_tensor(k, &arg, &s->v, err);
    if (!st)
        st = mc_opencl_arg_tensor(k, &arg, &s->o, err);
    if (!st)
        st = sdpa_common_args(k, &arg, s, err);
    if (st)
        return st;
    const size_t local[2] = {SDPA_GROUP, 1};
    const size_t global[2] = {(size_t)s->q.ne[1] * SDPA_GROUP, (size_t)(s->q.ne[2] * s->q.ne[3])};
    return mc_opencl_launch(kc->backend, k, 2, global, local, err);
}

static const char *sdpa_common_supports(const mc_sdpa_args *s)
{
    if (!mc_opencl_plain_float(s->q.dtype) || !mc_opencl_plain_float(s->k.dtype) ||
        !mc_opencl_plain_float(s->v.dtype) || !mc_opencl_plain_float(s->o.dtype))
        return "quantised q, k, v or o not supported";
    if (s->k.ne[2] < 1 || s->q.ne[2] % s->k.ne[2] != 0 || s->v.ne[2] != s->k.ne[2])
        return "heads must be a multiple of kv_heads (and v must have k's heads)";
    if (s->q.ne[0] != s->k.ne[0] || s->v.ne[1] != s->k.ne[1] || s->o.ne[0] != s->v.ne[0])
        return "q, k, v, o shapes disagree";
    if ((s->k.ne[3] != 1 && s->k.ne[3] != s->q.ne[3]) || (s->v.ne[3] != 1 && s->v.ne[3] != s->q.ne[3]))
        return "batch of k and v must equal q's or be 1";
    return NULL;
}

static const char *sdpa_three_stage_supports(const mc_args *args)
{
    const mc_sdpa_args *s = &args->u.sdpa;
    const char *why = sdpa_common_supports(s);
    if (!why && score_bytes(s) > SDPA_MAX_SCORE_BYTES)
        why = "the score buffer (heads x n_q x n_kv floats) would exceed 256 MiB";
    return why;
}

static const char *sdpa_fused_supports(const mc_args *args)
{
    const mc_sdpa_args *s = &args->u.sdpa;
    const char *why = sdpa_common_supports(s);
    if (!why && s->k.ne[1] > SDPA_MAX_KV)
        why = "fused QK-softmax keeps a query's scores in __local: n_kv must be at most 4096";
    if (!why && s->q.ne[0] > SDPA_MAX_D)
        why = "fused QK-softmax keeps the query row in __local: d must be at most 256";
    return why;
}

static const char *sdpa_probe(mc_backend_ctx *ctx)
{
    const mc_opencl_device_info *d = mc_opencl_device(ctx);
    if (d->max_wg < SDPA_TILE * SDPA_TILE)
        return "device work-groups hold fewer than 256 work-items";
    if (d->local_bytes < (SDPA_MAX_KV + SDPA_MAX_D + SDPA_GROUP) * sizeof(float))
        return "device __local memory below 17.5 KiB";
    return NULL;
}

#define SDPA_CANONICAL "-DTILE=16 -DGROUP=128 -DMAX_KV=4096 -DMAX_D=256 -DDT_Q=0 -DDT_K=0 -DDT_V=0 -DDT_O=0 -DMC_BYTEWISE=0"

/* Both variants build the same program (sdpa.cl holds all four kernels), so they share its hash. */
const mc_opencl_program_def mc_opencl_program_sdpa_three_stage = {
    .program = "sdpa_opencl_three_stage",
    .source = "sdpa",
    .options = SDPA_CANONICAL,
};

const mc_opencl_program_def mc_opencl_program_sdpa_fused = {
    .program = "sdpa_opencl_fused_qk_softmax",
    .source = "sdpa",
    .options = SDPA_CANONICAL,
};

const mc_variant mc_variant_sdpa_opencl_three_stage = {
    .op = MC_OP_SDPA,
    .backend = "opencl",
    .name = "sdpa_opencl_three_stage",
    .probe = sdpa_probe,
    .supports = sdpa_three_stage_supports,
    .run = sdpa_three_stage_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)sdpa_three_stage_run,
};

const mc_variant mc_variant_sdpa_opencl_fused_qk_softmax = {
    .op = MC_OP_SDPA,
    .backend = "opencl",
    .name = "sdpa_opencl_fused_qk_softmax",
    .probe = sdpa_probe,
    .supports = sdpa_fused_supports,
    .run = sdpa_fused_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)sdpa_fused_run,
};
