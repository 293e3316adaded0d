/* tests/test_peaks.c: roofs where the data lives (stats/peaks.c) and when timings are unreliable
 * (engine/perf_table.c).
 * Focus: a working set is named by the cache that holds it (per core for L1/L2); a row's roof is
 * its level's; a row above its roof warns instead of printing a share; the probe's caches read
 * faster than its far buffer; past L2 a row is held to the roof measured at its own size, named
 * by its rate against DRAM's; load and clock verdicts over a table of recorded timings.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stats/peaks.h"
#include "stats/peaks_kernels.h"
#include "engine/perf_table.h"

static void test_level_names(void **state)
{
    (void)state;
    static const struct {
        double bytes;
        int threads;
        mc_mem_level want;
    } rows[] = {
        {16e3, 1, MC_MEM_L1},   {48e3, 1, MC_MEM_L1},  {96e3, 2, MC_MEM_L1}, /* L1 is per core: 2 x 48 KB */
        {97e3, 2, MC_MEM_L2},   {1e6, 1, MC_MEM_L2},   {4e6, 2, MC_MEM_L2},
        {4e6, 1, MC_MEM_L3},    {45e6, 2, MC_MEM_L3},  {503e6, 2, MC_MEM_L3}, /* L3 is shared: never x threads */
        {600e6, 2, MC_MEM_DRAM}, {2e9, 4, MC_MEM_DRAM},
    };
    mc_cache_sizes c = {.l1_bytes = 48e3, .l2_bytes = 2e6, .l3_bytes = 503e6};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (mc_peaks_level(rows[i].bytes, rows[i].threads, &c) != rows[i].want)
            fail_msg("row %zu: %.0f bytes on %d threads: %s, want %s", i, rows[i].bytes, rows[i].threads,
                     mc_peaks_level_name(mc_peaks_level(rows[i].bytes, rows[i].threads, &c)),
                     mc_peaks_level_name(rows[i].want));
    mc_cache_sizes none = {0};
    assert_int_equal(mc_peaks_level(1e3, 1, &none), MC_MEM_DRAM);
    mc_cache_sizes no_l3 = {.l1_bytes = 32e3, .l2_bytes = 1e6};
    assert_int_equal(mc_peaks_level(45e6, 1, &no_l3), MC_MEM_DRAM);
    assert_string_equal(mc_peaks_level_name(MC_MEM_L2), "L2");
    assert_string_equal(mc_peaks_stored_name(MC_MEM_DRAM, MC_TRAFFIC_READ), "read_gbs");
    assert_string_equal(mc_peaks_stored_name(MC_MEM_L3, MC_TRAFFIC_WRITE), "l3_write_gbs");
}

static mc_peaks fake_peaks(void)
{
    mc_peaks p = {.threads = 2};
    const double gbs[][MC_TRAFFIC_COUNT] = {{400, 200, 300}, {150, 80, 100}, {0, 0, 0}, {40, 20, 30}};
    memcpy(p.gbs, gbs, sizeof gbs);
    return p;
}

/* A row is held to the roof of the level its working set lives in; a level without a figure
 * (here L3) falls to the next one out; compute-bound rows get none. */
static void test_roof_selection(void **state)
{
    (void)state;
    const mc_peaks p = fake_peaks();
    const mc_cache_sizes c = {.l1_bytes = 48e3, .l2_bytes = 2e6, .l3_bytes = 503e6};
    mc_perf_roof r = mc_perf_roof_for(&p, &c, MC_ROOF_READ_BW, 64e3); /* 32 KB per thread */
    assert_int_equal(r.level, MC_MEM_L1);
    assert_true(r.gbs == 400 && r.dram_gbs == 40);
    r = mc_perf_roof_for(&p, &c, MC_ROOF_COPY_BW, 3e6);
    assert_int_equal(r.level, MC_MEM_L2);
    assert_int_equal(r.traffic, MC_TRAFFIC_COPY);
    assert_true(r.gbs == 100);
    r = mc_perf_roof_for(&p, &c, MC_ROOF_READ_BW, 235e6);
    assert_int_equal(r.level, MC_MEM_L3);
    assert_true(r.gbs == 40); /* L3 unmeasured: DRAM's */
    r = mc_perf_roof_for(&p, &c, MC_ROOF_READ_BW, 1e9);
    assert_int_equal(r.level, MC_MEM_DRAM);
    assert_true(r.gbs == 40);
    r = mc_perf_roof_for(&p, &c, MC_ROOF_COMPUTE, 1e9);
    assert_true(r.gbs == 0);
}

/* 134% of a roof is never printed: the share says ABOVE and a warning line names row and roof. */
static void test_over_roof_warning(void **state)
{
    (void)state;
    const mc_peaks p = fake_peaks();
    const mc_cache_sizes c = {.l1_bytes = 48e3, .l2_bytes = 2e6, .l3_bytes = 503e6};
    const mc_perf_roof r = mc_perf_roof_for(&p, &c, MC_ROOF_READ_BW, 1e9);
    char buf[128];
    assert_true(mc_perf_roof_share(buf, sizeof buf, 36, &r));
    assert_string_equal(buf, "90% of DRAM read roof");
    assert_false(mc_perf_roof_share(buf, sizeof buf, 53.6, &r));
    assert_string_equal(buf, "ABOVE its DRAM read roof");
    assert_null(strchr(buf, '%'));
    const mc_perf_roof l2 = mc_perf_roof_for(&p, &c, MC_ROOF_READ_BW, 1e6);
    assert_true(mc_perf_roof_share(buf, sizeof buf, 75, &l2));
    assert_string_equal(buf, "50% of L2 read roof (188% of DRAM's)");

    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    mc_perf_roof_warn(out, "gemv_f16_avx2", "gemv(m=14336,k=4096)", 53.6, &r);
    fclose(out);
    assert_non_null(strstr(text, "warning: gemv_f16_avx2 on gemv(m=14336,k=4096) moves 53.6 GB/s"));
    assert_non_null(strstr(text, "DRAM read roof of 40.0 GB/s"));
    free(text);
}

/* Measured for real on one thread, at this machine's L1 and L2 and a 64 MiB "DRAM" buffer (the
 * last-level size is left out, so the probe stays cheap): each cache reads several times faster
 * than 64 MiB, so even a noisy shared machine keeps the order; every figure is measured. */
static void test_cache_levels_read_faster(void **state)
{
    (void)state;
    mc_cache_sizes c = mc_peaks_cache_sizes();
    if (c.l1_bytes == 0 || c.l2_bytes == 0) {
        print_message("skipped: this machine reports no L1/L2 size\n");
        skip();
    }
    c.l3_bytes = 0;
    mc_peaks p;
    mc_err err = {0};
    assert_int_equal(mc_peaks_measure(1, &c, MC_PEAKS_ALL_LEVELS, &p, &err), MC_OK);
    for (int l = 0; l < MC_MEM_LEVEL_COUNT; l++)
        for (int k = 0; k < MC_TRAFFIC_COUNT; k++)
            if ((l == MC_MEM_L3) != (p.gbs[l][k] == 0))
                fail_msg("%s %s: %.1f GB/s", mc_peaks_level_name((mc_mem_level)l),
                         mc_peaks_traffic_name((mc_traffic)k), p.gbs[l][k]);
    assert_true(p.bytes[MC_MEM_DRAM] == 64.0 * 1024 * 1024);
    if (!(p.gbs[MC_MEM_L2][MC_TRAFFIC_READ] > 1.2 * p.gbs[MC_MEM_DRAM][MC_TRAFFIC_READ]))
        fail_msg("L2 read %.1f GB/s, 64 MiB read %.1f GB/s: the cache roof is not above the far one",
                 p.gbs[MC_MEM_L2][MC_TRAFFIC_READ], p.gbs[MC_MEM_DRAM][MC_TRAFFIC_READ]);
    assert_int_equal(mc_peaks_measure(0, &c, MC_PEAKS_ALL_LEVELS, &p, &err), MC_ERR_USAGE);
}

/* Buckets: at or below the size (a ceiling), within an eighth of an octave, a bucket is its own
 * bucket, and a larger size never gets a smaller bucket. */
static void test_size_buckets(void **state)
{
    (void)state;
    assert_true(mc_peaks_bucket(134217728.0) == 134217728.0); /* 128 MiB, a power of two, is a bucket */
    assert_true(mc_peaks_bucket(0.5) == 0);
    double last = 0;
    for (double bytes = 1e5; bytes < 2e9; bytes *= 1.0137) {
        const double b = mc_peaks_bucket(bytes);
        if (!(b <= bytes && b > bytes / 1.0906 && b >= last && mc_peaks_bucket(b) == b))
            fail_msg("%.0f bytes: bucket %.0f (the last %.0f; its own bucket %.0f)", bytes, b, last,
                     mc_peaks_bucket(b));
        last = b;
    }
}

/* The VM of issue 18: a reported 480 MiB L3 of which it holds ~100 MB, "L3" roof 52.9 GB/s read,
 * DRAM 33.8. A 90 MB GEMV read 53.7 GB/s ("ABOVE its L3 read roof") and a 117 MB one 29.8 ("56% of
 * L3 read roof" while it streamed from DRAM). Held to the roofs measured at their own sizes, the
 * first is under its (L3) roof and the second is named a DRAM row; a row above its roof at its size
 * still warns, and a size never measured falls back to the level's figure. */
static void test_roof_at_size(void **state)
{
    (void)state;
    mc_peaks p = {.threads = 2};
    const double gbs[][MC_TRAFFIC_COUNT] = {{400, 200, 300}, {150, 80, 100}, {52.9, 55.8, 55.3}, {33.8, 47.2, 35.5}};
    memcpy(p.gbs, gbs, sizeof gbs);
    const mc_cache_sizes c = {.l1_bytes = 48e3, .l2_bytes = 2e6, .l3_bytes = 503e6};
    assert_true(mc_peaks_add_at(&p, 90.2e6, MC_TRAFFIC_READ, 56.4));
    assert_true(mc_peaks_add_at(&p, 117.4e6, MC_TRAFFIC_READ, 31.0));
    assert_true(mc_peaks_add_at(&p, 117.4e6, MC_TRAFFIC_COPY, 40.0));
    assert_int_equal(p.n_at, 2);
    char buf[128];

    mc_perf_roof r = mc_perf_roof_for(&p, &c, MC_ROOF_READ_BW, 90.2e6);
    assert_int_equal(r.level, MC_MEM_L3);
    assert_true(r.gbs == 56.4 && r.at_bytes == mc_peaks_bucket(90.2e6));
    assert_true(mc_perf_roof_share(buf, sizeof buf, 53.7, &r));
    assert_string_equal(buf, "95% of L3 read roof [at 87.0 MB] (159% of DRAM's)");
    assert_false(mc_perf_roof_share(buf, sizeof buf, 57.0, &r)); /* above the roof at its size: still a warning */
    assert_string_equal(buf, "ABOVE its L3 read roof");

    r = mc_perf_roof_for(&p, &c, MC_ROOF_READ_BW, 117.4e6);
    assert_int_equal(r.level, MC_MEM_DRAM); /* 31.0 does not beat DRAM's 33.8 by 25%: it streams */
    assert_true(r.gbs == 31.0);
    assert_true(mc_perf_roof_share(buf, sizeof buf, 29.8, &r));
    assert_string_equal(buf, "96% of DRAM read roof [at 112.9 MB] (88% of DRAM's)");
    r = mc_perf_roof_for(&p, &c, MC_ROOF_COPY_BW, 117.4e6);
    assert_int_equal(r.level, MC_MEM_DRAM);
    assert_true(r.gbs == 40.0 && r.traffic == MC_TRAFFIC_COPY);

    r = mc_perf_roof_for(&p, &c, MC_ROOF_READ_BW, 235e6); /* no figure at 235 MB: the L3 level's */
    assert_int_equal(r.level, MC_MEM_L3);
    assert_true(r.gbs == 52.9 && r.at_bytes == 0);
    r = mc_perf_roof_for(&p, &c, MC_ROOF_READ_BW, 1e6); /* in L2: never a size figure */
    assert_int_equal(r.level, MC_MEM_L2);

    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    mc_perf_roof_warn(out, "gemv_f16_avx2", "gemv(m=11008,k=2048)", 57.0,
                      (const mc_perf_roof[]){mc_perf_roof_for(&p, &c, MC_ROOF_READ_BW, 90.2e6)});
    fclose(out);
    assert_non_null(strstr(text, "above the L3 read roof of 56.4 GB/s (measured at its size)"));
    free(text);

    /* a noisy 235 MB figure below DRAM's, or below a larger size's, is raised to it */
    assert_true(mc_peaks_add_at(&p, 235e6, MC_TRAFFIC_READ, 21.6));
    assert_true(mc_peaks_add_at(&p, 400e6, MC_TRAFFIC_READ, 36.0));
    p.bytes[MC_MEM_DRAM] = 1e9;
    mc_peaks_at_envelope(&p);
    assert_true(mc_peaks_at_gbs(&p, 235e6, MC_TRAFFIC_READ) == 36.0);
    assert_true(mc_peaks_at_gbs(&p, 117.4e6, MC_TRAFFIC_READ) == 36.0); /* 31.0 measured, 36.0 at 400 MB */
    assert_true(mc_peaks_at_gbs(&p, 117.4e6, MC_TRAFFIC_COPY) == 40.0); /* above DRAM's 35.5 already */
    assert_true(mc_peaks_at_gbs(&p, 90.2e6, MC_TRAFFIC_READ) == 56.4);
    assert_true(mc_peaks_at_gbs(&p, 90.2e6, MC_TRAFFIC_COPY) == 0); /* never measured: no figure */

    char name[64];
    mc_peaks_at_stored_name(mc_peaks_bucket(134217728.0), MC_TRAFFIC_COPY, name, sizeof name);
    assert_string_equal(name, "copy_gbs_at_134217728");
}

/* Measured for real on one thread: both sizes get read and copy figures, a size at DRAM's buffer
 * is left to DRAM's figure, and the envelope holds (the smaller buffer's roof is never below the
 * larger's). How much faster L2 reads than 48 MiB is the machine's business, not asserted here: on
 * a loaded CI machine under ASan the two measured 24.6 and 20.6 GB/s, and a unit test holds code
 * to its contract, not hardware to a speed. */
static void test_roof_at_size_measured(void **state)
{
    (void)state;
    mc_cache_sizes c = mc_peaks_cache_sizes();
    if (c.l2_bytes == 0) {
        print_message("skipped: this machine reports no L2 size\n");
        skip();
    }
    c.l1_bytes = c.l2_bytes = c.l3_bytes = 0; /* DRAM only: a 64 MiB buffer */
    mc_peaks p;
    mc_err err = {0};
    assert_int_equal(mc_peaks_measure_at(&(mc_peaks){.threads = 1}, (const double[]){1e6}, 1, &err), MC_ERR_USAGE);
    assert_int_equal(mc_peaks_measure(1, &c, 1u << MC_MEM_DRAM, &p, &err), MC_OK);
    const double small = 0.75 * mc_peaks_cache_sizes().l2_bytes, large = 48.0 * 1024 * 1024;
    const double sizes[] = {small, large, large * 1.01, 64.0 * 1024 * 1024};
    assert_int_equal(mc_peaks_measure_at(&p, sizes, 4, &err), MC_OK);
    assert_int_equal(p.n_at, 2); /* 1.01x shares a bucket; 64 MiB is DRAM's buffer */
    for (int i = 0; i < p.n_at; i++)
        if (!(p.at[i].gbs[MC_TRAFFIC_READ] > 0 && p.at[i].gbs[MC_TRAFFIC_COPY] > 0 && p.at[i].gbs[MC_TRAFFIC_WRITE] == 0))
            fail_msg("at %.0f bytes: read %.1f, copy %.1f, write %.1f GB/s", p.at[i].bytes, p.at[i].gbs[0],
                     p.at[i].gbs[2], p.at[i].gbs[1]);
    const double in_l2 = mc_peaks_at_gbs(&p, small, MC_TRAFFIC_READ), far = mc_peaks_at_gbs(&p, large, MC_TRAFFIC_READ);
    if (!(in_l2 >= far))
        fail_msg("read at %.0f bytes %.1f GB/s, at 48 MiB %.1f GB/s: the envelope let a smaller buffer be slower",
                 small, in_l2, far);
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

/* Every read loop of this CPU reads every byte once: they XOR the same lines, in whatever order or
 * streams, so they all return the same value over the same buffer (a loop that skips a stream's
 * share, or reads one twice, does not). */
static void test_read_loops_read_everything(void **state)
{
    (void)state;
    const size_t sizes[] = {MC_PEAKS_BLOCK, 64 * MC_PEAKS_BLOCK, 1000 * MC_PEAKS_BLOCK + 3 * MC_PEAKS_BLOCK};
    unsigned char *src = aligned_alloc(64, sizes[2]), *dst = aligned_alloc(64, sizes[2]);
    assert_non_null(src);
    assert_non_null(dst);
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < sizes[2]; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        src[i] = (unsigned char)x;
    }
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        const mc_peaks_kernel *k = mc_peaks_kernels(), *first = NULL;
        for (; k->fn; k++) {
            if (k->traffic != MC_TRAFFIC_READ)
                continue;
            if (!first) {
                first = k;
                continue;
            }
            uint64_t want = first->fn(src, dst, sizes[z]), got = k->fn(src, dst, sizes[z]);
            if (got != want)
                fail_msg("read loop %d over %zu bytes returned %llx, the first read loop %llx",
                         (int)(k - mc_peaks_kernels()), sizes[z], (unsigned long long)got, (unsigned long long)want);
        }
    }
    free(src);
    free(dst);
}

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
        cmocka_unit_test(test_roof_selection),
        cmocka_unit_test(test_over_roof_warning),
        cmocka_unit_test(test_size_buckets),
        cmocka_unit_test(test_roof_at_size),
        cmocka_unit_test(test_roof_at_size_measured),
        cmocka_unit_test(test_cache_levels_read_faster),
        cmocka_unit_test(test_read_loops_read_everything),
        cmocka_unit_test(test_env_verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
