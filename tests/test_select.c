/* tests/test_select.c: choosing variants and cases, shards, the work list, run parameters; seeds;
 * JSON escaping. Focus: a misspelt backend, op or variant is an error (never an empty pass), filters
 * and shards keep exactly the cases they should, threads=/kernel= pair with the right variants and
 * reach the kernel, and the generator is the same on every run.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/json.h"
#include "core/op.h"
#include "engine/registry.h"
#include "core/rng.h"
#include "engine/runner.h"
#include "engine/runparams.h"
#include "engine/select.h"
#include "kernels/cpu/cpu_threads.h"
#include "kernels/cpu/gemm_tiles.h"

static void add(mc_case_list *l, const char *key)
{
    mc_case c;
    mc_err err = {0};
    assert_int_equal(mc_case_from_key(&c, key, mc_op_find, &err), MC_OK);
    assert_int_equal(mc_case_list_add(l, &c, &err), MC_OK);
}

static void test_unknown_names_are_errors(void **state)
{
    (void)state;
    typedef struct {
        mc_selection_cfg cfg;
        mc_status want;
        const char *in_message;
    } row;
    const row rows[] = {
        {{.backends = "nosuch"}, MC_ERR_CONFIG, "nosuch"},
        {{.backends = "cpu,cdua"}, MC_ERR_CONFIG, "cdua"},
        {{.variant_glob = "gemm_nosuch"}, MC_ERR_CONFIG, "gemm_nosuch"},
        {{.variant_glob = "gemm_scalar"}, MC_OK, NULL},
        {{.backends = "cpu", .variant_glob = "*_scalar"}, MC_OK, NULL},
        {{.op_glob = "nosuch"}, MC_ERR_USAGE, "--op 'nosuch' matches no op"}, /* README: exit 2, not 4 */
        {{.op_glob = "gem*"}, MC_OK, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const mc_variant **v = NULL;
        int n = 0;
        mc_err err = {0};
        assert_int_equal(mc_select_variants(&rows[i].cfg, &v, &n, &err), rows[i].want);
        if (rows[i].in_message)
            assert_non_null(strstr(err.msg, rows[i].in_message));
        else
            assert_true(n >= 1);
        free(v);
    }
}

static void test_hidden_variants_need_asking(void **state)
{
    (void)state;
    mc_selection_cfg visible = {.variant_glob = "gemm_testonly_*"};
    mc_selection_cfg hidden = {.variant_glob = "gemm_testonly_*", .include_hidden = true};
    const mc_variant **v = NULL;
    int n = -1;
    mc_err err = {0};
    assert_int_equal(mc_select_variants(&visible, &v, &n, &err), MC_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "--include-hidden"));
    assert_int_equal(mc_select_variants(&hidden, &v, &n, &err), MC_OK);
    assert_true(n >= 3);
    free(v);
}

static void test_filters_and_shards(void **state)
{
    (void)state;
    const char *keys[] = {"gemm(m=3)", "gemm(dtype=f16,m=3)", "gemv(m=8,k=32)", "softmax(rows=2,cols=9)"};
    typedef struct {
        mc_selection_cfg cfg;
        int want;
    } row;
    const row rows[] = {
        {{0}, 4},
        {{.op_glob = "gemm"}, 2},
        {{.op_glob = "gem*"}, 3},
        {{.filter = "dtype=f16"}, 1},
        {{.filter = "m=3"}, 2},
        {{.filter = "m=3,dtype=f32"}, 1},
        {{.filter = "gemm(*"}, 2},
        {{.filter = "*cols=9*"}, 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        mc_case_list l = {0};
        for (int k = 0; k < 4; k++)
            add(&l, keys[k]);
        mc_err err = {0};
        assert_int_equal(mc_select_cases(&rows[i].cfg, &l, &err), MC_OK);
        assert_int_equal(l.count, rows[i].want);
        mc_case_list_free(&l);
    }
    mc_case_list l = {0};
    add(&l, keys[0]);
    mc_err err = {0};
    mc_selection_cfg bad = {.filter = "nosuchparam=1"};
    assert_int_equal(mc_select_cases(&bad, &l, &err), MC_ERR_USAGE);
    mc_case_list_free(&l);
    /* shards partition the list: every case lands in exactly one of 3 */
    int total = 0;
    for (int s = 0; s < 3; s++) {
        mc_case_list part = {0};
        for (int k = 0; k < 4; k++)
            add(&part, keys[k]);
        mc_selection_cfg cfg = {.shard_index = s, .shard_count = 3};
        assert_int_equal(mc_select_cases(&cfg, &part, &err), MC_OK);
        total += part.count;
        mc_case_list_free(&part);
    }
    assert_int_equal(total, 4);
    int i, n;
    assert_int_equal(mc_select_parse_shard("1/4", &i, &n, &err), MC_OK);
    assert_int_equal(i * 10 + n, 14);
    assert_int_equal(mc_select_parse_shard("4/4", &i, &n, &err), MC_ERR_USAGE);
    assert_int_equal(mc_select_parse_shard("x", &i, &n, &err), MC_ERR_USAGE);
}

static void test_items_group_by_case(void **state)
{
    (void)state;
    mc_case_list l = {0};
    add(&l, "gemm(m=3)");
    add(&l, "gemv(m=8,k=32)");
    add(&l, "gemm(m=5)");
    mc_selection_cfg cfg = {.variant_glob = "gem[mv]_scalar"};
    const mc_variant **picked = NULL;
    int nv = 0;
    mc_err err = {0};
    assert_int_equal(mc_select_variants(&cfg, &picked, &nv, &err), MC_OK);
    mc_work_item *items = NULL;
    int n = 0;
    assert_int_equal(mc_select_items(&l, picked, nv, &items, &n, &err), MC_OK);
    assert_int_equal(n, 3); /* one scalar variant per op */
    assert_int_equal(items[0].case_index, 0);
    assert_int_equal(items[1].case_index, 1);
    assert_int_equal(items[2].case_index, 2);
    assert_string_equal(picked[items[1].variant_index]->name, "gemv_scalar");
    free(items);
    free(picked);
    mc_case_list_free(&l);
}

/* Run parameters at their defaults stay out of the key: history joins on keys. */
static void test_run_param_keys(void **state)
{
    (void)state;
    typedef struct {
        const char *in, *key; /* key NULL: rejected, the message naming `bad` */
        const char *bad;
    } row;
    const row rows[] = {
        {"gemm(m=5,n=7,k=11)", "gemm(m=5,n=7,k=11)", NULL},
        {"gemm(m=5,n=7,k=11,threads=run,kernel=auto)", "gemm(m=5,n=7,k=11)", NULL},
        {"gemm(m=5,n=7,k=11,threads=3)", "gemm(m=5,n=7,k=11,threads=3)", NULL},
        {"softmax(rows=3,cols=9,threads=cores+1)", "softmax(rows=3,cols=9,threads=cores+1)", NULL},
        {"gemm(m=5,kernel=gemm_gemv)", "gemm(m=5,kernel=gemm_gemv)", NULL},
        {"gemm(m=5,threads=0)", NULL, "threads"},
        {"gemm(m=5,threads=257)", NULL, "threads"},
        {"gemm(m=5,threads=cores+x)", NULL, "threads"},
        {"gemm(m=5,kernel=gemm_nosuch)", NULL, "kernel"},
        {"gemv(m=8,k=32,kernel=gemm_scalar)", NULL, "kernel"}, /* no gemv dispatcher */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        mc_case c;
        mc_err err = {0};
        mc_status st = mc_case_from_key(&c, rows[i].in, mc_op_find, &err);
        if (rows[i].key) {
            assert_int_equal(st, MC_OK);
            assert_string_equal(c.key, rows[i].key);
        } else {
            assert_int_equal(st, MC_ERR_CONFIG);
            assert_non_null(strstr(err.msg, rows[i].bad));
        }
    }
}

static void test_run_params_pair(void **state)
{
    (void)state;
    mc_case_list l = {0};
    add(&l, "gemm(m=5,n=7,k=11)");
    add(&l, "gemm(m=5,n=7,k=11,threads=3)");
    add(&l, "gemm(m=5,kernel=gemm_gemv)");
    mc_selection_cfg cfg = {.op_glob = "gemm"};
    const mc_variant **picked = NULL;
    int nv = 0;
    mc_err err = {0};
    assert_int_equal(mc_select_variants(&cfg, &picked, &nv, &err), MC_OK);
    mc_work_item *items = NULL;
    int n = 0, per_case[3] = {0};
    assert_int_equal(mc_select_items(&l, picked, nv, &items, &n, &err), MC_OK);
    int threaded = 0;
    for (int v = 0; v < nv; v++)
        threaded += (picked[v]->flags & MC_VARIANT_THREADED) != 0;
    for (int i = 0; i < n; i++) {
        const mc_variant *v = picked[items[i].variant_index];
        per_case[items[i].case_index]++;
        if (items[i].case_index == 1)
            assert_true(v->flags & MC_VARIANT_THREADED);
        if (items[i].case_index == 2)
            assert_string_equal(v->name, "gemm_dispatch");
    }
    assert_int_equal(per_case[0], nv);
    assert_true(threaded >= 3);
    assert_int_equal(per_case[1], threaded);
    assert_int_equal(per_case[2], 1);
    free(items);
    free(picked);
    mc_case_list_free(&l);
}

static int seen_threads;

static mc_status record_threads(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    (void)args;
    (void)err;
    seen_threads = kc->threads;
    return MC_OK;
}

/* The case's thread count is what the kernel gets (repro runs the same path); without one, the
 * run's --threads, as before. */
static void test_threads_reach_the_kernel(void **state)
{
    (void)state;
    const mc_variant probe_threads = {.op = MC_OP_GEMM, .backend = "cpu", .name = "test_record_threads",
                                      .run = record_threads};
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    const struct {
        const char *key;
        int want;
    } rows[] = {
        {"gemm(m=5,n=7,k=11)", 2},
        {"gemm(m=5,n=7,k=11,threads=1)", 1},
        {"gemm(m=5,n=7,k=11,threads=5)", 5},
        {"gemm(m=5,n=7,k=11,threads=cores+1)", (int)cores + 1},
    };
    mc_runner_cfg cfg = {.guard_bytes = 64, .threads = 2};
    mc_runner *r = NULL;
    mc_err err = {0};
    assert_int_equal(mc_runner_init(&r, &cfg, &err), MC_OK);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        mc_case c;
        mc_result res;
        memset(&res, 0, sizeof res);
        assert_int_equal(mc_case_from_key(&c, rows[i].key, mc_op_find, &err), MC_OK);
        seen_threads = -1;
        assert_int_equal(mc_runner_run(r, &c, &probe_threads, &res, &err), MC_OK);
        assert_int_equal(seen_threads, rows[i].want);
        assert_int_equal(mc_runparams_threads(&c, 2), rows[i].want);
    }
    mc_runner_free(r);
}

/* MC_VARIANT_THREADED is what puts a variant in the thread sweeps, so it must be true of exactly the
 * kernels that split: each pristine cpu variant runs, in this process, cases of its op that are
 * big enough for every threaded kernel to split 3 ways; an unflagged one that asks mc_cpu_parallel
 * for more than one thread would miss every sweep, and a flagged one that never splits is mislabelled
 * (the OpenBLAS peers split inside OpenBLAS, where this cannot look). */
static void test_threaded_flag_matches_splitting(void **state)
{
    (void)state;
    static const char *const keys[] = {
        "gemm(m=185,n=187,k=189,threads=3)",
        "gemm(dtype=bf16,m=185,n=187,k=189,threads=3)", /* the bf16 matrix kernels take bf16 only */
        "gemm(m=4099,k=1537,threads=3)",
        "gemv(m=1025,k=1023,threads=3)",
        "gemv(dtype=f16,m=1025,k=1023,threads=3)",
        "gemv(dtype=bf16,m=1025,k=1023,threads=3)",
        "gemv(wtype=q8_0,m=1025,k=256,threads=3)",
        "gemv(wtype=q4_0,m=1025,k=256,threads=3)",
        "gemv(wtype=q8_0,m=1025,k=256,xq=q8_0,threads=3)",
        "gemv(wtype=q4_0,m=1025,k=256,xq=q8_0,threads=3)",
        "gemv(wtype=q4_1,m=1025,k=256,threads=3)",
        "gemv(wtype=q5_0,m=1025,k=256,threads=3)",
        "gemv(wtype=q5_1,m=1025,k=256,threads=3)",
        "gemv(wtype=q2_K,m=1025,k=256,threads=3)",
        "gemv(wtype=q3_K,m=1025,k=256,threads=3)",
        "gemv(wtype=q4_K,m=1025,k=256,threads=3)",
        "gemv(wtype=q5_K,m=1025,k=256,threads=3)",
        "gemv(wtype=q6_K,m=1025,k=256,threads=3)",
        "gemv(wtype=q4_K,m=1025,k=256,xq=q8_K,threads=3)",
        "gemv(wtype=q6_K,m=1025,k=256,xq=q8_K,threads=3)",
        "gemv(wtype=q4_1,m=1025,k=256,xq=q8_0,threads=3)",
        "gemv(wtype=q5_0,m=1025,k=256,xq=q8_0,threads=3)",
        "gemv(wtype=q5_1,m=1025,k=256,xq=q8_0,threads=3)",
        "gemv(wtype=q2_K,m=1025,k=256,xq=q8_K,threads=3)",
        "gemv(wtype=q3_K,m=1025,k=256,xq=q8_K,threads=3)",
        "gemv(wtype=q5_K,m=1025,k=256,xq=q8_K,threads=3)",
        "softmax(rows=7,cols=8191,threads=3)",
        "softmax(rows=1,cols=60001,threads=3)",
        "sdpa(n_q=17,n_kv=769,heads=8,kv_heads=2,causal=1,q_offset=752,threads=3)",
    };
    mc_runner_cfg cfg = {.guard_bytes = 64, .threads = 2};
    mc_runner *r = NULL;
    mc_err err = {0};
    assert_int_equal(mc_runner_init(&r, &cfg, &err), MC_OK);
    int n;
    const mc_variant *const *all = mc_registry_variants(false, &n);
    for (int i = 0; i < n; i++) {
        const mc_variant *v = all[i];
        if (strcmp(v->backend, "cpu") != 0 || mc_runner_probe(r, v))
            continue;
        int widest = 0, ran = 0;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            mc_case c;
            mc_result res;
            memset(&res, 0, sizeof res);
            assert_int_equal(mc_case_from_key(&c, keys[k], mc_op_find, &err), MC_OK);
            if (c.op->id != v->op)
                continue;
            mc_cpu_threads_reset_widest();
            assert_int_equal(mc_runner_run(r, &c, v, &res, &err), MC_OK);
            if (res.kind == MC_RESULT_SKIP)
                continue;
            if (res.kind != MC_RESULT_PASS)
                fail_msg("%s on %s: %s", v->name, keys[k], res.message);
            ran++;
            widest = mc_cpu_threads_widest() > widest ? mc_cpu_threads_widest() : widest;
        }
        bool flagged = v->flags & MC_VARIANT_THREADED, peer = strstr(v->name, "openblas") != NULL;
        if (!ran)
            fail_msg("%s ran none of this test's cases: add one it takes", v->name);
        if (!flagged && widest > 1)
            fail_msg("%s split its work over %d threads but is not MC_VARIANT_THREADED", v->name, widest);
        if (flagged && !peer && widest < 2)
            fail_msg("%s is MC_VARIANT_THREADED but never split over threads=3", v->name);
    }
    mc_runner_free(r);
}

/* A case too big for the machine is refused before anything runs, naming the case. */
static void test_memory_check(void **state)
{
    (void)state;
    mc_case_list l = {0};
    add(&l, "gemm(m=7,n=9,k=31)");
    mc_err err = {0};
    assert_int_equal(mc_select_check_memory(&l, 4096, (uint64_t)1 << 30, &err), MC_OK);
    add(&l, "gemm(m=100000,n=100000,k=2)"); /* C alone is 40 GB */
    assert_int_equal(mc_select_check_memory(&l, 4096, (uint64_t)16 << 30, &err), MC_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "gemm(m=100000,n=100000,k=2)"));
    mc_case_list_free(&l);
}

/* The GEMM dispatcher's declaration: what it must choose here follows its class table. */
static void test_gemm_dispatch_may_choose(void **state)
{
    (void)state;
    int n;
    const mc_variant *const *acc = mc_gemm_dispatch_info.accepts(&n);
    assert_true(n >= 6 && n <= MC_DISPATCH_MAX_KERNELS);
    bool runnable[MC_DISPATCH_MAX_KERNELS], may[MC_DISPATCH_MAX_KERNELS];
    /* pass 0: every f32 kernel runs (no bf16 matrix unit); 1: no AVX2 or AVX-512 either; 2: all run:
     * AMX, which heads every tiled class, is chosen for bf16, and takes bf16 only, so the f32 kernels
     * after it are still chosen for the rest */
    for (int pass = 0; pass < 3; pass++) {
        for (int i = 0; i < n; i++) {
            const bool bf16 = strstr(acc[i]->name, "bf16") != NULL, avx = strstr(acc[i]->name, "avx") != NULL;
            runnable[i] = pass == 2 || (!bf16 && (pass == 0 || !avx));
        }
        mc_gemm_dispatch_info.may_choose(runnable, may);
        for (int i = 0; i < n; i++) {
            const char *k = acc[i]->name;
            const bool tiled_want = pass == 0   ? strstr(k, "avx") != NULL && strstr(k, "bf16") == NULL
                                    : pass == 1 ? strcmp(k, "gemm_tiled_portable") == 0
                                                : strcmp(k, "gemm_tiled_bf16_amx_16x32") == 0 ||
                                                      (strstr(k, "avx") != NULL && strstr(k, "bf16") == NULL);
            const bool want = strcmp(k, "gemm_gemv") == 0 || strcmp(k, "gemm_small_n") == 0 || tiled_want;
            if (may[i] != want)
                fail_msg("pass %d: may_choose(%s) = %d, want %d", pass, k, may[i], want);
        }
    }
    /* a tuning file's default row puts its kernel first for that class on this machine */
    char path[] = "/tmp/mc_test_select_tuning_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char row[] = "default tiny gemm_tiled_portable\n";
    assert_int_equal(write(fd, row, sizeof row - 1), (ssize_t)(sizeof row - 1));
    close(fd);
    setenv("MC_GEMM_TUNING", path, 1);
    for (int i = 0; i < n; i++)
        runnable[i] = true;
    mc_gemm_dispatch_info.may_choose(runnable, may);
    unsetenv("MC_GEMM_TUNING");
    unlink(path);
    for (int i = 0; i < n; i++)
        if (strcmp(acc[i]->name, "gemm_tiled_portable") == 0)
            assert_true(may[i]);
}

static void test_rng_is_reproducible(void **state)
{
    (void)state;
    mc_rng a, b;
    mc_rng_seed(&a, 42);
    mc_rng_seed(&b, 42);
    for (int i = 0; i < 1000; i++)
        assert_true(mc_rng_next(&a) == mc_rng_next(&b));
    mc_rng_seed(&b, 43);
    assert_true(mc_rng_next(&a) != mc_rng_next(&b));
    double lo = 1, hi = 0;
    for (int i = 0; i < 10000; i++) {
        double u = mc_rng_uniform(&a);
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    assert_true(lo >= 0 && lo < 0.01 && hi < 1 && hi > 0.99);
    assert_true(mc_rng_mix(1, 2) != mc_rng_mix(2, 1));
}

static void test_json_escapes_untrusted_text(void **state)
{
    (void)state;
    char buf[256] = {0};
    FILE *f = fmemopen(buf, sizeof buf, "w");
    mc_json_string(f, "a\"b\\c\n\x01<");
    fputc(' ', f);
    mc_json_number(f, 0.0 / 0.0);
    fclose(f);
    assert_string_equal(buf, "\"a\\\"b\\\\c\\n\\u0001<\" null");
}

/* The buffer form the store writes params with: the same escapes, quotes included, and a string
 * that does not fit is cut to "" with the length it needs (snprintf's convention). */
static void test_json_quote_into_a_buffer(void **state)
{
    (void)state;
    char buf[32];
    assert_int_equal(mc_json_quote(buf, sizeof buf, "a\"b\\c\n\x01<"), strlen("\"a\\\"b\\\\c\\n\\u0001<\""));
    assert_string_equal(buf, "\"a\\\"b\\\\c\\n\\u0001<\"");
    assert_int_equal(mc_json_quote(buf, 4, "abc"), 5);
    assert_string_equal(buf, "");
    assert_int_equal(mc_json_quote(buf, 6, "abc"), 5);
    assert_string_equal(buf, "\"abc\"");
    assert_int_equal(mc_json_quote(buf, sizeof buf, NULL), 2);
    assert_string_equal(buf, "\"\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_names_are_errors),
        cmocka_unit_test(test_hidden_variants_need_asking),
        cmocka_unit_test(test_filters_and_shards),
        cmocka_unit_test(test_items_group_by_case),
        cmocka_unit_test(test_run_param_keys),
        cmocka_unit_test(test_run_params_pair),
        cmocka_unit_test(test_threads_reach_the_kernel),
        cmocka_unit_test(test_threaded_flag_matches_splitting),
        cmocka_unit_test(test_memory_check),
        cmocka_unit_test(test_gemm_dispatch_may_choose),
        cmocka_unit_test(test_rng_is_reproducible),
        cmocka_unit_test(test_json_escapes_untrusted_text),
        cmocka_unit_test(test_json_quote_into_a_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
