/* reference/ref_quant_k.c: the K-quant reference quantisers (Q2_K .. Q6_K) and Q8_K, byte-exact
 * with ggml's quantize_row_*_ref (no importance matrix).
 *
 * How the bytes match, numbered:
 *   1. All arithmetic is float in ggml's order of operations, left to right as C evaluates it
 *      (w*x*l is (w*x)*l), with no contraction into fused multiply-adds: ggml's base library is
 *      built without -march flags, so x86-64 has no FMA to contract into, and neither have we.
 *   2. nearest_int is ggml's: add 1.5 * 2^23 and read the low mantissa bits, i.e. round to
 *      nearest even for |v| < 2^22, and a fixed bit pattern otherwise (NaN included). It is
 *      reproduced bit for bit, so even out-of-range inputs give ggml's codes.
 *   3. The searches (make_qx_quants with rmse_type 1 for Q6_K; make_q3_quants for Q3_K;
 *      make_qkx2_quants for Q2_K, Q4_K, Q5_K) visit candidate scales in ggml's order and keep a
 *      candidate only when strictly better, so ties go to the earlier one as in ggml.
 *   4. Integer narrowing (a code stored as uint8 or int8) keeps the low byte, as ggml's casts do
 *      on every two's-complement target.
 *   5. Checked byte for byte against a real ggml (ctest ggml_crosscheck, docs/quant.md) on
 *      finite, huge, infinite and subnormal inputs. NaN inputs are outside the contract: the
 *      searches add NaNs of different payloads (x + dm), and which payload x86 keeps, so which
 *      code nearest_int reads, follows the operand order ggml's compiler chose.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "core/half.h"
#include "core/quant_format.h"
#include "ref_quant.h"

#define GROUP_MAX_EPS 1e-15f /* ggml's "all zero" threshold */

/* Point 2. */
static int nearest_int(float v)
{
    float t = v + 12582912.0f;
    int32_t i;
    memcpy(&i, &t, sizeof i);
    return (i & 0x007FFFFF) - 0x00400000;
}

static int clamp_int(int v, int lo, int hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* ggml's make_qx_quants with rmse_type 1 and no importance weights (w = x^2): signed codes in
 * [-nmax, nmax - 1] stored as L = code + nmax; returns the scale. */
static float make_qx_quants(int n, int nmax, const float *x, int8_t *L)
{
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < GROUP_MAX_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    float iscale = (float)-nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)(l + nmax);
        float w = x[i] * x[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0)
            continue;
        iscale = -((float)nmax + 0.1f * (float)is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
            float w = x[i] * x[i];
            sumlx += w * x[i] * (float)l;
            suml2 += w * (float)l * (float)l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++)
                L[i] = (int8_t)(nmax + clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* ggml's make_q3_quants with do_rmse: codes in [-nmax, nmax - 1] refined one at a time (at most
 * five passes), stored as L = code + nmax. */
static float make_q3_quants(int n, int nmax, const float *x, int8_t *L)
{
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < GROUP_MAX_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    const float iscale = (float)-nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)l;
        float w = x[i] * x[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    for (int itry = 0; itry < 5; itry++) {
        int n_changed = 0;
        for (int i = 0; i < n; i++) {
            float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * (float)L[i];
            if (slx > 0) {
                float sl2 = suml2 - w * (float)L[i] * (float)L[i];
                int new_l = clamp_int(nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
                if (new_l != L[i]) {
                    slx += w * x[i] * (float)new_l;
                    sl2 += w * (float)new_l * (float)new_l;
                    if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (int8_t)new_l;
                        sumlx = slx;
                        suml2 = sl2;
                        n_changed++;
                    }
                }
            }
        }
        if (!n_changed)
            break;
    }
    for (int i = 0; i < n; i++)
        L[i] = (int8_t)(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* ggml's make_qkx2_quants: codes in [0, nmax] against scale and min, searching nstep + 1 scales;
 * the error is weighted by w, absolute (use_mad) or squared. Returns the scale, *the_min = -min. */
static float make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                              float *the_min, float rmin, float rdelta, int nstep, bool use_mad)
{
    uint8_t Laux[32];
    float min = x[0], max = x[0];
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min)
            min = x[i];
        if (x[i] > max)
            max = x[i];
        float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0)
        min = 0;
    if (max == min) {
        memset(L, 0, (size_t)n);
        *the_min = -min;
        return 0.0f;
    }
    float iscale = (float)nmax / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; i++) {
        int l = nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)clamp_int(l, 0, nmax);
        float diff = scale * (float)L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        best_error += weights[i] * diff;
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * (float)is + (float)nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = clamp_int(nearest_int(iscale * (x[i] - min)), 0, nmax);
            Laux[i] = (uint8_t)l;
            float w = weights[i];
            sum_l += w * (float)l;
            sum_l2 += w * (float)l * (float)l;
            sum_xl += w * (float)l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0;
            for (int i = 0; i < n; i++) {
                float diff = this_scale * (float)Laux[i] + this_min - x[i];
                diff = use_mad ? fabsf(diff) : diff * diff;
                cur_error += weights[i] * diff;
            }
            if (cur_error < best_error) {
                memcpy(L, Laux, (size_t)n);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

static float f16_round(const uint8_t *p)
{
    return mc_f16_to_f32((uint16_t)(p[0] | (p[1] << 8)));
}

/* Four 2-bit codes per byte: byte 32 h + l holds L[128 h + l + 32 f] in bits 2f, 2f + 1. */
static void pack_2bit(const uint8_t *L, uint8_t *qs)
{
    for (int j = 0; j < MC_QK_K; j += 128)
        for (int l = 0; l < 32; l++)
            qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
}

/* Q2_K: 84 bytes: scales[16] (low nibble scale, high nibble min), qs[64], fp16 d, fp16 dmin. */
static void quantize_block_q2_K(const float *x, uint8_t *blk)
{
    uint8_t L[MC_QK_K];
    float weights[16], mins[16], scales[16];
    float max_scale = 0, max_min = 0;
    uint8_t *sc = blk, *qs = blk + 16;
    for (int j = 0; j < 16; j++) {
        for (int l = 0; l < 16; l++)
            weights[l] = fabsf(x[16 * j + l]);
        scales[j] = make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], -0.5f, 0.1f, 15, true);
        if (scales[j] > max_scale)
            max_scale = scales[j];
        if (mins[j] > max_min)
            max_min = mins[j];
    }
    if (max_scale > 0) {
        const float iscale = 15.0f / max_scale;
        for (int j = 0; j < 16; j++)
            sc[j] = (uint8_t)nearest_int(iscale * scales[j]);
        mc_ref_quant_store_f16(blk + 80, max_scale / 15.0f);
    } else {
        memset(sc, 0, 16);
        mc_ref_quant_store_f16(blk + 80, 0.0f);
    }
    if (max_min > 0) {
        const float iscale = 15.0f / max_min;
        for (int j = 0; j < 16; j++)
            sc[j] = (uint8_t)(sc[j] | ((unsigned)nearest_int(iscale * mins[j]) << 4)); /* low byte, as ggml */
        mc_ref_quant_store_f16(blk + 82, max_min / 15.0f);
    } else {
        mc_ref_quant_store_f16(blk + 82, 0.0f);
    }
    for (int j = 0; j < 16; j++) {
        const float d = f16_round(blk + 80) * (float)(sc[j] & 0x0F);
        if (d == 0.0f)
            continue;
        const float dm = f16_round(blk + 82) * (float)(sc[j] >> 4);
        for (int ii = 0; ii < 16; ii++)
            L[16 * j + ii] = (uint8_t)clamp_int(nearest_int((x[16 * j + ii] + dm) / d), 0, 3);
    }
    pack_2bit(L, qs);
}

/* Q3_K: 110 bytes: hmask[32], qs[64], scales[12] (16 6-bit scales, offset 32), fp16 d. */
static void quantize_block_q3_K(const float *x, uint8_t *blk)
{
    int8_t L[MC_QK_K];
    float scales[16];
    uint8_t *hmask = blk, *qs = blk + 32, *sc = blk + 96;
    float max_scale = 0, amax = 0;
    for (int j = 0; j < 16; j++) {
        scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j);
        float scale = fabsf(scales[j]);
        if (scale > amax) {
            amax = scale;
            max_scale = scales[j];
        }
    }
    memset(sc, 0, 12);
    if (max_scale != 0.0f) {
        const float iscale = -32.0f / max_scale;
        for (int j = 0; j < 16; j++) {
            int8_t l = (int8_t)nearest_int(iscale * scales[j]);
            l = (int8_t)(clamp_int(l, -32, 31) + 32);
            if (j < 8)
                sc[j] = (uint8_t)(l & 0x0F);
            else
                sc[j - 8] = (uint8_t)(sc[j - 8] | ((l & 0x0F) << 4));
            l = (int8_t)(l >> 4);
            sc[8 + j % 4] = (uint8_t)(sc[8 + j % 4] | (l << (2 * (j / 4))));
        }
        mc_ref_quant_store_f16(blk + 108, 1 / iscale);
    } else {
        mc_ref_quant_store_f16(blk + 108, 0.0f);
    }
    for (int j = 0; j < 16; j++) {
        const float d = f16_round(blk + 108) * (float)mc_quant_scale_q3_K(j, sc);
        if (d == 0.0f)
            continue;
        for (int ii = 0; ii < 16; ii++)
            L[16 * j + ii] = (int8_t)(clamp_int(nearest_int(x[16 * j + ii] / d), -4, 3) + 4);
    }
    memset(hmask, 0, 32);
    for (int j = 0; j < MC_QK_K; j++) { /* element j's high bit: bit j / 32 of hmask[j % 32] */
        if (L[j] > 3) {
            hmask[j % 32] = (uint8_t)(hmask[j % 32] | (1 << (j / 32)));
            L[j] = (int8_t)(L[j] - 4);
        }
    }
    pack_2bit((const uint8_t *)L, qs);
}

/* Q4_K and Q5_K share the scale search: 8 sub-blocks of 32 by make_qkx2_quants (weights
 * av_x + |x|), then the 6-bit scales and mins packed as get_scale_min_k4 reads them, then every
 * code again against the rounded scales. nmax is 15 or 31. */
static void quantize_k4_scales(const float *x, uint8_t *blk, uint8_t *L, int nmax, float rmin, int nstep)
{
    float weights[32], mins[8], scales[8];
    float max_scale = 0, max_min = 0;
    uint8_t *sc = blk + 4;
    for (int j = 0; j < 8; j++) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++)
            sum_x2 += x[32 * j + l] * x[32 * j + l];
        const float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++)
            weights[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], rmin, 0.1f, nstep, false);
        if (scales[j] > max_scale)
            max_scale = scales[j];
        if (mins[j] > max_min)
            max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
    for (int j = 0; j < 8; j++) {
        uint8_t ls = (uint8_t)nearest_int(inv_scale * scales[j]);
        uint8_t lm = (uint8_t)nearest_int(inv_min * mins[j]);
        ls = ls < 63 ? ls : 63;
        lm = lm < 63 ? lm : 63;
        if (j < 4) {
            sc[j] = ls;
            sc[j + 4] = lm;
        } else {
            sc[j + 4] = (uint8_t)((ls & 0x0F) | ((lm & 0x0F) << 4));
            sc[j - 4] = (uint8_t)(sc[j - 4] | ((ls >> 4) << 6));
            sc[j] = (uint8_t)(sc[j] | ((lm >> 4) << 6));
        }
    }
    mc_ref_quant_store_f16(blk, max_scale / 63.0f);
    mc_ref_quant_store_f16(blk + 2, max_min / 63.0f);
    for (int j = 0; j < 8; j++) {
        uint8_t s, m;
        mc_quant_scale_min_k4(j, sc, &s, &m);
        const float d = f16_round(blk) * (float)s;
        if (d == 0.0f)
            continue;
        const float dm = f16_round(blk + 2) * (float)m;
        for (int ii = 0; ii < 32; ii++)
            L[32 * j + ii] = (uint8_t)clamp_int(nearest_int((x[32 * j + ii] + dm) / d), 0, nmax);
    }
}

/* Q4_K: 144 bytes: fp16 d, fp16 dmin, scales[12], qs[128] (byte 32 c + l: element 64 c + l low,
 * 64 c + 32 + l high). */
static void quantize_block_q4_K(const float *x, uint8_t *blk)
{
    uint8_t L[MC_QK_K];
    quantize_k4_scales(x, blk, L, 15, -1.0f, 20);
    uint8_t *q = blk + 16;
    for (int j = 0; j < MC_QK_K; j += 64, q += 32)
        for (int l = 0; l < 32; l++)
            q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
}

/* Q5_K: 176 bytes: as Q4_K with qh[32] at 16 (bit 2 c of qh[l]: element 64 c + l's fifth bit,
 * bit 2 c + 1: element 64 c + 32 + l's) and qs[128] at 48. */
static void quantize_block_q5_K(const float *x, uint8_t *blk)
{
    uint8_t L[MC_QK_K];
    quantize_k4_scales(x, blk, L, 31, -0.5f, 15);
    uint8_t *qh = blk + 16, *ql = blk + 48;
    memset(qh, 0, 32);
    uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < MC_QK_K; n += 64) {
        for (int j = 0; j < 32; j++) {
            int l1 = L[n + j], l2 = L[n + j + 32];
            if (l1 > 15) {
                l1 -= 16;
                qh[j] |= m1;
            }
            if (l2 > 15) {
                l2 -= 16;
                qh[j] |= m2;
            }
            ql[j] = (uint8_t)(l1 | (l2 << 4));
        }
        m1 = (uint8_t)(m1 << 2);
        m2 = (uint8_t)(m2 << 2);
        ql += 32;
    }
}

/* Q6_K: 210 bytes: ql[128], qh[64], int8 scales[16], fp16 d. */
static void quantize_block_q6_K(const float *x, uint8_t *blk)
{
    int8_t L[MC_QK_K];
    float scales[16];
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < 16; ib++) {
        scales[ib] = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib);
        const float abs_scale = fabsf(scales[ib]);
        if (abs_scale > max_abs_scale) {
            max_abs_scale = abs_scale;
            max_scale = scales[ib];
        }
    }
    if (max_abs_scale < GROUP_MAX_EPS) {
        memset(blk, 0, MC_Q6_K_BLOCK_BYTES); /* d = +0 too */
        return;
    }
    const float iscale = -128.0f / max_scale;
    mc_ref_quant_store_f16(blk + 208, 1 / iscale);
    int8_t *sc = (int8_t *)(blk + 192);
    for (int ib = 0; ib < 16; ib++) {
        const int v = nearest_int(iscale * scales[ib]);
        sc[ib] = (int8_t)(uint8_t)(v < 127 ? v : 127);
    }
    for (int j = 0; j < 16; j++) {
        const float d = f16_round(blk + 208) * (float)sc[j];
        if (d == 0.0f)
            continue;
        for (int ii = 0; ii < 16; ii++)
            L[16 * j + ii] = (int8_t)(clamp_int(nearest_int(x[16 * j + ii] / d), -32, 31) + 32);
    }
    uint8_t *ql = blk, *qh = blk + 128;
    for (int j = 0; j < MC_QK_K; j += 128, ql += 64, qh += 32) {
        for (int l = 0; l < 32; l++) {
            const uint8_t q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF;
            const uint8_t q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
            ql[l] = (uint8_t)(q1 | (q3 << 4));
            ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
            qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                              ((L[j + l + 96] >> 4) << 6));
        }
    }
}

/* Q8_K: 292 bytes: f32 d (little-endian), int8 qs[256], int16 bsums[16] (sums of 16 codes). The
 * largest magnitude keeps its sign: iscale = -127 / max, d = 1 / iscale. */
static void quantize_block_q8_K(const float *x, uint8_t *blk)
{
    float max = 0, amax = 0;
    for (int j = 0; j < MC_QK_K; j++) {
        float ax = fabsf(x[j]);
        if (ax > amax) {
            amax = ax;
            max = x[j];
        }
    }
    float d = 0.0f;
    memset(blk, 0, MC_Q8_K_BLOCK_BYTES);
    if (amax != 0.0f) {
        const float iscale = -127.0f / max;
        for (int j = 0; j < MC_QK_K; j++) {
            const int v = nearest_int(iscale * x[j]);
            blk[4 + j] = (uint8_t)(v < 127 ? v : 127);
        }
        for (int j = 0; j < 16; j++) {
            int sum = 0;
            for (int ii = 0; ii < 16; ii++)
                sum += (int8_t)blk[4 + 16 * j + ii];
            blk[260 + 2 * j] = (uint8_t)(sum & 0xFF);
            blk[261 + 2 * j] = (uint8_t)((sum >> 8) & 0xFF);
        }
        d = 1 / iscale;
    }
    uint32_t bits;
    memcpy(&bits, &d, sizeof bits);
    for (int i = 0; i < 4; i++)
        blk[i] = (uint8_t)(bits >> (8 * i));
}

typedef void (*quantize_block_fn)(const float *x, uint8_t *blk);

static void quantize_superblocks(quantize_block_fn f, int block_bytes, const float *x, uint8_t *out, int64_t n)
{
    for (int64_t b = 0; b < n / MC_QK_K; b++)
        f(x + b * MC_QK_K, out + b * block_bytes);
}

void mc_ref_quantize_row_q2_K(const float *x, uint8_t *out, int64_t n)
{
    quantize_superblocks(quantize_block_q2_K, MC_Q2_K_BLOCK_BYTES, x, out, n);
}

void mc_ref_quantize_row_q3_K(const float *x, uint8_t *out, int64_t n)
{
    quantize_superblocks(quantize_block_q3_K, MC_Q3_K_BLOCK_BYTES, x, out, n);
}

void mc_ref_quantize_row_q4_K(const float *x, uint8_t *out, int64_t n)
{
    quantize_superblocks(quantize_block_q4_K, MC_Q4_K_BLOCK_BYTES, x, out, n);
}

void mc_ref_quantize_row_q5_K(const float *x, uint8_t *out, int64_t n)
{
    quantize_superblocks(quantize_block_q5_K, MC_Q5_K_BLOCK_BYTES, x, out, n);
}

void mc_ref_quantize_row_q6_K(const float *x, uint8_t *out, int64_t n)
{
    quantize_superblocks(quantize_block_q6_K, MC_Q6_K_BLOCK_BYTES, x, out, n);
}

void mc_ref_quantize_row_q8_K(const float *x, uint8_t *out, int64_t n)
{
    quantize_superblocks(quantize_block_q8_K, MC_Q8_K_BLOCK_BYTES, x, out, n);
}

/* The Q8_K activation error, as mc_ref_q8_0_act_error: with s = amax / 127, iscale = fl(127 /
 * max) and d = fl(1 / iscale) are each within two roundings of 1/s and s, t = fl(iscale x) is
 * x / s (1 + r), |r| <= 2u, and |q - t| <= 1/2 (either tie rule; |t| <= 127 (1 + 2u) so the clamp
 * at 127 moves nothing by more than that). Then |x - q d| <= |q - t| |d| + |t d - x| <=
 * s (1/2)(1 + 3u) + 127 s (4u), below s (1/2 + 2^-15). No fp16 step: d stays f32. */
double mc_ref_q8_K_act_error(const float *x)
{
    double amax = 0.0;
    for (int j = 0; j < MC_QK_K; j++)
        amax = fmax(amax, fabs((double)x[j]));
    return amax / 127.0 * (0.5 + 0x1p-15 + 0x1p-40);
}
