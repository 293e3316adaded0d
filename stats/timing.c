/* stats/timing.c: adaptive timing of one kernel call.
 *
 * The measurement, step by step:
 *   1. Warm-up and batch sizing together: time batches of calls, growing the batch until one
 *      batch lasts at least max(resolution_factor x timer resolution, min_sample_ns), and keep
 *      going until warmup_s and warmup_calls are both reached and three batches in a row were
 *      long enough (a preempted batch alone must not fix the size). None of it is a sample.
 *   2. Sampling: each sample times one batch of that fixed size and keeps elapsed / calls. A
 *      sorted copy is maintained by insertion, so the distribution-free CI of the median is
 *      cheap to recompute after every sample.
 *   3. Stop when, with at least min_samples, the CI half-width is below target_rel_ci of the
 *      median; or at max_samples; or when the budget is spent. The budget counts the larger of
 *      wall time and timer time, so a device timer (which only sees the kernels) and a fake
 *      timer in tests both stop it. At least one sample is always taken.
 *   4. Every sample is kept in order; the summary (min, median, MAD, CI) comes from all of them.
 * SPDX-License-Identifier: MIT */
#include "timing.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/runinfo.h"
#include "stats.h"

mc_timing_cfg mc_timing_defaults(void)
{
    return (mc_timing_cfg){
        .budget_s = 2.0,
        .target_rel_ci = 0.01,
        .conf = 0.95,
        .min_samples = 10,
        .max_samples = 10000,
        .warmup_s = 0.05,
        .warmup_calls = 2,
        .resolution_factor = 100,
        .min_sample_ns = 20e3,
    };
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double mono_resolution_ns(void)
{
    struct timespec res;
    if (clock_getres(CLOCK_MONOTONIC, &res) != 0)
        return 1000; /* unknown: assume a coarse microsecond clock */
    double ns = (double)res.tv_sec * 1e9 + (double)res.tv_nsec;
    return ns > 0 ? ns : 1;
}

static mc_status mono_begin(void *ctx, mc_err *err)
{
    (void)err;
    ((mc_mono_state *)ctx)->start_ns = mono_ns();
    return MC_OK;
}

static mc_status mono_end(void *ctx, double *elapsed_ns, mc_err *err)
{
    (void)err;
    *elapsed_ns = (double)(mono_ns() - ((mc_mono_state *)ctx)->start_ns);
    return MC_OK;
}

mc_timer mc_timer_monotonic(mc_mono_state *state)
{
    return (mc_timer){.ctx = state, .begin = mono_begin, .end = mono_end, .resolution_ns = mono_resolution_ns()};
}

static mc_status backend_begin(void *ctx, mc_err *err)
{
    mc_backend_timer *bt = ctx;
    return bt->be->timer_begin(bt->ctx, err);
}

static mc_status backend_end(void *ctx, double *elapsed_ns, mc_err *err)
{
    mc_backend_timer *bt = ctx;
    return bt->be->timer_end(bt->ctx, elapsed_ns, err);
}

mc_timer mc_timer_for_backend(mc_backend_timer *bt, double resolution_ns)
{
    return (mc_timer){.ctx = bt, .begin = backend_begin, .end = backend_end,
                      .resolution_ns = resolution_ns > 0 ? resolution_ns : mono_resolution_ns()};
}

/* ---- the measurement ---- */

typedef struct session {
    const mc_timing_cfg *cfg;
    const mc_timer *timer;
    mc_status (*call)(void *ctx, mc_err *err);
    void *ctx;
    int64_t wall_start_ns;
    double timer_total_ns;
} session;

/* Times one batch; *wall_ns is the host clock's view of it (a fallback for sizing when the timer
 * reads 0). */
static mc_status time_batch(session *s, int64_t calls, double *elapsed_ns, double *wall_ns, mc_err *err)
{
    int64_t wall_start = mono_ns();
    mc_status st = s->timer->begin(s->timer->ctx, err);
    for (int64_t i = 0; i < calls && !st; i++)
        st = s->call(s->ctx, err);
    if (!st)
        st = s->timer->end(s->timer->ctx, elapsed_ns, err);
    if (!st && !(*elapsed_ns >= 0))
        st = mc_err_set(err, MC_ERR_BACKEND, "the timer returned %g ns", *elapsed_ns);
    if (!st)
        s->timer_total_ns += *elapsed_ns;
    if (wall_ns)
        *wall_ns = (double)(mono_ns() - wall_start);
    return st;
}

static double spent_s(const session *s)
{
    double wall = (double)(mono_ns() - s->wall_start_ns) / 1e9, timed = s->timer_total_ns / 1e9;
    return wall > timed ? wall : timed;
}

/* Step 1: returns the batch size; out->warmup_ns records the time it took. */
static mc_status warm_up(session *s, mc_timing *out, int64_t *calls_out, mc_err *err)
{
    const mc_timing_cfg *cfg = s->cfg;
    double target_ns = cfg->resolution_factor * s->timer->resolution_ns;
    if (target_ns < cfg->min_sample_ns)
        target_ns = cfg->min_sample_ns;
    double warm_ns = cfg->warmup_s * 1e9, cap_ns = cfg->budget_s * 1e9 / 10;
    if (warm_ns > cap_ns)
        warm_ns = cap_ns;
    int64_t calls = 1, done_calls = 0;
    int streak = 0; /* consecutive long-enough batches at this size: one preempted batch is not proof */
    const int64_t max_calls = (int64_t)1 << 40;
    for (;;) {
        double el = 0, wall = 0;
        mc_status st = time_batch(s, calls, &el, &wall, err);
        if (st)
            return st;
        out->warmup_ns += el;
        done_calls += calls;
        bool long_enough = el >= target_ns;
        streak = long_enough ? streak + 1 : 0;
        if (streak >= 3 && out->warmup_ns >= warm_ns && done_calls >= cfg->warmup_calls)
            break;
        if (spent_s(s) >= cfg->budget_s)
            break; /* out of budget: sample at this size (a timer that never ticks ends here too) */
        if (!long_enough && calls < max_calls) {
            /* grow towards the target with 20% margin, at least doubling, at most 100x at once; when
             * the timer saw nothing, the host clock's view of the batch sizes the step, so a timer
             * that never ticks cannot make one batch outgrow the budget by more than that doubling */
            double seen = el > 0 ? el : wall;
            double grow = seen > 0 ? target_ns * 1.2 / seen : 100;
            if (grow < 2)
                grow = 2;
            if (grow > 100)
                grow = 100;
            calls = (int64_t)ceil((double)calls * grow);
            if (calls > max_calls)
                calls = max_calls;
        }
    }
    *calls_out = calls;
    return MC_OK;
}

/* Inserts v into the sorted prefix s[0..n) (s has room for n + 1). */
static void insert_sorted(double *s, int n, double v)
{
    int i = n;
    while (i > 0 && s[i - 1] > v) {
        s[i] = s[i - 1];
        i--;
    }
    s[i] = v;
}

static mc_status summarise(mc_timing *t, const double *sorted, double conf, mc_err *err)
{
    t->min_ns = sorted[0];
    t->median_ns = mc_stats_median_sorted(sorted, t->n);
    mc_interval ci;
    mc_stats_median_ci_sorted(sorted, t->n, conf, &ci);
    t->ci_lo_ns = ci.lo;
    t->ci_hi_ns = ci.hi;
    t->ci_half_ns = ci.bounded ? (ci.hi - ci.lo) / 2 : INFINITY;
    mc_summary sum;
    mc_status st = mc_stats_summary(t->samples_ns, t->n, &sum, err);
    if (!st)
        t->mad_ns = sum.mad;
    return st;
}

mc_status mc_time_run(const mc_timing_cfg *cfg_in, const mc_timer *timer_in, mc_status (*call)(void *ctx, mc_err *err),
                      void *ctx, mc_timing *out, mc_err *err)
{
    mc_timing_cfg cfg = cfg_in ? *cfg_in : mc_timing_defaults();
    mc_mono_state mono;
    mc_timer timer = timer_in ? *timer_in : mc_timer_monotonic(&mono);
    memset(out, 0, sizeof *out);
    if (cfg.max_samples < 1 || cfg.min_samples < 1 || !(cfg.conf > 0 && cfg.conf < 1) || !(timer.resolution_ns > 0))
        return mc_err_set(err, MC_ERR_CONFIG, "timing: samples >= 1, 0 < conf < 1 and a positive timer resolution");
    session s = {.cfg = &cfg, .timer = &timer, .call = call, .ctx = ctx, .wall_start_ns = mono_ns()};
    mc_env_sample env_before, env_after;
    mc_env_sample_now(&env_before);
    out->resolution_ns = timer.resolution_ns;
    int cap = cfg.max_samples;
    out->samples_ns = malloc((size_t)cap * sizeof *out->samples_ns);
    double *sorted = malloc((size_t)cap * sizeof *sorted);
    mc_status st = MC_OK;
    if (!out->samples_ns || !sorted) {
        st = mc_err_set(err, MC_ERR_NOMEM, "no memory for %d timing samples", cap);
        goto done;
    }
    int64_t calls = 1;
    st = warm_up(&s, out, &calls, err);
    out->calls_per_sample = calls;
    while (!st) {
        double el = 0;
        st = time_batch(&s, calls, &el, NULL, err);
        if (st)
            break;
        double per_call = el / (double)calls;
        out->samples_ns[out->n] = per_call;
        insert_sorted(sorted, out->n, per_call);
        out->n++;
        if (out->n >= cfg.min_samples) {
            mc_interval ci;
            mc_stats_median_ci_sorted(sorted, out->n, cfg.conf, &ci);
            double median = mc_stats_median_sorted(sorted, out->n);
            if (ci.bounded && (ci.hi - ci.lo) / 2 < cfg.target_rel_ci * median) {
                out->converged = true;
                break;
            }
        }
        if (out->n >= cap || spent_s(&s) >= cfg.budget_s)
            break;
    }
    if (!st)
        st = summarise(out, sorted, cfg.conf, err);
    mc_env_sample_now(&env_after);
    out->cpu_mhz = (env_before.cpu_mhz + env_after.cpu_mhz) / 2;
    out->loadavg = env_after.loadavg;
    out->spent_s = spent_s(&s);
done:
    free(sorted);
    if (st)
        mc_timing_free(out);
    return st;
}

mc_status mc_timing_finish(mc_timing *t, double conf, mc_err *err)
{
    if (t->n < 1)
        return mc_err_set(err, MC_ERR_INTERNAL, "a timing without samples");
    double *sorted = malloc((size_t)t->n * sizeof *sorted);
    if (!sorted)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for %d timing samples", t->n);
    memcpy(sorted, t->samples_ns, (size_t)t->n * sizeof *sorted);
    mc_stats_sort(sorted, t->n);
    mc_status st = summarise(t, sorted, conf, err);
    free(sorted);
    return st;
}

void mc_timing_set_rates(mc_timing *t, double flops, double bytes)
{
    t->gflops = t->median_ns > 0 ? flops / t->median_ns : 0;
    t->gbs = t->median_ns > 0 ? bytes / t->median_ns : 0;
}

void mc_timing_free(mc_timing *t)
{
    free(t->samples_ns);
    t->samples_ns = NULL;
    t->n = 0;
}

/* ---- flat form for the worker pipe ---- */

/* Layout: "MCT2", int32 n, int32 converged, int64 calls_per_sample, then the doubles below in
 * this order, the timer's definition (MC_TIMER_DEF_LEN bytes, NUL-padded), then n samples. Host
 * byte order: both ends are the same binary on one machine. */
#define MC_TIMING_MAGIC "MCT2"

enum { N_SCALARS = 21 };

/* The double fields of a timing, in packed order: one list, so pack and unpack cannot disagree. */
static void scalar_fields(mc_timing *t, double *p[N_SCALARS])
{
    double *fields[] = {&t->min_ns,        &t->median_ns, &t->mad_ns,    &t->ci_lo_ns,  &t->ci_hi_ns,
                        &t->ci_half_ns,    &t->gflops,    &t->gbs,       &t->cpu_mhz,   &t->loadavg,
                        &t->resolution_ns, &t->warmup_ns, &t->spent_s, &t->device_roof_gbs,
                        &t->device_mhz,    &t->device_mem_mhz, &t->device_temp_c, &t->device_batches,
                        &t->device_throttled, &t->device_reasons, &t->device_ws_roof_gbs};
    _Static_assert(sizeof fields / sizeof fields[0] == N_SCALARS, "one pointer per packed field");
    memcpy(p, fields, sizeof fields);
}

size_t mc_timing_pack(const mc_timing *t, void *buf, size_t cap)
{
    const int n_fields = N_SCALARS;
    mc_timing copy = *t; /* scalar_fields hands out pointers; read them from a copy */
    const size_t head = 20 + (size_t)n_fields * 8 + MC_TIMER_DEF_LEN;
    size_t need = head + (size_t)t->n * 8;
    if (!buf || cap < need)
        return need;
    unsigned char *p = buf;
    int32_t n = t->n, conv = t->converged;
    memcpy(p, MC_TIMING_MAGIC, 4);
    memcpy(p + 4, &n, 4);
    memcpy(p + 8, &conv, 4);
    memcpy(p + 12, &t->calls_per_sample, 8);
    double *fields[N_SCALARS];
    scalar_fields(&copy, fields);
    for (int i = 0; i < n_fields; i++)
        memcpy(p + 20 + 8 * i, fields[i], 8);
    memset(p + 20 + 8 * n_fields, 0, MC_TIMER_DEF_LEN);
    const size_t timer_len = strlen(t->timer); /* NUL-terminated: filled by snprintf or zeroed */
    memcpy(p + 20 + 8 * n_fields, t->timer, timer_len < MC_TIMER_DEF_LEN ? timer_len : MC_TIMER_DEF_LEN - 1);
    if (t->n)
        memcpy(p + head, t->samples_ns, (size_t)t->n * 8);
    return need;
}

mc_status mc_timing_unpack(const void *buf, size_t len, mc_timing *out, mc_err *err)
{
    memset(out, 0, sizeof *out);
    const int n_fields = N_SCALARS;
    const unsigned char *p = buf;
    size_t head = 20 + (size_t)n_fields * 8 + MC_TIMER_DEF_LEN;
    int32_t n = 0, conv = 0;
    if (len < head || memcmp(p, MC_TIMING_MAGIC, 4) != 0)
        return mc_err_set(err, MC_ERR_INTERNAL, "not a packed timing record (%zu bytes)", len);
    memcpy(&n, p + 4, 4);
    memcpy(&conv, p + 8, 4);
    if (n < 0 || len != head + (size_t)n * 8)
        return mc_err_set(err, MC_ERR_INTERNAL, "packed timing record of %zu bytes claims %d samples", len, (int)n);
    out->n = n;
    out->converged = conv != 0;
    memcpy(&out->calls_per_sample, p + 12, 8);
    double *fields[N_SCALARS];
    scalar_fields(out, fields);
    for (int i = 0; i < n_fields; i++)
        memcpy(fields[i], p + 20 + 8 * i, 8);
    memcpy(out->timer, p + 20 + 8 * n_fields, MC_TIMER_DEF_LEN);
    out->timer[MC_TIMER_DEF_LEN - 1] = '\0';
    out->samples_ns = malloc((size_t)(n ? n : 1) * sizeof *out->samples_ns);
    if (!out->samples_ns)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for %d timing samples", (int)n);
    if (n)
        memcpy(out->samples_ns, p + head, (size_t)n * 8);
    return MC_OK;
}
