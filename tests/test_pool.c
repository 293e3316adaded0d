/* tests/test_pool.c: worker isolation.
 * Focus: a variant that segfaults, one that hangs and one that writes past its output each cost
 * exactly their own result (crash, timeout, guard); every other result of the run survives.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness/op.h"
#include "harness/pool.h"
#include "harness/registry.h"

typedef struct collected {
    mc_result *res;
    int n;
    int seen;
} collected;

static void on_result(void *user, int item, const mc_result *res, const void *extra, size_t len)
{
    collected *c = user;
    assert_true(item >= 0 && item < c->n);
    c->res[item] = *res;
    c->seen++;
}

static void add_case(mc_case_list *l, const char *m)
{
    mc_case c;
    mc_err err = {0};
    assert_int_equal(mc_case_init(&c, mc_op_find("gemm"), &err), MC_OK);
    assert_int_equal(mc_case_set(&c, "m", m, &err), MC_OK);
    assert_int_equal(mc_case_set(&c, "n", "5", &err), MC_OK);
    assert_int_equal(mc_case_set(&c, "k", "7", &err), MC_OK);
    assert_int_equal(mc_case_finish(&c, &err), MC_OK);
    assert_int_equal(mc_case_list_add(l, &c, &err), MC_OK);
}

static void test_crash_hang_and_overflow_are_isolated(void **state)
{
    (void)state;
    const mc_variant *vs[] = {
        mc_registry_find("gemm_scalar"),
        mc_registry_find("gemm_testonly_segfault"),
        mc_registry_find("gemm_testonly_hang"),
        mc_registry_find("gemm_testonly_overflow"),
    };
    for (int i = 0; i < 4; i++)
        assert_non_null(vs[i]);
    mc_case_list cases = {0};
    add_case(&cases, "3");
    add_case(&cases, "4");
    add_case(&cases, "9");
    /* every case runs every variant; the scalar one must pass everywhere */
    mc_work_item items[12];
    int n = 0;
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 4; v++)
            items[n++] = (mc_work_item){c, v};
    mc_result res[12];
    memset(res, 0, sizeof res);
    collected col = {res, n, 0};
    mc_pool_cfg cfg = {.jobs = 2, .timeout_s = 1.0, .runner = {.guard_bytes = 256, .threads = 1, .repeat_check = true}};
    mc_pool_callbacks cb = {.user = &col, .on_result = on_result};
    mc_err err = {0};
    assert_int_equal(mc_pool_run(&cfg, cases.items, vs, items, n, &cb, &err), MC_OK);
    assert_int_equal(col.seen, n);
    for (int i = 0; i < n; i++) {
        mc_result_kind want[] = {MC_RESULT_PASS, MC_RESULT_CRASH, MC_RESULT_TIMEOUT, MC_RESULT_FAIL_GUARD};
        if (res[i].kind != want[items[i].variant_index])
            print_error("item %d (%s): %s: %s\n", i, vs[items[i].variant_index]->name,
                        mc_result_kind_name(res[i].kind), res[i].message);
        assert_int_equal(res[i].kind, want[items[i].variant_index]);
        assert_int_equal(res[i].case_index, items[i].case_index);
    }
    assert_int_equal(res[1].signal, 11); /* SIGSEGV */
    mc_case_list_free(&cases);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_hang_and_overflow_are_isolated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
