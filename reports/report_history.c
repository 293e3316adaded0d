/* reports/report_history.c: each kernel variant's history over the commits of its machine.
 *
 * 1. Runs are grouped into logical runs (report_runs.c): the shards of one run count as one.
 * 2. Per variant and logical run, the level is the geometric mean over the variant's cases in that
 *    run of (median time / that case's median over the runs shown), so cases of any size count
 *    alike and a case missing from some runs does not move the level. The band uses median -+ MAD
 *    the same way.
 * 3. A commit's point is the median of its logical runs' levels: one outlier run among several
 *    cannot drag it (a mean did, drawing a regressed kernel as faster). Each run stays a dot.
 * 4. The change points come from mc_change_points over the commits that have a point.
 * SPDX-License-Identifier: MIT */
#include "report_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/codehash.h"
#include "stats/stats.h"

#define HISTORY_RUNS_DEFAULT 100

typedef struct hrow {
    int run, var;
    int64_t case_id;
    double med, mad;
    char hash[MC_HASH_LEN];
} hrow;

typedef struct hvar {
    char op[32], backend[16], variant[64];
} hvar;

typedef struct hist_walk {
    rp_report *r;
    hrow *rows;
    int n_rows, cap_rows;
    int64_t *run_ids;
    int *run_commit;
    int n_runs, cap_runs, cap_run_commit, cap_commits;
    hvar *vars;
    int n_vars, cap_vars, last_var;
    mc_status st;
    mc_err *err;
} hist_walk;

static int hist_nomem(hist_walk *w)
{
    w->st = mc_err_set(w->err, MC_ERR_NOMEM, "no memory for the history");
    return 1;
}

static int commit_index(hist_walk *w, const char *commit)
{
    rp_report *r = w->r;
    for (int i = r->n_commits - 1; i >= 0; i--)
        if (strcmp(r->commits[i], commit) == 0)
            return i;
    if (!rp_grow((void **)&r->commits, &w->cap_commits, r->n_commits + 1, sizeof *r->commits))
        return -1;
    rp_copy(r->commits[r->n_commits], sizeof r->commits[0], commit);
    return r->n_commits++;
}

static int var_index(hist_walk *w, const mc_history_timing *t)
{
    for (int k = 0; k <= w->n_vars; k++) {
        int i = k == 0 ? w->last_var : k - 1; /* rows come in runs of one variant: try the last first */
        if (i < 0 || i >= w->n_vars)
            continue;
        const hvar *v = &w->vars[i];
        if (!strcmp(v->variant, t->variant) && !strcmp(v->backend, t->backend) && !strcmp(v->op, t->op))
            return w->last_var = i;
    }
    if (!rp_grow((void **)&w->vars, &w->cap_vars, w->n_vars + 1, sizeof *w->vars))
        return -1;
    hvar *v = &w->vars[w->n_vars];
    rp_copy(v->op, sizeof v->op, t->op);
    rp_copy(v->backend, sizeof v->backend, t->backend);
    rp_copy(v->variant, sizeof v->variant, t->variant);
    return w->last_var = w->n_vars++;
}

static int visit_history(const mc_history_timing *t, void *user)
{
    hist_walk *w = user;
    if (w->n_runs == 0 || w->run_ids[w->n_runs - 1] != t->run_id) {
        int c = commit_index(w, t->commit);
        if (c < 0 || !rp_grow((void **)&w->run_ids, &w->cap_runs, w->n_runs + 1, sizeof *w->run_ids) ||
            !rp_grow((void **)&w->run_commit, &w->cap_run_commit, w->n_runs + 1, sizeof *w->run_commit))
            return hist_nomem(w);
        w->run_ids[w->n_runs] = t->run_id;
        w->run_commit[w->n_runs++] = c;
    }
    int v = var_index(w, t);
    if (v < 0 || !rp_grow((void **)&w->rows, &w->cap_rows, w->n_rows + 1, sizeof *w->rows))
        return hist_nomem(w);
    hrow *h = &w->rows[w->n_rows++];
    h->run = w->n_runs - 1;
    h->var = v;
    h->case_id = t->case_id;
    h->med = t->median_ns;
    h->mad = t->mad_ns;
    rp_copy(h->hash, sizeof h->hash, t->code_hash);
    return 0;
}

static int hrow_cmp(const void *a, const void *b)
{
    const hrow *x = a, *y = b;
    if (x->var != y->var)
        return x->var < y->var ? -1 : 1;
    if (x->case_id != y->case_id)
        return x->case_id < y->case_id ? -1 : 1;
    return (x->run > y->run) - (x->run < y->run);
}

static double median_of(double *v, int n)
{
    mc_stats_sort(v, n);
    return mc_stats_median_sorted(v, n);
}

/* Change points of the series' commits that have data, and the level ratio at each. */
static mc_status find_change_points(rp_history *h, int n_commits, mc_err *err)
{
    double *ys = malloc((size_t)n_commits * sizeof *ys), *seg = malloc((size_t)n_commits * sizeof *seg);
    int *at = malloc((size_t)n_commits * sizeof *at);
    mc_status st = MC_OK;
    if (!ys || !seg || !at) {
        st = mc_err_set(err, MC_ERR_NOMEM, "no memory for change points");
        goto done;
    }
    int m = 0;
    for (int c = 0; c < n_commits; c++)
        if (isfinite(h->y[c])) {
            at[m] = c;
            ys[m++] = h->y[c];
        }
    int idx[16], n = 0;
    mc_cp_cfg cfg = mc_cp_defaults();
    st = mc_change_points(ys, m, &cfg, idx, 16, &n, err);
    for (int k = 0; !st && k < n; k++) {
        int from = k ? idx[k - 1] : 0, mid = idx[k], to = k + 1 < n ? idx[k + 1] : m;
        memcpy(seg, ys + from, (size_t)(mid - from) * sizeof *seg);
        double before = median_of(seg, mid - from);
        memcpy(seg, ys + mid, (size_t)(to - mid) * sizeof *seg);
        double after = median_of(seg, to - mid);
        h->cps[k] = at[mid];
        h->cp_ratio[k] = after / before;
    }
    h->n_cps = st ? 0 : n;
done:
    free(ys);
    free(seg);
    free(at);
    return st;
}

/* Per-variant sums by logical run, and the logical runs of each commit (lruns_of[c_start[c] ..
 * c_start[c + 1]) are commit c's). */
typedef struct hist_acc {
    double *sum, *slo, *shi;            /* per logical run */
    int *cnt;
    char (*hash)[MC_HASH_LEN];          /* per commit: the first code hash seen */
    int *run_lrun, *lrun_commit, *lruns_of, *c_start;
    int n_lruns;
    double *levels;                     /* scratch: one commit's levels */
} hist_acc;

/* Folds the rows [i, j) of one (variant, case) into the per-run sums. */
static void accumulate_case(const hist_walk *w, int i, int j, double *scratch, hist_acc *a)
{
    for (int k = i; k < j; k++)
        scratch[k - i] = w->rows[k].med;
    double base = median_of(scratch, j - i);
    for (int k = i; k < j; k++) {
        const hrow *h = &w->rows[k];
        int L = a->run_lrun[h->run], c = w->run_commit[h->run];
        double lo = h->med - h->mad > 0 ? h->med - h->mad : h->med * 1e-3;
        a->sum[L] += log(h->med / base);
        a->slo[L] += log(lo / base);
        a->shi[L] += log((h->med + h->mad) / base);
        a->cnt[L]++;
        if (!a->hash[c][0])
            rp_copy(a->hash[c], sizeof a->hash[c], h->hash);
    }
}

/* The median of exp(v[L] / cnt[L]) over commit c's logical runs with data; NaN when none. */
static double commit_median(const hist_acc *a, const double *v, int c)
{
    int m = 0;
    for (int k = a->c_start[c]; k < a->c_start[c + 1]; k++) {
        int L = a->lruns_of[k];
        if (a->cnt[L] > 0)
            a->levels[m++] = exp(v[L] / a->cnt[L]);
    }
    return m ? median_of(a->levels, m) : NAN;
}

static mc_status finish_series(rp_history *h, const hist_acc *a, int n_commits, mc_err *err)
{
    size_t nc = (size_t)(n_commits ? n_commits : 1), nl = (size_t)(a->n_lruns ? a->n_lruns : 1);
    h->y = malloc(nc * sizeof *h->y);
    h->lo = malloc(nc * sizeof *h->lo);
    h->hi = malloc(nc * sizeof *h->hi);
    h->code_changed = calloc(nc, sizeof *h->code_changed);
    h->dot_y = malloc(nl * sizeof *h->dot_y);
    h->dot_commit = malloc(nl * sizeof *h->dot_commit);
    if (!h->y || !h->lo || !h->hi || !h->code_changed || !h->dot_y || !h->dot_commit)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for the history");
    int prev = -1;
    for (int c = 0; c < n_commits; c++) {
        h->y[c] = commit_median(a, a->sum, c);
        h->lo[c] = commit_median(a, a->slo, c);
        h->hi[c] = commit_median(a, a->shi, c);
        if (!isfinite(h->y[c]))
            continue;
        h->code_changed[c] = prev >= 0 && mc_code_hash_is_real(a->hash[c]) && mc_code_hash_is_real(a->hash[prev]) &&
                             strcmp(a->hash[c], a->hash[prev]) != 0;
        prev = c;
    }
    for (int L = 0; L < a->n_lruns; L++)
        if (a->cnt[L] > 0) {
            h->dot_y[h->n_dots] = exp(a->sum[L] / a->cnt[L]);
            h->dot_commit[h->n_dots++] = a->lrun_commit[L];
        }
    return find_change_points(h, n_commits, err);
}

static int points_in(const rp_history *h, int n_commits)
{
    int m = 0;
    for (int c = 0; c < n_commits; c++)
        m += isfinite(h->y[c]);
    return m;
}

static void free_series(rp_history *h)
{
    free(h->y);
    free(h->lo);
    free(h->hi);
    free(h->code_changed);
    free(h->dot_y);
    free(h->dot_commit);
}

/* The logical runs of the walk's runs, and which belong to each commit. */
static mc_status index_runs(mc_store *s, hist_walk *w, hist_acc *a, mc_err *err)
{
    rp_report *r = w->r;
    size_t nr = (size_t)(w->n_runs ? w->n_runs : 1);
    a->run_lrun = malloc(nr * sizeof *a->run_lrun);
    a->lrun_commit = malloc(nr * sizeof *a->lrun_commit);
    a->lruns_of = malloc(nr * sizeof *a->lruns_of);
    a->c_start = calloc((size_t)r->n_commits + 1, sizeof *a->c_start);
    a->levels = malloc(nr * sizeof *a->levels);
    if (!a->run_lrun || !a->lrun_commit || !a->lruns_of || !a->c_start || !a->levels)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for the history");
    mc_status st = rp_history_groups(s, r, w->run_ids, w->run_commit, w->n_runs, a->run_lrun, err);
    if (st)
        return st;
    a->n_lruns = 0;
    for (int k = 0; k < w->n_runs; k++) {
        int L = a->run_lrun[k];
        a->lrun_commit[L] = w->run_commit[k]; /* a logical run never spans commits */
        if (L >= a->n_lruns)
            a->n_lruns = L + 1;
    }
    for (int L = 0; L < a->n_lruns; L++) /* counting sort of the logical runs by commit */
        a->c_start[a->lrun_commit[L] + 1]++;
    for (int c = 0; c < r->n_commits; c++)
        a->c_start[c + 1] += a->c_start[c];
    int *fill = calloc((size_t)r->n_commits + 1, sizeof *fill);
    if (!fill)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for the history");
    for (int L = 0; L < a->n_lruns; L++) {
        int c = a->lrun_commit[L];
        a->lruns_of[a->c_start[c] + fill[c]++] = L;
    }
    free(fill);
    return MC_OK;
}

static void hist_acc_free(hist_acc *a)
{
    free(a->sum);
    free(a->slo);
    free(a->shi);
    free(a->cnt);
    free(a->hash);
    free(a->run_lrun);
    free(a->lrun_commit);
    free(a->lruns_of);
    free(a->c_start);
    free(a->levels);
}

/* One series per variant from the sorted rows. */
static mc_status build_series(mc_store *s, hist_walk *w, mc_err *err)
{
    rp_report *r = w->r;
    int nc = r->n_commits;
    hist_acc a;
    memset(&a, 0, sizeof a);
    mc_status st = index_runs(s, w, &a, err);
    size_t nl = (size_t)(a.n_lruns ? a.n_lruns : 1);
    double *scratch = malloc((size_t)(w->n_runs ? w->n_runs : 1) * sizeof *scratch);
    a.sum = calloc(nl, sizeof *a.sum);
    a.slo = calloc(nl, sizeof *a.slo);
    a.shi = calloc(nl, sizeof *a.shi);
    a.cnt = calloc(nl, sizeof *a.cnt);
    a.hash = calloc((size_t)(nc ? nc : 1), sizeof *a.hash);
    r->hist = calloc((size_t)(w->n_vars ? w->n_vars : 1), sizeof *r->hist);
    if (!st && (!a.sum || !a.slo || !a.shi || !a.cnt || !a.hash || !scratch || !r->hist))
        st = mc_err_set(err, MC_ERR_NOMEM, "no memory for the history");
    for (int i = 0; !st && i < w->n_rows;) {
        int var = w->rows[i].var;
        memset(a.sum, 0, nl * sizeof *a.sum);
        memset(a.slo, 0, nl * sizeof *a.slo);
        memset(a.shi, 0, nl * sizeof *a.shi);
        memset(a.cnt, 0, nl * sizeof *a.cnt);
        memset(a.hash, 0, (size_t)nc * sizeof *a.hash);
        rp_history *h = &r->hist[r->n_hist];
        memset(h, 0, sizeof *h);
        while (i < w->n_rows && w->rows[i].var == var) {
            int j = i;
            while (j < w->n_rows && w->rows[j].var == var && w->rows[j].case_id == w->rows[i].case_id)
                j++;
            accumulate_case(w, i, j, scratch, &a);
            h->n_cases++;
            i = j;
        }
        rp_copy(h->op, sizeof h->op, w->vars[var].op);
        rp_copy(h->backend, sizeof h->backend, w->vars[var].backend);
        rp_copy(h->variant, sizeof h->variant, w->vars[var].variant);
        r->n_hist++;
        st = finish_series(h, &a, nc, err);
        if (!st && points_in(h, nc) < 2) { /* one point is not a history */
            free_series(h);
            r->n_hist--;
        }
    }
    hist_acc_free(&a);
    free(scratch);
    return st;
}

/* Series with change points first (largest step first), then by op and variant. */
static double largest_step(const rp_history *h)
{
    double m = 0;
    for (int k = 0; k < h->n_cps; k++)
        m = fmax(m, fabs(log(h->cp_ratio[k])));
    return m;
}

static int history_cmp(const void *a, const void *b)
{
    const rp_history *x = a, *y = b;
    double sx = largest_step(x), sy = largest_step(y);
    if (sx != sy)
        return sx > sy ? -1 : 1;
    int d = strcmp(x->op, y->op);
    if (!d)
        d = strcmp(x->backend, y->backend);
    return d ? d : strcmp(x->variant, y->variant);
}

mc_status rp_load_history(mc_store *s, rp_report *r, mc_err *err)
{
    hist_walk w = {.r = r, .err = err, .last_var = -1};
    r->history_runs = r->opts.history_runs > 0 ? r->opts.history_runs : HISTORY_RUNS_DEFAULT;
    /* up to the candidate's last part: its shards are one run of its commit */
    int64_t upto = r->cand_set.n ? r->cand_set.id[r->cand_set.n - 1] : r->cand.id;
    mc_status st =
        mc_store_each_history_timing(s, r->cand.fingerprint, upto, r->history_runs, visit_history, &w, err);
    if (!st)
        st = w.st;
    if (!st) {
        rp_sort(w.rows, w.n_rows, sizeof *w.rows, hrow_cmp);
        st = build_series(s, &w, err);
    }
    r->cand_commit = -1;
    for (int c = 0; c < r->n_commits; c++)
        if (strcmp(r->commits[c], r->cand.commit) == 0)
            r->cand_commit = c;
    if (!st)
        rp_sort(r->hist, r->n_hist, sizeof *r->hist, history_cmp);
    free(w.rows);
    free(w.run_ids);
    free(w.run_commit);
    free(w.vars);
    return st;
}
