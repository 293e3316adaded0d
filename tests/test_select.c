/* tests/test_select.c: choosing variants and cases, shards, the work list; seeds; JSON escaping.
 * Focus: a misspelt backend or variant is an error (never an empty pass), filters and shards keep
 * exactly the cases they should, and the generator is the same on every run.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness/json.h"
#include "harness/op.h"
#include "harness/rng.h"
#include "harness/select.h"

static void add(mc_case_list *l, const char *key)
{
    mc_case c;
    mc_err err = {0};
    assert_int_equal(mc_case_from_key(&c, key, &err), MC_OK);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_names_are_errors),
        cmocka_unit_test(test_hidden_variants_need_asking),
        cmocka_unit_test(test_filters_and_shards),
        cmocka_unit_test(test_items_group_by_case),
        cmocka_unit_test(test_rng_is_reproducible),
        cmocka_unit_test(test_json_escapes_untrusted_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
