/* cli/cli.h: the commands of the metallic-check binary and their shared helpers.
 * SPDX-License-Identifier: MIT */
#ifndef MC_CLI_H
#define MC_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/plugin.h"
#include "engine/session.h"

/* Exit statuses (the CLI contract in docs/design.md). */
enum {
    MC_EXIT_OK = 0,
    MC_EXIT_FAIL = 1,       /* a correctness failure, crash or timeout */
    MC_EXIT_USAGE = 2,      /* usage or configuration error */
    MC_EXIT_REGRESSION = 3, /* a performance regression */
    MC_EXIT_NOTHING = 4,    /* nothing ran */
};

/* Options shared by run, check and repro. */
typedef struct mc_run_options {
    mc_session_cfg session;
    const char *case_files[64];
    const char *db_path;    /* NULL: the default store */
    const char *commit;     /* NULL: ask git */
    const char *junit_path;
    int json;
    int verbose;
    int perf;
    int no_store;
    int perf_table_when_quiet; /* run: the timings are the result, printed even with --quiet */
    int threads_set;        /* --threads given (perf runs default to every core) */
    int jobs_set;           /* --jobs given */
    double budget_s;        /* perf: per-case timing budget */
    uint64_t seed;
    char variant_list[1024]; /* every --variant, comma separated */
    const char *plugins[MC_PLUGIN_MAX]; /* every --plugin, loaded by mc_cli_execute (list: by itself) */
    int n_plugins;
    struct mc_cli_outputs *outputs; /* the command's --json/--junit collector, NULL for none */
} mc_run_options;

/* What a usage error shows after its message: the whole usage text, its first line, or a pointer
 * to --help. */
typedef enum mc_usage_show { MC_USAGE_FULL, MC_USAGE_FIRST_LINE, MC_USAGE_HINT } mc_usage_show;

/* The one usage error: "metallic-check CMD: <message>" and what `show` asks for, on stderr.
 * Returns MC_EXIT_USAGE. */
int mc_cli_usage_error(const char *cmd, const char *usage, mc_usage_show show, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Parses the shared options; positional arguments are left in *rest (repro's key). Returns an exit
 * status >= 0 when the command must stop (help printed: 0; error: 2), -1 to go on. */
int mc_cli_parse_run_options(const char *cmd, const char *usage, int argc, char **argv, mc_run_options *o,
                             int *first_positional);

/* Parses a whole decimal number in [min, max] (no trailing text, no overflow). Returns 0 or -1. */
int mc_cli_parse_long(const char *text, long min, long max, long *out);
/* --threshold PCT as compare, check and report take it: a percentage in (0, 100), "3" or "3%";
 * false when it is not one (the caller says so in its own words). *fraction is 0.03 for "3". */
bool mc_cli_parse_threshold(const char *text, double *fraction);
/* --plugin PATH: notes it (-1), or exit status 2 past the limit. */
int mc_cli_add_plugin(const char *cmd, const char *path, mc_run_options *o);
/* Loads the given plugins and those $MC_PLUGINS lists (engine/plugin.h): -1 on success, else the
 * error is reported and the exit status (2) returned. */
int mc_cli_load_plugins(const char *cmd, const char *const *given, int n_given);

/* Parses a seed: decimal digits only, 0..2^64-1 (no sign, no wrap-around). Returns 0 or -1. */
int mc_cli_parse_seed(const char *text, uint64_t *out);
/* Parses a duration in seconds: a finite number above 0 and at most max_s. Returns 0 or -1. */
int mc_cli_parse_seconds(const char *text, double max_s, double *out);

/* Prints "metallic-check: <message> (file:line)" for an error (control characters shown escaped),
 * records it for the command's JSON error object, and returns exit status 2. */
int mc_cli_report_error(const char *cmd, const mc_err *err);

struct mc_store;

/* Opens the database a command reads (never created, never given a schema; as_is: not migrated
 * either). Returns -1 to go on, else the exit status after saying why (mc_cli_report_error). */
int mc_cli_open_existing(const char *cmd, const char *path, bool as_is, struct mc_store **s);

/* What one executed session left for the caller. */
typedef struct mc_exec_outcome {
    int rc;                 /* the session's exit status */
    int64_t run_id;         /* the stored run, 0 when nothing was stored */
    char fingerprint[17];   /* the machine's */
    char commit[41], parent[41];
    bool timings_unreliable; /* a perf stage ran on a loaded or throttled machine (perf_table.h):
                              * its verdicts deserve re-measuring, not trust */
} mc_exec_outcome;

/* Prepares and runs the session o describes, prints its summary (and perf table), and, with a
 * store, writes its results as they arrive into run *run_id (begun here when *run_id is 0; the
 * caller ends it). Returns the exit status. */
/* Ctrl-C (and SIGTERM) while the run run_id (0: not stored) is being written or timed again: says
 * "interrupted: N results kept in run R (incomplete)" and dies of the signal; release restores what was there. */
void mc_cli_interrupts_catch(int64_t run_id);
void mc_cli_interrupts_release(void);

/* The run status stored for a command that exits with rc: the one policy of run, repro and check. */
const char *mc_cli_run_status(int rc);

int mc_cli_execute(const char *cmd, mc_run_options *o, int argc, char **argv, struct mc_store *store,
                   mc_exec_outcome *out);
/* run's whole job: mc_cli_execute with the store that o names (unless --no-store), then the run's
 * final status; one JSON document (--json) and one JUnit file (--junit) for the command. */
int mc_cli_run_and_store(const char *cmd, mc_run_options *o, int argc, char **argv);

int mc_cli_run(int argc, char **argv);
int mc_cli_check(int argc, char **argv);
int mc_cli_repro(int argc, char **argv);
int mc_cli_list(int argc, char **argv);

#endif
