/* cli/cli_compare.h: `metallic-check compare` (regression verdicts between two stored runs)
 * and `metallic-check merge` (joining shard databases).
 * SPDX-License-Identifier: MIT */
#ifndef MC_CLI_COMPARE_H
#define MC_CLI_COMPARE_H

#include <stdbool.h>

/* argv[0] is the command's own name. Exit: 0 no regression, 3 a regression, 4 nothing in common
 * to compare, 2 usage, configuration or database errors (different machines without --force). */
int mc_cli_compare(int argc, char **argv);

/* --threshold PCT as compare and check take it: a percentage in (0, 100), "3" or "3%"; false when
 * it is not one (the caller says so in its own words). *fraction is 0.03 for "3". */
bool mc_cli_parse_threshold(const char *text, double *fraction);

/* Exit: 0 merged, 2 usage or database errors. */
int mc_cli_merge(int argc, char **argv);

#endif
