/* tests/test_runinfo.c: run metadata, machine fingerprint and variant code hashes.
 * Focus: git facts match what git itself says (and degrade to "unknown" outside a checkout), the
 * fingerprint is stable and sensitive to each field, and code hashes are stable across calls and
 * processes (another load address), differ between functions, and never pretend: no function or a
 * stripped binary means "unhashable".
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness/registry.h"
#include "harness/runinfo.h"

static bool is_hex(const char *s, size_t len)
{
    if (strlen(s) != len)
        return false;
    return strspn(s, "0123456789abcdef") == len;
}

/* git's own answer, for comparison */
static void git_says(const char *args, char *out, size_t cap)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "git -C '%s' %s 2>/dev/null", getenv("MC_SOURCE_DIR"), args);
    FILE *p = popen(cmd, "r");
    out[0] = '\0';
    if (p && fgets(out, (int)cap, p))
        out[strcspn(out, "\n")] = '\0';
    if (p)
        pclose(p);
}

static void test_collect_in_checkout(void **state)
{
    (void)state;
    if (!getenv("MC_SOURCE_DIR"))
        setenv("MC_SOURCE_DIR", MC_SOURCE_DIR, 1);
    char head[64], parent[64];
    git_says("rev-parse HEAD", head, sizeof head);
    if (!is_hex(head, 40))
        skip(); /* a source tarball, not a checkout */
    git_says("rev-parse HEAD^1", parent, sizeof parent);
    char *argv[] = {"metallic-check", "run", "--filter", "gemm(dtype=f16*", NULL};
    mc_run_info a, b;
    mc_err err = {0};
    assert_int_equal(mc_runinfo_collect(4, argv, "quick", NULL, "cpu: test", &a, &err), MC_OK);
    assert_string_equal(a.commit, head);
    assert_string_equal(a.parent, is_hex(parent, 40) ? parent : "");
    assert_string_equal(a.tier, "quick");
    assert_string_equal(a.tool_version, MC_VERSION);
    assert_string_equal(a.command_line, "metallic-check run --filter 'gemm(dtype=f16*'");
    assert_string_equal(a.mode, MC_RUN_INDEPENDENT);
    assert_true(is_hex(a.uuid, 32));
    assert_int_equal(strlen(a.start_time), 20); /* 2024-05-01T12:00:00Z */
    assert_int_equal(a.start_time[10], 'T');
    assert_int_equal(a.end_time[0], '\0');

    assert_int_equal(mc_runinfo_collect(4, argv, "quick", NULL, "cpu: test", &b, &err), MC_OK);
    assert_string_not_equal(a.uuid, b.uuid);
    assert_string_equal(a.machine.fingerprint, b.machine.fingerprint);

    /* an override that git can resolve becomes the full SHA, with its own parent */
    if (is_hex(parent, 40)) {
        char short_parent[8];
        snprintf(short_parent, sizeof short_parent, "%.7s", parent);
        assert_int_equal(mc_runinfo_collect(0, NULL, "quick", short_parent, NULL, &b, &err), MC_OK);
        assert_string_equal(b.commit, parent);
        assert_false(b.dirty); /* only the checked-out commit can be dirty */
    }
    /* one git cannot resolve is kept as given */
    assert_int_equal(mc_runinfo_collect(0, NULL, "quick", "not-a-commit", NULL, &b, &err), MC_OK);
    assert_string_equal(b.commit, "not-a-commit");
}

static void test_collect_outside_git(void **state)
{
    (void)state;
    char dir[] = "/tmp/mc_runinfo_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *saved = getenv("MC_SOURCE_DIR") ? strdup(getenv("MC_SOURCE_DIR")) : NULL;
    setenv("MC_SOURCE_DIR", dir, 1);
    setenv("GIT_CEILING_DIRECTORIES", "/tmp", 1); /* git must not find a repository above it */
    mc_run_info info;
    mc_err err = {0};
    assert_int_equal(mc_runinfo_collect(0, NULL, "perf", NULL, NULL, &info, &err), MC_OK);
    assert_string_equal(info.commit, "unknown");
    assert_false(info.dirty);
    assert_string_equal(info.parent, "");
    assert_string_equal(info.branch, "");
    unsetenv("GIT_CEILING_DIRECTORIES");
    if (saved)
        setenv("MC_SOURCE_DIR", saved, 1);
    free(saved);
    rmdir(dir);
}

static void test_machine_fingerprint(void **state)
{
    (void)state;
    mc_machine m, n;
    mc_machine_collect("cpu: x86", &m);
    assert_true(m.cores > 0);
    assert_true(m.os[0] != '\0');
    assert_true(m.compiler[0] != '\0');
    assert_true(is_hex(m.fingerprint, 16));
    mc_machine_collect("cpu: x86", &n);
    assert_string_equal(m.fingerprint, n.fingerprint);
    /* every field counts, and field boundaries count */
    n = m;
    snprintf(n.devices, sizeof n.devices, "cpu: x86; cuda: H100");
    mc_machine_fingerprint(&n);
    assert_string_not_equal(m.fingerprint, n.fingerprint);
    n = m;
    n.cores++;
    mc_machine_fingerprint(&n);
    assert_string_not_equal(m.fingerprint, n.fingerprint);
    mc_machine a = {0}, b = {0};
    snprintf(a.cpu_model, sizeof a.cpu_model, "ab");
    snprintf(a.cpu_flags, sizeof a.cpu_flags, "c");
    snprintf(b.cpu_model, sizeof b.cpu_model, "a");
    snprintf(b.cpu_flags, sizeof b.cpu_flags, "bc");
    mc_machine_fingerprint(&a);
    mc_machine_fingerprint(&b);
    assert_string_not_equal(a.fingerprint, b.fingerprint);
}

static void test_env_sample(void **state)
{
    (void)state;
    mc_env_sample e;
    mc_env_sample_now(&e);
    assert_true(e.loadavg >= 0); /* Linux always has getloadavg */
    assert_true(e.cpu_mhz >= 0);
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
        cmocka_unit_test(test_collect_in_checkout), cmocka_unit_test(test_collect_outside_git),
        cmocka_unit_test(test_machine_fingerprint), cmocka_unit_test(test_env_sample),
        cmocka_unit_test(test_code_hash), cmocka_unit_test(test_code_hash_other_process_and_stripped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
