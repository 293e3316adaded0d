/* tests/test_runinfo.c: run metadata and the machine fingerprint.
 * Focus: git facts match what git itself says (and degrade to "unknown" outside a checkout), and the
 * fingerprint is stable and sensitive to each field (code hashes: tests/test_codehash.c).
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/runinfo.h"

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

/* The tool's own outputs in the work tree (its database with WAL files, the report that `check`
 * writes, their temporaries) do not make a checkout dirty; any other file does. */
static void test_own_outputs_are_not_dirt(void **state)
{
    (void)state;
    char dir[] = "/tmp/mc_runinfo_dirty_XXXXXX", cmd[512];
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "cd '%s' && git init -q && echo x >tracked && git add tracked && "
             "git -c user.name=t -c user.email=t@t commit -q -m one && mkdir sub && "
             "touch metallic-check.db metallic-check.db-wal metallic-check.db-shm metallic-check-report.html "
             "metallic-check-report.html.tmp.123 sub/metallic-check.db",
             dir);
    if (system(cmd) != 0)
        skip(); /* no git */
    char *saved = getenv("MC_SOURCE_DIR") ? strdup(getenv("MC_SOURCE_DIR")) : NULL;
    setenv("MC_SOURCE_DIR", dir, 1);
    mc_run_info info;
    mc_err err = {0};
    assert_int_equal(mc_runinfo_collect(0, NULL, "precommit", NULL, NULL, &info, &err), MC_OK);
    assert_true(is_hex(info.commit, 40));
    assert_false(info.dirty);
    snprintf(cmd, sizeof cmd, "touch '%s/notes.txt'", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(mc_runinfo_collect(0, NULL, "precommit", NULL, NULL, &info, &err), MC_OK);
    assert_true(info.dirty); /* an untracked file of the user's still counts */
    snprintf(cmd, sizeof cmd, "rm '%s/notes.txt' && echo y >>'%s/tracked'", dir, dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(mc_runinfo_collect(0, NULL, "precommit", NULL, NULL, &info, &err), MC_OK);
    assert_true(info.dirty);
    if (saved)
        setenv("MC_SOURCE_DIR", saved, 1);
    free(saved);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
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
    char flags[256];
    mc_build_flags(flags, sizeof flags); /* the build's real flags (MC_C_FLAGS from CMake) */
    assert_string_equal(m.cflags, flags);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collect_in_checkout), cmocka_unit_test(test_collect_outside_git),
        cmocka_unit_test(test_own_outputs_are_not_dirt),
        cmocka_unit_test(test_machine_fingerprint), cmocka_unit_test(test_env_sample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
