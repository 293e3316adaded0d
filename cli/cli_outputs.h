/* cli/cli_outputs.h: the machine outputs of one command (--json, --junit): collected over its
 * stages and written once at its end, so a command prints one JSON document and one JUnit file.
 * SPDX-License-Identifier: MIT */
#ifndef MC_CLI_OUTPUTS_H
#define MC_CLI_OUTPUTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/outfile.h"
#include "engine/perf_table.h"
#include "engine/session.h"

struct mc_store;

typedef struct mc_cli_outputs {
    const char *cmd;
    bool json;          /* one JSON document on stdout at the end */
    int json_fd;        /* the real stdout while fd 1 points at stderr (human text), else -1 */
    FILE *stages;       /* the stage objects so far (a memory stream) */
    char *stages_buf;
    size_t stages_len;
    int n_stages;
    FILE *verdicts;     /* the comparison's verdicts (a memory stream) */
    char *verdicts_buf;
    size_t verdicts_len;
    int n_verdicts;
    bool junit;         /* the JUnit file is open */
    mc_outfile junit_out;
    uint64_t seed;
    char commit[41];
    int64_t run_id, base_run_id;
    bool have_error;
    mc_err error;       /* the first error reported, for the JSON error object */
} mc_cli_outputs;

/* Starts the outputs of a command. With json, stdout is pointed at stderr until the end, so
 * whatever else the command (or a kernel) prints cannot break the one JSON document. The JUnit
 * file (junit_path, may be NULL) is opened now, so a bad path fails before any work. */
mc_status mc_cli_outputs_begin(mc_cli_outputs *x, const char *cmd, bool json, const char *junit_path,
                               uint64_t seed, mc_err *err);
/* Adds one stage's results and, for a timed stage, its environment (env, may be NULL); commit and
 * run_id may be ""/0 when nothing was stored. */
void mc_cli_outputs_add_session(mc_cli_outputs *x, const char *stage, const mc_session *s, const mc_perf_env *env,
                                const char *commit, int64_t run_id);
/* Adds the verdicts stored for (base, cand). */
mc_status mc_cli_outputs_add_verdicts(mc_cli_outputs *x, struct mc_store *store, int64_t base, int64_t cand,
                                      mc_err *err);
/* Records an error for the JSON error object (the first one wins). */
void mc_cli_outputs_note_error(const mc_err *err);
/* Writes the JSON document and closes the JUnit file; returns the command's exit status (2 when a
 * JUnit file could not be written). Safe to call when begin failed or was never called. */
int mc_cli_outputs_finish(mc_cli_outputs *x, int rc);

/* For errors before the outputs began (a bad option): the JSON error object alone on stdout,
 * when argv asks for --json. */
void mc_cli_outputs_early_error(const char *cmd, int argc, char **argv, int rc, const char *message);

#endif
