/* reference/ref_quant.c: the 32-element formats (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1), byte-exact with
 * ggml's reference quantisers, and the table of every format's quantiser.
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

#include <float.h>
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
void mc_ref_quant_store_f16(uint8_t *blk, float d)
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
    mc_ref_quant_store_f16(blk, d);
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
    mc_ref_quant_store_f16(blk, d);
    for (int j = 0; j < MC_QK / 2; j++) {
        uint8_t lo = q4_0_code(x[j] * id);
        uint8_t hi = q4_0_code(x[j + MC_QK / 2] * id);
        blk[2 + j] = (uint8_t)(lo | (uint8_t)(hi << 4)); /* ggml: qs = xi0; qs |= xi1 << 4 */
    }
}

/* ggml's min/max scan of Q4_1/Q5_1: NaN never replaces either. */
static void block_min_max(const float *x, float *min, float *max)
{
    *min = FLT_MAX;
    *max = -FLT_MAX;
    for (int j = 0; j < MC_QK; j++) {
        if (x[j] < *min)
            *min = x[j];
        if (x[j] > *max)
            *max = x[j];
    }
}

/* Q4_1: d = (max - min) / 15, codes MIN(15, (int8)((x - min) id + 0.5f)), d then m = min. */
static void quantize_block_q4_1(const float *x, uint8_t *blk)
{
    float min, max;
    block_min_max(x, &min, &max);
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    mc_ref_quant_store_f16(blk, d);
    mc_ref_quant_store_f16(blk + 2, min);
    for (int j = 0; j < MC_QK / 2; j++) {
        int lo = int8_as_x86_cast((x[j] - min) * id + 0.5f);
        int hi = int8_as_x86_cast((x[j + MC_QK / 2] - min) * id + 0.5f);
        lo = 15 < lo ? 15 : lo;
        hi = 15 < hi ? 15 : hi;
        blk[4 + j] = (uint8_t)((uint8_t)lo | (uint8_t)((uint8_t)hi << 4));
    }
}

/* The fifth bits of codes lo (element j) and hi (element j + 16) into Q5's 32-bit mask. */
static uint32_t fifth_bits(uint8_t lo, uint8_t hi, int j)
{
    return (uint32_t)((lo & 0x10u) >> 4) << j | (uint32_t)((hi & 0x10u) >> 4) << (j + MC_QK / 2);
}

static void store_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Q5_0: Q4_0's rule with 16: d = max / -16, codes MIN(31, (int8)(x id + 16.5f)). */
static void quantize_block_q5_0(const float *x, uint8_t *blk)
{
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < MC_QK; j++) {
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    const float d = max / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    mc_ref_quant_store_f16(blk, d);
    uint32_t qh = 0;
    for (int j = 0; j < MC_QK / 2; j++) {
        int lo = int8_as_x86_cast(x[j] * id + 16.5f), hi = int8_as_x86_cast(x[j + MC_QK / 2] * id + 16.5f);
        const uint8_t l = (uint8_t)(31 < lo ? 31 : lo), h = (uint8_t)(31 < hi ? 31 : hi);
        blk[6 + j] = (uint8_t)((l & 0x0F) | ((h & 0x0F) << 4));
        qh |= fifth_bits(l, h, j);
    }
    store_u32(blk + 2, qh);
}

/* Q5_1: d = (max - min) / 31, codes (uint8)((x - min) id + 0.5f) with no clamp (ggml's cast:
 * point 4's low byte). */
static void quantize_block_q5_1(const float *x, uint8_t *blk)
{
    float min, max;
    block_min_max(x, &min, &max);
    const float d = (max - min) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    mc_ref_quant_store_f16(blk, d);
    mc_ref_quant_store_f16(blk + 2, min);
    uint32_t qh = 0;
    for (int j = 0; j < MC_QK / 2; j++) {
        const uint8_t l = (uint8_t)int8_as_x86_cast((x[j] - min) * id + 0.5f);
        const uint8_t h = (uint8_t)int8_as_x86_cast((x[j + MC_QK / 2] - min) * id + 0.5f);
        blk[8 + j] = (uint8_t)((l & 0x0F) | ((h & 0x0F) << 4));
        qh |= fifth_bits(l, h, j);
    }
    store_u32(blk + 4, qh);
}

typedef void (*quantize_block_fn)(const float *x, uint8_t *blk);

static void quantize_blocks(quantize_block_fn f, int block_bytes, const float *x, uint8_t *out, int64_t n)
{
    for (int64_t b = 0; b < n / MC_QK; b++)
        f(x + b * MC_QK, out + b * block_bytes);
}

void mc_ref_quantize_row_q8_0(const float *x, uint8_t *out, int64_t n)
{
    quantize_blocks(quantize_block_q8_0, MC_Q8_0_BLOCK_BYTES, x, out, n);
}

void mc_ref_quantize_row_q4_0(const float *x, uint8_t *out, int64_t n)
{
    quantize_blocks(quantize_block_q4_0, MC_Q4_0_BLOCK_BYTES, x, out, n);
}

void mc_ref_quantize_row_q4_1(const float *x, uint8_t *out, int64_t n)
{
    quantize_blocks(quantize_block_q4_1, MC_Q4_1_BLOCK_BYTES, x, out, n);
}

void mc_ref_quantize_row_q5_0(const float *x, uint8_t *out, int64_t n)
{
    quantize_blocks(quantize_block_q5_0, MC_Q5_0_BLOCK_BYTES, x, out, n);
}

void mc_ref_quantize_row_q5_1(const float *x, uint8_t *out, int64_t n)
{
    quantize_blocks(quantize_block_q5_1, MC_Q5_1_BLOCK_BYTES, x, out, n);
}

static const mc_ref_quantize_fn quantizers[] = {
    [MC_DTYPE_F32] = NULL,
    [MC_DTYPE_F16] = NULL,
    [MC_DTYPE_BF16] = NULL,
    [MC_DTYPE_Q8_0] = mc_ref_quantize_row_q8_0,
    [MC_DTYPE_Q4_0] = mc_ref_quantize_row_q4_0,
    [MC_DTYPE_Q4_1] = mc_ref_quantize_row_q4_1,
    [MC_DTYPE_Q5_0] = mc_ref_quantize_row_q5_0,
    [MC_DTYPE_Q5_1] = mc_ref_quantize_row_q5_1,
    [MC_DTYPE_Q2_K] = mc_ref_quantize_row_q2_K,
    [MC_DTYPE_Q3_K] = mc_ref_quantize_row_q3_K,
    [MC_DTYPE_Q4_K] = mc_ref_quantize_row_q4_K,
    [MC_DTYPE_Q5_K] = mc_ref_quantize_row_q5_K,
    [MC_DTYPE_Q6_K] = mc_ref_quantize_row_q6_K,
    [MC_DTYPE_Q8_K] = mc_ref_quantize_row_q8_K,
};
_Static_assert(sizeof quantizers / sizeof quantizers[0] == MC_DTYPE_COUNT, "one row per dtype");

mc_ref_quantize_fn mc_ref_quantizer_of(mc_dtype dt)
{
    return (dt >= 0 && dt < MC_DTYPE_COUNT) ? quantizers[dt] : NULL;
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

