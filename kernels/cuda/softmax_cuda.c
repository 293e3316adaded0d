/* kernels/cuda/softmax_cuda.c: the CUDA row softmax variants (softmax.cu): one warp per row (eight
 * rows per block, shuffle reductions) and one block per row (a shared-memory tree), both vectorised
 * where rows are contiguous and aligned and blocked through a shared-memory copy of the row.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "kernels/cuda/backend_cuda.h"

#define SOFTMAX_WARP_ROWS 8          /* rows per block of the warp variant */
#define SOFTMAX_WARP_CACHE 1024      /* 8 rows x 4 KiB of shared memory */
#define SOFTMAX_BLOCK_MIN 64         /* threads per row of the block variant: 16 elements each, */
#define SOFTMAX_BLOCK_MAX 256        /* from 64 up to 256 of them (the OpenCL variant's H100 finding) */
#define SOFTMAX_ELEMS_PER_THREAD 16
#define SOFTMAX_BLOCK_CACHE 4096     /* 16 KiB: a 4096-wide row is read from global once */

/* Rows contiguous and every row's first element 4-element aligned: blocks of 4 per thread. */
static bool softmax_vector_ok(const mc_tensor *t)
{
    const int64_t es = mc_tensor_unit_bytes(t), al = 4 * es;
    if (t->nb[0] != es || t->offset % al != 0)
        return false;
    for (int d = 1; d < MC_MAX_DIMS; d++)
        if (t->ne[d] > 1 && t->nb[d] % al != 0)
            return false;
    return true;
}

static mc_status softmax_launch(mc_kernel_ctx *kc, const mc_softmax_args *s, int group, int rows_per_block, int cache,
                                mc_err *err)
{
    const int64_t rows = s->x.ne[1] * s->x.ne[2] * s->x.ne[3];
    if (!rows || !s->x.ne[0])
        return MC_OK; /* an empty y: nothing to write */
    const bool bytewise = mc_cuda_needs_bytewise(&s->x) || mc_cuda_needs_bytewise(&s->y);
    char opts[MC_CUDA_OPTIONS_LEN] = "";
    mc_cuda_options_add(opts, "-DGROUP=%d -DROWS=%d -DCACHE_COLS=%d -DDT_X=%d -DDT_Y=%d", group, rows_per_block, cache,
                        mc_cuda_dtype_code(s->x.dtype), mc_cuda_dtype_code(s->y.dtype));
    mc_cuda_options_add(opts, "-DX_VEC=%d -DY_VEC=%d -DMC_BYTEWISE=%d", !bytewise && softmax_vector_ok(&s->x),
                        !bytewise && softmax_vector_ok(&s->y), bytewise);
    CUfunction f;
    mc_status st = mc_cuda_function(kc->backend, "softmax", opts, "softmax_rows", &f, err);
    if (st)
        return st;
    mc_cuda_tensor x = mc_cuda_tensor_of(&s->x), y = mc_cuda_tensor_of(&s->y);
    float scale = s->scale;
    int causal = s->causal;
    long long q_offset = s->q_offset;
    void *params[] = {&x, &y, &scale, &causal, &q_offset};
    const unsigned grid[3] = {mc_cuda_blocks(rows, rows_per_block), 1, 1};
    const unsigned block[3] = {(unsigned)group, (unsigned)rows_per_block, 1};
    return mc_cuda_launch(kc->backend, f, grid, block, 0, params, err);
}

static mc_status softmax_warp_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return softmax_launch(kc, &args->u.softmax, 32, SOFTMAX_WARP_ROWS, SOFTMAX_WARP_CACHE, err);
}

/* Threads per row: the power of two that gives each SOFTMAX_ELEMS_PER_THREAD elements of the row. */
static mc_status softmax_block_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    int group = SOFTMAX_BLOCK_MIN;
    while (group < SOFTMAX_BLOCK_MAX && (int64_t)group * SOFTMAX_ELEMS_PER_THREAD < args->u.softmax.x.ne[0])
        group *= 2;
    return softmax_launch(kc, &args->u.softmax, group, 1, SOFTMAX_BLOCK_CACHE, err);
}

static const char *softmax_supports(const mc_args *args)
{
    const mc_softmax_args *s = &args->u.softmax;
    if (!mc_cuda_plain_float(s->x.dtype) || !mc_cuda_plain_float(s->y.dtype))
        return "quantised x or y not supported";
    for (int d = 0; d < MC_MAX_DIMS; d++)
        if (s->x.ne[d] != s->y.ne[d])
            return "x and y shapes differ";
    return NULL;
}

const mc_cuda_program_def mc_cuda_program_softmax_warp = {
    .program = "softmax_cuda_warp",
    .source = "softmax",
    .options = "-DGROUP=32 -DROWS=8 -DCACHE_COLS=1024 -DDT_X=0 -DDT_Y=0 -DX_VEC=1 -DY_VEC=1 -DMC_BYTEWISE=0",
};

const mc_cuda_program_def mc_cuda_program_softmax_block = {
    .program = "softmax_cuda_block",
    .source = "softmax",
    .options = "-DGROUP=256 -DROWS=1 -DCACHE_COLS=4096 -DDT_X=0 -DDT_Y=0 -DX_VEC=1 -DY_VEC=1 -DMC_BYTEWISE=0",
};

const mc_variant mc_variant_softmax_cuda_warp = {
    .op = MC_OP_SOFTMAX,
    .backend = "cuda",
    .name = "softmax_cuda_warp",
    .supports = softmax_supports,
    .run = softmax_warp_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)softmax_launch,
};

const mc_variant mc_variant_softmax_cuda_block = {
    .op = MC_OP_SOFTMAX,
    .backend = "cuda",
    .name = "softmax_cuda_block",
    .supports = softmax_supports,
    .run = softmax_block_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)softmax_launch,
};
