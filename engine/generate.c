/* engine/generate.c: input generation. Values are produced in logical order (i0 fastest) from a
 * stream seeded per tensor, so they do not depend on the layout: a transposed case holds the same
 * logical matrix as its contiguous twin.
 * SPDX-License-Identifier: MIT */
#include "generate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "engine/generate_quant.h"
#include "reference/ref_quant.h"

uint64_t mc_generate_case_seed(const mc_case *c, uint64_t global_seed)
{
    return mc_rng_mix(c->key_hash, global_seed);
}

static double next_value(mc_rng *r, const mc_tensor_spec *s, int64_t i0)
{
    double u = mc_rng_uniform(r);
    if (s->neg_inf_share > 0 && i0 > 0 && mc_rng_uniform(r) < s->neg_inf_share)
        return -INFINITY;
    return s->gen_lo + (s->gen_hi - s->gen_lo) * u;
}

static mc_status fill_plain(mc_placed *p, mc_rng *r)
{
    const mc_tensor *t = &p->spec.t;
    int64_t idx[MC_MAX_DIMS] = {0, 0, 0, 0};
    do {
        mc_tensor_set(t, p->image, idx, next_value(r, &p->spec, idx[0]));
    } while (mc_index_next(idx, t->ne));
    return MC_OK;
}

/* A plain tensor with a value pattern: each row (ne[0] values, a multiple of 32, the op checks)
 * generated as usual, rewritten block by block as the q8_0 test vector asks, then stored. */
static mc_status fill_plain_pattern(mc_placed *p, mc_rng *r, mc_err *err)
{
    const mc_tensor *t = &p->spec.t;
    const int64_t k = t->ne[0];
    float *row = malloc((size_t)k * sizeof *row);
    if (!row)
        return mc_err_set(err, MC_ERR_NOMEM, "cannot allocate a %lld-element row", (long long)k);
    int64_t rows[MC_MAX_DIMS] = {1, t->ne[1], t->ne[2], t->ne[3]};
    int64_t idx[MC_MAX_DIMS] = {0, 0, 0, 0};
    do {
        for (int64_t i = 0; i < k; i++)
            row[i] = (float)next_value(r, &p->spec, i);
        mc_quant_pattern_apply((mc_quant_pattern)p->spec.value_pattern, MC_DTYPE_Q8_0,
                                   idx[1] + t->ne[1] * (idx[2] + t->ne[2] * idx[3]), row, k, p->spec.gen_hi);
        for (idx[0] = 0; idx[0] < k; idx[0]++)
            mc_tensor_set(t, p->image, idx, row[idx[0]]);
        idx[0] = 0;
    } while (mc_index_next(idx, rows));
    free(row);
    return MC_OK;
}

static mc_status fill_quant(mc_placed *p, mc_rng *r, mc_err *err)
{
    const mc_tensor *t = &p->spec.t;
    const int64_t k = t->ne[0];
    float *row = malloc((size_t)k * sizeof *row);
    const int64_t row_bytes = k / mc_dtype_info_of(t->dtype)->block_elems * mc_tensor_unit_bytes(t);
    uint8_t *blocks = malloc((size_t)row_bytes);
    if (!row || !blocks) {
        free(row);
        free(blocks);
        return mc_err_set(err, MC_ERR_NOMEM, "cannot allocate a %lld-element row", (long long)k);
    }
    int64_t rows[MC_MAX_DIMS] = {1, t->ne[1], t->ne[2], t->ne[3]};
    int64_t idx[MC_MAX_DIMS] = {0, 0, 0, 0};
    do {
        for (int64_t i = 0; i < k; i++)
            row[i] = (float)next_value(r, &p->spec, i);
        mc_quant_pattern_apply((mc_quant_pattern)p->spec.quant_pattern, t->dtype,
                                   idx[1] + t->ne[1] * (idx[2] + t->ne[2] * idx[3]), row, k, p->spec.gen_hi);
        mc_ref_quantizer_of(t->dtype)(row, blocks, k);
        memcpy(p->image + mc_tensor_elem_offset(t, idx), blocks, (size_t)row_bytes);
    } while (mc_index_next(idx, rows));
    free(row);
    free(blocks);
    return MC_OK;
}

mc_status mc_generate_fill(mc_placed *p, uint64_t seed, mc_err *err)
{
    if (p->spec.role == MC_ROLE_OUT || p->spec.absent)
        return MC_OK;
    mc_rng r;
    mc_rng_seed(&r, seed);
    if (mc_dtype_info_of(p->spec.t.dtype)->quantised)
        return fill_quant(p, &r, err);
    if (p->spec.value_pattern != MC_QPATTERN_RANDOM)
        return fill_plain_pattern(p, &r, err);
    return fill_plain(p, &r);
}
