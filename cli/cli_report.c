/* cli/cli_report.c: `metallic-check report`: resolves the candidate and base runs, measures
 * the machine's bandwidth once when the store lacks it, and writes the HTML report.
 * SPDX-License-Identifier: MIT */
#include "cli_report.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "engine/registry.h"
#include "db/compare_runs.h"

static const char report_usage[] =
    "usage: metallic-check report [--db PATH] [--out FILE.html] [--base RUN|COMMIT] [--cand RUN|COMMIT]\n"
    "Writes one self-contained HTML page about a run: verdict banner, failures with reproducers,\n"
    "regressions and improvements against a base run, history per kernel variant, variant\n"
    "comparisons across a swept parameter, the coverage matrix and the roofline.\n"
    "\n"
    "  --db PATH          results database (default $MC_DB, else ./metallic-check.db); it must exist\n"
    "  --out FILE         the page to write (default metallic-check-report.html)\n"
    "  --cand RUN|COMMIT  the run the page is about: a run id (12, #12, run:12), 'latest', or a commit\n"
    "                     (SHA, prefix or git revision: its newest finished run); default: the newest\n"
    "                     finished run\n"
    "  --base RUN|COMMIT  the run to compare with (a commit means its newest finished timed run), or\n"
    "                     'none'; default: as compare and check choose it: the run the candidate was\n"
    "                     paired with, else the run of its parent commit (none on record: the runs\n"
    "                     before it, not its own other shards) on the same machine that ended passed\n"
    "                     or failed and timed most of its pairs, then of its selection, newest first\n"
    "  --history N        timed runs of the machine the history charts read (default 100)\n"
    "  --threshold PCT    relative change that matters when the store holds no verdicts for the\n"
    "                     pair and the report computes them from the samples (default 3)\n"
    "  --no-measure       do not measure the machine's bandwidth when the store lacks it (the report\n"
    "                     measures it only when it runs on the candidate's machine)\n"
    "  --kernel-coverage FILE  add the kernel lines and branches no case reached, per CPU variant, from\n"
    "                     the TSV scripts/kernel-coverage writes (docs/coverage.md)\n"
    "  -h, --help         this text\n"
    "\n"
    "Verdicts stored by `check` are shown as stored; otherwise they are computed here and not stored.\n"
    "Exit status: 0 the page was written; 2 usage error, missing or unreadable database, unknown run.\n";

enum { OPT_DB = 1000, OPT_OUT, OPT_BASE, OPT_CAND, OPT_HISTORY, OPT_THRESHOLD, OPT_NO_MEASURE, OPT_KCOV };

static const struct option report_options[] = {
    {"db", required_argument, NULL, OPT_DB},           {"out", required_argument, NULL, OPT_OUT},
    {"base", required_argument, NULL, OPT_BASE},       {"cand", required_argument, NULL, OPT_CAND},
    {"history", required_argument, NULL, OPT_HISTORY}, {"threshold", required_argument, NULL, OPT_THRESHOLD},
    {"no-measure", no_argument, NULL, OPT_NO_MEASURE}, {"help", no_argument, NULL, 'h'},
    {"kernel-coverage", required_argument, NULL, OPT_KCOV},
    {NULL, 0, NULL, 0},
};

typedef struct report_args {
    const char *db, *out, *base, *cand, *kernel_coverage;
    int history;
    double threshold; /* a fraction: 0.03 for 3% */
    bool measure;
} report_args;

static int usage_error(const char *fmt, const char *what)
{
    return mc_cli_usage_error("report", NULL, MC_USAGE_HINT, fmt, what);
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, report_args *a)
{
    *a = (report_args){.out = "metallic-check-report.html", .history = 100, .threshold = 0.03, .measure = true};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", report_options, NULL)) != -1) {
        long history = 0;
        switch (c) {
        case 'h': fputs(report_usage, stdout); return MC_EXIT_OK;
        case OPT_DB: a->db = optarg; break;
        case OPT_OUT: a->out = optarg; break;
        case OPT_BASE: a->base = optarg; break;
        case OPT_CAND: a->cand = optarg; break;
        case OPT_NO_MEASURE: a->measure = false; break;
        case OPT_KCOV: a->kernel_coverage = optarg; break;
        case OPT_HISTORY:
            if (mc_cli_parse_long(optarg, 1, 100000, &history))
                return usage_error("--history wants a run count from 1, got '%s'", optarg);
            a->history = (int)history;
            break;
        case OPT_THRESHOLD:
            if (!mc_cli_parse_threshold(optarg, &a->threshold))
                return usage_error("--threshold wants a percentage between 0 and 100, got '%s'", optarg);
            break;
        default:
            return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    return -1;
}

static bool is_run_id(const char *spec)
{
    size_t n = strlen(spec);
    return strncmp(spec, "run:", 4) == 0 || spec[0] == '#' || (n && n < 7 && strspn(spec, "0123456789") == n);
}

/* The candidate: a run id, 'latest' (any finished run) or a commit's newest finished run. */
static mc_status resolve_cand(mc_store *s, const char *spec, int64_t *run, mc_err *err)
{
    if (spec && is_run_id(spec))
        return mc_store_resolve_run(s, spec, NULL, run, err);
    char sha[MC_SHA_LEN];
    mc_run_query q = {.commit_prefix = spec && strcmp(spec, "latest") != 0 ? mc_runinfo_run_spec(spec, sha) : NULL};
    return mc_store_newest_run(s, &q, run, err);
}

static mc_status resolve_runs(mc_store *s, const report_args *a, mc_report_opts *o, mc_err *err)
{
    mc_status st = resolve_cand(s, a->cand, &o->cand_run, err);
    if (st)
        return st;
    if (a->base && strcmp(a->base, "none") == 0)
        return MC_OK;
    if (!a->base)
        return mc_compare_default_base(s, o->cand_run, false, &o->base_run, err);
    char sha[MC_SHA_LEN];
    st = mc_store_resolve_run(s, mc_runinfo_run_spec(a->base, sha), NULL, &o->base_run, err);
    if (!st && o->base_run == o->cand_run)
        st = mc_err_set(err, MC_ERR_USAGE, "--base and --cand name the same run (%lld)", (long long)o->cand_run);
    return st;
}

const mc_report_variant *mc_cli_report_variants(int *count)
{
    static mc_report_variant *list; /* kept for the process: plugins are loaded before any report */
    static int n;
    if (!list) {
        int all = 0;
        const mc_variant *const *v = mc_registry_variants(true, &all);
        list = calloc((size_t)(all ? all : 1), sizeof *list);
        for (n = 0; list && n < all; n++)
            list[n] = (mc_report_variant){.backend = v[n]->backend, .name = v[n]->name, .op = v[n]->op,
                                          .hidden = (v[n]->flags & (MC_VARIANT_TEST_ONLY | MC_VARIANT_MUTANT)) != 0,
                                          .plugin = mc_registry_plugin_of(v[n])};
    }
    *count = list ? n : 0; /* no memory: the page shows what the store holds */
    return list;
}

void mc_cli_report_summary(const char *out_path, int64_t base_run, int64_t cand_run, const mc_report_stats *st)
{
    printf("report: %s (%.1f KiB) for run %lld", out_path, st->bytes / 1024.0, (long long)cand_run);
    if (base_run)
        printf(" against run %lld", (long long)base_run);
    printf(": %d results, %d failures", st->n_results, st->n_failures);
    if (st->n_compared)
        printf(", %d compared (%d slower, %d faster, %d regressions; verdicts %s)", st->n_compared, st->n_slower,
               st->n_faster, st->n_regressions, st->verdicts_stored ? "as stored" : "computed here");
    if (st->n_no_baseline)
        printf(", %d without a baseline", st->n_no_baseline);
    printf("; %d history charts over %d commits; written in %.2f s\n", st->n_history_series, st->n_history_commits,
           st->seconds);
    if (st->timings_unreliable)
        printf("report: warning: timings were taken on a loaded or throttled machine (see the page)\n");
    if (st->peaks_measured)
        printf("report: measured this machine's read and copy bandwidth and stored them as machine peaks\n");
}

int mc_cli_report(int argc, char **argv)
{
    report_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    const char *path = a.db ? a.db : mc_store_default_path();
    mc_store *s = NULL;
    mc_err err = {0};
    rc = mc_cli_open_existing("report", path, false, &s);
    if (rc >= 0)
        return rc;
    mc_report_opts o = {.out_path = a.out, .history_runs = a.history, .measure_peaks = a.measure,
                        .kernel_coverage = a.kernel_coverage, .compare = mc_compare_defaults()};
    o.variants = mc_cli_report_variants(&o.n_variants);
    o.compare.threshold = a.threshold;
    mc_report_stats st;
    if (resolve_runs(s, &a, &o, &err) != MC_OK || mc_report_write_opts(s, &o, &st, &err) != MC_OK) {
        rc = mc_cli_report_error("report", &err);
        mc_store_close(s);
        return rc;
    }
    mc_store_close(s);
    mc_cli_report_summary(o.out_path, o.base_run, o.cand_run, &st);
    return MC_EXIT_OK;
}
