/* tests/test_case.c: case parameters and canonical keys.
 * Focus: keys are stable (defaults left out, schema order, shortest numbers), parse back, and
 * bad values name the parameter.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "core/case.h"
#include "core/op.h"

static const mc_param_def toy_params[] = {
    {"dtype", MC_PARAM_STR, "f32", "element type"},
    {"m", MC_PARAM_INT, "1", "rows"},
    {"alpha", MC_PARAM_NUM, "1", "scale"},
};

static mc_status toy_validate(const mc_case *c, mc_err *err)
{
    if (mc_case_int(c, 1) < 1)
        return mc_err_set(err, MC_ERR_CONFIG, "m must be >= 1");
    return MC_OK;
}

static const mc_op toy = {.name = "toy", .params = toy_params, .n_params = 3, .validate = toy_validate};

typedef struct {
    const char *dtype, *m, *alpha;
    const char *key;
} key_row;

static void test_keys(void **state)
{
    (void)state;
    static const key_row rows[] = {
        {NULL, NULL, NULL, "toy()"},
        {"f16", NULL, NULL, "toy(dtype=f16)"},
        {NULL, "7", "0.5", "toy(m=7,alpha=0.5)"},
        {"f32", "1", "1", "toy()"},           /* explicit defaults are still defaults */
        {NULL, NULL, "0.1", "toy(alpha=0.1)"}, /* shortest round-trip form */
        {NULL, NULL, "1e-30", "toy(alpha=1e-30)"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        mc_case c;
        mc_err err = {0};
        assert_int_equal(mc_case_init(&c, &toy, &err), MC_OK);
        if (rows[i].dtype)
            assert_int_equal(mc_case_set(&c, "dtype", rows[i].dtype, &err), MC_OK);
        if (rows[i].m)
            assert_int_equal(mc_case_set(&c, "m", rows[i].m, &err), MC_OK);
        if (rows[i].alpha)
            assert_int_equal(mc_case_set(&c, "alpha", rows[i].alpha, &err), MC_OK);
        assert_int_equal(mc_case_finish(&c, &err), MC_OK);
        assert_string_equal(c.key, rows[i].key);
        assert_true(c.key_hash == mc_hash_str(rows[i].key));
    }
}

static void test_bad_values_name_the_parameter(void **state)
{
    (void)state;
    mc_case c;
    mc_err err = {0};
    mc_case_init(&c, &toy, &err);
    assert_int_equal(mc_case_set(&c, "m", "seven", &err), MC_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "'m'"));
    assert_int_equal(mc_case_set(&c, "alpha", "nan", &err), MC_ERR_CONFIG);
    assert_int_equal(mc_case_set(&c, "nope", "1", &err), MC_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "nope"));
    assert_int_equal(mc_case_set(&c, "dtype", "f(16)", &err), MC_ERR_CONFIG);
    assert_int_equal(mc_case_set(&c, "m", "0", &err), MC_OK);
    assert_int_equal(mc_case_finish(&c, &err), MC_ERR_CONFIG); /* validate hook runs */
}

static void test_hash_is_fnv1a(void **state)
{
    (void)state;
    /* published FNV-1a 64-bit test vectors */
    assert_true(mc_hash_str("") == 0xcbf29ce484222325ull);
    assert_true(mc_hash_str("a") == 0xaf63dc4c8601ec8cull);
    assert_true(mc_hash_str("foobar") == 0x85944171f73967e8ull);
}

static void test_list_drops_duplicates_and_keeps_order(void **state)
{
    (void)state;
    mc_case_list l = {0};
    mc_err err = {0};
    const char *ms[] = {"3", "1", "3", "2", "1"};
    for (int i = 0; i < 5; i++) {
        mc_case c;
        mc_case_init(&c, &toy, &err);
        mc_case_set(&c, "m", ms[i], &err);
        mc_case_finish(&c, &err);
        assert_int_equal(mc_case_list_add(&l, &c, &err), MC_OK);
    }
    assert_int_equal(l.count, 3);
    assert_int_equal(l.duplicates, 2);
    assert_string_equal(l.items[0].key, "toy(m=3)");
    assert_string_equal(l.items[1].key, "toy()");
    assert_string_equal(l.items[2].key, "toy(m=2)");
    mc_case_list_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_bad_values_name_the_parameter),
        cmocka_unit_test(test_hash_is_fnv1a),
        cmocka_unit_test(test_list_drops_duplicates_and_keeps_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
