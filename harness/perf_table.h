/* harness/perf_table.h: the perf tier's printout: medians, rates, and ratios against a peer
 * measured in the same run (OpenBLAS, the three-stage SDPA, the machine's bandwidth).
 * SPDX-License-Identifier: MIT */
#ifndef MC_PERF_TABLE_H
#define MC_PERF_TABLE_H

#include <stdio.h>

#include "peaks.h"
#include "session.h"
#include "timing.h"

/* The peer variant an op's timings are compared with, or NULL (bandwidth-bound ops). */
const char *mc_perf_peer_of(mc_op_id op);
/* Unpacks item i's timing; false when it has none. */
bool mc_perf_timing_of(const mc_session *s, int item, mc_timing *out);
/* Prints one line per timed item; peaks may be NULL. */
void mc_perf_table_print(FILE *out, const mc_session *s, const mc_peaks *peaks);

#endif
