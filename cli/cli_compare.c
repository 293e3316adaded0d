/* cli/cli_compare.c: `metallic-check compare` and `metallic-check merge`.
 * SPDX-License-Identifier: MIT */
#include "cli_compare.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "core/outfile.h"
#include "stats/compare.h"
#include "db/compare_runs.h"
#include "db/store.h"
#include "core/json.h"

static const char compare_usage[] =
    "usage: metallic-check compare [--db PATH] [--base RUN|COMMIT] [--cand RUN|COMMIT] [--threshold PCT]\n"
    "                              [--force] [--json] [--all] [--quiet]\n"
    "Compares the timings of two stored runs, case by case and variant by variant, and gives each\n"
    "a verdict: faster, slower, same or ambiguous. Verdicts are stored in the database.\n"
    "\n"
    "  --db PATH          results database (default $MC_DB, else ./metallic-check.db)\n"
    "  --cand RUN|COMMIT  the candidate (default: the newest finished run with timings)\n"
    "  --base RUN|COMMIT  the baseline (default, as check and report choose it: the run the candidate\n"
    "                     was paired with, else the run of the candidate's parent commit (none on\n"
    "                     record: the runs before it) on the same machine that ended passed or failed\n"
    "                     and timed most of the candidate's pairs, then of the same selection, newest\n"
    "                     first; runs aborted by a setup error never)\n"
    "                     RUN is run:N, #N or a number under 7 digits; COMMIT is a SHA, a prefix\n"
    "                     of 4+ hex digits or a git revision (HEAD~1, a branch): its newest\n"
    "                     finished timed run; 'latest' also works\n"
    "  --threshold PCT    smallest change that matters, in percent (default 3)\n"
    "  --force            compare runs from different machine fingerprints\n"
    "  --json             print the verdicts as JSON on stdout\n"
    "  --all              list every comparison, not only those that are not 'same'\n"
    "  --quiet            print nothing (errors aside): store the verdicts, give the exit status\n"
    "  -h, --help         this text\n"
    "\n"
    "Rules: independent runs use Mann-Whitney U and the Hodges-Lehmann shift of log-times with its\n"
    "95% CI; runs paired by the A/B script use the CI of the median paired log-ratio. 'slower' needs\n"
    "the whole CI above +threshold and a Benjamini-Hochberg q-value under 0.05 across cases; 'same'\n"
    "needs the whole CI within +-threshold; everything else is 'ambiguous'. A slower verdict on\n"
    "byte-identical code (equal code hashes) is labelled noise/environment, not a regression.\n"
    "Regressions are grouped by the parameters they share and listed first. A timed pair the base did\n"
    "not time has no baseline: it is counted and listed as such, never as 'no regression'.\n"
    "See docs/statistics.md.\n"
    "\n"
    "Exit status: 0 no regression; 3 a regression; 4 the runs share no timed case; 2 usage,\n"
    "configuration or database error (different machines without --force included).\n";

static const char merge_usage[] =
    "usage: metallic-check merge A.db [B.db ...] -o OUT.db\n"
    "Joins results databases (e.g. the shards of one suite run with --shard I/N on several machines)\n"
    "into OUT.db, which is created if needed. Runs are matched by their uuid, cases by canonical key,\n"
    "variants by backend, name and code hash: merging the same database twice adds nothing. Inputs\n"
    "with an older schema are upgraded in place first. Any of them may be a PostgreSQL server\n"
    "(postgresql://... or host=... dbname=...; docs/store-postgres.md), either way round.\n"
    "\n"
    "  -o, --output PATH  the database to merge into (required)\n"
    "  -h, --help         this text\n"
    "\n"
    "Exit status: 0 merged; 2 usage or database error.\n";

typedef struct compare_opts {
    const char *db, *base, *cand;
    mc_compare_cfg cfg;
    bool force, json, all, quiet;
} compare_opts;

enum { OPT_DB = 1000, OPT_BASE, OPT_CAND, OPT_THRESHOLD, OPT_FORCE, OPT_JSON, OPT_ALL, OPT_QUIET };

static const struct option compare_options[] = {
    {"db", required_argument, NULL, OPT_DB},       {"base", required_argument, NULL, OPT_BASE},
    {"cand", required_argument, NULL, OPT_CAND},   {"threshold", required_argument, NULL, OPT_THRESHOLD},
    {"force", no_argument, NULL, OPT_FORCE},       {"json", no_argument, NULL, OPT_JSON},
    {"all", no_argument, NULL, OPT_ALL},           {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* -1 to go on, else the exit status */
static int parse_compare(int argc, char **argv, compare_opts *o)
{
    memset(o, 0, sizeof *o);
    o->cfg = mc_compare_defaults();
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", compare_options, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(compare_usage, stdout); return MC_EXIT_OK;
        case OPT_DB: o->db = optarg; break;
        case OPT_BASE: o->base = optarg; break;
        case OPT_CAND: o->cand = optarg; break;
        case OPT_FORCE: o->force = true; break;
        case OPT_JSON: o->json = true; break;
        case OPT_ALL: o->all = true; break;
        case OPT_QUIET: o->quiet = true; break;
        case OPT_THRESHOLD:
            if (!mc_cli_parse_threshold(optarg, &o->cfg.threshold))
                return mc_cli_usage_error("compare", compare_usage, MC_USAGE_FULL, "--threshold wants a percentage in (0, 100), got '%s'",
                                   optarg);
            break;
        default:
            return mc_cli_usage_error("compare", compare_usage, MC_USAGE_FULL, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return mc_cli_usage_error("compare", compare_usage, MC_USAGE_FULL, "unexpected argument '%s'", argv[optind]);
    return -1;
}

/* ---- choosing the two runs ---- */

static mc_status pick_runs(mc_store *s, const compare_opts *o, int64_t *base_id, int64_t *cand_id, mc_err *err)
{
    mc_run_record cand;
    char sha[MC_SHA_LEN];
    mc_status st = mc_store_resolve_run(s, o->cand ? mc_runinfo_run_spec(o->cand, sha) : "latest", NULL, cand_id, err);
    if (!st)
        st = mc_store_get_run(s, *cand_id, &cand, err);
    if (st)
        return st;
    const char *fp = o->force ? NULL : cand.fingerprint;
    if (o->base)
        return mc_store_resolve_run(s, mc_runinfo_run_spec(o->base, sha), fp, base_id, err);
    st = mc_compare_default_base(s, cand.id, o->force, base_id, err);
    if (!st && !*base_id && cand.parent[0])
        st = mc_err_set(err, MC_ERR_CONFIG,
                        "no timed run of the candidate's parent commit %.12s%s that ended passed or failed; "
                        "name one with --base",
                        cand.parent, fp ? " on this machine" : "");
    if (!st && !*base_id)
        st = mc_err_set(err, MC_ERR_CONFIG, "run %" PRId64 " has no parent commit on record; name a --base", cand.id);
    return st;
}

/* ---- output ---- */

typedef struct tally {
    int by_verdict[MC_VERDICT_COUNT];
    int regressions;
    int noise_slower, noise_faster; /* slower / faster verdicts on identical code */
} tally;

static tally count_verdicts(const mc_compare_match *m)
{
    tally t = {0};
    for (int i = 0; i < m->n; i++) {
        t.by_verdict[m->items[i].verdict]++;
        bool noise = strcmp(m->items[i].label, MC_LABEL_NOISE) == 0;
        t.regressions += strcmp(m->items[i].label, MC_LABEL_REGRESSION) == 0;
        t.noise_slower += noise && m->items[i].verdict == MC_VERDICT_SLOWER;
        t.noise_faster += noise && m->items[i].verdict == MC_VERDICT_FASTER;
    }
    return t;
}

static void print_run(const char *role, const mc_run_record *r)
{
    printf("%s run %" PRId64 " (%.12s%s%s%s, %s, %s)\n", role, r->id, r->commit, r->dirty ? " +dirty" : "",
           r->branch[0] ? " on " : "", r->branch, r->started_at, r->mode);
}

static void print_item(const mc_compare_item *it)
{
    char ci[48];
    if (it->ci_bounded)
        snprintf(ci, sizeof ci, "[%+.1f%%, %+.1f%%]", (it->ci_lo - 1) * 100, (it->ci_hi - 1) * 100);
    else
        snprintf(ci, sizeof ci, "(too few samples)");
    char change[16];
    if (isfinite(it->ratio))
        snprintf(change, sizeof change, "%+7.1f%%", (it->ratio - 1) * 100);
    else
        snprintf(change, sizeof change, "%8s", "n/a");
    printf("  %-9s %s  %-20s %-9.2g %s [%s %s]%s%s\n", mc_verdict_name(it->verdict), change, ci, it->q, it->case_key,
           it->backend, it->variant, it->label[0] ? "  " : "", it->label);
}

/* Listing order: regressions first (what the commit is judged by), then the other slower
 * verdicts, faster, ambiguous and same. */
enum { RANK_REGRESSION, RANK_SLOWER, RANK_FASTER, RANK_AMBIGUOUS, RANK_SAME, RANK_COUNT };

static int rank_of(const mc_compare_item *it)
{
    if (strcmp(it->label, MC_LABEL_REGRESSION) == 0)
        return RANK_REGRESSION;
    switch (it->verdict) {
    case MC_VERDICT_SLOWER: return RANK_SLOWER;
    case MC_VERDICT_FASTER: return RANK_FASTER;
    case MC_VERDICT_SAME: return RANK_SAME;
    default: return RANK_AMBIGUOUS;
    }
}

#define NO_BASELINE_SHOWN 5 /* uncovered pairs listed without --all */

/* The candidate's timed pairs without a baseline: counted always, never a silent "no regression". */
static void print_no_baseline(const mc_run_record *base, const mc_compare_match *m, bool all)
{
    int timed = m->n + m->n_no_baseline;
    printf("%d of %d timed (case, variant) pair%s had a baseline in run %" PRId64 "; %d no baseline%s\n", m->n, timed,
           timed == 1 ? "" : "s", base->id, m->n_no_baseline, m->n_no_baseline ? " (not compared: no verdict)" : "");
    int shown = all ? m->n_no_baseline : m->n_no_baseline < NO_BASELINE_SHOWN ? m->n_no_baseline : NO_BASELINE_SHOWN;
    for (int i = 0; i < shown; i++)
        printf("  no baseline %s [%s %s]\n", m->no_baseline[i]->case_key, m->no_baseline[i]->backend,
               m->no_baseline[i]->variant);
    if (shown < m->n_no_baseline)
        printf("  ... and %d more (--all lists them)\n", m->n_no_baseline - shown);
}

static void print_human(const mc_run_record *base, const mc_run_record *cand, const mc_compare_match *m,
                        const mc_compare_group *groups, int n_groups, const mc_compare_cfg *cfg, bool all)
{
    print_run("base:     ", base);
    print_run("candidate:", cand);
    bool paired = m->n && m->items[0].paired;
    printf("machine %s%s; %s; threshold %g%%, FDR %g%%\n\n", cand->fingerprint,
           strcmp(base->fingerprint, cand->fingerprint) ? " (base on another machine: forced)" : "",
           paired ? "paired runs: CI of the median paired log-ratio, sign test"
                  : "independent runs: Mann-Whitney U, Hodges-Lehmann shift of log-times",
           cfg->threshold * 100, cfg->fdr * 100);
    int shown = 0;
    for (int rank = 0; rank < RANK_COUNT; rank++) {
        if (rank == RANK_SAME && !all)
            continue;
        for (int i = 0; i < m->n; i++)
            if (rank_of(&m->items[i]) == rank) {
                if (!shown++)
                    printf("  verdict     change  95%% CI of change     q-value   case [backend variant]\n");
                print_item(&m->items[i]);
            }
    }
    if (n_groups) {
        printf("\nregressions by shared parameters:\n");
        for (int g = 0; g < n_groups; g++)
            printf("  %s %s: %s (%d of %d cases)\n", groups[g].backend, groups[g].variant, groups[g].description,
                   groups[g].n_regressed, groups[g].n_compared);
    }
    tally t = count_verdicts(m);
    printf("%s%d compared: %d slower (%d regression%s, %d noise/environment), %d faster (%d noise/environment), "
           "%d same, %d ambiguous\n",
           shown || n_groups ? "\n" : "", m->n, t.by_verdict[MC_VERDICT_SLOWER], t.regressions,
           t.regressions == 1 ? "" : "s", t.noise_slower, t.by_verdict[MC_VERDICT_FASTER], t.noise_faster,
           t.by_verdict[MC_VERDICT_SAME], t.by_verdict[MC_VERDICT_AMBIGUOUS]);
    print_no_baseline(base, m, all);
}

static void json_run(const char *name, const mc_run_record *r)
{
    printf("\"%s\":{\"run\":%" PRId64 ",\"commit\":", name, r->id);
    mc_json_string(stdout, r->commit);
    printf(",\"dirty\":%s,\"machine\":", r->dirty ? "true" : "false");
    mc_json_string(stdout, r->fingerprint);
    printf(",\"mode\":");
    mc_json_string(stdout, r->mode);
    printf("}");
}

static void json_field(const char *name, double v, bool comma)
{
    printf("%s\"%s\":", comma ? "," : "", name);
    mc_json_number(stdout, v);
}

/* Mean of the candidate's samples over the base's: the rule of llama.cpp's compare script, given
 * beside ours so a study can apply it to the same data (docs/detection-power.md). */
static double ratio_of_means(const mc_compare_item *it)
{
    double sb = 0, sc = 0;
    for (int i = 0; i < it->n_base; i++)
        sb += it->base[i];
    for (int i = 0; i < it->n_cand; i++)
        sc += it->cand[i];
    return it->n_base && it->n_cand && sb > 0 ? (sc / it->n_cand) / (sb / it->n_base) : NAN;
}

static void print_json(const mc_run_record *base, const mc_run_record *cand, const mc_compare_match *m,
                       const mc_compare_group *groups, int n_groups, const mc_compare_cfg *cfg, int exit_code)
{
    printf("{");
    json_run("base", base);
    printf(",");
    json_run("cand", cand);
    json_field("threshold", cfg->threshold, true);
    json_field("fdr", cfg->fdr, true);
    printf(",\"items\":[");
    for (int i = 0; i < m->n; i++) {
        const mc_compare_item *it = &m->items[i];
        printf("%s{\"case\":", i ? "," : "");
        mc_json_string(stdout, it->case_key);
        printf(",\"backend\":");
        mc_json_string(stdout, it->backend);
        printf(",\"variant\":");
        mc_json_string(stdout, it->variant);
        printf(",\"method\":\"%s\",\"verdict\":\"%s\",\"label\":", it->paired ? "paired" : "mann-whitney",
               mc_verdict_name(it->verdict));
        mc_json_string(stdout, it->label);
        json_field("ratio", it->ratio, true);
        json_field("ci_lo", it->ci_bounded ? it->ci_lo : NAN, true);
        json_field("ci_hi", it->ci_bounded ? it->ci_hi : NAN, true);
        json_field("p", it->p, true);
        json_field("q", it->q, true);
        json_field("mean_ratio", ratio_of_means(it), true);
        printf(",\"same_code\":%s,\"n_base\":%d,\"n_cand\":%d}", it->same_code ? "true" : "false", it->n_base,
               it->n_cand);
    }
    printf("],\"groups\":[");
    for (int g = 0; g < n_groups; g++) {
        printf("%s{\"backend\":", g ? "," : "");
        mc_json_string(stdout, groups[g].backend);
        printf(",\"variant\":");
        mc_json_string(stdout, groups[g].variant);
        printf(",\"description\":");
        mc_json_string(stdout, groups[g].description);
        printf(",\"regressed\":%d,\"compared\":%d,\"exact\":%s}", groups[g].n_regressed, groups[g].n_compared,
               groups[g].exact ? "true" : "false");
    }
    printf("],\"no_baseline\":[");
    for (int i = 0; i < m->n_no_baseline; i++) {
        printf("%s{\"case\":", i ? "," : "");
        mc_json_string(stdout, m->no_baseline[i]->case_key);
        printf(",\"backend\":");
        mc_json_string(stdout, m->no_baseline[i]->backend);
        printf(",\"variant\":");
        mc_json_string(stdout, m->no_baseline[i]->variant);
        printf(",\"verdict\":\"no baseline\"}");
    }
    tally t = count_verdicts(m);
    printf("],\"summary\":{\"timed\":%d,\"compared\":%d,\"no_baseline\":%d,\"slower\":%d,\"faster\":%d,"
           "\"same\":%d,\"ambiguous\":%d,\"regressions\":%d,\"noise_slower\":%d,\"noise_faster\":%d},"
           "\"exit\":%d}\n",
           m->n + m->n_no_baseline, m->n, m->n_no_baseline, t.by_verdict[MC_VERDICT_SLOWER],
           t.by_verdict[MC_VERDICT_FASTER], t.by_verdict[MC_VERDICT_SAME], t.by_verdict[MC_VERDICT_AMBIGUOUS],
           t.regressions, t.noise_slower, t.noise_faster, exit_code);
}

/* ---- the commands ---- */

int mc_cli_compare_runs(mc_store *s, int64_t base, int64_t cand, const mc_compare_runs_opts *opts,
                        mc_cli_compare_show show)
{
    mc_err err = {0};
    mc_compare_outcome out;
    int rc;
    mc_status st = mc_compare_runs(s, base, cand, opts, &out, &err);
    if (st) {
        rc = mc_cli_report_error("compare", &err);
    } else if (out.m.n == 0) {
        fprintf(stderr, "metallic-check compare: nothing to compare: runs %" PRId64 " (%d timings) and %" PRId64
                        " (%d timings) share no timed (case, variant)\n",
                out.base.id, out.base_timings.count, out.cand.id, out.cand_timings.count);
        rc = MC_EXIT_NOTHING;
    } else {
        rc = out.regression ? MC_EXIT_REGRESSION : MC_EXIT_OK;
        if (show == MC_COMPARE_SHOW_JSON)
            print_json(&out.base, &out.cand, &out.m, out.groups, out.n_groups, &opts->cfg, rc);
        else if (show != MC_COMPARE_SHOW_NONE)
            print_human(&out.base, &out.cand, &out.m, out.groups, out.n_groups, &opts->cfg,
                        show == MC_COMPARE_SHOW_ALL);
    }
    mc_compare_outcome_free(&out);
    return rc;
}

int mc_cli_compare(int argc, char **argv)
{
    compare_opts o;
    int rc = parse_compare(argc, argv, &o);
    if (rc >= 0)
        return rc;
    mc_store *s = NULL;
    rc = mc_cli_open_existing("compare", o.db ? o.db : mc_store_default_path(), false, &s);
    if (rc >= 0)
        return rc;
    int64_t base = 0, cand = 0;
    mc_err err = {0};
    if (pick_runs(s, &o, &base, &cand, &err) != MC_OK) {
        rc = mc_cli_report_error("compare", &err);
    } else {
        mc_compare_runs_opts opts = {.cfg = o.cfg, .force = o.force};
        rc = mc_cli_compare_runs(s, base, cand, &opts,
                                 o.json    ? MC_COMPARE_SHOW_JSON
                                 : o.quiet ? MC_COMPARE_SHOW_NONE
                                 : o.all   ? MC_COMPARE_SHOW_ALL
                                           : MC_COMPARE_SHOW_CHANGES);
    }
    mc_store_close(s);
    return rc;
}

int mc_cli_merge(int argc, char **argv)
{
    static const struct option options[] = {
        {"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *out = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
        if (c == 'h') {
            fputs(merge_usage, stdout);
            return MC_EXIT_OK;
        }
        if (c != 'o')
            return mc_cli_usage_error("merge", merge_usage, MC_USAGE_FULL, "unknown or incomplete option '%s'", argv[optind - 1]);
        out = optarg;
    }
    if (!out)
        return mc_cli_usage_error("merge", merge_usage, MC_USAGE_FULL, "%s", "-o OUT.db is required");
    if (optind >= argc)
        return mc_cli_usage_error("merge", merge_usage, MC_USAGE_FULL, "%s", "no database to merge");
    for (int i = optind; i < argc; i++) /* a PostgreSQL server is checked when it is opened */
        if (!mc_store_is_server(argv[i]) && access(argv[i], R_OK) != 0)
            return mc_cli_usage_error("merge", merge_usage, MC_USAGE_FULL, "cannot read '%s'", argv[i]);
    mc_store *s = NULL;
    mc_err err = {0};
    if ((!mc_store_is_server(out) && mc_outfile_check_regular(out, "-o", &err) != MC_OK) ||
        mc_store_open(out, &s, &err) != MC_OK)
        return mc_cli_report_error("merge", &err);
    int rc = MC_EXIT_OK;
    for (int i = optind; i < argc && rc == MC_EXIT_OK; i++) {
        mc_merge_stats st;
        if (mc_store_merge_from(s, argv[i], &st, &err) != MC_OK) {
            rc = mc_cli_report_error("merge", &err);
            break;
        }
        char label[1024];
        mc_store_label(argv[i], label, sizeof label);
        printf("%s: %d run%s added (%d already there), %d results, %d timings, %d verdicts\n", label, st.runs_added,
               st.runs_added == 1 ? "" : "s", st.runs_present, st.results_added, st.timings_added, st.verdicts_added);
    }
    mc_store_close(s);
    return rc;
}
