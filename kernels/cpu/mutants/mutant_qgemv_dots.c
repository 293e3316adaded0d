/* kernels/cpu/mutants/mutant_qgemv_dots.c: planted-bug copies of the scalar quantised-activation
 * dots added with them: Q4_1's q8_0 dot subtracting its min term (qgemv_dot32.c), Q2_K's q8_K dot
 * taking each sub-block's scale from its pair partner (qgemv_kdot.c).
 * SPDX-License-Identifier: MIT
 *
 * Each runs through the pristine driver and x quantiser; only the row kernel is the planted copy,
 * with exactly one change marked "DEFECT:".
 */
#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_common.h"

static float f16_at(const uint8_t *p)
{
    return mc_f16_to_f32(mc_cpu_load_u16(p));
}

/* qgemv_dot32.c's row for Q4_1 (min at 2, nibbles at 4). DEFECT: m d_x sum v is subtracted. */
static float row_q4_1_q8dot_min_sign(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                     const uint8_t *xq)
{
    (void)x;
    float acc = 0.0f;
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *wb = row + b * block_stride, *xb = xq + b * MC_QGEMV_Q8_0_BYTES;
        const int8_t *v = (const int8_t *)(const void *)(xb + 2);
        int32_t sumi = 0, sumv = 0;
        for (int j = 0; j < 16; j++) {
            sumi += (wb[4 + j] & 0x0F) * v[j] + (wb[4 + j] >> 4) * v[j + 16];
            sumv += v[j] + v[j + 16];
        }
        const float dx = f16_at(xb);
        acc += f16_at(wb) * dx * (float)sumi;
        acc -= f16_at(wb + 2) * (dx * (float)sumv);
    }
    return acc;
}

/* qgemv_kdot.c's Q2_K x q8_K row. DEFECT: sub-block s takes the scale (low nibble) of byte s ^ 1,
 * its neighbour's; the mins stay right. */
static float row_q2_K_q8dot_scales_swapped(const uint8_t *row, int64_t block_stride, int64_t nblocks,
                                           const float *x, const uint8_t *xq)
{
    (void)x;
    float acc = 0.0f;
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *wb = row + b * block_stride, *xb = xq + b * MC_QGEMV_Q8_K_BYTES;
        const int8_t *q8 = (const int8_t *)(const void *)(xb + 4);
        int32_t isum = 0, summs = 0;
        for (int s = 0; s < 16; s++) {
            const int h = s / 8, f = (s % 8) / 2;
            int32_t dot = 0;
            for (int l = 16 * (s % 2); l < 16 * (s % 2) + 16; l++)
                dot += ((wb[16 + 32 * h + l] >> (2 * f)) & 3) * q8[128 * h + 32 * f + l];
            int16_t bsum;
            memcpy(&bsum, xb + 260 + 2 * s, sizeof bsum);
            isum += (wb[s ^ 1] & 0x0F) * dot;
            summs += (wb[s] >> 4) * bsum;
        }
        float dx;
        memcpy(&dx, xb, sizeof dx);
        acc += dx * f16_at(wb + 80) * (float)isum - dx * f16_at(wb + 82) * (float)summs;
    }
    return acc;
}

static const char *supports_q4_1_q8dot(const mc_args *args)
{
    return mc_qgemv_supports_q8dot(&args->u.gemv, MC_DTYPE_Q4_1, true);
}

static const char *supports_q2_K_q8dot(const mc_args *args)
{
    return mc_qgemv_supports_q8dot(&args->u.gemv, MC_DTYPE_Q2_K, false);
}

static mc_status run_q4_1_q8dot_min_sign(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, row_q4_1_q8dot_min_sign, mc_qgemv_quantise_x_q8_0_scalar, err);
}

static mc_status run_q2_K_q8dot_scales_swapped(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, row_q2_K_q8dot_scales_swapped, mc_qgemv_quantise_x_q8_K_scalar, err);
}

const mc_variant mc_variant_mutant_gemv_q4_1_q8dot_min_sign = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q4_1_q8dot_min_sign",
    .supports = supports_q4_1_q8dot, .run = run_q4_1_q8dot_min_sign,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)row_q4_1_q8dot_min_sign,
};

const mc_variant mc_variant_mutant_gemv_q2_K_q8dot_scales_swapped = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q2_K_q8dot_scales_swapped",
    .supports = supports_q2_K_q8dot, .run = run_q2_K_q8dot_scales_swapped,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)row_q2_K_q8dot_scales_swapped,
};
