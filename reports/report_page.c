/* reports/report_page.c: the report's tabular sections: the verdict banner, failures with their
 * reproducers, regressions and improvements with interval plots, and the coverage matrix.
 * Colour is never the only signal: every status also has a word or a glyph.
 * SPDX-License-Identifier: MIT */
#include "report_int.h"

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/op.h"
#include "html.h"
#include "svg.h"

const char *rp_overall(const rp_report *r)
{
    if (r->n_failures_total > 0 || strcmp(r->cand.status, "failed") == 0 || strcmp(r->cand.status, "aborted") == 0)
        return "failed";
    if (rp_count_class(r, RP_CLASS_REGRESSION) > 0)
        return "regressed";
    if (r->n_results == 0 || r->kind_count[MC_RESULT_PASS] == 0)
        return "nothing ran";
    return "passed";
}

static const struct {
    const char *overall, *glyph, *cls;
} overall_looks[] = {
    {"failed", "\u2717", "st-failed"},
    {"regressed", "\u25B2", "st-regressed"},
    {"nothing ran", "\u2205", "st-nothing"},
    {"passed", "\u2713", "st-passed"},
};

static void short_sha(char *dst, size_t cap, const char *sha)
{
    snprintf(dst, cap, "%.12s", sha && *sha ? sha : "?");
}

static void write_run_line(FILE *out, const mc_run_record *run)
{
    char sha[16];
    short_sha(sha, sizeof sha, run->commit);
    fputs("<code>", out);
    mc_html_text(out, sha);
    fputs("</code>", out);
    if (run->dirty)
        fputs(" <span class=\"tag\">dirty</span>", out);
    if (run->branch[0]) {
        fputs(" on ", out);
        mc_html_text(out, run->branch);
    }
    fprintf(out, " &middot; run #%lld &middot; ", (long long)run->id);
    mc_html_text(out, run->status);
    fputs(" &middot; started ", out);
    mc_html_text(out, run->started_at);
}

static void write_kind_counts(FILE *out, const rp_report *r)
{
    fputs("<ul class=\"counts\" id=\"status-counts\">", out);
    fprintf(out, "<li class=\"k-pass\"><b data-count=\"pass\">%d</b> pass</li>", r->kind_count[MC_RESULT_PASS]);
    for (int k = 0; k < MC_RESULT_COUNT; k++) {
        if (k == MC_RESULT_PASS || k == MC_RESULT_SKIP || r->kind_count[k] == 0)
            continue;
        const char *name = mc_result_kind_name((mc_result_kind)k);
        fprintf(out, "<li class=\"k-fail\"><b data-count=\"%s\">%d</b> %s</li>", name, r->kind_count[k], name);
    }
    fprintf(out, "<li class=\"k-skip\"><b data-count=\"skip\">%d</b> skip</li>", r->kind_count[MC_RESULT_SKIP]);
    fprintf(out, "<li><b data-count=\"total\">%d</b> results</li></ul>", r->n_results);
}

/* The timing verdicts in one line: what a reader must not miss (regressions, pairs nobody
 * compared, an unquiet machine) is in it. */
static void write_verdict_counts(FILE *out, const rp_report *r)
{
    if (r->n_changes)
        fprintf(out,
                "<p class=\"verdicts\">Timing verdicts against the base: <b>%d</b> slower (<b>%d</b> regressions), "
                "<b>%d</b> faster, <b>%d</b> same, <b>%d</b> ambiguous",
                rp_count_verdict(r, MC_VERDICT_SLOWER), rp_count_class(r, RP_CLASS_REGRESSION),
                rp_count_verdict(r, MC_VERDICT_FASTER), rp_count_verdict(r, MC_VERDICT_SAME),
                rp_count_verdict(r, MC_VERDICT_AMBIGUOUS));
    else if (r->nobase_checked && r->n_nobase)
        fputs("<p class=\"verdicts\">No timing was compared with the base", out);
    if (r->n_changes || (r->nobase_checked && r->n_nobase))
        fprintf(out, "%s<b id=\"no-baseline-count\">%d</b> no baseline.</p>", r->n_changes ? ", " : ": ",
                r->nobase_checked ? r->n_nobase : 0);
    if (rp_env_warns(&r->cand_env) || (r->have_base && rp_env_warns(&r->base_env)))
        fputs("<p class=\"warn\">\u26A0 Timings were taken on a machine that was not quiet: see "
              "<a href=\"#env-warning\">the warning</a> before trusting a verdict.</p>",
              out);
}

/* The parts of a logical run beyond the one named: the shards merged with it. */
static void write_parts(FILE *out, const rp_run_set *set)
{
    if (set->n < 2)
        return;
    fputs(" <span class=\"parts\">&middot; one run of ", out);
    for (int k = 0; k < set->n; k++) {
        fprintf(out, "%s#%lld", k ? " + " : "", (long long)set->id[k]);
        if (set->shard[k][0]) {
            fputs(" (shard ", out);
            mc_html_text(out, set->shard[k]);
            fputs(")", out);
        }
    }
    fputs(", merged</span>", out);
}

void rp_write_banner(FILE *out, const rp_report *r)
{
    const char *overall = rp_overall(r);
    size_t look = 0;
    while (look + 1 < sizeof overall_looks / sizeof overall_looks[0] && strcmp(overall_looks[look].overall, overall))
        look++;
    fprintf(out, "<header class=\"banner %s\" id=\"banner\"><h1><span class=\"glyph\">%s</span> <span id=\"overall\">%s</span>"
                 "<small>metallic-check report</small></h1>",
            overall_looks[look].cls, overall_looks[look].glyph, overall);
    fputs("<dl class=\"facts\"><dt>Candidate</dt><dd id=\"cand-commit\">", out);
    write_run_line(out, &r->cand);
    write_parts(out, &r->cand_set);
    fputs("</dd><dt>Base</dt><dd id=\"base-commit\">", out);
    if (r->have_base) {
        write_run_line(out, &r->base);
        write_parts(out, &r->base_set);
    } else {
        fputs("none", out);
    }
    fputs("</dd><dt>Machine</dt><dd>", out);
    if (r->have_machine) {
        mc_html_text(out, r->machine.cpu_model);
        fprintf(out, ", %d logical CPUs &middot; ", r->machine.cores);
        mc_html_text(out, r->machine.os);
        fputs(" &middot; fingerprint <code>", out);
        mc_html_text(out, r->cand.fingerprint);
        fputs("</code>", out);
    } else {
        mc_html_text(out, r->cand.fingerprint);
    }
    fputs("</dd><dt>Tier</dt><dd id=\"tier\">", out);
    mc_html_text(out, r->cand.tier);
    fputs(" &middot; ", out);
    mc_html_text(out, r->cand.mode);
    fputs(" &middot; metallic-check ", out);
    mc_html_text(out, r->cand.tool_version);
    fputs("</dd>", out);
    if (r->have_mut)
        fprintf(out, "<dt>Planted bugs</dt><dd>%d of %d caught</dd>", r->mut_caught, r->mut_total);
    fputs("</dl>", out);
    write_kind_counts(out, r);
    write_verdict_counts(out, r);
    fputs("</header>\n", out);
}

/* ---- failures ---- */

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    case SIGKILL: return "SIGKILL";
    default: return "signal";
    }
}

static void write_worst(FILE *out, const mc_result *res)
{
    char a[32], b[32], c[32], d[32], ratio[32];
    if (res->kind == MC_RESULT_CRASH) {
        fprintf(out, "<td>-</td><td>%s (%d)</td>", signal_name(res->signal), res->signal);
        return;
    }
    if (res->kind == MC_RESULT_TIMEOUT) { /* the limit is in the message when no time was kept */
        mc_fmt_time_ns(a, sizeof a, res->elapsed_ms * 1e6);
        fprintf(out, "<td>-</td><td>%s%s</td>", res->elapsed_ms > 0 ? "killed after " : "-",
                res->elapsed_ms > 0 ? a : "");
        return;
    }
    if (res->worst_index < 0) {
        fputs("<td>-</td><td>-</td>", out);
        return;
    }
    mc_fmt_num(a, sizeof a, res->worst_out);
    mc_fmt_num(b, sizeof b, res->worst_ref);
    mc_fmt_num(c, sizeof c, res->worst_err);
    mc_fmt_num(d, sizeof d, res->worst_bound);
    mc_fmt_num(ratio, sizeof ratio, res->max_ratio);
    fprintf(out, "<td>[%lld] out %s, ref %s</td>", (long long)res->worst_index, a, b);
    fprintf(out, "<td class=\"num\">%s %s %s%s%s%s</td>", c, res->worst_err > res->worst_bound ? "&gt;" : "&le;", d,
            isfinite(res->max_ratio) ? " (&times;" : "", isfinite(res->max_ratio) ? ratio : "",
            isfinite(res->max_ratio) ? " of bound)" : "");
}

/* What a reproducer needs beyond its variant: --include-hidden for a test-only or mutant variant
 * (they run only with it), --plugin for a plugin's, and the run's seed when it is not the default. */
static void write_repro_tail(FILE *out, const rp_report *r, const char *variant)
{
    const mc_report_variant *v = rp_find_variant(r, variant);
    if (v && v->hidden)
        fputs(" --include-hidden", out);
    if (v && v->plugin) { /* known when the plugin is loaded: a report written by check */
        fputs(" --plugin &#39;", out);
        mc_html_text(out, v->plugin);
        fputs("&#39;", out);
    }
    if (r->seed != 0)
        fprintf(out, " --seed %" PRIu64, r->seed);
}

/* A coverage failure has no case to re-run: the line re-runs the variant on the run's own
 * selection (tier, case files, backends) and lists the cases it declined, with their reasons. */
static void write_coverage_repro(FILE *out, const rp_report *r, const char *variant)
{
    char qvar[160];
    mc_shell_quote(qvar, sizeof qvar, variant);
    fputs("<code class=\"repro\">metallic-check run", out);
    mc_html_text(out, r->selection);
    fputs(" --variant ", out);
    mc_html_text(out, qvar);
    write_repro_tail(out, r, variant);
    fputs(" --verbose</code>", out);
}

/* The reproducer line, shell-quoted, then HTML-escaped. */
static void write_repro(FILE *out, const rp_report *r, const char *key, const char *variant)
{
    char qkey[2 * MC_KEY_LEN], qvar[160];
    mc_shell_quote(qkey, sizeof qkey, key);
    bool plain = variant[0] && strspn(variant, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
                                    strlen(variant);
    if (plain)
        snprintf(qvar, sizeof qvar, "%s", variant);
    else
        mc_shell_quote(qvar, sizeof qvar, variant);
    fputs("<code class=\"repro\">metallic-check repro ", out);
    mc_html_text(out, qkey);
    fputs(" --variant ", out);
    mc_html_text(out, qvar);
    write_repro_tail(out, r, variant);
    fputs("</code>", out);
}

/* What the case printed (its captured stdout and stderr, the tail the store keeps), collapsed:
 * untrusted text, escaped like every other. Nothing when the store keeps no output. */
static void write_output(FILE *out, const rp_failure *f)
{
    if (!f->output || !f->output[0])
        return;
    fprintf(out, "<details class=\"output\"><summary>captured output (its last %zu bytes)</summary><pre>",
            strlen(f->output));
    mc_html_text(out, f->output);
    fputs("</pre></details>", out);
}

void rp_write_failures(FILE *out, const rp_report *r)
{
    fprintf(out, "<section id=\"failures\"><h2>Failures <span class=\"count\">%d</span></h2>", r->n_failures_total);
    if (r->n_failures_total == 0) {
        fputs("<p class=\"ok\">\u2713 No failures: every case that ran passed its checks.</p></section>\n", out);
        return;
    }
    fputs("<p>Memory-safety failures first (crash, timeout, guard, input modified), then wrong values. Each "
          "reproducer re-runs the case with the same inputs.</p>",
          out);
    fputs("<div class=\"scroll\"><table id=\"failure-table\"><thead><tr><th>Kind</th>"
          "<th>Case</th><th>Variant</th><th>Worst element</th><th>Error vs bound</th><th>Message</th></tr></thead><tbody>",
          out);
    for (int i = 0; i < r->n_failures; i++) {
        const rp_failure *f = &r->failures[i];
        const char *kind = mc_result_kind_name(f->res.kind);
        fprintf(out, "<tr><td><span class=\"kind k-%s\">\u2717 %s</span></td><td class=\"key\">", kind, kind);
        mc_html_text(out, f->key);
        fputs("</td><td>", out);
        mc_html_text(out, f->variant);
        fputs(" <small>", out);
        mc_html_text(out, f->backend);
        fputs("</small></td>", out);
        write_worst(out, &f->res);
        fputs("<td class=\"msg\">", out);
        mc_html_text(out, f->res.message);
        fputs("</td></tr><tr class=\"repro-row\"><td></td><td colspan=\"5\">", out);
        if (f->res.kind == MC_RESULT_FAIL_COVERAGE)
            write_coverage_repro(out, r, f->variant);
        else
            write_repro(out, r, f->key, f->variant);
        write_output(out, f);
        fputs("</td></tr>", out);
    }
    fputs("</tbody></table></div>", out);
    if (r->n_failures_total > r->n_failures)
        fprintf(out, "<p class=\"more\">%d more failures are not listed (at most %d per kind and %d in all are).</p>",
                r->n_failures_total - r->n_failures, RP_MAX_FAILURE_ROWS, RP_MAX_FAILURE_ROWS);
    fputs("</section>\n", out);
}

/* ---- coverage ---- */

typedef struct pfs {
    int pass, fail, skip;
} pfs;

static void write_cell(FILE *out, pfs c)
{
    const char *cls = c.fail ? "c-fail" : c.pass ? "c-pass" : "gap";
    fprintf(out, "<td class=\"%s\"", cls);
    if (!c.fail && !c.pass)
        fputs(" title=\"nothing ran here\"", out);
    fputc('>', out);
    if (c.pass)
        fprintf(out, "\u2713%d ", c.pass);
    if (c.fail)
        fprintf(out, "\u2717%d ", c.fail);
    if (c.skip)
        fprintf(out, "&ndash;%d", c.skip);
    if (!c.pass && !c.fail && !c.skip)
        fputs("&middot;", out);
    fputs("</td>", out);
}

/* Distinct values of one coverage field among an op's cells, in first-seen order. */
#define MAX_AXIS_VALUES 48
typedef struct axis_values {
    const char *v[MAX_AXIS_VALUES];
    int n;
} axis_values;

static void axis_add(axis_values *a, const char *v)
{
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->v[i], v) == 0)
            return;
    if (a->n < MAX_AXIS_VALUES)
        a->v[a->n++] = v;
}

static int num_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    double dx = atof(x), dy = atof(y);
    return dx < dy ? -1 : dx > dy ? 1 : strcmp(x, y);
}

typedef struct op_axes {
    axis_values dtypes, aligns;
    unsigned layouts; /* bits of rp_report.layouts */
} op_axes;

static void collect_axes(const rp_report *r, const char *op, op_axes *ax)
{
    memset(ax, 0, sizeof *ax);
    for (int i = 0; i < r->n_cov; i++) {
        const rp_cov *c = &r->cov[i];
        if (strcmp(c->op, op) != 0)
            continue;
        axis_add(&ax->dtypes, c->dtype);
        axis_add(&ax->aligns, c->align);
        ax->layouts |= c->layout_bits;
    }
    rp_sort(ax->aligns.v, ax->aligns.n, sizeof ax->aligns.v[0], num_cmp);
}

/* Sums of a variant's cells; field selects which cells (NULL: all). */
static pfs sum_cells(const rp_report *r, const char *op, const char *backend, const char *variant, int field,
                     const char *value, int layout_bit)
{
    pfs s = {0, 0, 0};
    for (int i = 0; i < r->n_cov; i++) {
        const rp_cov *c = &r->cov[i];
        if (strcmp(c->variant, variant) || strcmp(c->backend, backend) || strcmp(c->op, op))
            continue;
        if ((field == 1 && strcmp(c->dtype, value)) || (field == 2 && !(c->layout_bits & (1u << layout_bit))) ||
            (field == 3 && strcmp(c->align, value)))
            continue;
        s.pass += c->pass;
        s.fail += c->fail;
        s.skip += c->skip;
    }
    return s;
}

/* The variants of an op: every one this binary registers (so variants that never ran show),
 * then any other the store has results for. */
typedef struct variant_ref {
    const char *backend, *name;
} variant_ref;

static int op_variants(const rp_report *r, const char *op, variant_ref *out, int cap)
{
    int n = 0;
    for (int i = 0; i < r->opts.n_variants && n < cap; i++) {
        const mc_report_variant *v = &r->opts.variants[i];
        if (!v->hidden && strcmp(mc_op_get(v->op)->name, op) == 0)
            out[n++] = (variant_ref){v->backend, v->name};
    }
    for (int i = 0; i < r->n_cov + r->n_gated && n < cap; i++) {
        const char *vop = i < r->n_cov ? r->cov[i].op : r->gated[i - r->n_cov].op;
        const char *backend = i < r->n_cov ? r->cov[i].backend : r->gated[i - r->n_cov].backend;
        const char *name = i < r->n_cov ? r->cov[i].variant : r->gated[i - r->n_cov].variant;
        bool known = strcmp(vop, op) != 0;
        for (int j = 0; j < n && !known; j++)
            known = strcmp(out[j].name, name) == 0 && strcmp(out[j].backend, backend) == 0;
        if (!known)
            out[n++] = (variant_ref){backend, name};
    }
    return n;
}

static void write_op_header(FILE *out, const rp_report *r, const op_axes *ax)
{
    fputs("<thead><tr><th rowspan=\"2\">Variant</th><th rowspan=\"2\">All</th>", out);
    int n_layouts = 0;
    for (int b = 0; b < r->n_layouts; b++)
        n_layouts += (ax->layouts >> b) & 1;
    fprintf(out, "<th colspan=\"%d\" class=\"grp\">dtype</th><th colspan=\"%d\" class=\"grp\">layout</th>"
                 "<th colspan=\"%d\" class=\"grp\">align (bytes)</th></tr><tr>",
            ax->dtypes.n, n_layouts, ax->aligns.n);
    for (int i = 0; i < ax->dtypes.n; i++) {
        fputs("<th>", out);
        mc_html_text(out, ax->dtypes.v[i]);
        fputs("</th>", out);
    }
    for (int b = 0; b < r->n_layouts; b++) {
        if (!((ax->layouts >> b) & 1))
            continue;
        fputs("<th>", out);
        mc_html_text(out, r->layouts[b]);
        fputs("</th>", out);
    }
    for (int i = 0; i < ax->aligns.n; i++) {
        fputs("<th>", out);
        mc_html_text(out, ax->aligns.v[i]);
        fputs("</th>", out);
    }
    fputs("</tr></thead>", out);
}

static const rp_gated *gated_of(const rp_report *r, variant_ref v)
{
    for (int i = 0; i < r->n_gated; i++)
        if (strcmp(r->gated[i].variant, v.name) == 0 && strcmp(r->gated[i].backend, v.backend) == 0)
            return &r->gated[i];
    return NULL;
}

/* A row spanning every count column: a variant without a single result. */
static void write_empty_row(FILE *out, const rp_report *r, const op_axes *ax, const rp_gated *g)
{
    int span = 1 + ax->dtypes.n + ax->aligns.n;
    for (int b = 0; b < r->n_layouts; b++)
        span += (ax->layouts >> b) & 1;
    if (g) {
        fprintf(out, "<td class=\"c-fail gated\" colspan=\"%d\">\u2717 coverage failure: ", span);
        mc_html_text(out, g->message);
        fputs("</td></tr>", out);
        return;
    }
    fprintf(out, "<td class=\"gap\" colspan=\"%d\">\u2205 never ran in this run</td></tr>", span);
}

static void write_variant_row(FILE *out, const rp_report *r, const char *op, const op_axes *ax, variant_ref v)
{
    pfs all = sum_cells(r, op, v.backend, v.name, 0, NULL, 0);
    bool never = all.pass + all.fail + all.skip == 0;
    const rp_gated *g = gated_of(r, v);
    fprintf(out, "<tr%s><th class=\"rowh\">", never ? " class=\"never\"" : "");
    mc_html_text(out, v.name);
    fputs(" <small>", out);
    mc_html_text(out, v.backend);
    fputs("</small>", out);
    if (g && !never) { /* offered cases, declined them all: its gate says yes, the kernel no */
        fputs(" <span class=\"kind\" title=\"", out);
        mc_html_text(out, g->message);
        fputs("\">\u2717 coverage</span>", out);
    }
    fputs("</th>", out);
    if (never) {
        write_empty_row(out, r, ax, g);
        return;
    }
    write_cell(out, all);
    for (int i = 0; i < ax->dtypes.n; i++)
        write_cell(out, sum_cells(r, op, v.backend, v.name, 1, ax->dtypes.v[i], 0));
    for (int b = 0; b < r->n_layouts; b++)
        if ((ax->layouts >> b) & 1)
            write_cell(out, sum_cells(r, op, v.backend, v.name, 2, NULL, b));
    for (int i = 0; i < ax->aligns.n; i++)
        write_cell(out, sum_cells(r, op, v.backend, v.name, 3, ax->aligns.v[i], 0));
    fputs("</tr>", out);
}

static int cov_cmp(const void *a, const void *b)
{
    const rp_cov *x = a, *y = b;
    int d = strcmp(x->op, y->op);
    if (!d)
        d = strcmp(x->variant, y->variant);
    if (!d)
        d = strcmp(x->dtype, y->dtype);
    if (!d)
        d = strcmp(x->layout, y->layout);
    return d ? d : num_cmp(&(const char *){x->align}, &(const char *){y->align});
}

/* The full cross of one op, as rows: what the marginal columns cannot show. */
static void write_cross(FILE *out, const rp_report *r, const char *op)
{
    rp_cov *rows = malloc((size_t)(r->n_cov ? r->n_cov : 1) * sizeof *rows);
    int n = 0;
    if (!rows)
        return;
    for (int i = 0; i < r->n_cov; i++)
        if (strcmp(r->cov[i].op, op) == 0)
            rows[n++] = r->cov[i];
    rp_sort(rows, n, sizeof *rows, cov_cmp);
    fprintf(out, "<details><summary>Full cross for ");
    mc_html_text(out, op);
    fprintf(out, ": %d (variant, dtype, layout, align) cells</summary><div class=\"scroll\"><table class=\"sortable "
                 "cross\"><thead><tr><th>Variant</th><th>dtype</th><th>layout</th><th>align</th><th>pass</th>"
                 "<th>fail</th><th>skip</th></tr></thead><tbody>",
            n);
    for (int i = 0; i < n; i++) {
        const rp_cov *c = &rows[i];
        fprintf(out, "<tr class=\"%s\"><td>", c->fail ? "c-fail" : c->pass ? "c-pass" : "gap");
        mc_html_text(out, c->variant);
        fputs("</td><td>", out);
        mc_html_text(out, c->dtype);
        fputs("</td><td>", out);
        mc_html_text(out, c->layout);
        fputs("</td><td class=\"num\">", out);
        mc_html_text(out, c->align);
        fprintf(out, "</td><td class=\"num\">%d</td><td class=\"num\">%s%d</td><td class=\"num\">%d</td></tr>", c->pass,
                c->fail ? "\u2717" : "", c->fail, c->skip);
    }
    fputs("</tbody></table></div></details>", out);
    free(rows);
}

#define MAX_OP_VARIANTS 128

void rp_write_coverage(FILE *out, const rp_report *r)
{
    fputs("<section id=\"coverage\"><h2>Coverage matrix</h2><p>Per op: each variant's results split by dtype, by the "
          "layouts its tensors used and by alignment (\u2713 passed, \u2717 failed, &ndash; skipped, &middot; "
          "nothing). Variants this binary registers but that never ran are listed too: a gap in testing is a "
          "finding.</p>",
          out);
    for (int o = 0; o < MC_OP_COUNT; o++) {
        const char *op = mc_op_get((mc_op_id)o)->name;
        variant_ref vars[MAX_OP_VARIANTS];
        int n = op_variants(r, op, vars, MAX_OP_VARIANTS);
        if (n == 0)
            continue;
        op_axes ax;
        collect_axes(r, op, &ax);
        fputs("<h3>", out);
        mc_html_text(out, op);
        fprintf(out, "</h3><div class=\"scroll\"><table class=\"cov\" id=\"cov-%s\">", op);
        write_op_header(out, r, &ax);
        fputs("<tbody>", out);
        for (int i = 0; i < n; i++)
            write_variant_row(out, r, op, &ax, vars[i]);
        fputs("</tbody></table></div>", out);
        if (ax.dtypes.n)
            write_cross(out, r, op);
    }
    fputs("</section>\n", out);
}
