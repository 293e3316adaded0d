/* db/compare_runs.h: the verdict engine over two stored runs (mc_compare_runs) and the one
 * default-base policy (mc_compare_default_base), both on the store's public API only. In db/, not
 * stats/: stats/ may not include db/ (db/ includes stats/), and both need the store's runs.
 * SPDX-License-Identifier: MIT */
#ifndef MC_COMPARE_RUNS_H
#define MC_COMPARE_RUNS_H

#include <stdbool.h>
#include <stdint.h>

#include "db/store.h"
#include "stats/compare.h"

typedef struct mc_compare_runs_opts {
    mc_compare_cfg cfg;
    bool force; /* runs of different machine fingerprints compare (else MC_ERR_CONFIG) */
} mc_compare_runs_opts;

/* Two timing sets matched by (case key, backend, variant): items[i] judges base_rows[i] against
 * cand_rows[i]; no_baseline lists the candidate's timings the base did not time. The rows belong to
 * the sets matched (which must outlive this). */
typedef struct mc_compare_match {
    mc_compare_item *items;
    const mc_timing_row **base_rows, **cand_rows;
    int n;
    const mc_timing_row **no_baseline;
    int n_no_baseline;
} mc_compare_match;

/* Walks two sets sorted as mc_store_load_timings sorts them. */
mc_status mc_compare_match_sets(const mc_timing_set *base, const mc_timing_set *cand, bool paired,
                                mc_compare_match *out, mc_err *err);
void mc_compare_match_free(mc_compare_match *m);

/* What mc_compare_runs found. m.n == 0: the runs share no timed pair (no verdict stored). */
typedef struct mc_compare_outcome {
    mc_run_record base, cand;
    mc_timing_set base_timings, cand_timings; /* owned: m's rows point into them */
    mc_compare_match m;
    mc_compare_group *groups;
    int n_groups;
    bool regression; /* an item is labelled a regression */
} mc_compare_outcome;

/* Compares the timings of run cand_run with those of run base_run, judges every matched pair
 * (stats/compare.h), groups the regressions and stores the verdicts. Refuses the same run twice
 * (MC_ERR_USAGE) and runs of different machines unless opts->force (MC_ERR_CONFIG). Free *out
 * with mc_compare_outcome_free, on success or not. */
mc_status mc_compare_runs(mc_store *s, int64_t base_run, int64_t cand_run, const mc_compare_runs_opts *opts,
                          mc_compare_outcome *out, mc_err *err);
void mc_compare_outcome_free(mc_compare_outcome *out);

/* The one default base of a candidate run (compare, check and report): the run it was paired
 * with, else, among the runs of its parent commit (no parent on record: the runs that started
 * before it, but not its own commit's other shards) on the same machine (any machine when
 * fingerprint_any) that ended passed or failed (timed ones when the candidate is timed), the one
 * that timed most of the candidate's timed pairs; among equals one of the same selection, then the
 * newest (mc_store_best_base).
 * *base_run is 0 when there is none (not an error). */
mc_status mc_compare_default_base(mc_store *s, int64_t cand_run, bool fingerprint_any, int64_t *base_run,
                                  mc_err *err);

#endif
