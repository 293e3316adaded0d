/* tests/test_cuda_perf_table.c: the perf table's device rows (engine/perf_table.c): a row is compared
 * with its own backend's peer (MC_VARIANT_PEER, cuBLAS for cuda), held to the device's copy
 * bandwidth instead of the host's, and flagged when the device throttled. Needs no GPU.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/perf_table.h"

static const mc_variant row_variant = {.op = MC_OP_GEMV, .backend = "cuda", .name = "gemv_device_row"};
static const mc_variant peer_variant = {
    .op = MC_OP_GEMV, .backend = "cuda", .name = "gemv_device_peer", .flags = MC_VARIANT_PEER};
static const mc_variant other_backend_peer = {
    .op = MC_OP_GEMV, .backend = "opencl", .name = "gemv_other_peer", .flags = MC_VARIANT_PEER};

typedef struct timed {
    double median_ns, gbs, roof_gbs, throttled, mhz, ws_roof_gbs;
} timed;

/* Prints the table of one case timed by each variant (in order) into a string (caller frees). */
static char *table_of(const mc_variant *const *vars, const timed *times, int n)
{
    mc_case c;
    mc_err err = {0};
    assert_int_equal(mc_case_from_key(&c, "gemv(m=4096,k=4096)", mc_op_find, &err), MC_OK);
    mc_session s;
    memset(&s, 0, sizeof s);
    mc_work_item items[4];
    void *extras[4];
    size_t lens[4];
    double sample[1];
    s.cases.items = &c;
    s.cases.count = 1;
    s.variants = (const mc_variant **)vars;
    s.n_variants = n;
    s.items = items;
    s.n_items = n;
    s.extras = extras;
    s.extra_lens = lens;
    for (int i = 0; i < n; i++) {
        items[i] = (mc_work_item){.case_index = 0, .variant_index = i};
        sample[0] = times[i].median_ns;
        mc_timing t = {.n = 1, .samples_ns = sample, .calls_per_sample = 1, .min_ns = times[i].median_ns,
                       .median_ns = times[i].median_ns, .gbs = times[i].gbs, .device_roof_gbs = times[i].roof_gbs,
                       .device_ws_roof_gbs = times[i].ws_roof_gbs,
                       .device_throttled = times[i].throttled, .device_mhz = times[i].mhz};
        lens[i] = mc_timing_pack(&t, NULL, 0);
        extras[i] = malloc(lens[i]);
        assert_non_null(extras[i]);
        mc_timing_pack(&t, extras[i], lens[i]);
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    mc_perf_table_print(f, &s, NULL, 1);
    fclose(f);
    for (int i = 0; i < n; i++)
        free(extras[i]);
    return text;
}

static void test_row_against_its_backends_peer_and_device_roof(void **state)
{
    const mc_variant *vars[] = {&row_variant, &other_backend_peer, &peer_variant};
    const timed times[] = {{200e3, 3000, 4000, 0, 1980, 0}, {50e3, 9000, 0, 0, 0, 0}, {100e3, 6000, 4000, 0, 1980, 0}};
    char *text = table_of(vars, times, 3);
    const char *row = strstr(text, "perf gemv_device_row");
    assert_non_null(row);
    const char *end = strchr(row, '\n');
    char line[600];
    snprintf(line, sizeof line, "%.*s", (int)(end - row), row);
    /* the same backend's peer, not the other backend's (which is faster) */
    assert_non_null(strstr(line, "x0.50 vs gemv_device_peer"));
    /* the device's roof, never the host's */
    assert_non_null(strstr(line, "75% of device copy bw (4000 GB/s)"));
    assert_null(strstr(line, "THROTTLED"));
    assert_null(strstr(line, "same-size copy")); /* none measured for this case */
    free(text);
}

/* A case smaller than the roof's copy is also held to a copy of its own size, timed alike (the
 * data of a 4 MiB softmax lives in L2 between calls, as that copy's does): both shares, named. */
static void test_small_case_against_a_same_size_copy(void **state)
{
    (void)state;
    const mc_variant *vars[] = {&row_variant};
    const timed times[] = {{200e3, 3000, 4000, 0, 1980, 1500}};
    char *text = table_of(vars, times, 1);
    assert_non_null(strstr(text, "75% of device copy bw (4000 GB/s), 200% of a same-size copy (1500 GB/s)"));
    free(text);
}

static void test_throttled_row_is_flagged(void **state)
{
    const mc_variant *vars[] = {&row_variant};
    const timed times[] = {{200e3, 3000, 4000, 3, 1410, 0}};
    char *text = table_of(vars, times, 1);
    assert_non_null(strstr(text, "THROTTLED in 3 batch(es) (device clock down to 1410 MHz)"));
    assert_null(strstr(text, " vs ")); /* no peer timed this case */
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_row_against_its_backends_peer_and_device_roof),
        cmocka_unit_test(test_throttled_row_is_flagged),
        cmocka_unit_test(test_small_case_against_a_same_size_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
