/* tests/plugins/tp_plugin.c: the test plugins, one library per kind (tests/plugins/CMakeLists.txt
 * compiles this file once per TP_<KIND>): each breaks one rule of the plugin ABI, or crashes.
 * SPDX-License-Identifier: MIT */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "include/metallic_check/plugin.h"

/* A correct copy of nothing: run is never reached by the loading tests. */
static int noop_run(mc_plugin_kernel_ctx *kc, const mc_plugin_args *args)
{
    return 0;
}

#if defined(TP_CRASH_KERNEL) || defined(TP_TWIN)
/* The isolation test's kernel: it dies on SIGSEGV, as a wild store would. */
static int segv_run(mc_plugin_kernel_ctx *kc, const mc_plugin_args *args)
{
    raise(SIGSEGV);
    return 0;
}
#endif

static mc_plugin_variant variant = {
    MC_PLUGIN_HEADER(mc_plugin_variant), .op = MC_PLUGIN_OP_SOFTMAX, .backend = "cpu", .run = noop_run,
#if defined(TP_GATE)
    .name = "tp_softmax_gated", .requires = "sse2", /* every x86-64 CPU has it */
#elif defined(TP_CLASH)
    .name = "softmax_scalar", /* a built-in's name */
#elif defined(TP_TWIN)
    .name = "tp_softmax_segv", /* tp_crash_kernel's */
#else
    .name = "tp_softmax_segv",
#endif
};

#ifdef TP_GATE
/* A capability gate that always says no. */
static const char *never(void *native)
{
    return "the gate is shut";
}
#endif

#ifdef TP_NO_ENTRY
#define TP_ENTRY mc_plugin_initialise /* not the entry point's name */
int TP_ENTRY(const mc_plugin_host *host, mc_plugin_registry *reg);
#else
#define TP_ENTRY mc_plugin_init
#endif

int TP_ENTRY(const mc_plugin_host *host, mc_plugin_registry *reg)
{
#if defined(TP_CRASH_INIT)
    raise(SIGSEGV);
#elif defined(TP_FICKLE)
    if (getenv("TP_REFUSE")) /* loads in one process, refuses in the next */
        return 7;
#elif defined(TP_HANG_INIT)
    for (;;)
        pause();
#elif defined(TP_BAD_ABI)
    variant.abi = (99u << 16) | 2u;
#elif defined(TP_UNKNOWN_OP)
    variant.op = 77;
#elif defined(TP_CRASH_KERNEL) || defined(TP_TWIN)
    variant.run = segv_run;
#elif defined(TP_GATE)
    variant.probe = never;
#endif
    host->log(host, "registering");
    return reg->add_variant(reg, &variant);
}
