/* kernels/cpu/mutants/mutant_gemm.c: planted-bug copies of the scalar GEMM (gemm_scalar.c), one classic
 * defect each, so the mutant suite can show that the harness catches every one.
 * SPDX-License-Identifier: MIT
 *
 * Every run function here is gemm_scalar's loop nest written out again with exactly one change,
 * marked "DEFECT:". Helpers that no mutant changes (gemm_dot, epilogue) are copied once from
 * gemm_scalar.c and shared. Nothing here may be reused by a real kernel.
 */
#include <stdbool.h>

#include "kernels/cpu/cpu_access.h"

#define TILE 32  /* the top-left tile a partial-output kernel writes */
#define BLOCK 8  /* the block an early-returning kernel wants sizes to be a multiple of */

/* gemm_scalar's dot product: row i of A with column j of B, batch (b2, b3), f32 accumulation. */
static float gemm_dot(const mc_gemm_args *g, int64_t i, int64_t j, int64_t b2, int64_t b3)
{
    const mc_tensor *a = &g->a, *b = &g->b;
    const int64_t a2 = mc_cpu_bcast(a, 2, b2), a3 = mc_cpu_bcast(a, 3, b3);
    const int64_t bb2 = mc_cpu_bcast(b, 2, b2), bb3 = mc_cpu_bcast(b, 3, b3);
    float acc = 0.0f;
    for (int64_t p = 0; p < a->ne[0]; p++)
        acc += mc_cpu_get(a, p, i, a2, a3) * mc_cpu_get(b, j, p, bb2, bb3);
    return acc;
}

/* gemm_scalar's epilogue: alpha * dot + beta * C (only when beta != 0: C may hold a NaN
 * sentinel) + bias. */
static float epilogue(const mc_gemm_args *g, float dot, int64_t i, int64_t j, int64_t b2, int64_t b3)
{
    float v = g->alpha * dot;
    if (g->beta != 0.0f)
        v += g->beta * mc_cpu_get(&g->c, j, i, b2, b3);
    if (g->has_bias)
        v += mc_cpu_get(&g->bias, j, 0, 0, 0);
    return v;
}

static void store(const mc_gemm_args *g, int64_t i, int64_t j, int64_t b2, int64_t b3)
{
    mc_cpu_set(&g->c, j, i, b2, b3, epilogue(g, gemm_dot(g, i, j, b2, b3), i, j, b2, b3));
}

/* ---- partial output ---- */

/* DEFECT: only the top-left 32 x 32 tile of each C is computed (a launch grid sized for one tile). */
static mc_status tile_topleft_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    const mc_tensor *c = &g->c;
    for (int64_t b3 = 0; b3 < c->ne[3]; b3++)
        for (int64_t b2 = 0; b2 < c->ne[2]; b2++)
            for (int64_t i = 0; i < c->ne[1] && i < TILE; i++)
                for (int64_t j = 0; j < c->ne[0] && j < TILE; j++)
                    store(g, i, j, b2, b3);
    return MC_OK;
}

/* DEFECT: the row loop stops one short (i < m - 1), so the last row of C is never written. */
static mc_status last_row_skipped_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    const mc_tensor *c = &g->c;
    for (int64_t b3 = 0; b3 < c->ne[3]; b3++)
        for (int64_t b2 = 0; b2 < c->ne[2]; b2++)
            for (int64_t i = 0; i < c->ne[1] - 1; i++)
                for (int64_t j = 0; j < c->ne[0]; j++)
                    store(g, i, j, b2, b3);
    return MC_OK;
}

/* DEFECT: the column loop steps by 2 (a loop unrolled by two whose second half was lost). */
static mc_status every_other_column_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    const mc_tensor *c = &g->c;
    for (int64_t b3 = 0; b3 < c->ne[3]; b3++)
        for (int64_t b2 = 0; b2 < c->ne[2]; b2++)
            for (int64_t i = 0; i < c->ne[1]; i++)
                for (int64_t j = 0; j < c->ne[0]; j += 2)
                    store(g, i, j, b2, b3);
    return MC_OK;
}

/* DEFECT: returns early, writing nothing, when a size is not a multiple of the block: the
 * "unsupported shape" check says MC_OK instead of declining in supports(). */
static mc_status early_return_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    const mc_tensor *c = &g->c;
    if (c->ne[0] % BLOCK != 0 || c->ne[1] % BLOCK != 0)
        return MC_OK;
    for (int64_t b3 = 0; b3 < c->ne[3]; b3++)
        for (int64_t b2 = 0; b2 < c->ne[2]; b2++)
            for (int64_t i = 0; i < c->ne[1]; i++)
                for (int64_t j = 0; j < c->ne[0]; j++)
                    store(g, i, j, b2, b3);
    return MC_OK;
}

/* ---- indexing ---- */

/* DEFECT: the dot product reads batch 0 of A and B whatever the batch (b2, b3 dropped). */
static float dot_batch_ignored(const mc_gemm_args *g, int64_t i, int64_t j)
{
    const mc_tensor *a = &g->a, *b = &g->b;
    float acc = 0.0f;
    for (int64_t p = 0; p < a->ne[0]; p++)
        acc += mc_cpu_get(a, p, i, 0, 0) * mc_cpu_get(b, j, p, 0, 0);
    return acc;
}

static mc_status batch_ignored_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    const mc_tensor *c = &g->c;
    for (int64_t b3 = 0; b3 < c->ne[3]; b3++)
        for (int64_t b2 = 0; b2 < c->ne[2]; b2++)
            for (int64_t i = 0; i < c->ne[1]; i++)
                for (int64_t j = 0; j < c->ne[0]; j++)
                    mc_cpu_set(c, j, i, b2, b3, epilogue(g, dot_batch_ignored(g, i, j), i, j, b2, b3));
    return MC_OK;
}

/* A as a BLAS-style operand: dense rows (trans = N, ld = row stride) or dense columns (trans = T,
 * ld = column stride); anything else is read through both strides. */
typedef struct blas_view {
    const uint8_t *base;
    int64_t ld;  /* bytes between rows (N) or columns (T) */
    int64_t eb;  /* element bytes */
    bool trans;  /* column-major: element (p, i) at base + p * ld + i * eb */
    bool dense;  /* one of the two BLAS forms applies */
} blas_view;

static blas_view blas_view_of(const mc_tensor *a, int64_t a2, int64_t a3)
{
    const int64_t eb = mc_cpu_elem_bytes(a->dtype);
    blas_view v = {.base = mc_cpu_elem_ptr(a, 0, 0, a2, a3), .eb = eb};
    if (a->nb[0] == eb) {
        v.dense = true;
        v.ld = a->nb[1];
    } else if (a->nb[1] == eb) {
        v.dense = true;
        v.trans = true;
        v.ld = a->nb[0];
    }
    return v;
}

/* DEFECT: the transpose flag is worked out and then ignored: A(i, p) is read as if A were
 * row-major with leading dimension ld, also when it is column-major. */
static float dot_transpose_ignored(const mc_gemm_args *g, int64_t i, int64_t j, int64_t b2, int64_t b3)
{
    const mc_tensor *a = &g->a, *b = &g->b;
    const blas_view av = blas_view_of(a, mc_cpu_bcast(a, 2, b2), mc_cpu_bcast(a, 3, b3));
    const int64_t bb2 = mc_cpu_bcast(b, 2, b2), bb3 = mc_cpu_bcast(b, 3, b3);
    float acc = 0.0f;
    for (int64_t p = 0; p < a->ne[0]; p++) {
        const float x = av.dense ? mc_cpu_load(a->dtype, av.base + i * av.ld + p * av.eb)
                                 : mc_cpu_get(a, p, i, mc_cpu_bcast(a, 2, b2), mc_cpu_bcast(a, 3, b3));
        acc += x * mc_cpu_get(b, j, p, bb2, bb3);
    }
    return acc;
}

static mc_status transpose_ignored_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    const mc_tensor *c = &g->c;
    for (int64_t b3 = 0; b3 < c->ne[3]; b3++)
        for (int64_t b2 = 0; b2 < c->ne[2]; b2++)
            for (int64_t i = 0; i < c->ne[1]; i++)
                for (int64_t j = 0; j < c->ne[0]; j++)
                    mc_cpu_set(c, j, i, b2, b3,
                               epilogue(g, dot_transpose_ignored(g, i, j, b2, b3), i, j, b2, b3));
    return MC_OK;
}

/* DEFECT: A's strides are ignored: each batch of A is read as a packed row-major matrix
 * (element (p, i) at (i * k + p) elements from its start). Padded and stride-2 views then read
 * their NaN gaps, sliced and transposed ones the wrong elements. */
static float dot_stride_ignored(const mc_gemm_args *g, int64_t i, int64_t j, int64_t b2, int64_t b3)
{
    const mc_tensor *a = &g->a, *b = &g->b;
    const int64_t k = a->ne[0], eb = mc_cpu_elem_bytes(a->dtype);
    const uint8_t *row = mc_cpu_elem_ptr(a, 0, 0, mc_cpu_bcast(a, 2, b2), mc_cpu_bcast(a, 3, b3)) + i * k * eb;
    const int64_t bb2 = mc_cpu_bcast(b, 2, b2), bb3 = mc_cpu_bcast(b, 3, b3);
    float acc = 0.0f;
    for (int64_t p = 0; p < k; p++)
        acc += mc_cpu_load(a->dtype, row + p * eb) * mc_cpu_get(b, j, p, bb2, bb3);
    return acc;
}

static mc_status stride_ignored_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    const mc_tensor *c = &g->c;
    for (int64_t b3 = 0; b3 < c->ne[3]; b3++)
        for (int64_t b2 = 0; b2 < c->ne[2]; b2++)
            for (int64_t i = 0; i < c->ne[1]; i++)
                for (int64_t j = 0; j < c->ne[0]; j++)
                    mc_cpu_set(c, j, i, b2, b3, epilogue(g, dot_stride_ignored(g, i, j, b2, b3), i, j, b2, b3));
    return MC_OK;
}

/* ---- out of bounds ---- */

/* DEFECT: the column loop runs to j <= n: one element past each row is written, which in the
 * last row of the last batch is one past the end of C (and in a padded C lands in the pad). */
static mc_status write_past_end_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    const mc_tensor *c = &g->c;
    for (int64_t b3 = 0; b3 < c->ne[3]; b3++)
        for (int64_t b2 = 0; b2 < c->ne[2]; b2++)
            for (int64_t i = 0; i < c->ne[1]; i++)
                for (int64_t j = 0; j <= c->ne[0]; j++)
                    store(g, i, j, b2, b3);
    return MC_OK;
}

/* ---- epilogue ---- */

/* DEFECT: beta * C is dropped: C is overwritten as if beta were 0. */
static float epilogue_beta_dropped(const mc_gemm_args *g, float dot, int64_t j)
{
    float v = g->alpha * dot;
    if (g->has_bias)
        v += mc_cpu_get(&g->bias, j, 0, 0, 0);
    return v;
}

static mc_status beta_dropped_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    const mc_tensor *c = &g->c;
    for (int64_t b3 = 0; b3 < c->ne[3]; b3++)
        for (int64_t b2 = 0; b2 < c->ne[2]; b2++)
            for (int64_t i = 0; i < c->ne[1]; i++)
                for (int64_t j = 0; j < c->ne[0]; j++)
                    mc_cpu_set(c, j, i, b2, b3, epilogue_beta_dropped(g, gemm_dot(g, i, j, b2, b3), j));
    return MC_OK;
}

/* DEFECT: the bias row is never added. */
static float epilogue_bias_dropped(const mc_gemm_args *g, float dot, int64_t i, int64_t j, int64_t b2, int64_t b3)
{
    float v = g->alpha * dot;
    if (g->beta != 0.0f)
        v += g->beta * mc_cpu_get(&g->c, j, i, b2, b3);
    return v;
}

static mc_status bias_dropped_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    const mc_tensor *c = &g->c;
    for (int64_t b3 = 0; b3 < c->ne[3]; b3++)
        for (int64_t b2 = 0; b2 < c->ne[2]; b2++)
            for (int64_t i = 0; i < c->ne[1]; i++)
                for (int64_t j = 0; j < c->ne[0]; j++)
                    mc_cpu_set(c, j, i, b2, b3,
                               epilogue_bias_dropped(g, gemm_dot(g, i, j, b2, b3), i, j, b2, b3));
    return MC_OK;
}

/* gemm_scalar's supports(): plain-float outputs only. */
static const char *gemm_supports(const mc_args *args)
{
    if (!mc_cpu_is_plain_float(args->u.gemm.c.dtype))
        return "quantised output not supported";
    return NULL;
}

const mc_variant mc_variant_mutant_gemm_tile_topleft = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "mutant_gemm_tile_topleft",
    .supports = gemm_supports, .run = tile_topleft_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "unwritten",
    .code = (const void *)tile_topleft_run,
};

const mc_variant mc_variant_mutant_gemm_last_row_skipped = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "mutant_gemm_last_row_skipped",
    .supports = gemm_supports, .run = last_row_skipped_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "unwritten",
    .code = (const void *)last_row_skipped_run,
};

const mc_variant mc_variant_mutant_gemm_every_other_column = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "mutant_gemm_every_other_column",
    .supports = gemm_supports, .run = every_other_column_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "unwritten",
    .code = (const void *)every_other_column_run,
};

const mc_variant mc_variant_mutant_gemm_early_return = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "mutant_gemm_early_return",
    .supports = gemm_supports, .run = early_return_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "unwritten",
    .code = (const void *)early_return_run,
};

const mc_variant mc_variant_mutant_gemm_batch_ignored = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "mutant_gemm_batch_ignored",
    .supports = gemm_supports, .run = batch_ignored_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)batch_ignored_run,
};

const mc_variant mc_variant_mutant_gemm_transpose_ignored = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "mutant_gemm_transpose_ignored",
    .supports = gemm_supports, .run = transpose_ignored_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)transpose_ignored_run,
};

const mc_variant mc_variant_mutant_gemm_stride_ignored = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "mutant_gemm_stride_ignored",
    .supports = gemm_supports, .run = stride_ignored_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)stride_ignored_run,
};

const mc_variant mc_variant_mutant_gemm_write_past_end = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "mutant_gemm_write_past_end",
    .supports = gemm_supports, .run = write_past_end_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "guard",
    .code = (const void *)write_past_end_run,
};

const mc_variant mc_variant_mutant_gemm_beta_dropped = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "mutant_gemm_beta_dropped",
    .supports = gemm_supports, .run = beta_dropped_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)beta_dropped_run,
};

const mc_variant mc_variant_mutant_gemm_bias_dropped = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "mutant_gemm_bias_dropped",
    .supports = gemm_supports, .run = bias_dropped_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)bias_dropped_run,
};
