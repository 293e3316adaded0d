/* engine/registry.c: joins the backend rows' variant tables into one ordered list.
 * SPDX-License-Identifier: MIT */
#include "registry.h"

#include <string.h>

#include "plugin.h"

#define MC_REGISTRY_MAX 512

static int append(const mc_variant **out, int n, const mc_variant *const *table)
{
    for (int i = 0; table && table[i] && n < MC_REGISTRY_MAX; i++)
        out[n++] = table[i];
    return n;
}

/* The rows' tables in row order: the visible ones, the plugins' variants, then (all only) the
 * hidden ones. */
static int append_rows(const mc_variant **out, int n, bool hidden)
{
    for (int i = 0; mc_backend_rows[i]; i++)
        if (mc_backend_rows[i]->hidden == hidden)
            n = append(out, n, mc_backend_rows[i]->variants);
    return n;
}

const mc_variant *const *mc_registry_variants(bool include_hidden, int *count)
{
    static const mc_variant *visible[MC_REGISTRY_MAX + 1];
    static const mc_variant *all[MC_REGISTRY_MAX + 1];
    static int n_visible = -1, n_all, built_for = -1;
    if (n_visible < 0 || built_for != mc_plugin_generation()) {
        int n_plugin;
        built_for = mc_plugin_generation();
        n_visible = append(visible, append_rows(visible, 0, false), mc_plugin_variants(&n_plugin));
        memcpy(all, visible, sizeof(visible[0]) * (size_t)n_visible);
        n_all = append_rows(all, n_visible, true);
        visible[n_visible] = all[n_all] = NULL;
    }
    *count = include_hidden ? n_all : n_visible;
    return include_hidden ? all : visible;
}

const char *mc_registry_plugin_of(const mc_variant *v)
{
    return mc_plugin_path_of(v);
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
