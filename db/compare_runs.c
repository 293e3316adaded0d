/* db/compare_runs.c: mc_compare_runs (load two runs' timings, match them, judge, group, store the
 * verdicts) and mc_compare_default_base, the one rule for the run a candidate is compared with.
 * SPDX-License-Identifier: MIT */
#include "compare_runs.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int compare_rows(const mc_timing_row *a, const mc_timing_row *b)
{
    int c = strcmp(a->case_key, b->case_key);
    if (!c)
        c = strcmp(a->backend, b->backend);
    if (!c)
        c = strcmp(a->variant, b->variant);
    return c;
}

mc_status mc_compare_match_sets(const mc_timing_set *b, const mc_timing_set *c, bool paired, mc_compare_match *m,
                                mc_err *err)
{
    int cap = b->count < c->count ? b->count : c->count;
    memset(m, 0, sizeof *m);
    m->items = calloc((size_t)(cap ? cap : 1), sizeof *m->items);
    m->base_rows = calloc((size_t)(cap ? cap : 1), sizeof *m->base_rows);
    m->cand_rows = calloc((size_t)(cap ? cap : 1), sizeof *m->cand_rows);
    m->no_baseline = calloc((size_t)(c->count ? c->count : 1), sizeof *m->no_baseline);
    if (!m->items || !m->base_rows || !m->cand_rows || !m->no_baseline)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory to match %d timings", cap);
    for (int i = 0, j = 0; j < c->count;) {
        int order = i < b->count ? compare_rows(&b->rows[i], &c->rows[j]) : 1;
        if (order < 0) {
            i++;
            continue;
        }
        if (order > 0) {
            m->no_baseline[m->n_no_baseline++] = &c->rows[j++];
            continue;
        }
        const mc_timing_row *br = &b->rows[i++], *cr = &c->rows[j++];
        m->base_rows[m->n] = br;
        m->cand_rows[m->n] = cr;
        m->items[m->n++] = (mc_compare_item){
            .case_key = cr->case_key, .op = cr->op, .params_json = cr->params_json, .backend = cr->backend,
            .variant = cr->variant, .base_hash = br->code_hash, .cand_hash = cr->code_hash,
            .base = br->timing.samples_ns, .cand = cr->timing.samples_ns, .n_base = br->timing.n,
            .n_cand = cr->timing.n, .paired = paired};
    }
    return MC_OK;
}

void mc_compare_match_free(mc_compare_match *m)
{
    free(m->items);
    free(m->base_rows);
    free(m->cand_rows);
    free(m->no_baseline);
    memset(m, 0, sizeof *m);
}

static mc_status store_verdicts(mc_store *s, const mc_compare_outcome *o, const mc_compare_cfg *cfg, mc_err *err)
{
    const mc_compare_match *m = &o->m;
    mc_verdict_row *rows = calloc((size_t)(m->n ? m->n : 1), sizeof *rows);
    if (!rows)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for %d verdicts", m->n);
    int n = 0;
    for (int i = 0; i < m->n; i++) {
        const mc_compare_item *it = &m->items[i];
        if (!isfinite(it->ratio))
            continue; /* invalid timings have no ratio to store; the output lists them */
        rows[n++] = (mc_verdict_row){
            .base_run_id = o->base.id, .cand_run_id = o->cand.id, .case_id = m->cand_rows[i]->case_id,
            .base_variant_id = m->base_rows[i]->variant_id, .cand_variant_id = m->cand_rows[i]->variant_id,
            .method = it->paired ? "paired" : "mann-whitney", .ratio = it->ratio,
            .ci_lo = it->ci_bounded ? it->ci_lo : NAN, .ci_hi = it->ci_bounded ? it->ci_hi : NAN, .p = it->p,
            .q = it->q, .threshold = cfg->threshold, .verdict = mc_verdict_name(it->verdict), .label = it->label,
            .same_code = it->same_code};
    }
    mc_status st = mc_store_add_verdicts(s, rows, n, err);
    free(rows);
    return st;
}

static mc_status check_pair(const mc_run_record *base, const mc_run_record *cand, bool force, mc_err *err)
{
    if (base->id == cand->id)
        return mc_err_set(err, MC_ERR_USAGE, "base and candidate are the same run (%" PRId64 ")", cand->id);
    if (strcmp(base->fingerprint, cand->fingerprint) != 0 && !force)
        return mc_err_set(err, MC_ERR_CONFIG,
                          "runs %" PRId64 " and %" PRId64 " come from different machines (fingerprints %s and %s): "
                          "timings do not compare; --force to compare anyway",
                          base->id, cand->id, base->fingerprint, cand->fingerprint);
    return MC_OK;
}

mc_status mc_compare_runs(mc_store *s, int64_t base_run, int64_t cand_run, const mc_compare_runs_opts *opts,
                          mc_compare_outcome *out, mc_err *err)
{
    memset(out, 0, sizeof *out);
    mc_status st = mc_store_get_run(s, cand_run, &out->cand, err);
    if (!st)
        st = mc_store_get_run(s, base_run, &out->base, err);
    if (!st)
        st = check_pair(&out->base, &out->cand, opts->force, err);
    if (!st)
        st = mc_store_load_timings(s, out->base.id, &out->base_timings, err);
    if (!st)
        st = mc_store_load_timings(s, out->cand.id, &out->cand_timings, err);
    const mc_run_record *b = &out->base, *c = &out->cand;
    bool paired = (c->paired_with == b->id || b->paired_with == c->id) && strcmp(c->mode, MC_RUN_PAIRED) == 0 &&
                  strcmp(b->mode, MC_RUN_PAIRED) == 0;
    if (!st)
        st = mc_compare_match_sets(&out->base_timings, &out->cand_timings, paired, &out->m, err);
    if (st || out->m.n == 0)
        return st; /* nothing in common: no verdict, nothing stored */
    st = mc_compare_items(&opts->cfg, out->m.items, out->m.n, err);
    if (!st)
        st = mc_compare_group_regressions(out->m.items, out->m.n, &out->groups, &out->n_groups, err);
    if (!st)
        st = store_verdicts(s, out, &opts->cfg, err);
    if (!st)
        out->regression = mc_compare_any_regression(out->m.items, out->m.n);
    return st;
}

void mc_compare_outcome_free(mc_compare_outcome *out)
{
    free(out->groups);
    mc_compare_match_free(&out->m);
    mc_timing_set_free(&out->base_timings);
    mc_timing_set_free(&out->cand_timings);
    out->groups = NULL;
    out->n_groups = 0;
}

mc_status mc_compare_default_base(mc_store *s, int64_t cand_run, bool fingerprint_any, int64_t *base_run,
                                  mc_err *err)
{
    mc_run_record cand;
    *base_run = 0;
    mc_status st = mc_store_get_run(s, cand_run, &cand, err);
    if (st)
        return st;
    if (cand.paired_with) {
        *base_run = cand.paired_with;
        return MC_OK;
    }
    mc_run_query q = {.commit_prefix = cand.parent, .fingerprint = fingerprint_any ? NULL : cand.fingerprint,
                      .with_timings = cand.n_timings > 0};
    mc_err none = {0};
    st = mc_store_best_base(s, &q, cand.id, base_run, &none);
    if (st == MC_ERR_CONFIG) { /* no such run: no base, not an error */
        *base_run = 0;
        return MC_OK;
    }
    if (st)
        *err = none;
    return st;
}
