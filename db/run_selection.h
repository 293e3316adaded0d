/* db/run_selection.h: the selection of a run recorded before the store kept it as fields (schema
 * version 3), read back from its stored command line: the one place that parses it.
 * SPDX-License-Identifier: MIT */
#ifndef MC_RUN_SELECTION_H
#define MC_RUN_SELECTION_H

#include "core/runinfo.h"

/* command_line as mc_runinfo_collect joins it ('...' around words with blanks); NULL reads as "". */
void mc_run_selection_parse(const char *command_line, mc_run_selection *out);

#endif
