/* kernels/cpu/gemm_tiled.c: the blocked, packed, threaded GEMM driver and its portable variant.
 * SPDX-License-Identifier: MIT
 *
 * The driver (BLIS's five loops), per batch:
 *  1. jc: panels of tile_n columns of C.
 *  2. pc: blocks of tile_k along k. The B panel (tile_k x tile_n) is packed once into NR-wide
 *     slivers shared by all threads; when threads split the rows (tm > 1) they pack it together
 *     and meet at a barrier before using it. Panels alternate between two buffers, so that one
 *     barrier per block suffices: a thread packing block i+1 cannot overwrite block i-1's panel
 *     while others still read it, since they all passed block i's barrier after finishing i-1.
 *  3. ic: blocks of tile_m rows of the thread's own rows; each thread packs its A block privately.
 *  4. jr: the NR slivers of the thread's own columns (when threads split the columns, tn > 1).
 *  5. ir: MR slivers of the A block; the microkernel computes one MR x NR tile.
 *  Loops 4 and 5 swap when the B the thread reads per block fits in half of L2 (a_sliver_outer).
 *  Then, when there are several column panels, loops 1 and 2 swap too and loop 3 is one block of
 *  all the thread's rows (a_block_resident): A is packed once per k block, not once per panel.
 * Threads form a tm x tn grid chosen per shape (rows split when there are enough, else columns).
 * The first k block stores alpha*AB + beta*C + bias (C unread when beta == 0); later ones add
 * alpha*AB. Accumulation is f32. An f16/bf16 C goes through an f32 scratch and is rounded once,
 * by the thread that computed it, so its error is the f32 bound plus one output rounding.
 */
#include "kernels/cpu/gemm_pack.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/cpu_threads.h"

#define WS_ALIGN_FLOATS 16              /* 64-byte alignment of every workspace part */
#define MIN_FLOPS_PER_THREAD (1 << 22)  /* a wake-up and a barrier cost ~10-50 us, ~1-4M flops */
#define PACK_COST 16                    /* one packed element costs ~16 multiply-adds of time */
/* Rows of A (in MR slivers) up to which full B slivers are read in place rather than packed.
 * Measured (EPYC Zen 4, 2 threads, f32 row-major, medians of 7, against 4 slivers): 17x4864x896
 * avx2 32 -> 82 GFLOP/s in place; 32x2048x2048 16-22 -> 30-33; 128x896x4864 39-40 -> 45-47; at
 * 1024^3 (171 slivers) packing wins: each packed sliver then serves 171 microkernel calls. */
#define DIRECT_B_MAX_SLIVERS 24
#define L2_FALLBACK_BYTES (1 << 21) /* when sysconf cannot tell the L2's size */
#define HUGE_PAGE_BYTES ((size_t)1 << 21) /* x86-64's 2 MiB pages */

/* ---- workspace: packed panels and scratch, kept between calls (page faults on a fresh 4 MiB
 * allocation cost ~10% of a small GEMM). A concurrent caller gets its own. ---- */

static struct {
    pthread_mutex_t mu;
    float *buf;
    size_t floats;
} ws_cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* A 1 MiB packed B panel is swept once per A sliver: on 4 KiB pages that is 256 TLB entries a
 * sweep. A workspace of at least a huge page is huge-page aligned and asks for huge pages
 * (transparent huge pages in "madvise" mode; where they are off the advice changes nothing).
 * Measured (Xeon VM, 2 threads, in-process alternating runs, the one quiet round): 2048^3 at 356
 * against 341 GFLOP/s (median of 4), 1024^3 at 365 against 341 (best of 10). */
static float *workspace_alloc(size_t floats)
{
    size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    if (bytes < HUGE_PAGE_BYTES)
        return aligned_alloc(64, bytes);
    bytes = (bytes + HUGE_PAGE_BYTES - 1) / HUGE_PAGE_BYTES * HUGE_PAGE_BYTES;
    float *p = aligned_alloc(HUGE_PAGE_BYTES, bytes);
#ifdef MADV_HUGEPAGE
    if (p)
        (void)madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
}

static float *workspace_take(size_t floats, int *cached)
{
    *cached = pthread_mutex_trylock(&ws_cache.mu) == 0;
    if (!*cached)
        return workspace_alloc(floats);
    if (ws_cache.floats < floats) {
        free(ws_cache.buf);
        ws_cache.buf = workspace_alloc(floats);
        ws_cache.floats = ws_cache.buf ? floats : 0;
    }
    if (!ws_cache.buf)
        pthread_mutex_unlock(&ws_cache.mu);
    return ws_cache.buf;
}

static void workspace_give(float *p, int cached)
{
    if (cached)
        pthread_mutex_unlock(&ws_cache.mu);
    else
        free(p);
}

static size_t round_floats(size_t n)
{
    return (n + WS_ALIGN_FLOATS - 1) / WS_ALIGN_FLOATS * WS_ALIGN_FLOATS;
}

static int64_t round_up(int64_t x, int64_t to)
{
    return (x + to - 1) / to * to;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* ---- the job every thread shares ---- */

typedef struct tiled_job {
    const mc_gemm_kernel *kern;
    const mc_gemm_args *g;
    int64_t m, n, k;
    int64_t mc, nc, kc; /* tiles, rounded to MR / NR */
    int tm, tn;         /* thread grid: rows split tm ways, columns tn ways */
    int c_direct;       /* C is f32: tiles go straight into it */
    int b_direct;       /* full B slivers are read in place, not packed (few rows of A to share them) */
    int a_outer;        /* tile order: 1 when the B the thread reads per block fits in half of L2 (each
                           A sliver then stays in L1 while B slivers stream from L2), 0: each B sliver
                           stays in L1 while the A block streams from L2 */
    int a_resident;     /* k blocks outermost: each thread packs all its rows of A once per k block and
                           uses them for every column panel (see a_block_resident) */
    const float *bias;  /* n f32 values, or NULL */
    float *bpack;       /* packed B slivers, each kc x NR (see sliver_slot); two panels when tm > 1 */
    size_t b_panel_floats; /* one panel's share of bpack */
    int64_t b_slots;    /* slivers each column group of threads owns when tm == 1 */
    float *apack;       /* one mc x kc block per thread */
    size_t apack_floats;
    float *scratch;     /* m x n f32 when C is not f32 */
    mc_cpu_barrier *barrier; /* all threads meet here after packing a shared panel (tm > 1) */
} tiled_job;

/* One batch's operands: A (m x k), B^T (n x k), and where C's tiles go (f32). */
typedef struct batch_views {
    mc_gemm_mat a, bt;
    uint8_t *c;       /* element (0, 0) of the real C */
    uint8_t *c32;     /* where tiles go: C itself, or the scratch */
    int64_t rs, cs;   /* byte strides of c32 */
} batch_views;

static void views_of_batch(const tiled_job *j, int64_t b2, int64_t b3, batch_views *v)
{
    const mc_gemm_args *g = j->g;
    v->a = (mc_gemm_mat){mc_cpu_elem_ptr(&g->a, 0, 0, mc_cpu_bcast(&g->a, 2, b2), mc_cpu_bcast(&g->a, 3, b3)),
                         g->a.nb[1], g->a.nb[0], g->a.dtype};
    v->bt = (mc_gemm_mat){mc_cpu_elem_ptr(&g->b, 0, 0, mc_cpu_bcast(&g->b, 2, b2), mc_cpu_bcast(&g->b, 3, b3)),
                          g->b.nb[0], g->b.nb[1], g->b.dtype};
    v->c = mc_cpu_elem_ptr(&g->c, 0, 0, b2, b3);
    if (j->c_direct) {
        v->c32 = v->c;
        v->rs = g->c.nb[1];
        v->cs = g->c.nb[0];
    } else {
        v->c32 = (uint8_t *)j->scratch;
        v->rs = j->n * (int64_t)sizeof(float);
        v->cs = sizeof(float);
    }
}

/* A thread's share of the grid: its rows and, per column panel, its slivers. */
typedef struct thread_share {
    int tid, nthreads, ti, tj;
    int64_t i_begin, i_end; /* rows */
    int64_t block;          /* (jc, pc) blocks done so far: picks the panel buffer when tm > 1 */
} thread_share;

/* Where sliver s of the current panel (one of the thread's js0..js1) lives in bpack. Every sliver
 * takes a full kc x NR slot, whatever this block's depth. With tm > 1 all threads share the panel
 * and barriers order its reuse. With tm == 1 there are no barriers, so threads run ahead into the
 * next block or panel: each column group then owns a fixed set of slots, or a thread packing its
 * next panel would overwrite slivers that a slower one still reads. */
static float *sliver_slot(const tiled_job *j, const thread_share *t, int64_t s, int64_t js0)
{
    const int64_t slot = j->tm > 1 ? s : t->tj * j->b_slots + (s - js0);
    float *panel = j->bpack + (j->tm > 1 ? (size_t)(t->block % 2) * j->b_panel_floats : 0);
    return panel + slot * j->kern->nr * j->kc;
}

static void share_range(int64_t count, int parts, int part, int64_t *lo, int64_t *hi)
{
    *lo = count * part / parts;
    *hi = count * (part + 1) / parts;
}

static void pack_b_panel(const tiled_job *j, const thread_share *t, const batch_views *v, int64_t jc,
                         int64_t ncb, int64_t pc, int64_t kcb, int64_t js0, int64_t js1)
{
    const int nr = j->kern->nr;
    int64_t s0 = js0, s1 = js1;
    if (j->tm > 1) /* every thread uses the whole panel: all pack a share of it */
        share_range((ncb + nr - 1) / nr, t->nthreads, t->tid, &s0, &s1);
    for (int64_t s = s0; s < s1; s++) { /* one sliver at a time: slots are kc apart, blocks kcb deep */
        if (j->b_direct && (s + 1) * nr <= ncb)
            continue; /* read in place; only a ragged last sliver needs its zero padding */
        j->kern->pack(&v->bt, jc + s * nr, min64(nr, ncb - s * nr), pc, kcb, nr, sliver_slot(j, t, s, js0));
    }
    if (j->tm > 1)
        mc_cpu_barrier_wait(j->barrier);
}

/* B sliver js of the panel at column jc, depth pc: in place, or its packed slot; *ldb its row step. */
static const float *b_sliver(const tiled_job *j, const thread_share *t, const batch_views *v, int64_t jc,
                             int64_t ncb, int64_t pc, int64_t js, int64_t js0, int64_t *ldb)
{
    const int nr = j->kern->nr;
    if (j->b_direct && (js + 1) * nr <= ncb) {
        *ldb = v->bt.cs / (int64_t)sizeof(float);
        return (const float *)(const void *)(v->bt.base + (jc + js * nr) * v->bt.rs + pc * v->bt.cs);
    }
    *ldb = nr;
    return sliver_slot(j, t, js, js0);
}

/* One MR x NR tile: A sliver `is` of the block at row ic times B sliver js of the panel at jc. */
static void compute_tile(const tiled_job *j, const thread_share *t, const batch_views *v, const float *apack,
                         int64_t ic, int64_t mcb, int64_t is, int64_t jc, int64_t ncb, int64_t js, int64_t js0,
                         int64_t pc, int64_t kcb, int first)
{
    const int mr = j->kern->mr, nr = j->kern->nr;
    const int64_t row = ic + is * mr, col = jc + js * nr;
    int64_t ldb;
    const float *pb = b_sliver(j, t, v, jc, ncb, pc, js, js0, &ldb);
    mc_gemm_tile_c tile = {
        .c = v->c32 + row * v->rs + col * v->cs,
        .rs = v->rs,
        .cs = v->cs,
        .mr = (int)min64(mr, ic + mcb - row),
        .nr = (int)min64(nr, jc + ncb - col),
        .alpha = j->g->alpha,
        .beta = first ? (j->c_direct ? j->g->beta : 0.0f) : 1.0f,
        .bias = (first && j->bias && j->c_direct) ? j->bias + col : NULL,
    };
    j->kern->ukr(kcb, apack + is * mr * kcb, pb, ldb, &tile);
}

/* The block's tiles in one of two orders (see a_outer): each B sliver against every A sliver of
 * the block, or each A sliver against every B sliver of the thread's share of the panel. */
static void compute_block(const tiled_job *j, const thread_share *t, const batch_views *v, const float *apack,
                          int64_t ic, int64_t mcb, int64_t jc, int64_t ncb, int64_t pc, int64_t kcb, int64_t js0,
                          int64_t js1, int first)
{
    const int64_t a_slivers = (mcb + j->kern->mr - 1) / j->kern->mr;
    if (j->a_outer) {
        for (int64_t is = 0; is < a_slivers; is++)
            for (int64_t js = js0; js < js1; js++)
                compute_tile(j, t, v, apack, ic, mcb, is, jc, ncb, js, js0, pc, kcb, first);
        return;
    }
    for (int64_t js = js0; js < js1; js++)
        for (int64_t is = 0; is < a_slivers; is++)
            compute_tile(j, t, v, apack, ic, mcb, is, jc, ncb, js, js0, pc, kcb, first);
}

/* f16/bf16 C: the thread rounds the scratch region it computed into C, once. */
static void finish_region(const tiled_job *j, const batch_views *v, int64_t i0, int64_t i1, int64_t j0, int64_t j1)
{
    const mc_gemm_args *g = j->g;
    if (j->kern->bf16_row && g->c.dtype == MC_DTYPE_BF16 && g->c.nb[0] == 2 && g->beta == 0.0f && !j->bias) {
        for (int64_t i = i0; i < i1; i++)
            j->kern->bf16_row(v->c + i * g->c.nb[1] + j0 * 2, j->scratch + i * j->n + j0, j1 - j0);
        return;
    }
    for (int64_t i = i0; i < i1; i++)
        for (int64_t c = j0; c < j1; c++) {
            uint8_t *p = v->c + i * g->c.nb[1] + c * g->c.nb[0];
            float val = j->scratch[i * j->n + c];
            if (g->beta != 0.0f)
                val += g->beta * mc_cpu_load(g->c.dtype, p);
            if (j->bias)
                val += j->bias[c];
            mc_cpu_store(g->c.dtype, p, val);
        }
}

/* One (column panel, k block) of B: pack the thread's part of it, then compute the thread's rows
 * [ic, ic + mcb), already packed in apack, against it. */
static void run_panel_block(const tiled_job *j, thread_share *t, const batch_views *v, const float *apack,
                            int64_t ic, int64_t mcb, int64_t jc, int64_t pc, int64_t kcb)
{
    const int nr = j->kern->nr;
    int64_t ncb = min64(j->nc, j->n - jc), js0, js1;
    share_range((ncb + nr - 1) / nr, j->tn, t->tj, &js0, &js1);
    pack_b_panel(j, t, v, jc, ncb, pc, kcb, js0, js1);
    compute_block(j, t, v, apack, ic, mcb, jc, ncb, pc, kcb, js0, js1, pc == 0);
    t->block++;
}

/* f16/bf16 C: every column panel's share of the thread's rows, once all k blocks are in. */
static void finish_panels(const tiled_job *j, const thread_share *t, const batch_views *v)
{
    const int nr = j->kern->nr;
    for (int64_t jc = 0; jc < j->n; jc += j->nc) {
        int64_t ncb = min64(j->nc, j->n - jc), js0, js1;
        share_range((ncb + nr - 1) / nr, j->tn, t->tj, &js0, &js1);
        finish_region(j, v, t->i_begin, t->i_end, jc + js0 * nr, min64(jc + js1 * nr, jc + ncb));
    }
}

/* k blocks outermost: the thread's rows of A packed once per k block, not once per column panel. */
static void run_batch_a_resident(const tiled_job *j, thread_share *t, const batch_views *v)
{
    float *apack = j->apack + (size_t)t->tid * j->apack_floats;
    const int64_t rows = t->i_end - t->i_begin;
    for (int64_t pc = 0; pc < j->k; pc += j->kc) {
        int64_t kcb = min64(j->kc, j->k - pc);
        if (rows > 0)
            (j->kern->pack_a ? j->kern->pack_a : j->kern->pack)(&v->a, t->i_begin, rows, pc, kcb, j->kern->mr,
                                                                  apack);
        for (int64_t jc = 0; jc < j->n; jc += j->nc)
            run_panel_block(j, t, v, apack, t->i_begin, rows, jc, pc, kcb);
    }
    if (!j->c_direct)
        finish_panels(j, t, v);
}

static void run_batch(const tiled_job *j, thread_share *t, const batch_views *v)
{
    if (j->a_resident) {
        run_batch_a_resident(j, t, v);
        return;
    }
    const int nr = j->kern->nr;
    float *apack = j->apack + (size_t)t->tid * j->apack_floats;
    /* the thread's rows in blocks of equal height (at most mc): 512 rows with mc 480 are two
     * blocks of 256, not 480 and a short 32 that reads the whole B panel again for little work */
    const int64_t rows = t->i_end - t->i_begin, row_blocks = (rows + j->mc - 1) / j->mc;
    const int64_t mc = row_blocks ? min64(j->mc, round_up((rows + row_blocks - 1) / row_blocks, j->kern->mr)) : j->mc;
    for (int64_t jc = 0; jc < j->n; jc += j->nc) {
        int64_t ncb = min64(j->nc, j->n - jc), js0, js1;
        share_range((ncb + nr - 1) / nr, j->tn, t->tj, &js0, &js1);
        for (int64_t pc = 0; pc < j->k; pc += j->kc) {
            int64_t kcb = min64(j->kc, j->k - pc);
            pack_b_panel(j, t, v, jc, ncb, pc, kcb, js0, js1);
            for (int64_t ic = t->i_begin; ic < t->i_end; ic += mc) {
                int64_t mcb = min64(mc, t->i_end - ic);
                (j->kern->pack_a ? j->kern->pack_a : j->kern->pack)(&v->a, ic, mcb, pc, kcb, j->kern->mr, apack);
                compute_block(j, t, v, apack, ic, mcb, jc, ncb, pc, kcb, js0, js1, pc == 0);
            }
            t->block++;
        }
        if (!j->c_direct)
            finish_region(j, v, t->i_begin, t->i_end, jc + js0 * nr, min64(jc + js1 * nr, jc + ncb));
    }
}

/* Rows go to the threads in steps in which an edge tile's cost grows: at 2048 rows, 12x32 tiles
 * in steps of 4 give each of 2 threads 85 full tiles and a 4-row one (85.3 tiles' work), where
 * whole 12-row slivers gave 85 and 86 (the ragged last one as dear as a full one). */
static int64_t row_unit(const tiled_job *j)
{
    return j->kern->row_step > 0 ? j->kern->row_step : j->kern->mr;
}

static void tiled_thread(void *arg, int tid, int nthreads)
{
    tiled_job *j = arg;
    const int64_t unit = row_unit(j);
    thread_share t = {.tid = tid, .nthreads = nthreads, .ti = tid / j->tn, .tj = tid % j->tn};
    int64_t s0, s1;
    share_range((j->m + unit - 1) / unit, j->tm, t.ti, &s0, &s1);
    t.i_begin = s0 * unit;
    t.i_end = min64(s1 * unit, j->m);
    const mc_tensor *c = &j->g->c;
    if (j->kern->thread_begin)
        j->kern->thread_begin();
    for (int64_t b3 = 0; b3 < c->ne[3]; b3++)
        for (int64_t b2 = 0; b2 < c->ne[2]; b2++) {
            batch_views v;
            views_of_batch(j, b2, b3, &v);
            run_batch(j, &t, &v);
        }
    if (j->kern->thread_end)
        j->kern->thread_end();
}

/* The tm x tn grid with the least work for its busiest thread: padded multiply-adds plus packing.
 * Ties go to splitting rows, which shares the packed B instead of packing A twice. */
static void choose_grid(tiled_job *j, int threads)
{
    const int64_t ms = (j->m + j->kern->mr - 1) / j->kern->mr, ns = (j->n + j->kern->nr - 1) / j->kern->nr;
    double best = -1.0;
    for (int tm = threads; tm >= 1; tm--) {
        if (threads % tm)
            continue;
        int tn = threads / tm;
        double rows = (double)((ms + tm - 1) / tm * j->kern->mr);
        double cols = (double)((ns + tn - 1) / tn * j->kern->nr);
        double cost = rows * cols * (double)j->k + PACK_COST * (rows + cols / tm) * (double)j->k;
        if (best < 0.0 || cost < best) {
            best = cost;
            j->tm = tm;
            j->tn = tn;
        }
    }
}

static void convert_bias(const mc_gemm_args *g, int64_t n, float *out)
{
    for (int64_t c = 0; c < n; c++)
        out[c] = mc_cpu_get(&g->bias, c, 0, 0, 0);
}

/* k == 0: the product is empty, C = beta*C + bias. */
static void run_empty_k(const mc_gemm_args *g)
{
    const mc_tensor *c = &g->c;
    for (int64_t b3 = 0; b3 < c->ne[3]; b3++)
        for (int64_t b2 = 0; b2 < c->ne[2]; b2++)
            for (int64_t i = 0; i < c->ne[1]; i++)
                for (int64_t col = 0; col < c->ne[0]; col++) {
                    float v = 0.0f;
                    if (g->beta != 0.0f)
                        v += g->beta * mc_cpu_get(c, col, i, b2, b3);
                    if (g->has_bias)
                        v += mc_cpu_get(&g->bias, col, 0, 0, 0);
                    mc_cpu_set(c, col, i, b2, b3, v);
                }
}

/* With few rows of A, each B sliver serves only a few microkernel calls and packing it would cost
 * about as much as using it: full slivers are then read in place when B is f32 with contiguous,
 * 4-byte aligned rows (so plain float loads are legal C). */
static int b_in_place(const tiled_job *j)
{
    const mc_tensor *b = &j->g->b;
    const uintptr_t base = (uintptr_t)mc_cpu_elem_ptr(b, 0, 0, 0, 0);
    return b->dtype == MC_DTYPE_F32 && b->nb[0] == (int64_t)sizeof(float) && base % sizeof(float) == 0 &&
           b->nb[1] % (int64_t)sizeof(float) == 0 && b->nb[2] % (int64_t)sizeof(float) == 0 &&
           b->nb[3] % (int64_t)sizeof(float) == 0 && j->m <= DIRECT_B_MAX_SLIVERS * j->kern->mr;
}

/* Half of the L2 of one core (sysconf; 1 MiB where it says nothing), read once. */
static int64_t l2_budget_bytes(void)
{
    static _Atomic int64_t budget;
    int64_t b = atomic_load_explicit(&budget, memory_order_relaxed);
    if (b == 0) {
        const long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
        b = l2 > 0 ? l2 / 2 : L2_FALLBACK_BYTES / 2;
        atomic_store_explicit(&budget, b, memory_order_relaxed);
    }
    return b;
}

/* Which operand stays in L1 (BLIS's choice for Intel AVX-512: the broadcast one, A). When the
 * packed B that a thread reads per block (all the panel's slivers when threads split the rows,
 * its own share when they split the columns) fits in half of L2, each A sliver (MR x kc, 12 KiB
 * for 12x32 at kc 256) stays in L1 while B streams from L2; the B sliver (kc x NR, 32 KiB) left
 * little of a 48 KiB L1 for the A stream. Measured on the Xeon (2 threads, loaded, alternating
 * rounds, CPU time per product), A-outer with tiles 256/1024/256 against B-outer with 96/4064/256:
 * x1.04 at 1024^3, x1.10 at 2048^3, x1.05 at 512x4096x14336. B read in place (few rows of A)
 * keeps the B-outer order: its rows are strided in memory. */
static int a_sliver_outer(const tiled_job *j)
{
    const int64_t cols = j->tm > 1 ? j->nc : (j->nc + j->tn - 1) / j->tn;
    return !j->b_direct && j->kc * cols * (int64_t)sizeof(float) <= l2_budget_bytes();
}

/* A thread's rows of A for one k block, packed, at most this big for the k-outer order. */
#define A_RESIDENT_MAX_BYTES ((int64_t)4 << 20)

/* The most rows of A a thread packs (its rows, padded to whole MR slivers). */
static int64_t thread_rows_max(const tiled_job *j)
{
    const int64_t unit = row_unit(j), units = (j->m + unit - 1) / unit;
    return round_up((units + j->tm - 1) / j->tm * unit, j->kern->mr);
}

/* Whether each thread packs its rows of A once per k block for all column panels (k blocks
 * outermost) rather than once per column panel: with several panels (2048^3 has two of 1024
 * columns, 512x4096x14336 four) A was packed again for each. Only in the A-outer order, where an
 * A sliver is read from wherever it lies once per sweep of the B panel (so the thread's A block
 * need not fit L2), and while the packed rows stay modest. Measured (Xeon VM, 2 threads, 2026-12-05,
 * the two orders alternating call by call in one process, flops per CPU second, load ~2):
 * 2048^3 356 -> 361 GFLOP/s, 512x4096x14336 315 -> 324. */
static int a_block_resident(const tiled_job *j)
{
    return j->a_outer && j->n > j->nc && thread_rows_max(j) * j->kc * (int64_t)sizeof(float) <= A_RESIDENT_MAX_BYTES;
}

/* Column panels of equal width, up to PANEL_SLACK_DIV-ths wider than tile_n: every panel packs
 * all of A again, so n = 4096 with tile_n 4064 must not leave a second panel of 32 columns (which
 * packed the 512 x 14336 A of the prefill shape twice). */
#define PANEL_SLACK_DIV 8

static void set_tiles(tiled_job *j, const mc_gemm_tiles *tiles)
{
    const int mr = j->kern->mr, nr = j->kern->nr;
    j->mc = min64(round_up(tiles->tile_m > mr ? tiles->tile_m : mr, mr), round_up(j->m, mr));
    const int64_t nc = round_up(tiles->tile_n > nr ? tiles->tile_n : nr, nr);
    const int64_t panels = (j->n + nc + nc / PANEL_SLACK_DIV - 1) / (nc + nc / PANEL_SLACK_DIV);
    j->nc = min64(round_up((j->n + panels - 1) / panels, nr), round_up(j->n, nr));
    j->kc = min64(tiles->tile_k > 1 ? tiles->tile_k : 1, j->k);
}

mc_status mc_gemm_tiled_run(const mc_gemm_kernel *kern, const mc_gemm_tiles *tiles, int threads,
                            const mc_gemm_args *g, mc_err *err)
{
    tiled_job j = {.kern = kern, .g = g, .m = g->c.ne[1], .n = g->c.ne[0], .k = g->a.ne[0]};
    if (j.m == 0 || j.n == 0)
        return MC_OK;
    if (j.k == 0) {
        run_empty_k(g);
        return MC_OK;
    }
    threads = threads < 1 ? 1 : (threads > MC_CPU_MAX_THREADS ? MC_CPU_MAX_THREADS : threads);
    set_tiles(&j, tiles);
    choose_grid(&j, threads);
    j.b_direct = b_in_place(&j);
    j.a_outer = a_sliver_outer(&j);
    j.c_direct = g->c.dtype == MC_DTYPE_F32;
    j.a_resident = a_block_resident(&j);
    j.apack_floats = round_floats((size_t)((j.a_resident ? thread_rows_max(&j) : j.mc) * j.kc));
    const int64_t panel_slivers = j.nc / kern->nr;
    j.b_slots = (panel_slivers + j.tn - 1) / j.tn;
    j.b_panel_floats = round_floats((size_t)(j.kc * kern->nr * (j.tm > 1 ? panel_slivers : j.b_slots * j.tn)));
    size_t b_floats = j.b_panel_floats * (j.tm > 1 ? 2 : 1);
    size_t bias_floats = g->has_bias ? round_floats((size_t)j.n) : 0;
    size_t scratch_floats = j.c_direct ? 0 : round_floats((size_t)(j.m * j.n));
    int cached;
    float *ws = workspace_take(b_floats + j.apack_floats * (size_t)threads + bias_floats + scratch_floats, &cached);
    if (!ws)
        return mc_err_set(err, MC_ERR_NOMEM, "%s: cannot allocate packing buffers", kern->name);
    j.bpack = ws;
    j.apack = ws + b_floats;
    float *bias = j.apack + j.apack_floats * (size_t)threads;
    j.scratch = bias + bias_floats;
    if (g->has_bias) {
        convert_bias(g, j.n, bias);
        j.bias = bias;
    }
    mc_cpu_barrier barrier;
    mc_cpu_barrier_init(&barrier, threads);
    j.barrier = &barrier;
    mc_status st = mc_cpu_parallel(threads, tiled_thread, &j, err);
    mc_cpu_barrier_destroy(&barrier);
    workspace_give(ws, cached);
    return st;
}

int mc_gemm_tiled_threads(const mc_gemm_args *g, const mc_gemm_tiles *tiles, int allowed)
{
    double flops = 2.0 * (double)g->c.ne[0] * (double)g->c.ne[1] * (double)g->a.ne[0] * (double)g->c.ne[2] *
                   (double)g->c.ne[3];
    int t = allowed < 1 ? 1 : allowed;
    if (tiles->threads > 0 && tiles->threads < t)
        t = tiles->threads;
    while (t > 1 && flops / t < MIN_FLOPS_PER_THREAD)
        t--;
    return t;
}

mc_status mc_gemm_tiled_variant_run(const mc_gemm_kernel *kern, mc_kernel_ctx *kc, const mc_args *args,
                                    mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    mc_gemm_tiles tiles;
    mc_gemm_class cls = mc_gemm_class_of(g->c.ne[1], g->c.ne[0], g->a.ne[0]);
    mc_status st = mc_gemm_tiles_lookup(kern->name, cls, &tiles, err);
    if (st)
        return st;
    return mc_gemm_tiled_run(kern, &tiles, mc_gemm_tiled_threads(g, &tiles, kc->threads), g, err);
}

const char *mc_gemm_tiled_supports(const mc_args *args)
{
    const mc_gemm_args *g = &args->u.gemm;
    if (!mc_cpu_is_plain_float(g->a.dtype) || !mc_cpu_is_plain_float(g->b.dtype))
        return "quantised A or B: the tiled GEMM packs plain floats only";
    if (!mc_cpu_is_plain_float(g->c.dtype) || (g->has_bias && !mc_cpu_is_plain_float(g->bias.dtype)))
        return "quantised C or bias not supported";
    return NULL;
}

/* ---- the portable variant: the same blocking, a plain C microkernel ---- */

#define PORTABLE_MR 4
#define PORTABLE_NR 8

static void ukr_portable_4x8(int64_t kc, const float *pa, const float *pb, int64_t ldb, const mc_gemm_tile_c *t)
{
    float acc[PORTABLE_MR][PORTABLE_NR] = {{0.0f}};
    for (int64_t p = 0; p < kc; p++) {
        const float *a = pa + p * PORTABLE_MR, *b = pb + p * ldb;
        for (int r = 0; r < PORTABLE_MR; r++)
            for (int c = 0; c < PORTABLE_NR; c++)
                acc[r][c] += a[r] * b[c];
    }
    mc_gemm_store_tile(&acc[0][0], PORTABLE_NR, t);
}

static const mc_gemm_kernel portable_kernel = {
    .name = "gemm_tiled_portable",
    .mr = PORTABLE_MR,
    .nr = PORTABLE_NR,
    .ukr = ukr_portable_4x8,
    .pack = mc_gemm_pack_generic,
};

static mc_status gemm_tiled_portable_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_gemm_tiled_variant_run(&portable_kernel, kc, args, err);
}

const mc_variant mc_variant_gemm_tiled_portable = {
    .op = MC_OP_GEMM,
    .backend = "cpu",
    .name = "gemm_tiled_portable",
    .probe = NULL,
    .supports = mc_gemm_tiled_supports,
    .run = gemm_tiled_portable_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)ukr_portable_4x8,
};

/* For the tuner and the tests: the portable kernel as a driver plug-in. */
const mc_gemm_kernel *mc_gemm_kernel_portable(void)
{
    return &portable_kernel;
}
