/* kernels/cpu/mutants/mutant_qgemv.c: planted-bug copies of the quantised GEMV (qgemv_scalar.c): the Q4_0
 * nibble order swapped, and Q8_0 activation rounding ties to even instead of away from zero.
 * SPDX-License-Identifier: MIT
 *
 * Both run through the pristine driver (mc_qgemv_run): only the row kernel or the activation
 * quantiser is the planted copy, with exactly one change marked "DEFECT:".
 */
#include <math.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_common.h"

static float block_scale(const uint8_t *blk)
{
    return mc_f16_to_f32(mc_cpu_load_u16(blk));
}

/* qgemv_scalar.c's dequantising Q4_0 dot. DEFECT: the nibbles are read the other way round (high
 * nibble as element j, low nibble as element j + 16), as in a packing that interleaves pairs. */
static float row_q4_0_swapped(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                              const uint8_t *xq)
{
    (void)xq;
    float acc = 0.0f;
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *blk = row + b * block_stride;
        const float d = block_scale(blk);
        const float *xb = x + b * MC_QGEMV_QK;
        for (int j = 0; j < MC_QGEMV_QK / 2; j++) {
            acc += (d * (float)((blk[2 + j] >> 4) - 8)) * xb[j];
            acc += (d * (float)((blk[2 + j] & 0x0F) - 8)) * xb[j + MC_QGEMV_QK / 2];
        }
    }
    return acc;
}

/* qgemv_scalar.c's copy of ggml's reference activation quantiser (quant-formats.md: roundf, ties
 * away from zero). DEFECT: rintf, which rounds ties to even in the default rounding mode, so
 * x * id = 2.5 becomes 2 instead of 3: not the bytes quantize_row_q8_0_ref produces. */
static void quantise_x_ties_even(const float *x, uint8_t *out, int64_t n)
{
    for (int64_t b = 0; b < n / MC_QGEMV_QK; b++) {
        const float *xb = x + b * MC_QGEMV_QK;
        uint8_t *blk = out + b * MC_QGEMV_Q8_0_BYTES;
        float amax = 0.0f;
        for (int j = 0; j < MC_QGEMV_QK; j++)
            amax = fmaxf(amax, fabsf(xb[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        uint16_t h = mc_f32_to_f16(d);
        memcpy(blk, &h, sizeof h);
        for (int j = 0; j < MC_QGEMV_QK; j++) {
            const float v = rintf(xb[j] * id);
            const int q = fabsf(v) <= 128.0f ? (int)v : 0;
            blk[2 + j] = (uint8_t)(q & 0xFF);
        }
    }
}

static mc_status q4_0_swapped_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, row_q4_0_swapped, NULL, err);
}

static mc_status q8_0_ties_even_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q8_0_q8dot_scalar, quantise_x_ties_even, err);
}

/* qgemv_variants.c's supports() rows. */
static const char *supports_common(const mc_gemv_args *g, mc_dtype a_dtype)
{
    if (g->a.dtype != a_dtype)
        return a_dtype == MC_DTYPE_Q8_0 ? "A is not q8_0" : "A is not q4_0";
    if (!mc_cpu_is_plain_float(g->x.dtype) || !mc_cpu_is_plain_float(g->y.dtype))
        return "x and y must be plain floats";
    if (g->a.ne[0] % MC_QGEMV_QK != 0)
        return "rows are not whole blocks";
    return NULL;
}

static const char *supports_q4_0(const mc_args *args)
{
    return supports_common(&args->u.gemv, MC_DTYPE_Q4_0);
}

static const char *supports_q8_0_q8dot(const mc_args *args)
{
    if (args->u.gemv.xq != MC_DTYPE_Q8_0)
        return "quantises x to q8_0: needs xq=q8_0";
    return supports_common(&args->u.gemv, MC_DTYPE_Q8_0);
}

const mc_variant mc_variant_mutant_gemv_q4_0_nibbles_swapped = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q4_0_nibbles_swapped",
    .supports = supports_q4_0, .run = q4_0_swapped_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)row_q4_0_swapped,
};

const mc_variant mc_variant_mutant_gemv_q8_0_ties_even = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q8_0_ties_even",
    .supports = supports_q8_0_q8dot, .run = q8_0_ties_even_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)quantise_x_ties_even,
};
