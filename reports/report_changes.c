/* reports/report_changes.c: the regressions-and-improvements section. Rows are ordered by what
 * they mean before how large they are: real regressions (changed code, slower) first, then
 * improvements, then what the environment did to unchanged code, then the ambiguous and the same;
 * largest first within each. A +14% regression must never sit under twenty larger noise rows.
 * The regressions grouped by shared parameters carry their size and CI; the candidate's timed
 * pairs without a baseline and a warning about the timing environment come with the section.
 * SPDX-License-Identifier: MIT */
#include "report_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/stats.h"
#include "html.h"
#include "svg.h"

rp_class rp_change_class(const rp_change *c)
{
    if (strcmp(c->label, MC_LABEL_REGRESSION) == 0)
        return RP_CLASS_REGRESSION;
    if (strcmp(c->label, MC_LABEL_IMPROVEMENT) == 0)
        return RP_CLASS_IMPROVEMENT;
    if (strcmp(c->label, MC_LABEL_NOISE) == 0)
        return RP_CLASS_NOISE;
    switch (c->verdict) { /* a label this build does not know: the verdict and the code decide */
    case MC_VERDICT_SLOWER: return c->same_code ? RP_CLASS_NOISE : RP_CLASS_REGRESSION;
    case MC_VERDICT_FASTER: return c->same_code ? RP_CLASS_NOISE : RP_CLASS_IMPROVEMENT;
    case MC_VERDICT_SAME: return RP_CLASS_SAME;
    default: return RP_CLASS_AMBIGUOUS;
    }
}

int rp_count_verdict(const rp_report *r, mc_verdict v)
{
    int n = 0;
    for (int i = 0; i < r->n_changes; i++)
        n += r->changes[i].verdict == v;
    return n;
}

int rp_count_class(const rp_report *r, rp_class cls)
{
    int n = 0;
    for (int i = 0; i < r->n_changes; i++)
        n += rp_change_class(&r->changes[i]) == cls;
    return n;
}

static const char *verdict_cls(mc_verdict v)
{
    static const char *const cls[] = {
        [MC_VERDICT_SAME] = "same", [MC_VERDICT_FASTER] = "faster", [MC_VERDICT_SLOWER] = "slower",
        [MC_VERDICT_AMBIGUOUS] = "ambiguous"};
    _Static_assert(sizeof cls / sizeof cls[0] == MC_VERDICT_COUNT, "one class per verdict");
    return (int)v >= 0 && v < MC_VERDICT_COUNT ? cls[v] : "ambiguous";
}

static mc_marker verdict_marker(mc_verdict v)
{
    return v == MC_VERDICT_SLOWER ? MC_MARK_TRIANGLE_UP
           : v == MC_VERDICT_FASTER ? MC_MARK_TRIANGLE_DOWN
           : v == MC_VERDICT_SAME  ? MC_MARK_CIRCLE
                                   : MC_MARK_DIAMOND;
}

static double change_size(const rp_change *c)
{
    return c->ratio > 0 ? fabs(log(c->ratio)) : 0;
}

/* Class first (regressions on top), then size, largest first. */
static int change_cmp(const void *a, const void *b)
{
    const rp_change *x = *(const rp_change *const *)a, *y = *(const rp_change *const *)b;
    int d = (int)rp_change_class(x) - (int)rp_change_class(y);
    if (d)
        return d;
    double sx = change_size(x), sy = change_size(y);
    if (sx != sy)
        return sx > sy ? -1 : 1;
    d = strcmp(x->key, y->key);
    return d ? d : strcmp(x->variant, y->variant);
}

/* The changes whose class is in [first, last], in page order. */
static const rp_change **sorted_changes(const rp_report *r, rp_class first, rp_class last, int *count)
{
    const rp_change **list = malloc((size_t)(r->n_changes ? r->n_changes : 1) * sizeof *list);
    *count = 0;
    if (!list)
        return NULL;
    for (int i = 0; i < r->n_changes; i++) {
        rp_class c = rp_change_class(&r->changes[i]);
        if (c >= first && c <= last)
            list[(*count)++] = &r->changes[i];
    }
    rp_sort(list, *count, sizeof *list, change_cmp);
    return list;
}

/* One log axis for every interval plot of a table, so rows compare by eye. */
static void widen_domain(double ratio, double lo, double hi, bool bounded, double *dmin, double *dmax)
{
    *dmin = fmin(*dmin, bounded ? lo : ratio);
    *dmax = fmax(*dmax, bounded ? hi : ratio);
}

static void finish_domain(double *dmin, double *dmax)
{
    *dmin = fmax(*dmin / 1.05, 0.25);
    *dmax = fmin(*dmax * 1.05, 4);
}

static void write_ci_cells(FILE *out, double ratio, double lo, double hi, bool bounded, double threshold,
                           mc_verdict v, double dmin, double dmax)
{
    char a[32], b[32];
    const char *cls = verdict_cls(v);
    fputs("<td>", out);
    mc_ratio_plot rp = {.ratio = ratio, .lo = bounded ? lo : 0, .hi = bounded ? hi : INFINITY,
                        .threshold = threshold, .dmin = dmin, .dmax = dmax, .mark = verdict_marker(v), .cls = cls};
    mc_svg_ratio_interval(out, 200, 18, &rp);
    mc_fmt_num(a, sizeof a, lo);
    mc_fmt_num(b, sizeof b, hi);
    fprintf(out, "</td><td class=\"num\">%s&ndash;%s</td>", bounded ? a : "0", bounded ? b : "&infin;");
}

static void write_change_row(FILE *out, const rp_change *c, double dmin, double dmax)
{
    char ratio[32], change[32], q[32];
    mc_fmt_num(ratio, sizeof ratio, c->ratio);
    mc_fmt_change(change, sizeof change, c->ratio);
    mc_fmt_num(q, sizeof q, c->q);
    const char *cls = verdict_cls(c->verdict);
    fprintf(out, "<tr class=\"v-%s\"><td class=\"num\" data-sort=\"%.6g\">%s <small>&times;%s</small></td>", cls,
            c->ratio, change, ratio);
    write_ci_cells(out, c->ratio, c->lo, c->hi, c->bounded, c->threshold, c->verdict, dmin, dmax);
    fprintf(out, "<td data-sort=\"%d\"><span class=\"verdict %s\">%s %s</span>", (int)rp_change_class(c), cls,
            mc_marker_glyph(verdict_marker(c->verdict)), cls);
    if (c->label[0]) {
        fputs(" <small>", out);
        mc_html_text(out, c->label);
        fputs("</small>", out);
    }
    fprintf(out, "</td><td>%s</td><td class=\"key\">", c->same_code ? "same code" : "<b>changed</b>");
    mc_html_text(out, c->key);
    fputs("</td><td>", out);
    mc_html_text(out, c->variant);
    fprintf(out, "</td><td class=\"num\">%s</td></tr>", q);
}

static void write_change_table(FILE *out, const rp_change **list, int n, int max_rows, const char *id)
{
    double dmin = 1 / 1.1, dmax = 1.1;
    int shown = n < max_rows ? n : max_rows;
    for (int i = 0; i < shown; i++)
        widen_domain(list[i]->ratio, list[i]->lo, list[i]->hi, list[i]->bounded, &dmin, &dmax);
    finish_domain(&dmin, &dmax);
    fprintf(out, "<div class=\"scroll\"><table class=\"sortable\" id=\"%s\"><thead><tr><th>Change</th>"
                 "<th>Ratio and CI <small>(log axis %.3g&times; to %.3g&times;, band = same)</small></th><th>CI</th>"
                 "<th>Verdict</th><th>Code</th><th>Case</th><th>Variant</th><th>q</th></tr></thead><tbody>",
            id, dmin, dmax);
    for (int i = 0; i < shown; i++)
        write_change_row(out, list[i], dmin, dmax);
    fputs("</tbody></table></div>", out);
    if (n > shown)
        fprintf(out, "<p class=\"more\">%d smaller ones are not listed.</p>", n - shown);
}

/* ---- regressions grouped by shared parameters ---- */

/* The size of one group's regressions: the median ratio, its range, and the span of their CIs. */
typedef struct group_size {
    int n;
    double median, min, max;
    double lo, hi;                      /* lowest CI end, highest CI end */
    bool bounded;                       /* every CI of the group is bounded */
    double threshold;
} group_size;

static group_size size_of_group(const rp_report *r, const mc_compare_group *g, double *scratch)
{
    group_size z = {.min = INFINITY, .max = 0, .lo = INFINITY, .hi = 0, .bounded = true};
    for (int i = 0; i < r->n_changes; i++) {
        const rp_change *c = &r->changes[i];
        if (rp_change_class(c) != RP_CLASS_REGRESSION || strcmp(c->variant, g->variant) ||
            strcmp(c->backend, g->backend) || strcmp(c->op, g->op) || !(c->ratio > 0))
            continue;
        scratch[z.n++] = c->ratio;
        z.min = fmin(z.min, c->ratio);
        z.max = fmax(z.max, c->ratio);
        z.bounded &= c->bounded;
        z.lo = fmin(z.lo, c->lo);
        z.hi = fmax(z.hi, c->hi);
        z.threshold = c->threshold;
    }
    if (z.n) {
        mc_stats_sort(scratch, z.n);
        z.median = z.n % 2 ? scratch[z.n / 2] : sqrt(scratch[z.n / 2 - 1] * scratch[z.n / 2]);
    }
    return z;
}

static void write_group_row(FILE *out, const mc_compare_group *g, const group_size *z, double dmin, double dmax)
{
    char med[32], a[32], b[32];
    fputs("<tr><td>", out);
    mc_html_text(out, g->variant);
    fputs(" <small>", out);
    mc_html_text(out, g->op);
    fprintf(out, "</small></td><td class=\"num\">%d of %d</td>", g->n_regressed, g->n_compared);
    if (z->n == 0) {
        fputs("<td class=\"num\">-</td><td></td><td class=\"num\">-</td><td>", out);
    } else {
        mc_fmt_change(med, sizeof med, z->median);
        fprintf(out, "<td class=\"num\" data-sort=\"%.6g\">%s", z->median, med);
        if (z->n > 1) {
            mc_fmt_change(a, sizeof a, z->min);
            mc_fmt_change(b, sizeof b, z->max);
            fprintf(out, " <small>(median; %s to %s)</small>", a, b);
        }
        fputs("</td>", out);
        write_ci_cells(out, z->median, z->lo, z->hi, z->bounded, z->threshold, MC_VERDICT_SLOWER, dmin, dmax);
        fputs("<td>", out);
    }
    mc_html_text(out, g->description);
    fputs("</td></tr>", out);
}

static void write_groups(FILE *out, const rp_report *r)
{
    if (r->n_groups == 0)
        return;
    double *scratch = malloc((size_t)(r->n_changes ? r->n_changes : 1) * sizeof *scratch);
    group_size *sizes = calloc((size_t)r->n_groups, sizeof *sizes);
    if (!scratch || !sizes) {
        free(scratch);
        free(sizes);
        return;
    }
    double dmin = 1 / 1.1, dmax = 1.1;
    for (int i = 0; i < r->n_groups; i++) {
        sizes[i] = size_of_group(r, &r->groups[i], scratch);
        if (sizes[i].n)
            widen_domain(sizes[i].median, sizes[i].lo, sizes[i].hi, sizes[i].bounded, &dmin, &dmax);
    }
    finish_domain(&dmin, &dmax);
    fprintf(out, "<h3>Regressions by shared parameters</h3><div class=\"scroll\"><table id=\"group-table\"><thead><tr>"
                 "<th>Variant</th><th>Regressed</th><th>Change</th><th>Ratio and CI <small>(log axis %.3g&times; to "
                 "%.3g&times;; the bar spans every CI of the group)</small></th><th>CI</th><th>Where</th></tr></thead>"
                 "<tbody>",
            dmin, dmax);
    for (int i = 0; i < r->n_groups; i++)
        write_group_row(out, &r->groups[i], &sizes[i], dmin, dmax);
    fputs("</tbody></table></div>", out);
    free(scratch);
    free(sizes);
}

static void write_compare_source(FILE *out, const rp_report *r)
{
    char thr[32];
    double t = r->n_changes ? r->changes[0].threshold : 0;
    snprintf(thr, sizeof thr, "%.3g%%", 100 * t);
    fputs("<p>", out);
    if (r->verdicts_stored)
        fputs("Verdicts as stored by <code>check</code>. ", out);
    else
        fputs("Verdicts computed by this report from both runs' samples (Mann-Whitney U and the Hodges-Lehmann "
              "shift with its CI, Benjamini-Hochberg q-values); they are not stored. ",
              out);
    fprintf(out, "A verdict needs the whole CI of the ratio (candidate time / base time) beyond &plusmn;%s; "
                 "a slower verdict on byte-identical code is labelled noise/environment, not a regression. "
                 "Regressions come first, then improvements, then noise/environment; largest first in each.</p>",
            thr);
}

static void write_details_table(FILE *out, const rp_report *r, rp_class cls, const char *what, const char *id)
{
    int n = 0;
    const rp_change **list = sorted_changes(r, cls, cls, &n);
    if (list && n) {
        fprintf(out, "<details><summary>%d %s, largest first</summary>", n, what);
        write_change_table(out, list, n, RP_MAX_AMBIGUOUS_ROWS, id);
        fputs("</details>", out);
    }
    free(list);
}

void rp_write_changes(FILE *out, const rp_report *r)
{
    fputs("<section id=\"changes\"><h2>Regressions and improvements</h2>", out);
    rp_write_env_warning(out, r);
    if (r->n_changes == 0) {
        fputs("<p class=\"note\">", out);
        mc_html_text(out, r->compare_note[0] ? r->compare_note : "no (case, variant) was timed in both runs");
        fputs("</p>", out);
        rp_write_no_baseline(out, r);
        fputs("</section>\n", out);
        return;
    }
    write_compare_source(out, r);
    fprintf(out, "<p class=\"verdicts\"><b>%d</b> compared: <b>%d</b> regressions, <b>%d</b> improvements, <b>%d</b> "
                 "noise/environment, <b>%d</b> ambiguous, <b>%d</b> same",
            r->n_changes, rp_count_class(r, RP_CLASS_REGRESSION), rp_count_class(r, RP_CLASS_IMPROVEMENT),
            rp_count_class(r, RP_CLASS_NOISE), rp_count_class(r, RP_CLASS_AMBIGUOUS), rp_count_class(r, RP_CLASS_SAME));
    if (r->nobase_checked)
        fprintf(out, "; <b>%d</b> no baseline", r->n_nobase);
    fputs(".</p>", out);
    rp_write_no_baseline(out, r);
    write_groups(out, r);
    int n_moved = 0;
    const rp_change **moved = sorted_changes(r, RP_CLASS_REGRESSION, RP_CLASS_NOISE, &n_moved);
    if (moved && n_moved) {
        fputs("<h3>Slower and faster: regressions first</h3>", out);
        write_change_table(out, moved, n_moved, RP_MAX_CHANGE_ROWS, "change-table");
    } else {
        fputs("<p class=\"ok\">\u2713 No case is slower or faster beyond the threshold.</p>", out);
    }
    free(moved);
    write_details_table(out, r, RP_CLASS_AMBIGUOUS, "ambiguous (the data cannot tell)", "ambiguous-table");
    write_details_table(out, r, RP_CLASS_SAME, "same (within the threshold)", "same-table");
    fputs("</section>\n", out);
}
