/* cli/cli_compare.h: `metallic-check compare` (regression verdicts between two stored runs)
 * and `metallic-check merge` (joining shard databases).
 * SPDX-License-Identifier: MIT */
#ifndef MC_CLI_COMPARE_H
#define MC_CLI_COMPARE_H

#include <stdbool.h>
#include <stdint.h>

#include "db/compare_runs.h"

/* argv[0] is the command's own name. Exit: 0 no regression, 3 a regression, 4 nothing in common
 * to compare, 2 usage, configuration or database errors (different machines without --force). */
int mc_cli_compare(int argc, char **argv);

/* What mc_cli_compare_runs prints on stdout: nothing (--quiet), the verdicts that are not 'same',
 * every verdict (--all), or one JSON document (--json). */
typedef enum mc_cli_compare_show {
    MC_COMPARE_SHOW_NONE,
    MC_COMPARE_SHOW_CHANGES,
    MC_COMPARE_SHOW_ALL,
    MC_COMPARE_SHOW_JSON,
} mc_cli_compare_show;

/* compare's work on an open store, for compare and check alike: mc_compare_runs, then the output
 * and the exit status of `compare` (errors under compare's name). */
int mc_cli_compare_runs(mc_store *s, int64_t base, int64_t cand, const mc_compare_runs_opts *opts,
                        mc_cli_compare_show show);

/* Exit: 0 merged, 2 usage or database errors. */
int mc_cli_merge(int argc, char **argv);

#endif
