/* tests/test_compare.c: regression verdicts on synthetic sample sets.
 * Focus: identical distributions read "same"; +10% with 1% noise reads "slower" (a regression,
 * or noise/environment on identical code); small noisy differences are never "slower";
 * Benjamini-Hochberg really gates the verdict; paired data; grouping by shared parameters; and
 * the compare and merge commands end to end on a real database (exit codes, stored verdicts).
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "db/store.h"
#include "cli/cli.h"
#include "cli/cli_compare.h"
#include "stats/compare.h"
#include "stats/stats.h"

static uint64_t rng_state = 12345;

static double uniform01(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return ((double)(rng_state >> 11) + 0.5) / (double)(1ull << 53);
}

static double normal01(void)
{
    return sqrt(-2 * log(uniform01())) * cos(2 * M_PI * uniform01());
}

/* Timing-like samples: median `center`, multiplicative lognormal noise `sigma`, and one sample in
 * twenty hit by an interrupt (+20%): the heavy right tail real timings have. */
static void samples(double *x, int n, double center, double sigma)
{
    for (int i = 0; i < n; i++) {
        x[i] = center * exp(sigma * normal01());
        if (uniform01() < 0.05)
            x[i] *= 1.2;
    }
}

static mc_compare_item item(const double *base, int nb, const double *cand, int nc, const char *hb, const char *hc)
{
    return (mc_compare_item){.case_key = "gemm(m=64)", .op = "gemm", .params_json = "{\"m\":64}", .backend = "cpu",
                             .variant = "gemm_scalar", .base_hash = hb, .cand_hash = hc, .base = base, .cand = cand,
                             .n_base = nb, .n_cand = nc};
}

static const char *const H1 = "0123456789abcdef", *const H2 = "fedcba9876543210";

static void test_identical_is_same(void **state)
{
    (void)state;
    enum { CASES = 50, N = 30 };
    static double base[CASES][N], cand[CASES][N];
    mc_compare_item items[CASES];
    for (int c = 0; c < CASES; c++) {
        samples(base[c], N, 1000, 0.01);
        samples(cand[c], N, 1000, 0.01);
        items[c] = item(base[c], N, cand[c], N, H1, H2);
    }
    mc_err err = {0};
    assert_int_equal(mc_compare_items(NULL, items, CASES, &err), MC_OK);
    int same = 0;
    for (int c = 0; c < CASES; c++) {
        assert_int_not_equal(items[c].verdict, MC_VERDICT_SLOWER);
        assert_int_not_equal(items[c].verdict, MC_VERDICT_FASTER);
        assert_true(items[c].ci_bounded && items[c].ci_lo <= 1.03 && items[c].ci_hi >= 1 / 1.03);
        same += items[c].verdict == MC_VERDICT_SAME;
    }
    assert_true(same >= CASES * 9 / 10); /* 30 samples at 1% noise pin a 3% band */
    assert_false(mc_compare_any_regression(items, CASES));
}

static void test_ten_percent_is_slower(void **state)
{
    (void)state;
    double base[30], cand[30];
    samples(base, 30, 1000, 0.01);
    samples(cand, 30, 1100, 0.01);
    mc_compare_item it[2] = {item(base, 30, cand, 30, H1, H2), item(base, 30, cand, 30, H1, H1)};
    mc_err err = {0};
    assert_int_equal(mc_compare_items(NULL, it, 2, &err), MC_OK);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(it[i].verdict, MC_VERDICT_SLOWER);
        assert_true(fabs(it[i].ratio - 1.10) < 0.01);
        assert_true(it[i].ci_lo > 1.03 && it[i].ci_lo <= it[i].ratio && it[i].ratio <= it[i].ci_hi);
        assert_true(it[i].p < 1e-6 && it[i].q < 0.05);
        assert_false(it[i].paired);
    }
    assert_false(it[0].same_code);
    assert_string_equal(it[0].label, MC_LABEL_REGRESSION);
    /* byte-identical code: the slowdown is the machine's, not the commit's */
    assert_true(it[1].same_code);
    assert_string_equal(it[1].label, MC_LABEL_NOISE);
    assert_true(mc_compare_any_regression(it, 2));
    assert_false(mc_compare_any_regression(it + 1, 1));

    /* and the other way round: faster, an improvement */
    mc_compare_item back = item(cand, 30, base, 30, H1, H2);
    assert_int_equal(mc_compare_items(NULL, &back, 1, &err), MC_OK);
    assert_int_equal(back.verdict, MC_VERDICT_FASTER);
    assert_string_equal(back.label, MC_LABEL_IMPROVEMENT);

    /* "unhashable" on both sides is not identical code */
    mc_compare_item unh = item(base, 30, cand, 30, "unhashable", "unhashable");
    assert_int_equal(mc_compare_items(NULL, &unh, 1, &err), MC_OK);
    assert_false(unh.same_code);
    assert_string_equal(unh.label, MC_LABEL_REGRESSION);
}

/* +1% under 5% noise, 200 times: same or ambiguous, never slower (nor faster). */
static void test_small_noisy_never_slower(void **state)
{
    (void)state;
    enum { CASES = 200, N = 20 };
    static double base[CASES][N], cand[CASES][N];
    static mc_compare_item items[CASES];
    for (int c = 0; c < CASES; c++) {
        samples(base[c], N, 1000, 0.05);
        samples(cand[c], N, 1010, 0.05);
        items[c] = item(base[c], N, cand[c], N, H1, H2);
    }
    mc_err err = {0};
    assert_int_equal(mc_compare_items(NULL, items, CASES, &err), MC_OK);
    for (int c = 0; c < CASES; c++)
        assert_true(items[c].verdict == MC_VERDICT_SAME || items[c].verdict == MC_VERDICT_AMBIGUOUS);
}

/* A clear +10% on 5 vs 5 samples has exact p = 2/252 and a CI beyond 3%: alone it is slower. Among
 * 99 other cases with p = 1, its BH q-value is 100 * 2/252 = 0.79 and it must not be called. */
static void test_bh_gates_verdict(void **state)
{
    (void)state;
    static const double base[5] = {1000, 1001, 1002, 1003, 1004};
    static const double cand[5] = {1100, 1101, 1102, 1103, 1104};
    static const double flat[5] = {1000, 1000, 1000, 1000, 1000};
    mc_compare_item items[100];
    items[0] = item(base, 5, cand, 5, H1, H2);
    mc_err err = {0};
    assert_int_equal(mc_compare_items(NULL, items, 1, &err), MC_OK);
    assert_true(fabs(items[0].p - 2.0 / 252) < 1e-12);
    assert_true(items[0].ci_bounded && items[0].ci_lo > 1.03);
    assert_int_equal(items[0].verdict, MC_VERDICT_SLOWER);
    for (int i = 1; i < 100; i++)
        items[i] = item(flat, 5, flat, 5, H1, H2);
    assert_int_equal(mc_compare_items(NULL, items, 100, &err), MC_OK);
    assert_true(fabs(items[0].q - 100 * 2.0 / 252) < 1e-12);
    assert_int_equal(items[0].verdict, MC_VERDICT_AMBIGUOUS);
    for (int i = 1; i < 100; i++) {
        assert_true(items[i].p == 1 && items[i].q == 1);
        assert_int_equal(items[i].verdict, MC_VERDICT_SAME); /* identical samples: ratio CI is [1, 1] */
    }
}

static void test_too_few_samples(void **state)
{
    (void)state;
    static const double base[3] = {1000, 1001, 1002}, cand[3] = {2000, 2001, 2002};
    mc_compare_item it[2] = {item(base, 3, cand, 3, H1, H2), item(base, 3, cand, 0, H1, H2)};
    mc_err err = {0};
    assert_int_equal(mc_compare_items(NULL, it, 2, &err), MC_OK);
    assert_int_equal(it[0].verdict, MC_VERDICT_AMBIGUOUS); /* 3 vs 3 cannot make a 95% interval */
    assert_false(it[0].ci_bounded);
    assert_int_equal(it[1].verdict, MC_VERDICT_AMBIGUOUS);
    /* a broken measurement is flagged, and does not sink the others */
    static const double bad[3] = {1000, 0, 1002};
    double b30[30], c30[30];
    samples(b30, 30, 1000, 0.01);
    samples(c30, 30, 1100, 0.01);
    mc_compare_item mixed[2] = {item(bad, 3, cand, 3, H1, H2), item(b30, 30, c30, 30, H1, H2)};
    assert_int_equal(mc_compare_items(NULL, mixed, 2, &err), MC_OK);
    assert_int_equal(mixed[0].verdict, MC_VERDICT_AMBIGUOUS);
    assert_string_equal(mixed[0].label, MC_LABEL_INVALID);
    assert_true(isnan(mixed[0].ratio) && mixed[0].p == 1);
    assert_int_equal(mixed[1].verdict, MC_VERDICT_SLOWER);
}

/* ABBA pairs share the drift of the machine: paired log-ratios see through it. */
static void test_paired(void **state)
{
    (void)state;
    enum { N = 40 };
    double base[N], cand[N], same[N];
    for (int i = 0; i < N; i++) {
        double drift = 1000 * (1 + 0.2 * sin(i / 3.0)); /* +-20% drift, common to both of a pair */
        base[i] = drift * exp(0.005 * normal01());
        cand[i] = drift * 1.10 * exp(0.005 * normal01());
        same[i] = drift * exp(0.005 * normal01());
    }
    mc_compare_item it[2] = {item(base, N, cand, N, H1, H2), item(base, N, same, N, H1, H2)};
    it[0].paired = it[1].paired = true;
    mc_err err = {0};
    assert_int_equal(mc_compare_items(NULL, it, 2, &err), MC_OK);
    assert_true(it[0].paired);
    assert_int_equal(it[0].verdict, MC_VERDICT_SLOWER);
    assert_true(fabs(it[0].ratio - 1.10) < 0.01);
    assert_true(fabs(it[0].p - 2 * pow(0.5, N)) < 1e-15); /* all 40 pairs slower: exact sign test */
    assert_int_equal(it[1].verdict, MC_VERDICT_SAME);
    /* the same data unpaired carries the drift into its CI: many times wider */
    mc_compare_item loose = item(base, N, cand, N, H1, H2);
    assert_int_equal(mc_compare_items(NULL, &loose, 1, &err), MC_OK);
    double paired_width = log(it[0].ci_hi / it[0].ci_lo), loose_width = log(loose.ci_hi / loose.ci_lo);
    if (!(loose_width > 5 * paired_width))
        fail_msg("unpaired CI width %g, paired %g", loose_width, paired_width);
}

/* gemm over dtype x n; only f16 with n >= 4096 got 20% slower. */
static void test_grouping(void **state)
{
    (void)state;
    static const char *const dtypes[] = {"f32", "f16"};
    static const int ns[] = {1024, 2048, 4096, 8192};
    enum { N = 20 };
    static double base[8][N], cand[8][N];
    static char keys[8][64], params[8][64];
    mc_compare_item items[12];
    int k = 0;
    for (int d = 0; d < 2; d++)
        for (int j = 0; j < 4; j++, k++) {
            bool slow = d == 1 && ns[j] >= 4096;
            samples(base[k], N, 1000, 0.005);
            samples(cand[k], N, slow ? 1200 : 1000, 0.005);
            snprintf(keys[k], sizeof keys[k], "gemm(dtype=%s,n=%d)", dtypes[d], ns[j]);
            snprintf(params[k], sizeof params[k], "{\"dtype\":\"%s\",\"n\":%d,\"k\":64}", dtypes[d], ns[j]);
            items[k] = item(base[k], N, cand[k], N, H1, H2);
            items[k].case_key = keys[k];
            items[k].params_json = params[k];
        }
    /* another variant with one regression of two cases, and a third whose every case regressed */
    items[8] = item(base[0], N, cand[7], N, H1, H2);
    items[8].variant = "gemm_tiled";
    items[8].case_key = "gemm(n=77)";
    items[9] = item(base[0], N, base[0], N, H1, H2);
    items[9].variant = "gemm_tiled";
    items[10] = item(base[0], N, cand[7], N, H1, H2);
    items[10].variant = "gemm_avx2";
    items[11] = item(base[1], N, cand[6], N, H1, H2);
    items[11].variant = "gemm_avx2";
    mc_err err = {0};
    assert_int_equal(mc_compare_items(NULL, items, 12, &err), MC_OK);
    for (int i = 0; i < 8; i++)
        assert_int_equal(items[i].verdict, (i == 6 || i == 7) ? MC_VERDICT_SLOWER : MC_VERDICT_SAME);
    mc_compare_group *groups = NULL;
    int count = 0;
    assert_int_equal(mc_compare_group_regressions(items, 12, &groups, &count, &err), MC_OK);
    assert_int_equal(count, 3);
    assert_string_equal(groups[0].variant, "gemm_scalar");
    assert_int_equal(groups[0].n_regressed, 2);
    assert_int_equal(groups[0].n_compared, 8);
    assert_true(groups[0].exact);
    assert_string_equal(groups[0].description, "slower only for dtype=f16, n>=4096");
    assert_string_equal(groups[1].description, "slower only for gemm(n=77)");
    assert_string_equal(groups[2].description, "slower for all 2 cases compared");
    free(groups);
    mc_compare_item lone = items[8];
    groups = NULL;
    assert_int_equal(mc_compare_group_regressions(&lone, 1, &groups, &count, &err), MC_OK);
    assert_int_equal(count, 1);
    assert_string_equal(groups[0].description, "slower for gemm(n=77), the only case compared");
    free(groups);
}

/* ---- the commands, end to end on a store ---- */

static char tmp[64], db[128];

typedef struct stored_run {
    const char *uuid;
    char commit, parent; /* the SHA is this hex digit 40 times */
    const char *devices, *hash;
    double slow_f16_big; /* time factor for dtype=f16, n >= 4096 */
    double slow_all;     /* time factor for every case */
    bool timed;
} stored_run;

/* Stores a finished run of the 8 gemm cases of test_grouping, 20 samples each; returns its id. */
static int64_t store_run(const stored_run *r)
{
    static const char *const dtypes[] = {"f32", "f16"};
    static const int ns[] = {1024, 2048, 4096, 8192};
    mc_store *s = NULL;
    mc_err err = {0};
    assert_int_equal(mc_store_open(db, &s, &err), MC_OK);
    mc_run_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.uuid, sizeof info.uuid, "%s", r->uuid);
    memset(info.commit, r->commit, 40);
    memset(info.parent, r->parent, 40);
    snprintf(info.mode, sizeof info.mode, MC_RUN_INDEPENDENT);
    mc_runinfo_now(info.start_time);
    snprintf(info.machine.cpu_model, sizeof info.machine.cpu_model, "Test CPU");
    snprintf(info.machine.devices, sizeof info.machine.devices, "%s", r->devices);
    mc_machine_fingerprint(&info.machine);
    int64_t run = 0;
    assert_int_equal(mc_store_begin_run(s, &info, &run, &err), MC_OK);
    mc_result res;
    memset(&res, 0, sizeof res);
    res.kind = MC_RESULT_PASS;
    for (int d = 0; d < 2; d++)
        for (int j = 0; j < 4; j++) {
            char key[64], params[96];
            double x[20];
            snprintf(key, sizeof key, "gemm(dtype=%s,n=%d)", dtypes[d], ns[j]);
            snprintf(params, sizeof params, "{\"dtype\":\"%s\",\"n\":%d}", dtypes[d], ns[j]);
            double factor = r->slow_all * (d == 1 && ns[j] >= 4096 ? r->slow_f16_big : 1);
            samples(x, 20, 1000 * factor, 0.005);
            mc_timing t = {.n = 20, .samples_ns = x, .calls_per_sample = 1};
            assert_int_equal(mc_timing_finish(&t, 0.95, &err), MC_OK);
            mc_result_row row = {.case_key = key, .op_name = "gemm", .params_json = params, .backend = "cpu",
                                 .variant_name = "gemm_scalar", .code_hash = r->hash, .res = &res,
                                 .timing = r->timed ? &t : NULL};
            assert_int_equal(mc_store_add_results(s, run, &row, 1, &err), MC_OK);
        }
    assert_int_equal(mc_store_end_run(s, run, "passed", &err), MC_OK);
    mc_store_close(s);
    return run;
}

/* Runs a command with stdout captured into out; returns its exit status. */
static int capture(int (*cmd)(int, char **), char **argv, char *out, size_t cap)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    char path[160];
    snprintf(path, sizeof path, "%s/stdout.txt", tmp);
    fflush(stdout);
    int saved = dup(1), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 1);
    close(fd);
    int rc = cmd(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    fclose(f);
    return rc;
}

static int setup_db(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/mc_compare_XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    snprintf(db, sizeof db, "%s/results.db", tmp);
    return 0;
}

static int remove_db(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_compare_command(void **state)
{
    (void)state;
    static char out[1 << 16];
    const char *H_OLD = "1111111111111111", *H_NEW = "2222222222222222";
    int64_t r1 = store_run(&(stored_run){"run-1", 'a', '9', "cpu", H_OLD, 1, 1, true});
    /* commit b (child of a): f16 with n >= 4096 got 20% slower, and its code changed */
    int64_t r2 = store_run(&(stored_run){"run-2", 'b', 'a', "cpu", H_NEW, 1.2, 1, true});
    char *argv[] = {"compare", "--db", db, NULL, NULL, NULL, NULL, NULL, NULL};
    assert_int_equal(capture(mc_cli_compare, argv, out, sizeof out), MC_EXIT_REGRESSION);
    assert_non_null(strstr(out, "slower only for dtype=f16, n>=4096 (2 of 8 cases)"));
    assert_non_null(strstr(out, "8 compared: 2 slower (2 regressions, 0 noise/environment), 0 faster (0 noise/environment), 6 same"));
    mc_store *s = NULL;
    mc_err err = {0};
    int nv = 0;
    assert_int_equal(mc_store_open(db, &s, &err), MC_OK);
    assert_int_equal(mc_store_count_verdicts(s, r1, r2, &nv, &err), MC_OK);
    assert_int_equal(nv, 8);
    mc_store_close(s);

    /* commit c (child of b), same code as b, same speed: no regression */
    int64_t r3 = store_run(&(stored_run){"run-3", 'c', 'b', "cpu", H_NEW, 1.2, 1, true});
    assert_int_equal(capture(mc_cli_compare, argv, out, sizeof out), MC_EXIT_OK);
    assert_non_null(strstr(out, "8 compared: 0 slower"));
    /* commit d: byte-identical code, yet 10% slower everywhere: the machine, not the commit */
    store_run(&(stored_run){"run-4", 'd', 'c', "cpu", H_NEW, 1.2, 1.1, true});
    assert_int_equal(capture(mc_cli_compare, argv, out, sizeof out), MC_EXIT_OK);
    assert_non_null(strstr(out, "8 slower (0 regressions, 8 noise/environment)"));
    /* named runs and JSON */
    argv[3] = "--base";
    argv[4] = "run:1";
    argv[5] = "--cand";
    argv[6] = "bbbbbbb";
    argv[7] = "--json";
    assert_int_equal(capture(mc_cli_compare, argv, out, sizeof out), MC_EXIT_REGRESSION);
    assert_true(out[0] == '{' && strstr(out, "\"regressions\":2") && strstr(out, "\"exit\":3}"));
    (void)r3;

    /* another machine: refused unless forced */
    int64_t r5 = store_run(&(stored_run){"run-5", 'e', 'd', "cpu; cuda: H100", H_NEW, 1.2, 1, true});
    char id5[16];
    snprintf(id5, sizeof id5, "#%lld", (long long)r5);
    char *other[] = {"compare", "--db", db, "--base", "#3", "--cand", id5, NULL, NULL};
    assert_int_equal(capture(mc_cli_compare, other, out, sizeof out), MC_EXIT_USAGE);
    other[7] = "--force";
    assert_int_equal(capture(mc_cli_compare, other, out, sizeof out), MC_EXIT_OK);
    assert_non_null(strstr(out, "forced"));

    /* a base without timings: nothing in common */
    int64_t r6 = store_run(&(stored_run){"run-6", 'f', 'e', "cpu", H_NEW, 1, 1, false});
    char id6[16];
    snprintf(id6, sizeof id6, "run:%lld", (long long)r6);
    char *none[] = {"compare", "--db", db, "--base", id6, "--cand", "#3", NULL};
    assert_int_equal(capture(mc_cli_compare, none, out, sizeof out), MC_EXIT_NOTHING);

    /* usage */
    static const char *const bad[][4] = {
        {"compare", "--threshold", "0", NULL}, {"compare", "--threshold", "x", NULL}, {"compare", "--bogus", NULL},
        {"compare", "extra", NULL},          {"compare", "--db", "/nonexistent/x.db", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(capture(mc_cli_compare, (char **)bad[i], out, sizeof out), MC_EXIT_USAGE);
    char *help[] = {"compare", "--help", NULL};
    assert_int_equal(capture(mc_cli_compare, help, out, sizeof out), MC_EXIT_OK);
    assert_non_null(strstr(out, "usage: metallic-check compare"));
}

static void test_merge_command(void **state)
{
    (void)state;
    static char out[4096];
    char merged[160];
    snprintf(merged, sizeof merged, "%s/merged.db", tmp);
    char *argv[] = {"merge", db, db, "-o", merged, NULL};
    assert_int_equal(capture(mc_cli_merge, argv, out, sizeof out), MC_EXIT_OK);
    assert_non_null(strstr(out, "0 runs added (6 already there)")); /* the second time round */
    char *again[] = {"merge", "-o", merged, db, NULL};
    assert_int_equal(capture(mc_cli_merge, again, out, sizeof out), MC_EXIT_OK);
    assert_non_null(strstr(out, "0 runs added"));
    char *no_out[] = {"merge", db, NULL};
    assert_int_equal(capture(mc_cli_merge, no_out, out, sizeof out), MC_EXIT_USAGE);
    char *missing[] = {"merge", "/nonexistent.db", "-o", merged, NULL};
    assert_int_equal(capture(mc_cli_merge, missing, out, sizeof out), MC_EXIT_USAGE);
    char *self[] = {"merge", merged, "-o", merged, NULL};
    assert_int_equal(capture(mc_cli_merge, self, out, sizeof out), MC_EXIT_USAGE);
    char *help[] = {"merge", "-h", NULL};
    assert_int_equal(capture(mc_cli_merge, help, out, sizeof out), MC_EXIT_OK);
    assert_non_null(strstr(out, "usage: metallic-check merge"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical_is_same),  cmocka_unit_test(test_ten_percent_is_slower),
        cmocka_unit_test(test_small_noisy_never_slower), cmocka_unit_test(test_bh_gates_verdict),
        cmocka_unit_test(test_too_few_samples),    cmocka_unit_test(test_paired),
        cmocka_unit_test(test_grouping),           cmocka_unit_test(test_compare_command),
        cmocka_unit_test(test_merge_command),
    };
    return cmocka_run_group_tests(tests, setup_db, remove_db);
}
