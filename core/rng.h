/* core/rng.h: a small seeded generator (splitmix64 seeding xoshiro256**) for case inputs.
 * SPDX-License-Identifier: MIT */
#ifndef MC_RNG_H
#define MC_RNG_H

#include <stdint.h>

typedef struct mc_rng {
    uint64_t s[4];
} mc_rng;

/* Seeds the generator; equal seeds give equal streams on every machine. */
void mc_rng_seed(mc_rng *r, uint64_t seed);
/* Next 64 random bits. */
uint64_t mc_rng_next(mc_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double mc_rng_uniform(mc_rng *r);
/* Mixes two 64-bit values into one seed (case key hash, global seed, tensor index). */
uint64_t mc_rng_mix(uint64_t a, uint64_t b);

#endif
