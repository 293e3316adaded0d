/* kernels/cpu/mutants/mutant_gemm_bf16.c: planted-bug copies of the bf16 matrix microkernels
 * (gemm_bf16_avx512.c, gemm_bf16_amx.c): the odd k element's pair dropped by vdpbf16ps, and the
 * short last AMX chunk skipped.
 * SPDX-License-Identifier: MIT
 *
 * Both run through the pristine tiled driver and packing; only the microkernel is the planted
 * copy, with exactly one change marked "DEFECT:". Each uses its pristine variant's probe.
 */
#include <immintrin.h>
#include <string.h>

#include "kernels/cpu/gemm_pack.h"

extern const mc_variant mc_variant_gemm_tiled_bf16_avx512bf16_12x32;
extern const mc_variant mc_variant_gemm_tiled_bf16_amx_16x32;

/* ---- vdpbf16ps 12x32 ---- */

#define BF16_TARGET __attribute__((target("avx512bf16,avx512bw,avx512vl,avx512f")))

/* gemm_bf16_avx512.c's ukr_bf16_12x32 with the generic store only. DEFECT: kc / 2 pair steps
 * instead of (kc + 1) / 2, so an odd depth's last element (its pair padded with zero) is never
 * multiplied. */
BF16_TARGET static void ukr_bf16_odd_k_dropped(int64_t kc, const float *pa, const float *pb, int64_t ldb,
                                                const mc_gemm_tile_c *t)
{
    const uint32_t *a = (const uint32_t *)(const void *)pa, *b = (const uint32_t *)(const void *)pb;
    __m512 c[12][2];
    for (int r = 0; r < 12; r++)
        c[r][0] = c[r][1] = _mm512_setzero_ps();
    for (int64_t q = 0; q < kc / 2; q++) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b), b1 = (__m512bh)_mm512_loadu_si512(b + 16);
        for (int r = 0; r < 12; r++) {
            const __m512bh ar = (__m512bh)_mm512_set1_epi32((int)a[r]);
            c[r][0] = _mm512_dpbf16_ps(c[r][0], ar, b0);
            c[r][1] = _mm512_dpbf16_ps(c[r][1], ar, b1);
        }
        a += 12;
        b += ldb;
    }
    float acc[12 * 32] __attribute__((aligned(64)));
    for (int r = 0; r < 12; r++) {
        _mm512_store_ps(acc + r * 32, c[r][0]);
        _mm512_store_ps(acc + r * 32 + 16, c[r][1]);
    }
    mc_gemm_store_tile(acc, 32, t);
}

static const mc_gemm_kernel bf16_odd_k = {
    .name = "gemm_tiled_bf16_avx512bf16_12x32", /* its tiles */
    .mr = 12, .nr = 32, .ukr = ukr_bf16_odd_k_dropped, .pack = mc_gemm_pack_bf16_pairs,
};

static mc_status run_bf16_odd_k(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_gemm_tiled_variant_run(&bf16_odd_k, kc, args, err);
}

static const char *probe_bf16(mc_backend_ctx *ctx)
{
    return mc_variant_gemm_tiled_bf16_avx512bf16_12x32.probe(ctx);
}

const mc_variant mc_variant_mutant_gemm_bf16_odd_k_dropped = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "mutant_gemm_bf16_odd_k_dropped",
    .probe = probe_bf16, .requires = "avx512f,avx512bw,avx512vl,avx512_bf16", .supports = mc_gemm_bf16_supports,
    .run = run_bf16_odd_k, .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)ukr_bf16_odd_k_dropped,
};

/* ---- AMX-BF16 16x32 ---- */

#define AMX_TARGET __attribute__((target("amx-tile,amx-bf16")))

typedef struct tile_config {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

/* gemm_bf16_amx.c's ukr_amx_16x32. DEFECT: only whole 16-pair chunks are multiplied; the short
 * last chunk (k not a multiple of 32) is skipped instead of zero-padded. */
AMX_TARGET static void ukr_amx_short_chunk_skipped(int64_t kc, const float *pa, const float *pb, int64_t ldb,
                                                   const mc_gemm_tile_c *t)
{
    const uint32_t *a = (const uint32_t *)(const void *)pa, *b = (const uint32_t *)(const void *)pb;
    const int64_t pairs = (kc + 1) / 2;
    float acc[16 * 32] __attribute__((aligned(64)));
    tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int i = 0; i < 5; i++) {
        cfg.rows[i] = 16;
        cfg.colsb[i] = 64;
    }
    _tile_loadconfig(&cfg);
    _tile_zero(0);
    _tile_zero(1);
    for (int64_t h0 = 0; h0 + 16 <= pairs; h0 += 16) {
        _tile_loadd(3, b + h0 * ldb, ldb * (int64_t)sizeof *b);
        _tile_loadd(4, b + h0 * ldb + 16, ldb * (int64_t)sizeof *b);
        _tile_loadd(2, a + h0 * 16, 16 * sizeof *a);
        _tile_dpbf16ps(0, 2, 3);
        _tile_dpbf16ps(1, 2, 4);
    }
    _tile_stored(0, acc, 32 * sizeof *acc);
    _tile_stored(1, acc + 16, 32 * sizeof *acc);
    _tile_release();
    mc_gemm_store_tile(acc, 32, t);
}

static const mc_gemm_kernel amx_short_chunk = {
    .name = "gemm_tiled_bf16_amx_16x32", /* its tiles */
    .mr = 16, .nr = 32, .ukr = ukr_amx_short_chunk_skipped, .pack = mc_gemm_pack_bf16_pairs,
    .pack_a = mc_gemm_pack_bf16_amx_a,
};

static mc_status run_amx_short_chunk(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    /* the pristine run asks for tile permission first; its probe already has, in this process
     * or the one that forked it */
    return mc_gemm_tiled_variant_run(&amx_short_chunk, kc, args, err);
}

static const char *probe_amx(mc_backend_ctx *ctx)
{
    return mc_variant_gemm_tiled_bf16_amx_16x32.probe(ctx);
}

const mc_variant mc_variant_mutant_gemm_amx_short_chunk_skipped = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "mutant_gemm_amx_short_chunk_skipped",
    .probe = probe_amx, .requires = "amx_tile,amx_bf16,avx512f", .supports = mc_gemm_bf16_supports,
    .run = run_amx_short_chunk, .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)ukr_amx_short_chunk_skipped,
};
