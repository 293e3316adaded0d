/* examples/cpu-kernels/mykernels.c: a small CPU kernel library checked by metallic-check as a
 * plugin: a GEMV unrolled by four with a scalar tail (correct) and a softmax unrolled by four that
 * forgets the tail (the planted defect metallic-check must catch: rows whose length is not a
 * multiple of four keep their last elements unwritten).
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <metallic_check/plugin.h>

/* Element (i0, i1, i2) of an f32 view: base + offset + strides; memcpy, as bases may be misaligned. */
static float get(const mc_plugin_tensor *t, int64_t i0, int64_t i1, int64_t i2)
{
    float v;
    memcpy(&v, (const char *)t->buffer + t->offset + i0 * t->nb[0] + i1 * t->nb[1] + i2 * t->nb[2], sizeof v);
    return v;
}

static void set(const mc_plugin_tensor *t, int64_t i0, int64_t i1, int64_t i2, float v)
{
    memcpy((char *)t->buffer + t->offset + i0 * t->nb[0] + i1 * t->nb[1] + i2 * t->nb[2], &v, sizeof v);
}

/* ---- GEMV: y = A x, f32 ---- */

static float dot_row(const mc_plugin_gemv_args *g, int64_t i)
{
    const int64_t k = g->a.ne[0];
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t p = 0;
    for (; p + 4 <= k; p += 4) {
        s0 += get(&g->a, p, i, 0) * get(&g->x, p, 0, 0);
        s1 += get(&g->a, p + 1, i, 0) * get(&g->x, p + 1, 0, 0);
        s2 += get(&g->a, p + 2, i, 0) * get(&g->x, p + 2, 0, 0);
        s3 += get(&g->a, p + 3, i, 0) * get(&g->x, p + 3, 0, 0);
    }
    for (; p < k; p++) /* the scalar tail */
        s0 += get(&g->a, p, i, 0) * get(&g->x, p, 0, 0);
    return (s0 + s1) + (s2 + s3);
}

static int gemv_run(mc_plugin_kernel_ctx *kc, const mc_plugin_args *args)
{
    const mc_plugin_gemv_args *g = &args->u.gemv;
    for (int64_t i = 0; i < g->a.ne[1]; i++) {
#ifdef MYKERNELS_SLOW /* the second build of the regression demo: every row is computed three times */
        for (int rep = 0; rep < 2; rep++) {
            set(&g->y, i, 0, 0, dot_row(g, i));
            __asm__ volatile("" ::: "memory"); /* the store above happens, so the work does */
        }
#endif
        set(&g->y, i, 0, 0, dot_row(g, i));
    }
    return 0;
}

static const char *gemv_supports(const mc_plugin_args *args)
{
    const mc_plugin_gemv_args *g = &args->u.gemv;
    if (g->a.dtype != MC_PLUGIN_F32 || g->x.dtype != MC_PLUGIN_F32 || g->y.dtype != MC_PLUGIN_F32)
        return "f32 only";
    if (g->xq_exact)
        return "computes with x itself, not with q8_0 activations";
    return NULL;
}

/* ---- softmax, f32, with the planted defect ---- */

static void softmax_row(const mc_plugin_softmax_args *s, int64_t i, int64_t b)
{
    const int64_t cols = s->x.ne[0];
    int64_t visible = s->causal ? i + s->q_offset + 1 : cols;
    visible = visible < 0 ? 0 : (visible > cols ? cols : visible);
    float max = -INFINITY, sum = 0;
    for (int64_t j = 0; j < visible; j++)
        max = fmaxf(max, s->scale * get(&s->x, j, i, b));
    for (int64_t j = 0; j < visible && max != -INFINITY; j++)
        sum += expf(s->scale * get(&s->x, j, i, b) - max);
    /* four at a time, and the defect: no loop for the last cols % 4 elements */
    for (int64_t j = 0; j + 4 <= cols; j += 4)
        for (int64_t u = j; u < j + 4; u++)
            set(&s->y, u, i, b, u < visible && max != -INFINITY ? expf(s->scale * get(&s->x, u, i, b) - max) / sum : 0.0f);
}

static int softmax_run(mc_plugin_kernel_ctx *kc, const mc_plugin_args *args)
{
    const mc_plugin_softmax_args *s = &args->u.softmax;
    for (int64_t b = 0; b < s->y.ne[2]; b++)
        for (int64_t i = 0; i < s->y.ne[1]; i++)
            softmax_row(s, i, b);
    return 0;
}

static const char *softmax_supports(const mc_plugin_args *args)
{
    const mc_plugin_softmax_args *s = &args->u.softmax;
    if (s->x.dtype != MC_PLUGIN_F32 || s->y.dtype != MC_PLUGIN_F32)
        return "f32 only";
    if (s->y.ne[3] != 1)
        return "at most three dims";
    return NULL;
}

/* ---- registration ---- */

static const mc_plugin_variant variants[] = {
    {MC_PLUGIN_HEADER(mc_plugin_variant), .op = MC_PLUGIN_OP_GEMV, .flags = MC_PLUGIN_DETERMINISTIC,
     .backend = "cpu", .name = "mykernels_gemv_f32_x4", .supports = gemv_supports, .run = gemv_run},
    {MC_PLUGIN_HEADER(mc_plugin_variant), .op = MC_PLUGIN_OP_SOFTMAX, .flags = MC_PLUGIN_DETERMINISTIC,
     .backend = "cpu", .name = "mykernels_softmax_f32_x4", .supports = softmax_supports, .run = softmax_run},
};

int mc_plugin_init(const mc_plugin_host *host, mc_plugin_registry *reg)
{
    if (MC_PLUGIN_ABI_MAJOR_OF(host->abi) != MC_PLUGIN_ABI_MAJOR)
        return 1;
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        if (reg->add_variant(reg, &variants[i]) != 0)
            return 1;
    return 0;
}
