/* kernels/cpu/gemv_scalar.c: the plain scalar GEMV, y = A x, for plain and quantised (q8_0, q4_0) A.
 * One f32 dot product per row through byte strides; quantised A is dequantised element by element.
 * SPDX-License-Identifier: MIT */
#include "kernels/cpu/cpu_access.h"

static mc_status gemv_scalar_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemv_args *g = &args->u.gemv;
    const int64_t m = g->a.ne[1], k = g->a.ne[0];
    for (int64_t i = 0; i < m; i++) {
        float acc = 0.0f;
        for (int64_t p = 0; p < k; p++)
            acc += mc_cpu_get(&g->a, p, i, 0, 0) * mc_cpu_get(&g->x, p, 0, 0, 0);
        mc_cpu_set(&g->y, i, 0, 0, 0, acc);
    }
    return MC_OK;
}

static const char *gemv_scalar_supports(const mc_args *args)
{
    const mc_gemv_args *g = &args->u.gemv;
    if (!mc_cpu_is_plain_float(g->y.dtype) || !mc_cpu_is_plain_float(g->x.dtype))
        return "quantised x or y not supported";
    if (g->xq_exact) /* the exact reference uses q8_0 activations; this dot uses x itself */
        return "computes with x itself, not with q8_0 activations: cannot meet xq_exact";
    return NULL;
}

const mc_variant mc_variant_gemv_scalar = {
    .op = MC_OP_GEMV,
    .backend = "cpu",
    .name = "gemv_scalar",
    .probe = NULL,
    .supports = gemv_scalar_supports,
    .run = gemv_scalar_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)gemv_scalar_run,
};
