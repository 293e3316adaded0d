/* engine/pool.h: worker processes that run (case, variant) items, isolated from the parent, so a
 * crash or a hang costs one result, never the run.
 * SPDX-License-Identifier: MIT */
#ifndef MC_POOL_H
#define MC_POOL_H

#include <stddef.h>

#include "runner.h"

#define MC_POOL_OUTPUT_TAIL 2048 /* bytes of a case's captured stdout+stderr kept (the tail), NUL included */

/* One unit of work. Items of one case must be contiguous (the worker prepares a case once). */
typedef struct mc_work_item {
    int case_index;
    int variant_index;
} mc_work_item;

typedef struct mc_pool_cfg {
    int jobs;               /* worker processes at once */
    double timeout_s;       /* per item; past it the worker is killed and the item is a timeout */
    /* Address space a worker may add to what it holds when forked (RLIMIT_AS), in MiB: 0 for no
     * limit, < 0 for the default (mc_isolate_default_mem_limit_mib). */
    long mem_limit_mib;
    /* CPU seconds one item may use (RLIMIT_CPU: SIGXCPU past it, a crash): 0 for no limit, < 0
     * for the default (mc_isolate_default_cpu_limit_s). */
    double cpu_limit_s;
    mc_runner_cfg runner;   /* how each worker's runner is set up */
    /* Optional, run inside the worker: installed as the runner's after-hook (timing). */
    mc_runner_after_fn after;
    void *after_user;
    /* Optional, run inside the worker after each result: copies extra bytes (a timing record)
     * to send along with the result; returns how many. */
    size_t (*take_extra)(void *after_user, void *buf, size_t cap);
} mc_pool_cfg;

typedef struct mc_pool_callbacks {
    void *user;
    /* A result arrived (in any order); output is the tail of what the worker printed on stdout and
     * stderr during the item ("" if nothing; valid during the call only); extra is what take_extra
     * produced (len 0 if none). */
    void (*on_result)(void *user, int item, const mc_result *res, const char *output, const void *extra,
                      size_t extra_len);
    /* Called about every 200 ms while work is under way. */
    void (*on_tick)(void *user);
} mc_pool_callbacks;

/* Runs all items and reports each through cb. Returns an error only when workers cannot be
 * started at all. */
mc_status mc_pool_run(const mc_pool_cfg *cfg, const mc_case *cases, const mc_variant *const *variants,
                      const mc_work_item *items, int n_items, const mc_pool_callbacks *cb, mc_err *err);

#endif
