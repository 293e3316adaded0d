/* kernels/cpu/gemm_tiled_avx2.c: the tiled GEMM's AVX2+FMA 6x16 microkernel (F16C packing for f16),
 * behind a runtime cpuid probe. Built with -mavx2 -mfma -mf16c: nothing here runs before the probe.
 * SPDX-License-Identifier: MIT */
#include <immintrin.h>
#include <string.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/gemm_pack.h"

#define MR 6
#define NR 16 /* two ymm vectors: 12 accumulators + 2 B vectors + 1 broadcast of 16 registers */

static const char *gemm_avx2_probe(mc_backend_ctx *ctx)
{
    if (!__builtin_cpu_supports("avx2"))
        return "cpu lacks AVX2";
    if (!__builtin_cpu_supports("fma"))
        return "cpu lacks FMA";
    if (!mc_cpu_has_f16c())
        return "cpu lacks F16C";
    return NULL;
}

/* One row of a full tile, C contiguous along the row: C = alpha*acc + beta*C + bias. */
static inline void store_row(uint8_t *c, __m256 lo, __m256 hi, const mc_gemm_tile_c *t)
{
    float *cf = (float *)(void *)c; /* only for the unaligned-load intrinsics below */
    const __m256 va = _mm256_set1_ps(t->alpha);
    lo = _mm256_mul_ps(va, lo);
    hi = _mm256_mul_ps(va, hi);
    /* beta == 0: C holds a NaN sentinel and must not be read */
    if (t->beta != 0.0f) {
        const __m256 vb = _mm256_set1_ps(t->beta);
        lo = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cf), lo);
        hi = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cf + 8), hi);
    }
    if (t->bias) {
        lo = _mm256_add_ps(lo, _mm256_loadu_ps(t->bias));
        hi = _mm256_add_ps(hi, _mm256_loadu_ps(t->bias + 8));
    }
    _mm256_storeu_ps(cf, lo);
    _mm256_storeu_ps(cf + 8, hi);
}

static void ukr_avx2_6x16(int64_t kc, const float *pa, const float *pb, int64_t ldb, const mc_gemm_tile_c *t)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int r = 0; r < t->mr; r++)
        _mm_prefetch((const char *)(t->c + r * t->rs), _MM_HINT_T0);
#pragma GCC unroll 4
    for (int64_t p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_loadu_ps(pb), b1 = _mm256_loadu_ps(pb + 8);
        __m256 a;
        a = _mm256_broadcast_ss(pa + 0);
        c00 = _mm256_fmadd_ps(a, b0, c00);
        c01 = _mm256_fmadd_ps(a, b1, c01);
        a = _mm256_broadcast_ss(pa + 1);
        c10 = _mm256_fmadd_ps(a, b0, c10);
        c11 = _mm256_fmadd_ps(a, b1, c11);
        a = _mm256_broadcast_ss(pa + 2);
        c20 = _mm256_fmadd_ps(a, b0, c20);
        c21 = _mm256_fmadd_ps(a, b1, c21);
        a = _mm256_broadcast_ss(pa + 3);
        c30 = _mm256_fmadd_ps(a, b0, c30);
        c31 = _mm256_fmadd_ps(a, b1, c31);
        a = _mm256_broadcast_ss(pa + 4);
        c40 = _mm256_fmadd_ps(a, b0, c40);
        c41 = _mm256_fmadd_ps(a, b1, c41);
        a = _mm256_broadcast_ss(pa + 5);
        c50 = _mm256_fmadd_ps(a, b0, c50);
        c51 = _mm256_fmadd_ps(a, b1, c51);
        pa += MR;
        pb += ldb;
    }
    if (t->mr == MR && t->nr == NR && t->cs == (int64_t)sizeof(float)) {
        store_row(t->c + 0 * t->rs, c00, c01, t);
        store_row(t->c + 1 * t->rs, c10, c11, t);
        store_row(t->c + 2 * t->rs, c20, c21, t);
        store_row(t->c + 3 * t->rs, c30, c31, t);
        store_row(t->c + 4 * t->rs, c40, c41, t);
        store_row(t->c + 5 * t->rs, c50, c51, t);
        return;
    }
    /* Edge tiles and strided C: through a tile in memory and the generic store. */
    float acc[MR * NR] __attribute__((aligned(32)));
    _mm256_store_ps(acc + 0 * NR, c00), _mm256_store_ps(acc + 0 * NR + 8, c01);
    _mm256_store_ps(acc + 1 * NR, c10), _mm256_store_ps(acc + 1 * NR + 8, c11);
    _mm256_store_ps(acc + 2 * NR, c20), _mm256_store_ps(acc + 2 * NR + 8, c21);
    _mm256_store_ps(acc + 3 * NR, c30), _mm256_store_ps(acc + 3 * NR + 8, c31);
    _mm256_store_ps(acc + 4 * NR, c40), _mm256_store_ps(acc + 4 * NR + 8, c41);
    _mm256_store_ps(acc + 5 * NR, c50), _mm256_store_ps(acc + 5 * NR + 8, c51);
    mc_gemm_store_tile(acc, NR, t);
}

/* f16 whose rows are adjacent: w halves per column, converted 8 at a time. */
static void pack_f16_rows_adjacent(const uint8_t *base, int64_t cs, int64_t depth, int w, int64_t valid, float *o)
{
    for (int64_t p = 0; p < depth; p++) {
        const uint8_t *src = base + p * cs;
        float *dst = o + p * w;
        int64_t r = 0;
        for (; r + 8 <= valid; r += 8)
            _mm256_storeu_ps(dst + r, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(src + 2 * r))));
        for (; r < valid; r++) {
            uint16_t h;
            memcpy(&h, src + 2 * r, sizeof h);
            dst[r] = _cvtsh_ss(h);
        }
        for (r = valid; r < w; r++)
            dst[r] = 0.0f;
    }
}

/* f16 whose columns are adjacent (a row-major f16 A): each row converted 8 at a time. */
static void pack_f16_cols_adjacent(const uint8_t *base, int64_t rs, int64_t depth, int w, int64_t valid, float *o)
{
    float tmp[8] __attribute__((aligned(32)));
    for (int64_t r = 0; r < w; r++) {
        const uint8_t *row = base + r * rs;
        int64_t p = 0;
        if (r >= valid) {
            for (; p < depth; p++)
                o[p * w + r] = 0.0f;
            continue;
        }
        for (; p + 8 <= depth; p += 8) {
            _mm256_store_ps(tmp, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(row + 2 * p))));
            for (int e = 0; e < 8; e++)
                o[(p + e) * w + r] = tmp[e];
        }
        for (; p < depth; p++) {
            uint16_t h;
            memcpy(&h, row + 2 * p, sizeof h);
            o[p * w + r] = _cvtsh_ss(h);
        }
    }
}

#define PACK_LINE_FLOATS 16 /* floats per 64-byte cache line */
#define PACK_PREFETCH_ROWS 16 /* columns ahead: each column of a row-major B starts a new page, where
                                 the hardware prefetcher does not follow */

/* f32 whose rows are adjacent (a row-major B seen as B^T): w floats per column, moved 8 at a time
 * (memcpy per column cost 4% of a 1024^3 product), the columns PACK_PREFETCH_ROWS ahead prefetched. */
static void pack_f32_rows_adjacent(const uint8_t *base, int64_t cs, int64_t depth, int w, int64_t valid, float *o)
{
    for (int64_t p = 0; p < depth; p++) {
        const float *src = (const float *)(const void *)(base + p * cs); /* 4-byte aligned: see the caller */
        float *dst = o + p * w;
        int64_t r = 0;
        if (p + PACK_PREFETCH_ROWS < depth)
            for (int64_t line = 0; line < valid * (int64_t)sizeof(float); line += 64)
                _mm_prefetch((const char *)(base + (p + PACK_PREFETCH_ROWS) * cs + line), _MM_HINT_T0);
        for (; r + 8 <= valid; r += 8)
            _mm256_storeu_ps(dst + r, _mm256_loadu_ps(src + r));
        for (; r < valid; r++)
            dst[r] = src[r];
        for (r = valid; r < w; r++)
            dst[r] = 0.0f;
    }
}

/* f32 whose columns are adjacent (a row-major A): four rows by four columns at a time, transposed
 * in registers (element by element this packing took 8% of a 1024^3 product); the rows and
 * columns left over one element at a time. While a group of four rows is read, the next four
 * rows (up to `ahead` rows past the sliver's valid ones exist) are prefetched line by line: each
 * row is a short run of kc floats, too short for the hardware prefetcher (the transposing loads
 * were most of the packing time). */
static void pack_f32_cols_adjacent(const uint8_t *base, int64_t rs, int64_t depth, int w, int64_t valid,
                                   int64_t ahead, float *o)
{
    int64_t r = 0;
    for (; r + 4 <= valid; r += 4) {
        const float *a0 = (const float *)(const void *)(base + r * rs);
        const float *a1 = (const float *)(const void *)(base + (r + 1) * rs);
        const float *a2 = (const float *)(const void *)(base + (r + 2) * rs);
        const float *a3 = (const float *)(const void *)(base + (r + 3) * rs);
        const int64_t next_rows = valid + ahead - (r + 4) < 4 ? valid + ahead - (r + 4) : 4;
        int64_t p = 0;
        for (; p + 4 <= depth; p += 4) {
            if (p % PACK_LINE_FLOATS == 0)
                for (int64_t q = 0; q < next_rows; q++)
                    _mm_prefetch((const char *)(base + (r + 4 + q) * rs) + p * (int64_t)sizeof(float), _MM_HINT_T0);
            __m128 x0 = _mm_loadu_ps(a0 + p), x1 = _mm_loadu_ps(a1 + p);
            __m128 x2 = _mm_loadu_ps(a2 + p), x3 = _mm_loadu_ps(a3 + p);
            _MM_TRANSPOSE4_PS(x0, x1, x2, x3);
            _mm_storeu_ps(o + p * w + r, x0);
            _mm_storeu_ps(o + (p + 1) * w + r, x1);
            _mm_storeu_ps(o + (p + 2) * w + r, x2);
            _mm_storeu_ps(o + (p + 3) * w + r, x3);
        }
        for (; p < depth; p++) {
            o[p * w + r] = a0[p];
            o[p * w + r + 1] = a1[p];
            o[p * w + r + 2] = a2[p];
            o[p * w + r + 3] = a3[p];
        }
    }
    for (; r < w; r++) {
        const float *row = (const float *)(const void *)(base + r * rs);
        for (int64_t p = 0; p < depth; p++)
            o[p * w + r] = r < valid ? row[p] : 0.0f;
    }
}

void mc_gemm_pack_f16c(const mc_gemm_mat *src, int64_t r0, int64_t rows, int64_t c0, int64_t depth, int w,
                       float *out)
{
    const int64_t es = mc_dtype_elem_bytes(src->dtype);
    /* f32 is read through float pointers: only 4-byte aligned strides and base (legal C) */
    const int aligned = src->dtype != MC_DTYPE_F32 ||
                        ((uintptr_t)src->base % 4 == 0 && src->rs % 4 == 0 && src->cs % 4 == 0);
    if ((src->dtype != MC_DTYPE_F16 && src->dtype != MC_DTYPE_F32) || (src->rs != es && src->cs != es) || !aligned) {
        mc_gemm_pack_generic(src, r0, rows, c0, depth, w, out);
        return;
    }
    for (int64_t s = 0; s * w < rows; s++) {
        int64_t valid = rows - s * w < w ? rows - s * w : w;
        const uint8_t *base = src->base + (r0 + s * w) * src->rs + c0 * src->cs;
        float *o = out + s * depth * w;
        if (src->dtype == MC_DTYPE_F32 && src->rs == es)
            pack_f32_rows_adjacent(base, src->cs, depth, w, valid, o);
        else if (src->dtype == MC_DTYPE_F32)
            pack_f32_cols_adjacent(base, src->rs, depth, w, valid, rows - s * w - valid, o);
        else if (src->rs == es)
            pack_f16_rows_adjacent(base, src->cs, depth, w, valid, o);
        else
            pack_f16_cols_adjacent(base, src->rs, depth, w, valid, o);
    }
}

static const mc_gemm_kernel avx2_kernel = {
    .name = "gemm_tiled_f32_avx2_6x16",
    .mr = MR,
    .nr = NR,
    .ukr = ukr_avx2_6x16,
    .pack = mc_gemm_pack_f16c,
};

static mc_status gemm_avx2_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_gemm_tiled_variant_run(&avx2_kernel, kc, args, err);
}

const mc_variant mc_variant_gemm_tiled_f32_avx2_6x16 = {
    .op = MC_OP_GEMM,
    .backend = "cpu",
    .name = "gemm_tiled_f32_avx2_6x16",
    .probe = gemm_avx2_probe,
    .requires = "avx2,fma,f16c",
    .supports = mc_gemm_tiled_supports,
    .run = gemm_avx2_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)ukr_avx2_6x16,
};

/* For the tuner and the tests: the kernel as a driver plug-in, or NULL with the probe's reason. */
const mc_gemm_kernel *mc_gemm_kernel_avx2_6x16(const char **why_not)
{
    const char *reason = gemm_avx2_probe(NULL);
    if (why_not)
        *why_not = reason;
    return reason ? NULL : &avx2_kernel;
}
