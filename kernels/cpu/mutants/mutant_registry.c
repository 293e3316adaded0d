/* kernels/cpu/mutants/mutant_registry.c: the planted-bug (mutant) variant table, built with -DMC_MUTANTS=ON only.
 * SPDX-License-Identifier: MIT
 *
 * One row per mutant, grouped by op. Each mutant's .expect names the failure kind that must catch
 * it; tests/cli_mutants.sh runs the quick tier against every row and scores the result, and
 * docs/mutants.md lists what each one plants and which check catches it.
 */
#include <stddef.h>

#include "core/backend.h"
#include "core/variant.h"

#define MC_VARIANT(name) extern const mc_variant mc_variant_##name;
#include "variants_mutants.def"
#undef MC_VARIANT

const mc_variant *const mc_mutant_variants[] = {
#define MC_VARIANT(name) &mc_variant_##name,
#include "variants_mutants.def"
#undef MC_VARIANT
    NULL,
};

/* The mutants' (hidden) row (core/backend.h): listed in mc_backend_rows[] by CMakeLists.txt's MC_BACKENDS. */
extern const mc_backend mc_backend_cpu;
const mc_backend_row mc_backend_row_cpu_mutants = {
    .name = "cpu", .backend = &mc_backend_cpu, .variants = mc_mutant_variants, .hidden = true,
};
