/* kernels/cpu/mutant_registry.c: the planted-bug (mutant) variant table, built with -DMC_MUTANTS=ON only.
 * SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "harness/variant.h"

const mc_variant *const mc_mutant_variants[] = {
    NULL,
};
