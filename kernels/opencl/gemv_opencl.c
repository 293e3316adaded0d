/* kernels/opencl/gemv_opencl.c: the OpenCL GEMV variants (gemv.cl): plain A with work-group
 * reductions and half4/float4 loads where alignment allows, and the dequantising q8_0 and q4_0 GEMVs.
 * x is used as it is (xq, the licence to quantise x first, is not taken).
 * SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "kernels/opencl/backend_opencl.h"

#define GEMV_GROUP 256          /* work-items per work-group: GEMV_GROUP / lanes rows each */
#define GEMV_LANES_MIN 32       /* a warp-sized team per row at least: its reads of a row coalesce */
#define GEMV_LANES_MAX 256
#define GEMV_THREADS_PER_CU 2048 /* work-items a GPU compute unit keeps resident (an NVIDIA SM's 2048) */
#define GEMV_QBLOCK 32

/* Work-items per row. Bandwidth needs many loads in flight, so few rows get more lanes each until
 * the device is full (compute units x GEMV_THREADS_PER_CU work-items), as long as each lane still
 * has a vector step (4 elements) or a block of the row to itself. On the H100, 32 lanes left
 * m = 2048 rows at a quarter of the SMs' work-items and 58% of copy bandwidth. */
static int gemv_lanes(mc_backend_ctx *ctx, const mc_gemv_args *g, int quant)
{
    const int64_t m = g->a.ne[1], steps = quant ? g->a.ne[0] / GEMV_QBLOCK : (g->a.ne[0] + 3) / 4;
    const int64_t want = (int64_t)mc_opencl_device(ctx)->compute_units * GEMV_THREADS_PER_CU;
    int lanes = GEMV_LANES_MIN;
    while (lanes < GEMV_LANES_MAX && m * lanes < want && 2 * lanes <= steps)
        lanes *= 2;
    return lanes;
}

/* True when lanes may read A four elements at a time: rows contiguous and each row's first
 * element at a multiple of 4 elements (8 bytes for f16, 16 for f32). */
static bool gemv_a_vector_ok(const mc_tensor *a)
{
    const int64_t es = mc_tensor_unit_bytes(a);
    return a->nb[0] == es && a->offset % (4 * es) == 0 && (a->ne[1] == 1 || a->nb[1] % (4 * es) == 0);
}

static bool gemv_x_vector_ok(const mc_tensor *x)
{
    const int64_t es = mc_tensor_unit_bytes(x);
    return (x->nb[0] == es || x->ne[0] == 1) && x->offset % (4 * es) == 0;
}

static void gemv_options(char *opts, const mc_gemv_args *g, int quant, int lanes)
{
    const bool bytewise = (!quant && mc_opencl_needs_bytewise(&g->a)) || mc_opencl_needs_bytewise(&g->x) ||
                          mc_opencl_needs_bytewise(&g->y);
    const bool a_vec = !quant && !bytewise && gemv_a_vector_ok(&g->a);
    const bool x_vec = !bytewise && gemv_x_vector_ok(&g->x);
    mc_opencl_options_add(opts, "-DLANES=%d -DROWS=%d -DQUANT=%d", lanes, GEMV_GROUP / lanes, quant);
    mc_opencl_options_add(opts, "-DDT_A=%d -DDT_X=%d -DDT_Y=%d", quant ? 0 : mc_opencl_dtype_code(g->a.dtype),
                          mc_opencl_dtype_code(g->x.dtype), mc_opencl_dtype_code(g->y.dtype));
    mc_opencl_options_add(opts, "-DA_VEC=%d -DX_VEC=%d -DMC_BYTEWISE=%d", a_vec, x_vec, bytewise);
}

static mc_status gemv_launch(mc_kernel_ctx *kc, const mc_gemv_args *g, int quant, mc_err *err)
{
    const size_t m = (size_t)g->a.ne[1];
    if (!m)
        return MC_OK; /* an empty y: nothing to write (a zero-sized NDRange is invalid) */
    const int lanes = gemv_lanes(kc->backend, g, quant);
    const size_t rows = (size_t)(GEMV_GROUP / lanes);
    char opts[MC_OPENCL_OPTIONS_LEN] = "";
    gemv_options(opts, g, quant, lanes);
    cl_kernel k;
    cl_uint arg = 0;
    mc_status st = mc_opencl_kernel(kc->backend, "gemv", opts, "gemv", &k, err);
    if (!st)
        st = mc_opencl_check_group(kc->backend, k, GEMV_GROUP, err);
    if (!st)
        st = mc_opencl_arg_tensor(k, &arg, &g->a, err);
    if (!st)
        st = mc_opencl_arg_tensor(k, &arg, &g->x, err);
    if (!st)
        st = mc_opencl_arg_tensor(k, &arg, &g->y, err);
    if (st)
        return st;
    const size_t local = GEMV_GROUP;
    const size_t global = (m + rows - 1) / rows * local;
    return mc_opencl_launch(kc->backend, k, 1, &global, &local, err);
}

static const char *gemv_common_supports(const mc_gemv_args *g)
{
    if (!mc_opencl_plain_float(g->x.dtype) || !mc_opencl_plain_float(g->y.dtype))
        return "quantised x or y not supported";
    if (g->xq_exact) /* the exact reference uses q8_0 activations; this dot uses x itself */
        return "computes with x itself, not with q8_0 activations: cannot meet xq_exact";
    return NULL;
}

static mc_status gemv_plain_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return gemv_launch(kc, &args->u.gemv, 0, err);
}

static const char *gemv_plain_supports(const mc_args *args)
{
    const mc_gemv_args *g = &args->u.gemv;
    if (!mc_opencl_plain_float(g->a.dtype))
        return "quantised A is for gemv_q8_0_opencl and gemv_q4_0_opencl (this one takes f32, f16, bf16 A)";
    return gemv_common_supports(g);
}

/* The quantised variants: which dtype A must have, and its QUANT build option. */
static const char *gemv_quant_supports(const mc_gemv_args *g, mc_dtype want)
{
    if (g->a.dtype != want)
        return want == MC_DTYPE_Q8_0 ? "A is not q8_0" : "A is not q4_0";
    if (g->a.ne[0] % GEMV_QBLOCK != 0)
        return "k is not a multiple of the 32-element block";
    return gemv_common_supports(g);
}

static mc_status gemv_q8_0_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return gemv_launch(kc, &args->u.gemv, 8, err);
}

static const char *gemv_q8_0_supports(const mc_args *args)
{
    return gemv_quant_supports(&args->u.gemv, MC_DTYPE_Q8_0);
}

static mc_status gemv_q4_0_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return gemv_launch(kc, &args->u.gemv, 4, err);
}

static const char *gemv_q4_0_supports(const mc_args *args)
{
    return gemv_quant_supports(&args->u.gemv, MC_DTYPE_Q4_0);
}

static const char *gemv_probe(mc_backend_ctx *ctx)
{
    if (mc_opencl_device(ctx)->max_wg < GEMV_GROUP)
        return "device work-groups hold fewer than 256 work-items";
    return NULL;
}

const mc_opencl_program_def mc_opencl_program_gemv_plain = {
    .program = "gemv_opencl_wgreduce",
    .source = "gemv",
    .options = "-DLANES=32 -DROWS=8 -DQUANT=0 -DDT_A=1 -DDT_X=0 -DDT_Y=0 -DA_VEC=1 -DX_VEC=1 -DMC_BYTEWISE=0",
};

const mc_opencl_program_def mc_opencl_program_gemv_q8_0 = {
    .program = "gemv_q8_0_opencl",
    .source = "gemv",
    .options = "-DLANES=32 -DROWS=8 -DQUANT=8 -DDT_A=0 -DDT_X=0 -DDT_Y=0 -DA_VEC=0 -DX_VEC=1 -DMC_BYTEWISE=0",
};

const mc_opencl_program_def mc_opencl_program_gemv_q4_0 = {
    .program = "gemv_q4_0_opencl",
    .source = "gemv",
    .options = "-DLANES=32 -DROWS=8 -DQUANT=4 -DDT_A=0 -DDT_X=0 -DDT_Y=0 -DA_VEC=0 -DX_VEC=1 -DMC_BYTEWISE=0",
};

const mc_variant mc_variant_gemv_opencl_wgreduce = {
    .op = MC_OP_GEMV,
    .backend = "opencl",
    .name = "gemv_opencl_wgreduce",
    .probe = gemv_probe,
    .supports = gemv_plain_supports,
    .run = gemv_plain_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)gemv_launch,
};

const mc_variant mc_variant_gemv_q8_0_opencl = {
    .op = MC_OP_GEMV,
    .backend = "opencl",
    .name = "gemv_q8_0_opencl",
    .probe = gemv_probe,
    .supports = gemv_q8_0_supports,
    .run = gemv_q8_0_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)gemv_launch,
};

const mc_variant mc_variant_gemv_q4_0_opencl = {
    .op = MC_OP_GEMV,
    .backend = "opencl",
    .name = "gemv_q4_0_opencl",
    .probe = gemv_probe,
    .supports = gemv_q4_0_supports,
    .run = gemv_q4_0_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)gemv_launch,
};
