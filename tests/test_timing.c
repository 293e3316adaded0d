/* tests/test_timing.c: the adaptive timing loop, driven by a fake clock.
 * Focus: warm-up comes first and is never sampled, batches reach 100x the timer resolution, the
 * stopping rule (CI target, budget, sample cap) and that every sample is kept. No assertion
 * depends on the speed of this machine.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stats/timing.h"

/* A workload whose cost the fake timer invents: cost_ns per call (cold_factor times that for the
 * first cold_calls), each batch scaled by (1 + noise * u) with u uniform in [-1, 1]. */
typedef struct fake {
    int64_t calls, calls_at_begin;
    double cost_ns, noise, cold_factor;
    int64_t cold_calls, fail_at;
    uint64_t rng;
    double total_ns; /* everything the timer ever reported */
} fake;

static mc_status fake_call(void *ctx, mc_err *err)
{
    fake *f = ctx;
    f->calls++;
    if (f->fail_at && f->calls == f->fail_at)
        return mc_err_set(err, MC_ERR_BACKEND, "kernel failed at call %lld", (long long)f->calls);
    return MC_OK;
}

static mc_status fake_begin(void *ctx, mc_err *err)
{
    (void)err;
    fake *f = ctx;
    f->calls_at_begin = f->calls;
    return MC_OK;
}

static mc_status fake_end(void *ctx, double *elapsed_ns, mc_err *err)
{
    (void)err;
    fake *f = ctx;
    int64_t cold = 0;
    if (f->calls_at_begin < f->cold_calls)
        cold = (f->calls < f->cold_calls ? f->calls : f->cold_calls) - f->calls_at_begin;
    int64_t warm = f->calls - f->calls_at_begin - cold;
    f->rng = f->rng * 6364136223846793005ull + 1442695040888963407ull;
    double u = (double)(f->rng >> 11) / (double)(1ull << 53) * 2 - 1;
    *elapsed_ns = ((double)warm * f->cost_ns + (double)cold * f->cost_ns * f->cold_factor) * (1 + f->noise * u);
    f->total_ns += *elapsed_ns;
    return MC_OK;
}

static mc_timer fake_timer(fake *f, double resolution_ns)
{
    return (mc_timer){.ctx = f, .begin = fake_begin, .end = fake_end, .resolution_ns = resolution_ns};
}

static mc_timing_cfg quiet_cfg(void)
{
    mc_timing_cfg cfg = mc_timing_defaults();
    cfg.min_sample_ns = 0; /* let the resolution rule alone size the batches */
    return cfg;
}

/* No noise: every sample equals the cost, so the CI has zero width at min_samples. */
static void test_batches_and_exact_stop(void **state)
{
    (void)state;
    static const struct {
        double cost_ns, resolution_ns;
    } rows[] = {{300, 1000}, {7, 1}, {5e5, 1000}, {300, 1e6}};
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        fake f = {.cost_ns = rows[r].cost_ns, .rng = 1};
        mc_timer t = fake_timer(&f, rows[r].resolution_ns);
        mc_timing_cfg cfg = quiet_cfg();
        cfg.budget_s = 1e6; /* fake seconds: the CI rule must be what stops it */
        mc_timing tm;
        mc_err err = {0};
        assert_int_equal(mc_time_run(&cfg, &t, fake_call, &f, &tm, &err), MC_OK);
        double target = 100 * rows[r].resolution_ns;
        double batch_ns = (double)tm.calls_per_sample * rows[r].cost_ns;
        assert_true(batch_ns >= target);                      /* >= 100x the resolution */
        assert_true(tm.calls_per_sample == 1 || batch_ns <= 2.4 * target); /* and not wastefully more */
        assert_int_equal(tm.n, cfg.min_samples);
        assert_true(tm.converged);
        assert_true(tm.median_ns == rows[r].cost_ns && tm.min_ns == rows[r].cost_ns && tm.mad_ns == 0);
        assert_true(tm.warmup_ns >= cfg.warmup_s * 1e9);
        assert_true(tm.ci_half_ns == 0);
        mc_timing_free(&tm);
    }
}

/* Cold calls (10x slower) are absorbed by the warm-up: the fastest sample is the warm cost. */
static void test_warmup_not_sampled(void **state)
{
    (void)state;
    fake f = {.cost_ns = 300, .cold_calls = 1000, .cold_factor = 10, .rng = 2};
    mc_timer t = fake_timer(&f, 1000);
    mc_timing_cfg cfg = quiet_cfg();
    mc_timing tm;
    mc_err err = {0};
    assert_int_equal(mc_time_run(&cfg, &t, fake_call, &f, &tm, &err), MC_OK);
    for (int i = 0; i < tm.n; i++)
        assert_true(tm.samples_ns[i] == 300);
    mc_timing_free(&tm);
}

/* +-20% noise per sample cannot reach a 1% CI within 20 fake ms: the budget stops it, and every
 * sample taken is kept (warm-up plus samples account for all the time the timer reported). */
static void test_budget_stop_keeps_every_sample(void **state)
{
    (void)state;
    fake f = {.cost_ns = 300, .noise = 0.2, .rng = 3};
    mc_timer t = fake_timer(&f, 1000);
    mc_timing_cfg cfg = quiet_cfg();
    cfg.budget_s = 0.02;
    mc_timing tm;
    mc_err err = {0};
    assert_int_equal(mc_time_run(&cfg, &t, fake_call, &f, &tm, &err), MC_OK);
    assert_false(tm.converged);
    assert_true(tm.spent_s >= cfg.budget_s);
    assert_true(tm.n > cfg.min_samples && tm.n < cfg.max_samples);
    double accounted = tm.warmup_ns;
    for (int i = 0; i < tm.n; i++) {
        assert_true(tm.samples_ns[i] >= 0.8 * 300 - 1e-9 && tm.samples_ns[i] <= 1.2 * 300 + 1e-9);
        accounted += tm.samples_ns[i] * (double)tm.calls_per_sample;
    }
    assert_true(fabs(accounted - f.total_ns) <= 1e-9 * f.total_ns);
    assert_true(tm.ci_lo_ns <= tm.median_ns && tm.median_ns <= tm.ci_hi_ns);
    assert_true(fabs(tm.ci_half_ns - (tm.ci_hi_ns - tm.ci_lo_ns) / 2) < 1e-9);
    mc_timing_free(&tm);
}

/* +-2% noise converges: the 95% CI half-width ends below 1% of the median. */
static void test_converges_on_small_noise(void **state)
{
    (void)state;
    fake f = {.cost_ns = 1000, .noise = 0.02, .rng = 4};
    mc_timer t = fake_timer(&f, 1000);
    mc_timing_cfg cfg = quiet_cfg();
    cfg.budget_s = 1e6;
    mc_timing tm;
    mc_err err = {0};
    assert_int_equal(mc_time_run(&cfg, &t, fake_call, &f, &tm, &err), MC_OK);
    assert_true(tm.converged);
    assert_true(tm.n >= cfg.min_samples);
    assert_true(tm.ci_half_ns < 0.01 * tm.median_ns);
    assert_true(fabs(tm.median_ns - 1000) < 20);
    mc_timing_free(&tm);
}

/* The sample cap holds even with budget to spare. */
static void test_max_samples(void **state)
{
    (void)state;
    fake f = {.cost_ns = 300, .noise = 0.5, .rng = 5};
    mc_timer t = fake_timer(&f, 1000);
    mc_timing_cfg cfg = quiet_cfg();
    cfg.budget_s = 1e6;
    cfg.max_samples = 50;
    mc_timing tm;
    mc_err err = {0};
    assert_int_equal(mc_time_run(&cfg, &t, fake_call, &f, &tm, &err), MC_OK);
    assert_int_equal(tm.n, 50);
    assert_false(tm.converged);
    mc_timing_free(&tm);
}

/* A timer that never ticks (reads 0) must not make the batch grow without end: the host clock
 * sizes the batches and the budget stops the run. */
static void test_timer_that_never_ticks(void **state)
{
    (void)state;
    fake f = {.cost_ns = 0, .rng = 8};
    mc_timer t = fake_timer(&f, 1000);
    mc_timing_cfg cfg = quiet_cfg();
    cfg.budget_s = 0.05;
    mc_timing tm;
    mc_err err = {0};
    assert_int_equal(mc_time_run(&cfg, &t, fake_call, &f, &tm, &err), MC_OK);
    assert_true(tm.n >= 1);
    assert_false(tm.converged);
    assert_true(tm.median_ns == 0);
    assert_true(tm.spent_s >= cfg.budget_s && tm.spent_s < 20 * cfg.budget_s); /* terminated, near the budget */
    mc_timing_free(&tm);
}

/* A failing kernel call is an error, with nothing left allocated. */
static void test_call_failure(void **state)
{
    (void)state;
    fake f = {.cost_ns = 300, .fail_at = 5000, .rng = 6};
    mc_timer t = fake_timer(&f, 1000);
    mc_timing_cfg cfg = quiet_cfg();
    mc_timing tm;
    mc_err err = {0};
    assert_int_equal(mc_time_run(&cfg, &t, fake_call, &f, &tm, &err), MC_ERR_BACKEND);
    assert_null(tm.samples_ns);
    assert_non_null(strstr(err.msg, "call 5000"));
}

/* Packed for the worker pipe and back, bit for bit; garbage is refused. */
static void test_pack_round_trip(void **state)
{
    (void)state;
    fake f = {.cost_ns = 300, .noise = 0.1, .rng = 7};
    mc_timer t = fake_timer(&f, 1000);
    mc_timing_cfg cfg = quiet_cfg();
    cfg.budget_s = 0.01;
    mc_timing tm, back;
    mc_err err = {0};
    assert_int_equal(mc_time_run(&cfg, &t, fake_call, &f, &tm, &err), MC_OK);
    mc_timing_set_rates(&tm, 600, 1200);
    assert_true(fabs(tm.gflops - 600 / tm.median_ns) < 1e-12);
    snprintf(tm.timer, sizeof tm.timer, "cuda-events-batch: events around a batch"); /* issue 16: stored */
    tm.device_mem_mhz = 3201;
    tm.device_reasons = 36;
    size_t need = mc_timing_pack(&tm, NULL, 0);
    unsigned char *buf = malloc(need);
    assert_non_null(buf);
    assert_int_equal(mc_timing_pack(&tm, buf, need), need);
    assert_int_equal(mc_timing_unpack(buf, need, &back, &err), MC_OK);
    assert_int_equal(back.n, tm.n);
    assert_true(back.calls_per_sample == tm.calls_per_sample && back.converged == tm.converged);
    assert_memory_equal(back.samples_ns, tm.samples_ns, (size_t)tm.n * sizeof(double));
    assert_true(back.median_ns == tm.median_ns && back.gbs == tm.gbs && back.warmup_ns == tm.warmup_ns);
    assert_string_equal(back.timer, tm.timer);
    assert_true(back.device_mem_mhz == 3201 && back.device_reasons == 36);
    double median = back.median_ns;
    assert_int_equal(mc_timing_finish(&back, 0.95, &err), MC_OK); /* recomputed from the samples */
    assert_true(back.median_ns == median);
    mc_timing_free(&back);
    assert_int_not_equal(mc_timing_unpack(buf, need - 8, &back, &err), MC_OK);
    buf[0] = 'X';
    assert_int_not_equal(mc_timing_unpack(buf, need, &back, &err), MC_OK);
    free(buf);
    mc_timing_free(&back);
    mc_timing_free(&tm);
}

static mc_status spin(void *ctx, mc_err *err)
{
    (void)err;
    volatile double *x = ctx;
    for (int i = 0; i < 100; i++)
        *x = *x * 1.0000001 + 1e-9;
    return MC_OK;
}

/* The real monotonic clock: structure only (speed is not asserted). */
static void test_monotonic_clock(void **state)
{
    (void)state;
    volatile double x = 1;
    mc_timing_cfg cfg = mc_timing_defaults();
    cfg.budget_s = 0.05;
    cfg.warmup_s = 0.005;
    mc_timing tm;
    mc_err err = {0};
    assert_int_equal(mc_time_run(&cfg, NULL, spin, (void *)&x, &tm, &err), MC_OK);
    assert_true(tm.n >= 1 && tm.calls_per_sample >= 1);
    assert_true(tm.resolution_ns > 0);
    assert_true(tm.min_ns > 0 && tm.min_ns <= tm.median_ns);
    assert_true((double)tm.calls_per_sample * tm.min_ns >= 0.5 * cfg.min_sample_ns); /* batches are long */
    mc_timing_free(&tm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_and_exact_stop), cmocka_unit_test(test_warmup_not_sampled),
        cmocka_unit_test(test_budget_stop_keeps_every_sample), cmocka_unit_test(test_converges_on_small_noise),
        cmocka_unit_test(test_max_samples), cmocka_unit_test(test_timer_that_never_ticks),
        cmocka_unit_test(test_call_failure),
        cmocka_unit_test(test_pack_round_trip), cmocka_unit_test(test_monotonic_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
