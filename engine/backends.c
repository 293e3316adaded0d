/* engine/backends.c: the backends built into this binary, read from the backend rows.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "core/backend.h"

#define MC_BACKENDS_MAX 16

const mc_backend *const *mc_backends_all(void)
{
    static const mc_backend *built[MC_BACKENDS_MAX + 1];
    static int n = -1;
    if (n < 0) {
        n = 0;
        for (int i = 0; mc_backend_rows[i] && n < MC_BACKENDS_MAX; i++)
            if (mc_backend_rows[i]->backend && !mc_backend_rows[i]->hidden)
                built[n++] = mc_backend_rows[i]->backend;
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
