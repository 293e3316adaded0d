/* cli/cli_report.h: `metallic-check report`, and the library call `check` uses to write the
 * same page (mc_report_write, from reports/report.h).
 * SPDX-License-Identifier: MIT */
#ifndef MC_CLI_REPORT_H
#define MC_CLI_REPORT_H

#include <stdint.h>

#include "db/store.h"
#include "reports/report.h"

/* The default base of a candidate run: the newest finished run of its parent commit on the same
 * machine, else the newest earlier finished run on that machine that is not one of the candidate's
 * own shards; a timed one when the candidate is timed. *base_run is 0 when there is none (not an
 * error). The report reads either as its whole logical run (its merged shards). */
mc_status mc_report_default_base(mc_store *s, int64_t cand_run, int64_t *base_run, mc_err *err);

int mc_cli_report(int argc, char **argv);

#endif
