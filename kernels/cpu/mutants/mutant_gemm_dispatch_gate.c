/* kernels/cpu/mutants/mutant_gemm_dispatch_gate.c: a planted-bug copy of the GEMM dispatcher whose AVX2 fast
 * path sits behind a compile-time gate that no build opens, so it is never chosen.
 * SPDX-License-Identifier: MIT
 *
 * It declares the pristine dispatcher's tables (mc_gemm_dispatch_info) and runs any kernel it is
 * forced to, so every case passes: only dispatch coverage, which asks that each kernel its tables
 * prefer here be chosen at least once, can see it. Its one change is marked "DEFECT:".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/gemm_tiles.h"

extern const mc_variant mc_variant_gemm_tiled_f32_avx2_6x16;

static const mc_variant *choice_named(const char *name)
{
    int n;
    const mc_variant *const *choices = mc_gemm_dispatch_choices(&n);
    for (int i = 0; i < n; i++)
        if (strcmp(choices[i]->name, name) == 0)
            return choices[i];
    return NULL;
}

/* DEFECT: the AVX2 kernel is compiled in only with MC_GEMM_DISPATCH_AVX2, which nothing defines
 * (a gate left closed after a refactor), so its classes fall through to the portable kernel. */
static int compiled_in(const mc_variant *v)
{
#ifdef MC_GEMM_DISPATCH_AVX2
    (void)v;
    return 1;
#else
    return v != &mc_variant_gemm_tiled_f32_avx2_6x16;
#endif
}

static mc_status choose_by_class(mc_backend_ctx *ctx, const mc_args *args, const mc_variant **out, mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    const mc_gemm_class_info *info = mc_gemm_class_info_of(mc_gemm_class_of(g->c.ne[1], g->c.ne[0], g->a.ne[0]));
    for (int i = 0; i < MC_GEMM_MAX_CANDIDATES && info->candidates[i]; i++) {
        const mc_variant *v = choice_named(info->candidates[i]);
        if (!v || !compiled_in(v) || (v->probe && v->probe(ctx)) || v->supports(args))
            continue;
        *out = v;
        return MC_OK;
    }
    return mc_err_set(err, MC_ERR_UNSUPPORTED, "no GEMM kernel of class %s takes this case", info->name);
}

static mc_status choose(mc_backend_ctx *ctx, const mc_args *args, const mc_variant **out, mc_err *err)
{
    const char *name = getenv("MC_GEMM_KERNEL");
    if (!name || !*name)
        return choose_by_class(ctx, args, out, err);
    const mc_variant *v = choice_named(name);
    const char *why;
    if (!v)
        return mc_err_set(err, MC_ERR_CONFIG, "MC_GEMM_KERNEL=%s names no GEMM kernel", name);
    if (v->probe && (why = v->probe(ctx)) != NULL)
        return mc_err_set(err, MC_ERR_UNSUPPORTED, "MC_GEMM_KERNEL=%s cannot run here: %s", name, why);
    if ((why = v->supports(args)) != NULL)
        return mc_err_set(err, MC_ERR_UNSUPPORTED, "MC_GEMM_KERNEL=%s declines this case: %s", name, why);
    *out = v;
    return MC_OK;
}

static mc_status dispatch_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_variant *v = NULL;
    mc_status st = choose(kc->backend, args, &v, err);
    if (st)
        return st;
    snprintf(kc->ran, sizeof kc->ran, "%s", v->name);
    return v->run(kc, args, err);
}

static const char *dispatch_supports(const mc_args *args)
{
    if (!mc_cpu_is_plain_float(args->u.gemm.c.dtype))
        return "quantised output not supported";
    return NULL;
}

const mc_variant mc_variant_mutant_gemm_dispatch_gate = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "mutant_gemm_dispatch_gate",
    .supports = dispatch_supports, .run = dispatch_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DISPATCHER, .expect = "coverage",
    .code = (const void *)compiled_in,
    .dispatch = &mc_gemm_dispatch_info,
};
