/* kernels/cpu/registry_cpu.c: the cpu backend's variant table, one row per line of variants_cpu.def.
 * SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "core/backend.h"
#include "core/variant.h"

#define MC_VARIANT(name) extern const mc_variant mc_variant_##name;
#include "variants_cpu.def"
#undef MC_VARIANT

const mc_variant *const mc_cpu_variants[] = {
#define MC_VARIANT(name) &mc_variant_##name,
#include "variants_cpu.def"
#undef MC_VARIANT
    NULL,
};

/* The cpu backend's row (core/backend.h): listed in mc_backend_rows[] by CMakeLists.txt's MC_BACKENDS. */
extern const mc_backend mc_backend_cpu;
const mc_backend_row mc_backend_row_cpu = {
    .name = "cpu", .backend = &mc_backend_cpu, .variants = mc_cpu_variants,
};
