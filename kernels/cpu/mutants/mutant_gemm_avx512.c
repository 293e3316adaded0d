/* kernels/cpu/mutants/mutant_gemm_avx512.c: planted-bug copies of the f32 AVX-512 12x32 microkernel
 * (gemm_tiled_avx512.c) whose 4-row or 8-row edge loop walks the packed A sliver with a wrong step.
 * SPDX-License-Identifier: MIT
 * Both run through the pristine tiled driver and packing (its row steps of 4 included); only the
 * microkernel is the planted copy, with exactly one change marked "DEFECT:". */
#include <immintrin.h>

#include "kernels/cpu/gemm_pack.h"

extern const mc_variant mc_variant_gemm_tiled_f32_avx512_12x32;

#define AVX512 __attribute__((target("avx512f,avx2,fma,f16c")))
#define MR 12
#define NR 32
#define ROW_STEP 4

/* gemm_tiled_avx512.c's ukr_rows on the first `rows` rows, with the generic store only. DEFECT:
 * when rows == bad_rows, the A pointer advances by `rows` floats a k step instead of MR: a packed A
 * sliver is MR floats wide whatever the tile's height, so every step after the first reads the
 * wrong elements. The full 12-row loop is untouched. */
AVX512 static inline __attribute__((always_inline)) void ukr_rows_bad_step(const int rows, const int bad_rows,
                                                                         int64_t kc, const float *pa, const float *pb,
                                                                         int64_t ldb, const mc_gemm_tile_c *t)
{
    __m512 c[MR][2];
#pragma GCC unroll 12
    for (int r = 0; r < rows; r++)
        c[r][0] = c[r][1] = _mm512_setzero_ps();
    for (int64_t p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_loadu_ps(pb), b1 = _mm512_loadu_ps(pb + 16);
#pragma GCC unroll 12
        for (int r = 0; r < rows; r++) {
            const __m512 a = _mm512_set1_ps(pa[r]);
            c[r][0] = _mm512_fmadd_ps(a, b0, c[r][0]);
            c[r][1] = _mm512_fmadd_ps(a, b1, c[r][1]);
        }
        pa += rows == bad_rows ? rows : MR;
        pb += ldb;
    }
    float acc[MR * NR] __attribute__((aligned(64)));
#pragma GCC unroll 12
    for (int r = 0; r < rows; r++) {
        _mm512_store_ps(acc + r * NR, c[r][0]);
        _mm512_store_ps(acc + r * NR + 16, c[r][1]);
    }
    mc_gemm_store_tile(acc, NR, t);
}

AVX512 static void ukr_row4_step(int64_t kc, const float *pa, const float *pb, int64_t ldb, const mc_gemm_tile_c *t)
{
    if (t->mr > 2 * ROW_STEP)
        ukr_rows_bad_step(MR, ROW_STEP, kc, pa, pb, ldb, t);
    else if (t->mr > ROW_STEP)
        ukr_rows_bad_step(2 * ROW_STEP, ROW_STEP, kc, pa, pb, ldb, t);
    else
        ukr_rows_bad_step(ROW_STEP, ROW_STEP, kc, pa, pb, ldb, t);
}

AVX512 static void ukr_row8_step(int64_t kc, const float *pa, const float *pb, int64_t ldb, const mc_gemm_tile_c *t)
{
    if (t->mr > 2 * ROW_STEP)
        ukr_rows_bad_step(MR, 2 * ROW_STEP, kc, pa, pb, ldb, t);
    else if (t->mr > ROW_STEP)
        ukr_rows_bad_step(2 * ROW_STEP, 2 * ROW_STEP, kc, pa, pb, ldb, t);
    else
        ukr_rows_bad_step(ROW_STEP, 2 * ROW_STEP, kc, pa, pb, ldb, t);
}

/* The pristine kernel's name (so its tiles), shape, row step and packing; the planted microkernel. */
static const mc_gemm_kernel row4_kernel = {
    .name = "gemm_tiled_f32_avx512_12x32", .mr = MR, .nr = NR, .row_step = ROW_STEP,
    .ukr = ukr_row4_step, .pack = mc_gemm_pack_f16c,
};

static const mc_gemm_kernel row8_kernel = {
    .name = "gemm_tiled_f32_avx512_12x32", .mr = MR, .nr = NR, .row_step = ROW_STEP,
    .ukr = ukr_row8_step, .pack = mc_gemm_pack_f16c,
};

static mc_status run_row4(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_gemm_tiled_variant_run(&row4_kernel, kc, args, err);
}

static mc_status run_row8(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_gemm_tiled_variant_run(&row8_kernel, kc, args, err);
}

static const char *probe_avx512(mc_backend_ctx *ctx)
{
    return mc_variant_gemm_tiled_f32_avx512_12x32.probe(ctx);
}

const mc_variant mc_variant_mutant_gemm_avx512_row4_a_step = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "mutant_gemm_avx512_row4_a_step",
    .probe = probe_avx512, .requires = "avx512f,avx2,fma,f16c", .supports = mc_gemm_tiled_supports,
    .run = run_row4, .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .expect = "bound",
    .code = (const void *)ukr_row4_step,
};

const mc_variant mc_variant_mutant_gemm_avx512_row8_a_step = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "mutant_gemm_avx512_row8_a_step",
    .probe = probe_avx512, .requires = "avx512f,avx2,fma,f16c", .supports = mc_gemm_tiled_supports,
    .run = run_row8, .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .expect = "bound",
    .code = (const void *)ukr_row8_step,
};
