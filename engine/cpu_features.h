/* engine/cpu_features.h: the CPU's feature flags as the kernel reports them (/proc/cpuinfo),
 * independent of any variant's own cpuid probe.
 * SPDX-License-Identifier: MIT */
#ifndef MC_CPU_FEATURES_H
#define MC_CPU_FEATURES_H

#include <stdbool.h>
#include <stddef.h>

/* True when every comma-separated feature of `list` is a flag of this CPU; otherwise writes the
 * first missing one to `missing`. An empty or NULL list is true. */
bool mc_cpu_has_all(const char *list, char *missing, size_t missing_len);

#endif
