/* tests/test_reference.c: the four op records and their fp64 references.
 * Focus: hand-computed results (gemm with alpha/beta/bias, gemv, softmax, causal masks, sdpa with
 * one key and with grouped-query heads); every layout gives the contiguous result; the dgemm path
 * agrees with the plain loop; validate() names the bad parameter; tensors, args, flops and bytes.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/op.h"
#include "engine/ops/op_common.h"
#include "reference/ref_gemm.h"

extern const mc_op mc_op_gemm, mc_op_gemv, mc_op_softmax, mc_op_sdpa;

/* ---- fixture: a case, its tensors as host images, its reference ---------------------------- */

typedef struct fixture {
    mc_case c;
    mc_tensor_spec specs[MC_MAX_TENSORS];
    uint8_t *hosts[MC_MAX_TENSORS];
    int n, out;
    int64_t n_out;
    mc_ref_out ref;
} fixture;

static void set_params(mc_case *c, const char *const *params)
{
    mc_err err = {0};
    for (; params && *params; params++) {
        char name[64];
        const char *eq = strchr(*params, '=');
        assert_non_null(eq);
        snprintf(name, sizeof name, "%.*s", (int)(eq - *params), *params);
        if (mc_case_set(c, name, eq + 1, &err) != MC_OK)
            fail_msg("%s", err.msg);
    }
}

/* Builds the case from "name=value" strings (NULL-terminated) and zeroed host images, laid out
 * as the harness places them: the view's data starts align_bytes into the image. */
static void fx_open(fixture *f, const mc_op *op, const char *const *params)
{
    mc_err err = {0};
    memset(f, 0, sizeof *f);
    assert_int_equal(mc_case_init(&f->c, op, &err), MC_OK);
    set_params(&f->c, params);
    if (mc_case_finish(&f->c, &err) != MC_OK)
        fail_msg("%s: %s", f->c.key, err.msg);
    assert_int_equal(op->tensors(&f->c, f->specs, &f->n, &f->out, &err), MC_OK);
    for (int i = 0; i < f->n; i++) {
        f->specs[i].t.offset += f->specs[i].align_bytes;
        f->hosts[i] = calloc((size_t)mc_tensor_span_bytes(&f->specs[i].t), 1);
        assert_non_null(f->hosts[i]);
    }
    f->n_out = mc_tensor_nelems(&f->specs[f->out].t);
    f->ref.expected = calloc((size_t)f->n_out, sizeof(double));
    f->ref.bound = calloc((size_t)f->n_out, sizeof(double));
}

static void fx_close(fixture *f)
{
    for (int i = 0; i < f->n; i++)
        free(f->hosts[i]);
    free(f->ref.expected);
    free(f->ref.bound);
}

static void fx_set(fixture *f, int t, int64_t i0, int64_t i1, int64_t i2, double v)
{
    const int64_t idx[MC_MAX_DIMS] = {i0, i1, i2, 0};
    mc_tensor_set(&f->specs[t].t, f->hosts[t], idx, v);
}

static double fx_get(const fixture *f, int t, int64_t i0, int64_t i1, int64_t i2)
{
    const int64_t idx[MC_MAX_DIMS] = {i0, i1, i2, 0};
    return mc_tensor_get(&f->specs[t].t, f->hosts[t], idx);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static double rng_uniform(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) * 0x1p-53;
}

/* Inputs uniform in [gen_lo, gen_hi], in logical order, so every layout holds the same values. */
static void fx_fill(fixture *f, uint64_t seed)
{
    for (int i = 0; i < f->n; i++) {
        const mc_tensor_spec *s = &f->specs[i];
        if (s->role == MC_ROLE_OUT || s->absent)
            continue;
        uint64_t r = seed * 1000003u + (uint64_t)i + 1;
        int64_t idx[MC_MAX_DIMS] = {0, 0, 0, 0};
        do {
            mc_tensor_set(&s->t, f->hosts[i], idx, s->gen_lo + (s->gen_hi - s->gen_lo) * rng_uniform(&r));
        } while (mc_index_next(idx, s->t.ne));
    }
}

static void fx_reference(fixture *f)
{
    mc_err err = {0};
    const uint8_t *hosts[MC_MAX_TENSORS];
    for (int i = 0; i < MC_MAX_TENSORS; i++)
        hosts[i] = f->hosts[i];
    if (f->c.op->reference(&f->c, f->specs, hosts, &f->ref, &err) != MC_OK)
        fail_msg("%s: %s", f->c.key, err.msg);
}

/* ---- gemm ---------------------------------------------------------------------------------- */

/* A = [[1,2],[3,4]], B = [[1,0,-1],[2,1,0.5]], C0 = [[1,1,1],[0,-2,4]], bias = [0.25,-1,2],
 * alpha = 2, beta = 0.5: AB = [[5,2,0],[11,4,-1]], so C = 2 AB + C0/2 + bias below; the
 * magnitudes are 2 sum|a b| + |C0/2| + |bias|. */
static const double gemm_a[2][2] = {{1, 2}, {3, 4}};
static const double gemm_b[2][3] = {{1, 0, -1}, {2, 1, 0.5}};
static const double gemm_c0[2][3] = {{1, 1, 1}, {0, -2, 4}};
static const double gemm_bias[3] = {0.25, -1, 2};
static const double gemm_want[6] = {10.75, 3.5, 2.5, 22.25, 6, 2};
static const double gemm_mag[6] = {10.75, 5.5, 6.5, 22.25, 10, 14};

static void fill_gemm_hand(fixture *f, int batch)
{
    for (int b = 0; b < batch; b++)
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++) {
                if (j < 2)
                    fx_set(f, 0, j, i, b, gemm_a[i][j]);
                if (i < 2)
                    fx_set(f, 1, j, i, b, gemm_b[i][j]);
                fx_set(f, 2, j, i, b, gemm_c0[i][j]);
            }
    for (int j = 0; j < 3; j++)
        fx_set(f, 3, j, 0, 0, gemm_bias[j]);
}

static void test_gemm_by_hand(void **state)
{
    (void)state;
    static const char *const layouts[][4] = {
        {"layout_a=contiguous", "layout_b=contiguous", "layout_c=contiguous", "dtype=f32"},
        {"layout_a=transposed", "layout_b=stride2", "layout_c=padded", "dtype=f16"},
        {"layout_a=sliced", "layout_b=transposed", "layout_c=transposed", "dtype=bf16"},
    };
    for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
        const char *const params[] = {"m=2", "n=3", "k=2", "alpha=2", "beta=0.5", "bias=1", "align=6",
                                      layouts[l][0], layouts[l][1], layouts[l][2], layouts[l][3], NULL};
        fixture f;
        fx_open(&f, &mc_op_gemm, params);
        assert_int_equal(f.specs[2].role, MC_ROLE_INOUT);
        assert_false(f.specs[3].absent);
        fill_gemm_hand(&f, 1);
        fx_reference(&f);
        for (int e = 0; e < 6; e++) {
            assert_true(f.ref.expected[e] == gemm_want[e]);
            double b = mc_bound_dot(&mc_gemm_bound_consts, 2, gemm_mag[e], gemm_want[e], f.specs[2].t.dtype);
            assert_true(f.ref.bound[e] == b);
        }
        /* the reference's magnitudes themselves */
        const mc_ref_gemm_in in = {.a = &f.specs[0].t, .b = &f.specs[1].t, .c = &f.specs[2].t,
                                   .bias = &f.specs[3].t, .a_host = f.hosts[0], .b_host = f.hosts[1],
                                   .c_host = f.hosts[2], .bias_host = f.hosts[3], .alpha = 2, .beta = 0.5,
                                   .m = 2, .n = 3, .k = 2, .batch = 1};
        double out[6], mag[6];
        mc_err err = {0};
        assert_int_equal(mc_ref_gemm(&in, MC_REF_GEMM_LOOP, out, mag, &err), MC_OK);
        for (int e = 0; e < 6; e++)
            assert_true(mag[e] == gemm_mag[e]);
        fx_close(&f);
    }
}

/* beta = 0: C is an output and is never read, even when it holds NaN; no bias unless asked. */
static void test_gemm_beta_zero_never_reads_c(void **state)
{
    (void)state;
    const char *const params[] = {"m=2", "n=3", "k=2", "alpha=2", NULL};
    fixture f;
    fx_open(&f, &mc_op_gemm, params);
    assert_int_equal(f.specs[2].role, MC_ROLE_OUT);
    assert_true(f.specs[3].absent);
    fill_gemm_hand(&f, 1);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            fx_set(&f, 2, j, i, 0, NAN);
    fx_reference(&f);
    static const double want[6] = {10, 4, 0, 22, 8, -2}; /* 2 AB */
    for (int e = 0; e < 6; e++)
        assert_true(f.ref.expected[e] == want[e]);
    fx_close(&f);
}

/* The same logical matrices in every layout give bitwise the same reference and bounds. */
static void test_gemm_layouts_match_contiguous(void **state)
{
    (void)state;
    static const char *const combos[][3] = {
        {"layout_a=transposed", "layout_b=transposed", "layout_c=transposed"},
        {"layout_a=padded", "layout_b=stride2", "layout_c=padded"},
        {"layout_a=stride2", "layout_b=sliced", "layout_c=stride2"},
        {"layout_a=sliced", "layout_b=padded", "layout_c=sliced"},
    };
    const char *const base[] = {"dtype=f16", "m=3", "n=4", "k=5", "batch=2", "beta=-1.5", "bias=1", NULL};
    fixture ref;
    fx_open(&ref, &mc_op_gemm, base);
    fx_fill(&ref, 7);
    fx_reference(&ref);
    for (size_t k = 0; k < sizeof combos / sizeof combos[0]; k++) {
        const char *const params[] = {"dtype=f16", "m=3", "n=4", "k=5", "batch=2", "beta=-1.5", "bias=1",
                                      combos[k][0], combos[k][1], combos[k][2], "align=2", NULL};
        fixture f;
        fx_open(&f, &mc_op_gemm, params);
        fx_fill(&f, 7);
        fx_reference(&f);
        assert_int_equal(f.n_out, ref.n_out);
        for (int64_t e = 0; e < f.n_out; e++) {
            assert_true(f.ref.expected[e] == ref.ref.expected[e]);
            assert_true(f.ref.bound[e] == ref.ref.bound[e]);
        }
        fx_close(&f);
    }
    fx_close(&ref);
}

/* A broadcast over the batch is one matrix: with B[b] = (b + 1) I, C[b] = (b + 1) A. */
static void test_gemm_broadcast_batch(void **state)
{
    (void)state;
    const char *const params[] = {"m=2", "n=2", "k=2", "batch=3", "layout_a=broadcast", NULL};
    fixture f;
    fx_open(&f, &mc_op_gemm, params);
    assert_int_equal(f.specs[0].t.nb[2], 0);
    for (int i = 0; i < 2; i++)
        for (int p = 0; p < 2; p++)
            fx_set(&f, 0, p, i, 0, gemm_a[i][p]); /* batch 0 only: the others alias it */
    for (int b = 0; b < 3; b++)
        for (int p = 0; p < 2; p++)
            for (int j = 0; j < 2; j++)
                fx_set(&f, 1, j, p, b, p == j ? b + 1 : 0);
    fx_reference(&f);
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                assert_true(f.ref.expected[j + 2 * (i + 2 * b)] == (b + 1) * gemm_a[i][j]);
    fx_close(&f);
}

typedef struct blas_row {
    const char *m, *n, *k, *batch, *la, *lb;
} blas_row;

/* The dgemm path (values and sum |a||b|) agrees with the plain loop to fp64 rounding, on sizes
 * both can run; AUTO takes the loop up to the threshold and dgemm beyond it. */
static void test_gemm_dgemm_matches_loop(void **state)
{
    (void)state;
    static const blas_row rows[] = {
        {"m=17", "n=23", "k=31", "batch=2", "layout_a=transposed", "layout_b=stride2"},
        {"m=64", "n=64", "k=64", "batch=1", "layout_a=contiguous", "layout_b=contiguous"}, /* = 2^18 */
        {"m=5", "n=7", "k=11", "batch=3", "layout_a=sliced", "layout_b=broadcast"},
        {"m=1", "n=1", "k=1", "batch=1", "layout_a=padded", "layout_b=transposed"},
        {"m=70", "n=70", "k=60", "batch=1", "layout_a=padded", "layout_b=sliced"},         /* > 2^18 */
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        const char *const params[] = {rows[r].m, rows[r].n, rows[r].k, rows[r].batch, rows[r].la, rows[r].lb,
                                      "alpha=1.5", "beta=0.5", "bias=1", "mag=3", NULL};
        fixture f;
        fx_open(&f, &mc_op_gemm, params);
        fx_fill(&f, 100 + r);
        const mc_ref_gemm_in in = {
            .a = &f.specs[0].t, .b = &f.specs[1].t, .c = &f.specs[2].t, .bias = &f.specs[3].t,
            .a_host = f.hosts[0], .b_host = f.hosts[1], .c_host = f.hosts[2], .bias_host = f.hosts[3],
            .alpha = 1.5, .beta = 0.5, .m = f.specs[2].t.ne[1], .n = f.specs[2].t.ne[0],
            .k = f.specs[0].t.ne[0], .batch = f.specs[2].t.ne[2]};
        const size_t bytes = (size_t)f.n_out * sizeof(double);
        double *v_loop = malloc(bytes), *g_loop = malloc(bytes), *v_blas = malloc(bytes), *g_blas = malloc(bytes);
        double *v_auto = malloc(bytes), *g_auto = malloc(bytes);
        mc_err err = {0};
        assert_int_equal(mc_ref_gemm(&in, MC_REF_GEMM_LOOP, v_loop, g_loop, &err), MC_OK);
        assert_int_equal(mc_ref_gemm(&in, MC_REF_GEMM_BLAS, v_blas, g_blas, &err), MC_OK);
        assert_int_equal(mc_ref_gemm(&in, MC_REF_GEMM_AUTO, v_auto, g_auto, &err), MC_OK);
        const bool big = in.m * in.n * in.k > MC_REF_GEMM_BLAS_MIN_MNK;
        for (int64_t e = 0; e < f.n_out; e++) {
            /* both are fp64 sums of the same k + 2 terms: each within gamma_{k+3}(2^-53) mag of exact */
            const double tol = 2 * mc_gamma((double)in.k + 3, 0x1p-53) * g_loop[e];
            assert_true(fabs(v_loop[e] - v_blas[e]) <= tol);
            assert_true(fabs(g_loop[e] - g_blas[e]) <= tol);
            assert_true(g_loop[e] > 0);
            assert_true(v_auto[e] == (big ? v_blas[e] : v_loop[e]));
            assert_true(g_auto[e] == (big ? g_blas[e] : g_loop[e]));
        }
        free(v_loop);
        free(g_loop);
        free(v_blas);
        free(g_blas);
        free(v_auto);
        free(g_auto);
        fx_close(&f);
    }
}

/* ---- gemv ---------------------------------------------------------------------------------- */

/* A = [[1,2,3],[-1,0.5,2]], x = [1,-1,2]: y = [5, 2.5], sum |a x| = [9, 5.5]. */
static void test_gemv_by_hand(void **state)
{
    (void)state;
    static const double a[2][3] = {{1, 2, 3}, {-1, 0.5, 2}};
    static const double x[3] = {1, -1, 2}, want[2] = {5, 2.5}, mag[2] = {9, 5.5};
    static const char *const variants[][3] = {
        {"dtype=f32", "layout_a=contiguous", "layout_x=contiguous"},
        {"dtype=f16", "layout_a=transposed", "layout_x=stride2"},
        {"dtype=bf16", "layout_a=sliced", "layout_x=stride2"},
    };
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        const char *const params[] = {"m=2", "k=3", variants[v][0], variants[v][1], variants[v][2], NULL};
        fixture f;
        fx_open(&f, &mc_op_gemv, params);
        for (int i = 0; i < 2; i++)
            for (int p = 0; p < 3; p++)
                fx_set(&f, 0, p, i, 0, a[i][p]);
        for (int p = 0; p < 3; p++)
            fx_set(&f, 1, p, 0, 0, x[p]);
        fx_reference(&f);
        for (int i = 0; i < 2; i++) {
            assert_true(f.ref.expected[i] == want[i]);
            assert_true(f.ref.bound[i] ==
                        mc_bound_dot(&mc_gemv_bound_consts, 3, mag[i], want[i], f.specs[2].t.dtype));
        }
        fx_close(&f);
    }
}

/* ---- softmax ------------------------------------------------------------------------------- */

/* softmax(0, ln 2, -inf) = (1/3, 2/3, 0); ln 2 is stored as the nearest float, which moves the
 * result by about 2e-9. The masked entry is exactly 0 with bound 0. */
static void test_softmax_zero_ln2_neginf(void **state)
{
    (void)state;
    const char *const params[] = {"cols=3", "neg_inf=0.5", NULL};
    fixture f;
    fx_open(&f, &mc_op_softmax, params);
    assert_true(f.specs[0].neg_inf_share == 0.5);
    fx_set(&f, 0, 0, 0, 0, 0.0);
    fx_set(&f, 0, 1, 0, 0, log(2.0));
    fx_set(&f, 0, 2, 0, 0, -INFINITY);
    fx_reference(&f);
    assert_true(fabs(f.ref.expected[0] - 1.0 / 3) < 1e-8);
    assert_true(fabs(f.ref.expected[1] - 2.0 / 3) < 1e-8);
    assert_true(f.ref.expected[2] == 0.0);
    assert_true(f.ref.bound[2] == 0.0);
    assert_true(fabs(f.ref.expected[0] + f.ref.expected[1] - 1) < 1e-15);
    for (int e = 0; e < 2; e++)
        assert_true(f.ref.bound[e] > 0 && f.ref.bound[e] < 1e-5);
    fx_close(&f);
}

typedef struct causal_row {
    const char *q_offset;
    double want[3][4]; /* rows x cols, x all zero: uniform over the visible columns */
} causal_row;

static void test_softmax_causal_mask(void **state)
{
    (void)state;
    static const causal_row rows[] = {
        {"q_offset=0", {{1, 0, 0, 0}, {0.5, 0.5, 0, 0}, {1.0 / 3, 1.0 / 3, 1.0 / 3, 0}}},
        {"q_offset=1", {{0.5, 0.5, 0, 0}, {1.0 / 3, 1.0 / 3, 1.0 / 3, 0}, {0.25, 0.25, 0.25, 0.25}}},
        {"q_offset=5", {{0.25, 0.25, 0.25, 0.25}, {0.25, 0.25, 0.25, 0.25}, {0.25, 0.25, 0.25, 0.25}}},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        const char *const params[] = {"rows=3", "cols=4", "batch=2", "causal=1", "layout=transposed",
                                      rows[r].q_offset, NULL};
        fixture f;
        fx_open(&f, &mc_op_softmax, params);
        fx_reference(&f);
        for (int b = 0; b < 2; b++) /* the row index restarts in every batch */
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 4; j++) {
                    int64_t e = j + 4 * (i + 3 * b);
                    assert_true(fabs(f.ref.expected[e] - rows[r].want[i][j]) < 1e-15);
                    assert_true((rows[r].want[i][j] == 0) == (f.ref.bound[e] == 0));
                }
        fx_close(&f);
    }
}

/* ---- sdpa ---------------------------------------------------------------------------------- */

/* With one key, the softmax is exactly 1 and o is v, whatever q and k hold. */
static void test_sdpa_one_key_returns_v(void **state)
{
    (void)state;
    static const char *const layouts[] = {"layout=contiguous", "layout=permuted", "layout=padded"};
    for (size_t l = 0; l < 3; l++) {
        const char *const params[] = {"n_q=3", "n_kv=1", "heads=2", "kv_heads=1", "head_dim=4", "dtype=f16",
                                      layouts[l], NULL};
        fixture f;
        fx_open(&f, &mc_op_sdpa, params);
        fx_fill(&f, 11);
        fx_reference(&f);
        for (int h = 0; h < 2; h++)
            for (int i = 0; i < 3; i++)
                for (int c = 0; c < 4; c++)
                    assert_true(f.ref.expected[c + 4 * (i + 3 * h)] == fx_get(&f, 2, c, 0, 0));
        fx_close(&f);
    }
}

/* Causal with q_offset 0: query 0 sees key 0 only, so its output is v_0 exactly; query 1 sees two. */
static void test_sdpa_causal_first_query(void **state)
{
    (void)state;
    const char *const params[] = {"n_q=2", "n_kv=3", "head_dim=4", "causal=1", NULL};
    fixture f;
    fx_open(&f, &mc_op_sdpa, params);
    fx_fill(&f, 12);
    fx_reference(&f);
    for (int c = 0; c < 4; c++)
        assert_true(f.ref.expected[c] == fx_get(&f, 2, c, 0, 0));
    /* query 1 mixes v_0 and v_1 only: with q = 0 it is their mean */
    for (int c = 0; c < 4; c++)
        fx_set(&f, 0, c, 1, 0, 0.0);
    fx_reference(&f);
    for (int c = 0; c < 4; c++)
        assert_true(fabs(f.ref.expected[4 + c] - 0.5 * (fx_get(&f, 2, c, 0, 0) + fx_get(&f, 2, c, 1, 0))) < 1e-15);
    fx_close(&f);
}

/* Four query heads over two kv heads: heads 0, 1 read kv head 0 and heads 2, 3 read kv head 1.
 * q = (ln 2, 0, 0, 0), key 0 = e_0, key 1 = 0, scale 1: p = (2/3, 1/3), so
 * o(c, h) = 2/3 v(c,0,g) + 1/3 v(c,1,g) with v(c,j,g) = 100 g + 10 j + c: 100 g + 10/3 + c. */
static void test_sdpa_gqa_picks_the_right_kv_head(void **state)
{
    (void)state;
    const char *const params[] = {"n_q=2", "n_kv=2", "heads=4", "kv_heads=2", "head_dim=4", "scale=1", NULL};
    fixture f;
    fx_open(&f, &mc_op_sdpa, params);
    for (int h = 0; h < 4; h++)
        for (int i = 0; i < 2; i++)
            fx_set(&f, 0, 0, i, h, log(2.0));
    for (int g = 0; g < 2; g++) {
        fx_set(&f, 1, 0, 0, g, 1.0);
        for (int j = 0; j < 2; j++)
            for (int c = 0; c < 4; c++)
                fx_set(&f, 2, c, j, g, 100 * g + 10 * j + c);
    }
    fx_reference(&f);
    for (int h = 0; h < 4; h++)
        for (int i = 0; i < 2; i++)
            for (int c = 0; c < 4; c++) {
                double want = 100 * (h / 2) + 10.0 / 3 + c;
                assert_true(fabs(f.ref.expected[c + 4 * (i + 2 * h)] - want) < 1e-6);
            }
    fx_close(&f);
}

/* ---- op records ---------------------------------------------------------------------------- */

typedef struct reject_row {
    const mc_op *op;
    const char *params[3];
    const char *names; /* the message must contain this */
} reject_row;

static void test_validate_names_the_parameter(void **state)
{
    (void)state;
    static const reject_row rows[] = {
        {&mc_op_gemm, {"layout_c=broadcast"}, "'layout_c'"},
        {&mc_op_gemm, {"dtype=q8_0"}, "'dtype'"},
        {&mc_op_gemm, {"m=0"}, "'m'"},
        {&mc_op_gemm, {"k=-3"}, "'k'"},
        {&mc_op_gemm, {"align=4096"}, "'align'"},
        {&mc_op_gemm, {"bias=2"}, "'bias'"},
        {&mc_op_gemm, {"alpha=1e300"}, "'alpha'"},
        {&mc_op_gemm, {"layout_a=permuted"}, "'layout_a'"},
        {&mc_op_gemm, {"dtype=f16", "mag=70000"}, "'mag'"},
        {&mc_op_gemv, {"wtype=q7_0"}, "'wtype'"},
        {&mc_op_gemv, {"layout_x=transposed"}, "'layout_x'"},
        {&mc_op_gemv, {"layout_a=broadcast"}, "'layout_a'"},
        {&mc_op_softmax, {"q_offset=-1"}, "'q_offset'"},
        {&mc_op_softmax, {"neg_inf=0.5", "scale=-1"}, "'scale'"},
        {&mc_op_softmax, {"neg_inf=1.5"}, "'neg_inf'"},
        {&mc_op_softmax, {"mag=0"}, "'mag'"},
        {&mc_op_softmax, {"layout=permuted"}, "'layout'"},
        {&mc_op_softmax, {"scale=1e5"}, "scale"},
        {&mc_op_sdpa, {"heads=3", "kv_heads=2"}, "'kv_heads'"},
        {&mc_op_sdpa, {"dtype=bf16"}, "'dtype'"},
        {&mc_op_sdpa, {"layout=transposed"}, "'layout'"},
        {&mc_op_sdpa, {"causal=2"}, "'causal'"},
        {&mc_op_sdpa, {"q_offset=-2"}, "'q_offset'"},
        {&mc_op_sdpa, {"mag=100"}, "head_dim"},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        mc_case c;
        mc_err err = {0};
        assert_int_equal(mc_case_init(&c, rows[r].op, &err), MC_OK);
        const char *const *p = rows[r].params;
        set_params(&c, (const char *const[]){p[0], p[1], p[2], NULL});
        assert_int_equal(mc_case_finish(&c, &err), MC_ERR_CONFIG);
        if (!strstr(err.msg, rows[r].names))
            fail_msg("row %zu: '%s' does not name %s", r, err.msg, rows[r].names);
    }
    /* and the defaults of every op are valid */
    const mc_op *ops[] = {&mc_op_gemm, &mc_op_gemv, &mc_op_softmax, &mc_op_sdpa};
    for (int i = 0; i < 4; i++) {
        mc_case c;
        mc_err err = {0};
        assert_int_equal(mc_case_init(&c, ops[i], &err), MC_OK);
        assert_int_equal(mc_case_finish(&c, &err), MC_OK);
        assert_ptr_equal(mc_op_get(ops[i]->id), ops[i]);
        assert_ptr_equal(mc_op_find(ops[i]->name), ops[i]);
        assert_true(ops[i]->mistrust_zero_share == 0.3);
        assert_non_null(mc_op_param(&c, "align"));
        assert_non_null(mc_op_param(&c, "mag"));
        assert_null(mc_op_param(&c, "nope"));
    }
}

static void test_gemm_tensors_args_cost(void **state)
{
    (void)state;
    const char *const params[] = {"m=5", "n=7", "k=11", "batch=2", "align=16", "mag=2", "alpha=0.1",
                                  "layout_b=broadcast", NULL};
    fixture f;
    fx_open(&f, &mc_op_gemm, params);
    assert_int_equal(f.n, 4);
    assert_int_equal(f.out, 2);
    static const char *const names[] = {"a", "b", "c", "bias"};
    static const int64_t ne[4][3] = {{11, 5, 2}, {7, 11, 2}, {7, 5, 2}, {7, 1, 1}};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(f.specs[i].name, names[i]);
        for (int d = 0; d < 3; d++)
            assert_int_equal(f.specs[i].t.ne[d], ne[i][d]);
        assert_int_equal(f.specs[i].align_bytes, 16);
        assert_true(f.specs[i].gen_lo == -2 && f.specs[i].gen_hi == 2);
    }
    assert_int_equal(f.specs[1].t.nb[2], 0);
    mc_tensor placed[MC_MAX_TENSORS];
    for (int i = 0; i < 4; i++)
        placed[i] = f.specs[i].t;
    mc_args args;
    mc_op_gemm.args(&f.c, placed, &args);
    assert_int_equal(args.op, MC_OP_GEMM);
    assert_true(args.u.gemm.alpha == 0.1f && args.u.gemm.beta == 0.0f && !args.u.gemm.has_bias);
    assert_int_equal(args.u.gemm.b.nb[2], 0);
    assert_true(mc_op_gemm.flops(&f.c) == 2.0 * 5 * 7 * 11 * 2);
    /* a for 2 batches, the broadcast b once, c written once: (110 + 77 + 70) floats */
    assert_true(mc_op_gemm.bytes(&f.c) == (110 + 77 + 70) * 4.0);
    fx_close(&f);
}

static void test_other_tensors_args_cost(void **state)
{
    (void)state;
    fixture f;
    const char *const gemv[] = {"m=6", "k=10", "dtype=f16", NULL};
    fx_open(&f, &mc_op_gemv, gemv);
    assert_int_equal(f.out, 2);
    assert_int_equal(f.specs[0].t.ne[0], 10);
    assert_int_equal(f.specs[0].t.ne[1], 6);
    assert_int_equal(f.specs[2].role, MC_ROLE_OUT);
    assert_true(mc_op_gemv.flops(&f.c) == 120);
    assert_true(mc_op_gemv.bytes(&f.c) == (60 + 10 + 6) * 2.0);
    fx_close(&f);

    const char *const softmax[] = {"rows=3", "cols=8", "batch=2", "scale=0.5", "causal=1", "q_offset=4",
                                   "neg_inf=0.25", NULL};
    fx_open(&f, &mc_op_softmax, softmax);
    assert_int_equal(f.out, 1);
    assert_true(f.specs[0].neg_inf_share == 0.25 && f.specs[1].neg_inf_share == 0);
    assert_int_equal(f.specs[1].role, MC_ROLE_OUT);
    mc_tensor placed[MC_MAX_TENSORS] = {f.specs[0].t, f.specs[1].t};
    mc_args args;
    mc_op_softmax.args(&f.c, placed, &args);
    assert_true(args.op == MC_OP_SOFTMAX && args.u.softmax.scale == 0.5f && args.u.softmax.causal);
    assert_int_equal(args.u.softmax.q_offset, 4);
    assert_true(mc_op_softmax.bytes(&f.c) == 2 * 48 * 4.0);
    fx_close(&f);

    /* causal, q_offset 2: queries see 3, 4, 5, 6 keys (n_kv = 6): 18 pairs */
    const char *const sdpa[] = {"n_q=4", "n_kv=6", "heads=4", "kv_heads=2", "head_dim=8", "causal=1",
                                "q_offset=2", "layout=permuted", NULL};
    fx_open(&f, &mc_op_sdpa, sdpa);
    assert_int_equal(f.out, 3);
    assert_int_equal(f.specs[1].t.ne[2], 2);
    assert_int_equal(f.specs[3].t.ne[2], 4);
    for (int i = 0; i < 4; i++)
        placed[i] = f.specs[i].t;
    mc_op_sdpa.args(&f.c, placed, &args);
    assert_true(args.op == MC_OP_SDPA && args.u.sdpa.scale == (float)(1 / sqrt(8.0)));
    assert_true(mc_op_sdpa.flops(&f.c) == 4.0 * 18 * 8 * 4);
    assert_true(mc_op_sdpa.bytes(&f.c) == (2 * 8 * 4 * 4 + 2 * 8 * 6 * 2) * 4.0);
    fx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_by_hand),
        cmocka_unit_test(test_gemm_beta_zero_never_reads_c),
        cmocka_unit_test(test_gemm_layouts_match_contiguous),
        cmocka_unit_test(test_gemm_broadcast_batch),
        cmocka_unit_test(test_gemm_dgemm_matches_loop),
        cmocka_unit_test(test_gemv_by_hand),
        cmocka_unit_test(test_softmax_zero_ln2_neginf),
        cmocka_unit_test(test_softmax_causal_mask),
        cmocka_unit_test(test_sdpa_one_key_returns_v),
        cmocka_unit_test(test_sdpa_causal_first_query),
        cmocka_unit_test(test_sdpa_gqa_picks_the_right_kv_head),
        cmocka_unit_test(test_validate_names_the_parameter),
        cmocka_unit_test(test_gemm_tensors_args_cost),
        cmocka_unit_test(test_other_tensors_args_cost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
