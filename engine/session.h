/* engine/session.h: one correctness (or perf) run from case files to results: load, select,
 * probe, run in workers, coverage. Shared by run, check and repro.
 * SPDX-License-Identifier: MIT */
#ifndef MC_SESSION_H
#define MC_SESSION_H

#include <stdbool.h>

#include "pool.h"
#include "probe.h"
#include "select.h"

struct mc_session;

typedef struct mc_session_cfg {
    const char *tier;           /* quick|precommit|nightly|perf, when no case files are given */
    const char *const *case_files;
    int n_case_files;
    const char *cases_dir;      /* NULL: the default lookup */
    const char *single_key;     /* repro: exactly this case */
    int max_cases;              /* the load's case cap; 0: MC_CASE_LIST_DEFAULT_MAX */
    mc_selection_cfg sel;
    mc_pool_cfg pool;
    bool coverage_check;        /* the tier rule: a runnable variant offered cases that ran none, and a
                                   dispatcher's kernel never forced or never chosen, fail the run
                                   (set it from mc_session_wants_coverage) */
    bool coverage_requested;    /* --coverage: case files are held to the tier rule too */
    bool quiet;                 /* no progress output */
    /* Optional: told of every result as it arrives (the store writes in batches from here). */
    void (*sink)(void *user, const struct mc_session *s, int item);
    void *sink_user;
} mc_session_cfg;

typedef struct mc_session {
    mc_case_list cases;
    const mc_variant **selected; /* every selected variant, runnable or not */
    int n_selected;
    mc_probe_report probe;       /* per selected variant: why it cannot run, or ""; then, past
                                    n_selected, the dispatchers' kernels that are not selected */
    const mc_variant **probed;   /* what probe.reason describes: selected, then those kernels */
    int n_probed;
    const mc_variant **variants; /* the runnable ones: what work items index */
    int n_variants;
    mc_work_item *items;
    int n_items;
    mc_result *results;          /* per item */
    void **extras;               /* per item: a copy of the worker's extra bytes, or NULL */
    size_t *extra_lens;
    char **outputs;              /* per item: the tail of what the worker printed, or NULL if nothing */
    mc_result *coverage;         /* extra failures: runnable variants that ran nothing */
    int n_coverage;
    int counts[MC_RESULT_COUNT]; /* over results and coverage */
    int n_unavailable;           /* selected variants that cannot run here */
    double wall_s;
} mc_session;

/* Whether the tier rule (coverage) applies: to a tier, or to case files with --coverage, and
 * never to a slice of one (a filter or a shard). */
bool mc_session_wants_coverage(const mc_session_cfg *cfg);

/* Loads cases and variants, probes, and builds the work list. Variants offered no case are
 * not selected (they leave the list of runnable ones). */
mc_status mc_session_prepare(const mc_session_cfg *cfg, mc_session *s, mc_err *err);
/* Runs the work list in worker processes. */
mc_status mc_session_execute(const mc_session_cfg *cfg, mc_session *s, mc_err *err);
void mc_session_free(mc_session *s);

/* 0 all passed; 1 any failure, crash or timeout; 4 nothing ran. */
int mc_session_exit_code(const mc_session *s);
/* The variant of a result (coverage results of unrunnable variants carry a negative index). */
const mc_variant *mc_session_variant_of(const mc_session *s, const mc_result *r);
/* Number of items that ran (not skipped). */
int mc_session_ran(const mc_session *s);

#endif
