/* engine/generate.h: seeded input values for placed tensors.
 * SPDX-License-Identifier: MIT */
#ifndef MC_GENERATE_H
#define MC_GENERATE_H

#include <stdint.h>

#include "place.h"

/* The seed of a case's inputs: a mix of the canonical key's hash and the run's global seed, so
 * every variant sees the same inputs and a reproducer needs only the key and the seed. */
uint64_t mc_generate_case_seed(const mc_case *c, uint64_t global_seed);

/* Writes every element of an input (or in/out) tensor: uniform in [gen_lo, gen_hi], rounded to
 * the dtype, with -inf at the spec's share (never in column 0); quantised tensors are generated
 * as f32 rows and quantised with the reference quantiser. Outputs are left as sentinels. */
mc_status mc_generate_fill(mc_placed *p, uint64_t seed, mc_err *err);

#endif
