/* kernels/cpu/softmax_variants.c: the vectorised softmax variants: three-pass (softmax_avx2; and
 * softmax_avx2_stream, softmax_avx512 reading x twice), single-pass online (softmax_online) and
 * segmented for long rows (softmax_blocked).
 * SPDX-License-Identifier: MIT
 *
 * How they share work:
 *  1. They run their arithmetic through row primitives: AVX2 (softmax_avx2.c), or AVX-512
 *     (softmax_avx512.c) for softmax_avx512; each declares the probe of its set. The scalar path
 *     here covers rows the vector code cannot load: strided rows (nb[0] != element size) and bases
 *     off an element boundary.
 *  2. A row is the unit of work. Rows are split between threads in contiguous ranges, and a row's
 *     arithmetic never depends on which thread ran it, so results are bitwise the same for every
 *     thread count. softmax_blocked may also split one long row's segments between threads; the
 *     segments' statistics are merged by one thread, in segment order, for the same reason.
 *  3. Masked columns (causal: j > i + q_offset) and rows with nothing visible are written as 0.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/cpu_threads.h"
#include "kernels/cpu/softmax_avx2.h"
#include "kernels/cpu/softmax_avx512.h"

#define SOFTMAX_SEGMENT_COLS 1024     /* softmax_blocked: rows longer than this are split */
#define SOFTMAX_ELEMS_PER_THREAD 16384 /* below this much work per thread, waking one costs more */
/* the streaming variants write y around the caches (non-temporal) from this size of y on: an
 * output about a core's L2 per thread would be evicted before anyone read it; a smaller one is
 * read back from cache. At load ~2 streaming was x1.15 with 3.9 and 29 MB of f32 y, x0.78 with
 * 0.23 MB (docs/performance.md). */
#define SOFTMAX_STREAM_BYTES (INT64_C(2) << 20)

typedef enum softmax_algo { ALGO_THREE_PASS, ALGO_ONLINE, ALGO_BLOCKED, ALGO_STREAM } softmax_algo;

/* The streaming rows' primitives, in one instruction set (contracts in softmax_avx2.h). */
typedef struct softmax_stream_isa {
    float (*row_max)(mc_dtype dt, const uint8_t *x, int64_t n, float scale);
    float (*exp_sum)(mc_dtype dt, const uint8_t *x, int64_t n, float scale, float max, float *v,
                     const uint8_t *next_x);
    void (*store_row)(mc_dtype dt, uint8_t *y, const float *v, int64_t n, float mul, float div, int stream);
    /* NULL, or exp_sum storing a held-back row meanwhile (mc_avx512_exp_sum_store) */
    float (*exp_sum_store)(mc_dtype dt, const uint8_t *x, int64_t n, float scale, float max, float *v,
                           const uint8_t *next_x, const mc_avx512_pending *prev);
} softmax_stream_isa;

static const softmax_stream_isa stream_avx2 = {mc_avx2_row_max, mc_avx2_exp_sum_x, mc_avx2_store_row_nt, NULL};
static const softmax_stream_isa stream_avx512 = {mc_avx512_row_max, mc_avx512_exp_sum, mc_avx512_store_row,
                                                 mc_avx512_exp_sum_store};

/* One row: where its x and y start, and how much of it the causal mask leaves. */
typedef struct softmax_row {
    const uint8_t *x;
    uint8_t *y;
    int64_t visible; /* leading columns the mask leaves */
} softmax_row;

/* Row r of the flattened (rows, batch, batch2) index space. */
static softmax_row row_at(const mc_softmax_args *s, int64_t r)
{
    const int64_t n1 = s->y.ne[1], n2 = s->y.ne[2];
    const int64_t i = r % n1, b2 = (r / n1) % n2, b3 = r / (n1 * n2);
    softmax_row row = {
        .x = mc_cpu_elem_ptr(&s->x, 0, i, b2, b3),
        .y = mc_cpu_elem_ptr(&s->y, 0, i, b2, b3),
        .visible = mc_cpu_causal_visible(s->causal, s->q_offset, i, s->x.ne[0]),
    };
    return row;
}

/* dst[j] = scale * x[j] for n columns at p, one by one; returns the largest dst[j]. */
static float gather_strided(const mc_tensor *x, const uint8_t *p, int64_t n, float scale, float *dst)
{
    float max = -INFINITY;
    for (int64_t j = 0; j < n; j++) {
        dst[j] = scale * mc_cpu_load(x->dtype, p + j * x->nb[0]);
        max = dst[j] > max ? dst[j] : max;
    }
    return max;
}

/* dst[j] = scale * x[j0 + j] for n columns: vector loads for a dense row, else one by one.
 * Returns the largest dst[j] (-inf for n == 0). */
static float gather(const mc_tensor *x, const uint8_t *row, int64_t j0, int64_t n, float scale, float *dst)
{
    const uint8_t *p = row + j0 * x->nb[0];
    if (mc_cpu_row_is_dense_aligned(x, p))
        return mc_avx2_load_row_max(x->dtype, p, n, scale, dst);
    return gather_strided(x, p, n, scale, dst);
}

/* y[j] = v[j] * mul / div for n columns at p, one by one. */
static void scatter_strided(const mc_tensor *y, uint8_t *p, const float *v, int64_t n, float mul, float div)
{
    const float f = mul / div; /* as the vector paths: a reciprocal and a multiply */
    for (int64_t j = 0; j < n; j++)
        mc_cpu_store(y->dtype, p + j * y->nb[0], v[j] * f);
}

/* y[j0 + j] = v[j] * mul / div for n columns. */
static void scatter(const mc_tensor *y, uint8_t *row, int64_t j0, const float *v, int64_t n, float mul, float div)
{
    uint8_t *p = row + j0 * y->nb[0];
    if (mc_cpu_row_is_dense_aligned(y, p))
        mc_avx2_store_row(y->dtype, p, v, n, mul, div);
    else
        scatter_strided(y, p, v, n, mul, div);
}

/* y[j] = 0 for j in [j0, cols): masked columns. 0.0 is all-zero bytes in f32, f16 and bf16. */
static void zero_fill(const mc_tensor *y, uint8_t *row, int64_t j0, int64_t cols)
{
    uint8_t *p = row + j0 * y->nb[0];
    if (j0 >= cols)
        return;
    if (mc_cpu_row_is_dense_aligned(y, p)) {
        memset(p, 0, (size_t)((cols - j0) * mc_cpu_elem_bytes(y->dtype)));
        return;
    }
    for (int64_t j = j0; j < cols; j++, p += y->nb[0])
        mc_cpu_store(y->dtype, p, 0.0f);
}

/* ---- three passes over a scratch copy: max, exp and sum, normalise ---- */

static void three_pass_row(const mc_softmax_args *s, int64_t r, float *v)
{
    const softmax_row row = row_at(s, r);
    const float max = gather(&s->x, row.x, 0, row.visible, s->scale, v);
    if (max == -INFINITY) {
        zero_fill(&s->y, row.y, 0, s->y.ne[0]);
        return;
    }
    const float sum = mc_avx2_exp_sum(v, row.visible, max);
    scatter(&s->y, row.y, 0, v, row.visible, 1.0f, sum);
    zero_fill(&s->y, row.y, row.visible, s->y.ne[0]);
}

/* ---- streaming (AVX2 or AVX-512): max from x, exp-sum from x into the scratch row, scaled store ---- */

/* x is read twice (the second time from L1: a 4096-wide f32 row is 16 KiB) and never copied;
 * while the exp pass computes, the next row's x is prefetched, so memory works under the
 * arithmetic; a large y is written non-temporally (job.stream). A strided x is copied (scaled)
 * into the scratch row first and the same passes run over the copy. With exp_sum_store (AVX-512)
 * a dense row's output is held back (*pending) and stored during the next row's exp pass, so its
 * writes too go out under the arithmetic; the thread's last row is flushed by its caller. The
 * held-back row's exponentials stay in the thread's one scratch row, and the next row's are
 * written over them block by block, each block after it was stored: x's row and the scratch row
 * are all the pass keeps in L1: 32 KiB at 4096 f32 columns, where a second scratch row made 48,
 * more than Zen 4's L1 and all of a 48 KiB one (Golden Cove), with y's lines still to pass
 * through. Every value is computed and rounded as without the hold-back: results are bitwise the
 * same. */

/* Stores the held-back row, if any, on its own, unless it is of dtype `keep` (-1: whatever its
 * dtype): exp_sum_store stores only a held-back row of its own x's dtype. */
static void flush_pending(const softmax_stream_isa *isa, mc_avx512_pending *p, int keep)
{
    if (p->y && (int)p->dt != keep) {
        isa->store_row(p->dt, p->y, p->v, p->n, p->mul, p->div, p->stream);
        p->y = NULL;
    }
}

/* v: the thread's scratch row, which *pending's row (if any) lives in. */
static void stream_row(const softmax_stream_isa *isa, const mc_softmax_args *s, int64_t r, float *v,
                      const softmax_row *next, int stream, mc_avx512_pending *pending)
{
    const softmax_row row = row_at(s, r);
    const mc_tensor *x = &s->x, *y = &s->y;
    const int ydense = mc_cpu_row_is_dense_aligned(y, row.y);
    mc_dtype dt = x->dtype;
    const uint8_t *src = row.x;
    float scale = s->scale, max;
    if (mc_cpu_row_is_dense_aligned(x, row.x)) {
        max = isa->row_max(dt, row.x, row.visible, scale);
    } else {
        flush_pending(isa, pending, -1); /* the copy goes where the held-back row's values are */
        max = gather_strided(x, row.x, row.visible, scale, v);
        dt = MC_DTYPE_F32;
        src = (const uint8_t *)v;
        scale = 1.0f;
    }
    if (max == -INFINITY) {
        zero_fill(y, row.y, 0, y->ne[0]);
        return;
    }
    /* src is x or a copy of it; the next row is x's, dense where this one is */
    const uint8_t *next_x = next && src == row.x ? next->x : NULL;
    float sum;
    flush_pending(isa, pending, (int)dt); /* a row held back in y's dtype while this one's x was copied to f32 */
    if (pending->y) {
        sum = isa->exp_sum_store(dt, src, row.visible, scale, max, v, next_x, pending);
        pending->y = NULL;
    } else {
        sum = isa->exp_sum(dt, src, row.visible, scale, max, v, next_x);
    }
    zero_fill(y, row.y, row.visible, y->ne[0]);
    if (ydense && isa->exp_sum_store && y->dtype == dt) { /* held back in x's dtype only (see flush_pending) */
        *pending = (mc_avx512_pending){y->dtype, row.y, v, row.visible, 1.0f, sum, stream};
        return;
    }
    if (ydense)
        isa->store_row(y->dtype, row.y, v, row.visible, 1.0f, sum, stream);
    else
        scatter_strided(y, row.y, v, row.visible, 1.0f, sum);
}

/* ---- online: one pass for the max and the sum, one to write ---- */

/* Scalar online statistics through strides (the path for rows the vector code cannot load). */
static void online_stats_strided(const mc_tensor *x, const uint8_t *p, int64_t n, float scale, float *max,
                                 float *sum)
{
    float m = -INFINITY, acc = 0.0f;
    for (int64_t j = 0; j < n; j++) {
        const float v = scale * mc_cpu_load(x->dtype, p + j * x->nb[0]);
        if (v == -INFINITY)
            continue;
        if (v > m) {
            acc = (m == -INFINITY ? 0.0f : acc * expf(m - v)) + 1.0f;
            m = v;
        } else {
            acc += expf(v - m);
        }
    }
    *max = m;
    *sum = acc;
}

static void online_row(const mc_softmax_args *s, int64_t r)
{
    const softmax_row row = row_at(s, r);
    const int dense = mc_cpu_row_is_dense_aligned(&s->x, row.x) && mc_cpu_row_is_dense_aligned(&s->y, row.y);
    float max, sum;
    if (dense)
        mc_avx2_online_stats(s->x.dtype, row.x, row.visible, s->scale, &max, &sum);
    else
        online_stats_strided(&s->x, row.x, row.visible, s->scale, &max, &sum);
    if (max == -INFINITY) {
        zero_fill(&s->y, row.y, 0, s->y.ne[0]);
        return;
    }
    if (dense) {
        mc_avx2_online_out(s->x.dtype, row.x, s->y.dtype, row.y, row.visible, s->scale, max, sum);
    } else {
        for (int64_t j = 0; j < row.visible; j++) {
            const float v = s->scale * mc_cpu_load(s->x.dtype, row.x + j * s->x.nb[0]);
            mc_cpu_store(s->y.dtype, row.y + j * s->y.nb[0], expf(v - max) / sum);
        }
    }
    zero_fill(&s->y, row.y, row.visible, s->y.ne[0]);
}

/* ---- blocked: per-segment max and sum, merged across segments ---- */

static int64_t segment_count(int64_t cols)
{
    return (cols + SOFTMAX_SEGMENT_COLS - 1) / SOFTMAX_SEGMENT_COLS;
}

/* Phase 1 for segment g: v[seg] = exp(scale * x - m_g), seg_max[g] = m_g, seg_sum[g] = their sum.
 * Masked columns enter as -inf, so they contribute exactly 0. */
static void segment_stats(const mc_softmax_args *s, const softmax_row *row, int64_t g, float *v, float *seg_max,
                          float *seg_sum)
{
    const int64_t j0 = g * SOFTMAX_SEGMENT_COLS, cols = s->x.ne[0];
    const int64_t n = cols - j0 < SOFTMAX_SEGMENT_COLS ? cols - j0 : SOFTMAX_SEGMENT_COLS;
    const int64_t live = row->visible <= j0 ? 0 : (row->visible - j0 < n ? row->visible - j0 : n);
    seg_max[g] = gather(&s->x, row->x, j0, live, s->scale, v + j0);
    for (int64_t j = live; j < n; j++)
        v[j0 + j] = -INFINITY;
    seg_sum[g] = 0.0f;
    if (seg_max[g] == -INFINITY)
        memset(v + j0, 0, sizeof *v * (size_t)n);
    else
        seg_sum[g] = mc_avx2_exp_sum(v + j0, n, seg_max[g]);
}

/* The row's max M and sum S = sum_g seg_sum[g] e^(seg_max[g] - M), in segment order. */
static void merge_segments(int64_t nseg, const float *seg_max, const float *seg_sum, float *max, float *sum)
{
    float m = -INFINITY, acc = 0.0f;
    for (int64_t g = 0; g < nseg; g++)
        m = seg_max[g] > m ? seg_max[g] : m;
    for (int64_t g = 0; g < nseg && m != -INFINITY; g++)
        if (seg_max[g] != -INFINITY)
            acc += seg_sum[g] * expf(seg_max[g] - m);
    *max = m;
    *sum = acc;
}

/* Phase 2 for segment g: y = v e^(m_g - M) / S. */
static void segment_store(const mc_softmax_args *s, const softmax_row *row, int64_t g, const float *v,
                          const float *seg_max, float max, float sum)
{
    const int64_t j0 = g * SOFTMAX_SEGMENT_COLS, cols = s->y.ne[0];
    const int64_t n = cols - j0 < SOFTMAX_SEGMENT_COLS ? cols - j0 : SOFTMAX_SEGMENT_COLS;
    if (max == -INFINITY || seg_max[g] == -INFINITY) {
        zero_fill(&s->y, row->y, j0, j0 + n);
        return;
    }
    scatter(&s->y, row->y, j0, v + j0, n, expf(seg_max[g] - max), sum);
}

static void blocked_row(const mc_softmax_args *s, int64_t r, float *v, float *seg_max, float *seg_sum)
{
    const softmax_row row = row_at(s, r);
    const int64_t nseg = segment_count(s->x.ne[0]);
    float max, sum;
    for (int64_t g = 0; g < nseg; g++)
        segment_stats(s, &row, g, v, seg_max, seg_sum);
    merge_segments(nseg, seg_max, seg_sum, &max, &sum);
    for (int64_t g = 0; g < nseg; g++)
        segment_store(s, &row, g, v, seg_max, max, sum);
}

/* ---- threading ---- */

typedef struct softmax_job {
    const mc_softmax_args *s;
    softmax_algo algo;
    const softmax_stream_isa *isa; /* ALGO_STREAM: whose primitives */
    int stream;              /* ALGO_STREAM: y written with non-temporal stores */
    int64_t rows;
    float *scratch;          /* per thread: stride floats */
    int64_t stride;
    /* one long row split over threads (blocked only) */
    softmax_row row;
    float *seg_max, *seg_sum;
    float max, sum;
} softmax_job;

static void run_rows(void *arg, int tid, int nthreads)
{
    softmax_job *job = arg;
    const int64_t begin = job->rows * tid / nthreads, end = job->rows * (tid + 1) / nthreads;
    float *v = job->scratch + job->stride * tid;
    mc_avx512_pending pending = {.y = NULL};
    const int64_t nseg = segment_count(job->s->x.ne[0]);
    for (int64_t r = begin; r < end; r++) {
        if (job->algo == ALGO_THREE_PASS)
            three_pass_row(job->s, r, v);
        else if (job->algo == ALGO_ONLINE)
            online_row(job->s, r);
        else if (job->algo == ALGO_STREAM) {
            const softmax_row next = row_at(job->s, r + 1 < end ? r + 1 : r);
            stream_row(job->isa, job->s, r, v, r + 1 < end ? &next : NULL, job->stream, &pending);
        }
        else
            blocked_row(job->s, r, v, v + job->s->x.ne[0], v + job->s->x.ne[0] + nseg);
    }
    if (job->algo == ALGO_STREAM)
        flush_pending(job->isa, &pending, -1);
}

static void run_segment_stats(void *arg, int tid, int nthreads)
{
    softmax_job *job = arg;
    const int64_t nseg = segment_count(job->s->x.ne[0]);
    for (int64_t g = nseg * tid / nthreads; g < nseg * (tid + 1) / nthreads; g++)
        segment_stats(job->s, &job->row, g, job->scratch, job->seg_max, job->seg_sum);
}

static void run_segment_store(void *arg, int tid, int nthreads)
{
    softmax_job *job = arg;
    const int64_t nseg = segment_count(job->s->x.ne[0]);
    for (int64_t g = nseg * tid / nthreads; g < nseg * (tid + 1) / nthreads; g++)
        segment_store(job->s, &job->row, g, job->scratch, job->seg_max, job->max, job->sum);
}

/* Few rows longer than a segment: the threads share each row's segments. */
static mc_status blocked_split_rows(softmax_job *job, int nthreads, mc_err *err)
{
    const int64_t nseg = segment_count(job->s->x.ne[0]);
    job->seg_max = job->scratch + job->s->x.ne[0];
    job->seg_sum = job->seg_max + nseg;
    for (int64_t r = 0; r < job->rows; r++) {
        job->row = row_at(job->s, r);
        mc_status st = mc_cpu_parallel(nthreads, run_segment_stats, job, err);
        if (st)
            return st;
        merge_segments(nseg, job->seg_max, job->seg_sum, &job->max, &job->sum);
        st = mc_cpu_parallel(nthreads, run_segment_store, job, err);
        if (st)
            return st;
    }
    return MC_OK;
}

static int thread_count(const mc_kernel_ctx *kc, int64_t elems)
{
    int64_t want = elems / SOFTMAX_ELEMS_PER_THREAD;
    if (want > kc->threads)
        want = kc->threads;
    return want < 1 ? 1 : (int)want;
}

static mc_status softmax_run(mc_kernel_ctx *kc, const mc_args *args, softmax_algo algo,
                             const softmax_stream_isa *isa, mc_err *err)
{
    const mc_softmax_args *s = &args->u.softmax;
    const int64_t cols = s->x.ne[0], nseg = segment_count(cols);
    softmax_job job = {.s = s, .algo = algo, .isa = isa, .rows = s->y.ne[1] * s->y.ne[2] * s->y.ne[3]};
    job.stream = algo == ALGO_STREAM && job.rows * cols * mc_cpu_elem_bytes(s->y.dtype) >= SOFTMAX_STREAM_BYTES;
    int nthreads = thread_count(kc, job.rows * cols);
    const int split_rows = algo == ALGO_BLOCKED && cols > SOFTMAX_SEGMENT_COLS && job.rows < nthreads;
    if (!split_rows && nthreads > job.rows)
        nthreads = (int)job.rows;
    /* per thread: the row (a 32-byte multiple, so every thread's part stays aligned), then the
     * blocked variant's per-segment max and sum */
    job.stride = (cols + 2 * nseg + 7) / 8 * 8;
    const int64_t slots = split_rows ? 1 : nthreads;
    mc_status st = MC_OK;
    if (algo != ALGO_ONLINE) {
        job.scratch = aligned_alloc(32, sizeof(float) * (size_t)(job.stride * slots));
        if (!job.scratch)
            return mc_err_set(err, MC_ERR_NOMEM, "softmax: no memory for %d scratch rows of %lld",
                              (int)slots, (long long)cols);
    }
    if (split_rows)
        st = blocked_split_rows(&job, nthreads, err);
    else
        st = mc_cpu_parallel(nthreads, run_rows, &job, err);
    free(job.scratch);
    return st;
}

static mc_status softmax_avx2_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return softmax_run(kc, args, ALGO_THREE_PASS, NULL, err);
}

static mc_status softmax_avx512_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return softmax_run(kc, args, ALGO_STREAM, &stream_avx512, err);
}

static mc_status softmax_avx2_stream_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return softmax_run(kc, args, ALGO_STREAM, &stream_avx2, err);
}

static mc_status softmax_online_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return softmax_run(kc, args, ALGO_ONLINE, NULL, err);
}

static mc_status softmax_blocked_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return softmax_run(kc, args, ALGO_BLOCKED, NULL, err);
}

static const char *softmax_probe(mc_backend_ctx *ctx)
{
    return mc_cpu_has_avx2() ? NULL : "needs AVX2, FMA and F16C";
}

static const char *softmax_avx512_probe(mc_backend_ctx *ctx)
{
    return mc_avx512_softmax_probe();
}

static const char *softmax_supports(const mc_args *args)
{
    const mc_softmax_args *s = &args->u.softmax;
    if (!mc_cpu_is_plain_float(s->x.dtype) || !mc_cpu_is_plain_float(s->y.dtype))
        return "quantised x or y not supported";
    return NULL;
}

const mc_variant mc_variant_softmax_avx2 = {
    .op = MC_OP_SOFTMAX,
    .backend = "cpu",
    .name = "softmax_avx2",
    .probe = softmax_probe,
    .requires = "avx2,fma,f16c",
    .supports = softmax_supports,
    .run = softmax_avx2_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)softmax_avx2_run,
};

const mc_variant mc_variant_softmax_online = {
    .op = MC_OP_SOFTMAX,
    .backend = "cpu",
    .name = "softmax_online",
    .probe = softmax_probe,
    .requires = "avx2,fma,f16c",
    .supports = softmax_supports,
    .run = softmax_online_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)softmax_online_run,
};

const mc_variant mc_variant_softmax_blocked = {
    .op = MC_OP_SOFTMAX,
    .backend = "cpu",
    .name = "softmax_blocked",
    .probe = softmax_probe,
    .requires = "avx2,fma,f16c",
    .supports = softmax_supports,
    .run = softmax_blocked_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)softmax_blocked_run,
};

const mc_variant mc_variant_softmax_avx512 = {
    .op = MC_OP_SOFTMAX,
    .backend = "cpu",
    .name = "softmax_avx512",
    .probe = softmax_avx512_probe,
    .requires = "avx512f,avx512bw,avx512vl",
    .supports = softmax_supports,
    .run = softmax_avx512_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)softmax_avx512_run,
};

const mc_variant mc_variant_softmax_avx2_stream = {
    .op = MC_OP_SOFTMAX,
    .backend = "cpu",
    .name = "softmax_avx2_stream",
    .probe = softmax_probe,
    .requires = "avx2,fma,f16c",
    .supports = softmax_supports,
    .run = softmax_avx2_stream_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)softmax_avx2_stream_run,
};
