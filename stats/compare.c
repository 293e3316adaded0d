/* stats/compare.c: per-case regression verdicts and their grouping.
 *
 * The rules (docs/statistics.md says why):
 *   1. Work on log-times, so a shift is a ratio and the threshold is symmetric:
 *      t = log(1 + threshold); slower means the log-ratio CI lies entirely above t.
 *   2. Independent runs: Hodges-Lehmann shift of log(cand) - log(base) with Moses' CI, and the
 *      Mann-Whitney p. Paired runs: median of log(cand_i / base_i), its order-statistic CI, and
 *      the sign-test p.
 *   3. Benjamini-Hochberg q-values over every item compared; slower and faster also need q < fdr.
 *   4. same: the CI lies within [-t, t]. Everything else, unbounded CIs included, is ambiguous.
 *   5. A slower or faster verdict on equal, real code hashes is labelled noise/environment.
 * SPDX-License-Identifier: MIT */
#include "compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codehash.h"
#include "stats.h"
#include "core/json.h"

mc_compare_cfg mc_compare_defaults(void)
{
    return (mc_compare_cfg){.threshold = 0.03, .fdr = 0.05, .conf = 0.95};
}

static const char *const verdict_names[] = {
    [MC_VERDICT_SAME] = "same",
    [MC_VERDICT_FASTER] = "faster",
    [MC_VERDICT_SLOWER] = "slower",
    [MC_VERDICT_AMBIGUOUS] = "ambiguous",
};
_Static_assert(sizeof verdict_names / sizeof verdict_names[0] == MC_VERDICT_COUNT, "one name per verdict");

const char *mc_verdict_name(mc_verdict v)
{
    return (int)v >= 0 && v < MC_VERDICT_COUNT ? verdict_names[v] : "unknown";
}

/* Times are positive and finite; anything else is a broken measurement, not data. */
static bool usable(const double *x, int n)
{
    if (n < 1 || !x)
        return false;
    for (int i = 0; i < n; i++)
        if (!(x[i] > 0) || !isfinite(x[i]))
            return false;
    return true;
}

static mc_status log_copy(const double *x, int n, double **out, mc_err *err)
{
    double *l = malloc((size_t)(n ? n : 1) * sizeof *l);
    if (!l)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for %d samples", n);
    for (int i = 0; i < n; i++)
        l[i] = log(x[i]);
    *out = l;
    return MC_OK;
}

/* Step 2 for one item: log-ratio estimate, its CI and p. */
static mc_status measure(const mc_compare_cfg *cfg, mc_compare_item *it, double *est, mc_interval *ci, mc_err *err)
{
    if (it->paired && it->n_base == it->n_cand) {
        mc_paired pr;
        mc_status st = mc_paired_log_ratio(it->base, it->cand, it->n_base, cfg->conf, &pr, err);
        if (st)
            return st;
        *est = pr.median_log_ratio;
        *ci = pr.ci;
        it->p = pr.p;
        return MC_OK;
    }
    it->paired = false; /* unequal counts cannot be paired */
    double *lb = NULL, *lc = NULL;
    mc_status st = log_copy(it->base, it->n_base, &lb, err);
    if (!st)
        st = log_copy(it->cand, it->n_cand, &lc, err);
    mc_mw mw;
    mc_shift sh;
    if (!st)
        st = mc_mann_whitney(lc, it->n_cand, lb, it->n_base, &mw, err);
    if (!st)
        st = mc_hodges_lehmann(lc, it->n_cand, lb, it->n_base, cfg->conf, &sh, err);
    if (!st) {
        *est = sh.estimate;
        *ci = sh.ci;
        it->p = mw.p;
    }
    free(lb);
    free(lc);
    return st;
}

static mc_verdict decide(const mc_compare_cfg *cfg, double lo, double hi, bool bounded, double q)
{
    double t = log1p(cfg->threshold);
    if (!bounded)
        return MC_VERDICT_AMBIGUOUS;
    if (lo > t && q < cfg->fdr)
        return MC_VERDICT_SLOWER;
    if (hi < -t && q < cfg->fdr)
        return MC_VERDICT_FASTER;
    if (lo >= -t && hi <= t)
        return MC_VERDICT_SAME;
    return MC_VERDICT_AMBIGUOUS;
}

mc_status mc_compare_items(const mc_compare_cfg *cfg_in, mc_compare_item *items, int n, mc_err *err)
{
    mc_compare_cfg cfg = cfg_in ? *cfg_in : mc_compare_defaults();
    if (!(cfg.threshold > 0) || !(cfg.fdr > 0 && cfg.fdr < 1) || !(cfg.conf > 0 && cfg.conf < 1))
        return mc_err_set(err, MC_ERR_USAGE, "compare: threshold > 0, 0 < fdr < 1 and 0 < conf < 1");
    if (n <= 0)
        return MC_OK;
    double *p = malloc((size_t)n * sizeof *p), *q = malloc((size_t)n * sizeof *q);
    double *lo = malloc((size_t)n * sizeof *lo), *hi = malloc((size_t)n * sizeof *hi);
    bool *bounded = calloc((size_t)n, sizeof *bounded), *valid = calloc((size_t)n, sizeof *valid);
    mc_status st = MC_OK;
    if (!p || !q || !lo || !hi || !bounded || !valid) {
        st = mc_err_set(err, MC_ERR_NOMEM, "no memory to compare %d items", n);
        goto done;
    }
    for (int i = 0; i < n && !st; i++) {
        mc_compare_item *it = &items[i];
        double est = 0;
        mc_interval ci = {.lo = -INFINITY, .hi = INFINITY};
        it->p = 1;
        valid[i] = usable(it->base, it->n_base) && usable(it->cand, it->n_cand);
        if (valid[i])
            st = measure(&cfg, it, &est, &ci, err);
        if (st) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err ? err->msg : "");
            st = mc_err_set(err, st, "%s [%s]: %s", it->case_key ? it->case_key : "?", it->variant ? it->variant : "?",
                            why);
            break;
        }
        it->ratio = valid[i] ? exp(est) : NAN;
        it->ci_bounded = ci.bounded;
        it->ci_lo = ci.bounded ? exp(ci.lo) : 0;
        it->ci_hi = ci.bounded ? exp(ci.hi) : INFINITY;
        lo[i] = ci.lo;
        hi[i] = ci.hi;
        bounded[i] = ci.bounded;
        p[i] = it->p;
    }
    if (!st)
        st = mc_bh_qvalues(p, n, q, err);
    for (int i = 0; i < n && !st; i++) {
        mc_compare_item *it = &items[i];
        it->q = q[i];
        it->verdict = decide(&cfg, lo[i], hi[i], bounded[i], q[i]);
        it->same_code =
            mc_code_hash_is_real(it->base_hash) && mc_code_hash_is_real(it->cand_hash) &&
            strcmp(it->base_hash, it->cand_hash) == 0;
        it->label = "";
        if (!valid[i])
            it->label = MC_LABEL_INVALID;
        else if ((it->verdict == MC_VERDICT_SLOWER || it->verdict == MC_VERDICT_FASTER) && it->same_code)
            it->label = MC_LABEL_NOISE;
        else if (it->verdict == MC_VERDICT_SLOWER)
            it->label = MC_LABEL_REGRESSION;
        else if (it->verdict == MC_VERDICT_FASTER)
            it->label = MC_LABEL_IMPROVEMENT;
    }
done:
    free(p);
    free(q);
    free(lo);
    free(hi);
    free(bounded);
    free(valid);
    return st;
}

bool mc_compare_any_regression(const mc_compare_item *items, int n)
{
    for (int i = 0; i < n; i++)
        if (items[i].label && strcmp(items[i].label, MC_LABEL_REGRESSION) == 0)
            return true;
    return false;
}

/* ---- grouping by shared parameters ---- */

/* One condition on a parameter: equal to a word or number, >= a number, or <= a number. */
typedef enum cond_kind { COND_EQ, COND_GE, COND_LE } cond_kind;

typedef struct cond {
    char name[32];
    cond_kind kind;
    bool is_num;
    double num;
    char text[64];
} cond;

static bool cond_holds(const cond *c, const mc_json_params *ps)
{
    const mc_json_param *p = mc_json_params_find(ps, c->name);
    if (!p || p->is_num != c->is_num)
        return false;
    if (!c->is_num)
        return strcmp(p->text, c->text) == 0;
    return c->kind == COND_EQ ? p->num == c->num : c->kind == COND_GE ? p->num >= c->num : p->num <= c->num;
}

typedef struct group_work {
    mc_json_params *sets;   /* per item of the group */
    bool *regressed;   /* per item of the group */
    int n;
    cond conds[2 * MC_JSON_MAX_PARAMS];
    bool use[2 * MC_JSON_MAX_PARAMS];
    int n_conds;
} group_work;

/* How many unregressed items satisfy every condition in use. */
static int unregressed_matching(const group_work *g)
{
    int count = 0;
    for (int i = 0; i < g->n; i++) {
        if (g->regressed[i])
            continue;
        bool all = true;
        for (int c = 0; c < g->n_conds && all; c++)
            all = !g->use[c] || cond_holds(&g->conds[c], &g->sets[i]);
        count += all;
    }
    return count;
}

/* Candidate conditions: each holds for every regressed item and excludes some unregressed one. */
static void candidate_conds(group_work *g)
{
    const mc_json_params *first = NULL;
    for (int i = 0; i < g->n && !first; i++)
        if (g->regressed[i])
            first = &g->sets[i];
    g->n_conds = 0;
    for (int k = 0; first && k < first->n; k++) {
        const mc_json_param *p0 = &first->p[k];
        double lo = p0->num, hi = p0->num;
        bool same_text = true, consistent = true;
        for (int i = 0; i < g->n; i++) {
            const mc_json_param *p = mc_json_params_find(&g->sets[i], p0->name);
            if (!g->regressed[i])
                continue;
            if (!p || p->is_num != p0->is_num) {
                consistent = false;
                break;
            }
            same_text &= strcmp(p->text, p0->text) == 0;
            lo = fmin(lo, p->num);
            hi = fmax(hi, p->num);
        }
        if (!consistent)
            continue;
        cond c = {.is_num = p0->is_num};
        snprintf(c.name, sizeof c.name, "%s", p0->name);
        if (!p0->is_num || lo == hi) {
            if (!p0->is_num && !same_text)
                continue;
            c.kind = COND_EQ;
            c.num = lo;
            snprintf(c.text, sizeof c.text, "%s", p0->text);
            g->conds[g->n_conds++] = c;
            continue;
        }
        c.kind = COND_GE;
        c.num = lo;
        snprintf(c.text, sizeof c.text, "%g", lo);
        g->conds[g->n_conds++] = c;
        c.kind = COND_LE;
        c.num = hi;
        snprintf(c.text, sizeof c.text, "%g", hi);
        g->conds[g->n_conds++] = c;
    }
    /* keep only conditions that exclude at least one unregressed item */
    int kept = 0;
    for (int c = 0; c < g->n_conds; c++) {
        bool excludes = false;
        for (int i = 0; i < g->n && !excludes; i++)
            excludes = !g->regressed[i] && !cond_holds(&g->conds[c], &g->sets[i]);
        if (excludes)
            g->conds[kept++] = g->conds[c];
    }
    g->n_conds = kept;
}

static void describe_group(group_work *g, const char *one_key, mc_compare_group *out)
{
    int n_unregressed = g->n - out->n_regressed;
    out->exact = true;
    if (g->n == 1) {
        snprintf(out->description, sizeof out->description, "slower for %s, the only case compared", one_key);
        return;
    }
    if (n_unregressed == 0) {
        snprintf(out->description, sizeof out->description, "slower for all %d cases compared", g->n);
        return;
    }
    if (out->n_regressed == 1) {
        snprintf(out->description, sizeof out->description, "slower only for %s", one_key);
        return;
    }
    candidate_conds(g);
    for (int c = 0; c < g->n_conds; c++)
        g->use[c] = true;
    int matching = unregressed_matching(g);
    /* drop every condition that is not needed to exclude what the full set excludes */
    for (int c = 0; c < g->n_conds; c++) {
        g->use[c] = false;
        if (unregressed_matching(g) != matching)
            g->use[c] = true;
    }
    size_t len = 0;
    out->exact = matching == 0;
    len += (size_t)snprintf(out->description, sizeof out->description, "slower %sfor ", out->exact ? "only " : "");
    int written = 0;
    for (int c = 0; c < g->n_conds && len < sizeof out->description; c++) {
        if (!g->use[c])
            continue;
        static const char *const ops[] = {[COND_EQ] = "=", [COND_GE] = ">=", [COND_LE] = "<="};
        len += (size_t)snprintf(out->description + len, sizeof out->description - len, "%s%s%s%s",
                                written ? ", " : "", g->conds[c].name, ops[g->conds[c].kind], g->conds[c].text);
        written++;
    }
    if (!written)
        snprintf(out->description, sizeof out->description, "slower in %d of %d cases, with no parameter in common",
                 out->n_regressed, g->n);
    else if (!out->exact && len < sizeof out->description)
        snprintf(out->description + len, sizeof out->description - len, " (%d unregressed cases match too)", matching);
}

static bool same_group(const mc_compare_item *a, const mc_compare_item *b)
{
    return strcmp(a->op ? a->op : "", b->op ? b->op : "") == 0 &&
           strcmp(a->backend ? a->backend : "", b->backend ? b->backend : "") == 0 &&
           strcmp(a->variant ? a->variant : "", b->variant ? b->variant : "") == 0;
}

static bool is_regression(const mc_compare_item *it)
{
    return it->label && strcmp(it->label, MC_LABEL_REGRESSION) == 0;
}

mc_status mc_compare_group_regressions(const mc_compare_item *items, int n, mc_compare_group **groups, int *count,
                                       mc_err *err)
{
    *groups = NULL;
    *count = 0;
    bool *done = calloc((size_t)(n ? n : 1), sizeof *done);
    group_work g = {.sets = malloc((size_t)(n ? n : 1) * sizeof *g.sets),
                    .regressed = malloc((size_t)(n ? n : 1) * sizeof *g.regressed)};
    mc_status st = MC_OK;
    if (!done || !g.sets || !g.regressed) {
        st = mc_err_set(err, MC_ERR_NOMEM, "no memory to group %d items", n);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        if (done[i] || !is_regression(&items[i]))
            continue;
        mc_compare_group grp = {0};
        g.n = 0;
        const char *one_key = items[i].case_key;
        for (int j = 0; j < n; j++) {
            if (!same_group(&items[i], &items[j]))
                continue;
            done[j] = true;
            mc_json_params_parse(items[j].params_json, &g.sets[g.n]);
            g.regressed[g.n] = is_regression(&items[j]);
            grp.n_regressed += g.regressed[g.n];
            g.n++;
        }
        grp.n_compared = g.n;
        snprintf(grp.op, sizeof grp.op, "%s", items[i].op ? items[i].op : "");
        snprintf(grp.backend, sizeof grp.backend, "%s", items[i].backend ? items[i].backend : "");
        snprintf(grp.variant, sizeof grp.variant, "%s", items[i].variant ? items[i].variant : "");
        describe_group(&g, one_key ? one_key : "?", &grp);
        mc_compare_group *grown = realloc(*groups, (size_t)(*count + 1) * sizeof *grown);
        if (!grown) {
            st = mc_err_set(err, MC_ERR_NOMEM, "no memory for regression groups");
            break;
        }
        *groups = grown;
        (*groups)[(*count)++] = grp;
    }
out:
    free(done);
    free(g.sets);
    free(g.regressed);
    if (st) {
        free(*groups);
        *groups = NULL;
        *count = 0;
    }
    return st;
}
