/* tests/test_codehash.c: variant code hashes.
 * Focus: hashes are stable across calls and processes (another load address), differ between
 * functions, follow the build flags, take a variant's identity setting (MC_SLOWDOWN) into account
 * only when it is set, and never pretend: no function or a stripped binary means "unhashable"; one
 * form of identity (16 hex digits) on every backend, so nothing else passes for real code.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/codehash.h"
#include "engine/registry.h"

static bool is_hex(const char *s, size_t len)
{
    if (strlen(s) != len)
        return false;
    return strspn(s, "0123456789abcdef") == len;
}

/* Two toy kernels in this file, and a third that differs by one constant. */
static mc_status toy_run_a(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    (void)args;
    (void)err;
    kc->threads = kc->threads * 3 + 1;
    return MC_OK;
}

static mc_status toy_run_b(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    (void)args;
    (void)err;
    kc->threads = kc->threads * 5 + 2;
    return MC_OK;
}

static void test_code_hash(void **state)
{
    (void)state;
    const mc_variant a = {.op = MC_OP_GEMM, .backend = "cpu", .name = "toy_a", .run = toy_run_a};
    const mc_variant b = {.op = MC_OP_GEMM, .backend = "cpu", .name = "toy_b", .run = toy_run_b};
    const mc_variant b_by_code = {.name = "toy_b2", .run = toy_run_a, .code = (const void *)toy_run_b};
    char ha[MC_HASH_LEN], ha2[MC_HASH_LEN], hb[MC_HASH_LEN], hb2[MC_HASH_LEN];
    mc_variant_code_hash(&a, ha);
    mc_variant_code_hash(&a, ha2);
    mc_variant_code_hash(&b, hb);
    mc_variant_code_hash(&b_by_code, hb2);
    assert_true(is_hex(ha, 16));
    assert_string_equal(ha, ha2);      /* stable */
    assert_string_not_equal(ha, hb);   /* different code */
    assert_string_equal(hb, hb2);      /* .code wins over .run */

    /* not a function start: no pretending */
    static const int not_code = 42;
    const mc_variant bogus = {.name = "bogus", .code = &not_code};
    const mc_variant none = {.name = "none"};
    mc_variant_code_hash(&bogus, ha);
    assert_string_equal(ha, "unhashable");
    mc_variant_code_hash(&none, ha);
    assert_string_equal(ha, "unhashable");

    /* every registered variant gets a real hash in this (unstripped) test binary */
    int count = 0;
    const mc_variant *const *all = mc_registry_variants(true, &count);
    for (int i = 0; i < count; i++) {
        char h[MC_HASH_LEN];
        mc_variant_code_hash(all[i], h);
        if (!is_hex(h, 16))
            fail_msg("variant %s: code hash '%s'", all[i]->name, h);
    }
}

/* A copy of this very binary, run as a child, prints the hash of toy_a: once as it is (another
 * process, another load address: same hash) and once stripped of its symbol table ("unhashable"). */
static void child_hash(const char *exe, char *out, size_t cap)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "MC_PRINT_TOY_HASH=1 '%s'", exe);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    out[0] = '\0';
    if (!fgets(out, (int)cap, p))
        out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    pclose(p);
}

static void test_code_hash_other_process_and_stripped(void **state)
{
    (void)state;
    const mc_variant a = {.name = "toy_a", .run = toy_run_a};
    char here[MC_HASH_LEN], there[64], exe[512], stripped[600], cmd[1400];
    mc_variant_code_hash(&a, here);
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(n > 0);
    exe[n] = '\0';
    child_hash(exe, there, sizeof there);
    assert_string_equal(there, here);
    snprintf(stripped, sizeof stripped, "%s.stripped", exe);
    snprintf(cmd, sizeof cmd, "strip -o '%s' '%s' 2>/dev/null", stripped, exe);
    if (system(cmd) != 0)
        skip(); /* no binutils here */
    child_hash(stripped, there, sizeof there);
    unlink(stripped);
    assert_string_equal(there, "unhashable");
}

/* The identity setting joins the hash only when set: unset and empty are the default behaviour. */
static void test_code_hash_identity_env(void **state)
{
    (void)state;
    const mc_variant plain = {.name = "toy_a", .run = toy_run_a};
    const mc_variant tunable = {.name = "toy_a", .run = toy_run_a, .identity_env = "MC_TEST_TOY_SETTING"};
    char h_plain[MC_HASH_LEN], h_unset[MC_HASH_LEN], h_empty[MC_HASH_LEN], h_one[MC_HASH_LEN], h_two[MC_HASH_LEN],
        h_one_again[MC_HASH_LEN];
    unsetenv("MC_TEST_TOY_SETTING");
    mc_variant_code_hash(&plain, h_plain);
    mc_variant_code_hash(&tunable, h_unset);
    setenv("MC_TEST_TOY_SETTING", "", 1);
    mc_variant_code_hash(&tunable, h_empty);
    setenv("MC_TEST_TOY_SETTING", "1.10", 1);
    mc_variant_code_hash(&tunable, h_one);
    mc_variant_code_hash(&tunable, h_one_again);
    setenv("MC_TEST_TOY_SETTING", "1.30", 1);
    mc_variant_code_hash(&tunable, h_two);
    unsetenv("MC_TEST_TOY_SETTING");
    assert_true(is_hex(h_plain, 16));
    assert_string_equal(h_unset, h_plain);
    assert_string_equal(h_empty, h_plain);
    assert_string_not_equal(h_one, h_plain);
    assert_string_equal(h_one, h_one_again);
    assert_string_not_equal(h_one, h_two);
}

/* The flags a build reports: CMake's real ones when it passes them. */
/* Only 16 lowercase hex digits are an identity: the OpenCL backend's old "src:"/"bin:" form was
 * cut to 16 characters downstream and never compared equal (issue 12, items 1 and 2). */
static void test_code_hash_is_real(void **state)
{
    (void)state;
    static const struct {
        const char *hash;
        bool real;
    } table[] = {
        {"0123456789abcdef", true},  {"e7c18931c8544e3a", true},     {"src:1caaa8589ab62e30", false},
        {"src:1caaa8589ab", false},  {"bin:0123456789ab", false},    {"unhashable", false},
        {"", false},                 {"0123456789ABCDEF", false},    {"0123456789abcdef0", false},
        {"0123456789abcde", false},  {"0123456789abcdeg", false},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (mc_code_hash_is_real(table[i].hash) != table[i].real)
            fail_msg("'%s' should %sbe a real code hash", table[i].hash, table[i].real ? "" : "not ");
    assert_false(mc_code_hash_is_real(NULL));
    assert_false(mc_code_hash_is_real(MC_HASH_UNHASHABLE));
}

static void test_build_flags(void **state)
{
    (void)state;
    char flags[256];
    mc_build_flags(flags, sizeof flags);
#ifdef MC_C_FLAGS
    assert_string_equal(flags, MC_C_FLAGS);
#else
    assert_true(flags[0] == '-');
#endif
    char tiny[4];
    mc_build_flags(tiny, sizeof tiny);
    assert_true(strlen(tiny) <= 3);
}

int main(void)
{
    if (getenv("MC_PRINT_TOY_HASH")) {
        const mc_variant a = {.name = "toy_a", .run = toy_run_a};
        char h[MC_HASH_LEN];
        mc_variant_code_hash(&a, h);
        printf("%s\n", h);
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_code_hash),
        cmocka_unit_test(test_code_hash_other_process_and_stripped),
        cmocka_unit_test(test_code_hash_identity_env),
        cmocka_unit_test(test_code_hash_is_real),
        cmocka_unit_test(test_build_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
