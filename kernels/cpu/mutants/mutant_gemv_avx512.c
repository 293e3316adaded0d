/* kernels/cpu/mutants/mutant_gemv_avx512.c: planted-bug copies of the 512-bit GEMV rows
 * (gemv_avx512.c, qgemv_avx512_32.c), one defect each, marked "DEFECT:".
 * SPDX-License-Identifier: MIT
 *
 * The Q4_0 copies run through the pristine quantised driver (and x quantiser); the f16/bf16 copies
 * (and f32) through a one-thread driver like mutant_gemv.c's: dense rows through the planted loop (a row with
 * a1 = a0), other layouts through the strides.
 */
#include <immintrin.h>
#include <stdlib.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_common.h"

#define AVX512 __attribute__((target("avx512f,avx2,fma,f16c")))
#define VNNI512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,gfni,avx2,fma,f16c")))

extern const mc_variant mc_variant_gemv_q4_0_avx512;
extern const mc_variant mc_variant_gemv_q4_0_q8dot_vnni512;
extern const mc_variant mc_variant_gemv_f32_avx512;
extern const mc_variant mc_variant_gemv_f16_avx512;
extern const mc_variant mc_variant_gemv_bf16_avx512;

static float f16_at(const uint8_t *p)
{
    return mc_qgemv_f16_table[p[0] | p[1] << 8];
}

/* ---- Q4_0 against f32 x ---- */

/* qgemv_avx512_32.c's mc_qgemv_row_q4_0_avx512, one block at a time. DEFECT: the high nibbles'
 * indices go to vpermps unshifted (as if it read bits 4..7): elements 16..31 take the weights of
 * elements 0..15. */
AVX512 static float row_q4_0_high_unshifted(const uint8_t *row, int64_t block_stride, int64_t nblocks,
                                            const float *x, const uint8_t *xq)
{
    (void)xq;
    const __m512 table = _mm512_setr_ps(-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *blk = row + b * block_stride;
        const float *xb = x + b * MC_QGEMV_QK;
        const __m512i idx = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(blk + 2)));
        const __m512 lo = _mm512_permutexvar_ps(idx, table);
        const __m512 hi = _mm512_permutexvar_ps(idx, table);
        __m512 s = _mm512_mul_ps(lo, _mm512_loadu_ps(xb));
        s = _mm512_fmadd_ps(hi, _mm512_loadu_ps(xb + 16), s);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(f16_at(blk)), s, acc);
    }
    return _mm512_reduce_add_ps(acc);
}

static mc_status run_q4_0_high_unshifted(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, row_q4_0_high_unshifted, NULL, err);
}

/* ---- Q4_0 against q8_0 x, two blocks per vpdpbusd ---- */

/* qgemv_avx512_32.c's mc_qgemv_row_q4_0_q8dot_vnni512, a pair at a time (an odd last block with a
 * zero x half). DEFECT: the weight scale of both halves is the first block's d (a lane scale built
 * from w0 twice): every second block is scaled wrong. */
VNNI512 static __m512 pair_one_scale(const uint8_t *w0, const uint8_t *w1, const uint8_t *xb0,
                                     const uint8_t *xb1, __m512 acc)
{
    const __m512i nibbles = _mm512_set_epi64(0x1020408000000000LL, 0x1020408000000000LL, 0x0102040800000000LL,
                                             0x0102040800000000LL, 0x1020408000000000LL, 0x1020408000000000LL,
                                             0x0102040800000000LL, 0x0102040800000000LL);
    __m512i packed = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)(w0 + 2)));
    packed = _mm512_mask_broadcast_i32x4(packed, 0xFF00, _mm_loadu_si128((const __m128i *)(const void *)(w1 + 2)));
    const __m512i q = _mm512_gf2p8affine_epi64_epi8(packed, nibbles, 0);
    __m512i v = _mm512_zextsi256_si512(_mm256_loadu_si256((const __m256i *)(const void *)(xb0 + 2)));
    __m512 dx = _mm512_set1_ps(f16_at(xb0));
    if (xb1) {
        v = _mm512_inserti64x4(v, _mm256_loadu_si256((const __m256i *)(const void *)(xb1 + 2)), 1);
        dx = _mm512_mask_mov_ps(dx, 0xFF00, _mm512_set1_ps(f16_at(xb1)));
    }
    const __m512i zero = _mm512_setzero_si512();
    const __m512i dot =
        _mm512_sub_epi32(_mm512_dpbusd_epi32(zero, q, v), _mm512_dpbusd_epi32(zero, _mm512_set1_epi8(8), v));
    const __m512 dw = _mm512_mask_mov_ps(_mm512_set1_ps(f16_at(w0)), 0xFF00, _mm512_set1_ps(f16_at(w0)));
    return _mm512_fmadd_ps(_mm512_mul_ps(dw, dx), _mm512_cvtepi32_ps(dot), acc);
}

VNNI512 static float row_q4_0_one_scale(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                        const uint8_t *xq)
{
    (void)x;
    __m512 acc = _mm512_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= nblocks; b += 2) {
        const uint8_t *wb = row + b * block_stride, *xb = xq + b * MC_QGEMV_Q8_0_BYTES;
        acc = pair_one_scale(wb, wb + block_stride, xb, xb + MC_QGEMV_Q8_0_BYTES, acc);
    }
    if (b < nblocks)
        acc = pair_one_scale(row + b * block_stride, row + b * block_stride, xq + b * MC_QGEMV_Q8_0_BYTES, NULL,
                             acc);
    return _mm512_reduce_add_ps(acc);
}

static mc_status run_q4_0_one_scale(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, row_q4_0_one_scale, mc_qgemv_quantise_x_q8_0_avx2, err);
}

/* ---- f16 and bf16 rows ---- */

AVX512 static __m512 load16_f16(const uint16_t *p)
{
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)p));
}

AVX512 static __m512 load16_bf16(const uint16_t *p)
{
    return _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(const void *)p)), 16));
}

/* gemv_avx512.c's loop for one f16 row, n a multiple of 8. DEFECT: the last 8 elements (n % 16 ==
 * 8) are left out: the 16-wide loop stops and nothing takes the half vector. */
AVX512 static float dot_f16_no_half_tail(const void *row, const float *x, int64_t n)
{
    const uint16_t *a = row;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t j = 0;
    for (; j + 64 <= n; j += 64) {
        s0 = _mm512_fmadd_ps(load16_f16(a + j), _mm512_loadu_ps(x + j), s0);
        s1 = _mm512_fmadd_ps(load16_f16(a + j + 16), _mm512_loadu_ps(x + j + 16), s1);
        s2 = _mm512_fmadd_ps(load16_f16(a + j + 32), _mm512_loadu_ps(x + j + 32), s2);
        s3 = _mm512_fmadd_ps(load16_f16(a + j + 48), _mm512_loadu_ps(x + j + 48), s3);
    }
    for (; j + 16 <= n; j += 16)
        s0 = _mm512_fmadd_ps(load16_f16(a + j), _mm512_loadu_ps(x + j), s0);
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

/* The same loop for one bf16 row, with its half tail. DEFECT: the fourth chain of the 64-element
 * pass multiplies by the third x vector (a copied line left unedited). */
AVX512 static float dot_bf16_chain3_x2(const void *row, const float *x, int64_t n)
{
    const uint16_t *a = row;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t j = 0;
    for (; j + 64 <= n; j += 64) {
        const __m512 x0 = _mm512_loadu_ps(x + j), x1 = _mm512_loadu_ps(x + j + 16);
        const __m512 x2 = _mm512_loadu_ps(x + j + 32);
        s0 = _mm512_fmadd_ps(load16_bf16(a + j), x0, s0);
        s1 = _mm512_fmadd_ps(load16_bf16(a + j + 16), x1, s1);
        s2 = _mm512_fmadd_ps(load16_bf16(a + j + 32), x2, s2);
        s3 = _mm512_fmadd_ps(load16_bf16(a + j + 48), x2, s3);
    }
    for (; j + 16 <= n; j += 16)
        s0 = _mm512_fmadd_ps(load16_bf16(a + j), _mm512_loadu_ps(x + j), s0);
    if (j < n) {
        const __m128i h = _mm_loadu_si128((const __m128i *)(const void *)(a + j));
        const __m512 w = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_zextsi128_si256(h)), 16));
        s0 = _mm512_fmadd_ps(w, _mm512_zextps256_ps512(_mm256_loadu_ps(x + j)), s0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

/* The same loop for one f32 row. DEFECT: the final sum of the four chains leaves out chain 3. */
AVX512 static float dot_f32_chain3_dropped(const void *row, const float *x, int64_t n)
{
    const float *a = row;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t j = 0;
    for (; j + 64 <= n; j += 64) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j), _mm512_loadu_ps(x + j), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j + 16), _mm512_loadu_ps(x + j + 16), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j + 32), _mm512_loadu_ps(x + j + 32), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j + 48), _mm512_loadu_ps(x + j + 48), s3);
    }
    for (; j + 16 <= n; j += 16)
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j), _mm512_loadu_ps(x + j), s0);
    if (j < n)
        s0 = _mm512_fmadd_ps(_mm512_zextps256_ps512(_mm256_loadu_ps(a + j)),
                             _mm512_zextps256_ps512(_mm256_loadu_ps(x + j)), s0);
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), s2));
}

typedef float (*dense_row_fn)(const void *a, const float *x, int64_t n);

/* One thread: x gathered to f32 once; a dense row's first k / 8 * 8 elements through `dot`, the
 * rest and every other layout through the strides. */
static mc_status dense_rows_run(const mc_gemv_args *g, dense_row_fn dot, mc_err *err)
{
    const mc_tensor *a = &g->a;
    const int64_t m = a->ne[1], k = a->ne[0], body = k / 8 * 8;
    float *x = aligned_alloc(64, sizeof(float) * (size_t)((k + 15) / 16 * 16));
    if (!x)
        return mc_err_set(err, MC_ERR_NOMEM, "gemv: no memory for a %lld-entry x", (long long)k);
    for (int64_t j = 0; j < k; j++)
        x[j] = mc_cpu_get(&g->x, j, 0, 0, 0);
    const int64_t eb = mc_cpu_elem_bytes(a->dtype);
    const int dense = a->nb[0] == eb && (uintptr_t)mc_cpu_elem_ptr(a, 0, 0, 0, 0) % (uintptr_t)eb == 0 &&
                      a->nb[1] % eb == 0;
    for (int64_t i = 0; i < m; i++) {
        const uint8_t *row = mc_cpu_elem_ptr(a, 0, i, 0, 0);
        float acc = 0.0f;
        int64_t j = 0;
        if (dense) {
            acc = dot(row, x, body);
            j = body;
        }
        for (; j < k; j++)
            acc += mc_cpu_load(a->dtype, row + j * a->nb[0]) * x[j];
        mc_cpu_set(&g->y, i, 0, 0, 0, acc);
    }
    free(x);
    return MC_OK;
}

static mc_status run_f16_no_half_tail(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    (void)kc;
    return dense_rows_run(&args->u.gemv, dot_f16_no_half_tail, err);
}

static mc_status run_f32_chain3_dropped(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    (void)kc;
    return dense_rows_run(&args->u.gemv, dot_f32_chain3_dropped, err);
}

static mc_status run_bf16_chain3_x2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    (void)kc;
    return dense_rows_run(&args->u.gemv, dot_bf16_chain3_x2, err);
}

/* Probes and supports() are the pristine variants'. */
static const char *probe_q4_0(mc_backend_ctx *ctx)
{
    return mc_variant_gemv_q4_0_avx512.probe(ctx);
}

static const char *supports_q4_0(const mc_args *args)
{
    return mc_variant_gemv_q4_0_avx512.supports(args);
}

static const char *probe_q4_0_q8dot(mc_backend_ctx *ctx)
{
    return mc_variant_gemv_q4_0_q8dot_vnni512.probe(ctx);
}

static const char *supports_q4_0_q8dot(const mc_args *args)
{
    return mc_variant_gemv_q4_0_q8dot_vnni512.supports(args);
}

static const char *probe_dense(mc_backend_ctx *ctx)
{
    return mc_variant_gemv_f16_avx512.probe(ctx);
}

static const char *supports_f32(const mc_args *args)
{
    return mc_variant_gemv_f32_avx512.supports(args);
}

static const char *supports_f16(const mc_args *args)
{
    return mc_variant_gemv_f16_avx512.supports(args);
}

static const char *supports_bf16(const mc_args *args)
{
    return mc_variant_gemv_bf16_avx512.supports(args);
}

const mc_variant mc_variant_mutant_gemv_q4_0_avx512_high_unshifted = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q4_0_avx512_high_unshifted",
    .probe = probe_q4_0, .requires = "avx512f", .supports = supports_q4_0, .run = run_q4_0_high_unshifted,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)row_q4_0_high_unshifted,
};

const mc_variant mc_variant_mutant_gemv_q4_0_vnni512_one_scale = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_q4_0_vnni512_one_scale",
    .probe = probe_q4_0_q8dot, .requires = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512_vnni,gfni",
    .supports = supports_q4_0_q8dot, .run = run_q4_0_one_scale,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)row_q4_0_one_scale,
};

const mc_variant mc_variant_mutant_gemv_f16_avx512_half_tail = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_f16_avx512_half_tail",
    .probe = probe_dense, .requires = "avx2,fma,f16c,avx512f", .supports = supports_f16,
    .run = run_f16_no_half_tail, .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)dot_f16_no_half_tail,
};

const mc_variant mc_variant_mutant_gemv_bf16_avx512_chain3_x2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_bf16_avx512_chain3_x2",
    .probe = probe_dense, .requires = "avx2,fma,f16c,avx512f", .supports = supports_bf16,
    .run = run_bf16_chain3_x2, .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)dot_bf16_chain3_x2,
};

const mc_variant mc_variant_mutant_gemv_f32_avx512_chain3_dropped = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_f32_avx512_chain3_dropped",
    .probe = probe_dense, .requires = "avx2,fma,f16c,avx512f", .supports = supports_f32,
    .run = run_f32_chain3_dropped, .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)dot_f32_chain3_dropped,
};
