/* engine/probe.h: asks, in a throw-away child process, which backends and variants can run here.
 * SPDX-License-Identifier: MIT */
#ifndef MC_PROBE_H
#define MC_PROBE_H

#include <stdbool.h>

#include "core/variant.h"

#define MC_PROBE_MAX_BACKENDS 8
#define MC_PROBE_TEXT 256

typedef struct mc_backend_probe {
    char name[16];
    bool available;
    char info[MC_PROBE_TEXT]; /* device and driver when available, else why not */
} mc_backend_probe;

typedef struct mc_probe_report {
    mc_backend_probe backends[MC_PROBE_MAX_BACKENDS]; /* compiled backends, then cuda if not built */
    int n_backends;
    char (*reason)[MC_PROBE_TEXT]; /* per variant: "" when it can run, else why not */
    bool *has_required; /* per variant of a device backend with has_features: the device has what
                           its `requires` lists (the gate check); false otherwise */
    int n_variants;
} mc_probe_report;

/* Probes every compiled backend and the given variants. */
mc_status mc_probe_collect(const mc_variant *const *variants, int n, mc_probe_report *out, mc_err *err);
void mc_probe_free(mc_probe_report *r);
/* The probe of backend `name`, NULL when it is not even known. */
const mc_backend_probe *mc_probe_backend(const mc_probe_report *r, const char *name);

#endif
