/* cli/cli_report.h: `metallic-check report`, and the library call `check` uses to write the
 * same page (mc_report_write, from reports/report.h) and the summary line both print.
 * SPDX-License-Identifier: MIT */
#ifndef MC_CLI_REPORT_H
#define MC_CLI_REPORT_H

#include <stdint.h>

#include "db/store.h"
#include "reports/report.h"

/* The line `report` prints about a page it wrote (check prints it too). */
void mc_cli_report_summary(const char *out_path, int64_t base_run, int64_t cand_run, const mc_report_stats *st);

/* The binary's variants as the report takes them (from the registry, hidden ones flagged), built
 * once for the process. */
const mc_report_variant *mc_cli_report_variants(int *count);

int mc_cli_report(int argc, char **argv);

#endif
