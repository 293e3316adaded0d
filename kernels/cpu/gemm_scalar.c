/* kernels/cpu/gemm_scalar.c: the plain scalar GEMM, C = alpha*A*B + beta*C + bias, through byte strides.
 * The baseline every faster GEMM is compared with: one dot product per output, f32 accumulation.
 * SPDX-License-Identifier: MIT */
#include "kernels/cpu/cpu_access.h"

/* One output element: the k-long dot product of row i of A with column j of B, batch (b2, b3). */
static float gemm_dot(const mc_gemm_args *g, int64_t i, int64_t j, int64_t b2, int64_t b3)
{
    const mc_tensor *a = &g->a, *b = &g->b;
    const int64_t a2 = mc_cpu_bcast(a, 2, b2), a3 = mc_cpu_bcast(a, 3, b3);
    const int64_t bb2 = mc_cpu_bcast(b, 2, b2), bb3 = mc_cpu_bcast(b, 3, b3);
    float acc = 0.0f;
    for (int64_t p = 0; p < a->ne[0]; p++)
        acc += mc_cpu_get(a, p, i, a2, a3) * mc_cpu_get(b, j, p, bb2, bb3);
    return acc;
}

static mc_status gemm_scalar_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    const mc_tensor *c = &g->c;
    for (int64_t b3 = 0; b3 < c->ne[3]; b3++)
        for (int64_t b2 = 0; b2 < c->ne[2]; b2++)
            for (int64_t i = 0; i < c->ne[1]; i++)
                for (int64_t j = 0; j < c->ne[0]; j++) {
                    float v = g->alpha * gemm_dot(g, i, j, b2, b3);
                    /* beta == 0: C holds a NaN sentinel and must not be read */
                    if (g->beta != 0.0f)
                        v += g->beta * mc_cpu_get(c, j, i, b2, b3);
                    if (g->has_bias)
                        v += mc_cpu_get(&g->bias, j, 0, 0, 0);
                    mc_cpu_set(c, j, i, b2, b3, v);
                }
    return MC_OK;
}

static const char *gemm_scalar_supports(const mc_args *args)
{
    if (!mc_cpu_is_plain_float(args->u.gemm.c.dtype))
        return "quantised output not supported";
    return NULL;
}

const mc_variant mc_variant_gemm_scalar = {
    .op = MC_OP_GEMM,
    .backend = "cpu",
    .name = "gemm_scalar",
    .probe = NULL,
    .supports = gemm_scalar_supports,
    .run = gemm_scalar_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)gemm_scalar_run,
};
