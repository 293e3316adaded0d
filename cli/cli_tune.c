/* cli/cli_tune.c: `metallic-check tune --op gemm`: the tile sweep behind the GEMM tuning table, and a
 * head-to-head benchmark against OpenBLAS sgemm at the same thread count.
 * SPDX-License-Identifier: MIT
 *
 * The sweep, per tunable kernel:
 *  1. Every shape of the list gets f32 row-major A, B, C, filled once.
 *  2. Every tile configuration (a grid around the cache sizes, plus the compiled-in ones) is timed on
 *     it with the harness's timing loop (monotonic clock, warm-up, median of several samples).
 *  3. Per shape: the best configuration, and its ratio to the compiled-in one for that shape's class.
 *  4. Per class: the configuration with the best geometric mean of (GFLOP/s / the shape's best), so
 *     one slow shape cannot hide behind a fast one. That row goes into the tuning table (--out).
 *  5. Every measurement is also stored (db/store.h's tuning table: machine, op, the shape's canonical
 *     case key, the configuration, median and GFLOP/s) unless --no-store.
 * The benchmark (--versus-openblas) alternates the dispatcher's kernel and cblas_sgemm, A B B A,
 * with a pause after OpenBLAS (its idle threads spin for ~0.1 s and would steal our cores), and
 * quotes medians and the median of the per-round ratios.
 */
#include "cli_tune.h"

#include <cblas.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "core/op.h"
#include "core/outfile.h"
#include "core/runinfo.h"
#include "stats/timing.h"
#include "db/store.h"
#include "kernels/cpu/cpu_threads.h"
#include "kernels/cpu/gemm_pack.h"
#include "kernels/cpu/gemm_tiles.h"

enum { EXIT_DONE = 0, EXIT_KERNEL = 1, EXIT_USAGE = 2 };

/* Tuning rows name the machine by the cpu alone: tuning runs only cpu kernels. (A `run` on a
 * machine with more backends describes those too, so its fingerprint differs.) */
extern const mc_backend mc_backend_cpu;

#define MAX_CONFIGS 64
#define MAX_SHAPES 32
#define OPENBLAS_SETTLE_NS 200000000L /* OpenBLAS workers spin ~2^28 cycles after a call */

static const char tune_usage[] =
    "usage: metallic-check tune --op gemm [--shapes quick|perf] [--threads N] [--kernel NAME|all]\n"
    "                          [--out FILE] [--db PATH | --no-store]\n"
    "       metallic-check tune --op gemm --compare-kernels [--out FILE] [--threads N] [--rounds N]\n"
    "       metallic-check tune --op gemm --versus-openblas [--shapes quick|perf] [--threads N] [--rounds N]\n"
    "Sweeps the tiled GEMM's tile sizes (tile_m, tile_n, tile_k) over a list of f32 shapes, prints the\n"
    "best configuration per shape with its ratio to the compiled-in one, and per shape class the\n"
    "configuration with the best geometric mean over that class's shapes: the tuning table.\n"
    "\n"
    "  --op gemm           the op to tune (only gemm has tiles)\n"
    "  --shapes LIST       quick (default, about a minute): m = 17 and 128 against Qwen2.5-0.5B's\n"
    "                      ffn (n=4864, k=896 and n=896, k=4864), and squares 256 and 1024;\n"
    "                      perf: m = 17 and 128 against every Qwen2.5-0.5B and -3B projection, and\n"
    "                      squares 256, 512, 1024 and 2048 (several minutes)\n"
    "  --threads N         threads for every kernel (default: the number of cores)\n"
    "  --kernel NAME       tune this tiled kernel; 'all' tunes every one this CPU can run\n"
    "                      (default: the fastest one the dispatcher would pick here)\n"
    "  --out FILE          write the tuning table there (rows of an existing file that this run does\n"
    "                      not measure are kept); the dispatcher and the tiled variants load it when\n"
    "                      $MC_GEMM_TUNING names it (else they use the compiled-in table)\n"
    "  --versus-openblas   no sweep: time the dispatcher's kernel against OpenBLAS cblas_sgemm at the\n"
    "                      same thread count on 1024^3, 2048^3 and the prefill 512x4096x14336 (with\n"
    "                      --shapes perf, on every perf shape and the prefill) and print both GFLOP/s\n"
    "                      and their ratio; honours $MC_GEMM_TUNING and $MC_GEMM_KERNEL\n"
    "  --compare-kernels   no sweep: time every kernel the dispatcher may choose on shapes standing\n"
    "                      for each shape class, and print each one's geometric-mean ratio to the\n"
    "                      class's compiled-in default; with --out, a kernel that beats it by >= 5%\n"
    "                      becomes that class's default on this machine ('default' rows)\n"
    "  --rounds N          alternating rounds per shape for the two modes above (default 5)\n"
    "  --db PATH           store every sweep measurement there (default $MC_DB, else ./metallic-check.db)\n"
    "  --no-store          do not write the database\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 done; 1 a kernel failed; 2 usage or configuration error (unknown kernel, a kernel\n"
    "this CPU cannot run, an unwritable --out, a database that cannot be opened or written).\n";

typedef struct tune_opts {
    const char *op, *shapes, *kernel, *out, *db;
    int threads, rounds, versus, compare, no_store;
} tune_opts;

/* Where sweep measurements go: the store and this machine's record, or nothing. */
typedef struct tune_store {
    mc_store *s;
    mc_machine machine;
} tune_store;

typedef struct shape {
    int64_t m, n, k;
} shape;

/* Qwen2.5 projections as (n, k): 0.5B o, qkv, ffn up/gate, ffn down; 3B the same four. */
static const shape qwen_nk[] = {
    {0, 896, 896}, {0, 1152, 896}, {0, 4864, 896}, {0, 896, 4864},
    {0, 2048, 2048}, {0, 2560, 2048}, {0, 11008, 2048}, {0, 2048, 11008},
};

/* Issue 18's prefill shape (a 512-token prompt through Llama-3 8B's down projection): the
 * benchmark's third target besides 1024^3 and 2048^3. */
static const shape prefill_shape = {512, 4096, 14336};

static int shapes_of(const char *list, int versus, shape *out)
{
    int n = 0;
    const int perf = strcmp(list, "perf") == 0;
    if (versus && !perf) {
        out[n++] = (shape){1024, 1024, 1024};
        out[n++] = (shape){2048, 2048, 2048};
        out[n++] = prefill_shape;
        return n;
    }
    for (int mi = 0; mi < 2; mi++)
        for (size_t i = 0; i < sizeof qwen_nk / sizeof qwen_nk[0]; i++) {
            if (!perf && !(i == 2 || i == 3))
                continue;
            out[n] = qwen_nk[i];
            out[n++].m = mi ? 128 : 17;
        }
    static const int64_t perf_squares[] = {256, 512, 1024, 2048}, quick_squares[] = {256, 1024};
    const int64_t *sq = perf ? perf_squares : quick_squares;
    for (int i = 0; i < (perf ? 4 : 2); i++)
        out[n++] = (shape){sq[i], sq[i], sq[i]};
    if (versus)
        out[n++] = prefill_shape;
    return n;
}

/* ---- one shape's buffers ---- */

typedef struct gemm_bufs {
    float *a, *b, *c;
    struct mc_buf ba, bb, bc;
    mc_args args;
} gemm_bufs;

static float *filled(int64_t count, unsigned seed)
{
    float *p = aligned_alloc(64, (size_t)((count * 4 + 63) / 64 * 64));
    for (int64_t i = 0; p && i < count; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)(seed >> 8) / 8388608.0f - 1.0f; /* uniform in [-1, 1) */
    }
    return p;
}

static mc_tensor matrix(int64_t cols, int64_t rows, struct mc_buf *buf)
{
    return (mc_tensor){.dtype = MC_DTYPE_F32,
                       .ne = {cols, rows, 1, 1},
                       .nb = {4, 4 * cols, 4 * cols * rows, 4 * cols * rows},
                       .buf = buf};
}

static mc_status bufs_make(gemm_bufs *g, const shape *s, mc_err *err)
{
    memset(g, 0, sizeof *g);
    g->a = filled(s->m * s->k, 1);
    g->b = filled(s->k * s->n, 2);
    g->c = filled(s->m * s->n, 3);
    if (!g->a || !g->b || !g->c)
        return mc_err_set(err, MC_ERR_NOMEM, "tune: no memory for a %lldx%lldx%lld GEMM", (long long)s->m,
                          (long long)s->n, (long long)s->k);
    g->ba.native = g->a;
    g->bb.native = g->b;
    g->bc.native = g->c;
    g->args.op = MC_OP_GEMM;
    g->args.u.gemm = (mc_gemm_args){.a = matrix(s->k, s->m, &g->ba), .b = matrix(s->n, s->k, &g->bb),
                                    .c = matrix(s->n, s->m, &g->bc), .alpha = 1.0f, .beta = 0.0f};
    return MC_OK;
}

static void bufs_free(gemm_bufs *g)
{
    free(g->a);
    free(g->b);
    free(g->c);
}

static double flops_of(const shape *s)
{
    return 2.0 * (double)s->m * (double)s->n * (double)s->k;
}

/* Median time of call(ctx), through the harness's timing loop. */
static mc_status median_ns(double budget_s, mc_status (*call)(void *, mc_err *), void *ctx, double *out, mc_err *err)
{
    mc_timing_cfg cfg = mc_timing_defaults();
    cfg.budget_s = budget_s;
    cfg.min_samples = 5;
    cfg.max_samples = 200;
    cfg.warmup_s = budget_s / 10;
    cfg.warmup_calls = 1;
    cfg.min_sample_ns = 1e6; /* small shapes: batch calls so each sample is >= 1 ms */
    mc_timing t;
    mc_status st = mc_time_run(&cfg, NULL, call, ctx, &t, err);
    if (st)
        return st;
    *out = t.median_ns;
    mc_timing_free(&t);
    return MC_OK;
}

/* ---- the sweep ---- */

typedef struct tiled_call {
    const mc_gemm_kernel *kern;
    mc_gemm_tiles tiles;
    int threads;
    const mc_gemm_args *g;
} tiled_call;

static mc_status call_tiled(void *ctx, mc_err *err)
{
    const tiled_call *c = ctx;
    return mc_gemm_tiled_run(c->kern, &c->tiles, c->threads, c->g, err);
}

static int same_tiles(const mc_gemm_tiles *a, const mc_gemm_tiles *b)
{
    return a->tile_m == b->tile_m && a->tile_n == b->tile_n && a->tile_k == b->tile_k && a->threads == b->threads;
}

static int add_config(mc_gemm_tiles *list, int n, mc_gemm_tiles t)
{
    for (int i = 0; i < n; i++)
        if (same_tiles(&list[i], &t))
            return n;
    if (n < MAX_CONFIGS)
        list[n++] = t;
    return n;
}

/* A grid around the caches (A block in L2, B sliver in L1, B panel in L3) plus every compiled-in row,
 * and each compiled-in row on one thread (small shapes may lose more to waking threads than they gain). */
static int configs_for(const mc_gemm_kernel *kern, mc_gemm_tiles *list)
{
    static const int m_slivers[] = {8, 16, 24, 40}, depths[] = {128, 256, 384, 512};
    const int widths[] = {64 * kern->nr, 4096 / kern->nr * kern->nr};
    int n = 0;
    for (int c = 0; c < MC_GEMM_CLASS_COUNT; c++) {
        mc_gemm_tiles t = mc_gemm_tiles_builtin(kern->name, (mc_gemm_class)c);
        n = add_config(list, n, t);
        t.threads = 1;
        n = add_config(list, n, t);
    }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            for (int w = 0; w < 2; w++)
                n = add_config(list, n, (mc_gemm_tiles){m_slivers[i] * kern->mr, widths[w], depths[j], 0});
    return n;
}

static void tiles_text(const mc_gemm_tiles *t, char *out, size_t len)
{
    if (t->threads)
        snprintf(out, len, "%d/%d/%d/%dt", t->tile_m, t->tile_n, t->tile_k, t->threads);
    else
        snprintf(out, len, "%d/%d/%d", t->tile_m, t->tile_n, t->tile_k);
}

typedef struct sweep {
    const mc_gemm_kernel *kern;
    mc_gemm_tiles configs[MAX_CONFIGS];
    int n_configs;
    shape shapes[MAX_SHAPES];
    int n_shapes;
    double gflops[MAX_SHAPES][MAX_CONFIGS];
} sweep;

/* The shape's canonical case key (gemm(m=17,n=4864,k=896)): how the store names shapes. */
static mc_status shape_key(const shape *s, char *out, size_t cap, mc_err *err)
{
    mc_case c;
    char text[3][24];
    const char *names[3] = {"m", "n", "k"};
    const int64_t values[3] = {s->m, s->n, s->k};
    mc_status st = mc_case_init(&c, mc_op_find("gemm"), err);
    for (int i = 0; !st && i < 3; i++) {
        snprintf(text[i], sizeof text[i], "%lld", (long long)values[i]);
        st = mc_case_set(&c, names[i], text[i], err);
    }
    if (!st)
        st = mc_case_finish(&c, err);
    if (!st)
        snprintf(out, cap, "%s", c.key);
    return st;
}

static mc_status store_measurement(tune_store *ts, const shape *s, const char *kernel, const mc_gemm_tiles *t,
                                   int threads, double ns, mc_err *err)
{
    char key[MC_KEY_LEN], config[160];
    if (!ts->s)
        return MC_OK;
    mc_status st = shape_key(s, key, sizeof key, err);
    snprintf(config, sizeof config, "kernel=%s,tile_m=%d,tile_n=%d,tile_k=%d,threads=%d", kernel, t->tile_m,
             t->tile_n, t->tile_k, threads);
    return st ? st : mc_store_add_tuning(ts->s, &ts->machine, 0, "gemm", key, config, ns, flops_of(s) / ns, err);
}

static mc_status sweep_shape(sweep *sw, int si, int threads, double budget_s, tune_store *ts, mc_err *err)
{
    const shape *s = &sw->shapes[si];
    gemm_bufs g;
    mc_status st = bufs_make(&g, s, err);
    for (int ci = 0; !st && ci < sw->n_configs; ci++) {
        tiled_call call = {sw->kern, sw->configs[ci], 0, &g.args.u.gemm};
        call.threads = mc_gemm_tiled_threads(call.g, &call.tiles, threads);
        double ns = 0.0;
        st = median_ns(budget_s, call_tiled, &call, &ns, err);
        sw->gflops[si][ci] = st ? 0.0 : flops_of(s) / ns;
        if (!st)
            st = store_measurement(ts, s, sw->kern->name, &call.tiles, call.threads, ns, err);
    }
    bufs_free(&g);
    return st;
}

static int best_config(const sweep *sw, int si)
{
    int best = 0;
    for (int ci = 1; ci < sw->n_configs; ci++)
        if (sw->gflops[si][ci] > sw->gflops[si][best])
            best = ci;
    return best;
}

static int config_index(const sweep *sw, mc_gemm_tiles t)
{
    for (int ci = 0; ci < sw->n_configs; ci++)
        if (same_tiles(&sw->configs[ci], &t))
            return ci;
    return 0;
}

static void print_shape_line(const sweep *sw, int si)
{
    const shape *s = &sw->shapes[si];
    mc_gemm_class cls = mc_gemm_class_of(s->m, s->n, s->k);
    int best = best_config(sw, si), builtin = config_index(sw, mc_gemm_tiles_builtin(sw->kern->name, cls));
    char bt[48], dt[48], sh[48];
    tiles_text(&sw->configs[best], bt, sizeof bt);
    tiles_text(&sw->configs[builtin], dt, sizeof dt);
    snprintf(sh, sizeof sh, "%lldx%lldx%lld", (long long)s->m, (long long)s->n, (long long)s->k);
    printf("%-18s %-8s %-15s %8.1f   %-15s %8.1f   %6.3f\n", sh, mc_gemm_class_info_of(cls)->name, bt,
           sw->gflops[si][best], dt, sw->gflops[si][builtin], sw->gflops[si][best] / sw->gflops[si][builtin]);
    fflush(stdout);
}

/* Geometric mean over the class's shapes of gflops / that shape's best; 0 when it has none. */
static double class_score(const sweep *sw, mc_gemm_class cls, int ci, double *mean_gflops)
{
    double log_sum = 0.0, log_gf = 0.0;
    int n = 0;
    for (int si = 0; si < sw->n_shapes; si++) {
        const shape *s = &sw->shapes[si];
        if (mc_gemm_class_of(s->m, s->n, s->k) != cls)
            continue;
        log_sum += log(sw->gflops[si][ci] / sw->gflops[si][best_config(sw, si)]);
        log_gf += log(sw->gflops[si][ci]);
        n++;
    }
    *mean_gflops = n ? exp(log_gf / n) : 0.0;
    return n ? exp(log_sum / n) : 0.0;
}

static int class_table(const sweep *sw, mc_gemm_tuning_entry *entries, int n)
{
    for (int c = 0; c < MC_GEMM_CLASS_COUNT; c++) {
        double gf, best_gf = 0.0, best = 0.0, builtin_gf;
        int best_ci = -1;
        for (int ci = 0; ci < sw->n_configs; ci++) {
            double score = class_score(sw, (mc_gemm_class)c, ci, &gf);
            if (score > best) {
                best = score;
                best_ci = ci;
                best_gf = gf;
            }
        }
        if (best_ci < 0)
            continue;
        int builtin = config_index(sw, mc_gemm_tiles_builtin(sw->kern->name, (mc_gemm_class)c));
        double builtin_score = class_score(sw, (mc_gemm_class)c, builtin, &builtin_gf);
        mc_gemm_tuning_entry *e = &entries[n++];
        memset(e, 0, sizeof *e);
        snprintf(e->kernel, sizeof e->kernel, "%s", sw->kern->name);
        e->cls = (mc_gemm_class)c;
        e->tiles = sw->configs[best_ci];
        e->gflops = best_gf;
        printf("%s %-8s %4d %5d %4d %d   geomean %.1f GFLOP/s, %.3f of each shape's best (built-in: %.3f)\n",
               e->kernel, mc_gemm_class_info_of(e->cls)->name, e->tiles.tile_m, e->tiles.tile_n, e->tiles.tile_k,
               e->tiles.threads, best_gf, best, builtin_score);
    }
    return n;
}

static mc_status run_sweep(const mc_gemm_kernel *kern, const tune_opts *o, tune_store *ts,
                           mc_gemm_tuning_entry *entries, int *n_entries, mc_err *err)
{
    static sweep sw; /* ~12 KiB of results: kept off the stack */
    memset(&sw, 0, sizeof sw);
    sw.kern = kern;
    sw.n_configs = configs_for(kern, sw.configs);
    sw.n_shapes = shapes_of(o->shapes, 0, sw.shapes);
    const double budget_s = strcmp(o->shapes, "perf") == 0 ? 0.3 : 0.08;
    printf("tune gemm: %s, %d threads, %d tile configurations x %d shapes (%s)\n", kern->name, o->threads,
           sw.n_configs, sw.n_shapes, o->shapes);
    printf("%-18s %-8s %-15s %8s   %-15s %8s   %6s\n", "m x n x k", "class", "best tiles", "GFLOP/s",
           "built-in tiles", "GFLOP/s", "ratio");
    for (int si = 0; si < sw.n_shapes; si++) {
        mc_status st = sweep_shape(&sw, si, o->threads, budget_s, ts, err);
        if (st)
            return st;
        print_shape_line(&sw, si);
    }
    printf("tuning table rows (kernel class tile_m tile_n tile_k threads):\n");
    *n_entries = class_table(&sw, entries, *n_entries);
    return MC_OK;
}

/* ---- against OpenBLAS ---- */

typedef struct variant_call {
    const mc_variant *v;
    mc_kernel_ctx kc;
    const mc_args *args;
} variant_call;

static mc_status call_variant(void *ctx, mc_err *err)
{
    variant_call *c = ctx;
    return c->v->run(&c->kc, c->args, err);
}

typedef struct blas_call {
    const shape *s;
    const gemm_bufs *g;
} blas_call;

static mc_status call_openblas(void *ctx, mc_err *err)
{
    const blas_call *c = ctx;
    const int m = (int)c->s->m, n = (int)c->s->n, k = (int)c->s->k;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, c->g->a, k, c->g->b, n, 0.0f, c->g->c, n);
    return MC_OK;
}

static void settle(void)
{
    struct timespec ts = {0, OPENBLAS_SETTLE_NS};
    nanosleep(&ts, NULL);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Largest |ours - OpenBLAS| over largest |OpenBLAS|: a benchmark of a wrong kernel means nothing. */
static double relative_difference(const shape *s, gemm_bufs *g, variant_call *ours, mc_err *err)
{
    const size_t count = (size_t)(s->m * s->n);
    float *ref = malloc(count * sizeof(float));
    double worst = 0.0, scale = 0.0;
    if (!ref)
        return INFINITY;
    blas_call bc = {s, g};
    call_openblas(&bc, err);
    memcpy(ref, g->c, count * sizeof(float));
    if (call_variant(ours, err) != MC_OK) {
        free(ref);
        return INFINITY;
    }
    for (size_t i = 0; i < count; i++) {
        worst = fmax(worst, fabs((double)g->c[i] - (double)ref[i]));
        scale = fmax(scale, fabs((double)ref[i]));
    }
    free(ref);
    return scale > 0.0 ? worst / scale : worst;
}

static mc_status versus_shape(const shape *s, const tune_opts *o, mc_err *err)
{
    gemm_bufs g;
    double ours_gf[64], blas_gf[64], ratio[64], ns = 1.0;
    mc_status st = bufs_make(&g, s, err);
    variant_call ours = {NULL, {.threads = o->threads}, &g.args};
    blas_call bc = {s, &g};
    if (!st)
        st = mc_gemm_dispatch_choose(NULL, &g.args, &ours.v, err);
    double diff = st ? 0.0 : relative_difference(s, &g, &ours, err);
    if (!st && !(diff < 1e-4))
        st = mc_err_set(err, MC_ERR_INTERNAL, "tune: %s differs from OpenBLAS by %.3g (relative) at %lldx%lldx%lld",
                        ours.v->name, diff, (long long)s->m, (long long)s->n, (long long)s->k);
    for (int r = 0; !st && r < o->rounds; r++) {
        for (int half = 0; !st && half < 2; half++) {
            int blas_turn = (r % 2) ^ half; /* A B, then B A */
            st = median_ns(1.0, blas_turn ? call_openblas : call_variant, blas_turn ? (void *)&bc : (void *)&ours,
                           &ns, err);
            (blas_turn ? blas_gf : ours_gf)[r] = flops_of(s) / ns;
            if (blas_turn)
                settle();
        }
        ratio[r] = ours_gf[r] / blas_gf[r];
    }
    if (!st) {
        char sh[48];
        snprintf(sh, sizeof sh, "%lldx%lldx%lld", (long long)s->m, (long long)s->n, (long long)s->k);
        double lo = ratio[0], hi = ratio[0];
        for (int r = 1; r < o->rounds; r++)
            lo = fmin(lo, ratio[r]), hi = fmax(hi, ratio[r]);
        printf("%-18s %-26s %8.1f %10.1f   %6.3f  [%5.3f, %5.3f]  %8.1e\n", sh, ours.v->name,
               median_of(ours_gf, o->rounds), median_of(blas_gf, o->rounds), median_of(ratio, o->rounds), lo, hi,
               diff);
        fflush(stdout);
    }
    bufs_free(&g);
    return st;
}

static mc_status run_versus(const tune_opts *o, mc_err *err)
{
    shape shapes[MAX_SHAPES];
    int n = shapes_of(o->shapes, 1, shapes);
    openblas_set_num_threads(o->threads);
    printf("gemm f32 versus OpenBLAS (%s) cblas_sgemm, %d threads each, %d alternating rounds per shape\n",
           openblas_get_corename(), o->threads, o->rounds);
    printf("%-18s %-26s %8s %10s   %6s  %-16s %8s\n", "m x n x k", "kernel (dispatcher)", "GFLOP/s", "OpenBLAS",
           "ratio", "[min, max]", "rel.diff");
    for (int i = 0; i < n; i++) {
        mc_status st = versus_shape(&shapes[i], o, err);
        if (st)
            return st;
    }
    printf("GFLOP/s are medians of per-round medians; ratio is the median of per-round ours/OpenBLAS.\n");
    return MC_OK;
}

/* ---- the dispatcher's candidates, class by class (the 5% rule's evidence) ---- */

/* Shapes that stand for each class: Qwen2.5 projections where the class has them. */
static const shape class_shapes[MC_GEMM_CLASS_COUNT][6] = {
    [MC_GEMM_CLASS_GEMV] = {{896, 1, 4864}, {4864, 1, 896}, {2048, 1, 2048}, {2048, 1, 11008}},
    [MC_GEMM_CLASS_SMALL_N] = {{896, 4, 4864}, {512, 8, 512}, {2048, 8, 2048}, {4864, 2, 896}},
    [MC_GEMM_CLASS_TINY] = {{16, 16, 16}, {32, 32, 32}, {9, 64, 40}, {24, 24, 48}},
    [MC_GEMM_CLASS_SMALL_M] = {{17, 4864, 896}, {17, 896, 4864}, {32, 2048, 2048}, {17, 2048, 11008}, {1, 4864, 896},
                               {4, 896, 896}},
    [MC_GEMM_CLASS_MEDIUM] = {{128, 128, 128}, {256, 256, 256}, {64, 512, 256}, {200, 100, 300}},
    [MC_GEMM_CLASS_LARGE] = {{128, 4864, 896}, {128, 896, 4864}, {1024, 1024, 1024}, {512, 2048, 1024}},
};

#define SCALAR_MAX_FLOPS 1e8 /* gemm_scalar runs at well under 1 GFLOP/s: bigger shapes take seconds */

/* Median GFLOP/s of variant v on shape s, or 0 when it cannot run here or declines the shape. */
static mc_status variant_gflops(const mc_variant *v, const shape *s, int threads, double budget_s, double *out,
                                mc_err *err)
{
    gemm_bufs g;
    double ns;
    *out = 0.0;
    mc_status st = bufs_make(&g, s, err);
    variant_call call = {v, {.threads = threads}, &g.args};
    int runs = !st && !(v->probe && v->probe(NULL)) && !v->supports(&g.args) &&
               !(strcmp(v->name, "gemm_scalar") == 0 && flops_of(s) > SCALAR_MAX_FLOPS);
    if (runs) {
        snprintf(call.kc.ran, sizeof call.kc.ran, "%s", v->name);
        st = median_ns(budget_s, call_variant, &call, &ns, err);
        *out = st ? 0.0 : flops_of(s) / ns;
    }
    bufs_free(&g);
    return st;
}

/* One class: every choice on every shape (rounds interleave the kernels), then the geometric mean
 * per kernel against the class's compiled-in default. *winner: the kernel that beats it by >= 5%
 * (the fastest such), or NULL. */
static mc_status compare_class(mc_gemm_class cls, const tune_opts *o, const char **winner, mc_err *err)
{
    int n_choices = 0, n_shapes = 0;
    const mc_variant *const *choices = mc_gemm_dispatch_choices(&n_choices);
    double gf[8][6][64] = {{{0.0}}}, med[8][6];
    while (n_shapes < 6 && class_shapes[cls][n_shapes].m)
        n_shapes++;
    for (int si = 0; si < n_shapes; si++)
        for (int r = 0; r < o->rounds; r++)
            for (int v = 0; v < n_choices && v < 8; v++) {
                mc_status st = variant_gflops(choices[v], &class_shapes[cls][si], o->threads, 0.25, &gf[v][si][r], err);
                if (st)
                    return st;
            }
    for (int v = 0; v < n_choices && v < 8; v++)
        for (int si = 0; si < n_shapes; si++)
            med[v][si] = median_of(gf[v][si], o->rounds);
    /* the current default: the first candidate that ran on every shape */
    const mc_gemm_class_info *info = mc_gemm_class_info_of(cls);
    int def = -1;
    for (int c = 0; info->candidates[c] && def < 0; c++)
        for (int v = 0; v < n_choices && v < 8; v++)
            if (strcmp(choices[v]->name, info->candidates[c]) == 0 && med[v][0] > 0.0)
                def = v;
    printf("class %s (%s), default here %s\n", info->name, info->rule, def >= 0 ? choices[def]->name : "none");
    double best = 1.05;
    *winner = NULL;
    for (int v = 0; v < n_choices && v < 8; v++) {
        double log_ratio = 0.0;
        int ran = 1;
        printf("  %-28s", choices[v]->name);
        for (int si = 0; si < n_shapes; si++) {
            printf(" %7.1f", med[v][si]);
            ran = ran && med[v][si] > 0.0;
            if (ran && def >= 0)
                log_ratio += log(med[v][si] / med[def][si]);
        }
        if (ran && def >= 0) {
            double ratio = exp(log_ratio / n_shapes);
            printf("   x%.3f%s", ratio, v != def && ratio >= 1.05 ? "  >= 5% faster than the default" : "");
            if (v != def && ratio >= best) {
                best = ratio;
                *winner = choices[v]->name;
            }
        }
        printf("\n");
    }
    return MC_OK;
}

static mc_status run_compare(const tune_opts *o, mc_gemm_tuning_entry *entries, int *n_entries, mc_err *err)
{
    printf("GEMM kernels per shape class: median GFLOP/s per shape (f32, row-major, %d threads, median of %d\n"
           "rounds), and the geometric-mean ratio to the class's current default\n",
           o->threads, o->rounds);
    for (int c = 0; c < MC_GEMM_CLASS_COUNT; c++) {
        printf("  shapes:");
        for (int si = 0; si < 6 && class_shapes[c][si].m; si++)
            printf(" %lldx%lldx%lld", (long long)class_shapes[c][si].m, (long long)class_shapes[c][si].n,
                   (long long)class_shapes[c][si].k);
        printf("\n");
        fflush(stdout);
        const char *winner = NULL;
        mc_status st = compare_class((mc_gemm_class)c, o, &winner, err);
        if (st)
            return st;
        if (winner) {
            mc_gemm_tuning_entry *e = &entries[(*n_entries)++];
            memset(e, 0, sizeof *e);
            e->is_default = 1;
            e->cls = (mc_gemm_class)c;
            snprintf(e->kernel, sizeof e->kernel, "%s", winner);
        }
    }
    return MC_OK;
}

/* Writes rows into path, keeping the rows of an existing file that they do not replace: tile rows
 * of the same kernel and class, and (replace_defaults) every default row, since the comparison
 * just measured every class again. A file that exists but cannot be parsed is an error, never
 * silently overwritten. */
static mc_status write_merged(const char *path, const mc_gemm_tuning_entry *rows, int n, int replace_defaults,
                              const char *comment, mc_err *err)
{
    static mc_gemm_tuning_entry all[256];
    int count = 0, kept = 0;
    struct stat sb; /* only a regular file has rows to keep: reading a FIFO would wait for a writer */
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
        mc_status st = mc_gemm_tuning_read(path, all, 256, &count, err);
        if (st)
            return st;
    }
    for (int i = 0; i < count; i++) {
        int replaced = replace_defaults && all[i].is_default;
        for (int j = 0; j < n && !replaced; j++)
            replaced = !all[i].is_default && !rows[j].is_default && all[i].cls == rows[j].cls &&
                       strcmp(all[i].kernel, rows[j].kernel) == 0;
        if (!replaced)
            all[kept++] = all[i];
    }
    for (int j = 0; j < n && kept < 256; j++)
        all[kept++] = rows[j];
    mc_outfile out; /* renamed over a regular file only, never over a device or a pipe */
    mc_status st = mc_outfile_open(&out, path, "--out", err);
    if (st)
        return st;
    mc_gemm_tuning_print(out.f, all, kept, comment);
    return mc_outfile_commit(&out, "--out", err);
}

/* ---- options ---- */

static int usage_error(const char *what, const char *arg)
{
    return mc_cli_usage_error("tune", tune_usage, MC_USAGE_FIRST_LINE, "%s%s%s", what, arg ? " " : "", arg ? arg : "");
}

enum {
    OPT_OP = 1000, OPT_SHAPES, OPT_THREADS, OPT_KERNEL, OPT_OUT, OPT_VERSUS, OPT_COMPARE, OPT_ROUNDS, OPT_DB,
    OPT_NO_STORE,
};

static const struct option tune_options[] = {
    {"op", required_argument, NULL, OPT_OP},         {"shapes", required_argument, NULL, OPT_SHAPES},
    {"threads", required_argument, NULL, OPT_THREADS}, {"kernel", required_argument, NULL, OPT_KERNEL},
    {"out", required_argument, NULL, OPT_OUT},       {"versus-openblas", no_argument, NULL, OPT_VERSUS},
    {"compare-kernels", no_argument, NULL, OPT_COMPARE},
    {"rounds", required_argument, NULL, OPT_ROUNDS}, {"db", required_argument, NULL, OPT_DB},
    {"no-store", no_argument, NULL, OPT_NO_STORE},   {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, tune_opts *o)
{
    int c;
    long number = 0;
    *o = (tune_opts){.shapes = "quick", .threads = mc_cpu_core_count(), .rounds = 5};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", tune_options, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(tune_usage, stdout);
            return EXIT_DONE;
        case OPT_OP: o->op = optarg; break;
        case OPT_SHAPES: o->shapes = optarg; break;
        case OPT_KERNEL: o->kernel = optarg; break;
        case OPT_OUT: o->out = optarg; break;
        case OPT_VERSUS: o->versus = 1; break;
        case OPT_COMPARE: o->compare = 1; break;
        case OPT_DB: o->db = optarg; break;
        case OPT_NO_STORE: o->no_store = 1; break;
        case OPT_THREADS:
            if (mc_cli_parse_long(optarg, 1, MC_CPU_MAX_THREADS, &number))
                return usage_error("--threads wants 1..256, got", optarg);
            o->threads = (int)number;
            break;
        case OPT_ROUNDS:
            if (mc_cli_parse_long(optarg, 1, 64, &number))
                return usage_error("--rounds wants 1..64, got", optarg);
            o->rounds = (int)number;
            break;
        default:
            return usage_error("unknown or incomplete option", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument", argv[optind]);
    if (!o->op)
        return usage_error("--op is required", NULL);
    if (strcmp(o->op, "gemm") != 0)
        return usage_error("only gemm has tiles to tune; got --op", o->op);
    if (strcmp(o->shapes, "quick") != 0 && strcmp(o->shapes, "perf") != 0)
        return usage_error("--shapes wants quick or perf, got", o->shapes);
    if (o->versus && o->out)
        return usage_error("--out writes a tuning table; --versus-openblas measures nothing for one", NULL);
    if (o->versus && o->compare)
        return usage_error("--versus-openblas and --compare-kernels are separate runs", NULL);
    return -1;
}

/* The kernels to tune: the named one, every runnable one, or the first the dispatcher prefers. */
static mc_status kernels_to_tune(const char *name, const mc_gemm_kernel **out, int *n, mc_err *err)
{
    const char *const *names = mc_gemm_tunable_kernels();
    const char *why = NULL;
    *n = 0;
    if (name && strcmp(name, "all") != 0) {
        out[0] = mc_gemm_kernel_find(name, &why);
        if (!out[0])
            return mc_err_set(err, MC_ERR_CONFIG, "--kernel %s: %s", name, why);
        *n = 1;
        return MC_OK;
    }
    if (!name) { /* the dispatcher's preference for large shapes that this CPU can run */
        const mc_gemm_class_info *large = mc_gemm_class_info_of(MC_GEMM_CLASS_LARGE);
        for (int i = 0; large->candidates[i] && *n == 0; i++)
            if ((out[0] = mc_gemm_kernel_find(large->candidates[i], NULL)) != NULL)
                *n = 1;
    } else {
        for (int i = 0; names[i]; i++)
            if ((out[*n] = mc_gemm_kernel_find(names[i], NULL)) != NULL)
                (*n)++;
    }
    return *n ? MC_OK : mc_err_set(err, MC_ERR_CONFIG, "no tunable GEMM kernel can run on this CPU");
}

static int report(const mc_err *err, int exit_status)
{
    mc_cli_report_error("tune", err); /* says it; tune's own exit status stands */
    return exit_status;
}

int mc_cli_tune(int argc, char **argv)
{
    tune_opts o;
    mc_err err = {0};
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    mc_gemm_tuning_entry entries[8 * MC_GEMM_CLASS_COUNT];
    int n_entries = 0;
    if (o.versus || o.compare) {
        mc_status st = o.versus ? run_versus(&o, &err) : run_compare(&o, entries, &n_entries, &err);
        if (!st && o.out)
            st = write_merged(o.out, entries, n_entries, 1, "defaults from metallic-check tune --compare-kernels",
                              &err);
        if (!st && o.out)
            printf("wrote %s: %d class default(s) (load it with MC_GEMM_TUNING=%s)\n", o.out, n_entries, o.out);
        return st ? report(&err, st == MC_ERR_CONFIG || st == MC_ERR_UNSUPPORTED || st == MC_ERR_IO ? EXIT_USAGE
                                                                                                    : EXIT_KERNEL)
                  : EXIT_DONE;
    }
    const mc_gemm_kernel *kernels[8];
    int n_kernels = 0;
    mc_status st = kernels_to_tune(o.kernel, kernels, &n_kernels, &err);
    if (st)
        return report(&err, EXIT_USAGE);
    tune_store ts;
    memset(&ts, 0, sizeof ts);
    if (!o.no_store) {
        char devices[256];
        snprintf(devices, sizeof devices, "cpu: ");
        mc_backend_cpu.describe(NULL, devices + 5, sizeof devices - 5); /* the cpu's needs no context */
        mc_machine_collect(devices, &ts.machine);
        st = mc_store_open(o.db ? o.db : mc_store_default_path(), &ts.s, &err);
        if (st)
            return report(&err, EXIT_USAGE);
    }
    for (int i = 0; !st && i < n_kernels; i++)
        st = run_sweep(kernels[i], &o, &ts, entries, &n_entries, &err);
    if (ts.s)
        mc_store_close(ts.s);
    if (st)
        return report(&err, st == MC_ERR_DB ? EXIT_USAGE : EXIT_KERNEL);
    if (o.out) {
        char comment[160];
        snprintf(comment, sizeof comment, "metallic-check tune --op gemm --shapes %s --threads %d", o.shapes,
                 o.threads);
        st = write_merged(o.out, entries, n_entries, 0, comment, &err);
        if (st)
            return report(&err, EXIT_USAGE);
        printf("wrote %s (load it with MC_GEMM_TUNING=%s)\n", o.out, o.out);
    }
    return EXIT_DONE;
}
