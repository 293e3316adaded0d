/* kernels/cpu/gemm_bf16_avx512.c: the bf16 GEMM microkernel on AVX512_BF16 (vdpbf16ps: two bf16
 * products per f32 lane, summed into it), 12x32, in the tiled driver with pair-packed slivers;
 * behind a cpuid probe that declares what it needs. f32 accumulation; C rounded once at the end.
 * SPDX-License-Identifier: MIT */
#include <immintrin.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/gemm_pack.h"

#define MR 12
#define NR 32 /* two zmm vectors of pairs: 24 accumulators + 2 B vectors + 1 broadcast */
#define BF16_TARGET __attribute__((target("avx512bf16,avx512bw,avx512vl,avx512f")))

static const char *probe_bf16(mc_backend_ctx *ctx)
{
    (void)ctx;
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512vl"))
        return "cpu lacks AVX-512F, BW or VL";
    if (!__builtin_cpu_supports("avx512bf16"))
        return "cpu lacks AVX512_BF16 (vdpbf16ps)";
    return NULL;
}

/* One row of a full tile, C contiguous along the row: C = alpha*acc + beta*C + bias. */
BF16_TARGET static void store_row(uint8_t *c, __m512 lo, __m512 hi, const mc_gemm_tile_c *t)
{
    const __m512 va = _mm512_set1_ps(t->alpha);
    lo = _mm512_mul_ps(va, lo);
    hi = _mm512_mul_ps(va, hi);
    /* beta == 0: C holds a NaN sentinel and must not be read */
    if (t->beta != 0.0f) {
        const __m512 vb = _mm512_set1_ps(t->beta);
        lo = _mm512_fmadd_ps(vb, _mm512_loadu_ps(c), lo);
        hi = _mm512_fmadd_ps(vb, _mm512_loadu_ps(c + 64), hi);
    }
    if (t->bias) {
        lo = _mm512_add_ps(lo, _mm512_loadu_ps(t->bias));
        hi = _mm512_add_ps(hi, _mm512_loadu_ps(t->bias + 16));
    }
    _mm512_storeu_ps(c, lo);
    _mm512_storeu_ps(c + 64, hi);
}

/* kc k elements: (kc + 1) / 2 pair steps. Slot r of A's step is row r's pair, broadcast; B's step
 * holds NR columns' pairs. Full tiles with rows of contiguous C are stored from registers; edges
 * and strided C go through memory to the generic store. */
BF16_TARGET static void ukr_bf16_12x32(int64_t kc, const float *pa, const float *pb, int64_t ldb,
                                       const mc_gemm_tile_c *t)
{
    const uint32_t *a = (const uint32_t *)(const void *)pa;
    const uint32_t *b = (const uint32_t *)(const void *)pb;
    __m512 c[MR][2];
#pragma GCC unroll 12
    for (int r = 0; r < MR; r++)
        c[r][0] = c[r][1] = _mm512_setzero_ps();
    for (int64_t q = 0; q < (kc + 1) / 2; q++) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b), b1 = (__m512bh)_mm512_loadu_si512(b + 16);
#pragma GCC unroll 12
        for (int r = 0; r < MR; r++) {
            const __m512bh ar = (__m512bh)_mm512_set1_epi32((int)a[r]);
            c[r][0] = _mm512_dpbf16_ps(c[r][0], ar, b0);
            c[r][1] = _mm512_dpbf16_ps(c[r][1], ar, b1);
        }
        a += MR;
        b += ldb;
    }
    if (t->mr == MR && t->nr == NR && t->cs == (int64_t)sizeof(float)) {
#pragma GCC unroll 12
        for (int r = 0; r < MR; r++)
            store_row(t->c + r * t->rs, c[r][0], c[r][1], t);
        return;
    }
    float acc[MR * NR] __attribute__((aligned(64)));
#pragma GCC unroll 12
    for (int r = 0; r < MR; r++) {
        _mm512_store_ps(acc + r * NR, c[r][0]);
        _mm512_store_ps(acc + r * NR + 16, c[r][1]);
    }
    mc_gemm_store_tile(acc, NR, t);
}

static const mc_gemm_kernel bf16_kernel = {
    .name = "gemm_tiled_bf16_avx512bf16_12x32",
    .mr = MR,
    .nr = NR,
    .ukr = ukr_bf16_12x32,
    .pack = mc_gemm_pack_bf16_pairs,
    .bf16_row = mc_gemm_bf16_row_avx512,
};

static mc_status run_bf16(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_gemm_tiled_variant_run(&bf16_kernel, kc, args, err);
}

/* Each lane's two products are exact in f32 and added in a fixed order: deterministic. */
const mc_variant mc_variant_gemm_tiled_bf16_avx512bf16_12x32 = {
    .op = MC_OP_GEMM,
    .backend = "cpu",
    .name = "gemm_tiled_bf16_avx512bf16_12x32",
    .probe = probe_bf16,
    .requires = "avx512f,avx512bw,avx512vl,avx512_bf16",
    .supports = mc_gemm_bf16_supports,
    .run = run_bf16,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)ukr_bf16_12x32,
};
