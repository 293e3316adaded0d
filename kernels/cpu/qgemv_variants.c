/* kernels/cpu/qgemv_variants.c: the quantised GEMV variants (y = A x with A in q8_0 or q4_0):
 * their driver, capability probe, supports() and registry records.
 *
 * The quantised matmul interface, as these kernels see it:
 *   1. The format is A's dtype; the block layout is the view: ne[0] elements per row, block i of
 *      row r at a.offset + i * nb[0] + r * nb[1] (rows may be padded, bases misaligned). Scales,
 *      and Q4_0's implicit zero point 8, live inside each GGUF block.
 *   2. x and y are plain floats of any layout the op makes; the driver gathers x into a contiguous
 *      f32 copy once per call, so the row kernels only ever see dense x.
 *   3. g->xq says whether x may be quantised (to q8_0) first; the q8_0 x q8_0 dot variants need it,
 *      the dequantising ones ignore it (they are exact in x). g->xq_exact (xq=q8_0_ref) asks for
 *      quant-formats.md's rounding byte for byte and a bound without any activation error: only
 *      the scalar q8dot variants (ties away from zero, as the reference) accept it.
 * A new quantised format is a row kernel plus one supports() row here; callers do not change.
 * SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <stdlib.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/cpu_threads.h"
#include "kernels/cpu/qgemv_common.h"

#define MC_QGEMV_MIN_WEIGHTS_PER_THREAD (64 * 1024) /* below this a thread costs more than it saves */

float mc_qgemv_f16_table[1 << 16];

static pthread_once_t f16_table_once = PTHREAD_ONCE_INIT;

static void fill_f16_table(void)
{
    for (uint32_t h = 0; h < (1u << 16); h++)
        mc_qgemv_f16_table[h] = mc_f16_to_f32((uint16_t)h);
}

void mc_qgemv_fill_tables(void)
{
    pthread_once(&f16_table_once, fill_f16_table);
}

typedef struct qgemv_job {
    const mc_gemv_args *g;
    mc_qgemv_row_fn row;   /* one row a call, or */
    mc_qgemv_rows_fn rows; /* up to MC_QGEMV_ROWS_MAX a call (the other is NULL) */
    const float *x;
    const uint8_t *xq;
} qgemv_job;

/* Rows r0 .. r1 - 1 through j->rows. The share is cut into MC_QGEMV_ROWS_MAX runs of rows read
 * side by side: as many sequential streams, so more misses are in flight than one stream's
 * prefetcher keeps (at the 151936 x 1024 q4_K LM head, 2 threads: 16 GB/s as one stream, 25 as
 * four, 28 as eight). Leftover rows go last. */
static void qgemv_rows_grouped(const qgemv_job *j, const uint8_t *base, int64_t nblocks, int64_t r0, int64_t r1)
{
    const mc_tensor *a = &j->g->a;
    float out[MC_QGEMV_ROWS_MAX];
    const int64_t run = (r1 - r0) / MC_QGEMV_ROWS_MAX, rest = r0 + run * MC_QGEMV_ROWS_MAX;
    for (int64_t r = r0; r < r0 + run; r++) {
        j->rows(base + r * a->nb[1], run * a->nb[1], MC_QGEMV_ROWS_MAX, a->nb[0], nblocks, j->x, j->xq, out);
        for (int i = 0; i < MC_QGEMV_ROWS_MAX; i++)
            mc_cpu_set(&j->g->y, r + i * run, 0, 0, 0, out[i]);
    }
    if (rest == r1)
        return;
    j->rows(base + rest * a->nb[1], a->nb[1], (int)(r1 - rest), a->nb[0], nblocks, j->x, j->xq, out);
    for (int64_t r = rest; r < r1; r++)
        mc_cpu_set(&j->g->y, r, 0, 0, 0, out[r - rest]);
}

static void qgemv_rows(void *arg, int tid, int nthreads)
{
    const qgemv_job *j = arg;
    const mc_tensor *a = &j->g->a;
    const int64_t m = a->ne[1], nblocks = a->ne[0] / mc_dtype_info_of(a->dtype)->block_elems;
    const int64_t r0 = m * tid / nthreads, r1 = m * (tid + 1) / nthreads;
    const uint8_t *base = mc_cpu_base(a);
    if (j->rows) {
        qgemv_rows_grouped(j, base, nblocks, r0, r1);
        return;
    }
    for (int64_t r = r0; r < r1; r++)
        mc_cpu_set(&j->g->y, r, 0, 0, 0, j->row(base + r * a->nb[1], a->nb[0], nblocks, j->x, j->xq));
}

static mc_status qgemv_run_job(mc_kernel_ctx *kc, const mc_gemv_args *g, qgemv_job job,
                               mc_qgemv_quantise_fn quantise_x, mc_err *err)
{
    mc_status st = MC_OK;
    const int64_t k = g->a.ne[0], m = g->a.ne[1];
    const mc_dtype_info *act = mc_dtype_info_of(g->xq); /* q8_0 or q8_K blocks when quantise_x is set */
    mc_qgemv_fill_tables();
    float *x = malloc((size_t)k * sizeof *x);
    uint8_t *xq = quantise_x ? malloc((size_t)(k / act->block_elems * act->block_bytes)) : NULL;
    if (!x || (quantise_x && !xq)) {
        st = mc_err_set(err, MC_ERR_NOMEM, "qgemv: no memory for a %lld-element copy of x", (long long)k);
        goto done;
    }
    for (int64_t p = 0; p < k; p++)
        x[p] = mc_cpu_get(&g->x, p, 0, 0, 0);
    if (quantise_x)
        quantise_x(x, xq, k);
    job.g = g;
    job.x = x;
    job.xq = xq;
    int64_t useful = m * k / MC_QGEMV_MIN_WEIGHTS_PER_THREAD;
    int threads = kc->threads < useful ? kc->threads : (int)(useful < 1 ? 1 : useful);
    if (threads > m)
        threads = (int)m;
    st = mc_cpu_parallel(threads, qgemv_rows, &job, err);
done:
    free(x);
    free(xq);
    return st;
}

mc_status mc_qgemv_run(mc_kernel_ctx *kc, const mc_gemv_args *g, mc_qgemv_row_fn row,
                       mc_qgemv_quantise_fn quantise_x, mc_err *err)
{
    return qgemv_run_job(kc, g, (qgemv_job){.row = row}, quantise_x, err);
}

mc_status mc_qgemv_run_rows(mc_kernel_ctx *kc, const mc_gemv_args *g, mc_qgemv_rows_fn rows,
                            mc_qgemv_quantise_fn quantise_x, mc_err *err)
{
    return qgemv_run_job(kc, g, (qgemv_job){.rows = rows}, quantise_x, err);
}

static const char *qgemv_probe_avx2(mc_backend_ctx *ctx)
{
    (void)ctx;
    return mc_cpu_has_avx2() ? NULL : "needs AVX2, FMA and F16C";
}

/* What every quantised variant needs besides its A format. */
static const char *qgemv_supports_common(const mc_gemv_args *g, mc_dtype a_dtype)
{
    if (g->a.dtype != a_dtype)
        return a_dtype == MC_DTYPE_Q8_0 ? "A is not q8_0" : "A is not q4_0";
    if (!mc_cpu_is_plain_float(g->x.dtype) || !mc_cpu_is_plain_float(g->y.dtype))
        return "x and y must be plain floats";
    if (g->a.ne[0] % MC_QGEMV_QK != 0)
        return "rows are not whole blocks";
    return NULL;
}

/* Exact activation mode compares against the reference's q8_0 activations; a kernel that
 * multiplies by x itself differs from that by the activation error, which the bound omits. */
static const char *qgemv_supports_dequantising(const mc_gemv_args *g, mc_dtype a_dtype)
{
    if (g->xq_exact)
        return "computes with x itself, not with q8_0 activations: cannot meet xq_exact";
    return qgemv_supports_common(g, a_dtype);
}

static const char *supports_q8_0(const mc_args *args)
{
    return qgemv_supports_dequantising(&args->u.gemv, MC_DTYPE_Q8_0);
}

static const char *supports_q4_0(const mc_args *args)
{
    return qgemv_supports_dequantising(&args->u.gemv, MC_DTYPE_Q4_0);
}

static const char *supports_q8_0_q8dot(const mc_args *args)
{
    const mc_gemv_args *g = &args->u.gemv;
    if (g->xq != MC_DTYPE_Q8_0)
        return "quantises x to q8_0: needs xq=q8_0";
    return qgemv_supports_common(g, MC_DTYPE_Q8_0);
}

static const char *supports_q4_0_q8dot(const mc_args *args)
{
    const mc_gemv_args *g = &args->u.gemv;
    if (g->xq != MC_DTYPE_Q8_0)
        return "quantises x to q8_0: needs xq=q8_0";
    return qgemv_supports_common(g, MC_DTYPE_Q4_0);
}

/* ggml's AVX2 activation quantiser rounds with _mm256_round_ps (nearest, ties to even), not
 * quant-formats.md's roundf: it cannot quantise byte-exactly. */
static const char *supports_q8_0_q8dot_avx2(const mc_args *args)
{
    if (args->u.gemv.xq_exact)
        return "ggml's x86 rule rounds ties to even: cannot meet xq_exact";
    return supports_q8_0_q8dot(args);
}

static const char *supports_q4_0_q8dot_avx2(const mc_args *args)
{
    if (args->u.gemv.xq_exact)
        return "ggml's x86 rule rounds ties to even: cannot meet xq_exact";
    return supports_q4_0_q8dot(args);
}

static mc_status run_q8_0_scalar(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q8_0_scalar, NULL, err);
}

static mc_status run_q4_0_scalar(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q4_0_scalar, NULL, err);
}

static mc_status run_q8_0_q8dot_scalar(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q8_0_q8dot_scalar, mc_qgemv_quantise_x_q8_0_scalar, err);
}

static mc_status run_q4_0_q8dot_scalar(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q4_0_q8dot_scalar, mc_qgemv_quantise_x_q8_0_scalar, err);
}

static mc_status run_q8_0_avx2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q8_0_avx2, NULL, err);
}

static mc_status run_q4_0_avx2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q4_0_avx2, NULL, err);
}

static mc_status run_q8_0_q8dot_avx2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q8_0_q8dot_avx2, mc_qgemv_quantise_x_q8_0_avx2, err);
}

static mc_status run_q4_0_q8dot_avx2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q4_0_q8dot_avx2, mc_qgemv_quantise_x_q8_0_avx2, err);
}

/* Rows are split by thread, each row summed in a fixed order: bitwise deterministic. */
const mc_variant mc_variant_gemv_q8_0_scalar = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q8_0_scalar",
    .supports = supports_q8_0, .run = run_q8_0_scalar,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q8_0_scalar,
};

const mc_variant mc_variant_gemv_q4_0_scalar = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q4_0_scalar",
    .supports = supports_q4_0, .run = run_q4_0_scalar,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q4_0_scalar,
};

const mc_variant mc_variant_gemv_q8_0_q8dot_scalar = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q8_0_q8dot_scalar",
    .supports = supports_q8_0_q8dot, .run = run_q8_0_q8dot_scalar,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q8_0_q8dot_scalar,
};

const mc_variant mc_variant_gemv_q8_0_avx2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q8_0_avx2",
    .probe = qgemv_probe_avx2, .requires = "avx2,fma,f16c", .supports = supports_q8_0, .run = run_q8_0_avx2,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q8_0_avx2,
};

const mc_variant mc_variant_gemv_q4_0_avx2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q4_0_avx2",
    .probe = qgemv_probe_avx2, .requires = "avx2,fma,f16c", .supports = supports_q4_0, .run = run_q4_0_avx2,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q4_0_avx2,
};

const mc_variant mc_variant_gemv_q8_0_q8dot_avx2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q8_0_q8dot_avx2",
    .probe = qgemv_probe_avx2, .requires = "avx2,fma,f16c", .supports = supports_q8_0_q8dot_avx2, .run = run_q8_0_q8dot_avx2,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q8_0_q8dot_avx2,
};

const mc_variant mc_variant_gemv_q4_0_q8dot_scalar = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q4_0_q8dot_scalar",
    .supports = supports_q4_0_q8dot, .run = run_q4_0_q8dot_scalar,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q4_0_q8dot_scalar,
};

const mc_variant mc_variant_gemv_q4_0_q8dot_avx2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q4_0_q8dot_avx2",
    .probe = qgemv_probe_avx2, .requires = "avx2,fma,f16c", .supports = supports_q4_0_q8dot_avx2, .run = run_q4_0_q8dot_avx2,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q4_0_q8dot_avx2,
};
