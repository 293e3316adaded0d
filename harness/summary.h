/* harness/summary.h: what a run tells a person (failures with reproducers, a table) and a machine
 * (--json).
 * SPDX-License-Identifier: MIT */
#ifndef MC_SUMMARY_H
#define MC_SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "session.h"

/* The reproducer line of one failure. */
void mc_summary_repro(FILE *out, const mc_session *s, const mc_result *r, uint64_t seed);
/* One line per failure, the unavailable variants, a per-variant table and the closing counts. */
void mc_summary_print(FILE *out, const mc_session *s, uint64_t seed, int verbose);
/* The whole run as one JSON document. */
void mc_summary_json(FILE *out, const mc_session *s, uint64_t seed);

#endif
