/* reference/ref_quant.c: Q8_0/Q4_0 blocks, byte-exact with ggml's reference quantisers.
 *
 * The contract is ../shared/docs/quant-formats.md. How it is met, numbered:
 *   1. Arithmetic is float (fp32), in the order ggml writes it: d and id are fp32, every element
 *      is scaled with the fp32 id, and only the stored d is rounded to fp16 (RNE, NaN -> 0x7E00).
 *   2. Q8_0's amax follows ggml's MAX(a, b) = a > b ? a : b literally. A NaN compares false, so it
 *      replaces amax, and the next element replaces the NaN: amax is the largest |x| after the
 *      block's last NaN (NaN itself when element 31 is NaN).
 *   3. Q4_0 keeps the first element of largest magnitude (strict <) with its sign; NaN never wins.
 *   4. ggml converts float to int8 with a plain C cast, undefined when the value is NaN or out of
 *      range. We pin what ggml built for x86-64 does (cvttss2si, then the low byte): truncate to
 *      int32, NaN and |v| >= 2^31 give INT32_MIN, keep the low 8 bits. Only NaN/Inf inputs and
 *      elements before a NaN (point 2) ever reach those cases. docs/quant.md lists the outcomes.
 * SPDX-License-Identifier: MIT */
#include "ref_quant.h"

#include <math.h>
#include <string.h>

#include "core/half.h"

/* Point 4: the value an x86-64 build of ggml stores for (int8_t)v. */
static int8_t int8_as_x86_cast(float v)
{
    int32_t i = INT32_MIN; /* cvttss2si's "integer indefinite" for NaN and out of range */
    if (v > -2147483904.0f && v < 2147483648.0f)
        i = (int32_t)v; /* in range: truncation toward zero, exact */
    uint8_t low = (uint8_t)((uint32_t)i & 0xFFu);
    return low < 128 ? (int8_t)low : (int8_t)(low - 256);
}

/* The fp16 scale is stored little-endian whatever the host, as GGUF has it. */
static void store_scale(uint8_t *blk, float d)
{
    uint16_t h = mc_f32_to_f16(d);
    blk[0] = (uint8_t)(h & 0xFFu);
    blk[1] = (uint8_t)(h >> 8);
}

/* Point 2: ggml's amax scan, NaN behaviour included. */
static float q8_0_amax(const float *x)
{
    float amax = 0.0f;
    for (int j = 0; j < MC_QK; j++) {
        float v = fabsf(x[j]);
        amax = amax > v ? amax : v;
    }
    return amax;
}

float mc_ref_q8_0_block_scale(const float *x, float *d32)
{
    float d = q8_0_amax(x) / 127.0f;
    if (d32)
        *d32 = d;
    return mc_f16_to_f32(mc_f32_to_f16(d));
}

static void quantize_block_q8_0(const float *x, uint8_t *blk)
{
    const float d = q8_0_amax(x) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f; /* ggml's `d ? 1/d : 0`: NaN counts as true */
    store_scale(blk, d);
    for (int j = 0; j < MC_QK; j++) {
        int8_t q = int8_as_x86_cast(roundf(x[j] * id)); /* roundf: ties away from zero */
        memcpy(blk + 2 + j, &q, 1);
    }
}

/* One Q4_0 nibble as ggml computes it: MIN(15, (int8_t)(v + 8.5f)), stored as uint8_t. */
static uint8_t q4_0_code(float v)
{
    int q = int8_as_x86_cast(v + 8.5f);
    q = 15 < q ? 15 : q;
    return (uint8_t)(q & 0xFF);
}

static void quantize_block_q4_0(const float *x, uint8_t *blk)
{
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < MC_QK; j++) {
        if (amax < fabsf(x[j])) { /* strict: the first of equal magnitudes wins (point 3) */
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    const float d = max / -8.0f; /* max == +0 gives d == -0: stored as 0x8000, as ggml does */
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_scale(blk, d);
    for (int j = 0; j < MC_QK / 2; j++) {
        uint8_t lo = q4_0_code(x[j] * id);
        uint8_t hi = q4_0_code(x[j + MC_QK / 2] * id);
        blk[2 + j] = (uint8_t)(lo | (uint8_t)(hi << 4)); /* ggml: qs = xi0; qs |= xi1 << 4 */
    }
}

void mc_ref_quantize_row_q8_0(const float *x, uint8_t *out, int64_t n)
{
    for (int64_t b = 0; b < n / MC_QK; b++)
        quantize_block_q8_0(x + b * MC_QK, out + b * MC_Q8_0_BLOCK_BYTES);
}

void mc_ref_quantize_row_q4_0(const float *x, uint8_t *out, int64_t n)
{
    for (int64_t b = 0; b < n / MC_QK; b++)
        quantize_block_q4_0(x + b * MC_QK, out + b * MC_Q4_0_BLOCK_BYTES);
}

/* ---- the activation error of a q8_0 x q8_0 dot ----------------------------------------------
 * With s = amax / 127 (real), a quantiser of ggml's kind computes t = fl(x id) with id within
 * two fp32 roundings of 1 / s, so t = (x / s)(1 + r), |r| <= 4u (u = 2^-24), and picks q with
 * |q - t| <= 1/2 (either way of breaking ties). Since |x / s| <= 127, |q - x / s| <= 1/2 + 508u
 * < 1/2 + 2^-15 and |q| <= 127. The dot uses q d16, d16 the stored fp16 scale, so
 *   |x - q d16| <= |x - q s| + |q| |s - d16| <= s (1/2 + 2^-15) + 127 |s - d16|.
 * s is taken in double and nudged up (2^-40 covers its own rounding). d16 == 0 (a scale below
 * fp16's range) drops the block: the bound is then >= amax, as it must be. */
double mc_ref_q8_0_act_error(const float *x)
{
    double amax = 0.0;
    for (int j = 0; j < MC_QK; j++)
        amax = fmax(amax, fabs((double)x[j]));
    if (amax == 0.0)
        return 0.0;
    const double s = amax / 127.0;
    const double d16 = mc_f16_to_f32(mc_f32_to_f16((float)amax / 127.0f));
    return s * (0.5 + 0x1p-15 + 0x1p-40) + 127.0 * fabs(s - d16);
}

