/* tests/test_gemm_tiled.c: the tiled GEMM (portable and AVX2), gemm_gemv, gemm_small_n, the dispatcher,
 * the tuning table and the thread pool.
 * Focus: every kernel against a plain fp64 triple loop on odd and tile-boundary shapes, through
 * transposed, padded, stride-2, sliced, permuted and broadcast views, misaligned bases, alpha/beta/bias,
 * f16/bf16 storage and several thread counts; the tolerance is the error bound of an f32-accumulated
 * dot product, gamma_(k+5) * (|alpha| sum|a||b| + |beta c| + |bias|), plus one output rounding (derived
 * in bound_of, never tuned); C's gaps and the inputs must come back unchanged, and beta == 0 must never
 * read C (it holds NaN). Then the dispatcher's choice per shape class, its override and its errors.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/dtype.h"
#include "core/half.h"
#include "engine/registry.h"
#include "core/tensor.h"
#include "kernels/cpu/cpu_threads.h"
#include "kernels/cpu/gemm_pack.h"
#include "kernels/cpu/gemm_tiles.h"

extern const mc_variant mc_variant_gemm_scalar;
extern const mc_variant mc_variant_gemm_tiled_portable;
extern const mc_variant mc_variant_gemm_tiled_f32_avx2_6x16;
extern const mc_variant mc_variant_gemm_tiled_f32_avx512_12x32;
extern const mc_variant mc_variant_gemm_gemv;
extern const mc_variant mc_variant_gemm_small_n;
extern const mc_variant mc_variant_gemm_dispatch;
extern const mc_variant mc_variant_gemm_tiled_bf16_avx512bf16_12x32;
extern const mc_variant mc_variant_gemm_tiled_bf16_amx_16x32;

/* ---- host tensors: a view over its own buffer, gaps and unused bytes filled with 0xFF (NaN) ---- */

typedef struct host_tensor {
    mc_tensor t;
    struct mc_buf buf;
    uint8_t *mem;
    uint8_t *before; /* the bytes as they were before the kernel ran */
    size_t bytes;
} host_tensor;

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static double uniform(double lo, double hi)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return lo + (hi - lo) * (double)(rng_state >> 11) / 9007199254740992.0;
}

static void ht_make(host_tensor *h, mc_dtype dt, int64_t ne0, int64_t ne1, int64_t ne2, mc_layout l, int align)
{
    mc_err err = {0};
    const int64_t ne[MC_MAX_DIMS] = {ne0, ne1, ne2, 1};
    assert_int_equal(mc_tensor_init(&h->t, dt, ne, l, &err), MC_OK);
    h->t.offset += align;
    h->bytes = (size_t)mc_tensor_span_bytes(&h->t);
    size_t rounded = (h->bytes + 63) / 64 * 64;
    h->mem = aligned_alloc(64, rounded);
    h->before = malloc(rounded);
    assert_non_null(h->mem);
    assert_non_null(h->before);
    memset(h->mem, 0xFF, rounded);
    h->buf = (struct mc_buf){.native = h->mem, .bytes = h->bytes, .owner = NULL};
    h->t.buf = &h->buf;
}

static void ht_fill(host_tensor *h, double lo, double hi)
{
    int64_t idx[MC_MAX_DIMS] = {0};
    if (mc_dtype_info_of(h->t.dtype)->quantised)
        return; /* only the dispatcher's choice is asked of quantised cases: no values needed */
    do
        mc_tensor_set(&h->t, h->mem, idx, uniform(lo, hi));
    while (mc_index_next(idx, h->t.ne));
}

static void ht_snapshot(host_tensor *h)
{
    memcpy(h->before, h->mem, h->bytes);
}

static void ht_free(host_tensor *h)
{
    free(h->mem);
    free(h->before);
}

static double ht_get(const host_tensor *h, int64_t i0, int64_t i1, int64_t i2)
{
    const int64_t idx[MC_MAX_DIMS] = {i0, i1, i2, 0};
    return mc_tensor_get(&h->t, h->mem, idx);
}

static double ht_get_before(const host_tensor *h, int64_t i0, int64_t i1, int64_t i2)
{
    const int64_t idx[MC_MAX_DIMS] = {i0, i1, i2, 0};
    return mc_tensor_get(&h->t, h->before, idx);
}

/* Bytes of C that belong to no element must be untouched (a kernel writing a gap fails here). */
static void assert_gaps_unchanged(const host_tensor *h)
{
    uint8_t *mask = calloc(h->bytes, 1);
    int64_t idx[MC_MAX_DIMS] = {0};
    const int64_t unit = mc_tensor_unit_bytes(&h->t);
    assert_non_null(mask);
    do
        memset(mask + mc_tensor_elem_offset(&h->t, idx), 1, (size_t)unit);
    while (mc_index_next(idx, h->t.ne));
    for (size_t i = 0; i < h->bytes; i++)
        if (!mask[i] && h->mem[i] != h->before[i])
            fail_msg("C byte %zu outside every element changed", i);
    free(mask);
}

/* ---- one GEMM case ---- */

typedef struct gemm_case {
    int64_t m, n, k, batch;
    mc_dtype da, db, dc;
    mc_layout la, lb, lc;
    int align; /* bytes past an aligned base, for every tensor */
    float alpha, beta;
    int bias;
    int threads;
    mc_gemm_tiles tiles; /* all zero: the variant's own choice (run through the registry path) */
} gemm_case;

typedef struct gemm_problem {
    host_tensor a, b, c, bias;
    mc_args args;
} gemm_problem;

static void problem_make(gemm_problem *p, const gemm_case *gc)
{
    memset(p, 0, sizeof *p);
    ht_make(&p->a, gc->da, gc->k, gc->m, gc->batch, gc->la, gc->align);
    ht_make(&p->b, gc->db, gc->n, gc->k, gc->batch, gc->lb, gc->align);
    ht_make(&p->c, gc->dc, gc->n, gc->m, gc->batch, gc->lc, gc->align);
    ht_make(&p->bias, gc->dc, gc->n, 1, 1, MC_LAYOUT_CONTIGUOUS, gc->align);
    ht_fill(&p->a, -1.0, 1.0);
    ht_fill(&p->b, -1.0, 1.0);
    ht_fill(&p->bias, -1.0, 1.0);
    if (gc->beta != 0.0f)
        ht_fill(&p->c, -1.0, 1.0); /* else C keeps its NaN fill: reading it poisons the result */
    ht_snapshot(&p->a);
    ht_snapshot(&p->b);
    ht_snapshot(&p->c);
    ht_snapshot(&p->bias);
    p->args.op = MC_OP_GEMM;
    p->args.u.gemm = (mc_gemm_args){.a = p->a.t, .b = p->b.t, .c = p->c.t, .bias = p->bias.t,
                                    .alpha = gc->alpha, .beta = gc->beta, .has_bias = gc->bias != 0};
}

static void problem_free(gemm_problem *p)
{
    ht_free(&p->a);
    ht_free(&p->b);
    ht_free(&p->c);
    ht_free(&p->bias);
}

/* gamma_n = n u / (1 - n u) for f32 accumulation (u = 2^-24). Every output sees at most k + 5
 * roundings on any term: kc in its block's dot product (FMA or not), one for alpha, one to add
 * each later block (kc + blocks <= k + 1), two for beta*C, one for the bias. */
static double gamma_f32(int64_t n)
{
    const double u = ldexp(1.0, -24);
    return (double)n * u / (1.0 - (double)n * u);
}

static double bound_of(const gemm_case *gc, double magnitude, double ref)
{
    const double u_out = mc_dtype_info_of(gc->dc)->unit_roundoff;
    const double e = gamma_f32(gc->k + 5) * magnitude;
    return e + u_out * (fabs(ref) + e);
}

static void check_problem(const gemm_case *gc, const gemm_problem *p, const char *who)
{
    for (int64_t b = 0; b < gc->batch; b++)
        for (int64_t i = 0; i < gc->m; i++)
            for (int64_t j = 0; j < gc->n; j++) {
                double dot = 0.0, mag = 0.0;
                for (int64_t q = 0; q < gc->k; q++) {
                    double x = ht_get(&p->a, q, i, b) * ht_get(&p->b, j, q, b);
                    dot += x;
                    mag += fabs(x);
                }
                double ref = (double)gc->alpha * dot, c_old = 0.0, bias = 0.0;
                mag *= fabs((double)gc->alpha);
                if (gc->beta != 0.0f) {
                    c_old = (double)gc->beta * ht_get_before(&p->c, j, i, b);
                    ref += c_old;
                    mag += fabs(c_old);
                }
                if (gc->bias) {
                    bias = ht_get(&p->bias, j, 0, 0);
                    ref += bias;
                    mag += fabs(bias);
                }
                double got = ht_get(&p->c, j, i, b), bound = bound_of(gc, mag, ref);
                if (!isfinite(got) || fabs(got - ref) > bound)
                    fail_msg("%s: %lldx%lldx%lld batch %lld: C[%lld,%lld,%lld] = %.9g, want %.9g +- %.3g", who,
                             (long long)gc->m, (long long)gc->n, (long long)gc->k, (long long)gc->batch,
                             (long long)b, (long long)i, (long long)j, got, ref, bound);
            }
    assert_memory_equal(p->a.mem, p->a.before, p->a.bytes);
    assert_memory_equal(p->b.mem, p->b.before, p->b.bytes);
    assert_memory_equal(p->bias.mem, p->bias.before, p->bias.bytes);
    assert_gaps_unchanged(&p->c);
}

#define F32 MC_DTYPE_F32
#define F16 MC_DTYPE_F16
#define BF16 MC_DTYPE_BF16
#define CONTIG MC_LAYOUT_CONTIGUOUS
#define TRANS MC_LAYOUT_TRANSPOSED
#define PADDED MC_LAYOUT_PADDED
#define STRIDE2 MC_LAYOUT_STRIDE2
#define BCAST MC_LAYOUT_BROADCAST
#define SLICED MC_LAYOUT_SLICED
#define PERMUTED MC_LAYOUT_PERMUTED

/* Small tiles make every loop of the driver run several blocks and leave ragged edges. */
#define SMALL_TILES {12, 32, 16, 0}
#define MID_TILES {24, 64, 40, 0}

static const gemm_case tiled_cases[] = {
    /* m, n, k, batch, dtypes, layouts, align, alpha, beta, bias, threads, tiles */
    {1, 1, 1, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 0, 1, SMALL_TILES},
    {5, 7, 11, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 0, 1, SMALL_TILES},
    {5, 7, 11, 1, F32, F32, F32, TRANS, TRANS, CONTIG, 0, -0.5f, 0.25f, 1, 2, SMALL_TILES},
    {5, 7, 11, 1, F32, F32, F32, CONTIG, CONTIG, TRANS, 4, 2.0f, -1.0f, 1, 1, SMALL_TILES},
    {33, 65, 129, 1, F32, F32, F32, PADDED, STRIDE2, PADDED, 4, 1.0f, 0.0f, 1, 2, SMALL_TILES},
    {33, 65, 129, 1, F32, F32, F32, TRANS, PADDED, STRIDE2, 2, 0.75f, 0.5f, 0, 3, SMALL_TILES},
    {33, 65, 129, 1, F32, F32, F32, SLICED, TRANS, SLICED, 2, 1.0f, 1.0f, 1, 4, MID_TILES},
    /* exactly on tile boundaries (6, 12, 16, 32 all divide), and one off either side */
    {48, 64, 64, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 0, 2, SMALL_TILES},
    {49, 65, 65, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 1, 2, SMALL_TILES},
    {47, 63, 63, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 0, 2, SMALL_TILES},
    {96, 96, 96, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 0, 2, {96, 96, 96, 0}},
    /* batches: broadcast B (stride 0), permuted A, a batch-strided C */
    {9, 17, 33, 3, F32, F32, F32, CONTIG, BCAST, CONTIG, 0, 1.0f, 0.0f, 1, 2, SMALL_TILES},
    {9, 17, 33, 3, F32, F32, F32, PERMUTED, CONTIG, PERMUTED, 4, 1.0f, 0.5f, 0, 3, SMALL_TILES},
    {20, 3, 7, 4, F32, F32, F32, BCAST, TRANS, CONTIG, 2, -1.0f, 0.0f, 1, 2, SMALL_TILES},
    /* f16 and bf16 storage, f32 accumulation; C rounded once */
    {33, 65, 129, 1, F16, F16, F16, CONTIG, CONTIG, CONTIG, 2, 1.0f, 0.0f, 1, 2, SMALL_TILES},
    {33, 65, 129, 1, F16, F16, F16, TRANS, TRANS, TRANS, 6, 0.5f, 0.5f, 1, 3, SMALL_TILES},
    {17, 40, 70, 2, F16, F16, F32, PADDED, STRIDE2, CONTIG, 2, 1.0f, 0.0f, 0, 2, MID_TILES},
    {17, 40, 70, 2, BF16, BF16, BF16, CONTIG, TRANS, PADDED, 2, 1.0f, 0.25f, 1, 2, MID_TILES},
    {30, 31, 32, 1, F16, F32, BF16, TRANS, CONTIG, STRIDE2, 2, 1.0f, 0.0f, 1, 1, SMALL_TILES},
    /* enough work that each of 4 threads gets real blocks, with the kernel's own tiles */
    {100, 200, 150, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 1, 4, {0, 0, 0, 0}},
    {130, 70, 300, 2, F32, F32, F32, TRANS, BCAST, CONTIG, 0, 1.0f, 0.5f, 0, 2, {0, 0, 0, 0}},
    {7, 300, 200, 1, F16, F16, F16, CONTIG, TRANS, CONTIG, 2, 1.0f, 0.0f, 1, 2, {0, 0, 0, 0}},
    /* a packed B panel of 4.5 MB, past half of any L2 up to 8 MiB: the B-sliver-outer tile order
     * (the smaller panels above take the A-sliver-outer one) */
    {30, 1100, 1024, 1, F32, F32, F32, CONTIG, TRANS, CONTIG, 0, 1.0f, 0.5f, 1, 2, {24, 2048, 1024, 0}},
    /* several column panels: k blocks outermost, each thread's rows of A packed once per k block
     * (an f16 C rounded after the last k block of every panel) ... */
    {61, 150, 97, 1, F16, F16, F16, CONTIG, TRANS, CONTIG, 2, 1.0f, 0.5f, 1, 3, SMALL_TILES},
    /* ... and, with the thread's packed rows past 4 MiB (1100 x 1024 floats), panels outermost */
    {1100, 40, 1030, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.5f, 1, 1, {48, 32, 1024, 0}},
};

static void run_tiled_case(const mc_gemm_kernel *kern, const gemm_case *gc)
{
    gemm_problem p;
    mc_err err = {0};
    mc_gemm_tiles tiles = gc->tiles;
    if (tiles.tile_m == 0)
        tiles = mc_gemm_tiles_builtin(kern->name, mc_gemm_class_of(gc->m, gc->n, gc->k));
    problem_make(&p, gc);
    mc_status st = mc_gemm_tiled_run(kern, &tiles, gc->threads, &p.args.u.gemm, &err);
    if (st)
        fail_msg("%s: %s", kern->name, err.msg);
    check_problem(gc, &p, kern->name);
    problem_free(&p);
}

static void test_tiled_portable_matches_triple_loop(void **state)
{
    for (size_t i = 0; i < sizeof tiled_cases / sizeof tiled_cases[0]; i++)
        run_tiled_case(mc_gemm_kernel_portable(), &tiled_cases[i]);
}

static void run_all_tiled_cases(const mc_gemm_kernel *kern, const char *why)
{
    if (!kern) {
        printf("skipping: %s\n", why);
        skip();
    }
    for (size_t i = 0; i < sizeof tiled_cases / sizeof tiled_cases[0]; i++)
        run_tiled_case(kern, &tiled_cases[i]);
}

static void test_tiled_avx2_matches_triple_loop(void **state)
{
    const char *why = NULL;
    const mc_gemm_kernel *kern = mc_gemm_kernel_avx2_6x16(&why);
    run_all_tiled_cases(kern, why);
}

static void test_tiled_avx512_matches_triple_loop(void **state)
{
    const char *why = NULL;
    const mc_gemm_kernel *kern = mc_gemm_kernel_avx512_12x32(&why);
    run_all_tiled_cases(kern, why);
}

/* ---- how often the driver packs A ---- */

static _Atomic long a_floats_packed, a_rows_least = 1L << 40, a_rows_most;

static void pack_a_counted(const mc_gemm_mat *src, int64_t r0, int64_t rows, int64_t c0, int64_t depth, int w,
                           float *out)
{
    atomic_fetch_add(&a_floats_packed, (long)(rows * depth));
    long seen = atomic_load(&a_rows_least);
    while (rows < seen && !atomic_compare_exchange_weak(&a_rows_least, &seen, (long)rows))
        ;
    seen = atomic_load(&a_rows_most);
    while (rows > seen && !atomic_compare_exchange_weak(&a_rows_most, &seen, (long)rows))
        ;
    mc_gemm_pack_generic(src, r0, rows, c0, depth, w, out);
}

/* With several column panels, each thread packs its rows of A once per k block, not once per panel
 * (2048^3 has two panels of 1024 columns, 512x4096x14336 four): m x k elements in all. Before, A
 * was packed again for every panel (here 150 columns in panels of 32: five times). */
static void test_tiled_packs_a_once_across_panels(void **state)
{
    const mc_gemm_kernel *portable = mc_gemm_kernel_portable();
    const mc_gemm_kernel counted = {.name = portable->name, .mr = portable->mr, .nr = portable->nr,
                                    .ukr = portable->ukr, .pack = portable->pack, .pack_a = pack_a_counted};
    const gemm_case cases[] = {
        {61, 150, 97, 1, F32, F32, F32, CONTIG, TRANS, CONTIG, 0, 1.0f, 0.0f, 0, 1, SMALL_TILES},
        {130, 150, 97, 1, F32, F16, F32, TRANS, CONTIG, CONTIG, 0, 1.0f, 0.5f, 1, 2, SMALL_TILES},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gemm_problem p;
        mc_err err = {0};
        problem_make(&p, &cases[i]);
        atomic_store(&a_floats_packed, 0);
        assert_int_equal(mc_gemm_tiled_run(&counted, &cases[i].tiles, cases[i].threads, &p.args.u.gemm, &err), MC_OK);
        assert_int_equal(atomic_load(&a_floats_packed), (long)(cases[i].m * cases[i].k));
        check_problem(&cases[i], &p, "counted portable");
        problem_free(&p);
    }
}

/* Threads get their rows in the kernel's row_step, not in whole MR slivers: a kernel whose edge
 * tiles cost in proportion to their rows then gives each thread the same work (2048 rows in 12-row
 * slivers went 85 and 86 to two threads). 28 rows, MR 4, steps of 2, two threads: 14 rows each,
 * where whole slivers gave 16 and 12. */
static void test_tiled_rows_split_in_row_steps(void **state)
{
    const mc_gemm_kernel *portable = mc_gemm_kernel_portable();
    const mc_gemm_kernel stepped = {.name = portable->name, .mr = portable->mr, .nr = portable->nr, .row_step = 2,
                                    .ukr = portable->ukr, .pack = portable->pack, .pack_a = pack_a_counted};
    /* one row block per thread (tile_m past its rows): each call packs a thread's rows */
    const gemm_case gc = {28, 40, 33, 1, F32, F32, F32, CONTIG, TRANS, CONTIG, 0, 1.0f, 0.0f, 1, 2, {64, 64, 64, 0}};
    gemm_problem p;
    mc_err err = {0};
    problem_make(&p, &gc);
    atomic_store(&a_rows_least, 1L << 40);
    atomic_store(&a_rows_most, 0);
    assert_int_equal(mc_gemm_tiled_run(&stepped, &gc.tiles, gc.threads, &p.args.u.gemm, &err), MC_OK);
    assert_int_equal(atomic_load(&a_rows_least), 14);
    assert_int_equal(atomic_load(&a_rows_most), 14);
    check_problem(&gc, &p, "portable in row steps of 2");
    problem_free(&p);
}

/* The same kernel gives bitwise the same C on 1, 2, 3 and 4 threads (each tile has one owner and a
 * fixed k order), so threading cannot hide a race behind the tolerance. */
static void test_tiled_threads_bitwise_equal(void **state)
{
    const gemm_case base = {61, 83, 97, 2, F32, F32, F32, CONTIG, TRANS, CONTIG, 0, 1.0f, 0.5f, 1, 1, SMALL_TILES};
    const mc_gemm_kernel *kerns[3] = {mc_gemm_kernel_portable(), mc_gemm_kernel_avx2_6x16(NULL),
                                      mc_gemm_kernel_avx512_12x32(NULL)};
    for (int kk = 0; kk < 3; kk++) {
        if (!kerns[kk])
            continue;
        uint8_t *first = NULL;
        for (int threads = 1; threads <= 4; threads++) {
            gemm_case gc = base;
            gemm_problem p;
            mc_err err = {0};
            gc.threads = threads;
            rng_state = 12345; /* same inputs every time */
            problem_make(&p, &gc);
            assert_int_equal(mc_gemm_tiled_run(kerns[kk], &gc.tiles, threads, &p.args.u.gemm, &err), MC_OK);
            if (!first) {
                first = malloc(p.c.bytes);
                memcpy(first, p.c.mem, p.c.bytes);
            } else {
                assert_memory_equal(first, p.c.mem, p.c.bytes);
            }
            problem_free(&p);
        }
        free(first);
    }
}

/* Threads that split only the columns (few rows) never meet at a barrier, so one can run ahead into
 * the next k block or column panel while another still reads its packed B: ragged last blocks and
 * panels make the slots move if they depend on the block's depth. Repeated, since a race is timing. */
static void test_tiled_column_split_runs_ahead_safely(void **state)
{
    const gemm_case cases[] = {
        {5, 300, 70, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 0, 2, {12, 64, 16, 0}},
        {7, 1000, 100, 2, F16, F16, F16, CONTIG, TRANS, CONTIG, 0, 1.0f, 0.0f, 1, 3, {12, 96, 24, 0}},
        {3, 517, 45, 1, F32, F32, BF16, TRANS, CONTIG, CONTIG, 2, 1.0f, 0.5f, 1, 4, {6, 48, 8, 0}},
    };
    const mc_gemm_kernel *kerns[3] = {mc_gemm_kernel_portable(), mc_gemm_kernel_avx2_6x16(NULL),
                                      mc_gemm_kernel_avx512_12x32(NULL)};
    for (int rep = 0; rep < 20; rep++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            for (int kk = 0; kk < 3; kk++)
                if (kerns[kk])
                    run_tiled_case(kerns[kk], &cases[i]);
}

/* ---- the registered variants, run as the harness runs them ---- */

static void run_variant_case(const mc_variant *v, const gemm_case *gc, const char *expect_ran)
{
    gemm_problem p;
    mc_err err = {0};
    mc_kernel_ctx kc = {.backend = NULL, .threads = gc->threads};
    snprintf(kc.ran, sizeof kc.ran, "%s", v->name);
    problem_make(&p, gc);
    const char *why = v->supports(&p.args);
    if (why)
        fail_msg("%s declines %lldx%lldx%lld: %s", v->name, (long long)gc->m, (long long)gc->n, (long long)gc->k,
                 why);
    if (v->run(&kc, &p.args, &err) != MC_OK)
        fail_msg("%s: %s", v->name, err.msg);
    check_problem(gc, &p, v->name);
    if (expect_ran)
        assert_string_equal(kc.ran, expect_ran);
    problem_free(&p);
}

static const gemm_case narrow_cases[] = {
    /* gemv: n == 1 and m == 1, each with the long operand both ways round */
    {37, 1, 129, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 1, 2, {0}},
    {37, 1, 129, 2, F32, F32, F32, TRANS, STRIDE2, PADDED, 2, -0.5f, 0.5f, 1, 3, {0}},
    {1, 45, 77, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 4, 1.0f, 0.0f, 1, 2, {0}},
    {1, 45, 77, 2, F16, F16, F16, CONTIG, TRANS, STRIDE2, 2, 1.0f, 0.5f, 1, 2, {0}},
    {300, 1, 2000, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 0, 2, {0}},
    {1, 1, 1, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 0, 1, {0}},
    /* small-N: n <= 8, and m <= 8 (solved transposed) */
    {33, 8, 65, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 1, 2, {0}},
    {33, 5, 65, 3, F32, F32, F32, TRANS, BCAST, PADDED, 2, 0.5f, -1.0f, 1, 2, {0}},
    {3, 70, 65, 1, F32, F32, F32, PADDED, TRANS, TRANS, 4, 1.0f, 0.0f, 1, 2, {0}},
    {8, 129, 31, 2, BF16, F16, F16, STRIDE2, CONTIG, CONTIG, 2, 1.0f, 0.25f, 1, 2, {0}},
    {257, 7, 1000, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 0, 2, {0}},
};

static void test_gemv_and_small_n_match_triple_loop(void **state)
{
    for (size_t i = 0; i < sizeof narrow_cases / sizeof narrow_cases[0]; i++) {
        const gemm_case *gc = &narrow_cases[i];
        if (gc->m == 1 || gc->n == 1)
            run_variant_case(&mc_variant_gemm_gemv, gc, "gemm_gemv");
        run_variant_case(&mc_variant_gemm_small_n, gc, "gemm_small_n");
    }
}

static void test_tiled_variants_run_through_registry_path(void **state)
{
    const gemm_case cases[] = {
        {5, 7, 11, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 2, 1.0f, 0.0f, 1, 2, {0}},
        {17, 96, 64, 2, F16, F16, F16, TRANS, BCAST, CONTIG, 2, 1.0f, 0.5f, 1, 2, {0}},
        {150, 140, 130, 1, F32, F32, F32, CONTIG, TRANS, PADDED, 4, 1.0f, 0.0f, 0, 2, {0}},
    };
    const mc_variant *tiled[] = {&mc_variant_gemm_tiled_portable, &mc_variant_gemm_tiled_f32_avx2_6x16,
                                 &mc_variant_gemm_tiled_f32_avx512_12x32};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (size_t v = 0; v < sizeof tiled / sizeof tiled[0]; v++)
            if (!tiled[v]->probe || !tiled[v]->probe(NULL))
                run_variant_case(tiled[v], &cases[i], tiled[v]->name);
}

/* The bf16 matrix kernels in-process, where the CPU has them: full tiles with C in the tiles
 * (alpha 1, beta 0 then 1 across k blocks), a short last AMX chunk (k % 32), edges, strided and
 * transposed operands, alpha/beta/bias through the generic store, one and two threads. */
static void test_bf16_matrix_kernels_match_triple_loop(void **state)
{
    static const gemm_case cases[] = {
        {64, 64, 1100, 1, BF16, BF16, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 0, 2, {0}},
        {64, 90, 600, 1, BF16, BF16, BF16, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 0, 1, {0}},
        {50, 70, 77, 2, BF16, BF16, F32, CONTIG, CONTIG, PADDED, 2, 1.0f, 0.5f, 1, 2, {0}},
        {33, 40, 129, 1, BF16, BF16, F32, TRANS, TRANS, CONTIG, 2, -0.5f, 0.0f, 1, 2, {0}},
        {48, 64, 512, 1, BF16, BF16, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 1.0f, 0, 2, {0}},
    };
    const mc_variant *const kernels[] = {&mc_variant_gemm_tiled_bf16_avx512bf16_12x32,
                                         &mc_variant_gemm_tiled_bf16_amx_16x32};
    int ran = 0;
    for (size_t v = 0; v < sizeof kernels / sizeof kernels[0]; v++) {
        if (kernels[v]->probe(NULL))
            continue;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            run_variant_case(kernels[v], &cases[i], kernels[v]->name);
        ran++;
    }
    if (!ran)
        skip(); /* neither AVX512_BF16 nor AMX-BF16 here: the quick tier's probes say so */
}

/* The vector bf16 output row rounds every value exactly as mc_f32_to_bf16: ties to even both
 * ways, carries into the exponent, infinities, NaNs kept quiet, subnormals, a ragged tail. */
static void test_bf16_row_matches_scalar_rounding(void **state)
{
    if (mc_variant_gemm_tiled_f32_avx512_12x32.probe(NULL))
        skip();
    static const uint32_t bits[] = {0x3f808000u, 0x3f818000u, 0x3f80ffffu, 0x3f7fffffu, 0x7f7fffffu, 0x7f800000u,
                                    0xff800000u, 0x7f800001u, 0xffc12345u, 0x00008000u, 0x00018000u, 0x80000001u,
                                    0x00000000u, 0x80000000u, 0x3f800001u, 0x40490fdbu, 0xc0490fdbu, 0x00ff8000u,
                                    0x477fffffu, 0x3eaaaaabu, 0x7fbfffffu};
    enum { N = sizeof bits / sizeof bits[0] };
    float src[N];
    uint16_t got[N + 1], want;
    memcpy(src, bits, sizeof src);
    got[N] = 0xbeef; /* the row must not write past n */
    mc_gemm_bf16_row_avx512((uint8_t *)got, src, N);
    for (int i = 0; i < N; i++) {
        want = mc_f32_to_bf16(src[i]);
        if (got[i] != want)
            fail_msg("bf16 of 0x%08x: 0x%04x, want 0x%04x", bits[i], got[i], want);
    }
    assert_int_equal(got[N], 0xbeef);
}

/* ---- the dispatcher ---- */

static const char *best_tiled(void)
{
    return mc_variant_gemm_tiled_f32_avx2_6x16.probe(NULL) ? "gemm_tiled_portable" : "gemm_tiled_f32_avx2_6x16";
}

/* The medium class prefers AVX-512 where the CPU has it. */
static const char *best_tiled_medium(void)
{
    return mc_variant_gemm_tiled_f32_avx512_12x32.probe(NULL) ? best_tiled() : "gemm_tiled_f32_avx512_12x32";
}

/* The large class prefers AVX-512 where a 512-bit FMA runs at full width: every Intel core with
 * AVX-512 (here told by the compiler's own vendor check), AMD from Zen 5 (family 0x1a), not Zen 4. */
static const char *best_tiled_large(void)
{
    if (mc_variant_gemm_tiled_f32_avx512_12x32.probe(NULL))
        return best_tiled();
    if (__builtin_cpu_is("intel"))
        return "gemm_tiled_f32_avx512_12x32";
    return mc_gemm_cpu_full_width_512() ? "gemm_tiled_f32_avx512_12x32" : best_tiled();
}

typedef struct choice_row {
    int64_t m, n, k;
    mc_dtype da;
    const char *expect; /* NULL: the best tiled kernel this CPU can run (AVX-512 not preferred);
                           "medium", "large": that class's preference */
} choice_row;

static void test_dispatch_choice_per_class(void **state)
{
    static const choice_row rows[] = {
        {64, 1, 64, F32, "gemm_gemv"},
        {1, 64, 64, F32, NULL}, /* m == 1: B's rows are the long side, the tiled kernel wins */
        {64, 5, 64, F32, "gemm_small_n"},
        {64, 8, 4096, F32, "gemm_small_n"},
        {5, 64, 64, F32, NULL},
        {16, 16, 16, F32, NULL},   /* tiny */
        {17, 896, 96, F32, NULL},  /* small_m */
        {128, 128, 128, F32, "medium"},
        {300, 300, 300, F32, "large"},
        {512, 4096, 1024, F32, "large"},
        {64, 64, 64, MC_DTYPE_Q8_0, "gemm_scalar"}, /* the tiled kernels decline quantised A */
        {64, 1, 64, MC_DTYPE_Q8_0, "gemm_scalar"},
    };
    unsetenv("MC_GEMM_KERNEL");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const choice_row *r = &rows[i];
        gemm_case gc = {r->m, r->n, r->k, 1, r->da, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 0, 2, {0}};
        gemm_problem p;
        const mc_variant *v = NULL;
        mc_err err = {0};
        problem_make(&p, &gc);
        assert_int_equal(mc_gemm_dispatch_choose(NULL, &p.args, &v, &err), MC_OK);
        const char *expect = r->expect ? r->expect : best_tiled();
        if (strcmp(expect, "medium") == 0)
            expect = best_tiled_medium();
        if (strcmp(expect, "large") == 0)
            expect = best_tiled_large();
        assert_string_equal(v->name, expect);
        problem_free(&p);
    }
}

/* bf16 A and B take the bf16 matrix kernels in every tiled class: AMX-BF16 where its probe says
 * yes (x4.6 the f32 AVX-512 rate on the Xeon, docs/performance.md), else AVX512_BF16, else the
 * f32-accumulate kernels of the f32 order; f32 products never take either. */
static void test_dispatch_bf16_prefers_amx(void **state)
{
    static const int64_t shapes[][3] = {{16, 16, 16},    {17, 896, 96},    {128, 128, 128},
                                        {300, 300, 300}, {512, 4096, 1024}};
    const char *bf16_best = NULL;
    if (!mc_variant_gemm_tiled_bf16_amx_16x32.probe(NULL))
        bf16_best = "gemm_tiled_bf16_amx_16x32";
    else if (!mc_variant_gemm_tiled_bf16_avx512bf16_12x32.probe(NULL))
        bf16_best = "gemm_tiled_bf16_avx512bf16_12x32";
    unsetenv("MC_GEMM_KERNEL");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int bf16 = 0; bf16 < 2; bf16++) {
            const mc_dtype dt = bf16 ? BF16 : F32;
            gemm_case gc = {shapes[i][0], shapes[i][1], shapes[i][2], 1, dt, dt, F32, CONTIG, CONTIG, CONTIG, 0,
                            1.0f, 0.0f, 0, 2, {0}};
            gemm_problem p;
            const mc_variant *v = NULL;
            mc_err err = {0};
            problem_make(&p, &gc);
            assert_int_equal(mc_gemm_dispatch_choose(NULL, &p.args, &v, &err), MC_OK);
            print_message("%lldx%lldx%lld %s: %s\n", (long long)shapes[i][0], (long long)shapes[i][1],
                          (long long)shapes[i][2], bf16 ? "bf16" : "f32", v->name);
            if (bf16 && bf16_best)
                assert_string_equal(v->name, bf16_best);
            else
                assert_null(strstr(v->name, "_bf16_"));
            problem_free(&p);
        }
}

/* Running the dispatcher records what ran, and the result is right. */
/* Each kernel's probe is asked once per process and its answer kept: asked on every call, the
 * probes' cpuid (which traps to the hypervisor in a VM) cost 50-160 us a dispatch here. Counted,
 * not timed: 200 more choices ask no probe again. */
static void test_dispatch_asks_each_probe_once(void **state)
{
    gemm_case gc = {1024, 1024, 1024, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 0, 2, {0}};
    gemm_problem p;
    const mc_variant *v = NULL, *first = NULL;
    mc_err err = {0};
    unsetenv("MC_GEMM_KERNEL");
    problem_make(&p, &gc);
    assert_int_equal(mc_gemm_dispatch_choose(NULL, &p.args, &first, &err), MC_OK);
    const int asks = mc_gemm_dispatch_probe_asks();
    assert_true(asks > 0);
    for (int i = 0; i < 200; i++) {
        assert_int_equal(mc_gemm_dispatch_choose(NULL, &p.args, &v, &err), MC_OK);
        assert_ptr_equal(v, first);
    }
    assert_int_equal(mc_gemm_dispatch_probe_asks(), asks);
    problem_free(&p);
}

static void test_dispatch_runs_and_records_choice(void **state)
{
    const gemm_case cases[] = {
        {40, 1, 50, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 1, 2, {0}},
        {40, 6, 50, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 1, 2, {0}},
        {40, 60, 50, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 1, 2, {0}},
        {300, 300, 300, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 1, 2, {0}},
    };
    const char *expect[] = {"gemm_gemv", "gemm_small_n", best_tiled_medium(), best_tiled_large()};
    unsetenv("MC_GEMM_KERNEL");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_variant_case(&mc_variant_gemm_dispatch, &cases[i], expect[i]);
}

static void test_dispatch_override(void **state)
{
    const gemm_case gc = {40, 60, 50, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 1, 2, {0}};
    setenv("MC_GEMM_KERNEL", "gemm_scalar", 1);
    run_variant_case(&mc_variant_gemm_dispatch, &gc, "gemm_scalar");
    setenv("MC_GEMM_KERNEL", "gemm_tiled_portable", 1);
    run_variant_case(&mc_variant_gemm_dispatch, &gc, "gemm_tiled_portable");

    /* a known kernel that declines the case is an error, not a quiet fallback */
    gemm_problem p;
    mc_err err = {0};
    const mc_variant *v = NULL;
    setenv("MC_GEMM_KERNEL", "gemm_gemv", 1);
    problem_make(&p, &gc);
    assert_int_equal(mc_gemm_dispatch_choose(NULL, &p.args, &v, &err), MC_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "gemm_gemv"));
    problem_free(&p);
    unsetenv("MC_GEMM_KERNEL");
}

static void test_dispatch_unknown_override_is_config_error(void **state)
{
    const gemm_case gc = {40, 60, 50, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 0, 2, {0}};
    gemm_problem p;
    mc_err err = {0};
    const mc_variant *v = NULL;
    mc_kernel_ctx kc = {.threads = 1};
    setenv("MC_GEMM_KERNEL", "gemm_tiled_f32_avx2_6x61", 1); /* a typo must not run anything */
    problem_make(&p, &gc);
    assert_int_equal(mc_gemm_dispatch_choose(NULL, &p.args, &v, &err), MC_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "gemm_tiled_f32_avx2_6x61"));
    assert_non_null(strstr(err.msg, "gemm_tiled_portable")); /* the valid names are listed */
    assert_non_null(strstr(err.msg, "gemm_scalar"));
    assert_int_equal(mc_variant_gemm_dispatch.run(&kc, &p.args, &err), MC_ERR_CONFIG);
    assert_memory_equal(p.c.mem, p.c.before, p.c.bytes); /* nothing ran */
    problem_free(&p);
    unsetenv("MC_GEMM_KERNEL");
}

/* Every kernel the dispatcher may choose is registered, so it is tested on its own. */
static void test_dispatch_choices_are_registered(void **state)
{
    int n = 0;
    const mc_variant *const *choices = mc_gemm_dispatch_choices(&n);
    assert_true(n >= 5);
    for (int i = 0; i < n; i++) {
        const mc_variant *found = mc_registry_find(choices[i]->name);
        assert_ptr_equal(found, choices[i]);
    }
    assert_ptr_equal(mc_registry_find("gemm_dispatch"), &mc_variant_gemm_dispatch);
    assert_true(mc_variant_gemm_dispatch.flags & MC_VARIANT_DISPATCHER);
}

/* ---- shape classes and the tuning table ---- */

static void test_class_of_shapes(void **state)
{
    static const struct {
        int64_t m, n, k;
        mc_gemm_class cls;
    } rows[] = {
        {4096, 1, 14336, MC_GEMM_CLASS_GEMV},   {1, 896, 896, MC_GEMM_CLASS_SMALL_M},
        {1, 1, 1, MC_GEMM_CLASS_GEMV},          {64, 8, 64, MC_GEMM_CLASS_SMALL_N},
        {8, 64, 64, MC_GEMM_CLASS_TINY},        {8, 64, 65, MC_GEMM_CLASS_SMALL_M},
        {64, 9, 9, MC_GEMM_CLASS_TINY},
        {32, 32, 32, MC_GEMM_CLASS_TINY},       {32, 32, 33, MC_GEMM_CLASS_SMALL_M},
        {17, 4864, 896, MC_GEMM_CLASS_SMALL_M}, {33, 33, 33, MC_GEMM_CLASS_MEDIUM},
        {256, 256, 256, MC_GEMM_CLASS_MEDIUM},  {128, 11008, 2048, MC_GEMM_CLASS_LARGE},
        {257, 256, 256, MC_GEMM_CLASS_LARGE},   {1 << 20, 1 << 20, 1 << 20, MC_GEMM_CLASS_LARGE},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        assert_int_equal(mc_gemm_class_of(rows[i].m, rows[i].n, rows[i].k), rows[i].cls);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_tuning_file_round_trip_and_env(void **state)
{
    char path[] = "/tmp/mc_gemm_tuning_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    mc_err err = {0};
    mc_gemm_tuning_entry out[4], in[8];
    memset(out, 0, sizeof out);
    snprintf(out[0].kernel, sizeof out[0].kernel, "gemm_tiled_portable");
    out[0].cls = MC_GEMM_CLASS_LARGE;
    out[0].tiles = (mc_gemm_tiles){40, 512, 128, 0};
    out[0].gflops = 12.5;
    snprintf(out[1].kernel, sizeof out[1].kernel, "gemm_tiled_f32_avx2_6x16");
    out[1].cls = MC_GEMM_CLASS_SMALL_M;
    out[1].tiles = (mc_gemm_tiles){18, 1024, 384, 1};
    assert_int_equal(mc_gemm_tuning_write(path, out, 2, "test", &err), MC_OK);
    int n = 0;
    assert_int_equal(mc_gemm_tuning_read(path, in, 8, &n, &err), MC_OK);
    assert_int_equal(n, 2);
    assert_string_equal(in[1].kernel, "gemm_tiled_f32_avx2_6x16");
    assert_int_equal(in[1].cls, MC_GEMM_CLASS_SMALL_M);
    assert_int_equal(in[1].tiles.tile_m, 18);
    assert_int_equal(in[1].tiles.tile_n, 1024);
    assert_int_equal(in[1].tiles.tile_k, 384);
    assert_int_equal(in[1].tiles.threads, 1);

    /* the lookup takes the file's row when $MC_GEMM_TUNING names it, the built-in table otherwise */
    mc_gemm_tiles t;
    setenv("MC_GEMM_TUNING", path, 1);
    assert_int_equal(mc_gemm_tiles_lookup("gemm_tiled_portable", MC_GEMM_CLASS_LARGE, &t, &err), MC_OK);
    assert_int_equal(t.tile_m, 40);
    assert_int_equal(t.tile_k, 128);
    assert_int_equal(mc_gemm_tiles_lookup("gemm_tiled_portable", MC_GEMM_CLASS_MEDIUM, &t, &err), MC_OK);
    mc_gemm_tiles builtin = mc_gemm_tiles_builtin("gemm_tiled_portable", MC_GEMM_CLASS_MEDIUM);
    assert_int_equal(t.tile_m, builtin.tile_m);

    /* a broken file is an error naming the line, never a silent fallback */
    write_text(path, "# header\ngemm_tiled_portable large 40 512\n");
    setenv("MC_GEMM_TUNING", "/nonexistent/dir/tuning.txt", 1); /* forces a reload below */
    assert_int_equal(mc_gemm_tiles_lookup("gemm_tiled_portable", MC_GEMM_CLASS_LARGE, &t, &err), MC_ERR_IO);
    setenv("MC_GEMM_TUNING", path, 1);
    assert_int_equal(mc_gemm_tiles_lookup("gemm_tiled_portable", MC_GEMM_CLASS_LARGE, &t, &err), MC_ERR_CONFIG);
    assert_non_null(strstr(err.msg, ":2:"));
    write_text(path, "gemm_tiled_f32_avx2_6x61 large 40 512 256 0\n");
    assert_int_equal(mc_gemm_tuning_read(path, in, 8, &n, &err), MC_ERR_CONFIG);
    write_text(path, "gemm_tiled_portable huge 40 512 256 0\n");
    assert_int_equal(mc_gemm_tuning_read(path, in, 8, &n, &err), MC_ERR_CONFIG);
    write_text(path, "gemm_tiled_portable large 0 512 256 0\n");
    assert_int_equal(mc_gemm_tuning_read(path, in, 8, &n, &err), MC_ERR_CONFIG);
    unsetenv("MC_GEMM_TUNING");
    unlink(path);
}

/* A "default" row of the tuning file puts its kernel first for its class on this machine; one that
 * declines the case leaves the compiled-in order; an unknown kernel is a configuration error. */
static void test_tuning_file_default_rows_steer_dispatch(void **state)
{
    char path[] = "/tmp/mc_gemm_defaults_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    const gemm_case large = {300, 300, 300, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 0, 2, {0}};
    const gemm_case narrow = {300, 4, 300, 1, F32, F32, F32, CONTIG, CONTIG, CONTIG, 0, 1.0f, 0.0f, 0, 2, {0}};
    gemm_problem pl, pn;
    mc_err err = {0};
    const mc_variant *v = NULL;
    unsetenv("MC_GEMM_KERNEL");
    problem_make(&pl, &large);
    problem_make(&pn, &narrow);
    write_text(path, "default large gemm_tiled_portable\ndefault small_n gemm_tiled_portable\n");
    setenv("MC_GEMM_TUNING", path, 1);
    assert_int_equal(mc_gemm_dispatch_choose(NULL, &pl.args, &v, &err), MC_OK);
    assert_string_equal(v->name, "gemm_tiled_portable");
    assert_int_equal(mc_gemm_dispatch_choose(NULL, &pn.args, &v, &err), MC_OK);
    assert_string_equal(v->name, "gemm_tiled_portable");

    write_text(path, "default large gemm_gemv\n"); /* declines n = 300: the built-in order applies */
    setenv("MC_GEMM_TUNING", "/nonexistent/reload", 1);
    assert_int_equal(mc_gemm_dispatch_choose(NULL, &pl.args, &v, &err), MC_ERR_IO);
    setenv("MC_GEMM_TUNING", path, 1);
    assert_int_equal(mc_gemm_dispatch_choose(NULL, &pl.args, &v, &err), MC_OK);
    assert_string_equal(v->name, best_tiled_large());

    int n = 0;
    mc_gemm_tuning_entry rows[4];
    write_text(path, "default large gemm_tiled_f32_avx2_6x61\n");
    assert_int_equal(mc_gemm_tuning_read(path, rows, 4, &n, &err), MC_ERR_CONFIG);
    write_text(path, "default large\n");
    assert_int_equal(mc_gemm_tuning_read(path, rows, 4, &n, &err), MC_ERR_CONFIG);
    write_text(path, "default enormous gemm_scalar\n");
    assert_int_equal(mc_gemm_tuning_read(path, rows, 4, &n, &err), MC_ERR_CONFIG);
    unsetenv("MC_GEMM_TUNING");
    problem_free(&pl);
    problem_free(&pn);
    unlink(path);
}

/* ---- the thread pool ---- */

typedef struct pool_probe {
    atomic_int calls[8];
    atomic_int phase_errors;
    atomic_int arrived;
    mc_cpu_barrier barrier;
} pool_probe;

static void pool_task(void *arg, int tid, int nthreads)
{
    pool_probe *p = arg;
    atomic_fetch_add(&p->calls[tid], 1);
    for (int round = 1; round <= 50; round++) {
        atomic_fetch_add(&p->arrived, 1);
        mc_cpu_barrier_wait(&p->barrier);
        /* past the barrier, every thread has arrived for this round */
        if (atomic_load(&p->arrived) < round * nthreads)
            atomic_fetch_add(&p->phase_errors, 1);
        mc_cpu_barrier_wait(&p->barrier);
    }
}

static void nested_task(void *arg, int tid, int nthreads)
{
    pool_probe *inner = arg;
    if (tid == 0) {
        mc_err err = {0};
        /* the pool is busy with the outer call: this one makes its own threads */
        assert_int_equal(mc_cpu_parallel(3, pool_task, inner, &err), MC_OK);
    }
}

static void test_pool_runs_each_thread_once_with_barriers(void **state)
{
    for (int n = 1; n <= 4; n++) {
        pool_probe p;
        mc_err err = {0};
        memset(&p, 0, sizeof p);
        mc_cpu_barrier_init(&p.barrier, n);
        assert_int_equal(mc_cpu_parallel(n, pool_task, &p, &err), MC_OK);
        for (int t = 0; t < 8; t++)
            assert_int_equal(atomic_load(&p.calls[t]), t < n ? 1 : 0);
        assert_int_equal(atomic_load(&p.phase_errors), 0);
        mc_cpu_barrier_destroy(&p.barrier);
    }
    pool_probe inner;
    mc_err err = {0};
    memset(&inner, 0, sizeof inner);
    mc_cpu_barrier_init(&inner.barrier, 3);
    assert_int_equal(mc_cpu_parallel(2, nested_task, &inner, &err), MC_OK);
    for (int t = 0; t < 3; t++)
        assert_int_equal(atomic_load(&inner.calls[t]), 1);
    assert_int_equal(atomic_load(&inner.phase_errors), 0);
    mc_cpu_barrier_destroy(&inner.barrier);
    assert_true(mc_cpu_core_count() >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiled_portable_matches_triple_loop),
        cmocka_unit_test(test_tiled_avx2_matches_triple_loop),
        cmocka_unit_test(test_tiled_avx512_matches_triple_loop),
        cmocka_unit_test(test_tiled_threads_bitwise_equal),
        cmocka_unit_test(test_tiled_column_split_runs_ahead_safely),
        cmocka_unit_test(test_tiled_packs_a_once_across_panels),
        cmocka_unit_test(test_tiled_rows_split_in_row_steps),
        cmocka_unit_test(test_gemv_and_small_n_match_triple_loop),
        cmocka_unit_test(test_tiled_variants_run_through_registry_path),
        cmocka_unit_test(test_bf16_matrix_kernels_match_triple_loop),
        cmocka_unit_test(test_bf16_row_matches_scalar_rounding),
        cmocka_unit_test(test_dispatch_choice_per_class),
        cmocka_unit_test(test_dispatch_bf16_prefers_amx),
        cmocka_unit_test(test_dispatch_asks_each_probe_once),
        cmocka_unit_test(test_dispatch_runs_and_records_choice),
        cmocka_unit_test(test_dispatch_override),
        cmocka_unit_test(test_dispatch_unknown_override_is_config_error),
        cmocka_unit_test(test_dispatch_choices_are_registered),
        cmocka_unit_test(test_class_of_shapes),
        cmocka_unit_test(test_tuning_file_round_trip_and_env),
        cmocka_unit_test(test_tuning_file_default_rows_steer_dispatch),
        cmocka_unit_test(test_pool_runs_each_thread_once_with_barriers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
