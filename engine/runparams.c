/* engine/runparams.c: threads= and kernel=, the run parameters every op shares.
 * SPDX-License-Identifier: MIT */
#include "runparams.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/backend.h"
#include "core/op.h"
#include "registry.h"

#define MC_RUNPARAM_MAX_THREADS 256 /* the CLI's --threads limit */
#define MC_RUNPARAM_MAX_EXTRA 64    /* cores+N: N at most this */

static const char *value_of(const mc_case *c, const char *name)
{
    int i = mc_case_param_index(c->op, name);
    return i < 0 ? NULL : mc_case_str(c, i);
}

/* "N" or "cores+N": *over_cores tells which; -1 when the text is neither. */
static long parse_threads(const char *text, bool *over_cores)
{
    *over_cores = strncmp(text, "cores+", 6) == 0;
    const char *digits = *over_cores ? text + 6 : text;
    char *end;
    errno = 0;
    long n = strtol(digits, &end, 10);
    long max = *over_cores ? MC_RUNPARAM_MAX_EXTRA : MC_RUNPARAM_MAX_THREADS;
    if (errno || end == digits || *end || digits[0] == '+' || digits[0] == '-' || n < 1 || n > max)
        return -1;
    return n;
}

bool mc_runparams_sets_threads(const mc_case *c)
{
    const char *t = value_of(c, "threads");
    return t && strcmp(t, "run") != 0;
}

int mc_runparams_threads(const mc_case *c, int run_threads)
{
    bool over;
    long n;
    if (!mc_runparams_sets_threads(c) || (n = parse_threads(value_of(c, "threads"), &over)) < 0)
        return run_threads;
    if (!over)
        return (int)n;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long total = (cores < 1 ? 1 : cores) + n;
    return (int)(total > MC_RUNPARAM_MAX_THREADS ? MC_RUNPARAM_MAX_THREADS : total);
}

const char *mc_runparams_kernel(const mc_case *c)
{
    const char *k = value_of(c, "kernel");
    return k && strcmp(k, "auto") != 0 ? k : NULL;
}

bool mc_runparams_accepts(const mc_variant *d, const char *name)
{
    if (!d->dispatch)
        return false;
    int n;
    const mc_variant *const *accepted = d->dispatch->accepts(&n);
    for (int i = 0; i < n; i++)
        if (strcmp(accepted[i]->name, name) == 0)
            return true;
    return false;
}

bool mc_runparams_pairs(const mc_case *c, const mc_variant *v)
{
    if (mc_runparams_sets_threads(c) && !(v->flags & MC_VARIANT_THREADED))
        return false;
    const char *k = mc_runparams_kernel(c);
    return !k || mc_runparams_accepts(v, k);
}

/* A kernel of a backend this build lacks, named <op>_<backend>_... (gemm_cuda_tiled_32x32x8 in a
 * build without CUDA), is no typo: its cases pair with no variant here, as on a build that has the
 * backend but not the device, so a tier may force every backend's kernels (cases/dispatch.lua). */
static bool of_unbuilt_backend(const mc_case *c, const char *name)
{
    for (int i = 0; mc_backend_rows[i]; i++) {
        char prefix[64];
        int len = snprintf(prefix, sizeof prefix, "%s_%s_", c->op->name, mc_backend_rows[i]->name);
        if (!mc_backend_rows[i]->backend && len > 0 && (size_t)len < sizeof prefix && strncmp(name, prefix, (size_t)len) == 0)
            return true;
    }
    return false;
}

static mc_status check_kernel(const mc_case *c, const char *name, mc_err *err)
{
    if (of_unbuilt_backend(c, name))
        return MC_OK;
    int n;
    const mc_variant *const *all = mc_registry_variants(true, &n);
    for (int i = 0; i < n; i++)
        if (all[i]->op == c->op->id && mc_runparams_accepts(all[i], name))
            return MC_OK;
    char known[512] = "";
    size_t len = 0;
    for (int i = 0; i < n && len < sizeof known; i++) {
        if (all[i]->op != c->op->id || !all[i]->dispatch || (all[i]->flags & (MC_VARIANT_TEST_ONLY | MC_VARIANT_MUTANT)))
            continue;
        int na;
        const mc_variant *const *acc = all[i]->dispatch->accepts(&na);
        for (int j = 0; j < na && len < sizeof known; j++)
            len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", len ? ", " : "", acc[j]->name);
    }
    return mc_err_set(err, MC_ERR_CONFIG, "parameter 'kernel': no %s dispatcher accepts '%s' (accepted: %s)",
                      c->op->name, name, known[0] ? known : "none: this op has no dispatcher");
}

mc_status mc_runparams_check(const mc_case *c, mc_err *err)
{
    bool over;
    if (mc_runparams_sets_threads(c) && parse_threads(value_of(c, "threads"), &over) < 0)
        return mc_err_set(err, MC_ERR_CONFIG,
                          "parameter 'threads' wants run, 1..%d or cores+1..cores+%d, got '%s'",
                          MC_RUNPARAM_MAX_THREADS, MC_RUNPARAM_MAX_EXTRA, value_of(c, "threads"));
    const char *k = mc_runparams_kernel(c);
    return k ? check_kernel(c, k, err) : MC_OK;
}
