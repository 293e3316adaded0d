/* harness/cli_compare.h: `metallic-check compare` (regression verdicts between two stored runs)
 * and `metallic-check merge` (joining shard databases).
 * SPDX-License-Identifier: MIT */
#ifndef MC_CLI_COMPARE_H
#define MC_CLI_COMPARE_H

/* argv[0] is the command's own name. Exit: 0 no regression, 3 a regression, 4 nothing in common
 * to compare, 2 usage, configuration or database errors (different machines without --force). */
int mc_cli_compare(int argc, char **argv);

/* Exit: 0 merged, 2 usage or database errors. */
int mc_cli_merge(int argc, char **argv);

#endif
