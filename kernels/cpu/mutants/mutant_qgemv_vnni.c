/* kernels/cpu/mutants/mutant_qgemv_vnni.c: a planted-bug copy of the VNNI q8_0 x q8_0 row
 * (qgemv_avx2.c): vpdpbusd fed the signed weights as they are.
 * SPDX-License-Identifier: MIT
 *
 * Runs through the pristine driver and x quantiser; only the row kernel is the planted copy, with
 * exactly one change marked "DEFECT:".
 */
#include <immintrin.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_common.h"

#define VNNI_TARGET __attribute__((target("avx512vnni,avx512vl,avx2,fma,f16c")))

VNNI_TARGET static float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

VNNI_TARGET static __m256 scale8(const uint8_t *blk)
{
    return _mm256_broadcast_ss(&mc_qgemv_f16_table[blk[0] | blk[1] << 8]);
}

/* qgemv_avx2.c's mc_qgemv_row_q8_0_q8dot_vnni, one block at a time. DEFECT: vpdpbusd reads its
 * first operand as unsigned bytes, and the weights go in without the sign transfer (|w| first,
 * w's sign onto x): every negative code w counts as 256 + w. */
VNNI_TARGET static float row_q8_0_unsigned(const uint8_t *row, int64_t block_stride, int64_t nblocks,
                                           const float *x, const uint8_t *xq)
{
    (void)x;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *wb = row + b * block_stride, *xb = xq + b * MC_QGEMV_Q8_0_BYTES;
        const __m256i w = _mm256_loadu_si256((const __m256i *)(const void *)(wb + 2));
        const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(xb + 2));
        const __m256i dot = _mm256_dpbusd_epi32(_mm256_setzero_si256(), w, v);
        acc = _mm256_fmadd_ps(_mm256_mul_ps(scale8(wb), scale8(xb)), _mm256_cvtepi32_ps(dot), acc);
    }
    return hsum(acc);
}

static mc_status run_unsigned(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, row_q8_0_unsigned, mc_qgemv_quantise_x_q8_0_avx2, err);
}

extern const mc_variant mc_variant_gemv_q8_0_q8dot_vnni;

static const char *probe_vnni(mc_backend_ctx *ctx)
{
    return mc_variant_gemv_q8_0_q8dot_vnni.probe(ctx);
}

static const char *supports_q8_0(const mc_args *args)
{
    return mc_variant_gemv_q8_0_q8dot_vnni.supports(args);
}

const mc_variant mc_variant_mutant_gemv_q8_0_vnni_unsigned = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q8_0_vnni_unsigned",
    .probe = probe_vnni, .requires = "avx2,fma,f16c,avx512_vnni,avx512vl", .supports = supports_q8_0,
    .run = run_unsigned, .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)row_q8_0_unsigned,
};
