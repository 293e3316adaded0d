/* kernels/cpu/testonly/testonly_hostile.h: the hostile test-only gemm variants (testonly_hostile.c).
 * SPDX-License-Identifier: MIT */
#ifndef MC_TESTONLY_HOSTILE_H
#define MC_TESTONLY_HOSTILE_H

#include "core/variant.h"

#define MC_TESTONLY_HOSTILE_COUNT 10

extern const mc_variant mc_testonly_hostile[]; /* unsized: testonly_hostile.c's static_assert counts its rows */

#endif
