/* kernels/cpu/softmax_scalar.c: the plain scalar row softmax with scale, causal mask and -inf inputs.
 * Three passes per row (max, sum of exponentials, normalise), f32 throughout.
 * SPDX-License-Identifier: MIT */
#include <math.h>

#include "kernels/cpu/cpu_access.h"

static void softmax_row(const mc_softmax_args *s, int64_t i, int64_t b2, int64_t b3)
{
    const int64_t cols = s->x.ne[0], visible = mc_cpu_causal_visible(s->causal, s->q_offset, i, cols);
    float max = -INFINITY;
    for (int64_t j = 0; j < visible; j++) {
        float v = s->scale * mc_cpu_get(&s->x, j, i, b2, b3);
        max = v > max ? v : max;
    }
    float sum = 0.0f;
    /* a row with nothing visible (or only -inf) has no mass: its outputs are 0, not NaN */
    const int empty = max == -INFINITY;
    for (int64_t j = 0; j < visible && !empty; j++)
        sum += expf(s->scale * mc_cpu_get(&s->x, j, i, b2, b3) - max);
    for (int64_t j = 0; j < cols; j++) {
        float y = 0.0f;
        if (j < visible && !empty)
            y = expf(s->scale * mc_cpu_get(&s->x, j, i, b2, b3) - max) / sum;
        mc_cpu_set(&s->y, j, i, b2, b3, y);
    }
}

static mc_status softmax_scalar_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_softmax_args *s = &args->u.softmax;
    for (int64_t b3 = 0; b3 < s->y.ne[3]; b3++)
        for (int64_t b2 = 0; b2 < s->y.ne[2]; b2++)
            for (int64_t i = 0; i < s->y.ne[1]; i++)
                softmax_row(s, i, b2, b3);
    return MC_OK;
}

static const char *softmax_scalar_supports(const mc_args *args)
{
    const mc_softmax_args *s = &args->u.softmax;
    if (!mc_cpu_is_plain_float(s->x.dtype) || !mc_cpu_is_plain_float(s->y.dtype))
        return "quantised x or y not supported";
    return NULL;
}

const mc_variant mc_variant_softmax_scalar = {
    .op = MC_OP_SOFTMAX,
    .backend = "cpu",
    .name = "softmax_scalar",
    .probe = NULL,
    .supports = softmax_scalar_supports,
    .run = softmax_scalar_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)softmax_scalar_run,
};
