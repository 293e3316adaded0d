/* kernels/cpu/gemm_tiled_avx512.c: the tiled GEMM's AVX-512 12x32 microkernel, behind a runtime cpuid
 * probe. Built with -mavx512f (plus the AVX2 set): nothing here runs before the probe says yes.
 * SPDX-License-Identifier: MIT */
#include <immintrin.h>
#include <string.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/gemm_pack.h"

#define MR 12
#define NR 32 /* two zmm vectors: 24 accumulators + 2 B vectors + 1 broadcast of 32 registers */
#define ROW_STEP 4 /* an edge tile's cost grows in steps of 4 rows (see ukr_rows) */
#define PREFETCH_K_STEPS 16 /* ~200 cycles ahead at 12 cycles a step */

static const char *gemm_avx512_probe(mc_backend_ctx *ctx)
{
    if (!__builtin_cpu_supports("avx512f"))
        return "cpu lacks AVX-512F";
    /* the f16 packing is the AVX2 kernel's F16C one */
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") || !mc_cpu_has_f16c())
        return "cpu lacks AVX2, FMA or F16C";
    return NULL;
}

/* One row of a full tile, C contiguous along the row: C = alpha*acc + beta*C + bias. */
static inline void store_row(uint8_t *c, __m512 lo, __m512 hi, const mc_gemm_tile_c *t)
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

/* mc_f32_to_bf16 on 16 lanes: round to nearest even on the bits, a NaN kept quiet. */
static inline __m256i bf16_of(__m512 v)
{
    const __m512i x = _mm512_castps_si512(v);
    const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(1));
    const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(x, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff))), 16);
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(x, _mm512_set1_epi32(0x7fffffff)),
                                                  _mm512_set1_epi32(0x7f800000));
    const __m512i quiet = _mm512_or_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(0x40));
    return _mm512_cvtepi32_epi16(_mm512_mask_mov_epi32(rounded, nan, quiet));
}

void mc_gemm_bf16_row_avx512(uint8_t *dst, const float *src, int64_t n)
{
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(void *)(dst + 2 * i), bf16_of(_mm512_loadu_ps(src + i)));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        const __m256i h = bf16_of(_mm512_maskz_loadu_ps(m, src + i));
        uint16_t tail[16];
        _mm256_storeu_si256((__m256i *)(void *)tail, h);
        memcpy(dst + 2 * i, tail, (size_t)(n - i) * sizeof tail[0]);
    }
}

/* The microkernel on the first `rows` (4, 8 or 12, a constant once inlined) rows of the A sliver:
 * an edge tile of 1-4 or 5-8 valid rows costs a third or two thirds of a full one, so the driver
 * can split the rows between threads in steps of 4 (ROW_STEP) and keep them equally loaded. Each
 * C element gets the same multiply-adds in the same order whatever `rows` is. */
static inline __attribute__((always_inline)) void ukr_rows(const int rows, int64_t kc, const float *pa,
                                                          const float *pb, int64_t ldb, const mc_gemm_tile_c *t)
{
    __m512 c[MR][2]; /* constant indices only (loops fully unrolled): all stay in registers */
#pragma GCC unroll 12
    for (int r = 0; r < rows; r++) {
        c[r][0] = _mm512_setzero_ps();
        c[r][1] = _mm512_setzero_ps();
    }
    for (int r = 0; r < t->mr; r++) {
        _mm_prefetch((const char *)(t->c + r * t->rs), _MM_HINT_T0);
        _mm_prefetch((const char *)(t->c + r * t->rs + 64), _MM_HINT_T0);
    }
    for (int64_t p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_loadu_ps(pb), b1 = _mm512_loadu_ps(pb + 16);
        /* B's row PREFETCH_K_STEPS ahead, from L2 (past the sliver's end: the next sliver, which
         * the driver's A-outer order reads next) */
        _mm_prefetch((const char *)(pb + PREFETCH_K_STEPS * ldb), _MM_HINT_T0);
        _mm_prefetch((const char *)(pb + PREFETCH_K_STEPS * ldb + 16), _MM_HINT_T0);
#pragma GCC unroll 12
        for (int r = 0; r < rows; r++) {
            const __m512 a = _mm512_set1_ps(pa[r]);
            c[r][0] = _mm512_fmadd_ps(a, b0, c[r][0]);
            c[r][1] = _mm512_fmadd_ps(a, b1, c[r][1]);
        }
        pa += MR;
        pb += ldb;
    }
    /* Full-width tiles go from the registers to C (a copy of all 24 through the stack first cost
     * ~2%); the branches on t->mr keep every index constant */
    if (t->nr == NR && t->cs == (int64_t)sizeof(float)) {
#pragma GCC unroll 12
        for (int r = 0; r < rows; r++)
            if (r < t->mr)
                store_row(t->c + r * t->rs, c[r][0], c[r][1], t);
        return;
    }
    /* Ragged columns and strided C: through a tile in memory and the generic store. */
    float acc[MR * NR] __attribute__((aligned(64)));
#pragma GCC unroll 12
    for (int r = 0; r < rows; r++) {
        _mm512_store_ps(acc + r * NR, c[r][0]);
        _mm512_store_ps(acc + r * NR + 16, c[r][1]);
    }
    mc_gemm_store_tile(acc, NR, t);
}

static void ukr_avx512_12x32(int64_t kc, const float *pa, const float *pb, int64_t ldb, const mc_gemm_tile_c *t)
{
    if (t->mr > 2 * ROW_STEP)
        ukr_rows(MR, kc, pa, pb, ldb, t);
    else if (t->mr > ROW_STEP)
        ukr_rows(2 * ROW_STEP, kc, pa, pb, ldb, t);
    else
        ukr_rows(ROW_STEP, kc, pa, pb, ldb, t);
}

static const mc_gemm_kernel avx512_kernel = {
    .name = "gemm_tiled_f32_avx512_12x32",
    .mr = MR,
    .nr = NR,
    .row_step = ROW_STEP,
    .ukr = ukr_avx512_12x32,
    .pack = mc_gemm_pack_f16c,
    .bf16_row = mc_gemm_bf16_row_avx512,
};

static mc_status gemm_avx512_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_gemm_tiled_variant_run(&avx512_kernel, kc, args, err);
}

const mc_variant mc_variant_gemm_tiled_f32_avx512_12x32 = {
    .op = MC_OP_GEMM,
    .backend = "cpu",
    .name = "gemm_tiled_f32_avx512_12x32",
    .probe = gemm_avx512_probe,
    .requires = "avx512f,avx2,fma,f16c",
    .supports = mc_gemm_tiled_supports,
    .run = gemm_avx512_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)ukr_avx512_12x32,
};

/* For the tuner and the tests: the kernel as a driver plug-in, or NULL with the probe's reason. */
const mc_gemm_kernel *mc_gemm_kernel_avx512_12x32(const char **why_not)
{
    const char *reason = gemm_avx512_probe(NULL);
    if (why_not)
        *why_not = reason;
    return reason ? NULL : &avx512_kernel;
}
