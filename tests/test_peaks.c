/* tests/test_peaks.c: roofs where the data lives (stats/peaks.c) and when timings are unreliable
 * (engine/perf_table.c).
 * Focus: a working set is named by the cache that holds it; a cache-resident working set reads
 * faster than DRAM, so a roof measured at the case's own size is not DRAM's; load and clock
 * verdicts over a table of recorded timings.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stats/peaks.h"
#include "engine/perf_table.h"

static void test_level_names(void **state)
{
    (void)state;
    static const struct {
        double bytes;
        const char *want;
    } rows[] = {{16e3, "L1"}, {48e3, "L1"}, {1e6, "L2"}, {45e6, "L3"}, {503e6, "L3"}, {600e6, "DRAM"}};
    mc_cache_sizes c = {.l1_bytes = 48e3, .l2_bytes = 2e6, .l3_bytes = 503e6};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        assert_string_equal(mc_peaks_level(rows[i].bytes, &c), rows[i].want);
    mc_cache_sizes none = {0};
    assert_string_equal(mc_peaks_level(1e6, &none), "memory");
    mc_cache_sizes no_l3 = {.l1_bytes = 32e3, .l2_bytes = 1e6};
    assert_string_equal(mc_peaks_level(45e6, &no_l3), "DRAM");
}

/* 256 KiB sits in L2 on any machine we run on; 256 MiB is mostly beyond it. The cache reads at
 * several times DRAM's rate, so even a noisy shared machine keeps the order. */
static void test_small_working_set_reads_faster(void **state)
{
    (void)state;
    mc_peaks small, large;
    mc_err err = {0};
    assert_int_equal(mc_peaks_measure_at(1, 256 * 1024, &small, &err), MC_OK);
    assert_int_equal(mc_peaks_measure(1, 256, &large, &err), MC_OK);
    assert_true(small.read_gbs > 0 && large.read_gbs > 0);
    if (!(small.read_gbs > 1.2 * large.read_gbs))
        fail_msg("256 KiB read %.1f GB/s, 256 MiB read %.1f GB/s: the cache roof is not above DRAM's",
                 small.read_gbs, large.read_gbs);
    assert_true(small.bytes == 256 * 1024);
}

typedef struct env_row {
    double loadavg[3], mhz[3];
    int cores, threads;
    bool loaded, throttled;
} env_row;

static const env_row env_rows[] = {
    {{2.1, 2.0, 1.9}, {2600, 2600, 2600}, 2, 2, false, false}, /* only our own two threads */
    {{4.8, 5.0, 4.2}, {2600, 2600, 2600}, 2, 2, true, false},  /* others held 3 of 2 cores */
    {{1.0, 1.4, 1.2}, {2600, 2600, 2600}, 2, 1, false, false}, /* others 0.4 of 2 cores: fine */
    {{2.0, 2.0, 2.0}, {3000, 2500, 2990}, 2, 2, false, true},  /* clock fell 17% */
    {{2.0, 2.0, 2.0}, {0, 0, 0}, 2, 2, false, false},          /* clock unknown: no verdict on it */
};

static void test_env_verdicts(void **state)
{
    (void)state;
    for (size_t r = 0; r < sizeof env_rows / sizeof env_rows[0]; r++) {
        const env_row *row = &env_rows[r];
        mc_session s;
        memset(&s, 0, sizeof s);
        void *extras[3];
        size_t lens[3];
        double samples[1] = {100};
        s.n_items = 3;
        s.extras = extras;
        s.extra_lens = lens;
        for (int i = 0; i < 3; i++) {
            mc_timing t = {.n = 1, .samples_ns = samples, .calls_per_sample = 1, .min_ns = 100, .median_ns = 100,
                           .loadavg = row->loadavg[i], .cpu_mhz = row->mhz[i]};
            lens[i] = mc_timing_pack(&t, NULL, 0);
            extras[i] = malloc(lens[i]);
            assert_non_null(extras[i]);
            assert_int_equal(mc_timing_pack(&t, extras[i], lens[i]), lens[i]);
        }
        mc_perf_env e = mc_perf_env_assess(&s, row->cores, row->threads);
        assert_int_equal(e.n_timed, 3);
        if (e.loaded != row->loaded)
            fail_msg("row %zu: loaded %d, want %d (max load %.1f)", r, e.loaded, row->loaded, e.max_loadavg);
        /* a machine whose cpufreq maximum is above every sample may say throttled on its own */
        if (e.nominal_mhz == 0 && e.throttled != row->throttled)
            fail_msg("row %zu: throttled %d, want %d", r, e.throttled, row->throttled);
        for (int i = 0; i < 3; i++)
            free(extras[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_names),
        cmocka_unit_test(test_small_working_set_reads_faster),
        cmocka_unit_test(test_env_verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
