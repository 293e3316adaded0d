/* engine/backends.c: the list of backends compiled into this binary.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "core/backend.h"

extern const mc_backend mc_backend_cpu;
#ifdef MC_HAVE_OPENCL
extern const mc_backend mc_backend_opencl;
#endif

static const mc_backend *const backend_table[] = {
    &mc_backend_cpu,
#ifdef MC_HAVE_OPENCL
    &mc_backend_opencl,
#endif
    NULL,
};

const mc_backend *const *mc_backends_all(void)
{
    return backend_table;
}

const mc_backend *mc_backend_find(const char *name)
{
    for (int i = 0; backend_table[i]; i++)
        if (strcmp(backend_table[i]->name, name) == 0)
            return backend_table[i];
    return NULL;
}
