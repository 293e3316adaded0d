/* db/store_peaks.h: the machine's bandwidth roofs (stats/peaks.h), kept as machine peaks: loaded
 * when this machine has them for this thread count, else measured once and stored. The one place
 * `run --tier perf` and the report obtain them.
 * SPDX-License-Identifier: MIT */
#ifndef MC_STORE_PEAKS_H
#define MC_STORE_PEAKS_H

#include <stdbool.h>

#include "db/store.h"
#include "stats/peaks.h"

/* Fills *out (the levels of `levels`, a set as in mc_peaks_measure; when measuring, also the roofs
 * at sizes[0..n_sizes), mc_peaks_measure_at, stored too) from the store (store may be
 * NULL) when every figure is there, measured with
 * `threads` threads and `fresh` is false; otherwise measures them (mc_peaks_measure) and stores
 * them under m, replacing older ones. *measured says which happened. A perf run asks for fresh
 * roofs (its rows are held to the roofs of the same run: on a shared machine the bandwidth moves
 * several-fold between runs); the report takes stored ones. */
mc_status mc_store_obtain_peaks(mc_store *store, const mc_machine *m, int threads, bool fresh, unsigned levels,
                                const double *sizes, int n_sizes, mc_peaks *out, bool *measured, mc_err *err);

#endif
