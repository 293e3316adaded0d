/* kernels/cpu/testonly/testonly_variants.c: gemm variants that fail on purpose (crash, hang, out-of-bounds write;
 * the hostile set of testonly_hostile.c), so the harness can prove it isolates crashes, times out
 * hangs and checks guard zones; and one slow on purpose, by a known factor, for detection power.
 * SPDX-License-Identifier: MIT */
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "kernels/cpu/cpu_access.h"

extern const mc_variant mc_variant_gemm_scalar;

/* Dies the way a wild pointer would: the worker must report "crash", the run must go on. */
static mc_status gemm_testonly_segfault_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    raise(SIGSEGV);
    return mc_err_set(err, MC_ERR_INTERNAL, "gemm_testonly_segfault survived SIGSEGV");
}

/* Never returns: the per-case timeout must kill it and report "timeout". */
static mc_status gemm_testonly_hang_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    for (;;)
        sleep(1);
    return MC_OK;
}

/* Right result, then one element written just past the end of C's span: only the guard zone
 * after the buffer can catch it, so the verdict must be "guard". */
static mc_status gemm_testonly_overflow_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    mc_status st = mc_variant_gemm_scalar.run(kc, args, err);
    if (st != MC_OK)
        return st;
    const mc_tensor *c = &args->u.gemm.c;
    uint8_t *past_end = (uint8_t *)c->buf->native + mc_tensor_span_bytes(c);
    mc_cpu_store(c->dtype, past_end, 1.0f);
    return MC_OK;
}

/* The synthetic slowdown of the detection-power study (docs/detection-power.md). MC_SLOWDOWN unset
 * or empty means 1: no slowdown. Anything that is not a factor in [1, 100] is an error, never a
 * silent 1. */
static mc_status slowdown_factor(double *factor, mc_err *err)
{
    const char *text = getenv("MC_SLOWDOWN");
    *factor = 1;
    if (!text || !*text)
        return MC_OK;
    char *end = NULL;
    double f = strtod(text, &end);
    if (end == text || *end || !(f >= 1 && f <= 100))
        return mc_err_set(err, MC_ERR_USAGE, "MC_SLOWDOWN='%s' is not a factor in [1, 100]", text);
    *factor = f;
    return MC_OK;
}

static double monotonic_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* gemm_scalar's work, then a busy wait of (factor - 1) times the time that work took: every call
 * costs factor times its own base work, whatever the machine does meanwhile, and the answer stays
 * right. Busy, not asleep: a sleeping thread would let the clock and the scheduler change what it
 * costs. */
static mc_status gemm_testonly_slowdown_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    double factor;
    mc_status st = slowdown_factor(&factor, err);
    if (st != MC_OK)
        return st;
    double start_ns = monotonic_ns();
    st = mc_variant_gemm_scalar.run(kc, args, err);
    if (st != MC_OK || factor == 1)
        return st;
    double until_ns = start_ns + factor * (monotonic_ns() - start_ns);
    while (monotonic_ns() < until_ns)
        ;
    return MC_OK;
}

const mc_variant mc_variant_gemm_testonly_segfault = {
    .op = MC_OP_GEMM,
    .backend = "cpu",
    .name = "gemm_testonly_segfault",
    .run = gemm_testonly_segfault_run,
    .flags = MC_VARIANT_TEST_ONLY,
    .expect = "crash",
    .code = (const void *)gemm_testonly_segfault_run,
};

const mc_variant mc_variant_gemm_testonly_hang = {
    .op = MC_OP_GEMM,
    .backend = "cpu",
    .name = "gemm_testonly_hang",
    .run = gemm_testonly_hang_run,
    .flags = MC_VARIANT_TEST_ONLY,
    .expect = "timeout",
    .code = (const void *)gemm_testonly_hang_run,
};

const mc_variant mc_variant_gemm_testonly_overflow = {
    .op = MC_OP_GEMM,
    .backend = "cpu",
    .name = "gemm_testonly_overflow",
    .run = gemm_testonly_overflow_run,
    .flags = MC_VARIANT_TEST_ONLY,
    .expect = "guard",
    .code = (const void *)gemm_testonly_overflow_run,
};

const mc_variant mc_variant_gemm_testonly_slowdown = {
    .op = MC_OP_GEMM,
    .backend = "cpu",
    .name = "gemm_testonly_slowdown",
    .run = gemm_testonly_slowdown_run,
    .flags = MC_VARIANT_TEST_ONLY | MC_VARIANT_DETERMINISTIC,
    .code = (const void *)gemm_testonly_slowdown_run,
    .identity_env = "MC_SLOWDOWN",
};

#define MC_VARIANT(name) extern const mc_variant mc_variant_##name;
#include "variants_testonly.def"
#undef MC_VARIANT

const mc_variant *const mc_testonly_variants[] = {
#define MC_VARIANT(name) &mc_variant_##name,
#include "variants_testonly.def"
#undef MC_VARIANT
    NULL,
};

/* The test-only variants' (hidden) row (core/backend.h): listed in mc_backend_rows[] by CMakeLists.txt's MC_BACKENDS. */
extern const mc_backend mc_backend_cpu;
const mc_backend_row mc_backend_row_cpu_testonly = {
    .name = "cpu", .backend = &mc_backend_cpu, .variants = mc_testonly_variants, .hidden = true,
};
