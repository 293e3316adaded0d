/* engine/backends.c: the backends built into this binary (the backend rows), then the plugins'.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "core/backend.h"
#include "plugin.h"

#define MC_BACKENDS_MAX 16

const mc_backend *const *mc_backends_all(void)
{
    static const mc_backend *built[MC_BACKENDS_MAX + 1];
    static int n = -1, built_for = -1;
    if (n < 0 || built_for != mc_plugin_generation()) {
        int n_plugin;
        const mc_backend *const *plugged = mc_plugin_backends(&n_plugin);
        built_for = mc_plugin_generation();
        n = 0;
        for (int i = 0; mc_backend_rows[i] && n < MC_BACKENDS_MAX; i++)
            if (mc_backend_rows[i]->backend && !mc_backend_rows[i]->hidden)
                built[n++] = mc_backend_rows[i]->backend;
        for (int i = 0; i < n_plugin && n < MC_BACKENDS_MAX; i++) /* then the plugins', in load order */
            built[n++] = plugged[i];
        built[n] = NULL;
    }
    return built;
}

const mc_backend *mc_backend_find(const char *name)
{
    const mc_backend *const *all = mc_backends_all();
    for (int i = 0; all[i]; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}
