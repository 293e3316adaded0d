/* tests/test_pool.c: worker isolation.
 * Focus: a variant that segfaults, one that hangs and one that writes past its output each cost
 * exactly their own result (crash, timeout, guard); the hostile kernels (testonly_hostile.c) cannot
 * damage an open database, hang the pool, leave a process behind, take unbounded memory, or print
 * anywhere but into their own result's captured output.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "db/store.h"
#include "core/op.h"
#include "engine/isolate.h"
#include "engine/pool.h"
#include "engine/registry.h"

#define MAX_ITEMS 16

typedef struct collected {
    mc_result res[MAX_ITEMS];
    char output[MAX_ITEMS][MC_POOL_OUTPUT_TAIL];
    int n;
    int seen;
} collected;

static void on_result(void *user, int item, const mc_result *res, const char *output, const void *extra, size_t len)
{
    collected *c = user;
    assert_true(item >= 0 && item < c->n);
    c->res[item] = *res;
    snprintf(c->output[item], sizeof c->output[item], "%s", output);
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

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Runs gemm_scalar, the named variant, then gemm_scalar again, on one case, in one worker: the
 * hostile one in the middle, so the run must go on past it. Returns the wall time. */
static double run_between_scalars(const char *name, const mc_pool_cfg *cfg, collected *col)
{
    const mc_variant *vs[] = {mc_registry_find("gemm_scalar"), mc_registry_find(name)};
    assert_non_null(vs[0]);
    assert_non_null(vs[1]);
    mc_case_list cases = {0};
    add_case(&cases, "3");
    add_case(&cases, "4");
    mc_work_item items[] = {{0, 0}, {0, 1}, {1, 0}};
    memset(col, 0, sizeof *col);
    col->n = 3;
    mc_pool_callbacks cb = {.user = col, .on_result = on_result};
    mc_err err = {0};
    alarm(60); /* a hang fails the test instead of holding ctest until its own timeout */
    double t0 = now_s();
    assert_int_equal(mc_pool_run(cfg, cases.items, vs, items, 3, &cb, &err), MC_OK);
    double wall = now_s() - t0;
    alarm(0);
    assert_int_equal(col->seen, 3);
    assert_int_equal(col->res[0].kind, MC_RESULT_PASS);
    assert_int_equal(col->res[2].kind, MC_RESULT_PASS);
    mc_case_list_free(&cases);
    return wall;
}

static const mc_pool_cfg small_cfg = {.jobs = 1, .timeout_s = 1.0, .mem_limit_mib = 512,
                                      .runner = {.guard_bytes = 256, .threads = 1}};

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
    static collected col;
    memset(&col, 0, sizeof col);
    col.n = n;
    mc_pool_cfg cfg = {.jobs = 2, .timeout_s = 1.0, .runner = {.guard_bytes = 256, .threads = 1, .repeat_check = true}};
    mc_pool_callbacks cb = {.user = &col, .on_result = on_result};
    mc_err err = {0};
    assert_int_equal(mc_pool_run(&cfg, cases.items, vs, items, n, &cb, &err), MC_OK);
    assert_int_equal(col.seen, n);
    for (int i = 0; i < n; i++) {
        mc_result_kind want[] = {MC_RESULT_PASS, MC_RESULT_CRASH, MC_RESULT_TIMEOUT, MC_RESULT_FAIL_GUARD};
        if (col.res[i].kind != want[items[i].variant_index])
            print_error("item %d (%s): %s: %s\n", i, vs[items[i].variant_index]->name,
                        mc_result_kind_name(col.res[i].kind), col.res[i].message);
        assert_int_equal(col.res[i].kind, want[items[i].variant_index]);
        assert_int_equal(col.res[i].case_index, items[i].case_index);
    }
    assert_int_equal(col.res[1].signal, 11); /* SIGSEGV */
    mc_case_list_free(&cases);
}

/* Item 1 of issue 13: a kernel that writes junk to every descriptor it can, while the store is
 * open in the parent, must leave the database whole, earlier rows included. */
static void test_kernel_cannot_reach_the_open_database(void **state)
{
    (void)state;
    char dir[] = "/tmp/mc_pool_XXXXXX", path[64], text[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/results.db", dir);
    mc_store *s = NULL;
    mc_err err = {0};
    assert_int_equal(mc_store_open(path, &s, &err), MC_OK);
    assert_int_equal(mc_store_query_text(s, "CREATE TABLE earlier (x)", text, sizeof text, &err), MC_OK);
    assert_int_equal(mc_store_query_text(s, "INSERT INTO earlier VALUES (42)", text, sizeof text, &err), MC_OK);
    static collected col;
    run_between_scalars("gemm_testonly_fdwrite", &small_cfg, &col);
    assert_int_equal(col.res[1].kind, MC_RESULT_CRASH); /* its junk reached its own result pipe */
    assert_non_null(strstr(col.output[1], "hostile fdwrite junk")); /* and its stdout, captured */
    mc_store_close(s);
    s = NULL;
    if (mc_store_open(path, &s, &err) != MC_OK)
        fail_msg("the database did not survive: %s", err.msg);
    assert_int_equal(mc_store_query_text(s, "PRAGMA integrity_check", text, sizeof text, &err), MC_OK);
    assert_string_equal(text, "ok");
    assert_int_equal(mc_store_query_text(s, "SELECT x FROM earlier", text, sizeof text, &err), MC_OK);
    assert_string_equal(text, "42");
    mc_store_close(s);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Item 2: EOF on the result pipe while the worker lives (it closed everything, then spins) ends
 * in a timeout within the case timeout and a grace, not in a wait that never returns. */
static void test_closed_pipes_then_spin_times_out(void **state)
{
    (void)state;
    static collected col;
    double wall = run_between_scalars("gemm_testonly_closehang", &small_cfg, &col);
    assert_int_equal(col.res[1].kind, MC_RESULT_TIMEOUT);
    assert_true(wall < 10.0);
}

/* SIGSTOP: only the timeout can end it; the run goes on. */
static void test_stopped_worker_times_out(void **state)
{
    (void)state;
    static collected col;
    double wall = run_between_scalars("gemm_testonly_sigstop", &small_cfg, &col);
    assert_int_equal(col.res[1].kind, MC_RESULT_TIMEOUT);
    assert_true(wall < 10.0);
}

/* exit(0) and _exit from a thread mid-case are crashes that say how the worker ended. */
static void test_exits_mid_case_are_crashes(void **state)
{
    (void)state;
    static collected col;
    run_between_scalars("gemm_testonly_exit", &small_cfg, &col);
    assert_int_equal(col.res[1].kind, MC_RESULT_CRASH);
    assert_non_null(strstr(col.res[1].message, "status 0"));
    run_between_scalars("gemm_testonly_thread_exit", &small_cfg, &col);
    assert_int_equal(col.res[1].kind, MC_RESULT_CRASH);
    assert_non_null(strstr(col.res[1].message, "status 7"));
}

/* Item 5: what a kernel prints is its result's output, not the harness's; others' outputs stay empty. */
static void test_output_is_captured_per_case(void **state)
{
    (void)state;
    static collected col;
    run_between_scalars("gemm_testonly_print", &small_cfg, &col);
    assert_int_equal(col.res[1].kind, MC_RESULT_PASS);
    assert_non_null(strstr(col.output[1], "hostile-stdout-marker"));
    assert_non_null(strstr(col.output[1], "hostile-stderr-marker"));
    assert_string_equal(col.output[0], "");
    assert_string_equal(col.output[2], "");
}

/* True when pid is gone (or a zombie nobody has reaped yet). */
static int process_gone(long pid)
{
    char path[64], stat[256];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *close_paren = strrchr(stat, ')');
    return close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z';
}

/* Item 6: a child a kernel forks and leaves behind is killed after its case, which fails for it
 * (where the kernel lists children); else it dies with the worker's process group. */
static void test_forked_child_does_not_outlive_the_run(void **state)
{
    (void)state;
    char pidfile[] = "/tmp/mc_pool_pid_XXXXXX";
    int fd = mkstemp(pidfile);
    assert_true(fd >= 0);
    close(fd);
    setenv("MC_TESTONLY_PIDFILE", pidfile, 1);
    static collected col;
    run_between_scalars("gemm_testonly_fork", &small_cfg, &col);
    unsetenv("MC_TESTONLY_PIDFILE");
    char children[64];
    snprintf(children, sizeof children, "/proc/%ld/task/%ld/children", (long)getpid(), (long)getpid());
    if (access(children, R_OK) == 0) { /* the kernel lists children (CONFIG_PROC_CHILDREN) */
        assert_int_equal(col.res[1].kind, MC_RESULT_ERROR); /* right answer, but it left a process running */
        assert_non_null(strstr(col.res[1].message, "left 1 process running"));
    } else {
        assert_int_equal(col.res[1].kind, MC_RESULT_PASS); /* unseen: only the group kill gets it */
    }
    FILE *f = fopen(pidfile, "r");
    assert_non_null(f);
    long pid = 0;
    assert_int_equal(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    unlink(pidfile);
    assert_true(pid > 0);
    int gone = 0;
    for (int i = 0; i < 200 && !gone; i++) { /* init reaps it: give it a moment */
        gone = process_gone(pid);
        if (!gone)
            usleep(10000);
    }
    assert_true(gone);
}

/* Item 6: a malloc bomb meets the address-space limit: a crash, and the run goes on. */
/* The default address-space limit: every worker at its limit still leaves half the machine (at
 * least 1 GiB a worker), so the default can never let the cases of one run take it all. */
static void test_default_mem_limit_leaves_half_the_machine(void **state)
{
    (void)state;
    double mib = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) / (1 << 20);
    static const int jobs[] = {1, 2, 3, 8};
    for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++) {
        long limit = mc_isolate_default_mem_limit_mib(jobs[i]);
        assert_true(limit == 1024 || (double)limit * jobs[i] <= mib / 2 + 1);
        assert_true(limit >= 1024);
    }
}

static void test_malloc_bomb_is_bounded(void **state)
{
    (void)state;
    static collected col;
    mc_pool_cfg cfg = small_cfg;
    cfg.mem_limit_mib = 128;
    cfg.timeout_s = 20; /* the limit, not the clock, must end it */
    run_between_scalars("gemm_testonly_mallocbomb", &cfg, &col);
    if (col.res[1].kind != MC_RESULT_CRASH)
        print_error("%s: %s\n", mc_result_kind_name(col.res[1].kind), col.res[1].message);
    assert_int_equal(col.res[1].kind, MC_RESULT_CRASH);
    /* the NULL it got faults; in a sanitizer build the sanitizer's allocator stops it first */
    assert_true(strstr(col.res[1].message, "signal 11") || strstr(col.res[1].message, "sanitizer"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_hang_and_overflow_are_isolated),
        cmocka_unit_test(test_kernel_cannot_reach_the_open_database),
        cmocka_unit_test(test_closed_pipes_then_spin_times_out),
        cmocka_unit_test(test_stopped_worker_times_out),
        cmocka_unit_test(test_exits_mid_case_are_crashes),
        cmocka_unit_test(test_output_is_captured_per_case),
        cmocka_unit_test(test_forked_child_does_not_outlive_the_run),
        cmocka_unit_test(test_default_mem_limit_leaves_half_the_machine),
        cmocka_unit_test(test_malloc_bomb_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
