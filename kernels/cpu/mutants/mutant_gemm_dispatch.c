/* kernels/cpu/mutants/mutant_gemm_dispatch.c: a planted-bug copy of the GEMM dispatcher (gemm_dispatch.c) that
 * falls back silently when $MC_GEMM_KERNEL names a kernel nothing recognises.
 * SPDX-License-Identifier: MIT
 *
 * The copy chooses from the pristine dispatcher's own table (mc_gemm_dispatch_choices) and shape
 * classes, and reports its choice in kc->ran, as the pristine one does. Its one change is marked
 * "DEFECT:": a test that asks for a misspelt kernel then tests the class default and passes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/gemm_tiles.h"

static const mc_variant *choice_named(const char *name)
{
    int n;
    const mc_variant *const *choices = mc_gemm_dispatch_choices(&n);
    for (int i = 0; i < n; i++)
        if (strcmp(choices[i]->name, name) == 0)
            return choices[i];
    return NULL;
}

/* The class's first default kernel that can run here and takes the case. */
static mc_status choose_by_class(mc_backend_ctx *ctx, const mc_args *args, const mc_variant **out, mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    const mc_gemm_class_info *info = mc_gemm_class_info_of(mc_gemm_class_of(g->c.ne[1], g->c.ne[0], g->a.ne[0]));
    for (int i = 0; i < MC_GEMM_MAX_CANDIDATES && info->candidates[i]; i++) {
        const mc_variant *v = choice_named(info->candidates[i]);
        if (!v)
            return mc_err_set(err, MC_ERR_INTERNAL, "gemm class %s lists unknown kernel %s", info->name,
                              info->candidates[i]);
        if ((v->probe && v->probe(ctx)) || v->supports(args))
            continue;
        *out = v;
        return MC_OK;
    }
    return mc_err_set(err, MC_ERR_UNSUPPORTED, "no GEMM kernel of class %s takes this case", info->name);
}

static mc_status choose(mc_backend_ctx *ctx, const mc_args *args, const mc_variant **out, mc_err *err)
{
    const char *name = getenv("MC_GEMM_KERNEL");
    const mc_variant *v = name && *name ? choice_named(name) : NULL;
    const char *why;
    /* DEFECT: an override that names no kernel is dropped (v == NULL) and the class default runs,
     * instead of MC_ERR_CONFIG listing the valid names. */
    if (!v)
        return choose_by_class(ctx, args, out, err);
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

const mc_variant mc_variant_mutant_gemm_dispatch_fallback = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "mutant_gemm_dispatch_fallback",
    .supports = dispatch_supports, .run = dispatch_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DISPATCHER, .expect = "dispatch",
    .code = (const void *)choose,
};
