/* tests/test_opencl_qgemv_k.c: the q4_K and q6_K OpenCL GEMVs against the format table's decode in
 * fp64, at an odd block base and padded rows of two super-blocks, and their planted bugs (MUTANT
 * builds of qgemv_k.cl): the CPU mutant suite does not run OpenCL, so this test proves each fails.
 * Without an OpenCL platform every test is skipped and says why.
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

#include "core/quant_format.h"
#include "core/rng.h"
#include "engine/registry.h"
#include "reference/ref_quant.h"
#ifdef MC_HAVE_OPENCL
#include "kernels/opencl/qgemv_k_opencl.h"
extern const mc_backend mc_backend_opencl;
#endif

#define M 3
#define K 512         /* two super-blocks per row */
#define BASE 3        /* an odd block base: every fp16 scale and int8 scale off alignment */
#define ROW_PAD 5     /* spare bytes after each row */
#define IMAGE_BYTES (BASE + M * (2 * MC_Q6_K_BLOCK_BYTES + ROW_PAD))

typedef struct fixture {
    mc_backend_ctx *ctx;
    const mc_backend *be;
    char reason[800];
} fixture;

static fixture fx;

static int group_setup(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof fx);
#ifdef MC_HAVE_OPENCL
    mc_err err = {0};
    fx.be = &mc_backend_opencl;
    if (fx.be->probe(fx.reason, sizeof fx.reason) == MC_OK && fx.be->init(&fx.ctx, &err) != MC_OK)
        snprintf(fx.reason, sizeof fx.reason, "%s", err.msg);
#else
    snprintf(fx.reason, sizeof fx.reason, "not built: no OpenCL loader was found at build time");
#endif
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (fx.ctx)
        fx.be->shutdown(fx.ctx);
    return 0;
}

#ifdef MC_HAVE_OPENCL
/* One problem: A's bytes (rows of our reference quantiser's blocks of N(0,1) values times 2^e per
 * 16, e in [-6, 6], so sub-block scales differ), x ~ N(0,1), and per row the fp64 dot of the
 * decoded weights and its tolerance: (k + 8) 2^-24 sum |mag_j x_j|, a float accumulation's bound. */
typedef struct problem {
    uint8_t image[IMAGE_BYTES];
    float x[K];
    double want[M], tol[M];
    mc_buf *a_buf, *x_buf, *y_buf;
    mc_args args;
} problem;

static void problem_make(problem *p, mc_dtype dt)
{
    const int bb = mc_dtype_info_of(dt)->block_bytes;
    const int64_t row_bytes = 2 * bb + ROW_PAD;
    mc_rng r;
    float w[K];
    mc_rng_seed(&r, 17 + (uint64_t)dt);
    memset(p->image, 0xFF, sizeof p->image);
    for (int j = 0; j < K; j++)
        p->x[j] = (float)(2.0 * mc_rng_uniform(&r) - 1.0);
    for (int i = 0; i < M; i++) {
        float scale = 1.0f;
        for (int j = 0; j < K; j++) {
            if (j % 16 == 0)
                scale = ldexpf(1.0f, (int)(mc_rng_next(&r) % 13) - 6);
            w[j] = (float)(2.0 * mc_rng_uniform(&r) - 1.0) * scale;
        }
        uint8_t *row = p->image + BASE + i * row_bytes;
        mc_ref_quantizer_of(dt)(w, row, K);
        double sum = 0.0, size = 0.0;
        for (int j = 0; j < K; j++) {
            double mag;
            sum += mc_quant_elem(dt, row + (j / 256) * bb, j % 256, &mag) * p->x[j];
            size += mag * fabs((double)p->x[j]);
        }
        p->want[i] = sum;
        p->tol[i] = (K + 8) * 0x1p-24 * size;
    }
    mc_err err = {0};
    mc_gemv_args *g = &p->args.u.gemv;
    p->args.op = MC_OP_GEMV;
    assert_int_equal(fx.be->alloc(fx.ctx, sizeof p->image, &p->a_buf, &err), MC_OK);
    assert_int_equal(fx.be->upload(fx.ctx, p->a_buf, 0, p->image, sizeof p->image, &err), MC_OK);
    assert_int_equal(fx.be->alloc(fx.ctx, sizeof p->x, &p->x_buf, &err), MC_OK);
    assert_int_equal(fx.be->upload(fx.ctx, p->x_buf, 0, p->x, sizeof p->x, &err), MC_OK);
    assert_int_equal(fx.be->alloc(fx.ctx, M * sizeof(float), &p->y_buf, &err), MC_OK);
    g->a = (mc_tensor){.dtype = dt, .buf = p->a_buf, .offset = BASE, .ne = {K, M, 1, 1},
                       .nb = {bb, row_bytes, M * row_bytes, M * row_bytes}};
    g->x = (mc_tensor){.dtype = MC_DTYPE_F32, .buf = p->x_buf, .ne = {K, 1, 1, 1}, .nb = {4, 4 * K, 4 * K, 4 * K}};
    g->y = (mc_tensor){.dtype = MC_DTYPE_F32, .buf = p->y_buf, .ne = {M, 1, 1, 1}, .nb = {4, 4 * M, 4 * M, 4 * M}};
}

static void problem_free(problem *p)
{
    fx.be->free(fx.ctx, p->a_buf);
    fx.be->free(fx.ctx, p->x_buf);
    fx.be->free(fx.ctx, p->y_buf);
}

/* Runs kernel build `mutant` (0: the variant itself, through the registry) and returns how many
 * rows miss their tolerance, printing each. */
static int rows_off(problem *p, const char *variant, int mutant)
{
    mc_kernel_ctx kc = {.backend = fx.ctx, .threads = 1};
    mc_err err = {0};
    float y[M];
    if (mutant == 0) {
        const mc_variant *v = mc_registry_find(variant);
        assert_non_null(v);
        assert_null(v->supports(&p->args));
        assert_int_equal(v->run(&kc, &p->args, &err), MC_OK);
    } else {
        assert_int_equal(mc_opencl_qgemv_k_launch(&kc, &p->args.u.gemv, mutant, &err), MC_OK);
    }
    assert_int_equal(fx.be->sync(fx.ctx, &err), MC_OK);
    assert_int_equal(fx.be->download(fx.ctx, p->y_buf, 0, y, sizeof y, &err), MC_OK);
    int off = 0;
    for (int i = 0; i < M; i++) {
        const double e = fabs((double)y[i] - p->want[i]);
        print_message("%s mutant %d row %d: got %.9g, want %.9g, |err| %.3g, tolerance %.3g\n", variant, mutant,
                      i, (double)y[i], p->want[i], e, p->tol[i]);
        off += !(e <= p->tol[i]);
    }
    return off;
}

static void check_format(mc_dtype dt, const char *variant, int mutant)
{
    if (!fx.ctx) {
        printf("skipped: no OpenCL platform: %s\n", fx.reason);
        skip();
    }
    problem *p = calloc(1, sizeof *p);
    assert_non_null(p);
    problem_make(p, dt);
    assert_int_equal(rows_off(p, variant, 0), 0);  /* the variant meets every row */
    assert_int_equal(rows_off(p, variant, mutant), M); /* its planted bug misses every row */
    problem_free(p);
    free(p);
}
#endif

/* q4_K: mutant 1 takes the scale and min of the other sub-block of a pair. */
static void test_q4_K_and_swapped_scale(void **state)
{
    (void)state;
#ifdef MC_HAVE_OPENCL
    check_format(MC_DTYPE_Q4_K, "gemv_q4_K_opencl", 1);
#else
    printf("skipped: no OpenCL platform: %s\n", fx.reason);
    skip();
#endif
}

/* q6_K: mutant 2 reads the two high bits one bit too far left. */
static void test_q6_K_and_high_bits(void **state)
{
    (void)state;
#ifdef MC_HAVE_OPENCL
    check_format(MC_DTYPE_Q6_K, "gemv_q6_K_opencl", 2);
#else
    printf("skipped: no OpenCL platform: %s\n", fx.reason);
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_q4_K_and_swapped_scale),
        cmocka_unit_test(test_q6_K_and_high_bits),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
