/* db/store_peaks.h: the machine's bandwidth roofs (stats/peaks.h), kept as machine peaks: loaded
 * when this machine has them for this thread count, else measured once and stored. The one place
 * `run --tier perf` and the report obtain them.
 * SPDX-License-Identifier: MIT */
#ifndef MC_STORE_PEAKS_H
#define MC_STORE_PEAKS_H

#include <stdbool.h>

#include "db/store.h"
#include "stats/peaks.h"

/* Fills *out from the store (store may be NULL) when every figure is there, measured with
 * `threads` threads; otherwise measures them (mc_peaks_measure) and stores them under m.
 * *measured says which happened. */
mc_status mc_store_obtain_peaks(mc_store *store, const mc_machine *m, int threads, mc_peaks *out, bool *measured,
                                mc_err *err);

#endif
