/* engine/registry.c: joins the backends' variant tables into one ordered list.
 * SPDX-License-Identifier: MIT */
#include "registry.h"

#include <string.h>

#define MC_REGISTRY_MAX 512

/* unused when every optional table is compiled in (test-only, mutants and opencl) */
static const mc_variant *const empty_table[] __attribute__((unused)) = {NULL};

static const mc_variant *const *table_testonly(void)
{
#ifdef MC_TEST_VARIANTS
    return mc_testonly_variants;
#else
    return empty_table;
#endif
}

static const mc_variant *const *table_mutants(void)
{
#ifdef MC_MUTANTS
    return mc_mutant_variants;
#else
    return empty_table;
#endif
}

static const mc_variant *const *table_opencl(void)
{
#ifdef MC_HAVE_OPENCL
    return mc_opencl_variants;
#else
    return empty_table;
#endif
}

static int append(const mc_variant **out, int n, const mc_variant *const *table)
{
    for (int i = 0; table[i] && n < MC_REGISTRY_MAX; i++)
        out[n++] = table[i];
    return n;
}

const mc_variant *const *mc_registry_variants(bool include_hidden, int *count)
{
    static const mc_variant *visible[MC_REGISTRY_MAX + 1];
    static const mc_variant *all[MC_REGISTRY_MAX + 1];
    static int n_visible = -1, n_all;
    if (n_visible < 0) {
        n_visible = append(visible, 0, mc_cpu_variants);
        n_visible = append(visible, n_visible, table_opencl());
        memcpy(all, visible, sizeof(visible[0]) * (size_t)n_visible);
        n_all = append(all, n_visible, table_testonly());
        n_all = append(all, n_all, table_mutants());
    }
    *count = include_hidden ? n_all : n_visible;
    return include_hidden ? all : visible;
}

const mc_variant *mc_registry_find(const char *name)
{
    int n;
    const mc_variant *const *all = mc_registry_variants(true, &n);
    for (int i = 0; i < n; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}
