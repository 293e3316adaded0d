/* kernels/cpu/mutants/mutant_qgemv_simd.c: planted-bug copies of the AVX2 rows added with them:
 * Q5_0 dequantising (qgemv_avx2_32.c) with elements 16..23 taking their fifth bit from qh byte 1,
 * Q2_K dequantising (qgemv_avx2_k23.c) adding its min, Q5_1's q8_0 dot (qgemv_avx2_32.c) subtracting
 * its min term, Q3_K's q8_K dot (qgemv_avx2_k23.c) reading its high bit one position off.
 * SPDX-License-Identifier: MIT
 *
 * Each runs through the pristine driver and x quantiser; only the row kernel is the planted copy,
 * with exactly one change marked "DEFECT:". Functions carry the AVX2 target themselves (this file
 * is built without -mavx2) and run only after the probe.
 */
#include <immintrin.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_common.h"

#define AVX2_TARGET __attribute__((target("avx2,fma,f16c")))

AVX2_TARGET static float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static float f16_at(const uint8_t *p)
{
    return mc_qgemv_f16_table[p[0] | p[1] << 8];
}

AVX2_TARGET static __m256i lanes8(const uint8_t *p)
{
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)p));
}

AVX2_TARGET static __m256i udot32(__m256i u, __m256i s)
{
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/* The 32 codes of a Q5 block (nibbles at qs, fifth bits at qh), bytes in element order.
 * hi_lane is the byte of qh that elements 16..23 read: 2 is right. */
AVX2_TARGET static __m256i q5_codes(const uint8_t *qh, const uint8_t *qs, long long hi_lane)
{
    const __m128i packed = _mm_loadu_si128((const __m128i *)(const void *)qs);
    const __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(packed), _mm_srli_epi16(packed, 4), 1);
    uint32_t bits;
    memcpy(&bits, qh, sizeof bits);
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32((int)bits), _mm256_set_epi64x(0x0303030303030303, hi_lane * 0x0101010101010101LL,
                                                         0x0101010101010101, 0));
    const __m256i set = _mm256_cmpeq_epi8(_mm256_or_si256(spread, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe)),
                                          _mm256_set1_epi64x(-1));
    return _mm256_or_si256(_mm256_and_si256(both, _mm256_set1_epi8(0x0F)),
                           _mm256_and_si256(set, _mm256_set1_epi8(0x10)));
}

/* qgemv_avx2_32.c's Q5_0 dequantising row, one accumulator. DEFECT: elements 16..23 read their
 * fifth bits from qh byte 1 (bits 8..15) instead of byte 2. */
AVX2_TARGET static float row_q5_0_avx2_high_bit(const uint8_t *row, int64_t block_stride, int64_t nblocks,
                                                const float *x, const uint8_t *xq)
{
    (void)xq;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *blk = row + b * block_stride;
        const float d = f16_at(blk);
        const __m256i q = q5_codes(blk + 2, blk + 6, 1);
        const __m128i halves[2] = {_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1)};
        for (int i = 0; i < 4; i++) {
            const __m128i part = i % 2 ? _mm_srli_si128(halves[i / 2], 8) : halves[i / 2];
            const __m256 w = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(part)),
                                             _mm256_set1_ps(-16.0f * d));
            acc = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + b * MC_QGEMV_QK + 8 * i), acc);
        }
    }
    return hsum(acc);
}

/* qgemv_avx2_k23.c's Q2_K dequantising row, one accumulator. DEFECT: w = d sc q + dmin m. */
AVX2_TARGET static float row_q2_K_avx2_min_sign(const uint8_t *row, int64_t block_stride, int64_t nblocks,
                                                const float *x, const uint8_t *xq)
{
    (void)xq;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *blk = row + b * block_stride;
        const float d = f16_at(blk + 80), dmin = f16_at(blk + 82);
        for (int s = 0; s < 16; s++) {
            const int h = s / 8, f = (s % 8) / 2;
            const __m256 dv = _mm256_set1_ps(d * (float)(blk[s] & 0x0F));
            const __m256 mv = _mm256_set1_ps(dmin * (float)(blk[s] >> 4));
            for (int l = 16 * (s % 2); l < 16 * (s % 2) + 16; l += 8) {
                const __m256i q = _mm256_and_si256(
                    _mm256_srl_epi32(lanes8(blk + 16 + 32 * h + l), _mm_cvtsi32_si128(2 * f)), _mm256_set1_epi32(3));
                const __m256 w = _mm256_fmadd_ps(dv, _mm256_cvtepi32_ps(q), mv);
                acc = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + b * MC_QGEMV_QK_K + 128 * h + 32 * f + l), acc);
            }
        }
    }
    return hsum(acc);
}

/* qgemv_avx2_32.c's Q5_1 x q8_0 row. DEFECT: m d_x sum v is subtracted. */
AVX2_TARGET static float row_q5_1_q8dot_avx2_min_sign(const uint8_t *row, int64_t block_stride, int64_t nblocks,
                                                      const float *x, const uint8_t *xq)
{
    (void)x;
    __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *wb = row + b * block_stride, *xb = xq + b * MC_QGEMV_Q8_0_BYTES;
        const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(xb + 2));
        const __m256i sumv = udot32(_mm256_set1_epi8(1), v);
        const __m256i sumi = udot32(q5_codes(wb + 4, wb + 8, 2), v);
        const float dx = f16_at(xb);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(f16_at(wb) * dx), _mm256_cvtepi32_ps(sumi), acc);
        accm = _mm256_fmadd_ps(_mm256_set1_ps(f16_at(wb + 2) * dx), _mm256_cvtepi32_ps(sumv), accm);
    }
    return hsum(_mm256_sub_ps(acc, accm));
}

/* qgemv_avx2_k23.c's Q3_K x q8_K row. DEFECT: quarter f of half h reads hmask bit 4 h + (f ^ 1). */
AVX2_TARGET static float row_q3_K_q8dot_avx2_high_bit(const uint8_t *row, int64_t block_stride, int64_t nblocks,
                                                       const float *x, const uint8_t *xq)
{
    (void)x;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *wb = row + b * block_stride, *xb = xq + b * MC_QGEMV_Q8_K_BYTES;
        int sc[16];
        int32_t offset = 0;
        mc_qgemv_scales_q3_K(wb + 96, sc);
        for (int s = 0; s < 16; s++) {
            int16_t bsum;
            memcpy(&bsum, xb + 260 + 2 * s, sizeof bsum);
            offset += 4 * sc[s] * bsum;
        }
        __m256i sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const __m256i q2 = _mm256_loadu_si256((const __m256i *)(const void *)(wb + 32 + 32 * h));
            const __m256i hm = _mm256_loadu_si256((const __m256i *)(const void *)wb);
            for (int f = 0; f < 4; f++) {
                const __m256i lo =
                    _mm256_and_si256(_mm256_srl_epi16(q2, _mm_cvtsi32_si128(2 * f)), _mm256_set1_epi8(3));
                const __m256i hb = _mm256_and_si256(_mm256_srl_epi16(hm, _mm_cvtsi32_si128(4 * h + (f ^ 1))),
                                                    _mm256_set1_epi8(1));
                const __m256i q = _mm256_or_si256(lo, _mm256_slli_epi16(hb, 2));
                const int s = 8 * h + 2 * f;
                const __m256i scales = _mm256_setr_epi32(sc[s], sc[s], sc[s], sc[s], sc[s + 1], sc[s + 1], sc[s + 1],
                                                         sc[s + 1]);
                const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(xb + 4 + 128 * h + 32 * f));
                sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(udot32(q, v), scales));
            }
        }
        sumi = _mm256_sub_epi32(sumi, _mm256_setr_epi32(offset, 0, 0, 0, 0, 0, 0, 0));
        float dx;
        memcpy(&dx, xb, sizeof dx);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dx * f16_at(wb + 108)), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum(acc);
}

static const char *probe_avx2(mc_backend_ctx *ctx)
{
    (void)ctx;
    return mc_cpu_has_avx2() ? NULL : "needs AVX2, FMA and F16C";
}

static const char *supports_q5_0(const mc_args *args)
{
    return mc_qgemv_supports_dequant(&args->u.gemv, MC_DTYPE_Q5_0);
}

static const char *supports_q2_K(const mc_args *args)
{
    return mc_qgemv_supports_dequant(&args->u.gemv, MC_DTYPE_Q2_K);
}

static const char *supports_q5_1_q8dot(const mc_args *args)
{
    return mc_qgemv_supports_q8dot(&args->u.gemv, MC_DTYPE_Q5_1, false);
}

static const char *supports_q3_K_q8dot(const mc_args *args)
{
    return mc_qgemv_supports_q8dot(&args->u.gemv, MC_DTYPE_Q3_K, false);
}

static mc_status run_q5_0_avx2_high_bit(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, row_q5_0_avx2_high_bit, NULL, err);
}

static mc_status run_q2_K_avx2_min_sign(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, row_q2_K_avx2_min_sign, NULL, err);
}

static mc_status run_q5_1_q8dot_avx2_min_sign(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, row_q5_1_q8dot_avx2_min_sign, mc_qgemv_quantise_x_q8_0_avx2, err);
}

static mc_status run_q3_K_q8dot_avx2_high_bit(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, row_q3_K_q8dot_avx2_high_bit, mc_qgemv_quantise_x_q8_K_scalar, err);
}

const mc_variant mc_variant_mutant_gemv_q5_0_avx2_high_bit = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q5_0_avx2_high_bit",
    .probe = probe_avx2, .requires = "avx2,fma,f16c", .supports = supports_q5_0, .run = run_q5_0_avx2_high_bit,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)row_q5_0_avx2_high_bit,
};

const mc_variant mc_variant_mutant_gemv_q2_K_avx2_min_sign = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q2_K_avx2_min_sign",
    .probe = probe_avx2, .requires = "avx2,fma,f16c", .supports = supports_q2_K, .run = run_q2_K_avx2_min_sign,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)row_q2_K_avx2_min_sign,
};

const mc_variant mc_variant_mutant_gemv_q5_1_q8dot_avx2_min_sign = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q5_1_q8dot_avx2_min_sign",
    .probe = probe_avx2, .requires = "avx2,fma,f16c", .supports = supports_q5_1_q8dot,
    .run = run_q5_1_q8dot_avx2_min_sign, .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)row_q5_1_q8dot_avx2_min_sign,
};

const mc_variant mc_variant_mutant_gemv_q3_K_q8dot_avx2_high_bit = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q3_K_q8dot_avx2_high_bit",
    .probe = probe_avx2, .requires = "avx2,fma,f16c", .supports = supports_q3_K_q8dot,
    .run = run_q3_K_q8dot_avx2_high_bit, .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)row_q3_K_q8dot_avx2_high_bit,
};
