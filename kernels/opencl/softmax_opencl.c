/* kernels/opencl/softmax_opencl.c: the OpenCL row softmax (softmax.cl): one work-group per row,
 * vectorised where rows are contiguous and aligned, blocked through a __local copy of the row.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "kernels/opencl/backend_opencl.h"

#define SOFTMAX_GROUP_MIN 64     /* work-items per row: 16 elements each, from 64 up to 256 of them */
#define SOFTMAX_GROUP_MAX 256    /* 1024 on the H100 gave f16 rows nearly the time of f32 ones (27.6 vs
                                    31.1 us for 2048 rows): not memory's pace; 256 has shorter reductions
                                    and keeps 8 rows per SM */
#define SOFTMAX_ELEMS_PER_ITEM 16
#define SOFTMAX_CACHE_COLS 4096  /* 16 KiB of __local: a 4096-wide row is read from global once */

/* Rows contiguous and every row's first element 4-element aligned: blocks of 4 per work-item. */
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

/* Work-items per row: the power of two that gives each SOFTMAX_ELEMS_PER_ITEM elements of the row,
 * within [SOFTMAX_GROUP_MIN, SOFTMAX_GROUP_MAX] and the device's work-group limit. */
static size_t softmax_group(mc_backend_ctx *ctx, int64_t cols)
{
    size_t group = SOFTMAX_GROUP_MIN;
    while (group < SOFTMAX_GROUP_MAX && (int64_t)group * SOFTMAX_ELEMS_PER_ITEM < cols &&
           group * 2 <= mc_opencl_device(ctx)->max_wg)
        group *= 2;
    return group;
}

static void softmax_options(char *opts, const mc_softmax_args *s, size_t group)
{
    const bool bytewise = mc_opencl_needs_bytewise(&s->x) || mc_opencl_needs_bytewise(&s->y);
    mc_opencl_options_add(opts, "-DGROUP=%zu -DCACHE_COLS=%d -DDT_X=%d -DDT_Y=%d", group, SOFTMAX_CACHE_COLS,
                          mc_opencl_dtype_code(s->x.dtype), mc_opencl_dtype_code(s->y.dtype));
    mc_opencl_options_add(opts, "-DX_VEC=%d -DY_VEC=%d -DMC_BYTEWISE=%d", !bytewise && softmax_vector_ok(&s->x),
                          !bytewise && softmax_vector_ok(&s->y), bytewise);
}

/* The kernel for this case at the largest group the device runs it with: a kernel may be allowed
 * fewer work-items than the device's maximum (registers), then the group halves. */
static mc_status softmax_kernel(mc_kernel_ctx *kc, const mc_softmax_args *s, cl_kernel *k, size_t *group, mc_err *err)
{
    for (*group = softmax_group(kc->backend, s->x.ne[0]);; *group /= 2) {
        char opts[MC_OPENCL_OPTIONS_LEN] = "";
        softmax_options(opts, s, *group);
        mc_status st = mc_opencl_kernel(kc->backend, "softmax", opts, "softmax_rows", k, err);
        if (!st)
            st = mc_opencl_check_group(kc->backend, *k, *group, err);
        if (st != MC_ERR_UNSUPPORTED || *group <= SOFTMAX_GROUP_MIN)
            return st;
    }
}

static mc_status softmax_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_softmax_args *s = &args->u.softmax;
    const size_t rows = (size_t)(s->x.ne[1] * s->x.ne[2] * s->x.ne[3]);
    if (!rows || !s->x.ne[0])
        return MC_OK; /* an empty y: nothing to write (a zero-sized NDRange is invalid) */
    cl_kernel k;
    size_t group;
    cl_uint arg = 0;
    cl_int causal = s->causal;
    cl_long q_offset = s->q_offset;
    mc_status st = softmax_kernel(kc, s, &k, &group, err);
    if (!st)
        st = mc_opencl_arg_tensor(k, &arg, &s->x, err);
    if (!st)
        st = mc_opencl_arg_tensor(k, &arg, &s->y, err);
    if (!st)
        st = mc_opencl_arg(k, &arg, sizeof s->scale, &s->scale, err);
    if (!st)
        st = mc_opencl_arg(k, &arg, sizeof causal, &causal, err);
    if (!st)
        st = mc_opencl_arg(k, &arg, sizeof q_offset, &q_offset, err);
    if (st)
        return st;
    const size_t local = group, global = rows * group;
    return mc_opencl_launch(kc->backend, k, 1, &global, &local, err);
}

static const char *softmax_supports(const mc_args *args)
{
    const mc_softmax_args *s = &args->u.softmax;
    if (!mc_opencl_plain_float(s->x.dtype) || !mc_opencl_plain_float(s->y.dtype))
        return "quantised x or y not supported";
    for (int d = 0; d < MC_MAX_DIMS; d++)
        if (s->x.ne[d] != s->y.ne[d])
            return "x and y shapes differ";
    return NULL;
}

static const char *softmax_probe(mc_backend_ctx *ctx)
{
    const mc_opencl_device_info *d = mc_opencl_device(ctx);
    if (d->max_wg < SOFTMAX_GROUP_MIN)
        return "device work-groups hold fewer than 64 work-items";
    if (d->local_bytes < (SOFTMAX_CACHE_COLS + SOFTMAX_GROUP_MAX) * sizeof(float))
        return "device __local memory below 20 KiB";
    return NULL;
}

const mc_opencl_program_def mc_opencl_program_softmax = {
    .program = "softmax_opencl_blocked",
    .source = "softmax",
    .options = "-DGROUP=256 -DCACHE_COLS=4096 -DDT_X=0 -DDT_Y=0 -DX_VEC=1 -DY_VEC=1 -DMC_BYTEWISE=0",
};

const mc_variant mc_variant_softmax_opencl_blocked = {
    .op = MC_OP_SOFTMAX,
    .backend = "opencl",
    .name = "softmax_opencl_blocked",
    .probe = softmax_probe,
    .supports = softmax_supports,
    .run = softmax_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)softmax_run,
};
