/* tests/coverage_flush.c: coverage builds only (MC_COVERAGE, scripts/kernel-coverage). Writes the gcov
 * counters of each (case, variant) run under $MC_COVERAGE_DIR/<variant>, so every line is credited
 * to the variants that reached it, and before every _exit, which skips gcov's exit handler.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>

#include "engine/runner.h"

void __gcov_dump(void);
void __gcov_reset(void);
noreturn void __real__exit(int status);
noreturn void __wrap__exit(int status);
mc_status __real_mc_runner_run(mc_runner *r, const mc_case *c, const mc_variant *v, mc_result *res, mc_err *err);
mc_status __wrap_mc_runner_run(mc_runner *r, const mc_case *c, const mc_variant *v, mc_result *res, mc_err *err);

mc_status __wrap_mc_runner_run(mc_runner *r, const mc_case *c, const mc_variant *v, mc_result *res, mc_err *err)
{
    mc_status st = __real_mc_runner_run(r, c, v, res, err);
    const char *root = getenv("MC_COVERAGE_DIR");
    char prefix[4096];
    if (root && snprintf(prefix, sizeof prefix, "%s/%s", root, v->name) < (int)sizeof prefix) {
        const char *was = getenv("GCOV_PREFIX");
        char saved[4096];
        snprintf(saved, sizeof saved, "%s", was ? was : "");
        setenv("GCOV_PREFIX", prefix, 1);
        __gcov_dump();
        __gcov_reset();
        if (was)
            setenv("GCOV_PREFIX", saved, 1);
        else
            unsetenv("GCOV_PREFIX");
    }
    return st;
}

noreturn void __wrap__exit(int status)
{
    __gcov_dump();
    __real__exit(status);
}
