/* engine/registry.h: every variant compiled into this binary or brought by a plugin.
 * SPDX-License-Identifier: MIT */
#ifndef MC_REGISTRY_H
#define MC_REGISTRY_H

#include <stdbool.h>

#include "core/variant.h"

/* All variants in the backend rows' order (core/backend.h), then the plugins' (engine/plugin.h),
 * then test-only and mutants when built.
 * Test-only and mutant variants are listed only when include_hidden is true. */
const mc_variant *const *mc_registry_variants(bool include_hidden, int *count /* out */);
/* The library a variant comes from: a plugin's absolute path, NULL for a built-in variant (the
 * report's reproducers need it: `--plugin PATH`). */
const char *mc_registry_plugin_of(const mc_variant *v);
/* Looks a variant up by exact name among all compiled variants (hidden ones too). */
const mc_variant *mc_registry_find(const char *name);

#endif
