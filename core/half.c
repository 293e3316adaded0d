/* core/half.c: bit-exact fp16/bf16 conversions without compiler extensions.
 * SPDX-License-Identifier: MIT */
#include "half.h"

#include <string.h>

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint16_t mc_f32_to_f16(float f)
{
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t absx = x & 0x7FFFFFFFu;
    if (absx > 0x7F800000u)
        return 0x7E00u; /* NaN: canonical quiet NaN, sign dropped */
    if (absx >= 0x477FF000u) /* rounds to >= 65520: overflow to infinity */
        return (uint16_t)(sign | 0x7C00u);
    if (absx < 0x38800000u) { /* below the smallest normal fp16: subnormal or zero */
        if (absx < 0x33000000u)
            return sign; /* below half the smallest subnormal: zero (ties to even) */
        uint32_t exp = absx >> 23;
        uint32_t mant = (absx & 0x7FFFFFu) | 0x800000u;
        uint32_t shift = 126u - exp; /* 14..24 */
        uint32_t q = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1u);
        uint32_t half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (q & 1u)))
            q++;
        return (uint16_t)(sign | q);
    }
    uint32_t exp = (absx >> 23) - 112u; /* rebias 127 -> 15 */
    uint32_t mant = absx & 0x7FFFFFu;
    uint32_t h = (exp << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u)))
        h++; /* a carry into the exponent is the right answer */
    return (uint16_t)(sign | h);
}

float mc_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t mant = h & 0x3FFu;
    if (exp == 0x1Fu)
        return f32_from_bits(sign | 0x7F800000u | (mant << 13));
    if (exp == 0) {
        float v = (float)mant * 5.9604644775390625e-8f; /* 2^-24 */
        return sign ? -v : v;
    }
    return f32_from_bits(sign | ((exp + 112u) << 23) | (mant << 13));
}

uint16_t mc_f32_to_bf16(float f)
{
    uint32_t x = f32_bits(f);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u)
        return (uint16_t)((x >> 16) | 0x40u);
    uint32_t rounding = 0x7FFFu + ((x >> 16) & 1u);
    return (uint16_t)((x + rounding) >> 16);
}

float mc_bf16_to_f32(uint16_t h)
{
    return f32_from_bits((uint32_t)h << 16);
}
