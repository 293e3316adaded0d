/* kernels/opencl/gemm_opencl.c: the tiled OpenCL GEMM variants (gemm.cl), one per tile configuration.
 * Tile sizes are build options; dtypes, access directions and the byte-wise path are chosen per case.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "kernels/opencl/backend_opencl.h"

typedef struct gemm_tiles {
    int tile_m, tile_n, tile_k; /* block of C per work-group, k-slab per step */
    int wpt_m, wpt_n;           /* outputs per work-item */
} gemm_tiles;

static const gemm_tiles tiles_32 = {32, 32, 8, 2, 2};     /* small shapes: little zero padding */
static const gemm_tiles tiles_128 = {128, 128, 16, 8, 8}; /* large shapes: 64 FMAs per 16 __local reads */

static size_t gemm_threads(const gemm_tiles *t)
{
    return (size_t)(t->tile_m / t->wpt_m) * (size_t)(t->tile_n / t->wpt_n);
}

static void tile_options(char *opts, const gemm_tiles *t)
{
    mc_opencl_options_add(opts, "-DTILE_M=%d -DTILE_N=%d -DTILE_K=%d -DWPT_M=%d -DWPT_N=%d", t->tile_m, t->tile_n,
                          t->tile_k, t->wpt_m, t->wpt_n);
}

/* Per-case options: dtypes, which index walks memory fastest, and the byte-wise path. */
static void case_options(char *opts, const mc_gemm_args *g)
{
    const mc_tensor *bias = g->has_bias ? &g->bias : &g->c;
    bool bytewise = mc_opencl_needs_bytewise(&g->a) || mc_opencl_needs_bytewise(&g->b) ||
                    mc_opencl_needs_bytewise(&g->c) || mc_opencl_needs_bytewise(bias);
    mc_opencl_options_add(opts, "-DDT_A=%d -DDT_B=%d -DDT_C=%d -DDT_BIAS=%d", mc_opencl_dtype_code(g->a.dtype),
                          mc_opencl_dtype_code(g->b.dtype), mc_opencl_dtype_code(g->c.dtype),
                          mc_opencl_dtype_code(bias->dtype));
    mc_opencl_options_add(opts, "-DA_KFAST=%d -DB_NFAST=%d -DMC_BYTEWISE=%d", g->a.nb[0] <= g->a.nb[1],
                          g->b.nb[0] <= g->b.nb[1], bytewise);
}

static mc_status gemm_set_args(cl_kernel k, const mc_gemm_args *g, mc_err *err)
{
    cl_uint arg = 0;
    /* without a bias the kernel never reads it, but the argument must still be a valid buffer */
    const mc_tensor *bias = g->has_bias ? &g->bias : &g->c;
    cl_int has_bias = g->has_bias;
    mc_status st = mc_opencl_arg_tensor(k, &arg, &g->a, err);
    if (!st)
        st = mc_opencl_arg_tensor(k, &arg, &g->b, err);
    if (!st)
        st = mc_opencl_arg_tensor(k, &arg, &g->c, err);
    if (!st)
        st = mc_opencl_arg_tensor(k, &arg, bias, err);
    if (!st)
        st = mc_opencl_arg(k, &arg, sizeof g->alpha, &g->alpha, err);
    if (!st)
        st = mc_opencl_arg(k, &arg, sizeof g->beta, &g->beta, err);
    if (!st)
        st = mc_opencl_arg(k, &arg, sizeof has_bias, &has_bias, err);
    return st;
}

static mc_status gemm_tiled_run(mc_kernel_ctx *kc, const mc_args *args, const gemm_tiles *t, mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    const size_t n = (size_t)g->c.ne[0], m = (size_t)g->c.ne[1], batch = (size_t)(g->c.ne[2] * g->c.ne[3]);
    if (!n || !m || !batch)
        return MC_OK; /* an empty C: nothing to write (a zero-sized NDRange is invalid) */
    char opts[MC_OPENCL_OPTIONS_LEN] = "";
    tile_options(opts, t);
    case_options(opts, g);
    cl_kernel k;
    mc_status st = mc_opencl_kernel(kc->backend, "gemm", opts, "gemm_tiled", &k, err);
    if (!st)
        st = mc_opencl_check_group(kc->backend, k, gemm_threads(t), err);
    if (!st)
        st = gemm_set_args(k, g, err);
    if (st)
        return st;
    const size_t tn = (size_t)(t->tile_n / t->wpt_n), tm = (size_t)(t->tile_m / t->wpt_m);
    const size_t local[3] = {tn, tm, 1};
    const size_t global[3] = {(n + (size_t)t->tile_n - 1) / (size_t)t->tile_n * tn,
                              (m + (size_t)t->tile_m - 1) / (size_t)t->tile_m * tm, batch};
    return mc_opencl_launch(kc->backend, k, 3, global, local, err);
}

static const char *gemm_supports(const mc_args *args)
{
    const mc_gemm_args *g = &args->u.gemm;
    if (!mc_opencl_plain_float(g->a.dtype) || !mc_opencl_plain_float(g->b.dtype) ||
        !mc_opencl_plain_float(g->c.dtype) || (g->has_bias && !mc_opencl_plain_float(g->bias.dtype)))
        return "quantised operands not supported (f32, f16, bf16 only)";
    for (int d = 2; d < MC_MAX_DIMS; d++)
        if ((g->a.ne[d] != 1 && g->a.ne[d] != g->c.ne[d]) || (g->b.ne[d] != 1 && g->b.ne[d] != g->c.ne[d]))
            return "batch dims of A and B must equal C's or be 1";
    return NULL;
}

static const char *gemm_probe(mc_backend_ctx *ctx)
{
    /* both tile configurations run 256 work-items and stage at most 2 * 16 * 129 floats */
    if (mc_opencl_device(ctx)->max_wg < 256)
        return "device work-groups hold fewer than 256 work-items";
    if (mc_opencl_device(ctx)->local_bytes < 2 * 16 * 129 * sizeof(float))
        return "device __local memory below 16.5 KiB";
    return NULL;
}

static mc_status gemm_tiled_32_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return gemm_tiled_run(kc, args, &tiles_32, err);
}

static mc_status gemm_tiled_128_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return gemm_tiled_run(kc, args, &tiles_128, err);
}

#define GEMM_CANONICAL "-DDT_A=0 -DDT_B=0 -DDT_C=0 -DDT_BIAS=0 -DA_KFAST=1 -DB_NFAST=1 -DMC_BYTEWISE=0"

const mc_opencl_program_def mc_opencl_program_gemm_tiled_32 = {
    .program = "gemm_opencl_tiled_32x32x8",
    .source = "gemm",
    .options = "-DTILE_M=32 -DTILE_N=32 -DTILE_K=8 -DWPT_M=2 -DWPT_N=2 " GEMM_CANONICAL,
};

const mc_opencl_program_def mc_opencl_program_gemm_tiled_128 = {
    .program = "gemm_opencl_tiled_128x128x16",
    .source = "gemm",
    .options = "-DTILE_M=128 -DTILE_N=128 -DTILE_K=16 -DWPT_M=8 -DWPT_N=8 " GEMM_CANONICAL,
};

const mc_variant mc_variant_gemm_opencl_tiled_32x32x8 = {
    .op = MC_OP_GEMM,
    .backend = "opencl",
    .name = "gemm_opencl_tiled_32x32x8",
    .probe = gemm_probe,
    .supports = gemm_supports,
    .run = gemm_tiled_32_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)gemm_tiled_run,
};

const mc_variant mc_variant_gemm_opencl_tiled_128x128x16 = {
    .op = MC_OP_GEMM,
    .backend = "opencl",
    .name = "gemm_opencl_tiled_128x128x16",
    .probe = gemm_probe,
    .supports = gemm_supports,
    .run = gemm_tiled_128_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)gemm_tiled_run,
};
