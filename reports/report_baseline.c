/* reports/report_baseline.c: the candidate's timed (case, variant) pairs that have no baseline:
 * no verdict and no timing in the base run, so nothing can say they did not regress. They are
 * counted and listed, never folded into "no regression" (a narrowed or broken base run is the
 * usual cause).
 * SPDX-License-Identifier: MIT */
#include "report_int.h"

#include <stdlib.h>
#include <string.h>

#include "html.h"

typedef struct pair_ref {
    const char *key, *backend, *variant;
} pair_ref;

static int pair_cmp(const void *a, const void *b)
{
    const pair_ref *x = a, *y = b;
    return rp_pair_cmp(x->key, x->backend, x->variant, y->key, y->backend, y->variant);
}

/* The base's timed pairs (strings owned here, one block per pair) and the compared ones (borrowed
 * from r->changes). */
typedef struct pair_set {
    pair_ref *refs;
    char **owned;
    int n, cap, n_owned, cap_owned;
    mc_status st;
    mc_err *err;
} pair_set;

static bool pair_add(pair_set *p, const char *key, const char *backend, const char *variant, bool copy)
{
    if (!rp_grow((void **)&p->refs, &p->cap, p->n + 1, sizeof *p->refs))
        return false;
    if (copy) {
        size_t nk = strlen(key) + 1, nb = strlen(backend) + 1, nv = strlen(variant) + 1;
        char *block = malloc(nk + nb + nv);
        if (!block || !rp_grow((void **)&p->owned, &p->cap_owned, p->n_owned + 1, sizeof *p->owned)) {
            free(block);
            return false;
        }
        p->owned[p->n_owned++] = block;
        key = memcpy(block, key, nk);
        backend = memcpy(block + nk, backend, nb);
        variant = memcpy(block + nk + nb, variant, nv);
    }
    p->refs[p->n++] = (pair_ref){key, backend, variant};
    return true;
}

static int visit_base_result(const mc_stored_result *sr, void *user)
{
    pair_set *p = user;
    if (!sr->has_timing || pair_add(p, sr->case_key, sr->backend, sr->variant, true))
        return 0;
    p->st = mc_err_set(p->err, MC_ERR_NOMEM, "no memory for the base's timings");
    return 1;
}

static bool add_no_baseline(rp_report *r, const rp_timed *t)
{
    if (!rp_grow((void **)&r->nobase, &r->cap_nobase, r->n_nobase + 1, sizeof *r->nobase))
        return false;
    rp_pair *p = &r->nobase[r->n_nobase];
    memset(p, 0, sizeof *p);
    if (!(p->key = rp_strdup(t->key)))
        return false;
    rp_copy(p->op, sizeof p->op, t->op);
    rp_copy(p->backend, sizeof p->backend, t->backend);
    rp_copy(p->variant, sizeof p->variant, t->variant);
    r->n_nobase++;
    return true;
}

mc_status rp_load_no_baseline(mc_store *s, rp_report *r, mc_err *err)
{
    if (!r->have_base || (!r->same_machine && !r->verdicts_stored) || r->n_timed == 0)
        return MC_OK; /* no comparison was possible: the changes section says why */
    pair_set base = {.err = err};
    mc_status st = MC_OK;
    for (int k = 0; !st && k < r->base_set.n; k++) {
        st = mc_store_each_result(s, r->base_set.id[k], false, visit_base_result, &base, err);
        if (!st)
            st = base.st;
    }
    /* A stored verdict counts as a baseline even when the base run we read lacks the timing:
     * check may have compared against a base that covers more than one run. */
    for (int i = 0; !st && i < r->n_changes; i++)
        if (!pair_add(&base, r->changes[i].key, r->changes[i].backend, r->changes[i].variant, false))
            st = mc_err_set(err, MC_ERR_NOMEM, "no memory for the verdicts");
    if (!st)
        rp_sort(base.refs, base.n, sizeof *base.refs, pair_cmp);
    for (int i = 0; !st && i < r->n_timed; i++) {
        const rp_timed *t = &r->timed[i];
        pair_ref want = {t->key, t->backend, t->variant};
        if (base.n && bsearch(&want, base.refs, (size_t)base.n, sizeof *base.refs, pair_cmp))
            continue;
        if (!add_no_baseline(r, t))
            st = mc_err_set(err, MC_ERR_NOMEM, "no memory for the pairs without a baseline");
    }
    r->nobase_checked = !st;
    for (int i = 0; i < base.n_owned; i++)
        free(base.owned[i]);
    free(base.owned);
    free(base.refs);
    return st;
}

void rp_write_no_baseline(FILE *out, const rp_report *r)
{
    if (!r->nobase_checked || r->n_nobase == 0)
        return;
    int shown = r->n_nobase < RP_MAX_NOBASE_ROWS ? r->n_nobase : RP_MAX_NOBASE_ROWS;
    fprintf(out, "<div id=\"no-baseline\"><p class=\"warn\">\u26A0 <b>%d</b> of the candidate's %d timed (case, variant) "
                 "pairs have <b>no baseline</b>: the base run holds no timing of them, so they were not compared "
                 "and nothing says they did not regress. Compare with a base run that covers them.</p>",
            r->n_nobase, r->n_timed);
    fprintf(out, "<details><summary>%d pairs without a baseline</summary><div class=\"scroll\"><table class=\"sortable\" "
                 "id=\"nobase-table\"><thead><tr><th>Case</th><th>Variant</th><th>Op</th></tr></thead><tbody>",
            r->n_nobase);
    for (int i = 0; i < shown; i++) {
        const rp_pair *p = &r->nobase[i];
        fputs("<tr><td class=\"key\">", out);
        mc_html_text(out, p->key);
        fputs("</td><td>", out);
        mc_html_text(out, p->variant);
        fputs(" <small>", out);
        mc_html_text(out, p->backend);
        fputs("</small></td><td>", out);
        mc_html_text(out, p->op);
        fputs("</td></tr>", out);
    }
    fputs("</tbody></table></div></details>", out);
    if (r->n_nobase > shown)
        fprintf(out, "<p class=\"more\">%d more are not listed.</p>", r->n_nobase - shown);
    fputs("</div>", out);
}
