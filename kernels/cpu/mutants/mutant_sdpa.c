/* kernels/cpu/mutants/mutant_sdpa.c: planted-bug copies of the scalar attention (sdpa_scalar.c): the causal
 * mask off by one, and the grouped-query head mapping wrong.
 * SPDX-License-Identifier: MIT
 *
 * Both are sdpa_scalar's row function with exactly one change, marked "DEFECT:"; the row is
 * parameterised only by those two choices (the visible keys and the kv head), so the rest of the
 * copy is shared.
 */
#include <math.h>
#include <stdlib.h>

#include "kernels/cpu/cpu_access.h"

/* sdpa_scalar's mask: keys [0, visible) are seen by query i (causal hides j > i + q_offset). */
static int64_t visible_keys(const mc_sdpa_args *s, int64_t i)
{
    const int64_t n_kv = s->k.ne[1];
    if (!s->causal)
        return n_kv;
    int64_t last = i + s->q_offset;
    if (last < 0)
        return 0;
    return last + 1 < n_kv ? last + 1 : n_kv;
}

/* DEFECT: the diagonal is masked too (j >= i + q_offset hidden instead of j > i + q_offset): the
 * key at the query's own position is never attended to. */
static int64_t visible_keys_off_by_one(const mc_sdpa_args *s, int64_t i)
{
    const int64_t n_kv = s->k.ne[1];
    if (!s->causal)
        return n_kv;
    int64_t last = i + s->q_offset;
    if (last < 0)
        return 0;
    return last < n_kv ? last : n_kv;
}

/* sdpa_scalar's mapping: query head h reads kv head h / (heads / kv_heads). */
static int64_t kv_head(const mc_sdpa_args *s, int64_t h)
{
    return h / (s->q.ne[2] / s->k.ne[2]);
}

/* DEFECT: query heads are dealt to kv heads round-robin (h % kv_heads), not in contiguous groups. */
static int64_t kv_head_round_robin(const mc_sdpa_args *s, int64_t h)
{
    return h % s->k.ne[2];
}

typedef int64_t (*visible_fn)(const mc_sdpa_args *s, int64_t i);
typedef int64_t (*kv_head_fn)(const mc_sdpa_args *s, int64_t h);

/* sdpa_scalar's row i of head h: o = softmax(scale * q K^T) V, the row max subtracted. */
static void sdpa_row(const mc_sdpa_args *s, int64_t i, int64_t h, int64_t b3, float *scores, visible_fn visible_of,
                     kv_head_fn kv_head_of)
{
    const int64_t d = s->q.ne[0], dv = s->o.ne[0];
    const int64_t kvh = kv_head_of(s, h);
    const int64_t visible = visible_of(s, i);
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
    const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
    for (int64_t c = 0; c < dv; c++) {
        float acc = 0.0f;
        for (int64_t j = 0; j < visible; j++)
            acc += scores[j] * mc_cpu_get(&s->v, c, j, kvh, b3);
        mc_cpu_set(&s->o, c, i, h, b3, acc * inv);
    }
}

static mc_status sdpa_run(const mc_args *args, visible_fn visible_of, kv_head_fn kv_head_of, mc_err *err)
{
    const mc_sdpa_args *s = &args->u.sdpa;
    float *scores = malloc(sizeof *scores * (size_t)s->k.ne[1]);
    if (!scores)
        return mc_err_set(err, MC_ERR_NOMEM, "sdpa: no memory for %lld scores", (long long)s->k.ne[1]);
    for (int64_t b3 = 0; b3 < s->o.ne[3]; b3++)
        for (int64_t h = 0; h < s->o.ne[2]; h++)
            for (int64_t i = 0; i < s->o.ne[1]; i++)
                sdpa_row(s, i, h, b3, scores, visible_of, kv_head_of);
    free(scores);
    return MC_OK;
}

static mc_status causal_off_by_one_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return sdpa_run(args, visible_keys_off_by_one, kv_head, err);
}

static mc_status gqa_round_robin_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return sdpa_run(args, visible_keys, kv_head_round_robin, err);
}

/* sdpa_scalar's supports(). */
static const char *sdpa_supports(const mc_args *args)
{
    const mc_sdpa_args *s = &args->u.sdpa;
    if (!mc_cpu_is_plain_float(s->q.dtype) || !mc_cpu_is_plain_float(s->k.dtype) ||
        !mc_cpu_is_plain_float(s->v.dtype) || !mc_cpu_is_plain_float(s->o.dtype))
        return "quantised q, k, v or o not supported";
    if (s->k.ne[2] < 1 || s->q.ne[2] % s->k.ne[2] != 0)
        return "heads must be a multiple of kv_heads";
    return NULL;
}

const mc_variant mc_variant_mutant_sdpa_causal_off_by_one = {
    .op = MC_OP_SDPA, .backend = "cpu", .name = "mutant_sdpa_causal_off_by_one",
    .supports = sdpa_supports, .run = causal_off_by_one_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)visible_keys_off_by_one,
};

const mc_variant mc_variant_mutant_sdpa_gqa_round_robin = {
    .op = MC_OP_SDPA, .backend = "cpu", .name = "mutant_sdpa_gqa_round_robin",
    .supports = sdpa_supports, .run = gqa_round_robin_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)kv_head_round_robin,
};
