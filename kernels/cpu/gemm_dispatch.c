/* kernels/cpu/gemm_dispatch.c: the GEMM dispatcher (seed 2.1's MatmulDispatcher) and the two
 * narrow paths it chooses besides the tiled and scalar kernels: gemm_gemv and gemm_small_n.
 * SPDX-License-Identifier: MIT
 *
 * How gemm_dispatch chooses, per call:
 *  1. $MC_GEMM_KERNEL, when set, names the kernel. A name outside `choices` is MC_ERR_CONFIG
 *     (listing the valid names); a known kernel that cannot run here or declines the case is
 *     MC_ERR_UNSUPPORTED. Never a fallback.
 *  2. Otherwise the shape's class (gemm_tiles.c) lists default kernels, best first (after the
 *     tuning file's default for the class on this machine, if any); the first whose probe says
 *     yes and that supports the case runs.
 *  3. kc->ran gets the registered name of the kernel that ran, so the harness can check it.
 * gemm_gemv and gemm_small_n see C^T = B^T A^T when that makes the narrow side n: strides swap,
 * nothing is copied but the short operand, packed to f32 once per batch.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/cpu_threads.h"
#include "kernels/cpu/gemm_pack.h"
#include "kernels/cpu/gemm_tiles.h"

#define SMALL_N_MAX 8                  /* widest product gemm_small_n takes */
#define MIN_FLOPS_PER_THREAD (1 << 22) /* as in the tiled driver: a wake-up costs ~1-4M flops */

extern const mc_variant mc_variant_gemm_scalar;
extern const mc_variant mc_variant_gemm_tiled_portable;
extern const mc_variant mc_variant_gemm_tiled_f32_avx2_6x16;
extern const mc_variant mc_variant_gemm_tiled_f32_avx512_12x32;
extern const mc_variant mc_variant_gemm_gemv;
extern const mc_variant mc_variant_gemm_small_n;
extern const mc_variant mc_variant_gemm_tiled_bf16_avx512bf16_12x32;
extern const mc_variant mc_variant_gemm_tiled_bf16_amx_16x32;

/* Every kernel the dispatcher may run, and so every valid $MC_GEMM_KERNEL. */
static const mc_variant *const choices[] = {
    &mc_variant_gemm_scalar,
    &mc_variant_gemm_gemv,
    &mc_variant_gemm_small_n,
    &mc_variant_gemm_tiled_portable,
    &mc_variant_gemm_tiled_f32_avx2_6x16,
    &mc_variant_gemm_tiled_f32_avx512_12x32,
    &mc_variant_gemm_tiled_bf16_avx512bf16_12x32,
    &mc_variant_gemm_tiled_bf16_amx_16x32,
};
#define N_CHOICES (int)(sizeof choices / sizeof choices[0])

/* ---- the narrow problem both paths solve: out(r, s) = alpha * L(r,:) . R(s,:) + beta*out + bias ---- */

#define ACC_FLOATS 2048 /* a block's partial sums (8 KiB, in L1): 2048 rows for gemv, 256 for small-N.
                           When L's rows are adjacent (a transposed L) each step along k reads that
                           many adjacent elements. Even so that walk stays slower than the tiled
                           kernel (1x4864x896: 2.5 against 5.6 GFLOP/s on a Xeon), which is why the
                           dispatcher's classes send m == 1 and m <= 8 to the tiled kernels */

typedef struct narrow {
    mc_gemm_mat l;         /* rows x k: the long operand, read once */
    mc_gemm_mat r;         /* cols x k: the short operand, packed */
    uint8_t *out;          /* out(r, s) at out + r*ors + s*ocs */
    int64_t ors, ocs;
    mc_dtype out_dtype;
    int64_t rows, cols, k;
    float alpha, beta;
    const mc_tensor *bias; /* NULL for none */
    int bias_by_row;       /* the bias runs along rows (C was transposed) */
    int width;             /* packed stride: 1 for gemv, SMALL_N_MAX for small-N */
    float *packed;         /* k x width: packed[p*width + s] = R(s, p), zeros for s >= cols */
} narrow;

/* One batch of C = A B seen as a narrow problem; `transpose` solves C^T = B^T A^T instead. */
static void narrow_of_batch(const mc_gemm_args *g, int64_t b2, int64_t b3, int transpose, narrow *q)
{
    const uint8_t *a = mc_cpu_elem_ptr(&g->a, 0, 0, mc_cpu_bcast(&g->a, 2, b2), mc_cpu_bcast(&g->a, 3, b3));
    const uint8_t *b = mc_cpu_elem_ptr(&g->b, 0, 0, mc_cpu_bcast(&g->b, 2, b2), mc_cpu_bcast(&g->b, 3, b3));
    mc_gemm_mat am = {a, g->a.nb[1], g->a.nb[0], g->a.dtype};  /* m x k */
    mc_gemm_mat btm = {b, g->b.nb[0], g->b.nb[1], g->b.dtype}; /* n x k */
    q->out = mc_cpu_elem_ptr(&g->c, 0, 0, b2, b3);
    q->out_dtype = g->c.dtype;
    q->k = g->a.ne[0];
    q->alpha = g->alpha;
    q->beta = g->beta;
    q->bias = g->has_bias ? &g->bias : NULL;
    q->bias_by_row = transpose;
    q->l = transpose ? btm : am;
    q->r = transpose ? am : btm;
    q->rows = transpose ? g->c.ne[0] : g->c.ne[1];
    q->cols = transpose ? g->c.ne[1] : g->c.ne[0];
    q->ors = transpose ? g->c.nb[0] : g->c.nb[1];
    q->ocs = transpose ? g->c.nb[1] : g->c.nb[0];
}

static void narrow_store(const narrow *q, int64_t r, int64_t s, float acc)
{
    uint8_t *p = q->out + r * q->ors + s * q->ocs;
    float v = q->alpha * acc;
    /* beta == 0: C holds a NaN sentinel and must not be read */
    if (q->beta != 0.0f)
        v += q->beta * mc_cpu_load(q->out_dtype, p);
    if (q->bias)
        v += mc_cpu_get(q->bias, q->bias_by_row ? r : s, 0, 0, 0);
    mc_cpu_store(q->out_dtype, p, v);
}

static void narrow_pack(narrow *q)
{
    for (int64_t p = 0; p < q->k; p++)
        for (int s = 0; s < q->width; s++)
            q->packed[p * q->width + s] =
                s < q->cols ? mc_cpu_load(q->r.dtype, q->r.base + s * q->r.rs + p * q->r.cs) : 0.0f;
}

#define STAGE_LEN 256 /* elements of L converted to f32 at a time when they cannot be read in place */

/* n elements of L from src, step bytes apart, as f32: in place when they are contiguous, 4-byte
 * aligned f32 (plain float loads are then legal C), else converted into buf. */
static const float *stage(const narrow *q, const uint8_t *src, int64_t step, int64_t n, float *buf)
{
    if (q->l.dtype == MC_DTYPE_F32 && step == (int64_t)sizeof(float) && (uintptr_t)src % sizeof(float) == 0)
        return (const float *)(const void *)src;
    for (int64_t i = 0; i < n; i++)
        buf[i] = mc_cpu_load(q->l.dtype, src + i * step);
    return buf;
}

/* gemv: the dot product of a row with the packed vector, in eight running sums (kept in registers
 * and vectorised: only constant indices) plus one for the ragged end of each stage. */
static float gemv_row(const narrow *q, const uint8_t *row)
{
    float part[8] = {0.0f}, tail = 0.0f, buf[STAGE_LEN];
    for (int64_t p0 = 0; p0 < q->k; p0 += STAGE_LEN) {
        const int64_t len = q->k - p0 < STAGE_LEN ? q->k - p0 : STAGE_LEN;
        const float *v = stage(q, row + p0 * q->l.cs, q->l.cs, len, buf), *x = q->packed + p0;
        int64_t i = 0;
        for (; i + 8 <= len; i += 8)
            for (int e = 0; e < 8; e++)
                part[e] += v[i + e] * x[i + e];
        for (; i < len; i++)
            tail += v[i] * x[i];
    }
    return (((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]))) + tail;
}

/* small-N: one pass over a row feeds all (up to 8) of its outputs, eight running sums. */
static void small_n_row(const narrow *q, const uint8_t *row, float *out)
{
    float sum[SMALL_N_MAX] = {0.0f}, buf[STAGE_LEN];
    for (int64_t p0 = 0; p0 < q->k; p0 += STAGE_LEN) {
        const int64_t len = q->k - p0 < STAGE_LEN ? q->k - p0 : STAGE_LEN;
        const float *v = stage(q, row + p0 * q->l.cs, q->l.cs, len, buf);
        const float *x = q->packed + p0 * SMALL_N_MAX;
        for (int64_t i = 0; i < len; i++)
#pragma GCC unroll 8
            for (int e = 0; e < SMALL_N_MAX; e++)
                sum[e] += v[i] * x[i * SMALL_N_MAX + e];
    }
    memcpy(out, sum, sizeof sum);
}

/* small-N on four rows at once: each packed x is loaded once for four rows, and the four rows'
 * sums are independent chains, so the adds overlap instead of waiting on each other (one row at a
 * time ran 896x4x4864 at 8.6 GFLOP/s against the tiled kernel's 10.9). */
static void small_n_rows4(const narrow *q, const uint8_t *row0, float *out)
{
    float s0[SMALL_N_MAX] = {0.0f}, s1[SMALL_N_MAX] = {0.0f}, s2[SMALL_N_MAX] = {0.0f}, s3[SMALL_N_MAX] = {0.0f};
    float buf[4][STAGE_LEN];
    for (int64_t p0 = 0; p0 < q->k; p0 += STAGE_LEN) {
        const int64_t len = q->k - p0 < STAGE_LEN ? q->k - p0 : STAGE_LEN;
        const float *v[4];
        for (int r = 0; r < 4; r++)
            v[r] = stage(q, row0 + r * q->l.rs + p0 * q->l.cs, q->l.cs, len, buf[r]);
        const float *x = q->packed + p0 * SMALL_N_MAX;
        for (int64_t i = 0; i < len; i++) {
            const float a0 = v[0][i], a1 = v[1][i], a2 = v[2][i], a3 = v[3][i];
#pragma GCC unroll 8 /* unrolled whole, the sums live in registers instead of on the stack */
            for (int e = 0; e < SMALL_N_MAX; e++) {
                const float xe = x[i * SMALL_N_MAX + e];
                s0[e] += a0 * xe;
                s1[e] += a1 * xe;
                s2[e] += a2 * xe;
                s3[e] += a3 * xe;
            }
        }
    }
    memcpy(out, s0, sizeof s0);
    memcpy(out + SMALL_N_MAX, s1, sizeof s1);
    memcpy(out + 2 * SMALL_N_MAX, s2, sizeof s2);
    memcpy(out + 3 * SMALL_N_MAX, s3, sizeof s3);
}

/* Row by row, for an L that is contiguous (or at least not row-adjacent) along k. */
static void block_by_rows(const narrow *q, int64_t r0, int64_t nr, float *acc)
{
    int64_t r = 0;
    if (q->width == SMALL_N_MAX)
        for (; r + 4 <= nr; r += 4)
            small_n_rows4(q, q->l.base + (r0 + r) * q->l.rs, acc + r * SMALL_N_MAX);
    for (; r < nr; r++) {
        const uint8_t *row = q->l.base + (r0 + r) * q->l.rs;
        if (q->width == 1)
            acc[r] = gemv_row(q, row);
        else
            small_n_row(q, row, acc + r * SMALL_N_MAX);
    }
}

/* Column by column, for an L whose rows are adjacent (a transposed view): walking a row would
 * stride through memory, so the block's partial sums advance together along k instead. */
static void block_by_columns(const narrow *q, int64_t r0, int64_t nr, float *acc)
{
    const int64_t es = mc_dtype_elem_bytes(q->l.dtype);
    float buf[ACC_FLOATS];
    for (int64_t i = 0; i < nr * q->width; i++)
        acc[i] = 0.0f;
    for (int64_t p = 0; p < q->k; p++) {
        const float *v = stage(q, q->l.base + r0 * q->l.rs + p * q->l.cs, es, nr, buf);
        const float *x = q->packed + p * q->width;
        if (q->width == 1) {
            for (int64_t r = 0; r < nr; r++)
                acc[r] += v[r] * x[0];
            continue;
        }
        for (int64_t r = 0; r < nr; r++)
            for (int e = 0; e < SMALL_N_MAX; e++)
                acc[r * SMALL_N_MAX + e] += v[r] * x[e];
    }
}

static void narrow_thread(void *arg, int tid, int nthreads)
{
    const narrow *q = arg;
    const int rows_adjacent = q->l.rs == mc_dtype_elem_bytes(q->l.dtype) && q->l.cs != q->l.rs;
    int64_t r_begin = q->rows * tid / nthreads, r_end = q->rows * (tid + 1) / nthreads;
    const int64_t block = ACC_FLOATS / q->width;
    float acc[ACC_FLOATS];
    for (int64_t r0 = r_begin; r0 < r_end; r0 += block) {
        int64_t nr = r_end - r0 < block ? r_end - r0 : block;
        if (rows_adjacent)
            block_by_columns(q, r0, nr, acc);
        else
            block_by_rows(q, r0, nr, acc);
        for (int64_t r = 0; r < nr; r++)
            for (int64_t s = 0; s < q->cols; s++)
                narrow_store(q, r0 + r, s, acc[r * q->width + s]);
    }
}

static int narrow_threads(const mc_gemm_args *g, int allowed)
{
    double flops = 2.0 * (double)g->c.ne[0] * (double)g->c.ne[1] * (double)g->a.ne[0];
    int t = allowed < 1 ? 1 : allowed;
    while (t > 1 && flops / t < MIN_FLOPS_PER_THREAD)
        t--;
    return t;
}

static mc_status narrow_run(mc_kernel_ctx *kc, const mc_gemm_args *g, int transpose, int width, const char *name,
                            mc_err *err)
{
    const int64_t k = g->a.ne[0];
    float *packed = malloc((size_t)(k > 0 ? k : 1) * (size_t)width * sizeof(float));
    if (!packed)
        return mc_err_set(err, MC_ERR_NOMEM, "%s: cannot pack %lld x %d floats", name, (long long)k, width);
    mc_status st = MC_OK;
    int threads = narrow_threads(g, kc->threads);
    for (int64_t b3 = 0; !st && b3 < g->c.ne[3]; b3++)
        for (int64_t b2 = 0; !st && b2 < g->c.ne[2]; b2++) {
            narrow q;
            narrow_of_batch(g, b2, b3, transpose, &q);
            q.width = width;
            q.packed = packed;
            narrow_pack(&q);
            st = mc_cpu_parallel(threads, narrow_thread, &q, err);
        }
    free(packed);
    return st;
}

static const char *plain_floats(const mc_gemm_args *g)
{
    if (!mc_cpu_is_plain_float(g->a.dtype) || !mc_cpu_is_plain_float(g->b.dtype))
        return "quantised A or B: this path reads plain floats only";
    if (!mc_cpu_is_plain_float(g->c.dtype) || (g->has_bias && !mc_cpu_is_plain_float(g->bias.dtype)))
        return "quantised C or bias not supported";
    return NULL;
}

static const char *gemv_supports(const mc_args *args)
{
    const mc_gemm_args *g = &args->u.gemm;
    if (g->c.ne[0] != 1 && g->c.ne[1] != 1)
        return "gemv path: needs n == 1 or m == 1";
    return plain_floats(g);
}

static mc_status gemv_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    return narrow_run(kc, g, g->c.ne[0] != 1, 1, "gemm_gemv", err);
}

const mc_variant mc_variant_gemm_gemv = {
    .op = MC_OP_GEMM,
    .backend = "cpu",
    .name = "gemm_gemv",
    .probe = NULL,
    .supports = gemv_supports,
    .run = gemv_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)gemv_row,
};

static const char *small_n_supports(const mc_args *args)
{
    const mc_gemm_args *g = &args->u.gemm;
    if (g->c.ne[0] > SMALL_N_MAX && g->c.ne[1] > SMALL_N_MAX)
        return "small-N path: needs n <= 8 or m <= 8";
    return plain_floats(g);
}

static mc_status small_n_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    return narrow_run(kc, g, g->c.ne[0] > SMALL_N_MAX, SMALL_N_MAX, "gemm_small_n", err);
}

const mc_variant mc_variant_gemm_small_n = {
    .op = MC_OP_GEMM,
    .backend = "cpu",
    .name = "gemm_small_n",
    .probe = NULL,
    .supports = small_n_supports,
    .run = small_n_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)small_n_row,
};

/* ---- the dispatcher ---- */

static int choice_index(const char *name)
{
    for (int i = 0; i < N_CHOICES; i++)
        if (strcmp(choices[i]->name, name) == 0)
            return i;
    return -1;
}

static const mc_variant *choice_named(const char *name)
{
    const int i = choice_index(name);
    return i < 0 ? NULL : choices[i];
}

static mc_status unknown_override(const char *name, mc_err *err)
{
    char valid[512] = "";
    for (int i = 0; i < N_CHOICES; i++) {
        size_t len = strlen(valid);
        snprintf(valid + len, sizeof valid - len, "%s%s", i ? ", " : "", choices[i]->name);
    }
    return mc_err_set(err, MC_ERR_CONFIG, "MC_GEMM_KERNEL=%s names no GEMM kernel; valid names: %s", name, valid);
}

static mc_status choose_override(mc_backend_ctx *ctx, const char *name, const mc_args *args, const mc_variant **out,
                                 mc_err *err)
{
    const mc_variant *v = choice_named(name);
    const char *why;
    if (!v)
        return unknown_override(name, err);
    if (v->probe && (why = v->probe(ctx)) != NULL)
        return mc_err_set(err, MC_ERR_UNSUPPORTED, "MC_GEMM_KERNEL=%s cannot run here: %s", name, why);
    if ((why = v->supports(args)) != NULL)
        return mc_err_set(err, MC_ERR_UNSUPPORTED, "MC_GEMM_KERNEL=%s declines this case: %s", name, why);
    *out = v;
    return MC_OK;
}

/* Each choice's probe answer, asked once per process (0: not yet, 1: runs here, 2: cannot). The
 * probes run cpuid, which traps to the hypervisor in a VM (~6 us each on the Xeon VM), and the AMX
 * one a system call: asked on every call they cost ~50 us a dispatch, 1% of a 1024^3 product and
 * a quarter of a 128x896x896 one. The answers cannot change while the process runs. */
static atomic_int probe_answers[N_CHOICES];
static atomic_int probe_asks;

int mc_gemm_dispatch_probe_asks(void)
{
    return atomic_load(&probe_asks);
}

static int probe_says_yes(mc_backend_ctx *ctx, int i)
{
    int answer = atomic_load_explicit(&probe_answers[i], memory_order_relaxed);
    if (answer == 0) {
        atomic_fetch_add(&probe_asks, 1);
        answer = (choices[i]->probe && choices[i]->probe(ctx)) ? 2 : 1;
        atomic_store_explicit(&probe_answers[i], answer, memory_order_relaxed);
    }
    return answer == 1;
}

/* Whether choice i runs here and takes the case. */
static int runs_case(mc_backend_ctx *ctx, int i, const mc_args *args)
{
    return probe_says_yes(ctx, i) && !choices[i]->supports(args);
}

/* The class's first default kernel that can run here and takes the case: the tuning file's
 * choice for this machine first, when it has one, then the compiled-in candidates. */
static mc_status choose_by_class(mc_backend_ctx *ctx, const mc_args *args, const mc_variant **out, mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    const mc_gemm_class cls = mc_gemm_class_of(g->c.ne[1], g->c.ne[0], g->a.ne[0]);
    const mc_gemm_class_info *info = mc_gemm_class_info_of(cls);
    char tuned[64];
    int found = 0;
    mc_status st = mc_gemm_default_lookup(cls, tuned, sizeof tuned, &found, err);
    if (st)
        return st;
    if (found) {
        const int i = choice_index(tuned);
        if (i < 0)
            return mc_err_set(err, MC_ERR_CONFIG, "the GEMM tuning file's default for %s, %s, is not a kernel the "
                              "dispatcher may choose", info->name, tuned);
        if (runs_case(ctx, i, args)) {
            *out = choices[i];
            return MC_OK;
        }
    }
    for (int c = 0; c < MC_GEMM_MAX_CANDIDATES && info->candidates[c]; c++) {
        const int i = choice_index(info->candidates[c]);
        if (i < 0)
            return mc_err_set(err, MC_ERR_INTERNAL, "gemm class %s lists unknown kernel %s", info->name,
                              info->candidates[c]);
        if (runs_case(ctx, i, args)) {
            *out = choices[i];
            return MC_OK;
        }
    }
    return mc_err_set(err, MC_ERR_UNSUPPORTED, "no GEMM kernel of class %s takes this case", info->name);
}

mc_status mc_gemm_dispatch_choose(mc_backend_ctx *ctx, const mc_args *args, const mc_variant **out, mc_err *err)
{
    const char *name = getenv("MC_GEMM_KERNEL");
    if (name && *name)
        return choose_override(ctx, name, args, out, err);
    return choose_by_class(ctx, args, out, err);
}

static mc_status dispatch_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_variant *v = NULL;
    mc_status st = mc_gemm_dispatch_choose(kc->backend, args, &v, err);
    if (st)
        return st;
    snprintf(kc->ran, sizeof kc->ran, "%s", v->name);
    return v->run(kc, args, err);
}

static const char *dispatch_supports(const mc_args *args)
{
    if (!mc_cpu_is_plain_float(args->u.gemm.c.dtype))
        return "quantised output not supported";
    return NULL;
}

/* From the class table alone (not from the code that chooses, which is what is under test): in
 * every class, the kernel the $MC_GEMM_TUNING file puts first when it can run here, else the first
 * candidate that can, is a kernel this dispatcher must choose for that class's shapes. An unreadable
 * tuning file is reported by every call of the dispatcher itself, so it is passed over here. */
static void dispatch_may_choose(const bool *runnable, bool *may_choose)
{
    for (int i = 0; i < N_CHOICES; i++)
        may_choose[i] = false;
    for (int cls = 0; cls < MC_GEMM_CLASS_COUNT; cls++) {
        const mc_gemm_class_info *info = mc_gemm_class_info_of((mc_gemm_class)cls);
        char tuned[64];
        int found = 0, i;
        mc_err err = {0};
        if (mc_gemm_default_lookup((mc_gemm_class)cls, tuned, sizeof tuned, &found, &err) == MC_OK && found &&
            (i = choice_index(tuned)) >= 0 && runnable[i]) {
            may_choose[i] = true;
            continue;
        }
        /* a kernel that takes bf16 products only does not shadow the ones after it for the rest:
         * the first runnable one of those is chosen too */
        bool bf16_taken = false;
        for (int c = 0; c < MC_GEMM_MAX_CANDIDATES && info->candidates[c]; c++) {
            i = choice_index(info->candidates[c]);
            const bool bf16_only = i >= 0 && choices[i]->supports == mc_gemm_bf16_supports;
            if (i < 0 || !runnable[i] || (bf16_only && bf16_taken))
                continue;
            may_choose[i] = true;
            if (!bf16_only)
                break;
            bf16_taken = true;
        }
    }
}

const mc_dispatch_info mc_gemm_dispatch_info = {
    .accepts = mc_gemm_dispatch_choices,
    .may_choose = dispatch_may_choose,
};

const mc_variant mc_variant_gemm_dispatch = {
    .op = MC_OP_GEMM,
    .backend = "cpu",
    .name = "gemm_dispatch",
    .probe = NULL,
    .supports = dispatch_supports,
    .run = dispatch_run,
    .flags = MC_VARIANT_DISPATCHER | MC_VARIANT_THREADED,
    .code = (const void *)dispatch_run,
    .dispatch = &mc_gemm_dispatch_info,
};

const mc_variant *const *mc_gemm_dispatch_choices(int *count)
{
    *count = N_CHOICES;
    return choices;
}

const mc_gemm_kernel *mc_gemm_kernel_find(const char *name, const char **why_not)
{
    if (why_not)
        *why_not = NULL;
    if (strcmp(name, "gemm_tiled_portable") == 0)
        return mc_gemm_kernel_portable();
    if (strcmp(name, "gemm_tiled_f32_avx2_6x16") == 0)
        return mc_gemm_kernel_avx2_6x16(why_not);
    if (strcmp(name, "gemm_tiled_f32_avx512_12x32") == 0)
        return mc_gemm_kernel_avx512_12x32(why_not);
    if (why_not)
        *why_not = "not a tiled GEMM kernel";
    return NULL;
}
