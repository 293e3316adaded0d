/* stats/timing.h: adaptive timing of one kernel call: warm-up, batch sizing against the timer's
 * resolution, and repeats until the median is known to 1% or the case's budget is spent.
 * SPDX-License-Identifier: MIT */
#ifndef MC_TIMING_H
#define MC_TIMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/backend.h"
#include "core/status.h"

/* A timer: begin, run the work, end gives the nanoseconds in between. */
typedef struct mc_timer {
    void *ctx;
    mc_status (*begin)(void *ctx, mc_err *err);
    mc_status (*end)(void *ctx, double *elapsed_ns /* out */, mc_err *err);
    double resolution_ns; /* smallest step it can see; samples are made >= 100x longer */
} mc_timer;

/* The host's monotonic clock (CLOCK_MONOTONIC); resolution from clock_getres. `state` holds the
 * start time and must outlive the timer. */
typedef struct mc_mono_state {
    int64_t start_ns;
} mc_mono_state;
mc_timer mc_timer_monotonic(mc_mono_state *state);

/* A backend's timer (device events on GPUs); resolution_ns <= 0 means the host clock's. `bt` must
 * outlive the timer. */
typedef struct mc_backend_timer {
    const mc_backend *be;
    mc_backend_ctx *ctx;
} mc_backend_timer;
mc_timer mc_timer_for_backend(mc_backend_timer *bt, double resolution_ns);

typedef struct mc_timing_cfg {
    double budget_s;          /* per case, warm-up included; sampling stops when it is spent */
    double target_rel_ci;     /* stop once the CI half-width of the median is below this share of it */
    double conf;              /* confidence of that CI */
    int min_samples;          /* never stop for precision before this many samples */
    int max_samples;          /* never take more (memory and DB size) */
    double warmup_s;          /* warm-up time before the first sample (capped at a tenth of the budget) */
    int warmup_calls;         /* and at least this many warm-up calls */
    double resolution_factor; /* each sample lasts at least this many timer resolutions */
    double min_sample_ns;     /* and at least this long, so timer overhead stays negligible */
} mc_timing_cfg;

/* budget 2 s, 1% at 95%, 10..10000 samples, 50 ms / 2 calls of warm-up, 100x resolution, 20 us */
mc_timing_cfg mc_timing_defaults(void);

#define MC_TIMER_DEF_LEN 160

typedef struct mc_timing {
    int n;                    /* samples kept */
    double *samples_ns;       /* per call, in the order taken (owned; mc_timing_free) */
    int64_t calls_per_sample; /* calls timed together in each sample */
    double min_ns, median_ns, mad_ns;
    double ci_lo_ns, ci_hi_ns; /* distribution-free CI of the median (infinite when n is too small) */
    double ci_half_ns;        /* (ci_hi - ci_lo) / 2 */
    double gflops, gbs;       /* op flops and bytes over the median time; 0 until set */
    double cpu_mhz;           /* mean CPU clock around the measurement, 0 if unknown */
    double loadavg;           /* 1-minute load average at the end */
    double resolution_ns;     /* of the timer used */
    double warmup_ns;         /* timer time spent warming up and sizing batches */
    double spent_s;           /* budget used: max(wall time, timer time) */
    bool converged;           /* stopped because the CI target was met */
    char timer[MC_TIMER_DEF_LEN]; /* the timer's definition (mc_backend.timer_definition), "" unknown */
    /* device backends only (mc_device_timing_note), 0 otherwise; stored with the timing */
    double device_roof_gbs;   /* the device's copy bandwidth: the roof of its bandwidth-bound rows */
    double device_ws_roof_gbs; /* a copy of the case's own bytes, timed alike (mc_device_timing_note) */
    double device_mhz;        /* lowest device (SM) clock seen over the timed batches */
    double device_mem_mhz;    /* lowest memory clock seen over them */
    double device_temp_c;     /* highest temperature seen over them */
    double device_batches;    /* timed batches the note covers */
    double device_throttled;  /* of those, the batches the device reported throttled */
    double device_reasons;    /* throttle reason bits seen, or-ed (exact: the bits are below 2^53) */
} mc_timing;

/* Times call(ctx) with the timer (NULL: the monotonic clock). Every sample is kept. Only a failing
 * call or timer, or no memory, is an error; running out of budget is not (converged says so). */
mc_status mc_time_run(const mc_timing_cfg *cfg, const mc_timer *timer, mc_status (*call)(void *ctx, mc_err *err),
                      void *ctx, mc_timing *out, mc_err *err);

/* Recomputes min, median, MAD and the CI from samples_ns (after loading or unpacking). */
mc_status mc_timing_finish(mc_timing *t, double conf, mc_err *err);
/* gflops = flops / median_ns, gbs = bytes / median_ns (both per second). */
void mc_timing_set_rates(mc_timing *t, double flops, double bytes);
void mc_timing_free(mc_timing *t);

/* Flat bytes for the worker pipe: returns the size needed; writes only when it fits in cap. */
size_t mc_timing_pack(const mc_timing *t, void *buf, size_t cap);
/* Reads them back (out owns a new samples array). */
mc_status mc_timing_unpack(const void *buf, size_t len, mc_timing *out, mc_err *err);

#endif
