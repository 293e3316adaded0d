/* cli/cli_check.c: `metallic-check check`, the per-commit job.
 *
 * Steps (each result goes to the store as it arrives, so an interrupted check loses nothing):
 *   0. every option is checked before any work (the threshold, the perf case file, the report's
 *      folder, --base), in check's own words: a mistake costs nothing and stores no run;
 *   1. correctness: the precommit tier on every available backend;
 *   2. timing: the perf subset (cases/perf_smoke.lua), same run;
 *   3. compare with the parent commit's run on this machine that timed most of this run's pairs
 *      (a complete run of the same selection; never one aborted by a setup error), or --base; say
 *      how many timed pairs had a baseline, and count the rest as "no baseline", never as passed;
 *   4. an ambiguous verdict is re-measured: up to --remeasure rounds (default 2), each timing the
 *      ambiguous (case, variant) pairs again (changed code first, at most REMEASURE_MAX a round)
 *      and appending the samples to the candidate's timing, then comparing again; only what is
 *      still ambiguous after that is reported as ambiguous;
 *   5. the HTML report;
 *   6. exit with the combined status: 2 a setup error, else 1 a failure, else 3 a regression, else
 *      4 nothing ran, else 0. The run is stored with the status that matches: a setup error at any
 *      step (comparing and re-measuring included) leaves it "aborted", never "passed".
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_compare.h"
#include "cli_outputs.h"
#include "cli_report.h"
#include "engine/cases_lua.h"
#include "db/compare_runs.h"
#include "db/store.h"
#include "engine/perf.h"
#include "engine/perf_table.h"

#define REMEASURE_ROUNDS 2 /* default extra rounds for ambiguous verdicts: bounded, so a check ends */
#define REMEASURE_MAX 16   /* pairs re-measured per round: a noisy machine must not stall the check */

static const char check_usage[] =
    "usage: metallic-check check [options]\n"
    "The per-commit job: runs the precommit tier (correctness, every available backend) and a perf\n"
    "subset, stores both as one run, compares the timings with the parent commit's run on this machine\n"
    "that timed most of them (never one aborted by a setup error), writes the HTML report and exits\n"
    "with the combined verdict. Timed pairs the base did not time are counted as 'no baseline'.\n"
    "Every option is checked before any work starts.\n"
    "\n"
    "  --base RUN|COMMIT  compare with this run (run:N) or commit instead of the parent commit\n"
    "  --threshold PCT    a change smaller than this is never a regression (default 3)\n"
    "  --report FILE      where the report goes (default metallic-check-report.html)\n"
    "  --no-report        do not write the report\n"
    "  --perf-cases FILE  the perf subset (default cases/perf_smoke.lua)\n"
    "  --tier NAME        correctness tier (default precommit)\n"
    "  --db PATH          results database (default $MC_DB, else ./metallic-check.db)\n"
    "  --budget SEC       timing budget per perf case and variant (default 1)\n"
    "  --remeasure N      rounds of re-measuring ambiguous verdicts before reporting them (default 2,\n"
    "                     0 for none; at most 16 (case, variant) pairs a round, changed code first)\n"
    "  --json             one JSON document on stdout: both stages' results (timings, reproducers),\n"
    "                     the comparison's verdicts and the exit status; an error as {\"error\": ...}\n"
    "  --junit FILE       one JUnit XML file with every testcase of both stages\n"
    "  --backend, --op, --variant, --plugin, --seed, --jobs, --timeout, --commit, --quiet: as for `run`\n"
    "\n"
    "Exit status: 0 all passed and no regression; 1 a correctness failure, crash or timeout;\n"
    "2 usage or configuration error; 3 a performance regression; 4 nothing ran.\n";

typedef struct check_options {
    mc_run_options run;
    const char *base, *threshold, *report, *perf_cases, *remeasure;
    int no_report;
    int remeasure_rounds;
    char perf_path[1200]; /* the perf subset's case file, found and loaded once up front */
} check_options;

static int check_usage_error(const char *fmt, const char *value)
{
    return mc_cli_usage_error("check", check_usage, MC_USAGE_FULL, fmt, value);
}

/* Pulls check's own options out of argv, leaving the run options in place. */
static int take_check_options(int *argc, char **argv, check_options *c)
{
    int k = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        const char **slot = strcmp(a, "--base") == 0 ? &c->base
                            : strcmp(a, "--threshold") == 0 ? &c->threshold
                            : strcmp(a, "--report") == 0 ? &c->report
                            : strcmp(a, "--perf-cases") == 0 ? &c->perf_cases
                            : strcmp(a, "--remeasure") == 0  ? &c->remeasure
                                                               : NULL;
        if (slot) {
            if (i + 1 >= *argc)
                return check_usage_error("%s needs a value", a);
            *slot = argv[++i];
        } else if (strcmp(a, "--no-report") == 0) {
            c->no_report = 1;
        } else {
            argv[k++] = argv[i];
        }
    }
    *argc = k;
    argv[k] = NULL;
    c->remeasure_rounds = REMEASURE_ROUNDS;
    if (c->remeasure) {
        long n = 0;
        if (mc_cli_parse_long(c->remeasure, 0, 10, &n))
            return check_usage_error("--remeasure wants 0..10 rounds, got '%s'", c->remeasure);
        c->remeasure_rounds = (int)n;
    }
    double fraction;
    if (c->threshold && !mc_cli_parse_threshold(c->threshold, &fraction))
        return check_usage_error("--threshold wants a percentage in (0, 100), got '%s'", c->threshold);
    return -1;
}

/* Step 0 for what needs the file system or the store: the perf subset loads, the report's folder
 * takes a file, --base names a run or a commit with a timed run (on this machine is checked once
 * the run knows its machine). Nothing is stored. */
static int validate(check_options *c, mc_store *store)
{
    mc_err err = {0};
    char dir[1024], lib[1100];
    if (mc_cases_dir(c->run.session.cases_dir, dir, sizeof dir, &err) != MC_OK)
        return mc_cli_report_error("check", &err);
    snprintf(lib, sizeof lib, "%s/lib", dir); /* as the session loads case files */
    if (c->perf_cases)
        snprintf(c->perf_path, sizeof c->perf_path, "%s", c->perf_cases);
    else
        snprintf(c->perf_path, sizeof c->perf_path, "%s/perf_smoke.lua", dir);
    if (access(c->perf_path, R_OK) != 0)
        return check_usage_error("--perf-cases: cannot read '%s'", c->perf_path);
    mc_case_list cases = {0};
    mc_status st = mc_cases_load_file(c->perf_path, lib, &cases, &err);
    mc_case_list_free(&cases);
    if (st) {
        fprintf(stderr, "metallic-check check: --perf-cases %s: %s\n", c->perf_path, err.msg);
        return MC_EXIT_USAGE;
    }
    if (c->report && !c->no_report) {
        char folder[1200];
        snprintf(folder, sizeof folder, "%s", c->report);
        char *slash = strrchr(folder, '/');
        if (slash)
            slash[slash == folder] = '\0'; /* "/x.html" keeps "/" */
        if (access(slash ? folder : ".", W_OK) != 0)
            return check_usage_error("--report: cannot write into the folder of '%s'", c->report);
    }
    int64_t base = 0;
    char sha[MC_SHA_LEN];
    if (c->base && mc_store_resolve_run(store, mc_runinfo_run_spec(c->base, sha), NULL, &base, &err) != MC_OK) {
        fprintf(stderr, "metallic-check check: --base %s: %s\n", c->base, err.msg);
        return MC_EXIT_USAGE;
    }
    return -1;
}

static int correctness(check_options *c, int argc, char **argv, mc_store *store, mc_exec_outcome *out)
{
    mc_run_options o = c->run;
    if (!o.session.tier && !o.session.n_case_files)
        o.session.tier = "precommit";
    o.session.coverage_check = mc_session_wants_coverage(&o.session);
    return mc_cli_execute("check", &o, argc, argv, store, out);
}

static int timing(check_options *c, int argc, char **argv, mc_store *store, mc_exec_outcome *out)
{
    mc_run_options o = c->run;
    o.session.tier = NULL;
    o.session.case_files = o.case_files;
    o.case_files[0] = c->perf_path;
    o.session.n_case_files = 1;
    o.session.coverage_check = false;
    o.perf = 1;
    if (o.budget_s <= 0)
        o.budget_s = 1;
    mc_exec_outcome perf = *out;
    int rc = mc_cli_execute("check", &o, argc, argv, store, &perf);
    out->timings_unreliable = perf.timings_unreliable; /* what the comparison must know of the machine */
    return rc == MC_EXIT_NOTHING ? MC_EXIT_OK : rc; /* no timed case here is not a failure */
}

/* The run to compare with: --base, else the one default base (mc_compare_default_base: the
 * parent commit's run on this machine that timed most of the candidate's pairs); 0 when none. */
static int find_base(const check_options *c, mc_store *store, const mc_exec_outcome *cand, int64_t *base)
{
    mc_err err = {0};
    *base = 0;
    if (c->base)
        return mc_store_resolve_run(store, c->base, cand->fingerprint, base, &err) == MC_OK
                   ? MC_EXIT_OK
                   : mc_cli_report_error("check", &err);
    if (mc_compare_default_base(store, cand->run_id, false, base, &err) != MC_OK)
        return mc_cli_report_error("check", &err);
    if (!*base)
        printf("check: no timed run of the parent commit %.12s on this machine: nothing to compare with yet\n",
               cand->parent[0] ? cand->parent : "(none)");
    return MC_EXIT_OK;
}

/* How many of the candidate's timed pairs the base timed: said before the comparison, and again in
 * the verdict, so that a narrowed or missing base can never read as a clean pass. */
typedef struct base_cover {
    int timed, covered;
} base_cover;

static int cover_of(mc_store *store, int64_t base, int64_t cand, base_cover *bc)
{
    mc_err err = {0};
    if (mc_store_base_cover(store, base, cand, &bc->covered, &bc->timed, &err) != MC_OK)
        return mc_cli_report_error("check", &err);
    if (base)
        printf("check: base run %lld: %d of %d timed (case, variant) pairs have a baseline, %d no baseline\n",
               (long long)base, bc->covered, bc->timed, bc->timed - bc->covered);
    else if (bc->timed)
        printf("check: no baseline for any of the %d timed (case, variant) pairs\n", bc->timed);
    return MC_EXIT_OK;
}

static int compare(const check_options *c, mc_store *store, int64_t base, int64_t cand, bool quiet)
{
    mc_compare_runs_opts opts = {.cfg = mc_compare_defaults()};
    if (c->threshold)
        mc_cli_parse_threshold(c->threshold, &opts.cfg.threshold); /* checked in take_check_options */
    return mc_cli_compare_runs(store, base, cand, &opts, quiet ? MC_COMPARE_SHOW_NONE : MC_COMPARE_SHOW_CHANGES);
}

/* ---- re-measuring ambiguous verdicts ---- */

typedef struct ambiguous_pair {
    char key[MC_KEY_LEN];
    char backend[16], variant[64], cand_hash[MC_HASH_LEN];
    bool same_code;
} ambiguous_pair;

typedef struct ambiguous_list {
    ambiguous_pair pairs[REMEASURE_MAX];
    int n;       /* kept for re-measuring */
    int n_total; /* ambiguous verdicts seen (and slower ones on changed code, when slower_too) */
    bool slower_too; /* the timings are unreliable (a loaded or throttled machine): a "slower" verdict
                      * on changed code is measured again before it is believed */
} ambiguous_list;

/* Keeps changed-code pairs before same-code ones: only changed code can turn into a regression. */
static int collect_ambiguous(const mc_stored_verdict *v, void *user)
{
    ambiguous_list *l = user;
    bool doubtful = strcmp(v->verdict, "ambiguous") == 0 ||
                    (l->slower_too && !v->same_code && strcmp(v->verdict, "slower") == 0);
    if (!doubtful)
        return 0;
    l->n_total++;
    int at = l->n;
    if (l->n == REMEASURE_MAX) {
        if (v->same_code)
            return 0;
        for (at = 0; at < l->n && !l->pairs[at].same_code; at++)
            ;
        if (at == l->n)
            return 0;
    } else {
        l->n++;
    }
    ambiguous_pair *p = &l->pairs[at];
    snprintf(p->key, sizeof p->key, "%s", v->case_key);
    snprintf(p->backend, sizeof p->backend, "%s", v->backend);
    snprintf(p->variant, sizeof p->variant, "%s", v->variant);
    snprintf(p->cand_hash, sizeof p->cand_hash, "%s", v->cand_hash);
    p->same_code = v->same_code;
    return 0;
}

static mc_perf_hook remeasure_hook; /* lives on in each worker after fork */

/* The session that times one (case, variant) again, set up as `timing` sets up the perf subset
 * (cli_exec.c's perf configuration): one worker, every core unless --jobs/--threads say otherwise. */
static mc_session_cfg remeasure_cfg(const check_options *c, const ambiguous_pair *p)
{
    mc_session_cfg cfg = c->run.session;
    double budget_s = c->run.budget_s > 0 ? c->run.budget_s : 1;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg.tier = NULL;
    cfg.case_files = NULL;
    cfg.n_case_files = 0;
    cfg.single_key = p->key;
    cfg.sel.backends = p->backend;
    cfg.sel.variant_glob = p->variant;
    cfg.sel.op_glob = NULL;
    cfg.sel.filter = NULL;
    cfg.sel.shard_index = 0;
    cfg.sel.shard_count = 0;
    cfg.coverage_check = false;
    cfg.quiet = true;
    cfg.sink = NULL;
    cfg.sink_user = NULL;
    mc_perf_hook_init(&remeasure_hook, budget_s);
    cfg.pool.after = mc_perf_after;
    cfg.pool.after_user = &remeasure_hook;
    cfg.pool.take_extra = mc_perf_take;
    if (!c->run.jobs_set)
        cfg.pool.jobs = 1;
    if (!c->run.threads_set)
        cfg.pool.runner.threads = cores > 0 ? (int)cores : 1;
    cfg.pool.timeout_s += 4 * remeasure_hook.cfg.budget_s;
    return cfg;
}

/* Times the pair again and appends the samples to the candidate's timing. A pair that does not
 * pass this time keeps the samples it has (and says so): only passing calls are timed. */
static mc_status remeasure_pair(const check_options *c, mc_store *store, int64_t cand, const ambiguous_pair *p,
                                mc_err *err)
{
    mc_session_cfg cfg = remeasure_cfg(c, p);
    mc_session s;
    mc_status st = mc_session_prepare(&cfg, &s, err);
    if (!st)
        st = mc_session_execute(&cfg, &s, err);
    bool timed = false;
    for (int i = 0; !st && i < s.n_items; i++) {
        mc_timing t;
        const mc_variant *v = s.variants[s.items[i].variant_index];
        if (strcmp(v->name, p->variant) != 0 || !mc_perf_timing_of(&s, i, &t))
            continue;
        st = mc_store_append_samples(store, cand, p->key, p->backend, p->variant, p->cand_hash, &t, err);
        if (!st)
            printf("check: re-measured %s [%s %s]: +%d samples\n", p->key, p->backend, p->variant, t.n);
        mc_timing_free(&t);
        timed = !st;
    }
    if (!st && !timed)
        printf("check: %s [%s %s] gave no timing when re-measured (%s); its samples stay as they were\n", p->key,
               p->backend, p->variant, s.n_items ? mc_result_kind_name(s.results[0].kind) : "not run");
    mc_session_free(&s);
    return st;
}

/* Steps 3 and 4: compare, re-measure what is ambiguous, compare again; the last comparison is the
 * one printed and the one whose verdicts stay stored. */
static int compare_until_clear(const check_options *c, mc_store *store, int64_t base, int64_t cand, bool unreliable)
{
    if (unreliable && c->remeasure_rounds > 0)
        printf("check: timings were taken on a loaded or throttled machine: slower verdicts on changed code are "
               "re-measured too before they count\n");
    for (int round = 1; round <= c->remeasure_rounds; round++) {
        int rc = compare(c, store, base, cand, true);
        if (rc != MC_EXIT_OK && rc != MC_EXIT_REGRESSION)
            break; /* nothing in common, or an error: the loud comparison below says which */
        ambiguous_list list = {.n = 0, .slower_too = unreliable};
        mc_err err = {0};
        if (mc_store_each_verdict(store, base, cand, collect_ambiguous, &list, &err) != MC_OK)
            return mc_cli_report_error("check", &err);
        if (list.n == 0)
            break;
        printf("check: %d %s verdict%s: re-measuring %d (case, variant) pair%s, round %d of %d\n", list.n_total,
               unreliable ? "ambiguous or slower" : "ambiguous", list.n_total == 1 ? "" : "s", list.n,
               list.n == 1 ? "" : "s", round, c->remeasure_rounds);
        fflush(stdout);
        for (int i = 0; i < list.n; i++)
            if (remeasure_pair(c, store, cand, &list.pairs[i], &err) != MC_OK)
                return mc_cli_report_error("check", &err);
    }
    return compare(c, store, base, cand, false);
}

/* Step 5 on the open store: the page `report --cand RUN --base RUN` writes (base 0: none). */
static int report(const check_options *c, mc_store *store, int64_t base, int64_t cand)
{
    mc_err err = {0};
    mc_report_stats st;
    const char *out = c->report ? c->report : "metallic-check-report.html";
    int n_variants = 0;
    const mc_report_variant *variants = mc_cli_report_variants(&n_variants);
    if (mc_report_write(store, base, cand, out, variants, n_variants, &st, &err) != MC_OK)
        return mc_cli_report_error("report", &err);
    mc_cli_report_summary(out, base, cand, &st);
    return MC_EXIT_OK;
}

/* 1 beats 3 beats 4 beats 0; 2 (a broken setup) beats everything. */
static int combine(int correctness_rc, int regression_rc)
{
    if (correctness_rc == MC_EXIT_USAGE || regression_rc == MC_EXIT_USAGE)
        return MC_EXIT_USAGE;
    if (correctness_rc == MC_EXIT_FAIL)
        return MC_EXIT_FAIL;
    if (regression_rc == MC_EXIT_REGRESSION)
        return MC_EXIT_REGRESSION;
    return correctness_rc;
}


static void print_verdict(int final, const base_cover *bc)
{
    static const char *const words[] = {
        [MC_EXIT_OK] = "all passed, no regression", [MC_EXIT_FAIL] = "correctness failure",
        [MC_EXIT_USAGE] = "setup error",           [MC_EXIT_REGRESSION] = "performance regression",
        [MC_EXIT_NOTHING] = "nothing ran",
    };
    _Static_assert(sizeof words / sizeof words[0] == MC_EXIT_NOTHING + 1, "one phrase per exit status");
    int uncovered = bc->timed - bc->covered;
    if (final == MC_EXIT_OK && uncovered && bc->covered)
        printf("check: verdict: all passed, no regression in the %d pairs with a baseline; %d of %d timed pairs "
               "had no baseline (exit 0)\n",
               bc->covered, uncovered, bc->timed);
    else if (final == MC_EXIT_OK && uncovered)
        printf("check: verdict: all passed; no baseline for any of the %d timed pairs, no timing verdict (exit 0)\n",
               bc->timed);
    else if (uncovered && final != MC_EXIT_USAGE)
        printf("check: verdict: %s; %d of %d timed pairs had no baseline (exit %d)\n", words[final], uncovered,
               bc->timed, final);
    else
        printf("check: verdict: %s (exit %d)\n", words[final], final);
}

static int check_with_store(check_options *c, int argc, char **argv, mc_store *store, const char *db)
{
    mc_exec_outcome out = {0};
    int rc = correctness(c, argc, argv, store, &out);
    if (out.run_id == 0)
        return rc;
    int reg_rc = MC_EXIT_OK;
    int64_t base = 0;
    base_cover bc = {0};
    if (rc != MC_EXIT_USAGE) {
        int perf_rc = timing(c, argc, argv, store, &out);
        if (perf_rc == MC_EXIT_FAIL || perf_rc == MC_EXIT_USAGE)
            rc = rc == MC_EXIT_NOTHING || rc == MC_EXIT_OK ? perf_rc : rc;
        reg_rc = find_base(c, store, &out, &base);
        if (reg_rc == MC_EXIT_OK)
            reg_rc = cover_of(store, base, out.run_id, &bc);
        if (reg_rc == MC_EXIT_OK && base) {
            mc_cli_interrupts_catch(out.run_id); /* re-measuring appends to the run: Ctrl-C says what it keeps */
            reg_rc = compare_until_clear(c, store, base, out.run_id, out.timings_unreliable);
            mc_cli_interrupts_release();
        }
    }
    /* the run ends after re-measuring: until then its timings may still grow */
    mc_err err = {0};
    if (mc_cli_outputs_add_verdicts(c->run.outputs, store, base, out.run_id, &err) != MC_OK)
        reg_rc = mc_cli_report_error("check", &err);
    int final = combine(rc, reg_rc == MC_EXIT_NOTHING ? MC_EXIT_OK : reg_rc);
    if (mc_store_end_run(store, out.run_id, mc_cli_run_status(final), &err) != MC_OK)
        return mc_cli_report_error("check", &err);
    if (final == MC_EXIT_USAGE) /* never "stored" for what ended in a setup error */
        fprintf(stderr, "metallic-check check: run %lld in %s is marked aborted\n", (long long)out.run_id, db);
    else
        printf("check: stored as run %lld in %s (commit %.12s)\n", (long long)out.run_id, db, out.commit);
    if (!c->no_report && report(c, store, base, out.run_id) == MC_EXIT_USAGE && final != MC_EXIT_USAGE) {
        final = MC_EXIT_USAGE;
        if (mc_store_end_run(store, out.run_id, mc_cli_run_status(final), &err) != MC_OK)
            return mc_cli_report_error("check", &err);
    }
    print_verdict(final, &bc);
    return final;
}

int mc_cli_check(int argc, char **argv)
{
    check_options c;
    memset(&c, 0, sizeof c);
    int rc = take_check_options(&argc, argv, &c);
    if (rc >= 0) {
        mc_cli_outputs_early_error("check", argc, argv, rc, "invalid command line (the reason is on stderr)");
        return rc;
    }
    int pos;
    rc = mc_cli_parse_run_options("check", check_usage, argc, argv, &c.run, &pos);
    if (rc >= 0) {
        mc_cli_outputs_early_error("check", argc, argv, rc, "invalid command line (the reason is on stderr)");
        return rc;
    }
    if (pos < argc) {
        check_usage_error("unexpected argument '%s'", argv[pos]);
        mc_cli_outputs_early_error("check", argc, argv, MC_EXIT_USAGE, "unexpected argument");
        return MC_EXIT_USAGE;
    }
    mc_cli_outputs outputs;
    mc_store *store = NULL;
    mc_err err = {0};
    const char *db = c.run.db_path ? c.run.db_path : mc_store_default_path();
    if (mc_cli_outputs_begin(&outputs, "check", c.run.json, c.run.junit_path, c.run.seed, &err) != MC_OK ||
        mc_store_open(db, &store, &err) != MC_OK) {
        rc = mc_cli_report_error("check", &err);
    } else {
        c.run.outputs = &outputs;
        rc = validate(&c, store);
        if (rc < 0)
            rc = check_with_store(&c, argc, argv, store, db);
    }
    mc_store_close(store);
    return mc_cli_outputs_finish(&outputs, rc);
}
