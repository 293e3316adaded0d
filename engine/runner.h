/* engine/runner.h: runs one (case, variant) pair in this process and judges it. Only worker
 * processes call it: the parent process never touches a device.
 * SPDX-License-Identifier: MIT */
#ifndef MC_RUNNER_H
#define MC_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/case.h"
#include "core/result.h"

typedef struct mc_runner_cfg {
    uint64_t seed;       /* global seed, mixed with each case key */
    size_t guard_bytes;  /* guard zone before and after every buffer */
    int threads;         /* threads a CPU kernel may use */
    bool repeat_check;   /* run deterministic variants twice and compare the bits */
} mc_runner_cfg;

typedef struct mc_runner mc_runner;

mc_status mc_runner_init(mc_runner **out, const mc_runner_cfg *cfg, mc_err *err);
void mc_runner_free(mc_runner *r);

/* Runs variant v on case c and fills res. Kernel misbehaviour becomes a result kind; only a
 * failure of the harness itself (out of memory) returns an error status. */
mc_status mc_runner_run(mc_runner *r, const mc_case *c, const mc_variant *v, mc_result *res, mc_err *err);

/* The live context of a backend, initialised on first use; fills reason on failure. */
mc_status mc_runner_backend(mc_runner *r, const char *name, mc_backend_ctx **ctx,
                            const mc_backend **be, mc_err *err);

/* Probes variant v here; NULL when it can run, else the reason. */
const char *mc_runner_probe(mc_runner *r, const mc_variant *v);

/* Hook run after each successful kernel call with the same arguments, for timing (perf tier).
 * The callback may call mc_runner_call_again as often as it likes. */
typedef mc_status (*mc_runner_after_fn)(void *user, mc_runner *r, const mc_case *c, const mc_variant *v,
                                        mc_err *err);
void mc_runner_set_after(mc_runner *r, mc_runner_after_fn fn, void *user);
/* Calls the current variant's run again on the same placed buffers (no checks); returns its status. */
mc_status mc_runner_call_again(mc_runner *r, mc_err *err);
/* The backend context of the current call (for device timers). */
mc_backend_ctx *mc_runner_current_backend(mc_runner *r, const mc_backend **be);

#endif
