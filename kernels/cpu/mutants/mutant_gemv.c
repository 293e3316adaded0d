/* kernels/cpu/mutants/mutant_gemv.c: planted-bug copies of the GEMVs (gemv_scalar.c, gemv_variants.c), one
 * classic defect each: a gate that always says no, alignment, tails, gaps, precision, threads.
 * SPDX-License-Identifier: MIT
 *
 * Each mutant is the pristine logic written out again with exactly one change, marked "DEFECT:".
 * The threaded ones (race, L1 blocking) add the structure their bug lives in (split-k partial sums,
 * row blocks pulled from a shared counter) around gemv_scalar's dot product.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/cpu_threads.h"
#include "kernels/cpu/gemv_avx2.h"

#define RACE_SPLITS 4      /* split-k parts, one thread each, whatever kc->threads says */
#define L1_BYTES 16384     /* the cache a row block is sized for */
#define BLOCK_THREADS 2    /* threads pulling row blocks */

extern const mc_variant mc_variant_gemv_f32_avx2;

/* gemv_scalar's supports(): any A (plain or quantised), plain-float x and y. */
static const char *gemv_scalar_supports(const mc_args *args)
{
    const mc_gemv_args *g = &args->u.gemv;
    if (!mc_cpu_is_plain_float(g->y.dtype) || !mc_cpu_is_plain_float(g->x.dtype))
        return "quantised x or y not supported";
    return NULL;
}

/* Plain-float A, x and y: the vectorised GEMVs' domain (quantised A has its own variants). */
static const char *gemv_plain_supports(const mc_args *args)
{
    if (!mc_cpu_is_plain_float(args->u.gemv.a.dtype))
        return "quantised A: the q8_0/q4_0 variants take it";
    return gemv_scalar_supports(args);
}

static const char *avx2_probe(mc_backend_ctx *ctx)
{
    return mc_cpu_has_avx2() ? NULL : "needs AVX2, FMA and F16C";
}

/* gemv_scalar's dot product of row i with x over p in [p0, p1), through the strides. */
static float dot_range(const mc_gemv_args *g, int64_t i, int64_t p0, int64_t p1)
{
    float acc = 0.0f;
    for (int64_t p = p0; p < p1; p++)
        acc += mc_cpu_get(&g->a, p, i, 0, 0) * mc_cpu_get(&g->x, p, 0, 0, 0);
    return acc;
}

/* ---- the capability gate ---- */

/* DEFECT: the probe always says no (a cpuid test on the wrong leaf), so gemv_f32_avx2's fast path,
 * which this variant runs unchanged, is never tested. The harness must notice: the variant declares
 * the features its probe needs, and this CPU has them. */
static const char *probe_never(mc_backend_ctx *ctx)
{
    return "needs AVX2, FMA and F16C";
}

static mc_status probe_never_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_variant_gemv_f32_avx2.run(kc, args, err);
}

static const char *f32_supports(const mc_args *args)
{
    if (args->u.gemv.a.dtype != MC_DTYPE_F32)
        return "A must be f32";
    return gemv_plain_supports(args);
}

/* ---- alignment and tails (gemv_variants.c's dense-row path) ---- */

/* gemv_variants.c's scalar piece: sum_j A[row, j] x[j] for j in [j0, j1), through nb0. */
static float dot_scalar(mc_dtype dt, const uint8_t *row, int64_t nb0, const float *x, int64_t j0, int64_t j1)
{
    float acc = 0.0f;
    for (int64_t j = j0; j < j1; j++)
        acc += mc_cpu_load(dt, row + j * nb0) * x[j];
    return acc;
}

/* The aligned 8-wide body of gemv_avx2.c: the row pointer must be 32-byte (f32) or 16-byte aligned. */
static float dot_body(mc_dtype dt, const uint8_t *p, const float *x, int64_t n)
{
    const uint16_t *p16 = (const uint16_t *)(const void *)p;
    return dt == MC_DTYPE_F32    ? mc_gemv_dot_f32_avx2((const float *)(const void *)p, x, n)
           : dt == MC_DTYPE_F16 ? mc_gemv_dot_f16_avx2(p16, x, n)
                                : mc_gemv_dot_bf16_avx2(p16, x, n);
}

static int64_t vector_align(mc_dtype dt)
{
    return dt == MC_DTYPE_F32 ? 32 : 16;
}

/* gemv_variants.c's head: elements before p reaches the vector alignment; -1 off an element boundary. */
static int64_t head_elems(const uint8_t *p, mc_dtype dt)
{
    const int64_t eb = mc_cpu_elem_bytes(dt), va = vector_align(dt);
    const int64_t mis = (int64_t)((uintptr_t)p % (uintptr_t)va);
    if (mis % eb)
        return -1;
    return ((va - mis) % va) / eb;
}

/* DEFECT: no scalar head: the aligned vector loads start at the row's base, wherever it is. */
static float dot_row_unaligned(mc_dtype dt, const uint8_t *row, const float *x, int64_t k)
{
    const int64_t eb = mc_cpu_elem_bytes(dt);
    if ((uintptr_t)row % (uintptr_t)eb)
        return dot_scalar(dt, row, eb, x, 0, k);
    const int64_t body = k / 8 * 8;
    return dot_body(dt, row, x, body) + dot_scalar(dt, row, eb, x, body, k);
}

/* DEFECT: the scalar tail after the last whole vector is skipped. */
static float dot_row_no_tail(mc_dtype dt, const uint8_t *row, const float *x, int64_t k)
{
    const int64_t eb = mc_cpu_elem_bytes(dt);
    int64_t head = head_elems(row, dt);
    if (head < 0 || head >= k)
        return dot_scalar(dt, row, eb, x, 0, k);
    const int64_t body = (k - head) / 8 * 8;
    return dot_body(dt, row + head * eb, x + head, body) + dot_scalar(dt, row, eb, x, 0, head);
}

typedef float (*dense_dot_fn)(mc_dtype dt, const uint8_t *row, const float *x, int64_t k);

/* gemv_variants.c's driver on one thread: x gathered to f32 once, dense rows through `dot`, other
 * layouts through the strides. */
static mc_status gemv_dense_run(const mc_gemv_args *g, dense_dot_fn dot, mc_err *err)
{
    const mc_tensor *a = &g->a;
    const int64_t m = a->ne[1], k = a->ne[0], eb = mc_cpu_elem_bytes(a->dtype);
    float *x = aligned_alloc(32, sizeof(float) * (size_t)((k + 7) / 8 * 8));
    if (!x)
        return mc_err_set(err, MC_ERR_NOMEM, "gemv: no memory for a %lld-entry x", (long long)k);
    for (int64_t j = 0; j < k; j++)
        x[j] = mc_cpu_get(&g->x, j, 0, 0, 0);
    const int dense = a->nb[0] == eb || k == 1;
    for (int64_t i = 0; i < m; i++) {
        const uint8_t *row = mc_cpu_elem_ptr(a, 0, i, 0, 0);
        mc_cpu_set(&g->y, i, 0, 0, 0, dense ? dot(a->dtype, row, x, k) : dot_scalar(a->dtype, row, a->nb[0], x, 0, k));
    }
    free(x);
    return MC_OK;
}

static mc_status aligned_load_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return gemv_dense_run(&args->u.gemv, dot_row_unaligned, err);
}

static mc_status tail_skipped_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return gemv_dense_run(&args->u.gemv, dot_row_no_tail, err);
}

/* ---- gaps ---- */

/* DEFECT: the last partial block of a dense row is read 8 wide anyway, past the row's end, and the
 * extra lanes are "masked" by multiplying with x's zero padding. Past a row lie the next row, a
 * padded row's spare elements or the buffer's end: 0 * NaN is NaN, so reading a gap poisons y. */
static float dot_row_overread(mc_dtype dt, const uint8_t *row, const float *x, int64_t k)
{
    const int64_t eb = mc_cpu_elem_bytes(dt);
    float acc = 0.0f;
    for (int64_t j = 0; j < k; j += 8)
        for (int e = 0; e < 8; e++)
            acc += mc_cpu_load(dt, row + (j + e) * eb) * x[j + e];
    return acc;
}

static mc_status overread_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemv_args *g = &args->u.gemv;
    const int64_t k = g->a.ne[0], kpad = (k + 7) / 8 * 8;
    float *x = calloc((size_t)kpad, sizeof(float)); /* zero padding up to a whole block */
    if (!x)
        return mc_err_set(err, MC_ERR_NOMEM, "gemv: no memory for a %lld-entry x", (long long)k);
    for (int64_t j = 0; j < k; j++)
        x[j] = mc_cpu_get(&g->x, j, 0, 0, 0);
    const int dense = g->a.nb[0] == mc_cpu_elem_bytes(g->a.dtype);
    for (int64_t i = 0; i < g->a.ne[1]; i++) {
        const uint8_t *row = mc_cpu_elem_ptr(&g->a, 0, i, 0, 0);
        mc_cpu_set(&g->y, i, 0, 0, 0,
                   dense ? dot_row_overread(g->a.dtype, row, x, k) : dot_scalar(g->a.dtype, row, g->a.nb[0], x, 0, k));
    }
    free(x);
    return MC_OK;
}

/* ---- precision ---- */

/* DEFECT: the accumulator is kept in f16 (rounded after every multiply-add), not f32. */
static mc_status f16_accumulation_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemv_args *g = &args->u.gemv;
    const int64_t m = g->a.ne[1], k = g->a.ne[0];
    for (int64_t i = 0; i < m; i++) {
        float acc = 0.0f;
        for (int64_t p = 0; p < k; p++)
            acc = mc_f16_to_f32(mc_f32_to_f16(acc + mc_cpu_get(&g->a, p, i, 0, 0) * mc_cpu_get(&g->x, p, 0, 0, 0)));
        mc_cpu_set(&g->y, i, 0, 0, 0, acc);
    }
    return MC_OK;
}

/* ---- threads ---- */

typedef struct race_job {
    const mc_gemv_args *g;
    _Atomic float *acc; /* one shared accumulator per row of y */
} race_job;

/* Thread t sums its k-range of every row and adds the partial sum into the row's accumulator. */
static void race_task(void *arg, int tid, int nthreads)
{
    race_job *job = arg;
    const int64_t m = job->g->a.ne[1], k = job->g->a.ne[0];
    const int64_t p0 = k * tid / nthreads, p1 = k * (tid + 1) / nthreads;
    for (int64_t i = 0; i < m; i++) {
        const float part = dot_range(job->g, i, p0, p1);
        /* DEFECT: partial sums meet in a shared accumulator in whatever order the threads arrive
         * (an atomicAdd split-k): each sum is within the bound, but its bits change from run to run. */
        float old = atomic_load(&job->acc[i]);
        while (!atomic_compare_exchange_weak(&job->acc[i], &old, old + part))
            ;
    }
}

static mc_status race_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemv_args *g = &args->u.gemv;
    const int64_t m = g->a.ne[1];
    race_job job = {.g = g, .acc = malloc(sizeof(_Atomic float) * (size_t)m)};
    if (!job.acc)
        return mc_err_set(err, MC_ERR_NOMEM, "gemv: no memory for %lld accumulators", (long long)m);
    for (int64_t i = 0; i < m; i++)
        atomic_init(&job.acc[i], 0.0f);
    mc_status st = mc_cpu_parallel(RACE_SPLITS, race_task, &job, err);
    for (int64_t i = 0; !st && i < m; i++)
        mc_cpu_set(&g->y, i, 0, 0, 0, atomic_load(&job.acc[i]));
    free(job.acc);
    return st;
}

typedef struct block_job {
    const mc_gemv_args *g;
    int64_t rows_per_block;
    atomic_llong next; /* first row of the next block to hand out */
} block_job;

static void block_task(void *arg, int tid, int nthreads)
{
    block_job *job = arg;
    const int64_t m = job->g->a.ne[1], k = job->g->a.ne[0];
    for (;;) {
        const int64_t r0 = atomic_fetch_add(&job->next, job->rows_per_block);
        if (r0 >= m)
            return;
        for (int64_t i = r0; i < r0 + job->rows_per_block && i < m; i++)
            mc_cpu_set(&job->g->y, i, 0, 0, 0, dot_range(job->g, i, 0, k));
    }
}

static mc_status l1_block_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemv_args *g = &args->u.gemv;
    const int64_t row_bytes = g->a.ne[0] * mc_cpu_elem_bytes(g->a.dtype);
    block_job job = {.g = g};
    /* DEFECT: rows per block = L1 / row size, without max(1, ...): a row longer than L1 makes it
     * 0, and the threads take the same empty block forever. */
    job.rows_per_block = L1_BYTES / row_bytes;
    atomic_init(&job.next, 0);
    return mc_cpu_parallel(BLOCK_THREADS, block_task, &job, err);
}

const mc_variant mc_variant_mutant_gemv_probe_never = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_probe_never",
    .probe = probe_never, .supports = f32_supports, .run = probe_never_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "coverage",
    .code = (const void *)probe_never, .requires = "avx2,fma,f16c",
};

const mc_variant mc_variant_mutant_gemv_aligned_load = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_aligned_load",
    .probe = avx2_probe, .supports = gemv_plain_supports, .run = aligned_load_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "crash",
    .code = (const void *)dot_row_unaligned, .requires = "avx2,fma,f16c",
};

const mc_variant mc_variant_mutant_gemv_tail_skipped = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_tail_skipped",
    .probe = avx2_probe, .supports = gemv_plain_supports, .run = tail_skipped_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)dot_row_no_tail, .requires = "avx2,fma,f16c",
};

const mc_variant mc_variant_mutant_gemv_gap_read = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_gap_read",
    .supports = gemv_plain_supports, .run = overread_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "nan",
    .code = (const void *)dot_row_overread,
};

const mc_variant mc_variant_mutant_gemv_f16_accumulation = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_f16_accumulation",
    .supports = gemv_scalar_supports, .run = f16_accumulation_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)f16_accumulation_run,
};

const mc_variant mc_variant_mutant_gemv_race = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_race",
    .supports = gemv_scalar_supports, .run = race_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "nondeterminism",
    .code = (const void *)race_task,
};

const mc_variant mc_variant_mutant_gemv_l1_block = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "mutant_gemv_l1_block",
    .supports = gemv_plain_supports, .run = l1_block_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "timeout",
    .code = (const void *)block_task,
};
