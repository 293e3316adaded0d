/* kernels/cpu/sdpa_scalar.c: plain scalar attention with grouped-query heads and a causal offset.
 * Per query row: scores into a scratch row, softmax with the row max subtracted, then P V.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdlib.h>

#include "kernels/cpu/cpu_access.h"

/* One query row i of head h (batch b3): o[:, i, h] = softmax(scale * q K^T) V. */
static void sdpa_row(const mc_sdpa_args *s, int64_t i, int64_t h, int64_t b3, float *scores)
{
    const int64_t d = s->q.ne[0], dv = s->o.ne[0];
    const int64_t kvh = h / (s->q.ne[2] / s->k.ne[2]);
    const int64_t visible = mc_cpu_causal_visible(s->causal, s->q_offset, i, s->k.ne[1]);
    float max = -INFINITY;
    for (int64_t j = 0; j < visible; j++) {
        float acc = 0.0f;
        for (int64_t c = 0; c < d; c++)
            acc += mc_cpu_get(&s->q, c, i, h, b3) * mc_cpu_get(&s->k, c, j, kvh, b3);
        scores[j] = s->scale * acc;
        max = scores[j] > max ? scores[j] : max;
    }
    float sum = 0.0f;
    for (int64_t j = 0; j < visible; j++) {
        scores[j] = expf(scores[j] - max);
        sum += scores[j];
    }
    /* nothing visible: no mass to spread, the output row is 0 rather than NaN */
    const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
    for (int64_t c = 0; c < dv; c++) {
        float acc = 0.0f;
        for (int64_t j = 0; j < visible; j++)
            acc += scores[j] * mc_cpu_get(&s->v, c, j, kvh, b3);
        mc_cpu_set(&s->o, c, i, h, b3, acc * inv);
    }
}

static mc_status sdpa_scalar_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_sdpa_args *s = &args->u.sdpa;
    float *scores = malloc(sizeof *scores * (size_t)s->k.ne[1]);
    if (!scores)
        return mc_err_set(err, MC_ERR_NOMEM, "sdpa_scalar: no memory for %lld scores", (long long)s->k.ne[1]);
    for (int64_t b3 = 0; b3 < s->o.ne[3]; b3++)
        for (int64_t h = 0; h < s->o.ne[2]; h++)
            for (int64_t i = 0; i < s->o.ne[1]; i++)
                sdpa_row(s, i, h, b3, scores);
    free(scores);
    return MC_OK;
}

static const char *sdpa_scalar_supports(const mc_args *args)
{
    const mc_sdpa_args *s = &args->u.sdpa;
    if (!mc_cpu_is_plain_float(s->q.dtype) || !mc_cpu_is_plain_float(s->k.dtype) ||
        !mc_cpu_is_plain_float(s->v.dtype) || !mc_cpu_is_plain_float(s->o.dtype))
        return "quantised q, k, v or o not supported";
    if (s->k.ne[2] < 1 || s->q.ne[2] % s->k.ne[2] != 0)
        return "heads must be a multiple of kv_heads";
    return NULL;
}

const mc_variant mc_variant_sdpa_scalar = {
    .op = MC_OP_SDPA,
    .backend = "cpu",
    .name = "sdpa_scalar",
    .probe = NULL,
    .supports = sdpa_scalar_supports,
    .run = sdpa_scalar_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)sdpa_scalar_run,
};
