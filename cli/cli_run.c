/* cli/cli_run.c: `metallic-check run` and `metallic-check repro`, and the options they share.
 * SPDX-License-Identifier: MIT */
#include "cli.h"
#include "cli_outputs.h"
#include "core/op.h"
#include "core/sanitize.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* The run usage; %s is the op names, from the op records (run_usage_text). */
static const char run_usage_fmt[] =
    "usage: metallic-check run [options]\n"
    "Runs every selected kernel variant against the fp64 reference, in worker processes.\n"
    "\n"
    "  --tier NAME        quick (default), precommit, nightly or perf: cases/<tier>.lua\n"
    "  --cases FILE       a case file instead of a tier (repeatable)\n"
    "  --cases-dir DIR    where tiers and cases/lib live (default: $MC_CASES_DIR, then next to the binary)\n"
    "  --backend LIST     comma list of backends (cpu, opencl, cuda); an unavailable one is an error\n"
    "  --op GLOB          only ops matching GLOB (%s)\n"
    "  --variant GLOB     only variants matching GLOB (repeatable, or a comma list); a glob that\n"
    "                     matches nothing is an error\n"
    "  --filter EXPR      a glob over case keys ('gemm(dtype=f16*') or terms 'dtype=f16,m=1'\n"
    "  --shard I/N        only cases whose key hash is I modulo N\n"
    "  --max-cases N      refuse a load of more than N cases (default 200000; docs/cases.md)\n"
    "  --seed N           global seed mixed into every case's inputs, 0..2^64-1 (default 0)\n"
    "  --jobs N           worker processes (default: the number of cores)\n"
    "  --threads N        threads a CPU kernel may use (default 2)\n"
    "  --timeout SEC      per case; a case past it is killed and recorded as a timeout (default 120)\n"
    "  --guard BYTES      guard zone before and after every buffer (default 4096, at least 64)\n"
    "  --mem-limit MIB    address space a worker may add to what it holds at start (RLIMIT_AS;\n"
    "                     default: physical memory / (2 x jobs), at least 1024; 0: none)\n"
    "  --cpu-limit SEC    CPU seconds per case (RLIMIT_CPU, a crash past it; default: timeout x\n"
    "                     cores online; 0: none)\n"
    "  --db PATH          results database (default $MC_DB, else ./metallic-check.db)\n"
    "  --no-store         do not write the database\n"
    "  --commit SHA       record this commit instead of asking git\n"
    "  --perf             also time each passing case (the perf tier implies it); runs one worker\n"
    "                     and gives kernels every core unless --jobs/--threads say otherwise\n"
    "  --budget SEC       perf: timing budget per case and variant, fractions allowed (default 2)\n"
    "  --json             print one JSON document on stdout: per result its verdict, a reproducer\n"
    "                     when it failed, its timing when timed; an error as {\"error\": ...}\n"
    "                     (human output goes to stderr)\n"
    "  --junit FILE       also write a JUnit XML file (one <testsuite> per stage; '-' for stdout)\n"
    "  --quiet            no progress, no per-variant table: the failures (with reproducers), the\n"
    "                     counts, the perf rows of a perf run and where the run was stored\n"
    "  --verbose          also list skipped cases with their reasons\n"
    "  --include-hidden   also run test-only and mutant variants (harness tests)\n"
    "  --plugin PATH      also check the variants and backends of this plugin library (repeatable;\n"
    "                     $MC_PLUGINS adds a colon list; docs/plugins.md)\n"
    "  --coverage         hold --cases files to a tier's coverage rule (a tier always is): a variant\n"
    "                     offered cases that runs none, or a dispatcher kernel never forced or chosen,\n"
    "                     fails the run\n"
    "  -h, --help         this text\n"
    "\n"
    "Exit status: 0 all passed; 1 a failure, crash or timeout; 2 usage or configuration error;\n"
    "4 nothing ran.\n";

/* run_usage_fmt with every op's name, in op order. */
static const char *run_usage_text(void)
{
    static char text[sizeof run_usage_fmt + 256];
    char ops[256] = "";
    size_t len = 0;
    for (int o = 0; o < MC_OP_COUNT && len < sizeof ops; o++)
        len += (size_t)snprintf(ops + len, sizeof ops - len, "%s%s", o ? ", " : "", mc_op_get((mc_op_id)o)->name);
    snprintf(text, sizeof text, run_usage_fmt, ops);
    return text;
}

static const char repro_usage[] =
    "usage: metallic-check repro CASE-KEY [--variant V] [--plugin PATH] [--seed N] [--verbose] [other run options]\n"
    "Runs one case (by its canonical key, as printed under each failure) with the same inputs, in a\n"
    "worker process, and prints the verdict. Without --variant every variant of its op runs (test-only\n"
    "and mutant variants only with --include-hidden).\n"
    "\n"
    "Exit status: 0 passed; 1 failed; 2 usage error (bad key, unknown variant); 4 nothing ran.\n";

enum {
    OPT_TIER = 1000, OPT_CASES, OPT_CASES_DIR, OPT_BACKEND, OPT_OP, OPT_VARIANT, OPT_FILTER, OPT_SHARD, OPT_SEED,
    OPT_JOBS, OPT_THREADS, OPT_TIMEOUT, OPT_GUARD, OPT_DB, OPT_NO_STORE, OPT_COMMIT, OPT_PERF, OPT_JSON, OPT_JUNIT,
    OPT_QUIET, OPT_VERBOSE, OPT_HIDDEN, OPT_BUDGET, OPT_COVERAGE, OPT_MEM_LIMIT, OPT_CPU_LIMIT, OPT_MAX_CASES,
    OPT_PLUGIN,
};

static const struct option run_options[] = {
    {"tier", required_argument, NULL, OPT_TIER},       {"cases", required_argument, NULL, OPT_CASES},
    {"cases-dir", required_argument, NULL, OPT_CASES_DIR}, {"backend", required_argument, NULL, OPT_BACKEND},
    {"op", required_argument, NULL, OPT_OP},           {"variant", required_argument, NULL, OPT_VARIANT},
    {"filter", required_argument, NULL, OPT_FILTER},   {"shard", required_argument, NULL, OPT_SHARD},
    {"seed", required_argument, NULL, OPT_SEED},       {"jobs", required_argument, NULL, OPT_JOBS},
    {"threads", required_argument, NULL, OPT_THREADS}, {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"guard", required_argument, NULL, OPT_GUARD},     {"db", required_argument, NULL, OPT_DB},
    {"no-store", no_argument, NULL, OPT_NO_STORE},     {"commit", required_argument, NULL, OPT_COMMIT},
    {"perf", no_argument, NULL, OPT_PERF},             {"json", no_argument, NULL, OPT_JSON},
    {"junit", required_argument, NULL, OPT_JUNIT},     {"quiet", no_argument, NULL, OPT_QUIET},
    {"verbose", no_argument, NULL, OPT_VERBOSE},       {"include-hidden", no_argument, NULL, OPT_HIDDEN},
    {"budget", required_argument, NULL, OPT_BUDGET},   {"coverage", no_argument, NULL, OPT_COVERAGE},
    {"mem-limit", required_argument, NULL, OPT_MEM_LIMIT}, {"cpu-limit", required_argument, NULL, OPT_CPU_LIMIT},
    {"max-cases", required_argument, NULL, OPT_MAX_CASES}, {"plugin", required_argument, NULL, OPT_PLUGIN},
    {"help", no_argument, NULL, 'h'},                  {NULL, 0, NULL, 0},
};

static int bad_number(const char *cmd, const char *opt, const char *text)
{
    return mc_cli_usage_error(cmd, NULL, MC_USAGE_HINT, "%s wants a number, got '%s'", opt, text);
}

/* --variant may repeat: every glob given is kept, as one comma list. */
static int add_variant_glob(const char *cmd, const char *glob, mc_run_options *o)
{
    size_t len = strlen(o->variant_list);
    if (len + strlen(glob) + 2 > sizeof o->variant_list) {
        return mc_cli_usage_error(cmd, NULL, MC_USAGE_HINT, "--variant: too many names (at most %zu characters in all)",
                                  sizeof o->variant_list - 1);
    }
    snprintf(o->variant_list + len, sizeof o->variant_list - len, "%s%s", len ? "," : "", glob);
    o->session.sel.variant_glob = o->variant_list;
    return -1;
}

static void set_defaults(mc_run_options *o)
{
    memset(o, 0, sizeof *o);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    o->session.pool.jobs = cores > 0 ? (int)cores : 1;
    o->session.pool.timeout_s = 120;
    o->session.pool.runner.guard_bytes = 4096;
    o->session.pool.runner.threads = 2;
    o->session.pool.runner.repeat_check = true;
    o->session.pool.mem_limit_mib = -1; /* the pool's defaults */
    o->session.pool.cpu_limit_s = -1;
    o->session.case_files = o->case_files;
}

static int apply_numeric(const char *cmd, int c, const char *arg, mc_run_options *o)
{
    long v;
    switch (c) {
    case OPT_SEED:
        if (mc_cli_parse_seed(arg, &o->seed) != 0)
            return mc_cli_usage_error(cmd, NULL, MC_USAGE_HINT,
                                      "--seed wants a whole number from 0 to 18446744073709551615, got '%s'", arg);
        o->session.pool.runner.seed = o->seed;
        return -1;
    case OPT_JOBS:
        if (mc_cli_parse_long(arg, 1, 64, &v))
            return bad_number(cmd, "--jobs (1..64)", arg);
        o->session.pool.jobs = (int)v;
        o->jobs_set = 1;
        return -1;
    case OPT_THREADS:
        if (mc_cli_parse_long(arg, 1, 256, &v))
            return bad_number(cmd, "--threads (1..256)", arg);
        o->session.pool.runner.threads = (int)v;
        o->threads_set = 1;
        return -1;
    case OPT_TIMEOUT:
        if (mc_cli_parse_long(arg, 1, 86400, &v))
            return bad_number(cmd, "--timeout (seconds)", arg);
        o->session.pool.timeout_s = (double)v;
        return -1;
    case OPT_BUDGET:
        if (mc_cli_parse_seconds(arg, 3600, &o->budget_s) != 0)
            return bad_number(cmd, "--budget (seconds, above 0, at most 3600)", arg);
        return -1;
    case OPT_MAX_CASES:
        if (mc_cli_parse_long(arg, 1, 100000000, &v))
            return bad_number(cmd, "--max-cases (1..100000000)", arg);
        o->session.max_cases = (int)v;
        return -1;
    case OPT_GUARD:
        if (mc_cli_parse_long(arg, 64, 1 << 24, &v))
            return bad_number(cmd, "--guard (64.. bytes)", arg);
        o->session.pool.runner.guard_bytes = (size_t)v;
        return -1;
    case OPT_MEM_LIMIT:
        if (mc_cli_parse_long(arg, 0, 1L << 30, &v))
            return bad_number(cmd, "--mem-limit (MiB, 0 for none)", arg);
        o->session.pool.mem_limit_mib = v;
        return -1;
    case OPT_CPU_LIMIT:
        if (mc_cli_parse_long(arg, 0, 86400 * 365, &v))
            return bad_number(cmd, "--cpu-limit (seconds, 0 for none)", arg);
        o->session.pool.cpu_limit_s = (double)v;
        return -1;
    default:
        return -1;
    }
}

static int apply_option(const char *cmd, int c, const char *arg, mc_run_options *o)
{
    mc_session_cfg *s = &o->session;
    mc_err err = {0};
    switch (c) {
    case OPT_TIER: s->tier = arg; break;
    case OPT_CASES:
        if (s->n_case_files == 64)
            return mc_cli_usage_error(cmd, NULL, MC_USAGE_HINT, "%s", "at most 64 --cases files");
        o->case_files[s->n_case_files++] = arg;
        break;
    case OPT_CASES_DIR: s->cases_dir = arg; break;
    case OPT_BACKEND: s->sel.backends = arg; break;
    case OPT_OP: s->sel.op_glob = arg; break;
    case OPT_VARIANT: return add_variant_glob(cmd, arg, o);
    case OPT_PLUGIN: return mc_cli_add_plugin(cmd, arg, o);
    case OPT_FILTER: s->sel.filter = arg; break;
    case OPT_SHARD:
        if (mc_select_parse_shard(arg, &s->sel.shard_index, &s->sel.shard_count, &err))
            return mc_cli_report_error(cmd, &err);
        break;
    case OPT_DB: o->db_path = arg; break;
    case OPT_NO_STORE: o->no_store = 1; break;
    case OPT_COMMIT: o->commit = arg; break;
    case OPT_PERF: o->perf = 1; break;
    case OPT_JSON: o->json = 1; break;
    case OPT_JUNIT: o->junit_path = arg; break;
    case OPT_QUIET: s->quiet = true; break;
    case OPT_VERBOSE: o->verbose = 1; break;
    case OPT_HIDDEN: s->sel.include_hidden = true; break;
    case OPT_COVERAGE: s->coverage_requested = true; break;
    default: return apply_numeric(cmd, c, arg, o);
    }
    return -1;
}

int mc_cli_parse_run_options(const char *cmd, const char *usage, int argc, char **argv, mc_run_options *o,
                             int *first_positional)
{
    set_defaults(o);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", run_options, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            return MC_EXIT_OK;
        }
        if (c == '?') {
            return mc_cli_usage_error(cmd, usage, MC_USAGE_FULL, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
        int rc = apply_option(cmd, c, optarg, o);
        if (rc >= 0)
            return rc;
    }
    if (o->session.tier && o->session.n_case_files) {
        return mc_cli_usage_error(cmd, NULL, MC_USAGE_HINT, "%s", "give --tier or --cases, not both");
    }
    if (o->session.tier && strcmp(o->session.tier, "perf") == 0)
        o->perf = 1;
    *first_positional = optind;
    return -1;
}

int mc_cli_run(int argc, char **argv)
{
    mc_run_options o;
    int pos;
    int rc = mc_cli_parse_run_options("run", run_usage_text(), argc, argv, &o, &pos);
    if (rc >= 0) {
        mc_cli_outputs_early_error("run", argc, argv, rc, "invalid command line (the reason is on stderr)");
        return rc;
    }
    if (pos < argc) {
        mc_cli_usage_error("run", run_usage_text(), MC_USAGE_FULL, "unexpected argument '%s'", argv[pos]);
        mc_cli_outputs_early_error("run", argc, argv, MC_EXIT_USAGE, "unexpected argument");
        return MC_EXIT_USAGE;
    }
    o.session.coverage_check = mc_session_wants_coverage(&o.session);
    o.perf_table_when_quiet = 1;
    return mc_cli_run_and_store("run", &o, argc, argv);
}

int mc_cli_repro(int argc, char **argv)
{
    mc_run_options o;
    int pos;
    int rc = mc_cli_parse_run_options("repro", repro_usage, argc, argv, &o, &pos);
    if (rc >= 0) {
        mc_cli_outputs_early_error("repro", argc, argv, rc, "invalid command line (the reason is on stderr)");
        return rc;
    }
    if (pos != argc - 1) {
        return mc_cli_usage_error("repro", repro_usage, MC_USAGE_FULL, "%s", "give exactly one case key");
    }
    o.session.single_key = argv[pos];
    o.session.pool.jobs = 1;
    o.verbose = 1;
    o.no_store = 1;
    return mc_cli_run_and_store("repro", &o, argc, argv);
}
