/* cli/summary.h: what a run tells a person (failures with reproducers, a table) and a machine
 * (--json).
 * SPDX-License-Identifier: MIT */
#ifndef MC_SUMMARY_H
#define MC_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/perf_table.h"
#include "engine/session.h"

/* The reproducer command of one failure into dst (snprintf's convention); 0 for a result with no
 * case (coverage). */
#define MC_SUMMARY_REPRO_LEN (MC_KEY_LEN + 2400) /* a reproducer with its key and two plugin paths */
size_t mc_summary_repro_command(char *dst, size_t cap, const mc_session *s, const mc_result *r, uint64_t seed);
/* The reproducer line of one failure. */
void mc_summary_repro(FILE *out, const mc_session *s, const mc_result *r, uint64_t seed);
/* One line per failure (with its reproducer), the unavailable variants, a per-variant table and
 * the closing counts; quiet: the failures, the unavailable backends and the counts line only. */
void mc_summary_print(FILE *out, const mc_session *s, uint64_t seed, int verbose, bool quiet);
/* One stage of a command (correctness, perf) as a JSON object: counts, unavailable variants, per
 * result its verdict, a reproducer when it failed and its timing when it was timed, and for a
 * timed stage (env not NULL) whether load or clock made the timings unreliable. */
void mc_summary_json_stage(FILE *out, const mc_session *s, const char *stage, const mc_perf_env *env, uint64_t seed);

#endif
