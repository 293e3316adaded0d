/* reports/report_load.c: reads what the report shows from the store into an rp_report.
 *
 * What it reads, so that a big database stays fast:
 *   0. The candidate's and the base's logical runs (report_runs.c): a run and the shards merged
 *      with it are read as one run everywhere below.
 *   1. The candidate's results, once, in one walk without samples: counts by kind, failures (at
 *      most RP_MAX_FAILURE_ROWS of each kind), coverage cells (merged in a hash table) and its
 *      timing summaries (sweeps, roofline); then the captured output of the failures shown, when
 *      the store keeps one (a result column `output`; older stores have none).
 *   2. The verdicts stored for (base, candidate); when there are none, both runs' samples, which
 *      mc_compare_items turns into verdicts here (nothing is written back: storing is check's job);
 *      then the candidate's timed pairs that have no base timing (report_baseline.c).
 *   3. The timing summaries (no samples) of the newest opts.history_runs timed runs of the
 *      candidate's machine, for the history charts (report_history.c).
 * SPDX-License-Identifier: MIT */
#include "report_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/case.h"
#include "core/op.h"
#include "db/compare_runs.h"
#include "db/store_peaks.h"
#include "stats/peaks.h"
#include "html.h"

#define PEAK_MAX_THREADS 64  /* stats/peaks.c's limit */

bool rp_grow(void **items, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return true;
    int grown = *cap ? *cap : 16;
    while (grown < need)
        grown *= 2;
    void *p = realloc(*items, (size_t)grown * elem);
    if (!p)
        return false;
    *items = p;
    *cap = grown;
    return true;
}

char *rp_strdup(const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s ? s : "", n);
    return d;
}

void rp_sort(void *items, int n, size_t elem, int (*cmp)(const void *, const void *))
{
    if (items && n > 1)
        qsort(items, (size_t)n, elem, cmp);
}

void rp_copy(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- params ---- */

void rp_params_parse(const char *json, rp_params *out)
{
    mc_json_params_parse(json, out);
}

const rp_param *rp_param_find(const rp_params *ps, const char *name)
{
    return mc_json_params_find(ps, name);
}

/* ---- the candidate's results ---- */

/* Failures are listed by how much they say about the kernel: memory safety first. */
static const mc_result_kind failure_order[] = {
    MC_RESULT_CRASH,          MC_RESULT_TIMEOUT,    MC_RESULT_FAIL_GUARD,      MC_RESULT_FAIL_INPUT_MODIFIED,
    MC_RESULT_FAIL_UNWRITTEN, MC_RESULT_FAIL_NAN,   MC_RESULT_FAIL_BOUND,      MC_RESULT_FAIL_MISTRUSTED,
    MC_RESULT_FAIL_DISPATCH,  MC_RESULT_FAIL_NONDETERMINISM, MC_RESULT_FAIL_COVERAGE, MC_RESULT_ERROR,
};

static int failure_rank(mc_result_kind k)
{
    for (size_t i = 0; i < sizeof failure_order / sizeof failure_order[0]; i++)
        if (failure_order[i] == k)
            return (int)i;
    return (int)(sizeof failure_order / sizeof failure_order[0]);
}

typedef struct cov_index {
    int *slots; /* open addressing: index into r->cov, or -1 */
    int cap;    /* power of two */
} cov_index;

typedef struct result_walk {
    rp_report *r;
    int64_t run_id;                     /* the part being walked */
    cov_index idx;
    int kept_of_kind[MC_RESULT_COUNT];
    mc_status st;
    mc_err *err;
} result_walk;

static int nomem(result_walk *w, const char *what)
{
    w->st = mc_err_set(w->err, MC_ERR_NOMEM, "no memory for %s", what);
    return 1;
}

static int layout_bit(rp_report *r, const char *name)
{
    for (int i = 0; i < r->n_layouts; i++)
        if (strcmp(r->layouts[i], name) == 0)
            return i;
    if (r->n_layouts == RP_MAX_LAYOUT_NAMES)
        return -1;
    rp_copy(r->layouts[r->n_layouts], sizeof r->layouts[0], name);
    return r->n_layouts++;
}

/* The coverage coordinates of a case: its dtype (weights first for quantised GEMV), the layouts
 * of its tensors ("contiguous" when all are, else the non-contiguous ones by tensor) and its
 * alignment. */
static void coverage_of(rp_report *r, const char *params_json, rp_cov *c)
{
    rp_params ps;
    rp_params_parse(params_json, &ps);
    const rp_param *dtype = rp_param_find(&ps, "dtype"), *wtype = rp_param_find(&ps, "wtype");
    const rp_param *align = rp_param_find(&ps, "align");
    if (wtype && strcmp(wtype->text, "same") != 0)
        snprintf(c->dtype, sizeof c->dtype, "%.11s/%.11s", wtype->text, dtype ? dtype->text : "?");
    else
        rp_copy(c->dtype, sizeof c->dtype, dtype ? dtype->text : "-");
    rp_copy(c->align, sizeof c->align, align ? align->text : "-");
    size_t len = 0;
    c->layout[0] = '\0';
    c->layout_bits = 0;
    for (int i = 0; i < ps.n; i++) {
        const rp_param *p = &ps.p[i];
        if (strncmp(p->name, "layout", 6) != 0)
            continue;
        int bit = layout_bit(r, p->text);
        if (bit >= 0)
            c->layout_bits |= 1u << bit;
        if (strcmp(p->text, "contiguous") == 0 || len >= sizeof c->layout)
            continue;
        const char *tensor = p->name[6] == '_' ? p->name + 7 : "";
        len += (size_t)snprintf(c->layout + len, sizeof c->layout - len, "%s%s%s%s", len ? " " : "", tensor,
                                *tensor ? ":" : "", p->text);
    }
    if (!c->layout[0])
        rp_copy(c->layout, sizeof c->layout, c->layout_bits ? "contiguous" : "-");
}

static uint64_t cov_hash(const rp_cov *c)
{
    char key[320];
    snprintf(key, sizeof key, "%s|%s|%s|%s|%s|%s", c->op, c->backend, c->variant, c->dtype, c->layout, c->align);
    return mc_hash_str(key);
}

static bool cov_same(const rp_cov *a, const rp_cov *b)
{
    return !strcmp(a->variant, b->variant) && !strcmp(a->backend, b->backend) && !strcmp(a->op, b->op) &&
           !strcmp(a->dtype, b->dtype) && !strcmp(a->layout, b->layout) && !strcmp(a->align, b->align);
}

static bool cov_rehash(rp_report *r, cov_index *idx, int cap)
{
    int *slots = malloc((size_t)cap * sizeof *slots);
    if (!slots)
        return false;
    for (int i = 0; i < cap; i++)
        slots[i] = -1;
    for (int i = 0; i < r->n_cov; i++) {
        uint64_t h = cov_hash(&r->cov[i]);
        int at = (int)(h & (uint64_t)(cap - 1));
        while (slots[at] >= 0)
            at = (at + 1) & (cap - 1);
        slots[at] = i;
    }
    free(idx->slots);
    idx->slots = slots;
    idx->cap = cap;
    return true;
}

/* Adds one result to its coverage cell, creating the cell when new. */
static bool cov_add(rp_report *r, cov_index *idx, const rp_cov *c, mc_result_kind kind)
{
    if (2 * (r->n_cov + 1) > idx->cap && !cov_rehash(r, idx, idx->cap ? 2 * idx->cap : 256))
        return false;
    int at = (int)(cov_hash(c) & (uint64_t)(idx->cap - 1));
    while (idx->slots[at] >= 0 && !cov_same(&r->cov[idx->slots[at]], c))
        at = (at + 1) & (idx->cap - 1);
    if (idx->slots[at] < 0) {
        if (!rp_grow((void **)&r->cov, &r->cap_cov, r->n_cov + 1, sizeof *r->cov))
            return false;
        r->cov[r->n_cov] = *c;
        idx->slots[at] = r->n_cov++;
    }
    rp_cov *cell = &r->cov[idx->slots[at]];
    if (kind == MC_RESULT_PASS)
        cell->pass++;
    else if (kind == MC_RESULT_SKIP)
        cell->skip++;
    else
        cell->fail++;
    return true;
}

static int keep_failure(result_walk *w, const mc_stored_result *sr)
{
    rp_report *r = w->r;
    r->n_failures_total++;
    if (w->kept_of_kind[sr->res.kind]++ >= RP_MAX_FAILURE_ROWS)
        return 0;
    if (!rp_grow((void **)&r->failures, &r->cap_failures, r->n_failures + 1, sizeof *r->failures))
        return nomem(w, "failures");
    rp_failure *f = &r->failures[r->n_failures];
    memset(f, 0, sizeof *f);
    f->key = rp_strdup(sr->case_key);
    if (!f->key)
        return nomem(w, "failures");
    rp_copy(f->op, sizeof f->op, sr->op);
    rp_copy(f->backend, sizeof f->backend, sr->backend);
    rp_copy(f->variant, sizeof f->variant, sr->variant);
    f->res = sr->res;
    f->run_id = w->run_id;
    f->case_id = sr->case_id;
    f->variant_id = sr->variant_id;
    r->n_failures++;
    return 0;
}

static int keep_timed(result_walk *w, const mc_stored_result *sr)
{
    rp_report *r = w->r;
    if (!rp_grow((void **)&r->timed, &r->cap_timed, r->n_timed + 1, sizeof *r->timed))
        return nomem(w, "timings");
    rp_timed *t = &r->timed[r->n_timed];
    memset(t, 0, sizeof *t);
    t->key = rp_strdup(sr->case_key);
    t->params = rp_strdup(sr->params_json);
    r->n_timed++;
    if (!t->key || !t->params)
        return nomem(w, "timings");
    rp_copy(t->op, sizeof t->op, sr->op);
    rp_copy(t->backend, sizeof t->backend, sr->backend);
    rp_copy(t->variant, sizeof t->variant, sr->variant);
    t->median_ns = sr->median_ns;
    t->gflops = sr->gflops;
    t->gbs = sr->gbs;
    return 0;
}

/* A coverage failure is stored under a pseudo-case whose op may be another op's: the variant's
 * own op comes from the caller's variant list when this binary knows it. */
static int keep_gated(result_walk *w, const mc_stored_result *sr)
{
    rp_report *r = w->r;
    if (!rp_grow((void **)&r->gated, &r->cap_gated, r->n_gated + 1, sizeof *r->gated))
        return nomem(w, "coverage failures");
    rp_gated *g = &r->gated[r->n_gated++];
    const mc_report_variant *v = rp_find_variant(r, sr->variant);
    rp_copy(g->op, sizeof g->op, v ? mc_op_get(v->op)->name : sr->op);
    rp_copy(g->backend, sizeof g->backend, sr->backend);
    rp_copy(g->variant, sizeof g->variant, sr->variant);
    rp_copy(g->message, sizeof g->message, sr->res.message);
    return 0;
}

static int visit_result(const mc_stored_result *sr, void *user)
{
    result_walk *w = user;
    rp_report *r = w->r;
    r->n_results++;
    r->kind_count[sr->res.kind]++;
    if (sr->res.kind == MC_RESULT_FAIL_COVERAGE)
        return keep_gated(w, sr) || keep_failure(w, sr);
    rp_cov c;
    memset(&c, 0, sizeof c);
    rp_copy(c.op, sizeof c.op, sr->op);
    rp_copy(c.backend, sizeof c.backend, sr->backend);
    rp_copy(c.variant, sizeof c.variant, sr->variant);
    coverage_of(r, sr->params_json, &c);
    if (!cov_add(r, &w->idx, &c, sr->res.kind))
        return nomem(w, "coverage");
    if (mc_result_kind_is_failure(sr->res.kind) && keep_failure(w, sr))
        return 1;
    if (sr->has_timing && sr->median_ns > 0 && keep_timed(w, sr))
        return 1;
    return 0;
}

static int failure_cmp(const void *a, const void *b)
{
    const rp_failure *x = a, *y = b;
    int d = failure_rank(x->res.kind) - failure_rank(y->res.kind);
    if (d)
        return d;
    d = strcmp(x->key, y->key);
    return d ? d : strcmp(x->variant, y->variant);
}

/* The tail of each shown failure's captured output, when the store has the column (a store of an
 * older metallic-check has none: the page shows none, nothing fails). */
static mc_status load_outputs(mc_store *s, rp_report *r, mc_err *err)
{
    char sql[256], text[RP_MAX_OUTPUT * 4]; /* substr counts characters: up to 4 bytes each */
    mc_status st = mc_store_query_text(
        s, "SELECT count(*) FROM pragma_table_info('result') WHERE name = 'output'", text, sizeof text, err);
    r->have_output = !st && atoi(text) > 0;
    for (int i = 0; !st && r->have_output && i < r->n_failures; i++) {
        rp_failure *f = &r->failures[i];
        snprintf(sql, sizeof sql,
                 "SELECT CASE WHEN length(output) > %d THEN substr(output, length(output) - %d) ELSE output END "
                 "FROM result WHERE run_id = %lld AND case_id = %lld AND variant_id = %lld", /* both engines' SQL */
                 RP_MAX_OUTPUT, RP_MAX_OUTPUT - 1, (long long)f->run_id, (long long)f->case_id, (long long)f->variant_id);
        st = mc_store_query_text(s, sql, text, sizeof text, err);
        if (!st && text[0] && !(f->output = rp_strdup(text)))
            st = mc_err_set(err, MC_ERR_NOMEM, "no memory for captured output");
    }
    return st;
}

static mc_status load_results(mc_store *s, rp_report *r, mc_err *err)
{
    result_walk w = {.r = r, .err = err};
    mc_status st = MC_OK;
    for (int k = 0; !st && k < r->cand_set.n; k++) {
        w.run_id = r->cand_set.id[k];
        st = mc_store_each_result(s, w.run_id, false, visit_result, &w, err);
        if (!st)
            st = w.st;
    }
    free(w.idx.slots);
    if (st)
        return st;
    rp_sort(r->failures, r->n_failures, sizeof *r->failures, failure_cmp);
    for (int i = RP_MAX_FAILURE_ROWS; i < r->n_failures; i++)
        free(r->failures[i].key);
    if (r->n_failures > RP_MAX_FAILURE_ROWS)
        r->n_failures = RP_MAX_FAILURE_ROWS;
    return load_outputs(s, r, err);
}

/* ---- comparison ---- */

/* False for a verdict this build does not know (a newer check's "no baseline", say): such a row
 * compared nothing, and report_baseline.c counts its pair from the timings. */
static bool verdict_parse(const char *name, mc_verdict *v)
{
    for (int k = 0; k < MC_VERDICT_COUNT; k++)
        if (strcmp(mc_verdict_name((mc_verdict)k), name) == 0) {
            *v = (mc_verdict)k;
            return true;
        }
    return false;
}

static rp_change *new_change(rp_report *r, const char *key, const char *params)
{
    if (!rp_grow((void **)&r->changes, &r->cap_changes, r->n_changes + 1, sizeof *r->changes))
        return NULL;
    rp_change *c = &r->changes[r->n_changes];
    memset(c, 0, sizeof *c);
    c->key = rp_strdup(key);
    c->params = rp_strdup(params);
    r->n_changes++;
    return c->key && c->params ? c : NULL;
}

typedef struct verdict_walk {
    rp_report *r;
    mc_status st;
    mc_err *err;
} verdict_walk;

static int visit_verdict(const mc_stored_verdict *v, void *user)
{
    verdict_walk *w = user;
    mc_verdict verdict;
    if (!verdict_parse(v->verdict, &verdict))
        return 0;
    rp_change *c = new_change(w->r, v->case_key, v->params_json);
    if (!c) {
        w->st = mc_err_set(w->err, MC_ERR_NOMEM, "no memory for verdicts");
        return 1;
    }
    rp_copy(c->op, sizeof c->op, v->op);
    rp_copy(c->backend, sizeof c->backend, v->backend);
    rp_copy(c->variant, sizeof c->variant, v->variant);
    rp_copy(c->base_hash, sizeof c->base_hash, v->base_hash);
    rp_copy(c->cand_hash, sizeof c->cand_hash, v->cand_hash);
    rp_copy(c->label, sizeof c->label, v->label);
    c->ratio = v->ratio;
    c->lo = v->ci_lo;
    c->hi = v->ci_hi;
    c->bounded = isfinite(v->ci_hi) && v->ci_lo > 0;
    c->p = v->p;
    c->q = v->q;
    c->threshold = v->threshold;
    c->same_code = v->same_code;
    c->verdict = verdict;
    return 0;
}

const mc_report_variant *rp_find_variant(const rp_report *r, const char *name)
{
    for (int i = 0; i < r->opts.n_variants; i++)
        if (strcmp(r->opts.variants[i].name, name) == 0)
            return &r->opts.variants[i];
    return NULL;
}

int rp_pair_cmp(const char *key_a, const char *backend_a, const char *variant_a, const char *key_b,
                const char *backend_b, const char *variant_b)
{
    int d = strcmp(key_a, key_b);
    if (!d)
        d = strcmp(backend_a, backend_b);
    return d ? d : strcmp(variant_a, variant_b);
}

static int timing_row_cmp(const mc_timing_row *a, const mc_timing_row *b)
{
    return rp_pair_cmp(a->case_key, a->backend, a->variant, b->case_key, b->backend, b->variant);
}

static int timing_row_qcmp(const void *a, const void *b)
{
    return timing_row_cmp(a, b);
}

/* Every timing of a logical run, sorted as mc_store_load_timings sorts one run's. */
static mc_status load_timing_union(mc_store *s, const rp_run_set *set, mc_timing_set *out, mc_err *err)
{
    mc_status st = mc_store_load_timings(s, set->id[0], out, err);
    for (int k = 1; !st && k < set->n; k++) {
        mc_timing_set part = {0};
        st = mc_store_load_timings(s, set->id[k], &part, err);
        mc_timing_row *rows = st ? NULL : realloc(out->rows, (size_t)(out->count + part.count + 1) * sizeof *rows);
        if (!st && !rows)
            st = mc_err_set(err, MC_ERR_NOMEM, "no memory for %d timings", out->count + part.count);
        if (!st) { /* the rows move: their samples and params now belong to out */
            if (part.count)
                memcpy(rows + out->count, part.rows, (size_t)part.count * sizeof *rows);
            out->rows = rows;
            out->count += part.count;
            free(part.rows);
        } else {
            mc_timing_set_free(&part);
        }
    }
    if (!st && set->n > 1)
        rp_sort(out->rows, out->count, sizeof *out->rows, timing_row_qcmp);
    return st;
}

/* Verdicts from the two runs' samples, matched by (case key, backend, variant). */
static mc_status compute_verdicts(mc_store *s, rp_report *r, mc_err *err)
{
    mc_timing_set base = {0}, cand = {0};
    mc_compare_match m = {0};
    mc_status st = load_timing_union(s, &r->base_set, &base, err);
    if (!st)
        st = load_timing_union(s, &r->cand_set, &cand, err);
    bool paired = strcmp(r->cand.mode, "paired") == 0 && r->cand.paired_with == r->base.id;
    if (!st)
        st = mc_compare_match_sets(&base, &cand, paired, &m, err);
    mc_compare_item *items = m.items;
    int n = m.n;
    mc_compare_cfg cfg = r->opts.compare.threshold > 0 ? r->opts.compare : mc_compare_defaults();
    if (!st)
        st = mc_compare_items(&cfg, items, n, err);
    for (int i = 0; !st && i < n; i++) {
        const mc_compare_item *it = &items[i];
        rp_change *c = new_change(r, it->case_key, it->params_json);
        if (!c) {
            st = mc_err_set(err, MC_ERR_NOMEM, "no memory for verdicts");
            break;
        }
        rp_copy(c->op, sizeof c->op, it->op);
        rp_copy(c->backend, sizeof c->backend, it->backend);
        rp_copy(c->variant, sizeof c->variant, it->variant);
        rp_copy(c->base_hash, sizeof c->base_hash, it->base_hash);
        rp_copy(c->cand_hash, sizeof c->cand_hash, it->cand_hash);
        rp_copy(c->label, sizeof c->label, it->label);
        c->ratio = it->ratio;
        c->bounded = it->ci_bounded;
        c->lo = it->ci_bounded ? it->ci_lo : 0;
        c->hi = it->ci_bounded ? it->ci_hi : INFINITY;
        c->p = it->p;
        c->q = it->q;
        c->threshold = cfg.threshold;
        c->same_code = it->same_code;
        c->verdict = it->verdict;
    }
    mc_compare_match_free(&m);
    mc_timing_set_free(&base);
    mc_timing_set_free(&cand);
    return st;
}

static int change_key_cmp(const void *a, const void *b)
{
    const rp_change *x = a, *y = b;
    return rp_pair_cmp(x->key, x->backend, x->variant, y->key, y->backend, y->variant);
}

/* Stored verdicts of several (base part, candidate part) pairs: one per (case, variant). */
static void drop_duplicate_changes(rp_report *r)
{
    if (r->base_set.n * r->cand_set.n < 2)
        return;
    rp_sort(r->changes, r->n_changes, sizeof *r->changes, change_key_cmp);
    int kept = 0;
    for (int i = 0; i < r->n_changes; i++) {
        if (kept && change_key_cmp(&r->changes[kept - 1], &r->changes[i]) == 0) {
            free(r->changes[i].key);
            free(r->changes[i].params);
            continue;
        }
        r->changes[kept++] = r->changes[i];
    }
    r->n_changes = kept;
}

static mc_status group_changes(rp_report *r, mc_err *err)
{
    if (r->n_changes == 0)
        return MC_OK;
    mc_compare_item *items = calloc((size_t)r->n_changes, sizeof *items);
    if (!items)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory to group %d verdicts", r->n_changes);
    for (int i = 0; i < r->n_changes; i++) {
        const rp_change *c = &r->changes[i];
        items[i] = (mc_compare_item){.case_key = c->key, .op = c->op, .params_json = c->params, .backend = c->backend,
                                     .variant = c->variant, .verdict = c->verdict, .label = c->label};
    }
    mc_status st = mc_compare_group_regressions(items, r->n_changes, &r->groups, &r->n_groups, err);
    free(items);
    return st;
}

static mc_status load_changes(mc_store *s, rp_report *r, mc_err *err)
{
    if (!r->have_base) {
        rp_copy(r->compare_note, sizeof r->compare_note, "no base run: nothing to compare the candidate with");
        return MC_OK;
    }
    verdict_walk w = {.r = r, .err = err};
    mc_status st = MC_OK;
    for (int b = 0; !st && b < r->base_set.n; b++)
        for (int c = 0; !st && c < r->cand_set.n; c++) {
            st = mc_store_each_verdict(s, r->base_set.id[b], r->cand_set.id[c], visit_verdict, &w, err);
            if (!st)
                st = w.st;
        }
    if (st)
        return st;
    drop_duplicate_changes(r);
    r->verdicts_stored = r->n_changes > 0;
    if (!r->verdicts_stored && !r->same_machine)
        snprintf(r->compare_note, sizeof r->compare_note,
                 "not compared: the base ran on another machine (%s, the candidate on %s)", r->base.fingerprint,
                 r->cand.fingerprint);
    else if (!r->verdicts_stored && (r->base.n_timings == 0 || r->cand.n_timings == 0))
        snprintf(r->compare_note, sizeof r->compare_note, "not compared: the %s run holds no timings (run with --perf)",
                 r->cand.n_timings == 0 ? "candidate" : "base");
    else if (!r->verdicts_stored)
        st = compute_verdicts(s, r, err);
    if (!st)
        st = group_changes(r, err);
    return st;
}

/* ---- machine peaks ---- */

static bool this_machine(const mc_machine *stored)
{
    mc_machine now;
    mc_machine_collect(NULL, &now);
    return strcmp(now.cpu_model, stored->cpu_model) == 0 && now.cores == stored->cores &&
           strcmp(now.os, stored->os) == 0;
}

/* The roofs of db/store_peaks.c, measured with one thread per core; the report's roofline uses
 * DRAM's read and copy figures. */
static mc_status measure_peaks(mc_store *s, rp_report *r, mc_err *err)
{
    mc_peaks pk;
    bool measured = false;
    int threads = r->machine.cores > 0 ? r->machine.cores : 1;
    if (threads > PEAK_MAX_THREADS)
        threads = PEAK_MAX_THREADS;
    mc_status st = mc_store_obtain_peaks(s, &r->machine, threads, false, 1u << MC_MEM_DRAM, NULL, 0, &pk, &measured, err);
    if (!st) {
        r->read_gbs = mc_peaks_roof(&pk, MC_MEM_DRAM, MC_TRAFFIC_READ);
        r->copy_gbs = mc_peaks_roof(&pk, MC_MEM_DRAM, MC_TRAFFIC_COPY);
        r->peaks_measured = measured;
    }
    return st;
}

static mc_status peak(mc_store *s, const rp_report *r, const char *name, double *v, mc_err *err)
{
    bool found = false;
    double value = 0;
    mc_status st = mc_store_get_machine_peak(s, r->cand.fingerprint, name, &value, &found, err);
    if (!st && found && value > 0)
        *v = value;
    return st;
}

/* Without a stored compute peak, the best GEMM rate of the run is the honest roof we have. */
static void best_gemm_roof(rp_report *r)
{
    const rp_timed *best = NULL;
    for (int i = 0; i < r->n_timed; i++)
        if (strcmp(r->timed[i].op, "gemm") == 0 && (!best || r->timed[i].gflops > best->gflops))
            best = &r->timed[i];
    if (!best || !(best->gflops > 0))
        return;
    r->peak_gflops = best->gflops;
    snprintf(r->peak_gflops_source, sizeof r->peak_gflops_source,
             "the best GEMM rate measured in this run (%.60s); no compute peak is stored", best->variant);
}

/* Each bandwidth-bound case's roof at its own size, where a perf run on this machine stored one:
 * the roof its perf table row was held to (engine/perf_table.c), so both say the same share. */
static mc_status size_roofs(mc_store *s, rp_report *r, mc_err *err)
{
    char name[64];
    mc_status st = MC_OK;
    for (int i = 0; i < r->n_timed && !st; i++) {
        rp_timed *t = &r->timed[i];
        const mc_op *op = mc_op_find(t->op);
        if (!op || op->roof == MC_ROOF_COMPUTE || !(t->gbs > 0) || !(t->median_ns > 0))
            continue;
        const double bytes = floor(t->gbs * t->median_ns + 0.5); /* GB/s x ns: the op's byte count */
        mc_peaks_at_stored_name(mc_peaks_bucket(bytes), op->roof == MC_ROOF_COPY_BW ? MC_TRAFFIC_COPY : MC_TRAFFIC_READ,
                                name, sizeof name);
        st = peak(s, r, name, &t->roof_gbs, err);
    }
    return st;
}

/* Memory roofs from the store (measuring them first when allowed); the compute roof from a stored
 * "f32_gflops" peak, else the best GEMM rate this run measured, labelled as such. */
static mc_status load_peaks(mc_store *s, rp_report *r, mc_err *err)
{
    mc_status st = peak(s, r, "read_gbs", &r->read_gbs, err);
    if (!st)
        st = peak(s, r, "copy_gbs", &r->copy_gbs, err);
    if (!st && r->read_gbs == 0)
        st = peak(s, r, "dram_gbs", &r->read_gbs, err);
    if (!st)
        st = peak(s, r, "f32_gflops", &r->peak_gflops, err);
    if (!st && r->peak_gflops > 0)
        rp_copy(r->peak_gflops_source, sizeof r->peak_gflops_source, "stored peak f32_gflops");
    if (!st && r->read_gbs == 0 && r->opts.measure_peaks && r->have_machine && this_machine(&r->machine)) {
        mc_err ignored = {0}; /* a read-only store or no memory for the probe: the page goes on without */
        measure_peaks(s, r, &ignored);
    }
    if (!st && r->peak_gflops == 0)
        best_gemm_roof(r);
    return st ? st : size_roofs(s, r, err);
}

/* ---- the run's case selection, for reproducers that are not one case ---- */

static void append_quoted(char *dst, size_t cap, size_t *len, const char *word)
{
    char q[512];
    bool plain = *word && strspn(word, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=,:-") ==
                              strlen(word);
    if (plain)
        snprintf(q, sizeof q, "%s", word);
    else
        mc_shell_quote(q, sizeof q, word);
    if (*len + strlen(q) + 2 < cap)
        *len += (size_t)snprintf(dst + *len, cap - *len, " %s", q);
}

static void append_option(char *dst, size_t cap, size_t *len, const char *option, const char *value)
{
    if (!value[0])
        return;
    append_quoted(dst, cap, len, option);
    append_quoted(dst, cap, len, value);
}

/* The run's selection options (as stored when it began) and its seed (a signed 64-bit integer). */
static mc_status load_selection(mc_store *s, rp_report *r, mc_err *err)
{
    char sql[96], tok[64];
    snprintf(sql, sizeof sql, "SELECT seed FROM run WHERE id = %lld", (long long)r->cand.id);
    mc_status st = mc_store_query_text(s, sql, tok, sizeof tok, err);
    r->seed = st ? 0 : (uint64_t)strtoll(tok, NULL, 10);
    mc_run_selection sel;
    if (!st)
        st = mc_store_get_run_selection(s, r->cand.id, &sel, err);
    size_t len = 0;
    r->selection[0] = '\0';
    if (st)
        return st;
    append_option(r->selection, sizeof r->selection, &len, "--tier", sel.tier);
    append_option(r->selection, sizeof r->selection, &len, "--cases-dir", sel.cases_dir);
    for (char *file = sel.cases, *next; *file; file = next) {
        next = file + strcspn(file, "\n");
        if (*next)
            *next++ = '\0';
        append_option(r->selection, sizeof r->selection, &len, "--cases", file);
    }
    append_option(r->selection, sizeof r->selection, &len, "--backend", sel.backends);
    append_option(r->selection, sizeof r->selection, &len, "--op", sel.op);
    append_option(r->selection, sizeof r->selection, &len, "--filter", sel.filter);
    append_option(r->selection, sizeof r->selection, &len, "--shard", sel.shard);
    return MC_OK;
}

/* ---- the whole load ---- */

/* Worse statuses rank higher: a logical run is as bad as its worst part. */
static int status_rank(const char *status)
{
    static const char *const order[] = {"nothing", "passed", "incomplete", "failed", "aborted"};
    for (int i = 0; i < (int)(sizeof order / sizeof order[0]); i++)
        if (strcmp(order[i], status) == 0)
            return i;
    return 0;
}

/* The run asked for and the parts of its logical run; rec's counts become the sums over the parts
 * and its status the worst of theirs. */
static mc_status load_run(mc_store *s, int64_t id, mc_run_record *rec, rp_run_set *set, mc_err *err)
{
    mc_status st = mc_store_get_run(s, id, rec, err);
    if (!st)
        st = rp_logical_run(s, id, set, err);
    for (int k = 0; !st && k < set->n; k++) {
        mc_run_record part;
        if (set->id[k] == id || (st = mc_store_get_run(s, set->id[k], &part, err)) != MC_OK)
            continue;
        rec->n_results += part.n_results;
        rec->n_timings += part.n_timings;
        if (status_rank(part.status) > status_rank(rec->status))
            rp_copy(rec->status, sizeof rec->status, part.status);
    }
    return st;
}

mc_status rp_load(mc_store *s, const mc_report_opts *opts, rp_report *r, mc_err *err)
{
    memset(r, 0, sizeof *r);
    r->opts = *opts;
    r->cand_commit = -1;
    mc_status st = load_run(s, opts->cand_run, &r->cand, &r->cand_set, err);
    if (!st && opts->base_run) {
        st = load_run(s, opts->base_run, &r->base, &r->base_set, err);
        r->have_base = !st;
        r->same_machine = !st && strcmp(r->base.fingerprint, r->cand.fingerprint) == 0;
    }
    if (!st)
        st = mc_store_get_machine(s, r->cand.fingerprint, &r->machine, &r->have_machine, err);
    if (!st)
        st = mc_store_get_mutation_score(s, r->cand.id, &r->mut_caught, &r->mut_total, &r->have_mut, err);
    if (!st)
        st = load_selection(s, r, err);
    if (!st)
        st = load_results(s, r, err);
    if (!st)
        st = load_changes(s, r, err);
    if (!st)
        st = rp_load_no_baseline(s, r, err);
    if (!st)
        st = rp_load_env(s, r, err);
    if (!st)
        st = rp_load_history(s, r, err);
    if (!st)
        st = load_peaks(s, r, err);
    return st;
}

void rp_free(rp_report *r)
{
    for (int i = 0; i < r->n_failures; i++) {
        free(r->failures[i].key);
        free(r->failures[i].output);
    }
    for (int i = 0; i < r->n_nobase; i++)
        free(r->nobase[i].key);
    for (int i = 0; i < r->n_kcov; i++)
        rp_kcov_row_free(&r->kcov[i]);
    free(r->kcov);
    for (int i = 0; i < r->n_changes; i++) {
        free(r->changes[i].key);
        free(r->changes[i].params);
    }
    for (int i = 0; i < r->n_timed; i++) {
        free(r->timed[i].key);
        free(r->timed[i].params);
    }
    for (int i = 0; i < r->n_hist; i++) {
        free(r->hist[i].y);
        free(r->hist[i].lo);
        free(r->hist[i].hi);
        free(r->hist[i].code_changed);
        free(r->hist[i].dot_y);
        free(r->hist[i].dot_commit);
    }
    free(r->failures);
    free(r->changes);
    free(r->groups);
    free(r->cov);
    free(r->gated);
    free(r->nobase);
    free(r->timed);
    free(r->commits);
    free(r->hist);
    memset(r, 0, sizeof *r);
}
