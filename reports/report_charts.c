/* reports/report_charts.c: the report's charts: each variant's history over commits with its
 * change points, variant comparisons across a swept parameter with the crossover marked, and the
 * roofline against the machine's peaks. Inline SVG only; each series has its own marker shape and
 * a legend in text, so colour is never needed to read them.
 * SPDX-License-Identifier: MIT */
#include "report_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/op.h"
#include "html.h"
#include "svg.h"

static void fmt_rel(char *dst, size_t cap, double v)
{
    snprintf(dst, cap, "%.4g\u00d7", v); /* ticks 0.995 and 1.005 must not both read 1 */
}

static void fmt_time(char *dst, size_t cap, double v)
{
    mc_fmt_time_ns(dst, cap, v);
}

static void fmt_plain(char *dst, size_t cap, double v)
{
    snprintf(dst, cap, "%g", v);
}

static void legend_item(FILE *out, int style, mc_marker mark, const char *name, const char *extra)
{
    fprintf(out, "<li><span class=\"glyph s%d\">%s</span> ", ((style % 8) + 8) % 8, mc_marker_glyph(mark));
    mc_html_text(out, name);
    if (extra) {
        fputs(" <small>", out);
        mc_html_text(out, extra);
        fputs("</small>", out);
    }
    fputs("</li>", out);
}

/* ---- history ---- */

static void history_y_range(const rp_history *h, int n, double *lo, double *hi)
{
    *lo = 1;
    *hi = 1;
    for (int c = 0; c < n; c++) {
        if (!isfinite(h->y[c]))
            continue;
        *lo = fmin(*lo, fmin(h->y[c], h->lo[c]));
        *hi = fmax(*hi, fmax(h->y[c], h->hi[c]));
    }
    for (int k = 0; k < h->n_dots; k++) {
        *lo = fmin(*lo, h->dot_y[k]);
        *hi = fmax(*hi, h->dot_y[k]);
    }
    double pad = (*hi - *lo) * 0.08 + 0.005;
    *lo = fmax(*lo - pad, 0);
    *hi += pad;
}

/* Short SHAs under the x axis: every step-th commit, the candidate and the last one, never two
 * within half a step of each other. */
static void history_x_labels(FILE *out, const rp_report *r, const mc_plot *p)
{
    int n = r->n_commits, step = (n + 15) / 16;
    double base = p->height - p->bottom;
    for (int c = 0; c < n; c++) {
        bool pinned = c == r->cand_commit || c == n - 1;
        bool near_pinned = (n - 1 - c) * 2 < step || (r->cand_commit >= 0 && abs(r->cand_commit - c) * 2 < step);
        if (!pinned && (c % step || near_pinned))
            continue;
        double x = mc_scale_map(&p->x, c);
        char sha[8];
        snprintf(sha, sizeof sha, "%.7s", r->commits[c]);
        fprintf(out, "<text class=\"tick%s\" text-anchor=\"end\" transform=\"translate(%.1f %.1f) rotate(-40)\">",
                c == r->cand_commit ? " cand" : "", x + 3, base + 12);
        mc_html_text(out, sha);
        fputs("</text>", out);
    }
    fprintf(out, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", p->left,
            p->width - p->right, base, base);
}

static void history_marks(FILE *out, const rp_report *r, const rp_history *h, const mc_plot *p)
{
    double base = p->height - p->bottom;
    if (r->cand_commit >= 0) {
        double x0 = mc_scale_map(&p->x, r->cand_commit - 0.35), x1 = mc_scale_map(&p->x, r->cand_commit + 0.35);
        fprintf(out, "<rect class=\"cand-band\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", x0, p->top,
                x1 - x0, base - p->top);
    }
    for (int k = 0; k < h->n_cps; k++) {
        double x = mc_scale_map(&p->x, h->cps[k] - 0.5);
        char label[48], pct[24];
        mc_fmt_change(pct, sizeof pct, h->cp_ratio[k]);
        snprintf(label, sizeof label, "%s %s", h->cp_ratio[k] > 1 ? "\u25B2" : "\u25BC", pct);
        fprintf(out, "<line class=\"cp\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x, x, p->top, base);
        mc_svg_text(out, x + 3, p->top + 10 + 11 * (k % 2), "start", "cp-label", label);
    }
    for (int c = 0; c < r->n_commits; c++) {
        if (!h->code_changed[c])
            continue;
        char title[80];
        snprintf(title, sizeof title, "code changed at %.12s", r->commits[c]);
        fputs("<g class=\"codechg\"><title>", out);
        mc_html_text(out, title);
        fputs("</title>", out);
        mc_svg_marker(out, MC_MARK_DIAMOND, mc_scale_map(&p->x, c), base - 5, 3.5, "code");
        fputs("</g>", out);
    }
}

/* Every logical run's own level, as a small hollow dot, where its commit has more than one run:
 * the point is their median, and the dots show what it is the median of. */
static void history_dots(FILE *out, const rp_report *r, const rp_history *h, const mc_plot *p)
{
    int *runs = calloc((size_t)(r->n_commits ? r->n_commits : 1), sizeof *runs);
    if (!runs)
        return;
    for (int k = 0; k < h->n_dots; k++)
        runs[h->dot_commit[k]]++;
    fputs("<g class=\"runs\">", out);
    for (int k = 0; k < h->n_dots; k++) {
        int c = h->dot_commit[k];
        if (runs[c] < 2)
            continue;
        char title[96];
        snprintf(title, sizeof title, "one run of %.12s: %.4g\u00d7 typical", r->commits[c], h->dot_y[k]);
        fputs("<g><title>", out);
        mc_html_text(out, title);
        fputs("</title>", out);
        mc_svg_marker(out, MC_MARK_CIRCLE, mc_scale_map(&p->x, c), mc_scale_map(&p->y, h->dot_y[k]), 2.2, "dot s0");
        fputs("</g>", out);
    }
    fputs("</g>", out);
    free(runs);
}

static void write_history_chart(FILE *out, const rp_report *r, const rp_history *h, double *xs)
{
    mc_plot p = {.width = 520, .height = 200, .left = 64, .right = 10, .top = 14, .bottom = 52};
    double lo, hi;
    history_y_range(h, r->n_commits, &lo, &hi);
    mc_plot_layout(&p, -0.5, r->n_commits - 0.5, false, lo, hi, false);
    fputs("<figure class=\"hist\"><figcaption><b>", out);
    mc_html_text(out, h->variant);
    fputs("</b> <small>", out);
    mc_html_text(out, h->op);
    fprintf(out, " &middot; %d case%s", h->n_cases, h->n_cases == 1 ? "" : "s");
    if (h->n_cps)
        fprintf(out, " &middot; <b>%d change point%s</b>", h->n_cps, h->n_cps == 1 ? "" : "s");
    fputs("</small></figcaption>", out);
    char label[160];
    snprintf(label, sizeof label, "history of %.64s over %d commits", h->variant, r->n_commits);
    mc_svg_open(out, p.width, p.height, "chart", label);
    mc_plot_y_axis(out, &p, fmt_rel, "time / typical");
    history_marks(out, r, h, &p);
    history_x_labels(out, r, &p);
    mc_series s = {.x = xs, .y = h->y, .lo = h->lo, .hi = h->hi, .n = r->n_commits, .mark = MC_MARK_CIRCLE,
                   .style = 0, .line = true, .marker_r = r->n_commits > 40 ? 1.6 : 3};
    mc_svg_series(out, &p, &s);
    history_dots(out, r, h, &p);
    mc_svg_close(out);
    fputs("</figure>", out);
}

int rp_write_history(FILE *out, const rp_report *r)
{
    fputs("<section id=\"history\"><h2>History per kernel variant</h2>", out);
    if (r->n_hist == 0) {
        fprintf(out, "<p class=\"note\">No variant has timings in two or more of the last %d timed runs on this "
                     "machine yet: history starts with the second perf run.</p></section>\n",
                r->history_runs);
        return 0;
    }
    fprintf(out, "<p>The last %d commits with timed runs on this machine, oldest left (short SHAs; the candidate is "
                 "shaded). Per run: the geometric mean over the variant's cases of its median time divided by that "
                 "case's median over these runs (1 = typical); the shards of one run (<code>--shard</code>, joined "
                 "by <code>merge</code>) count as one run. Per commit: the median of its runs, so one outlier run "
                 "cannot move it; hollow dots show each run where a commit has several. The band spans median "
                 "&plusmn; MAD. Dashed "
                 "lines mark change points (rank-based binary segmentation, permutation test p &lt; 0.01) with the "
                 "step size; \u25C6 marks a commit where the variant's code hash changed.</p><div class=\"charts\">",
            r->n_commits);
    double *xs = malloc((size_t)r->n_commits * sizeof *xs);
    int shown = r->n_hist < RP_MAX_HISTORY_CHARTS ? r->n_hist : RP_MAX_HISTORY_CHARTS;
    for (int c = 0; xs && c < r->n_commits; c++)
        xs[c] = c;
    for (int i = 0; xs && i < shown; i++)
        write_history_chart(out, r, &r->hist[i], xs);
    free(xs);
    fputs("</div>", out);
    if (r->n_hist > shown)
        fprintf(out, "<p class=\"more\">%d more variants without larger steps are not drawn.</p>", r->n_hist - shown);
    fputs("</section>\n", out);
    return shown;
}

/* ---- variant comparison across a swept parameter ---- */

/* Which parameter each op's variants are compared across: the op record's sweep_axes. */
typedef struct sweep_axis {
    const char *op, *x;
    const char *const *ignore; /* 3 entries */
    bool equal_to_x;
    const char *label;
} sweep_axis;

#define MAX_SWEEP_VARIANTS 16
#define GROUP_LEN 256

typedef struct sweep_pt {
    char group[GROUP_LEN]; /* the other parameters, name=value; */
    double x, t;
    int var;
} sweep_pt;

typedef struct sweep_vars {
    const char *backend[MAX_SWEEP_VARIANTS], *name[MAX_SWEEP_VARIANTS];
    int n;
} sweep_vars;

static int sweep_var(sweep_vars *v, const rp_timed *t)
{
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->name[i], t->variant) == 0 && strcmp(v->backend[i], t->backend) == 0)
            return i;
    if (v->n == MAX_SWEEP_VARIANTS)
        return -1;
    v->backend[v->n] = t->backend;
    v->name[v->n] = t->variant;
    return v->n++;
}

static bool ignored(const sweep_axis *ax, const char *name)
{
    for (int i = 0; i < 3 && ax->ignore[i]; i++)
        if (strcmp(ax->ignore[i], name) == 0)
            return true;
    return false;
}

/* The point of t on axis ax; false when t's case is not on it. */
static bool sweep_point(const sweep_axis *ax, const rp_timed *t, sweep_pt *pt)
{
    rp_params ps;
    rp_params_parse(t->params, &ps);
    const rp_param *x = rp_param_find(&ps, ax->x);
    if (!x || !x->is_num || !(x->num > 0))
        return false;
    size_t len = 0;
    pt->group[0] = '\0';
    for (int i = 0; i < ps.n; i++) {
        const rp_param *p = &ps.p[i];
        if (strcmp(p->name, ax->x) == 0)
            continue;
        if (ignored(ax, p->name)) {
            if (ax->equal_to_x && (!p->is_num || p->num != x->num))
                return false;
            continue;
        }
        if (len < GROUP_LEN)
            len += (size_t)snprintf(pt->group + len, GROUP_LEN - len, "%s%s=%s", len ? ", " : "", p->name, p->text);
    }
    pt->x = x->num;
    pt->t = t->median_ns;
    return true;
}

static int sweep_cmp(const void *a, const void *b)
{
    const sweep_pt *x = a, *y = b;
    int d = strcmp(x->group, y->group);
    if (d)
        return d;
    if (x->x != y->x)
        return x->x < y->x ? -1 : 1;
    return x->var - y->var;
}

/* Scores the group [i, j) of sorted points: x values measured by two or more variants, and the
 * variants; -1 when a variant has two points at one x (the axis does not describe the group). */
static int group_score(const sweep_pt *pts, int i, int j)
{
    int multi = 0;
    unsigned seen = 0;
    for (int k = i; k < j;) {
        int m = k;
        while (m < j && pts[m].x == pts[k].x) {
            if (m > k && pts[m].var == pts[m - 1].var)
                return -1;
            seen |= 1u << pts[m].var;
            m++;
        }
        multi += m - k >= 2;
        k = m;
    }
    if (multi < 2)
        return 0;
    int variants = 0;
    for (; seen; seen &= seen - 1) /* clears the lowest set bit */
        variants++;
    return multi * 100 + variants;
}

typedef struct sweep_pick {
    sweep_pt *pts;   /* owned: the chosen group's points, sorted by x then variant */
    int n;
    const sweep_axis *axis;
    int score;
} sweep_pick;

static void consider_axis(const rp_report *r, const sweep_axis *ax, sweep_vars *vars, sweep_pick *best)
{
    sweep_pt *pts = malloc((size_t)(r->n_timed ? r->n_timed : 1) * sizeof *pts);
    int n = 0;
    if (!pts)
        return;
    for (int i = 0; i < r->n_timed; i++) {
        const rp_timed *t = &r->timed[i];
        if (strcmp(t->op, ax->op) != 0 || !sweep_point(ax, t, &pts[n]))
            continue;
        pts[n].var = sweep_var(vars, t);
        n += pts[n].var >= 0;
    }
    rp_sort(pts, n, sizeof *pts, sweep_cmp);
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && strcmp(pts[j].group, pts[i].group) == 0)
            j++;
        int score = group_score(pts, i, j);
        if (score > best->score) {
            sweep_pt *copy = malloc((size_t)(j - i) * sizeof *copy);
            if (copy) {
                memcpy(copy, pts + i, (size_t)(j - i) * sizeof *copy);
                free(best->pts);
                *best = (sweep_pick){copy, j - i, ax, score};
            }
        }
        i = j;
    }
    free(pts);
}

/* Where the fastest variant changes between consecutive x values: the x where the two lines cross
 * in log-log space when both were measured on both sides, else the geometric middle. */
typedef struct crossover {
    double x;
    int from, to;
    double after_x;  /* the first measured x past the crossover */
    double margin;   /* there: time of `from` / time of `to` (NaN when `from` was not measured) */
} crossover;

static double time_at(const sweep_pick *pk, double x, int var)
{
    for (int i = 0; i < pk->n; i++)
        if (pk->pts[i].x == x && pk->pts[i].var == var)
            return pk->pts[i].t;
    return NAN;
}

static int distinct_xs(const sweep_pick *pk, double *xs, int *winner)
{
    int n = 0;
    for (int i = 0; i < pk->n;) {
        int j = i, best = i;
        while (j < pk->n && pk->pts[j].x == pk->pts[i].x) {
            if (pk->pts[j].t < pk->pts[best].t)
                best = j;
            j++;
        }
        xs[n] = pk->pts[i].x;
        winner[n++] = j - i >= 2 ? pk->pts[best].var : -1;
        i = j;
    }
    return n;
}

static int find_crossovers(const sweep_pick *pk, const double *xs, const int *winner, int nx, crossover *out, int cap)
{
    int n = 0, prev = -1;
    for (int i = 0; i < nx && n < cap; i++) {
        if (winner[i] < 0)
            continue;
        if (prev >= 0 && winner[prev] != winner[i]) {
            int a = winner[prev], b = winner[i];
            double x0 = xs[prev], x1 = xs[i];
            double d0 = log(time_at(pk, x0, a) / time_at(pk, x0, b));
            double d1 = log(time_at(pk, x1, a) / time_at(pk, x1, b));
            double at = sqrt(x0 * x1);
            if (isfinite(d0) && isfinite(d1) && d0 != d1)
                at = exp(log(x0) + d0 / (d0 - d1) * (log(x1) - log(x0)));
            out[n++] = (crossover){at, a, b, x1, time_at(pk, x1, a) / time_at(pk, x1, b)};
        }
        prev = i;
    }
    return n;
}

static void sweep_series(FILE *out, const mc_plot *p, const sweep_pick *pk, int var, double *x, double *y)
{
    int n = 0;
    for (int i = 0; i < pk->n; i++)
        if (pk->pts[i].var == var) {
            x[n] = pk->pts[i].x;
            y[n++] = pk->pts[i].t;
        }
    mc_series s = {.x = x, .y = y, .n = n, .mark = (mc_marker)(var % MC_MARK_COUNT), .style = var, .line = true,
                   .marker_r = 4};
    mc_svg_series(out, p, &s);
}

static void sweep_plot(FILE *out, const sweep_pick *pk, const sweep_vars *vars, const double *xs, int nx,
                       const crossover *co, int n_co)
{
    double tmin = INFINITY, tmax = 0;
    for (int i = 0; i < pk->n; i++) {
        tmin = fmin(tmin, pk->pts[i].t);
        tmax = fmax(tmax, pk->pts[i].t);
    }
    mc_plot p = {.width = 680, .height = 320, .left = 64, .right = 16, .top = 16, .bottom = 44};
    mc_plot_layout(&p, xs[0] / 1.3, xs[nx - 1] * 1.3, true, tmin / 1.5, tmax * 1.5, true);
    char label[200];
    snprintf(label, sizeof label, "%s variants against %s", pk->axis->op, pk->axis->label);
    mc_svg_open(out, p.width, p.height, "chart", label);
    mc_plot_y_axis(out, &p, fmt_time, "median time per call (log)");
    double base = p.height - p.bottom;
    for (int i = 0; i < nx; i++) {
        double x = mc_scale_map(&p.x, xs[i]);
        char v[32];
        fmt_plain(v, sizeof v, xs[i]);
        fprintf(out, "<line class=\"gl\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x, x, p.top, base);
        mc_svg_text(out, x, base + 14, "middle", "tick", v);
    }
    fprintf(out, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", p.left, p.width - p.right,
            base, base);
    mc_svg_text(out, (p.left + p.width - p.right) / 2, p.height - 6, "middle", "axis-title", pk->axis->label);
    for (int k = 0; k < n_co; k++) {
        double x = mc_scale_map(&p.x, co[k].x);
        char text[48];
        snprintf(text, sizeof text, "crossover \u2248 %.3g", co[k].x);
        fprintf(out, "<line class=\"cross\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x, x, p.top, base);
        bool right_half = x > (p.left + p.width - p.right) / 2; /* keep the label inside the plot */
        mc_svg_text(out, right_half ? x - 4 : x + 4, p.top + 12 + 13 * (k % 3), right_half ? "end" : "start",
                    "cross-label", text);
    }
    double *x = malloc((size_t)pk->n * sizeof *x), *y = malloc((size_t)pk->n * sizeof *y);
    for (int v = 0; x && y && v < vars->n; v++)
        sweep_series(out, &p, pk, v, x, y);
    free(x);
    free(y);
    mc_svg_close(out);
}

static void sweep_table(FILE *out, const sweep_pick *pk, const sweep_vars *vars, const double *xs,
                        const int *winner, int nx)
{
    fputs("<div class=\"scroll\"><table class=\"sweep-table\"><thead><tr><th>", out);
    mc_html_text(out, pk->axis->x);
    fputs("</th><th>Fastest</th><th>Time</th><th>Runner-up</th></tr></thead><tbody>", out);
    for (int i = 0; i < nx; i++) {
        if (winner[i] < 0)
            continue;
        double best = time_at(pk, xs[i], winner[i]), second = INFINITY;
        int second_var = -1;
        for (int v = 0; v < vars->n; v++) {
            double t = time_at(pk, xs[i], v);
            if (v != winner[i] && t < second) {
                second = t;
                second_var = v;
            }
        }
        char tb[32], x[32];
        mc_fmt_time_ns(tb, sizeof tb, best);
        fmt_plain(x, sizeof x, xs[i]);
        fprintf(out, "<tr><td class=\"num\">%s</td><td><span class=\"glyph s%d\">%s</span> ", x, winner[i] % 8,
                mc_marker_glyph((mc_marker)(winner[i] % MC_MARK_COUNT)));
        mc_html_text(out, vars->name[winner[i]]);
        fprintf(out, "</td><td class=\"num\">%s</td><td>", tb);
        if (second_var >= 0) {
            mc_html_text(out, vars->name[second_var]);
            fprintf(out, " <small>%.2f&times; slower</small>", second / best);
        }
        fputs("</td></tr>", out);
    }
    fputs("</tbody></table></div>", out);
}

static void write_sweep(FILE *out, const sweep_pick *pk, const sweep_vars *vars)
{
    double *xs = malloc((size_t)pk->n * sizeof *xs);
    int *winner = malloc((size_t)pk->n * sizeof *winner);
    crossover co[16];
    if (!xs || !winner)
        goto done;
    int nx = distinct_xs(pk, xs, winner);
    int n_co = find_crossovers(pk, xs, winner, nx, co, 16);
    fputs("<figure class=\"sweep\"><figcaption><b>", out);
    mc_html_text(out, pk->axis->op);
    fputs("</b> variants against ", out);
    mc_html_text(out, pk->axis->label);
    fputs(" <small>with ", out);
    mc_html_text(out, pk->pts[0].group[0] ? pk->pts[0].group : "no other parameter");
    fputs("</small></figcaption>", out);
    sweep_plot(out, pk, vars, xs, nx, co, n_co);
    fputs("<ul class=\"legend\">", out);
    unsigned present = 0;
    for (int i = 0; i < pk->n; i++)
        present |= 1u << pk->pts[i].var;
    for (int v = 0; v < vars->n; v++)
        if ((present >> v) & 1)
            legend_item(out, v, (mc_marker)(v % MC_MARK_COUNT), vars->name[v], vars->backend[v]);
    fputs("</ul>", out);
    if (n_co == 0)
        fputs("<p class=\"crossover\">No crossover: one variant is fastest at every measured point.</p>", out);
    for (int k = 0; k < n_co; k++) {
        fputs("<p class=\"crossover\">Crossover at ", out);
        mc_html_text(out, pk->axis->x);
        fprintf(out, " &asymp; %.3g: <b>", co[k].x);
        mc_html_text(out, vars->name[co[k].to]);
        fputs("</b> overtakes ", out);
        mc_html_text(out, vars->name[co[k].from]);
        if (isfinite(co[k].margin))
            fprintf(out, " (%.2f&times; faster at %g)", co[k].margin, co[k].after_x);
        fputs(".</p>", out);
    }
    sweep_table(out, pk, vars, xs, winner, nx);
    fputs("</figure>", out);
done:
    free(xs);
    free(winner);
}

int rp_write_sweeps(FILE *out, const rp_report *r)
{
    int drawn = 0;
    fputs("<section id=\"sweeps\"><h2>Variant comparison</h2><p>Per op, the candidate's variants across the swept "
          "parameter with the most points, every other parameter fixed; times are medians per call, log-log.</p>",
          out);
    for (int o = 0; o < MC_OP_COUNT; o++) {
        const char *op = mc_op_get((mc_op_id)o)->name;
        sweep_vars vars = {.n = 0};
        sweep_pick best = {0};
        const mc_op *rec = mc_op_get((mc_op_id)o);
        sweep_axis axes[MC_MAX_SWEEP_AXES];
        for (int a = 0; a < MC_MAX_SWEEP_AXES && rec->sweep_axes[a].x; a++) {
            const mc_sweep_axis *ax = &rec->sweep_axes[a];
            axes[a] = (sweep_axis){op, ax->x, ax->ignore, ax->equal_to_x, ax->label};
            consider_axis(r, &axes[a], &vars, &best);
        }
        if (best.pts) {
            write_sweep(out, &best, &vars);
            drawn++;
        }
        free(best.pts);
    }
    if (!drawn)
        fputs("<p class=\"note\">No op has two or more variants timed at two or more values of one parameter in "
              "this run (a perf run of a sweeping case file draws these).</p>",
              out);
    fputs("</section>\n", out);
    return drawn;
}

/* ---- roofline ---- */

static int op_style(const char *op)
{
    const mc_op *o = mc_op_find(op);
    return o ? (int)o->id : MC_OP_COUNT;
}

/* Each variant's fastest case (in GFLOP/s) and how many cases it timed, ordered by op and name. */
typedef struct roof_best {
    const rp_timed *best;
    int cases;
} roof_best;

static int timed_ptr_cmp(const void *a, const void *b)
{
    const rp_timed *x = *(const rp_timed *const *)a, *y = *(const rp_timed *const *)b;
    int d = op_style(x->op) - op_style(y->op);
    if (!d)
        d = strcmp(x->variant, y->variant);
    return d ? d : strcmp(x->backend, y->backend);
}

static roof_best *variant_bests(const rp_report *r, int *count)
{
    const rp_timed **idx = malloc((size_t)(r->n_timed ? r->n_timed : 1) * sizeof *idx);
    roof_best *bests = malloc((size_t)(r->n_timed ? r->n_timed : 1) * sizeof *bests);
    *count = 0;
    if (!idx || !bests) {
        free(idx);
        free(bests);
        return NULL;
    }
    for (int i = 0; i < r->n_timed; i++)
        idx[i] = &r->timed[i];
    rp_sort(idx, r->n_timed, sizeof *idx, timed_ptr_cmp);
    for (int i = 0; i < r->n_timed;) {
        int j = i;
        roof_best b = {idx[i], 0};
        while (j < r->n_timed && !strcmp(idx[j]->variant, idx[i]->variant) && !strcmp(idx[j]->backend, idx[i]->backend)) {
            if (idx[j]->gflops > b.best->gflops)
                b.best = idx[j];
            b.cases++;
            j++;
        }
        if (b.best->gflops > 0 && b.best->gbs > 0)
            bests[(*count)++] = b;
        i = j;
    }
    free(idx);
    return bests;
}

static void roof_lines(FILE *out, const rp_report *r, const mc_plot *p)
{
    const struct {
        double gbs;
        const char *name;
    } roofs[] = {{r->read_gbs, "read"}, {r->copy_gbs, "copy"}};
    for (size_t i = 0; i < sizeof roofs / sizeof roofs[0]; i++) {
        double bw = roofs[i].gbs;
        if (!(bw > 0))
            continue;
        double x0 = p->x.d0, x1 = p->x.d1;
        if (r->peak_gflops > 0)
            x1 = fmin(x1, r->peak_gflops / bw); /* the ridge point */
        if (bw * x0 > p->y.d1 || x1 <= x0)
            continue;
        fprintf(out, "<line class=\"roof mem%zu\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", i,
                mc_scale_map(&p->x, x0), mc_scale_map(&p->y, bw * x0), mc_scale_map(&p->x, x1),
                mc_scale_map(&p->y, bw * x1));
        char label[64];
        snprintf(label, sizeof label, "%s %.3g GB/s", roofs[i].name, bw);
        /* at the left end, read above its line and copy below, clear of the points further right */
        double y = mc_scale_map(&p->y, bw * x0);
        mc_svg_text(out, p->left + 4, i == 0 ? y - 14 : y + 16, "start", "roof-label", label);
    }
    if (r->peak_gflops > 0) {
        double y = mc_scale_map(&p->y, r->peak_gflops);
        fprintf(out, "<line class=\"roof compute\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", p->left,
                p->width - p->right, y, y);
        char label[64];
        snprintf(label, sizeof label, "compute %.3g GFLOP/s", r->peak_gflops);
        mc_svg_text(out, p->width - p->right - 4, y - 5, "end", "roof-label", label);
    }
}

/* Every timed case as a faint marker of its op (thinned past RP_MAX_ROOFLINE_POINTS). */
static void roof_points(FILE *out, const rp_report *r, const mc_plot *p, int *drawn)
{
    int step = r->n_timed > RP_MAX_ROOFLINE_POINTS ? (r->n_timed + RP_MAX_ROOFLINE_POINTS - 1) / RP_MAX_ROOFLINE_POINTS
                                                   : 1;
    for (int i = 0; i < r->n_timed; i += step) {
        const rp_timed *t = &r->timed[i];
        if (!(t->gflops > 0) || !(t->gbs > 0))
            continue;
        int style = op_style(t->op);
        char cls[32];
        snprintf(cls, sizeof cls, "mk faint s%d", style % 8);
        fputs("<g><title>", out);
        mc_html_text(out, t->variant);
        fputs(": ", out);
        mc_html_text(out, t->key);
        fprintf(out, " (%.3g GFLOP/s, %.3g GB/s)</title>", t->gflops, t->gbs);
        mc_svg_marker(out, (mc_marker)(style % MC_MARK_COUNT), mc_scale_map(&p->x, t->gflops / t->gbs),
                      mc_scale_map(&p->y, t->gflops), 3, cls);
        fputs("</g>", out);
        (*drawn)++;
    }
}

/* Each variant's best case, large and numbered as in the table below the chart. */
static void roof_best_points(FILE *out, const mc_plot *p, const roof_best *bests, int n)
{
    for (int i = 0; i < n; i++) {
        const rp_timed *t = bests[i].best;
        int style = op_style(t->op);
        char cls[24], num[16];
        snprintf(cls, sizeof cls, "mk s%d", style % 8);
        snprintf(num, sizeof num, "%d", i + 1);
        double x = mc_scale_map(&p->x, t->gflops / t->gbs), y = mc_scale_map(&p->y, t->gflops);
        fputs("<g><title>", out);
        mc_html_text(out, t->variant);
        fprintf(out, " best: %.3g GFLOP/s</title>", t->gflops);
        mc_svg_marker(out, (mc_marker)(style % MC_MARK_COUNT), x, y, 5, cls);
        mc_svg_text(out, x + 7, y - 4 - 9 * (i % 2), "start", "best-label", num);
        fputs("</g>", out);
    }
}

static bool roof_extent(const rp_report *r, double *x0, double *x1, double *y0, double *y1)
{
    *x0 = INFINITY, *x1 = 0, *y0 = INFINITY, *y1 = 0;
    for (int i = 0; i < r->n_timed; i++) {
        const rp_timed *t = &r->timed[i];
        if (!(t->gflops > 0) || !(t->gbs > 0))
            continue;
        double ai = t->gflops / t->gbs;
        *x0 = fmin(*x0, ai);
        *x1 = fmax(*x1, ai);
        *y0 = fmin(*y0, t->gflops);
        *y1 = fmax(*y1, t->gflops);
    }
    if (!(*x1 > 0))
        return false;
    *y1 = fmax(*y1, r->peak_gflops);
    *x0 /= 2;
    *x1 *= 2;
    *y0 /= 2;
    *y1 *= 2;
    return true;
}

/* A case's roof at intensity ai: the lower of the compute roof and bandwidth x ai, the bandwidth
 * measured at the case's size when one is stored (its perf table row's roof), else DRAM's read. */
static double roof_at(const rp_report *r, const rp_timed *t, double ai)
{
    double roof = r->peak_gflops > 0 ? r->peak_gflops : INFINITY;
    const double gbs = t->roof_gbs > 0 ? t->roof_gbs : r->read_gbs;
    if (gbs > 0)
        roof = fmin(roof, gbs * ai);
    return roof;
}

static void roof_table(FILE *out, const rp_report *r, const roof_best *bests, int n)
{
    fputs("<div class=\"scroll\"><table class=\"sortable\" id=\"roofline-table\"><thead><tr><th>#</th><th>Variant</th>"
          "<th>Op</th><th>Cases</th><th>Best GFLOP/s</th><th>GB/s there</th><th>flop/byte</th><th>Share of roof</th>"
          "<th>Case</th></tr></thead><tbody>",
          out);
    for (int i = 0; i < n; i++) {
        const rp_timed *b = bests[i].best;
        double ai = b->gflops / b->gbs, roof = roof_at(r, b, ai);
        int style = op_style(b->op);
        fprintf(out, "<tr><td class=\"num\">%d</td><td><span class=\"glyph s%d\">%s</span> ", i + 1, style % 8,
                mc_marker_glyph((mc_marker)(style % MC_MARK_COUNT)));
        mc_html_text(out, b->variant);
        fputs("</td><td>", out);
        mc_html_text(out, b->op);
        fprintf(out, "</td><td class=\"num\">%d</td><td class=\"num\">%.3g</td><td class=\"num\">%.3g</td>"
                     "<td class=\"num\">%.3g</td><td class=\"num\">",
                bests[i].cases, b->gflops, b->gbs, ai);
        if (isfinite(roof) && roof > 0)
            fprintf(out, "%.0f%%", 100 * b->gflops / roof);
        else
            fputs("n/a", out);
        fputs("</td><td class=\"key\">", out);
        mc_html_text(out, b->key);
        fputs("</td></tr>", out);
    }
    fputs("</tbody></table></div><p class=\"note\">Bytes are the least each op must move. A bandwidth-bound "
          "case's share is of the roof measured at its own size when a perf run stored one (the roof its perf "
          "table row was held to), else of DRAM's read roof; above 100% of that, the data came from caches.</p>",
          out);
}

static void roof_notes(FILE *out, const rp_report *r)
{
    fputs("<p class=\"peaks\" id=\"peaks\">Machine peaks: ", out);
    if (r->read_gbs > 0 || r->copy_gbs > 0)
        fprintf(out, "read <b>%.3g GB/s</b>, copy <b>%.3g GB/s</b> (%s)", r->read_gbs, r->copy_gbs,
                r->peaks_measured ? "measured now by this report and stored for this machine"
                                  : "as stored for this machine");
    else
        fputs("no bandwidth peak is stored for this machine (the report command measures and stores one when it "
              "runs on that machine)",
              out);
    if (r->peak_gflops > 0) {
        fprintf(out, "; compute roof <b>%.3g GFLOP/s</b>: ", r->peak_gflops);
        mc_html_text(out, r->peak_gflops_source);
    }
    fputs(".</p>", out);
}

int rp_write_roofline(FILE *out, const rp_report *r)
{
    int drawn = 0, n_bests = 0;
    double x0, x1, y0, y1;
    fputs("<section id=\"roofline\"><h2>Roofline</h2>", out);
    roof_notes(out, r);
    if (!roof_extent(r, &x0, &x1, &y0, &y1)) {
        fputs("<p class=\"note\">No timings in this run: run with --perf to place the variants.</p></section>\n", out);
        return 0;
    }
    roof_best *bests = variant_bests(r, &n_bests);
    mc_plot p = {.width = 680, .height = 380, .left = 64, .right = 16, .top = 16, .bottom = 44};
    mc_plot_layout(&p, x0, x1, true, y0, y1, true);
    mc_svg_open(out, p.width, p.height, "chart", "roofline: achieved GFLOP/s against arithmetic intensity");
    mc_plot_y_axis(out, &p, fmt_plain, "GFLOP/s (log)");
    mc_plot_x_axis(out, &p, fmt_plain, "arithmetic intensity, flop per byte moved (log)");
    roof_lines(out, r, &p);
    roof_points(out, r, &p, &drawn);
    roof_best_points(out, &p, bests, n_bests);
    mc_svg_close(out);
    fputs("<ul class=\"legend\">", out);
    for (int o = 0; o < MC_OP_COUNT; o++)
        legend_item(out, o, (mc_marker)(o % MC_MARK_COUNT), mc_op_get((mc_op_id)o)->name, NULL);
    fputs("<li><small>faint: every timed case; large and numbered: each variant's best case</small></li></ul>", out);
    roof_table(out, r, bests, n_bests);
    free(bests);
    fputs("</section>\n", out);
    return drawn;
}
