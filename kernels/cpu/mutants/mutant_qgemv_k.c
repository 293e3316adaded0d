/* kernels/cpu/mutants/mutant_qgemv_k.c: planted-bug copies of the other formats' GEMV (qgemv_decode.c,
 * qgemv_kdot.c): Q4_K's sub-block scales swapped in pairs, Q4_1's min added with the wrong sign,
 * Q5_0's fifth bit of the upper half read one position off, Q6_K's q8_K dot taking its high bits
 * from the wrong shift; then one more per scalar variant: Q5_1's min sign, Q2_K's min sign, Q3_K's
 * high bit, Q5_K's fifth bit, Q6_K's scales swapped, Q4_K's q8_K dot adding its mins.
 * SPDX-License-Identifier: MIT
 *
 * Each runs through the pristine driver (mc_qgemv_run) and dot (mc_qgemv_dequant_dot): only the
 * block decoder or row kernel is the planted copy, with exactly one change marked "DEFECT:".
 */
#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_common.h"

static float f16_at(const uint8_t *p)
{
    return mc_f16_to_f32(mc_cpu_load_u16(p));
}

/* qgemv_decode.c's Q4_K decoder. DEFECT: sub-blocks 2c and 2c + 1 take each other's scale and
 * min (the low nibbles get the scale meant for the high ones). */
static void decode_q4_K_swapped(const uint8_t *blk, float *out)
{
    const float d = f16_at(blk), dmin = f16_at(blk + 2);
    const uint8_t *ql = blk + 16;
    for (int c = 0; c < 4; c++, ql += 32) {
        int sc, m;
        mc_qgemv_scale_min_k4(2 * c + 1, blk + 4, &sc, &m);
        const float d1 = d * (float)sc, m1 = dmin * (float)m;
        mc_qgemv_scale_min_k4(2 * c, blk + 4, &sc, &m);
        const float d2 = d * (float)sc, m2 = dmin * (float)m;
        for (int l = 0; l < 32; l++)
            *out++ = d1 * (float)(ql[l] & 0x0F) - m1;
        for (int l = 0; l < 32; l++)
            *out++ = d2 * (float)(ql[l] >> 4) - m2;
    }
}

/* qgemv_decode.c's Q4_1 decoder. DEFECT: x = q d - m instead of q d + m. */
static void decode_q4_1_min_sign(const uint8_t *blk, float *out)
{
    const float d = f16_at(blk), m = f16_at(blk + 2);
    for (int j = 0; j < 16; j++) {
        out[j] = (float)(blk[4 + j] & 0x0F) * d - m;
        out[j + 16] = (float)(blk[4 + j] >> 4) * d - m;
    }
}

/* qgemv_decode.c's Q5_0 decoder. DEFECT: element j + 16's fifth bit is read from bit j + 15 of
 * qh (shift 11 where it must be 12). */
static void decode_q5_0_high_bit(const uint8_t *blk, float *out)
{
    const uint32_t qh = (uint32_t)blk[2] | (uint32_t)blk[3] << 8 | (uint32_t)blk[4] << 16 | (uint32_t)blk[5] << 24;
    const float d = f16_at(blk);
    for (int j = 0; j < 16; j++) {
        const int lo = (blk[6 + j] & 0x0F) | (int)(((qh >> j) << 4) & 0x10);
        const int hi = (blk[6 + j] >> 4) | (int)((qh >> (j + 11)) & 0x10);
        out[j] = (float)(lo - 16) * d;
        out[j + 16] = (float)(hi - 16) * d;
    }
}

/* qgemv_decode.c's Q5_1 decoder. DEFECT: x = q d - m. */
static void decode_q5_1_min_sign(const uint8_t *blk, float *out)
{
    const uint32_t qh = (uint32_t)blk[4] | (uint32_t)blk[5] << 8 | (uint32_t)blk[6] << 16 | (uint32_t)blk[7] << 24;
    const float d = f16_at(blk), m = f16_at(blk + 2);
    for (int j = 0; j < 16; j++) {
        const int lo = (blk[8 + j] & 0x0F) | (int)(((qh >> j) << 4) & 0x10);
        const int hi = (blk[8 + j] >> 4) | (int)((qh >> (j + 12)) & 0x10);
        out[j] = (float)lo * d - m;
        out[j + 16] = (float)hi * d - m;
    }
}

/* qgemv_decode.c's Q2_K decoder. DEFECT: the min is added (dl q + ml). */
static void decode_q2_K_min_sign(const uint8_t *blk, float *out)
{
    const float d = f16_at(blk + 80), dmin = f16_at(blk + 82);
    const uint8_t *q = blk + 16;
    int is = 0;
    for (int n = 0; n < 256; n += 128, q += 32)
        for (int shift = 0; shift < 8; shift += 2)
            for (int half = 0; half < 2; half++) {
                const uint8_t sc = blk[is++];
                const float dl = d * (float)(sc & 0x0F), ml = dmin * (float)(sc >> 4);
                for (int l = 0; l < 16; l++)
                    *out++ = dl * (float)((q[l + 16 * half] >> shift) & 3) + ml;
            }
}

/* qgemv_decode.c's Q3_K decoder. DEFECT: the high-bit mask of the second half (n = 128) starts
 * over at bit 0 instead of going on at bit 4. */
static void decode_q3_K_high_bit(const uint8_t *blk, float *out)
{
    const float d_all = f16_at(blk + 108);
    const uint8_t *hm = blk, *q = blk + 32, *s = blk + 96;
    int scales[16];
    for (int j = 0; j < 16; j++) {
        const int low = j < 8 ? (s[j] & 0x0F) : (s[j - 8] >> 4);
        scales[j] = (low | (((s[8 + (j & 3)] >> (2 * (j >> 2))) & 3) << 4)) - 32;
    }
    int is = 0;
    for (int n = 0; n < 256; n += 128, q += 32) {
        uint8_t bit = 1;
        for (int shift = 0; shift < 8; shift += 2, bit = (uint8_t)(bit << 1))
            for (int half = 0; half < 2; half++) {
                const float dl = d_all * (float)scales[is++];
                for (int l = 16 * half; l < 16 * half + 16; l++)
                    *out++ = dl * (float)(((q[l] >> shift) & 3) - ((hm[l] & bit) ? 0 : 4));
            }
    }
}

/* qgemv_decode.c's Q5_K decoder. DEFECT: the fifth bits of the high nibbles are read from the
 * same qh bit as the low nibbles' (u1 for both). */
static void decode_q5_K_high_bit(const uint8_t *blk, float *out)
{
    const float d = f16_at(blk), dmin = f16_at(blk + 2);
    const uint8_t *ql = blk + 48, *qh = blk + 16;
    uint8_t u1 = 1;
    for (int c = 0; c < 4; c++, ql += 32, u1 = (uint8_t)(u1 << 2)) {
        int sc, m;
        mc_qgemv_scale_min_k4(2 * c, blk + 4, &sc, &m);
        const float d1 = d * (float)sc, m1 = dmin * (float)m;
        mc_qgemv_scale_min_k4(2 * c + 1, blk + 4, &sc, &m);
        const float d2 = d * (float)sc, m2 = dmin * (float)m;
        for (int l = 0; l < 32; l++)
            *out++ = d1 * (float)((ql[l] & 0x0F) + ((qh[l] & u1) ? 16 : 0)) - m1;
        for (int l = 0; l < 32; l++)
            *out++ = d2 * (float)((ql[l] >> 4) + ((qh[l] & u1) ? 16 : 0)) - m2;
    }
}

/* qgemv_decode.c's Q6_K decoder. DEFECT: the two 16-element halves of each 32 swap scales
 * (scales[is + 1] where scales[is] belongs). */
static void decode_q6_K_scales_swapped(const uint8_t *blk, float *out)
{
    const float d = f16_at(blk + 208);
    const uint8_t *ql = blk, *qh = blk + 128;
    const int8_t *sc = (const int8_t *)(const void *)(blk + 192);
    for (int n = 0; n < 256; n += 128, out += 128, ql += 64, qh += 32, sc += 8) {
        for (int l = 0; l < 32; l++) {
            const int is = 1 - l / 16;
            const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            out[l] = d * (float)sc[is] * (float)q1;
            out[l + 32] = d * (float)sc[is + 2] * (float)q2;
            out[l + 64] = d * (float)sc[is + 4] * (float)q3;
            out[l + 96] = d * (float)sc[is + 6] * (float)q4;
        }
    }
}

/* qgemv_kdot.c's Q4_K x Q8_K dot. DEFECT: the mins' term is added, not subtracted. */
static float row_q4_K_q8dot_min_sign(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                     const uint8_t *xq)
{
    (void)x;
    float acc = 0.0f;
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *wb = row + b * block_stride, *xb = xq + b * MC_QGEMV_Q8_K_BYTES;
        const int8_t *q8 = (const int8_t *)(const void *)(xb + 4);
        int32_t sum_scaled = 0, sum_mins = 0;
        for (int s = 0; s < 8; s++) {
            int sc, m;
            mc_qgemv_scale_min_k4(s, wb + 4, &sc, &m);
            const uint8_t *qs = wb + 16 + 32 * (s / 2);
            int32_t dot = 0, bsum = 0;
            for (int l = 0; l < 32; l++) {
                dot += (s % 2 ? (qs[l] >> 4) : (qs[l] & 0x0F)) * q8[32 * s + l];
                bsum += q8[32 * s + l];
            }
            sum_scaled += sc * dot;
            sum_mins += m * bsum;
        }
        const float dx = mc_cpu_load_f32(xb);
        acc += f16_at(wb) * dx * (float)sum_scaled + f16_at(wb + 2) * dx * (float)sum_mins;
    }
    return acc;
}

static float row_q4_K_swapped(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                              const uint8_t *xq)
{
    (void)xq;
    return mc_qgemv_dequant_dot(decode_q4_K_swapped, MC_QGEMV_QK_K, row, block_stride, nblocks, x);
}

static float row_q4_1_min_sign(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq)
{
    (void)xq;
    return mc_qgemv_dequant_dot(decode_q4_1_min_sign, MC_QGEMV_QK, row, block_stride, nblocks, x);
}

static float row_q5_0_high_bit(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq)
{
    (void)xq;
    return mc_qgemv_dequant_dot(decode_q5_0_high_bit, MC_QGEMV_QK, row, block_stride, nblocks, x);
}

/* qgemv_kdot.c's Q6_K x Q8_K dot. DEFECT: the two high bits of quarter f come from shift 2 (f ^ 1)
 * of qh (quarters 0/1 and 2/3 trade their high bits). */
static float row_q6_K_q8dot_high_bits(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                      const uint8_t *xq)
{
    (void)x;
    float acc = 0.0f;
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *wb = row + b * block_stride, *xb = xq + b * MC_QGEMV_Q8_K_BYTES;
        const int8_t *q8 = (const int8_t *)(const void *)(xb + 4);
        const int8_t *scales = (const int8_t *)(const void *)(wb + 192);
        int32_t sumi = 0;
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = wb + 64 * h, *qh = wb + 128 + 32 * h;
            for (int f = 0; f < 4; f++) {
                for (int half = 0; half < 2; half++) {
                    int32_t dot = 0;
                    for (int l = 16 * half; l < 16 * half + 16; l++) {
                        const uint8_t byte = ql[32 * (f & 1) + l];
                        const int low = f < 2 ? (byte & 0x0F) : (byte >> 4);
                        const int q = (low | (((qh[l] >> (2 * (f ^ 1))) & 3) << 4)) - 32;
                        dot += q * q8[128 * h + 32 * f + l];
                    }
                    sumi += scales[8 * h + 2 * f + half] * dot;
                }
            }
        }
        acc += f16_at(wb + 208) * mc_cpu_load_f32(xb) * (float)sumi;
    }
    return acc;
}

static float row_q5_1_min_sign(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq)
{
    (void)xq;
    return mc_qgemv_dequant_dot(decode_q5_1_min_sign, MC_QGEMV_QK, row, block_stride, nblocks, x);
}

static mc_status run_q5_1_min_sign(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, row_q5_1_min_sign, NULL, err);
}

static float row_q2_K_min_sign(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq)
{
    (void)xq;
    return mc_qgemv_dequant_dot(decode_q2_K_min_sign, MC_QGEMV_QK_K, row, block_stride, nblocks, x);
}

static mc_status run_q2_K_min_sign(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, row_q2_K_min_sign, NULL, err);
}

static float row_q3_K_high_bit(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq)
{
    (void)xq;
    return mc_qgemv_dequant_dot(decode_q3_K_high_bit, MC_QGEMV_QK_K, row, block_stride, nblocks, x);
}

static mc_status run_q3_K_high_bit(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, row_q3_K_high_bit, NULL, err);
}

static float row_q5_K_high_bit(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq)
{
    (void)xq;
    return mc_qgemv_dequant_dot(decode_q5_K_high_bit, MC_QGEMV_QK_K, row, block_stride, nblocks, x);
}

static mc_status run_q5_K_high_bit(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, row_q5_K_high_bit, NULL, err);
}

static float row_q6_K_scales_swapped(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                     const uint8_t *xq)
{
    (void)xq;
    return mc_qgemv_dequant_dot(decode_q6_K_scales_swapped, MC_QGEMV_QK_K, row, block_stride, nblocks, x);
}

static mc_status run_q6_K_scales_swapped(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, row_q6_K_scales_swapped, NULL, err);
}

static mc_status run_q4_K_q8dot_min_sign(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, row_q4_K_q8dot_min_sign, mc_qgemv_quantise_x_q8_K_scalar, err);
}

static mc_status run_q4_K_swapped(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, row_q4_K_swapped, NULL, err);
}

static mc_status run_q4_1_min_sign(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, row_q4_1_min_sign, NULL, err);
}

static mc_status run_q5_0_high_bit(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, row_q5_0_high_bit, NULL, err);
}

static mc_status run_q6_K_q8dot_high_bits(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, row_q6_K_q8dot_high_bits, mc_qgemv_quantise_x_q8_K_scalar, err);
}

/* qgemv_variants_k.c's supports() rows. */
static const char *supports_format(const mc_gemv_args *g, mc_dtype dt)
{
    if (g->a.dtype != dt)
        return "A is not this variant's format";
    if (!mc_cpu_is_plain_float(g->x.dtype) || !mc_cpu_is_plain_float(g->y.dtype))
        return "x and y must be plain floats";
    if (g->xq_exact)
        return "computes with x itself: cannot meet xq_exact";
    return NULL;
}

static const char *supports_q4_K(const mc_args *args)
{
    return supports_format(&args->u.gemv, MC_DTYPE_Q4_K);
}

static const char *supports_q4_1(const mc_args *args)
{
    return supports_format(&args->u.gemv, MC_DTYPE_Q4_1);
}

static const char *supports_q5_0(const mc_args *args)
{
    return supports_format(&args->u.gemv, MC_DTYPE_Q5_0);
}

static const char *supports_q6_K_q8dot(const mc_args *args)
{
    if (args->u.gemv.xq != MC_DTYPE_Q8_K)
        return "quantises x to q8_K: needs xq=q8_K";
    return supports_format(&args->u.gemv, MC_DTYPE_Q6_K);
}

static const char *supports_q5_1(const mc_args *args)
{
    return supports_format(&args->u.gemv, MC_DTYPE_Q5_1);
}

static const char *supports_q2_K(const mc_args *args)
{
    return supports_format(&args->u.gemv, MC_DTYPE_Q2_K);
}

static const char *supports_q3_K(const mc_args *args)
{
    return supports_format(&args->u.gemv, MC_DTYPE_Q3_K);
}

static const char *supports_q5_K(const mc_args *args)
{
    return supports_format(&args->u.gemv, MC_DTYPE_Q5_K);
}

static const char *supports_q6_K(const mc_args *args)
{
    return supports_format(&args->u.gemv, MC_DTYPE_Q6_K);
}

static const char *supports_q4_K_q8dot(const mc_args *args)
{
    if (args->u.gemv.xq != MC_DTYPE_Q8_K)
        return "quantises x to q8_K: needs xq=q8_K";
    return supports_format(&args->u.gemv, MC_DTYPE_Q4_K);
}

const mc_variant mc_variant_mutant_gemv_q4_K_scales_swapped = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q4_K_scales_swapped",
    .supports = supports_q4_K, .run = run_q4_K_swapped,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)decode_q4_K_swapped,
};

const mc_variant mc_variant_mutant_gemv_q4_1_min_sign = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q4_1_min_sign",
    .supports = supports_q4_1, .run = run_q4_1_min_sign,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)decode_q4_1_min_sign,
};

const mc_variant mc_variant_mutant_gemv_q5_0_high_bit = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q5_0_high_bit",
    .supports = supports_q5_0, .run = run_q5_0_high_bit,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)decode_q5_0_high_bit,
};

const mc_variant mc_variant_mutant_gemv_q6_K_q8dot_high_bits = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q6_K_q8dot_high_bits",
    .supports = supports_q6_K_q8dot, .run = run_q6_K_q8dot_high_bits,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)row_q6_K_q8dot_high_bits,
};

const mc_variant mc_variant_mutant_gemv_q5_1_min_sign = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q5_1_min_sign",
    .supports = supports_q5_1, .run = run_q5_1_min_sign,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)decode_q5_1_min_sign,
};

const mc_variant mc_variant_mutant_gemv_q2_K_min_sign = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q2_K_min_sign",
    .supports = supports_q2_K, .run = run_q2_K_min_sign,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)decode_q2_K_min_sign,
};

const mc_variant mc_variant_mutant_gemv_q3_K_high_bit = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q3_K_high_bit",
    .supports = supports_q3_K, .run = run_q3_K_high_bit,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)decode_q3_K_high_bit,
};

const mc_variant mc_variant_mutant_gemv_q5_K_high_bit = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q5_K_high_bit",
    .supports = supports_q5_K, .run = run_q5_K_high_bit,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)decode_q5_K_high_bit,
};

const mc_variant mc_variant_mutant_gemv_q6_K_scales_swapped = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q6_K_scales_swapped",
    .supports = supports_q6_K, .run = run_q6_K_scales_swapped,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)decode_q6_K_scales_swapped,
};

const mc_variant mc_variant_mutant_gemv_q4_K_q8dot_min_sign = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q4_K_q8dot_min_sign",
    .supports = supports_q4_K_q8dot, .run = run_q4_K_q8dot_min_sign,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)row_q4_K_q8dot_min_sign,
};
