/* kernels/opencl/registry_opencl.c: the opencl backend's variant table and the program each variant
 * is identified by, one row per line of variants_opencl.def.
 * SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "kernels/opencl/backend_opencl.h"

#define MC_OPENCL_VARIANT(name, program)                                                                    \
    extern const mc_variant mc_variant_##name;                                                         \
    extern const mc_opencl_program_def mc_opencl_program_##program;
#include "variants_opencl.def"
#undef MC_OPENCL_VARIANT

const mc_variant *const mc_opencl_variants[] = {
#define MC_OPENCL_VARIANT(name, program) &mc_variant_##name,
#include "variants_opencl.def"
#undef MC_OPENCL_VARIANT
    NULL,
};

/* Same order as the variants: each variant's name is its program key (mc_opencl_program_hash). */
const mc_opencl_program_def *const mc_opencl_programs[] = {
#define MC_OPENCL_VARIANT(name, program) &mc_opencl_program_##program,
#include "variants_opencl.def"
#undef MC_OPENCL_VARIANT
    NULL,
};

/* The opencl backend's row (core/backend.h): listed in mc_backend_rows[] by CMakeLists.txt's MC_BACKENDS. */
extern const mc_backend mc_backend_opencl;
const mc_backend_row mc_backend_row_opencl = {
    .name = "opencl", .backend = &mc_backend_opencl, .variants = mc_opencl_variants,
};
