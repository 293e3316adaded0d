/* tests/test_kernels_cpu.c: the cpu kernel variants, called directly on small hand-built tensors.
 * Focus: hand-computed results through contiguous, transposed, strided, padded, permuted and
 * broadcast views, misaligned bases, f16 storage and quantised A; gaps hold NaN so a kernel that
 * reads outside its elements poisons its own result; beta == 0 never reads C.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/variant.h"
#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/softmax_avx2.h"
#include "kernels/cpu/softmax_avx512.h"

extern const mc_backend mc_backend_cpu;
extern const mc_variant mc_variant_gemm_scalar;
extern const mc_variant mc_variant_gemv_scalar;
extern const mc_variant mc_variant_softmax_scalar;
extern const mc_variant mc_variant_sdpa_scalar;
extern const mc_variant mc_variant_gemv_f32_avx2;
extern const mc_variant mc_variant_gemv_f16_avx2;
extern const mc_variant mc_variant_gemv_bf16_avx2;
extern const mc_variant mc_variant_sdpa_three_stage;
extern const mc_variant mc_variant_sdpa_fused_qk_softmax;
extern const mc_variant mc_variant_sdpa_flash;
extern const mc_variant mc_variant_softmax_avx2;
extern const mc_variant mc_variant_softmax_avx512;
extern const mc_variant mc_variant_softmax_avx2_stream;
extern const mc_variant mc_variant_softmax_online;
extern const mc_variant mc_variant_softmax_blocked;
extern const mc_variant *const mc_cpu_variants[];
extern const mc_variant *const mc_testonly_variants[];

#define MAX_BUFS 16

/* The cpu backend plus every buffer a test placed, freed together at teardown. */
typedef struct fixture {
    mc_backend_ctx *ctx;
    mc_buf *bufs[MAX_BUFS];
    int n_bufs;
} fixture;

static int fixture_setup(void **state)
{
    static fixture f;
    mc_err err = {0};
    memset(&f, 0, sizeof f);
    if (mc_backend_cpu.init(&f.ctx, &err) != MC_OK)
        return -1;
    *state = &f;
    return 0;
}

static int fixture_teardown(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < f->n_bufs; i++)
        mc_backend_cpu.free(f->ctx, f->bufs[i]);
    mc_backend_cpu.shutdown(f->ctx);
    return 0;
}

/* Places a view of logical shape ne in layout l, `misalign` bytes past the buffer's aligned
 * start. Every byte starts as 0xFF (a NaN in f32, f16 and bf16); vals (i0 fastest, may be NULL)
 * fills the elements, so gaps and an unset C stay NaN. */
static mc_tensor place(fixture *f, mc_dtype dt, int64_t ne0, int64_t ne1, int64_t ne2, mc_layout l,
                       int64_t misalign, const double *vals)
{
    mc_tensor t;
    mc_err err = {0};
    const int64_t ne[MC_MAX_DIMS] = {ne0, ne1, ne2, 1};
    assert_int_equal(mc_tensor_init(&t, dt, ne, l, &err), MC_OK);
    t.offset += misalign;
    size_t bytes = (size_t)mc_tensor_span_bytes(&t) + 64; /* 64 spare bytes: room for overflow */
    assert_true(f->n_bufs < MAX_BUFS);
    assert_int_equal(mc_backend_cpu.alloc(f->ctx, bytes, &t.buf, &err), MC_OK);
    f->bufs[f->n_bufs++] = t.buf;
    memset(t.buf->native, 0xFF, bytes);
    int64_t idx[MC_MAX_DIMS] = {0, 0, 0, 0}, n = 0;
    if (vals)
        do
            mc_tensor_set(&t, t.buf->native, idx, vals[n++]);
        while (mc_index_next(idx, t.ne));
    return t;
}

/* Checks every element of t against want (i0 fastest) within tol. */
static void expect_tensor(const mc_tensor *t, const double *want, double tol)
{
    int64_t idx[MC_MAX_DIMS] = {0, 0, 0, 0}, n = 0;
    do {
        double got = mc_tensor_get(t, t->buf->native, idx);
        if (!(fabs(got - want[n]) <= tol))
            print_error("element %lld (%lld,%lld,%lld): got %.9g, want %.9g\n", (long long)n,
                        (long long)idx[0], (long long)idx[1], (long long)idx[2], got, want[n]);
        assert_true(fabs(got - want[n]) <= tol);
        n++;
    } while (mc_index_next(idx, t->ne));
}

static void run_variant(fixture *f, const mc_variant *v, const mc_args *args)
{
    mc_kernel_ctx kc = {.backend = f->ctx, .threads = 2};
    mc_err err = {0};
    snprintf(kc.ran, sizeof kc.ran, "%s", v->name);
    assert_null(v->supports ? v->supports(args) : NULL);
    assert_int_equal(v->run(&kc, args, &err), MC_OK);
    assert_string_equal(kc.ran, v->name);
}

/* ---- GEMM ---- */

/* A = [[1,2,3],[4,5,6]] (m=2, k=3), B = [[7,8],[9,10],[11,12]] (k=3, n=2): A B = [[58,64],[139,154]]. */
static const double gemm_a[] = {1, 2, 3, 4, 5, 6};
static const double gemm_b[] = {7, 8, 9, 10, 11, 12};

typedef struct gemm_row {
    const char *what;
    mc_dtype dt;
    mc_layout la, lb, lc;
    int64_t misalign;
    float alpha, beta;
    bool has_bias;
    double want[4];
} gemm_row;

static void test_gemm_scalar_table(void **state)
{
    fixture *f = *state;
    static const double c0[] = {2, 4, 6, 8};
    static const double bias[] = {1, -1};
    static const gemm_row rows[] = {
        {"plain, alpha 2, bias, C unread", MC_DTYPE_F32, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS,
         MC_LAYOUT_CONTIGUOUS, 0, 2.0f, 0.0f, true, {117, 127, 279, 307}},
        {"transposed A, beta 0.5", MC_DTYPE_F32, MC_LAYOUT_TRANSPOSED, MC_LAYOUT_CONTIGUOUS,
         MC_LAYOUT_CONTIGUOUS, 0, 1.0f, 0.5f, false, {59, 66, 142, 158}},
        {"stride2 B, padded C, misaligned", MC_DTYPE_F32, MC_LAYOUT_PADDED, MC_LAYOUT_STRIDE2,
         MC_LAYOUT_PADDED, 2, 1.0f, 0.0f, false, {58, 64, 139, 154}},
        {"f16 storage, transposed B, sliced C", MC_DTYPE_F16, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_TRANSPOSED,
         MC_LAYOUT_SLICED, 2, 2.0f, 0.0f, true, {117, 127, 279, 307}},
        {"bf16 storage", MC_DTYPE_BF16, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS,
         0, 1.0f, 0.0f, false, {58, 64, 139, 154}},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        const gemm_row *w = &rows[r];
        mc_args args = {.op = MC_OP_GEMM};
        mc_gemm_args *g = &args.u.gemm;
        g->a = place(f, w->dt, 3, 2, 1, w->la, w->misalign, gemm_a);
        g->b = place(f, w->dt, 2, 3, 1, w->lb, w->misalign, gemm_b);
        g->c = place(f, w->dt, 2, 2, 1, w->lc, w->misalign, w->beta != 0.0f ? c0 : NULL);
        g->bias = place(f, w->dt, 2, 1, 1, MC_LAYOUT_CONTIGUOUS, 0, bias);
        g->alpha = w->alpha;
        g->beta = w->beta;
        g->has_bias = w->has_bias;
        print_message("gemm: %s\n", w->what);
        run_variant(f, &mc_variant_gemm_scalar, &args);
        expect_tensor(&g->c, w->want, 0.0); /* small integers: exact in every storage */
        for (int i = 0; i < 4; i++)
            mc_backend_cpu.free(f->ctx, f->bufs[--f->n_bufs]);
    }
}

/* A broadcast over the batch (stride 0), B per batch (the second is 2 B). */
static void test_gemm_scalar_broadcast_batch(void **state)
{
    fixture *f = *state;
    double b2[12];
    for (int i = 0; i < 6; i++) {
        b2[i] = gemm_b[i];
        b2[6 + i] = 2 * gemm_b[i];
    }
    static const double a2[] = {1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6};
    mc_args args = {.op = MC_OP_GEMM};
    mc_gemm_args *g = &args.u.gemm;
    g->a = place(f, MC_DTYPE_F32, 3, 2, 2, MC_LAYOUT_BROADCAST, 0, a2);
    g->b = place(f, MC_DTYPE_F32, 2, 3, 2, MC_LAYOUT_CONTIGUOUS, 0, b2);
    g->c = place(f, MC_DTYPE_F32, 2, 2, 2, MC_LAYOUT_CONTIGUOUS, 0, NULL);
    g->alpha = 1.0f;
    assert_int_equal(g->a.nb[2], 0);
    run_variant(f, &mc_variant_gemm_scalar, &args);
    static const double want[] = {58, 64, 139, 154, 116, 128, 278, 308};
    expect_tensor(&g->c, want, 0.0);
}

/* ---- GEMV ---- */

/* A = [[1,2,3,4],[0,1,0,-1],[2,2,2,2]], x = [1,1,2,0.5]: y = [11, 0.5, 9]. */
static void test_gemv_scalar_strided(void **state)
{
    fixture *f = *state;
    static const double a[] = {1, 2, 3, 4, 0, 1, 0, -1, 2, 2, 2, 2};
    static const double x[] = {1, 1, 2, 0.5};
    static const double want[] = {11, 0.5, 9};
    static const struct {
        mc_dtype dt;
        mc_layout la, lx;
        int64_t misalign;
    } rows[] = {
        {MC_DTYPE_F32, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, 0},
        {MC_DTYPE_F32, MC_LAYOUT_PADDED, MC_LAYOUT_STRIDE2, 2},
        {MC_DTYPE_F32, MC_LAYOUT_TRANSPOSED, MC_LAYOUT_CONTIGUOUS, 4},
        {MC_DTYPE_F16, MC_LAYOUT_TRANSPOSED, MC_LAYOUT_STRIDE2, 2},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        mc_args args = {.op = MC_OP_GEMV};
        mc_gemv_args *g = &args.u.gemv;
        g->a = place(f, rows[r].dt, 4, 3, 1, rows[r].la, rows[r].misalign, a);
        g->x = place(f, rows[r].dt, 4, 1, 1, rows[r].lx, rows[r].misalign, x);
        g->y = place(f, rows[r].dt, 3, 1, 1, MC_LAYOUT_STRIDE2, rows[r].misalign, NULL);
        run_variant(f, &mc_variant_gemv_scalar, &args);
        expect_tensor(&g->y, want, 0.0);
        for (int i = 0; i < 3; i++)
            mc_backend_cpu.free(f->ctx, f->bufs[--f->n_bufs]);
    }
}

/* Quantised A, blocks written byte by byte, x = all ones, so y[i] = sum of row i.
 * q8_0: row 0 has d = 0.5 (f16 0x3800), qs[j] = j - 16: sum = 0.5 * (496 - 512) = -8;
 *       row 1 has d = 0.5, qs[j] = 2: sum = 32.
 * q4_0: d = 1 (0x3C00), every byte 0x98: elements 0..15 = 8 - 8 = 0, 16..31 = 9 - 8 = 1: sum 16;
 *       row 1 has d = -2 (0xC000), every byte 0x0F: elements 0..15 = 7 * -2, 16..31 = -8 * -2: sum 32. */
static void test_gemv_scalar_quantised(void **state)
{
    fixture *f = *state;
    double ones[32];
    for (int i = 0; i < 32; i++)
        ones[i] = 1.0;
    uint8_t q8[2][34], q4[2][18];
    q8[0][0] = 0x00, q8[0][1] = 0x38, q8[1][0] = 0x00, q8[1][1] = 0x38;
    for (int j = 0; j < 32; j++) {
        q8[0][2 + j] = (uint8_t)(int8_t)(j - 16);
        q8[1][2 + j] = 2;
    }
    q4[0][0] = 0x00, q4[0][1] = 0x3C, q4[1][0] = 0x00, q4[1][1] = 0xC0;
    memset(&q4[0][2], 0x98, 16);
    memset(&q4[1][2], 0x0F, 16);
    static const double want_q8[] = {-8, 32}, want_q4[] = {16, 32};
    const struct {
        mc_dtype dt;
        const uint8_t *blocks;
        size_t block_bytes;
        const double *want;
    } rows[] = {
        {MC_DTYPE_Q8_0, &q8[0][0], 34, want_q8},
        {MC_DTYPE_Q4_0, &q4[0][0], 18, want_q4},
    };
    for (size_t r = 0; r < 2; r++) {
        mc_args args = {.op = MC_OP_GEMV};
        mc_gemv_args *g = &args.u.gemv;
        g->a = place(f, rows[r].dt, 32, 2, 1, MC_LAYOUT_PADDED, 0, NULL);
        for (int i = 0; i < 2; i++)
            memcpy((uint8_t *)g->a.buf->native + g->a.offset + i * g->a.nb[1], rows[r].blocks + i * rows[r].block_bytes,
                   rows[r].block_bytes);
        g->x = place(f, MC_DTYPE_F32, 32, 1, 1, MC_LAYOUT_CONTIGUOUS, 4, ones);
        g->y = place(f, MC_DTYPE_F32, 2, 1, 1, MC_LAYOUT_CONTIGUOUS, 0, NULL);
        run_variant(f, &mc_variant_gemv_scalar, &args);
        expect_tensor(&g->y, rows[r].want, 0.0);
        for (int i = 0; i < 3; i++)
            mc_backend_cpu.free(f->ctx, f->bufs[--f->n_bufs]);
    }
}

/* ---- softmax ---- */

/* Every row is x = [0, ln 2, ln 3] (exp: 1, 2, 3). Causal with q_offset 0: row i sees columns <= i. */
static void test_softmax_scalar_table(void **state)
{
    fixture *f = *state;
    const double l2 = log(2.0), l3 = log(3.0);
    const double x[] = {0, l2, l3, 0, l2, l3, 0, l2, l3};
    const double x_ninf[] = {0, -INFINITY, l3, 0, l2, -INFINITY, 0, l2, l3};
    const double halfx[] = {0, l2 / 2, l3 / 2, 0, l2 / 2, l3 / 2, 0, l2 / 2, l3 / 2};
    const struct {
        const char *what;
        const double *x;
        mc_dtype dt;
        mc_layout lx, ly;
        int64_t misalign;
        float scale;
        bool causal;
        int64_t q_offset;
        double tol;
        double want[9];
    } rows[] = {
        {"plain", x, MC_DTYPE_F32, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, 0, 1.0f, false, 0, 1e-6,
         {1. / 6, 1. / 3, 1. / 2, 1. / 6, 1. / 3, 1. / 2, 1. / 6, 1. / 3, 1. / 2}},
        {"causal", x, MC_DTYPE_F32, MC_LAYOUT_TRANSPOSED, MC_LAYOUT_PADDED, 2, 1.0f, true, 0, 1e-6,
         {1, 0, 0, 1. / 3, 2. / 3, 0, 1. / 6, 1. / 3, 1. / 2}},
        {"causal, q_offset 1, scale 2", halfx, MC_DTYPE_F32, MC_LAYOUT_STRIDE2, MC_LAYOUT_SLICED, 0, 2.0f, true,
         1, 1e-6, {1. / 3, 2. / 3, 0, 1. / 6, 1. / 3, 1. / 2, 1. / 6, 1. / 3, 1. / 2}},
        {"-inf inputs", x_ninf, MC_DTYPE_F32, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, 4, 1.0f, false, 0, 1e-6,
         {1. / 4, 0, 3. / 4, 1. / 3, 2. / 3, 0, 1. / 6, 1. / 3, 1. / 2}},
        /* f16 storage: inputs round to 11 bits, so the outputs may move by a few 2^-11 */
        {"f16, causal", x, MC_DTYPE_F16, MC_LAYOUT_TRANSPOSED, MC_LAYOUT_CONTIGUOUS, 2, 1.0f, true, 0, 2e-3,
         {1, 0, 0, 1. / 3, 2. / 3, 0, 1. / 6, 1. / 3, 1. / 2}},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        mc_args args = {.op = MC_OP_SOFTMAX};
        mc_softmax_args *s = &args.u.softmax;
        s->x = place(f, rows[r].dt, 3, 3, 1, rows[r].lx, rows[r].misalign, rows[r].x);
        s->y = place(f, rows[r].dt, 3, 3, 1, rows[r].ly, rows[r].misalign, NULL);
        s->scale = rows[r].scale;
        s->causal = rows[r].causal;
        s->q_offset = rows[r].q_offset;
        print_message("softmax: %s\n", rows[r].what);
        run_variant(f, &mc_variant_softmax_scalar, &args);
        expect_tensor(&s->y, rows[r].want, rows[r].tol);
        for (int i = 0; i < 2; i++)
            mc_backend_cpu.free(f->ctx, f->bufs[--f->n_bufs]);
    }
}

/* ---- SDPA ---- */

/* d = 2, n_q = 2, n_kv = 2, heads = 2, kv_heads = 1 (both query heads read kv head 0), scale 1.
 * K = [[ln 2, 0], [0, ln 3]] (key j is row j), V = [[1, 2], [3, 4]].
 * Head 0 queries are [1, 0]: scores [ln 2, 0], p = [2/3, 1/3], o = [5/3, 8/3].
 * Head 1 queries are [0, 1]: scores [0, ln 3], p = [1/4, 3/4], o = [5/2, 7/2].
 * Causal, q_offset 0: query 0 sees key 0 only, so its output is V row 0 = [1, 2]. */
static void test_sdpa_scalar_table(void **state)
{
    fixture *f = *state;
    const double l2 = log(2.0), l3 = log(3.0);
    const double q[] = {1, 0, 1, 0, 0, 1, 0, 1}; /* (d, n_q, heads), d fastest */
    const double k[] = {l2, 0, 0, l3};
    const double v[] = {1, 2, 3, 4};
    const struct {
        const char *what;
        mc_dtype dt;
        mc_layout lq, lk, lo;
        int64_t misalign;
        bool causal;
        double tol;
        double want[8];
    } rows[] = {
        {"gqa", MC_DTYPE_F32, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, 0, false, 1e-6,
         {5. / 3, 8. / 3, 5. / 3, 8. / 3, 2.5, 3.5, 2.5, 3.5}},
        {"gqa, causal, permuted q and o", MC_DTYPE_F32, MC_LAYOUT_PERMUTED, MC_LAYOUT_TRANSPOSED,
         MC_LAYOUT_PERMUTED, 4, true, 1e-6, {1, 2, 5. / 3, 8. / 3, 1, 2, 2.5, 3.5}},
        /* f16 storage: ln 2, ln 3 and 5/3, 8/3 round to 11 bits */
        {"f16, causal, strided", MC_DTYPE_F16, MC_LAYOUT_STRIDE2, MC_LAYOUT_PADDED, MC_LAYOUT_PERMUTED, 2, true,
         4e-3, {1, 2, 5. / 3, 8. / 3, 1, 2, 2.5, 3.5}},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        mc_args args = {.op = MC_OP_SDPA};
        mc_sdpa_args *s = &args.u.sdpa;
        s->q = place(f, rows[r].dt, 2, 2, 2, rows[r].lq, rows[r].misalign, q);
        s->k = place(f, rows[r].dt, 2, 2, 1, rows[r].lk, rows[r].misalign, k);
        s->v = place(f, rows[r].dt, 2, 2, 1, rows[r].lk, rows[r].misalign, v);
        s->o = place(f, rows[r].dt, 2, 2, 2, rows[r].lo, rows[r].misalign, NULL);
        s->scale = 1.0f;
        s->causal = rows[r].causal;
        print_message("sdpa: %s\n", rows[r].what);
        run_variant(f, &mc_variant_sdpa_scalar, &args);
        expect_tensor(&s->o, rows[r].want, rows[r].tol);
        for (int i = 0; i < 4; i++)
            mc_backend_cpu.free(f->ctx, f->bufs[--f->n_bufs]);
    }
}

/* ---- optimised variants against the scalar ones ---- */

/* Deterministic values in [lo, hi] (a 64-bit LCG), with every `inf_every`-th entry -inf when > 0
 * (never entry 0 of a row of `row` entries). */
static void fill_values(double *v, int64_t n, double lo, double hi, uint64_t seed, int64_t row, int inf_every)
{
    uint64_t x = seed * 6364136223846793005ull + 1442695040888963407ull;
    for (int64_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        v[i] = lo + (hi - lo) * (double)(x >> 11) * 0x1p-53;
        if (inf_every > 0 && i % row != 0 && (x >> 7) % (uint64_t)inf_every == 0)
            v[i] = -INFINITY;
    }
}

/* Checks got against want element by element: |got - want| <= atol + rtol |want|. */
static void expect_close(const mc_tensor *got, const mc_tensor *want, double atol, double rtol, const char *what)
{
    int64_t idx[MC_MAX_DIMS] = {0, 0, 0, 0};
    double worst = 0.0;
    do {
        double g = mc_tensor_get(got, got->buf->native, idx), w = mc_tensor_get(want, want->buf->native, idx);
        double excess = fabs(g - w) - (atol + rtol * fabs(w));
        if (!(excess <= 0.0)) {
            print_error("%s: element (%lld,%lld,%lld): got %.9g, want %.9g\n", what, (long long)idx[0],
                        (long long)idx[1], (long long)idx[2], g, w);
            fail();
        }
        worst = excess > worst ? excess : worst;
    } while (mc_index_next(idx, got->ne));
}

/* The same with one absolute tolerance per element, in logical order (i0 fastest). */
static void expect_close_each(const mc_tensor *got, const mc_tensor *want, const double *atol, const char *what)
{
    int64_t idx[MC_MAX_DIMS] = {0, 0, 0, 0}, n = 0;
    do {
        double g = mc_tensor_get(got, got->buf->native, idx), w = mc_tensor_get(want, want->buf->native, idx);
        if (!(fabs(g - w) <= atol[n])) {
            print_error("%s: element %lld: got %.9g, want %.9g (tolerance %.3g)\n", what, (long long)n, g, w,
                        atol[n]);
            fail();
        }
        n++;
    } while (mc_index_next(idx, got->ne));
}

/* The bytes of every element of a and b (same view, different buffers) are identical: a
 * deterministic variant gives the same bits for any thread count. */
static void expect_same_bits(const mc_tensor *a, const mc_tensor *b, const char *what)
{
    int64_t idx[MC_MAX_DIMS] = {0, 0, 0, 0};
    const size_t eb = (size_t)mc_tensor_unit_bytes(a);
    do {
        const int64_t off = mc_tensor_elem_offset(a, idx);
        if (memcmp((const uint8_t *)a->buf->native + off, (const uint8_t *)b->buf->native + off, eb) != 0) {
            print_error("%s: element (%lld,%lld,%lld) differs between thread counts\n", what, (long long)idx[0],
                        (long long)idx[1], (long long)idx[2]);
            fail();
        }
    } while (mc_index_next(idx, a->ne));
}

static void release(fixture *f, int n)
{
    assert_true(n <= f->n_bufs);
    for (int i = 0; i < n; i++)
        mc_backend_cpu.free(f->ctx, f->bufs[--f->n_bufs]);
}

typedef void (*exp_n_fn)(const float *x, float *out, int n);

/* A vectorised exp stays within 2 ulp of exp() over the whole float range, subnormal results
 * included, and gives exactly 0 for -inf and exactly 1 for 0. */
static void expect_exp_ulp(exp_n_fn exp_n, const char *name)
{
    enum { N = 1 << 16 };
    static float x[N], y[N];
    double worst = 0.0;
    float worst_x = 0.0f;
    for (int round = 0; round < 32; round++) {
        for (int i = 0; i < N; i++)
            x[i] = (float)(-105.0 + 195.0 * ((double)round * N + i) / (32.0 * N));
        exp_n(x, y, N);
        for (int i = 0; i < N; i++) {
            double ref = exp((double)x[i]);
            if (ref > 0x1.fffffep127)
                continue; /* overflows: checked below */
            int e;
            frexp(ref, &e);
            double ulp = ref < 0x1p-126 ? 0x1p-149 : ldexp(1.0, e - 24);
            double err = fabs((double)y[i] - ref) / ulp;
            if (err > worst) {
                worst = err;
                worst_x = x[i];
            }
        }
    }
    print_message("%s: worst error %.3f ulp at x = %.9g\n", name, worst, (double)worst_x);
    assert_true(worst <= 2.0);
    const float special[4] = {-INFINITY, 0.0f, -200.0f, 100.0f};
    float out[4];
    exp_n(special, out, 4);
    assert_true(out[0] == 0.0f && out[1] == 1.0f && out[2] == 0.0f && isinf(out[3]));
}

static void test_avx2_exp_ulp(void **state)
{
    if (!mc_cpu_has_avx2())
        skip();
    expect_exp_ulp(mc_avx2_exp_n, "AVX2 exp");
}

/* The 16-lane exp of softmax_avx512 (table of 2^(j/16), degree-3 polynomial, vscalefps). */
static void test_avx512_exp_ulp(void **state)
{
    if (mc_avx512_softmax_probe())
        skip();
    expect_exp_ulp(mc_avx512_exp_n, "AVX-512 exp");
}

/* softmax_avx512's held-back store shares one scratch row with the next row's exponentials: the
 * held-back row's output, the next row's exponentials and sum come out bitwise as with two
 * separate rows, whichever of the two rows is longer and whatever their tails (n mod 32). */
static void test_avx512_held_back_in_place(void **state)
{
    if (mc_avx512_softmax_probe())
        skip();
    enum { N = 4096 };
    static const int64_t lens[][2] = {{N, N}, {100, 37}, {37, 100}, {N, 33}, {33, N}, {64, 64}, {95, 96}, {5, 0}};
    static float x[2][N], apart[N], shared[N], cur[N], y_apart[N], y_shared[N];
    for (int64_t j = 0; j < N; j++) {
        x[0][j] = (float)((j * 37) % 101) / 8.0f - 6.0f;
        x[1][j] = (float)((j * 53) % 89) / 4.0f - 11.0f;
    }
    for (size_t c = 0; c < sizeof lens / sizeof lens[0]; c++) {
        const int64_t np = lens[c][0], n = lens[c][1];
        const float scale = 0.75f;
        const float mp = mc_avx512_row_max(MC_DTYPE_F32, (const uint8_t *)x[0], np, scale);
        const float m = n ? mc_avx512_row_max(MC_DTYPE_F32, (const uint8_t *)x[1], n, scale) : 0.0f;
        memset(y_apart, 0, sizeof y_apart);
        memset(y_shared, 0, sizeof y_shared);
        /* two scratch rows: the held-back row in `apart`, the next row's exponentials in `cur` */
        const float sp = mc_avx512_exp_sum(MC_DTYPE_F32, (const uint8_t *)x[0], np, scale, mp, apart, NULL);
        const mc_avx512_pending held_apart = {MC_DTYPE_F32, (uint8_t *)y_apart, apart, np, 1.0f, sp, 0};
        const float s_apart = mc_avx512_exp_sum_store(MC_DTYPE_F32, (const uint8_t *)x[1], n, scale, m, cur, NULL,
                                                      &held_apart);
        /* one: the next row's exponentials written over the held-back row's */
        assert_true(mc_avx512_exp_sum(MC_DTYPE_F32, (const uint8_t *)x[0], np, scale, mp, shared, NULL) == sp);
        const mc_avx512_pending held_shared = {MC_DTYPE_F32, (uint8_t *)y_shared, shared, np, 1.0f, sp, 0};
        const float s_shared = mc_avx512_exp_sum_store(MC_DTYPE_F32, (const uint8_t *)x[1], n, scale, m, shared, NULL,
                                                       &held_shared);
        print_message("held-back rows of %lld then %lld\n", (long long)np, (long long)n);
        assert_memory_equal(y_shared, y_apart, sizeof y_apart);
        assert_memory_equal(shared, cur, sizeof *cur * (size_t)n);
        assert_true(memcmp(&s_shared, &s_apart, sizeof s_apart) == 0);
        for (int64_t j = 0; j < np; j++)
            assert_true(y_apart[j] > 0.0f); /* the held-back row was written, every element */
    }
}

typedef struct gemv_case {
    mc_dtype dt_a, dt_x;
    int64_t m, k;
    mc_layout la, lx;
    int64_t misalign_a, misalign_x;
} gemv_case;

/* The vectorised GEMVs match the scalar one within the rounding of two summation orders. */
static void test_gemv_fast_matches_scalar(void **state)
{
    fixture *f = *state;
    if (!mc_cpu_has_avx2())
        skip();
    static const gemv_case cases[] = {
        {MC_DTYPE_F32, MC_DTYPE_F32, 5, 7, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, 0, 0},
        {MC_DTYPE_F32, MC_DTYPE_F32, 33, 257, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, 4, 0},
        {MC_DTYPE_F32, MC_DTYPE_F16, 40, 100, MC_LAYOUT_PADDED, MC_LAYOUT_STRIDE2, 8, 2},
        {MC_DTYPE_F32, MC_DTYPE_F32, 70, 45, MC_LAYOUT_TRANSPOSED, MC_LAYOUT_CONTIGUOUS, 4, 0},
        {MC_DTYPE_F32, MC_DTYPE_F32, 9, 64, MC_LAYOUT_STRIDE2, MC_LAYOUT_CONTIGUOUS, 0, 0},
        {MC_DTYPE_F32, MC_DTYPE_F32, 17, 80, MC_LAYOUT_SLICED, MC_LAYOUT_CONTIGUOUS, 2, 1},
        {MC_DTYPE_F32, MC_DTYPE_F32, 300, 1024, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, 0, 0},
        {MC_DTYPE_F16, MC_DTYPE_F16, 6, 9, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, 0, 0},
        {MC_DTYPE_F16, MC_DTYPE_F32, 37, 131, MC_LAYOUT_PADDED, MC_LAYOUT_CONTIGUOUS, 2, 4},
        {MC_DTYPE_F16, MC_DTYPE_F16, 50, 33, MC_LAYOUT_TRANSPOSED, MC_LAYOUT_STRIDE2, 6, 0},
        {MC_DTYPE_F16, MC_DTYPE_F32, 12, 70, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, 1, 0},
        {MC_DTYPE_F16, MC_DTYPE_BF16, 260, 2048, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, 16, 2},
        {MC_DTYPE_BF16, MC_DTYPE_F32, 19, 77, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, 2, 0},
        {MC_DTYPE_BF16, MC_DTYPE_BF16, 24, 40, MC_LAYOUT_TRANSPOSED, MC_LAYOUT_CONTIGUOUS, 0, 0},
        {MC_DTYPE_BF16, MC_DTYPE_F16, 11, 50, MC_LAYOUT_PADDED, MC_LAYOUT_CONTIGUOUS, 1, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const gemv_case *w = &cases[c];
        const mc_variant *v = w->dt_a == MC_DTYPE_F32   ? &mc_variant_gemv_f32_avx2
                              : w->dt_a == MC_DTYPE_F16 ? &mc_variant_gemv_f16_avx2
                                                        : &mc_variant_gemv_bf16_avx2;
        double *a = malloc(sizeof *a * (size_t)(w->m * w->k)), *x = malloc(sizeof *x * (size_t)w->k);
        assert_true(a && x);
        fill_values(a, w->m * w->k, -1.0, 1.0, 100 + c, w->k, 0);
        fill_values(x, w->k, -1.0, 1.0, 200 + c, w->k, 0);
        /* two f32 summation orders of the same k products differ by at most 2 k u sum|a_j x_j| */
        double *tol = calloc((size_t)w->m, sizeof *tol);
        assert_non_null(tol);
        for (int64_t i = 0; i < w->m; i++) {
            for (int64_t j = 0; j < w->k; j++)
                tol[i] += fabs(a[i * w->k + j] * x[j]);
            tol[i] *= 2.0 * (double)w->k * 0x1p-24;
        }
        mc_args args = {.op = MC_OP_GEMV};
        mc_gemv_args *g = &args.u.gemv;
        g->a = place(f, w->dt_a, w->k, w->m, 1, w->la, w->misalign_a, a);
        g->x = place(f, w->dt_x, w->k, 1, 1, w->lx, w->misalign_x, x);
        free(a);
        free(x);
        g->y = place(f, MC_DTYPE_F32, w->m, 1, 1, MC_LAYOUT_CONTIGUOUS, 0, NULL);
        run_variant(f, &mc_variant_gemv_scalar, &args);
        const mc_tensor want = g->y;
        mc_tensor one_thread = {0};
        for (int threads = 1; threads <= 3; threads += 2) {
            g->y = place(f, MC_DTYPE_F32, w->m, 1, 1, MC_LAYOUT_STRIDE2, 4, NULL);
            mc_kernel_ctx kc = {.backend = f->ctx, .threads = threads};
            mc_err err = {0};
            assert_null(v->probe(f->ctx));
            assert_null(v->supports(&args));
            assert_int_equal(v->run(&kc, &args, &err), MC_OK);
            char what[64];
            snprintf(what, sizeof what, "%s case %zu threads %d", v->name, c, threads);
            expect_close_each(&g->y, &want, tol, what);
            if (threads == 1) {
                one_thread = g->y;
            } else {
                expect_same_bits(&g->y, &one_thread, what);
                release(f, 2);
            }
        }
        free(tol);
        release(f, 3);
    }
}

typedef struct softmax_case {
    mc_dtype dt;
    int64_t cols, rows, batch;
    mc_layout lx, ly;
    int64_t misalign;
    bool causal;
    int64_t q_offset;
    int inf_every;
    float scale;
} softmax_case;

static const mc_variant *const softmax_fast[] = {
    &mc_variant_softmax_avx2, &mc_variant_softmax_online, &mc_variant_softmax_blocked,
    &mc_variant_softmax_avx2_stream, &mc_variant_softmax_avx512,
};

/* Every fast softmax gives the scalar variant's result to within a few f32 rounding errors
 * (their exps and sums round differently), through every layout, dtype and alignment. */
static void test_softmax_fast_matches_scalar(void **state)
{
    fixture *f = *state;
    if (!mc_cpu_has_avx2())
        skip();
    static const softmax_case cases[] = {
        {MC_DTYPE_F32, 1, 3, 1, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, 0, false, 0, 0, 1.0f},
        {MC_DTYPE_F32, 37, 5, 2, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, 0, false, 0, 5, 0.5f},
        {MC_DTYPE_F32, 64, 9, 1, MC_LAYOUT_PADDED, MC_LAYOUT_SLICED, 4, true, 0, 0, 1.0f},
        {MC_DTYPE_F32, 33, 7, 2, MC_LAYOUT_TRANSPOSED, MC_LAYOUT_STRIDE2, 2, true, 3, 4, 2.0f},
        {MC_DTYPE_F32, 40, 6, 1, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, 2, true, -2, 0, 1.0f},
        {MC_DTYPE_F32, 1500, 3, 1, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_PADDED, 0, true, 1200, 7, 0.125f},
        {MC_DTYPE_F32, 3000, 2, 1, MC_LAYOUT_STRIDE2, MC_LAYOUT_CONTIGUOUS, 8, false, 0, 0, 3.0f},
        {MC_DTYPE_F32, 2100, 40, 1, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, 0, true, 2050, 0, 1.0f},
        {MC_DTYPE_F16, 77, 4, 2, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, 2, true, 0, 6, 1.0f},
        {MC_DTYPE_F16, 1100, 2, 1, MC_LAYOUT_SLICED, MC_LAYOUT_TRANSPOSED, 0, false, 0, 0, 1.0f},
        {MC_DTYPE_F16, 19, 3, 1, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, 1, false, 0, 0, 1.0f},
        {MC_DTYPE_BF16, 45, 4, 1, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_PADDED, 0, true, 1, 0, 1.0f},
        {MC_DTYPE_BF16, 1025, 2, 2, MC_LAYOUT_BROADCAST, MC_LAYOUT_CONTIGUOUS, 4, false, 0, 3, 1.0f},
        /* 4.3 MB of f16 output (over 2 MiB): the streaming variants' non-temporal stores (rows
         * vector-aligned or not); scale 0.05 keeps every output (about 1/4100) a normal f16 */
        {MC_DTYPE_F16, 4100, 520, 1, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, 0, false, 0, 0, 0.05f},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const softmax_case *w = &cases[c];
        const int64_t n = w->cols * w->rows * w->batch;
        double *x = malloc(sizeof *x * (size_t)n);
        assert_non_null(x);
        fill_values(x, n, -6.0, 6.0, c + 1, w->cols, w->inf_every);
        mc_args args = {.op = MC_OP_SOFTMAX};
        mc_softmax_args *s = &args.u.softmax;
        s->x = place(f, w->dt, w->cols, w->rows, w->batch, w->lx, w->misalign, x);
        s->scale = w->scale;
        s->causal = w->causal;
        s->q_offset = w->q_offset;
        free(x);
        s->y = place(f, w->dt, w->cols, w->rows, w->batch, w->ly, w->misalign, NULL);
        run_variant(f, &mc_variant_softmax_scalar, &args);
        const mc_tensor want = s->y;
        for (size_t v = 0; v < sizeof softmax_fast / sizeof softmax_fast[0]; v++) {
            mc_tensor one_thread = {0};
            if (softmax_fast[v] == &mc_variant_softmax_avx512 && mc_avx512_softmax_probe())
                continue; /* its own probe says no here; the AVX2 ones were required above */
            for (int threads = 1; threads <= 3; threads += 2) {
                s->y = place(f, w->dt, w->cols, w->rows, w->batch, w->ly, w->misalign, NULL);
                mc_kernel_ctx kc = {.backend = f->ctx, .threads = threads};
                mc_err err = {0};
                assert_null(softmax_fast[v]->probe(f->ctx));
                assert_null(softmax_fast[v]->supports(&args));
                assert_int_equal(softmax_fast[v]->run(&kc, &args, &err), MC_OK);
                char what[96];
                snprintf(what, sizeof what, "%s case %zu threads %d", softmax_fast[v]->name, c, threads);
                /* f32: a handful of roundings in exp, sum and divide, plus the rounding of exp's
                 * argument scale*x - max, whose size (up to scale * 12 here) each variant rounds
                 * once or twice (softmax_blocked: x - m_seg, then m_seg - M): each rounding moves
                 * the result by |argument| * 2^-24 relatively; and the sum's rounding, which the
                 * scalar variant accumulates in sequence: up to cols * 2^-24. 16-bit storage: one unit of the
                 * output's last place, where the two round a value near a tie apart. */
                const double arg_max = fabs((double)w->scale) * 12.0;
                double rtol = w->dt == MC_DTYPE_F32 ? (8.0 + 3.0 * arg_max + (double)w->cols) * 0x1p-24
                                                    : (w->dt == MC_DTYPE_F16 ? 0x1p-10 : 0x1p-7);
                expect_close(&s->y, &want, 1e-30, rtol, what);
                if (threads == 1) {
                    one_thread = s->y;
                } else {
                    expect_same_bits(&s->y, &one_thread, what);
                    release(f, 2);
                }
            }
        }
        release(f, 2);
    }
}

typedef struct sdpa_case {
    mc_dtype dt;
    int64_t d, n_q, n_kv, heads, kv_heads;
    mc_layout lq, lk, lv, lo;
    int64_t misalign;
    bool causal;
    int64_t q_offset;
} sdpa_case;

static const mc_variant *const sdpa_fast[] = {
    &mc_variant_sdpa_three_stage, &mc_variant_sdpa_fused_qk_softmax, &mc_variant_sdpa_flash,
};

/* Every fast SDPA gives the scalar variant's result within the rounding of two f32 evaluations.
 * Inputs lie in [-1, 1], so a score s = scale q.k has |s| <= scale d and is off by at most
 * 2 (d + 2) u scale d between two orders; that moves every probability by as much, relatively.
 * The two sums over n_kv keys differ by up to 2 (n_kv + 8) u. |o| <= max|v| = 1 scales both.
 * 16-bit outputs add one unit in the last place of the output. */
static void test_sdpa_fast_matches_scalar(void **state)
{
    fixture *f = *state;
    if (!mc_cpu_has_avx2())
        skip();
    static const sdpa_case cases[] = {
        {MC_DTYPE_F32, 8, 1, 1, 1, 1, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS,
         MC_LAYOUT_CONTIGUOUS, 0, false, 0},
        {MC_DTYPE_F32, 16, 7, 9, 4, 2, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS,
         MC_LAYOUT_CONTIGUOUS, 0, true, 2},
        {MC_DTYPE_F32, 40, 13, 200, 6, 2, MC_LAYOUT_PERMUTED, MC_LAYOUT_PERMUTED, MC_LAYOUT_TRANSPOSED,
         MC_LAYOUT_PERMUTED, 4, true, 187},
        {MC_DTYPE_F32, 5, 9, 70, 2, 1, MC_LAYOUT_STRIDE2, MC_LAYOUT_PADDED, MC_LAYOUT_SLICED, MC_LAYOUT_PADDED, 2,
         false, 0},
        {MC_DTYPE_F32, 33, 21, 21, 3, 3, MC_LAYOUT_TRANSPOSED, MC_LAYOUT_TRANSPOSED, MC_LAYOUT_STRIDE2,
         MC_LAYOUT_STRIDE2, 0, true, 0},
        {MC_DTYPE_F32, 64, 8, 130, 2, 1, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS,
         MC_LAYOUT_CONTIGUOUS, 0, true, -3},
        {MC_DTYPE_F16, 64, 9, 150, 4, 1, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS,
         MC_LAYOUT_CONTIGUOUS, 2, true, 141},
        {MC_DTYPE_F16, 24, 5, 37, 2, 2, MC_LAYOUT_PERMUTED, MC_LAYOUT_SLICED, MC_LAYOUT_PADDED, MC_LAYOUT_TRANSPOSED,
         1, false, 0},
        {MC_DTYPE_BF16, 32, 6, 50, 2, 1, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_PERMUTED, MC_LAYOUT_CONTIGUOUS,
         MC_LAYOUT_CONTIGUOUS, 0, true, 44},
        /* sdpa_flash: two row blocks of a GQA group, three key chunks merged */
        {MC_DTYPE_F32, 16, 70, 1100, 4, 2, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS,
         MC_LAYOUT_CONTIGUOUS, 0, true, 1030},
        /* decode: one query per head, 8 heads on one kv head, three chunks */
        {MC_DTYPE_F16, 64, 1, 1300, 8, 1, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS, MC_LAYOUT_CONTIGUOUS,
         MC_LAYOUT_CONTIGUOUS, 2, true, 1299},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const sdpa_case *w = &cases[c];
        const int64_t nq = w->d * w->n_q * w->heads, nkv = w->d * w->n_kv * w->kv_heads;
        double *q = malloc(sizeof *q * (size_t)nq), *k = malloc(sizeof *k * (size_t)nkv);
        double *v = malloc(sizeof *v * (size_t)nkv);
        assert_true(q && k && v);
        fill_values(q, nq, -1.0, 1.0, 300 + c, w->d, 0);
        fill_values(k, nkv, -1.0, 1.0, 400 + c, w->d, 0);
        fill_values(v, nkv, -1.0, 1.0, 500 + c, w->d, 0);
        mc_args args = {.op = MC_OP_SDPA};
        mc_sdpa_args *sd = &args.u.sdpa;
        sd->q = place(f, w->dt, w->d, w->n_q, w->heads, w->lq, w->misalign, q);
        sd->k = place(f, w->dt, w->d, w->n_kv, w->kv_heads, w->lk, w->misalign, k);
        sd->v = place(f, w->dt, w->d, w->n_kv, w->kv_heads, w->lv, w->misalign, v);
        free(q);
        free(k);
        free(v);
        sd->scale = (float)(1.0 / sqrt((double)w->d));
        sd->causal = w->causal;
        sd->q_offset = w->q_offset;
        sd->o = place(f, w->dt, w->d, w->n_q, w->heads, w->lo, w->misalign, NULL);
        run_variant(f, &mc_variant_sdpa_scalar, &args);
        const mc_tensor want = sd->o;
        const double u = 0x1p-24, score_max = (double)sd->scale * (double)w->d;
        const double atol = 2.0 * (double)(w->d + 2) * u * score_max + 2.0 * (double)(w->n_kv + 8) * u;
        const double rtol = w->dt == MC_DTYPE_F32 ? 0.0 : (w->dt == MC_DTYPE_F16 ? 0x1p-10 : 0x1p-7);
        for (size_t vi = 0; vi < sizeof sdpa_fast / sizeof sdpa_fast[0]; vi++) {
            mc_tensor one_thread = {0};
            for (int threads = 1; threads <= 3; threads += 2) {
                sd->o = place(f, w->dt, w->d, w->n_q, w->heads, w->lo, w->misalign, NULL);
                mc_kernel_ctx kc = {.backend = f->ctx, .threads = threads};
                mc_err err = {0};
                assert_null(sdpa_fast[vi]->probe(f->ctx));
                assert_null(sdpa_fast[vi]->supports(&args));
                assert_int_equal(sdpa_fast[vi]->run(&kc, &args, &err), MC_OK);
                char what[80];
                snprintf(what, sizeof what, "%s case %zu threads %d", sdpa_fast[vi]->name, c, threads);
                expect_close(&sd->o, &want, atol, rtol, what);
                if (threads == 1) {
                    one_thread = sd->o;
                } else {
                    expect_same_bits(&sd->o, &one_thread, what);
                    release(f, 2);
                }
            }
        }
        release(f, 4);
    }
}

/* ---- registration and test-only variants ---- */

static const mc_variant *find_in(const mc_variant *const *table, const char *name)
{
    for (int i = 0; table[i]; i++)
        if (strcmp(table[i]->name, name) == 0)
            return table[i];
    return NULL;
}

static void test_registry_rows(void **state)
{
    static const char *const scalar[] = {"gemm_scalar", "gemv_scalar", "softmax_scalar", "sdpa_scalar"};
    for (size_t i = 0; i < 4; i++) {
        const mc_variant *v = find_in(mc_cpu_variants, scalar[i]);
        assert_non_null(v);
        assert_string_equal(v->backend, "cpu");
        assert_true(v->flags & MC_VARIANT_DETERMINISTIC);
        assert_true(v->code == (const void *)v->run);
    }
    static const char *const testonly[][2] = {
        {"gemm_testonly_segfault", "crash"},
        {"gemm_testonly_hang", "timeout"},
        {"gemm_testonly_overflow", "guard"},
    };
    for (size_t i = 0; i < 3; i++) {
        const mc_variant *v = find_in(mc_testonly_variants, testonly[i][0]);
        assert_non_null(v);
        assert_int_equal(v->op, MC_OP_GEMM);
        assert_true(v->flags & MC_VARIANT_TEST_ONLY);
        assert_string_equal(v->expect, testonly[i][1]);
    }
}

/* The overflow variant leaves C right and changes the first byte past C's span. */
static void test_testonly_overflow_writes_past_span(void **state)
{
    fixture *f = *state;
    mc_args args = {.op = MC_OP_GEMM};
    mc_gemm_args *g = &args.u.gemm;
    g->a = place(f, MC_DTYPE_F32, 3, 2, 1, MC_LAYOUT_CONTIGUOUS, 0, gemm_a);
    g->b = place(f, MC_DTYPE_F32, 2, 3, 1, MC_LAYOUT_CONTIGUOUS, 0, gemm_b);
    g->c = place(f, MC_DTYPE_F32, 2, 2, 1, MC_LAYOUT_CONTIGUOUS, 0, NULL);
    g->alpha = 1.0f;
    const uint8_t *past = (const uint8_t *)g->c.buf->native + mc_tensor_span_bytes(&g->c);
    float before, after;
    memcpy(&before, past, sizeof before);
    run_variant(f, find_in(mc_testonly_variants, "gemm_testonly_overflow"), &args);
    memcpy(&after, past, sizeof after);
    static const double want[] = {58, 64, 139, 154};
    expect_tensor(&g->c, want, 0.0);
    assert_true(isnan(before));
    assert_true(after == 1.0f);
}

/* The segfault variant really dies of SIGSEGV (in a child, so the test survives). */
static void test_testonly_segfault_dies(void **state)
{
    const mc_variant *v = find_in(mc_testonly_variants, "gemm_testonly_segfault");
    assert_non_null(v);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        mc_kernel_ctx kc = {.threads = 1};
        mc_args args = {.op = MC_OP_GEMM};
        mc_err err = {0};
        signal(SIGSEGV, SIG_DFL);
        v->run(&kc, &args, &err);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSEGV);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_scalar_table),
        cmocka_unit_test(test_gemm_scalar_broadcast_batch),
        cmocka_unit_test(test_gemv_scalar_strided),
        cmocka_unit_test(test_gemv_scalar_quantised),
        cmocka_unit_test(test_softmax_scalar_table),
        cmocka_unit_test(test_sdpa_scalar_table),
        cmocka_unit_test(test_avx2_exp_ulp),
        cmocka_unit_test(test_avx512_exp_ulp),
        cmocka_unit_test(test_avx512_held_back_in_place),
        cmocka_unit_test(test_gemv_fast_matches_scalar),
        cmocka_unit_test(test_softmax_fast_matches_scalar),
        cmocka_unit_test(test_sdpa_fast_matches_scalar),
        cmocka_unit_test(test_registry_rows),
        cmocka_unit_test(test_testonly_overflow_writes_past_span),
        cmocka_unit_test(test_testonly_segfault_dies),
    };
    return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
