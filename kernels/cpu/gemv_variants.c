/* kernels/cpu/gemv_variants.c: the vectorised GEMV variants gemv_f32_avx2, gemv_f16_avx2, gemv_bf16_avx2
 * (by A's dtype) and gemv_f32_avx512, gemv_f16_avx512, gemv_bf16_avx512 (the same with 512-bit row loops): alignment
 * checks, scalar heads and tails, threads; the vector loops are in gemv_avx2.c and gemv_avx512.c.
 * SPDX-License-Identifier: MIT
 *
 * How a call runs:
 *  1. x is converted once into an f32 scratch vector (any dtype, stride or alignment).
 *  2. Rows of y are split between threads in contiguous ranges; each row's arithmetic is the same
 *     whichever thread runs it, so the result is bitwise the same for every thread count.
 *  3. A with dense rows (nb[0] = element size): rows in pairs (one pass over both, each row's sum
 *     bitwise as alone, so pairing never changes a result); per row, a scalar head up to the first 32-byte
 *     (f32) or 16-byte (f16, bf16) boundary, vector loads for the body, a scalar tail. A row
 *     whose base is off an element boundary goes wholly down the scalar path.
 *  4. A with dense columns (transposed): y accumulates column by column (y += x[p] A[:, p]),
 *     vectorised over rows with the same head/body/tail split per column (AVX2 in every variant).
 *  5. Any other layout: a scalar dot product through the strides.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/cpu_threads.h"
#include "kernels/cpu/gemv_avx2.h"
#include "kernels/cpu/gemv_avx512.h"
#include "kernels/cpu/softmax_avx2.h"

#define GEMV_ELEMS_PER_THREAD 65536 /* below this much of A per thread, waking one costs more */

typedef struct gemv_job {
    const mc_gemv_args *g;
    const float *x;  /* x as f32, k entries */
    float *acc;      /* column mode: one f32 accumulator per row of y */
    int mode;        /* 0 dense rows, 1 dense columns, 2 strided */
    bool wide;       /* dense rows on the 512-bit loops (the *_avx512 variants) */
} gemv_job;

enum { MODE_ROWS, MODE_COLUMNS, MODE_STRIDED };

/* Vector alignment of A's loads: 32 bytes for 8 f32, 16 bytes for 8 f16 or bf16. */
static int64_t vector_align(mc_dtype dt)
{
    return dt == MC_DTYPE_F32 ? 32 : 16;
}

/* Elements before p + i * eb reaches the vector alignment; -1 when p is off an element boundary. */
static int64_t head_elems(const uint8_t *p, mc_dtype dt)
{
    const int64_t eb = mc_cpu_elem_bytes(dt), va = vector_align(dt);
    const int64_t mis = (int64_t)((uintptr_t)p % (uintptr_t)va);
    if (mis % eb)
        return -1;
    return ((va - mis) % va) / eb;
}

/* sum_j A[row, j] x[j] for j in [j0, j1), one element at a time through nb0. */
static float dot_scalar(mc_dtype dt, const uint8_t *row, int64_t nb0, const float *x, int64_t j0, int64_t j1)
{
    float acc = 0.0f;
    for (int64_t j = j0; j < j1; j++)
        acc += mc_cpu_load(dt, row + j * nb0) * x[j];
    return acc;
}

/* The vector body of one row or a pair (p1 = p0 for one): two rows at once in every loop. */
static void body_pair(mc_dtype dt, bool wide, const uint8_t *p0, const uint8_t *p1, const float *x, int64_t n,
                      float out[2])
{
    const uint16_t *h0 = (const uint16_t *)(const void *)p0, *h1 = (const uint16_t *)(const void *)p1;
    const float *f0 = (const float *)(const void *)p0, *f1 = (const float *)(const void *)p1;
    if (dt == MC_DTYPE_F32)
        (wide ? mc_gemv_dot2_f32_avx512 : mc_gemv_dot2_f32_avx2)(f0, f1, x, n, out);
    else if (dt == MC_DTYPE_F16)
        (wide ? mc_gemv_dot2_f16_avx512 : mc_gemv_dot2_f16_avx2)(h0, h1, x, n, out);
    else
        (wide ? mc_gemv_dot2_bf16_avx512 : mc_gemv_dot2_bf16_avx2)(h0, h1, x, n, out);
}

static float dot_row(mc_dtype dt, bool wide, const uint8_t *row, const float *x, int64_t k)
{
    const int64_t eb = mc_cpu_elem_bytes(dt);
    int64_t head = head_elems(row, dt);
    if (head < 0 || head >= k)
        return dot_scalar(dt, row, eb, x, 0, k);
    const int64_t body = (k - head) / 8 * 8;
    const uint8_t *p = row + head * eb;
    const uint16_t *p16 = (const uint16_t *)(const void *)p;
    float acc, both[2];
    if (wide) {
        body_pair(dt, true, p, p, x + head, body, both);
        acc = both[0];
    } else {
        acc = dt == MC_DTYPE_F32    ? mc_gemv_dot_f32_avx2((const float *)(const void *)p, x + head, body)
              : dt == MC_DTYPE_F16 ? mc_gemv_dot_f16_avx2(p16, x + head, body)
                                   : mc_gemv_dot_bf16_avx2(p16, x + head, body);
    }
    acc += dot_scalar(dt, row, eb, x, 0, head);
    acc += dot_scalar(dt, row, eb, x, head + body, k);
    return acc;
}

/* Two rows at once when they share their alignment (the vector body on both at one pass), each
 * finished exactly as dot_row finishes it; otherwise one at a time. */
static void dot_row_pair(mc_dtype dt, bool wide, const uint8_t *r0, const uint8_t *r1, const float *x, int64_t k,
                         float out[2])
{
    const int64_t eb = mc_cpu_elem_bytes(dt);
    const int64_t head = head_elems(r0, dt);
    if (head < 0 || head >= k || head != head_elems(r1, dt)) {
        out[0] = dot_row(dt, wide, r0, x, k);
        out[1] = dot_row(dt, wide, r1, x, k);
        return;
    }
    const int64_t body = (k - head) / 8 * 8;
    body_pair(dt, wide, r0 + head * eb, r1 + head * eb, x + head, body, out);
    const uint8_t *rows[2] = {r0, r1};
    for (int r = 0; r < 2; r++) {
        out[r] += dot_scalar(dt, rows[r], eb, x, 0, head);
        out[r] += dot_scalar(dt, rows[r], eb, x, head + body, k);
    }
}

/* acc[i] += xp * col[i] for i in [0, n), col dense with element size eb. */
static void axpy_column(mc_dtype dt, float *acc, const uint8_t *col, int64_t n, float xp)
{
    const int64_t eb = mc_cpu_elem_bytes(dt);
    int64_t head = head_elems(col, dt);
    if (head < 0 || head > n)
        head = n;
    const int64_t body = (n - head) / 8 * 8;
    for (int64_t i = 0; i < head; i++)
        acc[i] += xp * mc_cpu_load(dt, col + i * eb);
    const uint8_t *p = col + head * eb;
    if (dt == MC_DTYPE_F32)
        mc_gemv_axpy_f32_avx2(acc + head, (const float *)(const void *)p, body, xp);
    else if (dt == MC_DTYPE_F16)
        mc_gemv_axpy_f16_avx2(acc + head, (const uint16_t *)(const void *)p, body, xp);
    else
        mc_gemv_axpy_bf16_avx2(acc + head, (const uint16_t *)(const void *)p, body, xp);
    for (int64_t i = head + body; i < n; i++)
        acc[i] += xp * mc_cpu_load(dt, col + i * eb);
}

static void gemv_rows(void *arg, int tid, int nthreads)
{
    gemv_job *job = arg;
    const mc_tensor *a = &job->g->a, *y = &job->g->y;
    const int64_t m = a->ne[1], k = a->ne[0];
    const int64_t begin = m * tid / nthreads, end = m * (tid + 1) / nthreads;
    if (job->mode == MODE_COLUMNS) {
        float *acc = job->acc + begin;
        for (int64_t p = 0; p < k; p++)
            axpy_column(a->dtype, acc, mc_cpu_elem_ptr(a, p, begin, 0, 0), end - begin, job->x[p]);
        for (int64_t i = begin; i < end; i++)
            mc_cpu_set(y, i, 0, 0, 0, job->acc[i]);
        return;
    }
    int64_t i = begin;
    for (; job->mode == MODE_ROWS && i + 2 <= end; i += 2) {
        float v[2];
        dot_row_pair(a->dtype, job->wide, mc_cpu_elem_ptr(a, 0, i, 0, 0), mc_cpu_elem_ptr(a, 0, i + 1, 0, 0), job->x, k, v);
        mc_cpu_set(y, i, 0, 0, 0, v[0]);
        mc_cpu_set(y, i + 1, 0, 0, 0, v[1]);
    }
    for (; i < end; i++) {
        const uint8_t *row = mc_cpu_elem_ptr(a, 0, i, 0, 0);
        float v = job->mode == MODE_ROWS ? dot_row(a->dtype, job->wide, row, job->x, k)
                                         : dot_scalar(a->dtype, row, a->nb[0], job->x, 0, k);
        mc_cpu_set(y, i, 0, 0, 0, v);
    }
}

static int gemv_mode(const mc_tensor *a)
{
    const int64_t eb = mc_cpu_elem_bytes(a->dtype);
    if (a->nb[0] == eb || a->ne[0] == 1)
        return MODE_ROWS;
    if (a->nb[1] == eb && a->ne[1] >= 8)
        return MODE_COLUMNS;
    return MODE_STRIDED;
}

static mc_status gemv_run(mc_kernel_ctx *kc, const mc_args *args, bool wide, mc_err *err)
{
    const mc_gemv_args *g = &args->u.gemv;
    const int64_t m = g->a.ne[1], k = g->a.ne[0];
    gemv_job job = {.g = g, .mode = gemv_mode(&g->a), .wide = wide};
    float *x = aligned_alloc(32, sizeof(float) * (size_t)((k + 7) / 8 * 8));
    float *acc = job.mode == MODE_COLUMNS ? calloc((size_t)m, sizeof(float)) : NULL;
    mc_status st = MC_OK;
    if (!x || (job.mode == MODE_COLUMNS && !acc)) {
        st = mc_err_set(err, MC_ERR_NOMEM, "gemv: no memory for a %lld-entry x or %lld-entry y", (long long)k,
                        (long long)m);
        goto done;
    }
    const uint8_t *x0 = mc_cpu_elem_ptr(&g->x, 0, 0, 0, 0);
    if (mc_cpu_row_is_dense_aligned(&g->x, x0))
        mc_avx2_load_row(g->x.dtype, x0, k, 1.0f, x);
    else
        for (int64_t j = 0; j < k; j++)
            x[j] = mc_cpu_load(g->x.dtype, x0 + j * g->x.nb[0]);
    job.x = x;
    job.acc = acc;
    int64_t nthreads = m * k / GEMV_ELEMS_PER_THREAD;
    nthreads = nthreads > kc->threads ? kc->threads : nthreads;
    nthreads = nthreads > m / 8 ? m / 8 : nthreads; /* at least 8 rows each */
    st = mc_cpu_parallel(nthreads < 1 ? 1 : (int)nthreads, gemv_rows, &job, err);
done:
    free(x);
    free(acc);
    return st;
}

static mc_status gemv_avx2_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return gemv_run(kc, args, false, err);
}

static mc_status gemv_avx512_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return gemv_run(kc, args, true, err);
}

static const char *gemv_avx512_probe(mc_backend_ctx *ctx)
{
    (void)ctx;
    if (!mc_cpu_has_avx2())
        return "needs AVX2, FMA and F16C";
    return __builtin_cpu_supports("avx512f") ? NULL : "needs AVX512F (vcvtph2ps and FMA on 512-bit vectors)";
}

static const char *gemv_avx2_probe(mc_backend_ctx *ctx)
{
    return mc_cpu_has_avx2() ? NULL : "needs AVX2, FMA and F16C";
}

static const char *gemv_xy_supported(const mc_gemv_args *g)
{
    if (!mc_cpu_is_plain_float(g->x.dtype) || !mc_cpu_is_plain_float(g->y.dtype))
        return "quantised x or y not supported";
    return NULL;
}

/* Each variant is specialised to one dtype of A; its siblings and the scalar/quantised GEMVs
 * take the others. */
static const char *gemv_f32_supports(const mc_args *args)
{
    if (args->u.gemv.a.dtype != MC_DTYPE_F32)
        return "A must be f32";
    return gemv_xy_supported(&args->u.gemv);
}

static const char *gemv_f16_supports(const mc_args *args)
{
    if (args->u.gemv.a.dtype != MC_DTYPE_F16)
        return "A must be f16";
    return gemv_xy_supported(&args->u.gemv);
}

static const char *gemv_bf16_supports(const mc_args *args)
{
    if (args->u.gemv.a.dtype != MC_DTYPE_BF16)
        return "A must be bf16";
    return gemv_xy_supported(&args->u.gemv);
}

const mc_variant mc_variant_gemv_f32_avx2 = {
    .op = MC_OP_GEMV,
    .backend = "cpu",
    .name = "gemv_f32_avx2",
    .probe = gemv_avx2_probe,
    .requires = "avx2,fma,f16c",
    .supports = gemv_f32_supports,
    .run = gemv_avx2_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)gemv_avx2_run,
};

const mc_variant mc_variant_gemv_f16_avx2 = {
    .op = MC_OP_GEMV,
    .backend = "cpu",
    .name = "gemv_f16_avx2",
    .probe = gemv_avx2_probe,
    .requires = "avx2,fma,f16c",
    .supports = gemv_f16_supports,
    .run = gemv_avx2_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)gemv_avx2_run,
};

const mc_variant mc_variant_gemv_bf16_avx2 = {
    .op = MC_OP_GEMV,
    .backend = "cpu",
    .name = "gemv_bf16_avx2",
    .probe = gemv_avx2_probe,
    .requires = "avx2,fma,f16c",
    .supports = gemv_bf16_supports,
    .run = gemv_avx2_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)gemv_avx2_run,
};

const mc_variant mc_variant_gemv_f32_avx512 = {
    .op = MC_OP_GEMV,
    .backend = "cpu",
    .name = "gemv_f32_avx512",
    .probe = gemv_avx512_probe,
    .requires = "avx2,fma,f16c,avx512f",
    .supports = gemv_f32_supports,
    .run = gemv_avx512_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)gemv_avx512_run,
};

const mc_variant mc_variant_gemv_f16_avx512 = {
    .op = MC_OP_GEMV,
    .backend = "cpu",
    .name = "gemv_f16_avx512",
    .probe = gemv_avx512_probe,
    .requires = "avx2,fma,f16c,avx512f",
    .supports = gemv_f16_supports,
    .run = gemv_avx512_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)gemv_avx512_run,
};

const mc_variant mc_variant_gemv_bf16_avx512 = {
    .op = MC_OP_GEMV,
    .backend = "cpu",
    .name = "gemv_bf16_avx512",
    .probe = gemv_avx512_probe,
    .requires = "avx2,fma,f16c,avx512f",
    .supports = gemv_bf16_supports,
    .run = gemv_avx512_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)gemv_avx512_run,
};
