/* reports/report.c: writes the report page: head with inline CSS, the sections in order
 * (banner, failures, changes, history, variant comparison, coverage, kernel coverage when asked,
 * roofline) and the optional script; through core/outfile.h: renamed over a regular out_path,
 * a device or pipe written in place.
 * SPDX-License-Identifier: MIT */
#include "report.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/outfile.h"
#include "core/runinfo.h"
#include "html.h"
#include "report_int.h"
#include "core/clock.h"

static void write_head(FILE *out, const rp_report *r)
{
    /* The policy forbids every fetch: the page must render offline, and untrusted text in it can
     * never load anything even if an escape were missed. */
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
          "script-src 'unsafe-inline'; img-src data:\">"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>metallic-check: ",
          out);
    char sha[16];
    mc_html_text(out, rp_overall(r));
    snprintf(sha, sizeof sha, "%.12s", r->cand.commit); /* from the store: untrusted like any text there */
    fputs(" &middot; ", out);
    mc_html_text(out, sha);
    if (r->have_base) {
        snprintf(sha, sizeof sha, "%.12s", r->base.commit);
        fputs(" vs ", out);
        mc_html_text(out, sha);
    }
    fprintf(out, "</title><style>\n%s</style></head><body>\n", rp_css);
}

static void write_nav(FILE *out, const rp_report *r)
{
    fprintf(out, "<nav><a href=\"#failures\">Failures (%d)</a><a href=\"#changes\">Regressions</a>"
                 "<a href=\"#history\">History</a><a href=\"#sweeps\">Variants</a><a href=\"#coverage\">Coverage</a>"
                 "%s<a href=\"#roofline\">Roofline</a>"
                 "<input id=\"failure-filter\" type=\"search\" placeholder=\"filter failures\" hidden></nav>\n",
            r->n_failures_total, r->have_kcov ? "<a href=\"#kernel-coverage\">Kernel coverage</a>" : "");
}

static void write_page(FILE *out, const rp_report *r, mc_report_stats *st)
{
    char now[MC_TIME_LEN];
    mc_runinfo_now(now);
    write_head(out, r);
    rp_write_banner(out, r);
    write_nav(out, r);
    rp_write_failures(out, r);
    rp_write_changes(out, r);
    st->n_history_series = rp_write_history(out, r);
    st->n_sweeps = rp_write_sweeps(out, r);
    rp_write_coverage(out, r);
    rp_write_kernel_coverage(out, r);
    st->n_roofline_points = rp_write_roofline(out, r);
    fprintf(out, "<footer>Written by metallic-check %s at %s. One self-contained file: no scripts, fonts or images "
                 "are fetched; the page reads the same without JavaScript.</footer>\n",
            MC_VERSION, now);
    fprintf(out, "<script>\n%s</script>\n</body></html>\n", rp_script);
}

static void fill_stats(const rp_report *r, mc_report_stats *st)
{
    st->n_results = r->n_results;
    st->n_failures = r->n_failures_total;
    st->n_compared = r->n_changes;
    st->n_slower = rp_count_verdict(r, MC_VERDICT_SLOWER);
    st->n_faster = rp_count_verdict(r, MC_VERDICT_FASTER);
    st->n_regressions = rp_count_class(r, RP_CLASS_REGRESSION);
    st->n_no_baseline = r->nobase_checked ? r->n_nobase : 0;
    st->timings_unreliable = rp_env_warns(&r->cand_env) || (r->have_base && rp_env_warns(&r->base_env));
    st->n_cand_runs = r->cand_set.n;
    st->n_base_runs = r->have_base ? r->base_set.n : 0;
    st->verdicts_stored = r->verdicts_stored;
    st->n_history_commits = r->n_commits;
    st->peaks_measured = r->peaks_measured;
}

mc_status mc_report_write_opts(mc_store *s, const mc_report_opts *opts, mc_report_stats *stats, mc_err *err)
{
    double t0 = mc_now_s();
    mc_report_stats local;
    mc_report_stats *st = stats ? stats : &local;
    memset(st, 0, sizeof *st);
    if (!opts->out_path || !*opts->out_path)
        return mc_err_set(err, MC_ERR_USAGE, "the report needs an output path");
    rp_report r;
    mc_status rc = rp_load(s, opts, &r, err);
    if (!rc && opts->kernel_coverage)
        rc = rp_load_kernel_coverage(opts->kernel_coverage, &r, err);
    mc_outfile out; /* renamed over a regular file only: never over a device or a pipe */
    if (!rc)
        rc = mc_outfile_open(&out, opts->out_path, "report", err);
    if (!rc) {
        write_page(out.f, &r, st);
        rc = mc_outfile_commit(&out, "report", err);
    }
    if (!rc) {
        struct stat sb;
        st->bytes = stat(opts->out_path, &sb) == 0 ? (long)sb.st_size : 0;
        fill_stats(&r, st);
    }
    rp_free(&r);
    st->seconds = mc_now_s() - t0;
    return rc;
}

mc_status mc_report_write(mc_store *s, int64_t base_run, int64_t cand_run, const char *out_path,
                          const mc_report_variant *variants, int n_variants, mc_report_stats *stats, mc_err *err)
{
    mc_report_opts o = {.cand_run = cand_run, .base_run = base_run, .out_path = out_path, .measure_peaks = true,
                        .variants = variants, .n_variants = n_variants};
    return mc_report_write_opts(s, &o, stats, err);
}
