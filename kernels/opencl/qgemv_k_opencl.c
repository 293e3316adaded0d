/* kernels/opencl/qgemv_k_opencl.c: the OpenCL GEMV variants for q4_K and q6_K A (qgemv_k.cl):
 * dequantising, with x used as it is (xq, the licence to quantise x first, is not taken).
 * SPDX-License-Identifier: MIT */
#include "kernels/opencl/qgemv_k_opencl.h"

#define QGEMV_K_GROUP 256           /* work-items per work-group: QGEMV_K_GROUP / lanes rows each */
#define QGEMV_K_LANES_MIN 8         /* a super-block's eight 32-element groups */
#define QGEMV_K_LANES_MAX 256
#define QGEMV_K_THREADS_PER_CU 2048 /* work-items a GPU compute unit keeps resident */

/* Work-items per row: more while the device is not yet full and each lane keeps a group. */
static int qgemv_k_lanes(mc_backend_ctx *ctx, const mc_gemv_args *g)
{
    const int64_t m = g->a.ne[1], groups = g->a.ne[0] / 32;
    const int64_t want = (int64_t)mc_opencl_device(ctx)->compute_units * QGEMV_K_THREADS_PER_CU;
    int lanes = QGEMV_K_LANES_MIN;
    while (lanes < QGEMV_K_LANES_MAX && m * lanes < want && 2 * lanes <= groups)
        lanes *= 2;
    return lanes;
}

mc_status mc_opencl_qgemv_k_launch(mc_kernel_ctx *kc, const mc_gemv_args *g, int mutant, mc_err *err)
{
    const size_t m = (size_t)g->a.ne[1];
    if (!m)
        return MC_OK; /* an empty y: nothing to write (a zero-sized NDRange is invalid) */
    const int lanes = qgemv_k_lanes(kc->backend, g);
    const size_t rows = (size_t)(QGEMV_K_GROUP / lanes);
    const bool bytewise = mc_opencl_needs_bytewise(&g->x) || mc_opencl_needs_bytewise(&g->y);
    char opts[MC_OPENCL_OPTIONS_LEN] = "";
    mc_opencl_options_add(opts, "-DLANES=%d -DROWS=%d -DQUANT=%d -DMUTANT=%d", lanes, (int)rows,
                          g->a.dtype == MC_DTYPE_Q4_K ? 40 : 60, mutant);
    mc_opencl_options_add(opts, "-DDT_X=%d -DDT_Y=%d -DMC_BYTEWISE=%d", mc_opencl_dtype_code(g->x.dtype),
                          mc_opencl_dtype_code(g->y.dtype), bytewise);
    cl_kernel k;
    cl_uint arg = 0;
    mc_status st = mc_opencl_kernel(kc->backend, "qgemv_k", opts, "qgemv_k", &k, err);
    if (!st)
        st = mc_opencl_check_group(kc->backend, k, QGEMV_K_GROUP, err);
    if (!st)
        st = mc_opencl_arg_tensor(k, &arg, &g->a, err);
    if (!st)
        st = mc_opencl_arg_tensor(k, &arg, &g->x, err);
    if (!st)
        st = mc_opencl_arg_tensor(k, &arg, &g->y, err);
    if (st)
        return st;
    const size_t local = QGEMV_K_GROUP;
    const size_t global = (m + rows - 1) / rows * local;
    return mc_opencl_launch(kc->backend, k, 1, &global, &local, err);
}

static const char *qgemv_k_supports(const mc_gemv_args *g, mc_dtype want)
{
    if (g->a.dtype != want)
        return want == MC_DTYPE_Q4_K ? "A is not q4_K" : "A is not q6_K";
    if (g->a.ne[0] % 256 != 0)
        return "k is not a multiple of the 256-element super-block";
    if (!mc_opencl_plain_float(g->x.dtype) || !mc_opencl_plain_float(g->y.dtype))
        return "quantised x or y not supported";
    if (g->xq_exact) /* the exact reference uses q8_K activations; this dot uses x itself */
        return "computes with x itself, not with q8_K activations: cannot meet xq_exact";
    return NULL;
}

static mc_status qgemv_k_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_opencl_qgemv_k_launch(kc, &args->u.gemv, 0, err);
}

static const char *qgemv_q4_K_supports(const mc_args *args)
{
    return qgemv_k_supports(&args->u.gemv, MC_DTYPE_Q4_K);
}

static const char *qgemv_q6_K_supports(const mc_args *args)
{
    return qgemv_k_supports(&args->u.gemv, MC_DTYPE_Q6_K);
}

static const char *qgemv_k_probe(mc_backend_ctx *ctx)
{
    if (mc_opencl_device(ctx)->max_wg < QGEMV_K_GROUP)
        return "device work-groups hold fewer than 256 work-items";
    return NULL;
}

const mc_opencl_program_def mc_opencl_program_gemv_q4_K = {
    .program = "gemv_q4_K_opencl",
    .source = "qgemv_k",
    .options = "-DLANES=8 -DROWS=32 -DQUANT=40 -DMUTANT=0 -DDT_X=0 -DDT_Y=0 -DMC_BYTEWISE=0",
};

const mc_opencl_program_def mc_opencl_program_gemv_q6_K = {
    .program = "gemv_q6_K_opencl",
    .source = "qgemv_k",
    .options = "-DLANES=8 -DROWS=32 -DQUANT=60 -DMUTANT=0 -DDT_X=0 -DDT_Y=0 -DMC_BYTEWISE=0",
};

const mc_variant mc_variant_gemv_q4_K_opencl = {
    .op = MC_OP_GEMV,
    .backend = "opencl",
    .name = "gemv_q4_K_opencl",
    .probe = qgemv_k_probe,
    .supports = qgemv_q4_K_supports,
    .run = qgemv_k_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)mc_opencl_qgemv_k_launch,
};

const mc_variant mc_variant_gemv_q6_K_opencl = {
    .op = MC_OP_GEMV,
    .backend = "opencl",
    .name = "gemv_q6_K_opencl",
    .probe = qgemv_k_probe,
    .supports = qgemv_q6_K_supports,
    .run = qgemv_k_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)mc_opencl_qgemv_k_launch,
};
