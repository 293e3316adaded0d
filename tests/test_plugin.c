/* tests/test_plugin.c: loading plugins (engine/plugin*).
 * Focus: each broken plugin of tests/plugins (no file, no entry point, a wrong ABI major, an unknown
 * op, a crashing and a hanging init, a name clash with a built-in and with another plugin) is refused
 * with its path and reason and adds nothing; a good one joins the registry after the built-ins and
 * before the hidden variants, once however often it is named, with its code hash; and its crashing
 * kernel costs one result, the run going on with the next variant; its gate that always says no on a
 * CPU with the features it requires fails the coverage rule; a plugin that no longer loads in the
 * probe's child leaves its variants unavailable, with the reason.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/codehash.h"
#include "core/op.h"
#include "engine/cpu_features.h"
#include "engine/plugin.h"
#include "engine/probe.h"
#include "engine/registry.h"
#include "engine/session.h"

static const char *plugin_path(const char *kind, char buf[1024])
{
    snprintf(buf, 1024, "%s/tp_%s.so", MC_TEST_PLUGIN_DIR, kind);
    return buf;
}

static int reset(void **state)
{
    (void)state;
    mc_plugins_reset();
    return 0;
}

/* softmax(cols=8) for the given variants, in one worker, as `run --no-store --quiet` would. */
static void run_one_case(const char *variants, bool coverage, mc_session *s)
{
    mc_session_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.single_key = "softmax(cols=8)";
    cfg.sel.variant_glob = variants;
    cfg.pool.jobs = 1;
    cfg.pool.timeout_s = 60;
    cfg.pool.runner.guard_bytes = 4096;
    cfg.pool.runner.threads = 1;
    cfg.coverage_check = coverage;
    cfg.quiet = true;
    mc_err err = {0};
    mc_status st = mc_session_prepare(&cfg, s, &err);
    if (!st)
        st = mc_session_execute(&cfg, s, &err);
    if (st)
        fail_msg("session: %s", err.msg);
}

static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *kind;
        double timeout_s;
        const char *in_message;
    } rows[] = {
        {"missing", 5, "No such file or directory"},
        {"no_entry", 5, "no entry point mc_plugin_init"},
        {"bad_abi", 5, "built for plugin ABI 99.2; this metallic-check speaks 1.0"},
        {"unknown_op", 5, "variant 'tp_softmax_segv' names op 77, which this metallic-check does not know"},
        {"crash_init", 5, "crashed while loading (signal 11"},
        {"hang_init", 1, "did not finish within 1 s"},
        {"clash", 5, "variant 'softmax_scalar' clashes with the built-in variant of that name"},
    };
    int n_before;
    mc_registry_variants(true, &n_before);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char path[1024];
        const char *p = plugin_path(rows[i].kind, path);
        mc_err err = {0};
        assert_int_equal(mc_plugins_load(&p, 1, rows[i].timeout_s, &err), MC_ERR_CONFIG);
        if (!strstr(err.msg, rows[i].in_message) || !strstr(err.msg, path))
            fail_msg("%s: '%s' lacks '%s' or the path", rows[i].kind, err.msg, rows[i].in_message);
        int n;
        mc_registry_variants(true, &n);
        assert_int_equal(n, n_before);
    }
}

static void test_registry_merge(void **state)
{
    (void)state;
    int n_visible, n_all;
    mc_registry_variants(false, &n_visible);
    mc_registry_variants(true, &n_all);
    char path[1024], twin[1024];
    const char *paths[] = {plugin_path("crash_kernel", path), path}; /* named twice: loaded once */
    mc_err err = {0};
    assert_int_equal(mc_plugins_load(paths, 2, 5, &err), MC_OK);
    const mc_variant *v = mc_registry_find("tp_softmax_segv");
    assert_non_null(v);
    assert_string_equal(v->backend, "cpu");
    assert_int_equal(v->op, MC_OP_SOFTMAX);
    assert_string_equal(mc_plugin_path_of(v), path);
    assert_null(mc_plugin_path_of(mc_registry_find("softmax_scalar")));
    int n;
    const mc_variant *const *visible = mc_registry_variants(false, &n);
    assert_int_equal(n, n_visible + 1);
    assert_ptr_equal(visible[n_visible], v); /* after the built-ins */
    const mc_variant *const *all = mc_registry_variants(true, &n);
    assert_int_equal(n, n_all + 1);
    assert_ptr_equal(all[n_visible], v); /* before the hidden ones */
    char hash[MC_HASH_LEN];
    mc_variant_code_hash(v, hash);
    assert_true(mc_code_hash_is_real(hash)); /* the plugin's machine code, hashed in its child */

    /* a second plugin with the same variant name: refused, naming both, and nothing changes */
    const char *p2 = plugin_path("twin", twin);
    assert_int_equal(mc_plugins_load(&p2, 1, 5, &err), MC_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "clashes with the one plugin"));
    assert_non_null(strstr(err.msg, path));
    mc_registry_variants(true, &n);
    assert_int_equal(n, n_all + 1);
    assert_string_equal(mc_plugin_path_of(mc_registry_find("tp_softmax_segv")), path);
}

/* The plugin's kernel dies on SIGSEGV in a worker: that result is a crash with the signal, and the
 * built-in variant of the same case still runs and passes. */
static void test_crashing_kernel_is_isolated(void **state)
{
    (void)state;
    char path[1024];
    const char *p = plugin_path("crash_kernel", path);
    mc_err err = {0};
    assert_int_equal(mc_plugins_load(&p, 1, 5, &err), MC_OK);
    mc_session s;
    run_one_case("tp_softmax_segv,softmax_scalar", false, &s);
    assert_int_equal(s.n_items, 2);
    int crashes = 0, passes = 0;
    for (int i = 0; i < s.n_items; i++) {
        const mc_variant *v = s.variants[s.items[i].variant_index];
        if (strcmp(v->name, "tp_softmax_segv") == 0) {
            crashes += s.results[i].kind == MC_RESULT_CRASH;
        } else {
            passes += s.results[i].kind == MC_RESULT_PASS;
        }
    }
    assert_int_equal(crashes, 1);
    assert_int_equal(passes, 1);
    assert_int_equal(mc_session_exit_code(&s), 1);
    mc_session_free(&s);
}

/* A plugin variant whose probe says no on a CPU that has every feature it requires fails the run's
 * coverage rule, as a built-in's gate would. */
static void test_gate_that_always_says_no(void **state)
{
    (void)state;
    char missing[64];
    if (!mc_cpu_has_all("sse2", missing, sizeof missing))
        skip(); /* not an x86 CPU: the plugin's requires list means nothing here */
    char path[1024];
    const char *p = plugin_path("gate", path);
    mc_err err = {0};
    assert_int_equal(mc_plugins_load(&p, 1, 5, &err), MC_OK);
    mc_session s;
    run_one_case("tp_softmax_gated,softmax_scalar", true, &s);
    assert_int_equal(s.n_unavailable, 1);
    assert_int_equal(s.n_coverage, 1);
    assert_int_equal(s.coverage[0].kind, MC_RESULT_FAIL_COVERAGE);
    assert_string_equal(s.coverage[0].ran, "tp_softmax_gated");
    assert_non_null(strstr(s.coverage[0].message, "the gate is shut"));
    assert_int_equal(mc_session_exit_code(&s), 1);
    mc_session_free(&s);
}

/* A plugin that loaded in the parent's registration child but refuses in the probe's child: its
 * variants are not "runs here" (the probe reports the failure for each), never a silent yes. */
static void test_probe_when_the_plugin_no_longer_loads(void **state)
{
    (void)state;
    char path[1024];
    const char *p = plugin_path("fickle", path);
    mc_err err = {0};
    assert_int_equal(mc_plugins_load(&p, 1, 5, &err), MC_OK);
    const mc_variant *v = mc_registry_find("tp_softmax_segv");
    assert_non_null(v);
    setenv("TP_REFUSE", "1", 1);
    mc_probe_report pr;
    mc_status st = mc_probe_collect(&v, 1, &pr, &err);
    unsetenv("TP_REFUSE");
    assert_int_equal(st, MC_OK);
    if (!strstr(pr.reason[0], "returned 7"))
        fail_msg("probe reason '%s' does not say the plugin refused", pr.reason[0]);
    mc_probe_free(&pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_refusals, reset),
        cmocka_unit_test_setup(test_registry_merge, reset),
        cmocka_unit_test_setup(test_crashing_kernel_is_isolated, reset),
        cmocka_unit_test_setup(test_gate_that_always_says_no, reset),
        cmocka_unit_test_setup(test_probe_when_the_plugin_no_longer_loads, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
