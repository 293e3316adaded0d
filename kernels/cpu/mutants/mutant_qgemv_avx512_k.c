/* kernels/cpu/mutants/mutant_qgemv_avx512_k.c: planted-bug copies of the AVX-512 VNNI q8_K dots
 * (qgemv_avx512_k.c): Q4_K with each pair of sub-blocks taking each other's scale, Q6_K with
 * elements 32..63 of each half taking their high bits from the wrong position of qh.
 * SPDX-License-Identifier: MIT
 *
 * Each runs through the pristine rows driver (mc_qgemv_run_rows) and x quantiser, one row at a
 * time; only the block arithmetic is the planted copy, with exactly one change marked "DEFECT:".
 */
#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_avx512_k.h"

extern const mc_variant mc_variant_gemv_q4_K_q8dot_avx512;
extern const mc_variant mc_variant_gemv_q6_K_q8dot_avx512;

/* qgemv_avx512_k.c's Q4_K kernel with its scale spread. DEFECT: each 128-bit lane's low and high
 * halves take each other's sub-block, so the low nibbles (sub-blocks 4 p, 4 p + 2) are scaled by
 * sc_{4p+1}, sc_{4p+3} and the high ones by sc_{4p}, sc_{4p+2}. */
static const uint16_t spread_swapped[2][32] = {
    {1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 3, 3, 3, 3, 2, 2, 2, 2, 3, 3, 3, 3, 2, 2, 2, 2},
    {5, 5, 5, 5, 4, 4, 4, 4, 5, 5, 5, 5, 4, 4, 4, 4, 7, 7, 7, 7, 6, 6, 6, 6, 7, 7, 7, 7, 6, 6, 6, 6},
};

/* One row at a time: the eight-row kernel on eight copies of it. */
VNNI512 static float row_q4_K_scales_swapped(const uint8_t *row, int64_t block_stride, int64_t nblocks,
                                             const uint8_t *xq)
{
    const uint8_t *const rows[8] = {row, row, row, row, row, row, row, row};
    float out[8];
    mc_qgemv512_q4_K_rows8(rows, block_stride, nblocks, xq, spread_swapped, out);
    return out[0];
}

/* qgemv_avx512_k.c's Q6_K row. DEFECT: the upper half of the low codes (f = 1, elements
 * 128 h + 32 .. 63) shifts qh left by 4 like f = 0, so it reads bits 0-1 where it needs 2-3. */
VNNI512 static float row_q6_K_high_bits(const uint8_t *row, int64_t block_stride, int64_t nblocks,
                                        const uint8_t *xq)
{
    __m512 acc = _mm512_setzero_ps();
    __m256 acc_off = _mm256_setzero_ps();
    const __m512i low4 = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
    const __m512i shl = _mm512_set1_epi16(4);
    const __m512i shr = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *xb = xq + b * MC_QGEMV_Q8_K_BYTES, *wb = row + b * block_stride;
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(wb + 192)));
        const __m512i sc = _mm512_cvtepu16_epi32(sc16);
        __m512i sumi = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            const __m512i ql = _mm512_loadu_si512(wb + 64 * h);
            const __m512i qh =
                _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(const void *)(wb + 128 + 32 * h)));
            const __m512i lo = _mm512_or_si512(_mm512_and_si512(ql, low4),
                                               _mm512_and_si512(_mm512_sllv_epi16(qh, shl), bits45));
            const __m512i hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                                               _mm512_and_si512(_mm512_srlv_epi16(qh, shr), bits45));
            sumi = mc_qgemv512_scaled_dot(sumi, lo, _mm512_loadu_si512(xb + 4 + 128 * h),
                                          mc_qgemv512_lane_scales(sc, 8 * h, 4));
            sumi = mc_qgemv512_scaled_dot(sumi, hi, _mm512_loadu_si512(xb + 4 + 128 * h + 64),
                                          mc_qgemv512_lane_scales(sc, 8 * h + 4, 4));
        }
        const __m256i off = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(xb + 260)), sc16);
        const __m512 ddx = _mm512_set1_ps(mc_qgemv512_f16_at(wb + 208) * mc_cpu_load_f32(xb));
        acc = _mm512_fmadd_ps(ddx, _mm512_cvtepi32_ps(sumi), acc);
        acc_off = _mm256_fmadd_ps(_mm512_castps512_ps256(ddx), _mm256_cvtepi32_ps(off), acc_off);
    }
    return mc_qgemv512_hsum512(acc) - 32.0f * mc_qgemv512_hsum256(acc_off);
}

static void rows_q4_K_scales_swapped(const uint8_t *row, int64_t row_stride, int nrows, int64_t block_stride,
                                     int64_t nblocks, const float *x, const uint8_t *xq, float *out)
{
    (void)x;
    for (int i = 0; i < nrows; i++)
        out[i] = row_q4_K_scales_swapped(row + i * row_stride, block_stride, nblocks, xq);
}

static void rows_q6_K_high_bits(const uint8_t *row, int64_t row_stride, int nrows, int64_t block_stride,
                                int64_t nblocks, const float *x, const uint8_t *xq, float *out)
{
    (void)x;
    for (int i = 0; i < nrows; i++)
        out[i] = row_q6_K_high_bits(row + i * row_stride, block_stride, nblocks, xq);
}

static mc_status run_q4_K_scales_swapped(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run_rows(kc, &args->u.gemv, rows_q4_K_scales_swapped, mc_qgemv_quantise_x_q8_K_scalar, err);
}

static mc_status run_q6_K_high_bits(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run_rows(kc, &args->u.gemv, rows_q6_K_high_bits, mc_qgemv_quantise_x_q8_K_scalar, err);
}

static const char *probe(mc_backend_ctx *ctx)
{
    return mc_variant_gemv_q4_K_q8dot_avx512.probe(ctx);
}

static const char *supports_q4_K(const mc_args *args)
{
    return mc_variant_gemv_q4_K_q8dot_avx512.supports(args);
}

static const char *supports_q6_K(const mc_args *args)
{
    return mc_variant_gemv_q6_K_q8dot_avx512.supports(args);
}

const mc_variant mc_variant_mutant_gemv_q4_K_avx512_scales_swapped = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q4_K_avx512_scales_swapped",
    .probe = probe, .requires = "avx512f,avx512bw,avx512vl,avx512_vnni", .supports = supports_q4_K,
    .run = run_q4_K_scales_swapped, .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)row_q4_K_scales_swapped,
};

const mc_variant mc_variant_mutant_gemv_q6_K_avx512_high_bits = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q6_K_avx512_high_bits",
    .probe = probe, .requires = "avx512f,avx512bw,avx512vl,avx512_vnni", .supports = supports_q6_K,
    .run = run_q6_K_high_bits, .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)row_q6_K_high_bits,
};
