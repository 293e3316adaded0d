/* engine/perf.h: the perf-tier hook: inside a worker, after a case passes its checks, time the
 * same kernel call on the same buffers and ship every sample back with the result.
 * SPDX-License-Identifier: MIT */
#ifndef MC_PERF_H
#define MC_PERF_H

#include <stddef.h>

#include "runner.h"
#include "stats/timing.h"

typedef struct mc_perf_hook {
    mc_timing_cfg cfg;
    mc_timing last; /* the timing of the current item, until taken */
    int have;
} mc_perf_hook;

/* A hook with the timing defaults and a per-case budget in seconds. */
void mc_perf_hook_init(mc_perf_hook *h, double budget_s);
/* mc_runner_after_fn: times the call that just passed. */
mc_status mc_perf_after(void *user, mc_runner *r, const mc_case *c, const mc_variant *v, mc_err *err);
/* mc_pool_cfg.take_extra: packs the timing for the pipe (0 bytes when there is none). */
size_t mc_perf_take(void *user, void *buf, size_t cap);

#endif
