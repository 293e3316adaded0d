/* core/rng.c: xoshiro256** (Blackman and Vigna), seeded through splitmix64.
 * SPDX-License-Identifier: MIT */
#include "rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void mc_rng_seed(mc_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

uint64_t mc_rng_next(mc_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double mc_rng_uniform(mc_rng *r)
{
    return (double)(mc_rng_next(r) >> 11) * 0x1p-53;
}

uint64_t mc_rng_mix(uint64_t a, uint64_t b)
{
    uint64_t x = a ^ rotl(b, 32) ^ 0x6A09E667F3BCC909ull;
    return splitmix64(&x);
}
