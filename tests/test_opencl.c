/* tests/test_opencl.c: the opencl backend and its variants, called directly on small hand-built tensors.
 * Focus: buffer round trips with offsets, device choice and the missing-platform reason, the timer's
 * contract, program hashes, and one hand-computed case (or a few) per variant through contiguous,
 * transposed, strided and broadcast views, misaligned bases (the byte-wise path) and f16 storage.
 * Without an OpenCL platform every device test is skipped and says why; it never passes silently.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/codehash.h"
#include "core/half.h"
#include "engine/registry.h"
#include "core/variant.h"
#ifdef MC_HAVE_OPENCL
#include "kernels/opencl/backend_opencl.h"
extern const mc_backend mc_backend_opencl;
#endif

#define MAX_BUFS 32
#define IMAGE_BYTES 4096 /* every test tensor fits in one page-sized image */

/* The live backend (NULL when unavailable, with the reason) and every buffer a test placed. */
typedef struct fixture {
    mc_backend_ctx *ctx;
    const mc_backend *be;
    char reason[800];
    mc_buf *bufs[MAX_BUFS];
    int n_bufs;
} fixture;

static fixture fx;

static int group_setup(void **state)
{
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

static void free_buffers(void)
{
    for (int i = 0; i < fx.n_bufs; i++)
        fx.be->free(fx.ctx, fx.bufs[i]);
    fx.n_bufs = 0;
}

static int group_teardown(void **state)
{
    if (fx.ctx) {
        free_buffers();
        fx.be->shutdown(fx.ctx);
    }
    return 0;
}

static int test_teardown(void **state)
{
    if (fx.ctx)
        free_buffers();
    return 0;
}

/* Every device test starts here: without a device it is skipped, visibly, with the reason. */
static bool have_device(void)
{
    if (fx.ctx)
        return true;
    printf("skipped: no OpenCL platform: %s\n", fx.reason);
    return false;
}

#define NEED_DEVICE()        \
    do {                     \
        if (!have_device())  \
            skip();          \
    } while (0)

/* ---- tensors ---- */

/* A view over a fresh device buffer whose every byte starts as 0xFF (a NaN in f32, f16 and bf16:
 * gaps and unwritten outputs poison any result that touches them). vals, in logical order (i0
 * fastest), are written when given. */
static mc_tensor place(mc_dtype dt, const int64_t ne[4], const int64_t nb[4], int64_t offset, const float *vals)
{
    mc_tensor t = {.dtype = dt, .offset = offset};
    uint8_t *image = malloc(IMAGE_BYTES);
    mc_err err = {0};
    assert_non_null(image);
    memset(image, 0xFF, IMAGE_BYTES);
    memcpy(t.ne, ne, sizeof t.ne);
    memcpy(t.nb, nb, sizeof t.nb);
    assert_true(mc_tensor_span_bytes(&t) <= IMAGE_BYTES);
    int64_t idx[4] = {0, 0, 0, 0}, i = 0;
    if (vals)
        do
            mc_tensor_set(&t, image, idx, vals[i++]);
        while (mc_index_next(idx, t.ne));
    assert_true(fx.n_bufs < MAX_BUFS);
    assert_int_equal(fx.be->alloc(fx.ctx, IMAGE_BYTES, &fx.bufs[fx.n_bufs], &err), MC_OK);
    t.buf = fx.bufs[fx.n_bufs++];
    assert_int_equal(fx.be->upload(fx.ctx, t.buf, 0, image, IMAGE_BYTES, &err), MC_OK);
    free(image);
    return t;
}

/* Packed strides for ne in dtype dt. */
static void packed(mc_dtype dt, const int64_t ne[4], int64_t nb[4])
{
    nb[0] = mc_dtype_elem_bytes(dt);
    for (int d = 1; d < 4; d++)
        nb[d] = nb[d - 1] * ne[d - 1];
}

static mc_tensor place_packed(mc_dtype dt, int64_t ne0, int64_t ne1, int64_t ne2, int64_t offset, const float *vals)
{
    const int64_t ne[4] = {ne0, ne1, ne2, 1};
    int64_t nb[4];
    packed(dt, ne, nb);
    return place(dt, ne, nb, offset, vals);
}

/* Downloads t's buffer and returns its elements in logical order (caller frees). */
static double *fetch(const mc_tensor *t)
{
    uint8_t *image = malloc(IMAGE_BYTES);
    double *out = malloc(sizeof(double) * (size_t)mc_tensor_nelems(t));
    mc_err err = {0};
    assert_non_null(image);
    assert_non_null(out);
    assert_int_equal(fx.be->sync(fx.ctx, &err), MC_OK);
    assert_int_equal(fx.be->download(fx.ctx, t->buf, 0, image, IMAGE_BYTES, &err), MC_OK);
    int64_t idx[4] = {0, 0, 0, 0}, i = 0;
    do
        out[i++] = mc_tensor_get(t, image, idx);
    while (mc_index_next(idx, t->ne));
    free(image);
    return out;
}

static void run_variant(const char *name, const mc_args *args)
{
    const mc_variant *v = mc_registry_find(name);
    mc_kernel_ctx kc = {.backend = fx.ctx, .threads = 1};
    mc_err err = {0};
    assert_non_null(v);
    assert_string_equal(v->backend, "opencl");
    assert_null(v->probe ? v->probe(fx.ctx) : NULL);
    const char *why = v->supports ? v->supports(args) : NULL;
    if (why)
        fail_msg("%s declined: %s", name, why);
    snprintf(kc.ran, sizeof kc.ran, "%s", name);
    if (v->run(&kc, args, &err) != MC_OK)
        fail_msg("%s failed: %s", name, err.msg);
    assert_string_equal(kc.ran, name);
}

/* Compares t's elements with want (logical order) within tol (0: exact). */
static void expect_values(const mc_tensor *t, const double *want, double tol)
{
    double *got = fetch(t);
    for (int64_t i = 0; i < mc_tensor_nelems(t); i++)
        if (!(fabs(got[i] - want[i]) <= tol))
            fail_msg("element %lld: got %.9g, want %.9g", (long long)i, got[i], want[i]);
    free(got);
}

/* ---- backend ---- */

static void test_round_trip_with_offsets(void **state)
{
    NEED_DEVICE();
    uint8_t src[256], back[256];
    mc_buf *b;
    mc_err err = {0};
    for (int i = 0; i < 256; i++)
        src[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(fx.be->alloc(fx.ctx, sizeof src, &b, &err), MC_OK);
    fx.bufs[fx.n_bufs++] = b;
    assert_int_equal(b->bytes, sizeof src);
    assert_int_equal(fx.be->upload(fx.ctx, b, 0, src, sizeof src, &err), MC_OK);
    /* overwrite 5 bytes at an odd offset, then read back around them */
    const uint8_t patch[5] = {0xDE, 0xAD, 0xBE, 0xEF, 0x01};
    assert_int_equal(fx.be->upload(fx.ctx, b, 37, patch, sizeof patch, &err), MC_OK);
    memcpy(src + 37, patch, sizeof patch);
    assert_int_equal(fx.be->download(fx.ctx, b, 0, back, sizeof back, &err), MC_OK);
    assert_memory_equal(back, src, sizeof src);
    uint8_t part[10];
    assert_int_equal(fx.be->download(fx.ctx, b, 35, part, sizeof part, &err), MC_OK);
    assert_memory_equal(part, src + 35, sizeof part);
    /* a copy that runs past the end is refused, not clipped */
    assert_int_equal(fx.be->upload(fx.ctx, b, 250, src, 7, &err), MC_ERR_INTERNAL);
    assert_int_equal(fx.be->download(fx.ctx, b, 257, part, 1, &err), MC_ERR_INTERNAL);
    assert_int_equal(fx.be->sync(fx.ctx, &err), MC_OK);
}

static void test_describe_names_device(void **state)
{
    NEED_DEVICE();
#ifdef MC_HAVE_OPENCL
    char line[512];
    fx.be->describe(fx.ctx, line, sizeof line);
    assert_non_null(strstr(line, mc_opencl_device(fx.ctx)->name));
    assert_non_null(strstr(line, "driver"));
    assert_non_null(strstr(line, "cl_khr_fp16"));
#endif
}

/* MC_OPENCL_DEVICE that matches nothing: probe says so and names the devices it saw. */
static void test_device_choice_by_name(void **state)
{
    NEED_DEVICE();
    char reason[512];
    const char *old = getenv("MC_OPENCL_DEVICE");
    char *saved = old ? strdup(old) : NULL;
    setenv("MC_OPENCL_DEVICE", "no-such-device-anywhere", 1);
    mc_status st = fx.be->probe(reason, sizeof reason);
    if (saved)
        setenv("MC_OPENCL_DEVICE", saved, 1);
    else
        unsetenv("MC_OPENCL_DEVICE");
    free(saved);
    assert_int_equal(st, MC_ERR_UNSUPPORTED);
    assert_non_null(strstr(reason, "matches no OpenCL device"));
#ifdef MC_HAVE_OPENCL
    assert_non_null(strstr(reason, mc_opencl_device(fx.ctx)->name));
#endif
}

static void test_timer_needs_a_kernel(void **state)
{
    NEED_DEVICE();
    mc_err err = {0};
    double ns = -1.0;
    /* nothing launched between begin and end: an error, never a zero */
    assert_int_equal(fx.be->timer_begin(fx.ctx, &err), MC_OK);
    assert_int_equal(fx.be->timer_end(fx.ctx, &ns, &err), MC_ERR_INTERNAL);
    const float ones[4] = {1, 1, 1, 1};
    mc_args args = {.op = MC_OP_SOFTMAX};
    args.u.softmax.x = place_packed(MC_DTYPE_F32, 4, 1, 1, 0, ones);
    args.u.softmax.y = place_packed(MC_DTYPE_F32, 4, 1, 1, 0, NULL);
    args.u.softmax.scale = 1.0f;
    assert_int_equal(fx.be->timer_begin(fx.ctx, &err), MC_OK);
    run_variant("softmax_opencl_blocked", &args);
    run_variant("softmax_opencl_blocked", &args);
    assert_int_equal(fx.be->timer_end(fx.ctx, &ns, &err), MC_OK);
    assert_true(ns >= 0.0);
}

static void test_program_hashes(void **state)
{
    NEED_DEVICE();
#ifdef MC_HAVE_OPENCL
    const char *h1 = mc_opencl_program_hash(fx.ctx, "gemm_opencl_tiled_32x32x8");
    const char *h2 = mc_opencl_program_hash(fx.ctx, "gemm_opencl_tiled_128x128x16");
    const char *again = mc_opencl_program_hash(fx.ctx, "gemm_opencl_tiled_32x32x8");
    assert_non_null(h1);
    assert_non_null(h2);
    /* 16 hex digits: the one form of a code identity, which the store and compare keep whole */
    assert_true(mc_code_hash_is_real(h1));
    assert_true(mc_code_hash_is_real(h2));
    assert_string_equal(h1, again);
    /* other tile sizes are other code */
    assert_string_not_equal(h1, h2);
    assert_null(mc_opencl_program_hash(fx.ctx, "no_such_variant"));
    /* every registered variant has a program */
    int n;
    const mc_variant *const *all = mc_registry_variants(false, &n);
    for (int i = 0; i < n; i++)
        if (strcmp(all[i]->backend, "opencl") == 0 && !mc_opencl_program_hash(fx.ctx, all[i]->name))
            fail_msg("no program hash for %s", all[i]->name);
    /* a returned string stays valid and in place while the context lives */
    assert_ptr_equal(h1, mc_opencl_program_hash(fx.ctx, "gemm_opencl_tiled_32x32x8"));
    assert_true(mc_code_hash_is_real(h1));
#endif
}

/* ---- gemm ---- */

/* A (2x3) = [1 2 3; 4 5 6], B (3x2) = [7 8; 9 10; 11 12]: A B = [58 64; 139 154]. */
static const float gemm_a[6] = {1, 2, 3, 4, 5, 6};
static const float gemm_b[6] = {7, 8, 9, 10, 11, 12};
static const char *const gemm_variants[] = {"gemm_opencl_tiled_32x32x8", "gemm_opencl_tiled_128x128x16"};

static void test_gemm_contiguous_beta_zero(void **state)
{
    NEED_DEVICE();
    for (size_t v = 0; v < sizeof gemm_variants / sizeof gemm_variants[0]; v++) {
        mc_args args = {.op = MC_OP_GEMM};
        mc_gemm_args *g = &args.u.gemm;
        g->a = place_packed(MC_DTYPE_F32, 3, 2, 1, 0, gemm_a);
        g->b = place_packed(MC_DTYPE_F32, 2, 3, 1, 0, gemm_b);
        g->c = place_packed(MC_DTYPE_F32, 2, 2, 1, 0, NULL); /* NaN: beta == 0 must not read it */
        g->alpha = 1.0f;
        run_variant(gemm_variants[v], &args);
        const double want[4] = {58, 64, 139, 154};
        expect_values(&g->c, want, 0.0);
        free_buffers();
    }
}

/* Transposed A, stride-2 B (NaN gaps), C at a base 2 bytes off (floats not addressable: the byte-wise
 * path), alpha 2, beta 0.5 on C0 = [2 4; 6 8], bias [1 -1]:
 * C = 2 A B + 0.5 C0 + bias = [116+1+1 128+2-1; 278+3+1 308+4-1] = [118 129; 282 311]. */
static void test_gemm_strided_misaligned_beta_bias(void **state)
{
    NEED_DEVICE();
    for (size_t v = 0; v < sizeof gemm_variants / sizeof gemm_variants[0]; v++) {
        mc_args args = {.op = MC_OP_GEMM};
        mc_gemm_args *g = &args.u.gemm;
        const int64_t ne_a[4] = {3, 2, 1, 1}, nb_a[4] = {8, 4, 24, 24};   /* column-major */
        const int64_t ne_b[4] = {2, 3, 1, 1}, nb_b[4] = {8, 16, 48, 48};  /* a gap after each */
        const int64_t ne_c[4] = {2, 2, 1, 1}, nb_c[4] = {4, 8, 16, 16};
        const float c0[4] = {2, 4, 6, 8}, bias[2] = {1, -1};
        g->a = place(MC_DTYPE_F32, ne_a, nb_a, 0, gemm_a);
        g->b = place(MC_DTYPE_F32, ne_b, nb_b, 0, gemm_b);
        g->c = place(MC_DTYPE_F32, ne_c, nb_c, 2, c0);
        g->bias = place_packed(MC_DTYPE_F32, 2, 1, 1, 0, bias);
        g->has_bias = true;
        g->alpha = 2.0f;
        g->beta = 0.5f;
        run_variant(gemm_variants[v], &args);
        const double want[4] = {118, 129, 282, 311};
        expect_values(&g->c, want, 0.0);
        free_buffers();
    }
}

/* f16 storage, batch 2 with B broadcast (stride 0); A[1] = A + 1 = [2 3 4; 5 6 7]:
 * A[1] B = [85 94; 166 184]. All values are exact in f16. */
static void test_gemm_f16_batch_broadcast(void **state)
{
    NEED_DEVICE();
    for (size_t v = 0; v < sizeof gemm_variants / sizeof gemm_variants[0]; v++) {
        mc_args args = {.op = MC_OP_GEMM};
        mc_gemm_args *g = &args.u.gemm;
        const float a2[12] = {1, 2, 3, 4, 5, 6, 2, 3, 4, 5, 6, 7};
        g->a = place_packed(MC_DTYPE_F16, 3, 2, 2, 2, a2);
        /* write B's one copy, then view it twice over the batch with stride 0 */
        g->b = place_packed(MC_DTYPE_F16, 2, 3, 1, 0, gemm_b);
        g->b.ne[2] = 2;
        g->b.nb[2] = g->b.nb[3] = 0;
        g->c = place_packed(MC_DTYPE_F16, 2, 2, 2, 0, NULL);
        g->alpha = 1.0f;
        run_variant(gemm_variants[v], &args);
        const double want[8] = {58, 64, 139, 154, 85, 94, 166, 184};
        expect_values(&g->c, want, 0.0);
        free_buffers();
    }
}

/* ---- gemv ---- */

/* A (3x5) = [1..5; 6..10; 11..15], x = [1 -1 2 -2 0.5]: y = [-0.5 2 4.5] (k = 5: a vector part and
 * a scalar tail). */
static void test_gemv_f32_tail(void **state)
{
    NEED_DEVICE();
    float a[15];
    for (int i = 0; i < 15; i++)
        a[i] = (float)(i + 1);
    const float x[5] = {1, -1, 2, -2, 0.5f};
    mc_args args = {.op = MC_OP_GEMV};
    args.u.gemv.a = place_packed(MC_DTYPE_F32, 5, 3, 1, 0, a);
    args.u.gemv.x = place_packed(MC_DTYPE_F32, 5, 1, 1, 0, x);
    args.u.gemv.y = place_packed(MC_DTYPE_F32, 3, 1, 1, 0, NULL);
    run_variant("gemv_opencl_wgreduce", &args);
    const double want[3] = {-0.5, 2, 4.5};
    expect_values(&args.u.gemv.y, want, 0.0);
}

/* f16 A (2x8) = [1..8; -0.5 * (1..8)], x = ones: y = [36 -18]. At base 0 the rows are 16 bytes apart
 * and 8-byte aligned (the half4 path); at base 2 they are not (the checked scalar path). */
static void test_gemv_f16_vector_and_scalar_paths(void **state)
{
    NEED_DEVICE();
    float a[16], x[8];
    for (int i = 0; i < 8; i++) {
        a[i] = (float)(i + 1);
        a[8 + i] = -0.5f * (float)(i + 1);
        x[i] = 1.0f;
    }
    for (int64_t align = 0; align <= 2; align += 2) {
        mc_args args = {.op = MC_OP_GEMV};
        args.u.gemv.a = place_packed(MC_DTYPE_F16, 8, 2, 1, align, a);
        args.u.gemv.x = place_packed(MC_DTYPE_F16, 8, 1, 1, align, x);
        args.u.gemv.y = place_packed(MC_DTYPE_F16, 2, 1, 1, align, NULL);
        run_variant("gemv_opencl_wgreduce", &args);
        const double want[2] = {36, -18};
        expect_values(&args.u.gemv.y, want, 0.0);
        free_buffers();
    }
}

/* q8_0 A, k = 64 (two blocks per row), rows 34 * 2 bytes apart at an odd base (d is read byte by byte):
 * row 0: d = 0.5, qs = 1..32 in both blocks; row 1: block 0 d = 0.25, qs = -1; block 1 d = 2, qs = 3.
 * x = ones (f32): y0 = 2 * 0.5 * 528 = 528; y1 = 0.25 * -32 + 2 * 96 = 184. */
static void test_gemv_q8_0(void **state)
{
    NEED_DEVICE();
    uint8_t image[IMAGE_BYTES];
    const int64_t base = 3, block = 34, row = 2 * block;
    memset(image, 0xFF, sizeof image);
    const uint16_t d[2][2] = {{mc_f32_to_f16(0.5f), mc_f32_to_f16(0.5f)}, {mc_f32_to_f16(0.25f), mc_f32_to_f16(2.0f)}};
    for (int r = 0; r < 2; r++)
        for (int bl = 0; bl < 2; bl++) {
            uint8_t *p = image + base + r * row + bl * block;
            memcpy(p, &d[r][bl], 2);
            for (int j = 0; j < 32; j++)
                p[2 + j] = (uint8_t)(int8_t)(r == 0 ? j + 1 : bl == 0 ? -1 : 3);
        }
    mc_err err = {0};
    mc_args args = {.op = MC_OP_GEMV};
    mc_tensor *a = &args.u.gemv.a;
    *a = (mc_tensor){.dtype = MC_DTYPE_Q8_0, .ne = {64, 2, 1, 1}, .nb = {block, row, 2 * row, 2 * row}, .offset = base};
    assert_int_equal(fx.be->alloc(fx.ctx, IMAGE_BYTES, &fx.bufs[fx.n_bufs], &err), MC_OK);
    a->buf = fx.bufs[fx.n_bufs++];
    assert_int_equal(fx.be->upload(fx.ctx, a->buf, 0, image, IMAGE_BYTES, &err), MC_OK);
    float x[64];
    for (int i = 0; i < 64; i++)
        x[i] = 1.0f;
    args.u.gemv.x = place_packed(MC_DTYPE_F32, 64, 1, 1, 0, x);
    args.u.gemv.y = place_packed(MC_DTYPE_F32, 2, 1, 1, 0, NULL);
    run_variant("gemv_q8_0_opencl", &args);
    const double want[2] = {528, 184};
    expect_values(&args.u.gemv.y, want, 0.0);
    /* the plain variant declines quantised A, and the q8_0 one plain A */
    assert_non_null(mc_registry_find("gemv_opencl_wgreduce")->supports(&args));
    args.u.gemv.a.dtype = MC_DTYPE_F32;
    assert_non_null(mc_registry_find("gemv_q8_0_opencl")->supports(&args));
}

/* q4_0 A, one block (d = 0.5, every byte 0x9A: low nibble 10 -> +2 for elements 0..15, high nibble
 * 9 -> +1 for elements 16..31), x = 1 for the first 16 and 2 for the last 16 (f16, base 2):
 * y = 0.5 * (16 * 2 * 1 + 16 * 1 * 2) = 32; swapped nibbles would give 0.5 * 80 = 40. */
static void test_gemv_q4_0_nibble_order(void **state)
{
    NEED_DEVICE();
    uint8_t image[IMAGE_BYTES];
    memset(image, 0xFF, sizeof image);
    const uint16_t d = mc_f32_to_f16(0.5f);
    memcpy(image, &d, 2);
    memset(image + 2, 0x9A, 16);
    mc_err err = {0};
    mc_args args = {.op = MC_OP_GEMV};
    mc_tensor *a = &args.u.gemv.a;
    *a = (mc_tensor){.dtype = MC_DTYPE_Q4_0, .ne = {32, 1, 1, 1}, .nb = {18, 18, 18, 18}, .offset = 0};
    assert_int_equal(fx.be->alloc(fx.ctx, IMAGE_BYTES, &fx.bufs[fx.n_bufs], &err), MC_OK);
    a->buf = fx.bufs[fx.n_bufs++];
    assert_int_equal(fx.be->upload(fx.ctx, a->buf, 0, image, IMAGE_BYTES, &err), MC_OK);
    float x[32];
    for (int i = 0; i < 32; i++)
        x[i] = i < 16 ? 1.0f : 2.0f;
    args.u.gemv.x = place_packed(MC_DTYPE_F16, 32, 1, 1, 2, x);
    args.u.gemv.y = place_packed(MC_DTYPE_F32, 1, 1, 1, 0, NULL);
    run_variant("gemv_q4_0_opencl", &args);
    const double want[1] = {32};
    expect_values(&args.u.gemv.y, want, 0.0);
}

/* ---- softmax ---- */

/* Causal rows of ones, q_offset 0: row 0 sees column 0, row 1 sees columns 0 and 1. */
static void test_softmax_causal(void **state)
{
    NEED_DEVICE();
    const float ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    mc_args args = {.op = MC_OP_SOFTMAX};
    args.u.softmax.x = place_packed(MC_DTYPE_F32, 4, 2, 1, 0, ones);
    args.u.softmax.y = place_packed(MC_DTYPE_F32, 4, 2, 1, 0, NULL);
    args.u.softmax.scale = 3.0f;
    args.u.softmax.causal = true;
    run_variant("softmax_opencl_blocked", &args);
    const double want[8] = {1, 0, 0, 0, 0.5, 0.5, 0, 0};
    expect_values(&args.u.softmax.y, want, 0.0);
}

/* -inf in column 0 gets exactly 0 and the rest share the mass: [0 1/3 1/3 1/3], through a base 4
 * bytes off 16 (the scalar path); a row of 8 zeros at base 0 (the float4 path) gives 1/8 each. */
static void test_softmax_neg_inf_and_vector_path(void **state)
{
    NEED_DEVICE();
    const float row[4] = {-INFINITY, 0.25f, 0.25f, 0.25f};
    mc_args args = {.op = MC_OP_SOFTMAX};
    args.u.softmax.x = place_packed(MC_DTYPE_F32, 4, 1, 1, 4, row);
    args.u.softmax.y = place_packed(MC_DTYPE_F32, 4, 1, 1, 4, NULL);
    args.u.softmax.scale = 2.0f;
    run_variant("softmax_opencl_blocked", &args);
    const double third[4] = {0, 1.0 / 3, 1.0 / 3, 1.0 / 3};
    expect_values(&args.u.softmax.y, third, 1e-7); /* 1/3 rounded to f32, and a divide */
    free_buffers();
    const float zeros[8] = {0};
    args.u.softmax.x = place_packed(MC_DTYPE_F16, 8, 1, 1, 0, zeros);
    args.u.softmax.y = place_packed(MC_DTYPE_F16, 8, 1, 1, 0, NULL);
    args.u.softmax.scale = 1.0f;
    run_variant("softmax_opencl_blocked", &args);
    const double eighth[8] = {0.125, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125};
    expect_values(&args.u.softmax.y, eighth, 0.0);
}

/* ---- sdpa ---- */

static const char *const sdpa_variants[] = {"sdpa_opencl_three_stage", "sdpa_opencl_fused_qk_softmax"};

/* d = 2, two keys with equal scores (k = 0): p = [1/2 1/2]; v0 = [2 4], v1 = [6 8].
 * Two query heads share one kv head (GQA). Not causal: both queries get [4 6]. Causal, q_offset 0:
 * query 0 sees key 0 only and gets v0 = [2 4]; query 1 sees both and gets [4 6]. */
static void test_sdpa_gqa_causal(void **state)
{
    NEED_DEVICE();
    const float q[8] = {1, 0, 0, 1, 1, 1, -1, 0}; /* 2 queries x 2 heads */
    const float k[4] = {0, 0, 0, 0};
    const float v[4] = {2, 4, 6, 8};
    for (size_t vi = 0; vi < sizeof sdpa_variants / sizeof sdpa_variants[0]; vi++)
        for (int causal = 0; causal <= 1; causal++) {
            mc_args args = {.op = MC_OP_SDPA};
            mc_sdpa_args *s = &args.u.sdpa;
            s->q = place_packed(MC_DTYPE_F32, 2, 2, 2, 0, q);
            s->k = place_packed(MC_DTYPE_F32, 2, 2, 1, 0, k);
            s->v = place_packed(MC_DTYPE_F32, 2, 2, 1, 0, v);
            s->o = place_packed(MC_DTYPE_F32, 2, 2, 2, 0, NULL);
            s->scale = 0.5f;
            s->causal = causal;
            run_variant(sdpa_variants[vi], &args);
            const double open[8] = {4, 6, 4, 6, 4, 6, 4, 6};
            const double masked[8] = {2, 4, 4, 6, 2, 4, 4, 6};
            expect_values(&s->o, causal ? masked : open, 0.0);
            free_buffers();
        }
}

/* Distinct scores: q = [ln 3, 0], k0 = [1 0], k1 = [0 0], scale 1: p = [3/4 1/4];
 * v0 = [4 8], v1 = [8 0]: o = [5 6], through a query base 2 bytes off (the byte-wise path). */
static void test_sdpa_weighted_misaligned(void **state)
{
    NEED_DEVICE();
    const float q[2] = {(float)log(3.0), 0}, k[4] = {1, 0, 0, 0}, v[4] = {4, 8, 8, 0};
    for (size_t vi = 0; vi < sizeof sdpa_variants / sizeof sdpa_variants[0]; vi++) {
        mc_args args = {.op = MC_OP_SDPA};
        mc_sdpa_args *s = &args.u.sdpa;
        s->q = place_packed(MC_DTYPE_F32, 2, 1, 1, 2, q);
        s->k = place_packed(MC_DTYPE_F32, 2, 2, 1, 0, k);
        s->v = place_packed(MC_DTYPE_F32, 2, 2, 1, 0, v);
        s->o = place_packed(MC_DTYPE_F32, 2, 1, 1, 0, NULL);
        s->scale = 1.0f;
        run_variant(sdpa_variants[vi], &args);
        const double want[2] = {5, 6};
        expect_values(&s->o, want, 1e-5); /* ln 3 rounded to f32, exp within 4 ulp */
        free_buffers();
    }
}

/* ---- the missing platform, through the CLI ---- */

/* With the ICD loader pointed at an empty vendor folder, `list backends` names the reason and
 * `run --backend opencl` exits 2 (a configuration error), never 0. Runs with or without a device. */
static void test_cli_without_platform(void **state)
{
    char dir[] = "/tmp/mc-no-icd-XXXXXX";
    assert_non_null(mkdtemp(dir));
    /* both may be moved (a build carried to another machine): the environment overrides them */
    const char *src = getenv("MC_SOURCE_DIR") ? getenv("MC_SOURCE_DIR") : MC_SOURCE_DIR;
    const char *bin = getenv("MC_BINARY") ? getenv("MC_BINARY") : MC_BINARY;
    char cmd[1024], out[2048] = "";
    snprintf(cmd, sizeof cmd, "OCL_ICD_VENDORS=%s '%s' list backends 2>&1", dir, bin);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, sizeof out - 1, p);
    out[got] = '\0';
    assert_int_equal(pclose(p), 0);
#ifdef MC_HAVE_OPENCL
    assert_non_null(strstr(out, "opencl   unavailable: no OpenCL platform found"));
#else
    assert_non_null(strstr(out, "opencl   unavailable: not built"));
#endif
    snprintf(cmd, sizeof cmd, "OCL_ICD_VENDORS=%s '%s' run --backend opencl --cases-dir '%s/cases' --no-store --quiet >/dev/null 2>&1",
             dir, bin, src);
    int status = system(cmd);
    rmdir(dir);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 2);
}

/* Not a test: `test_opencl --copy-bandwidth MIB` prints the device's copy bandwidth, so a perf run
 * (scripts/gpu-run-opencl.sh) can quote its GEMV and softmax rates against the device's own ceiling
 * until the perf table asks backends for their peaks. */
static int print_copy_bandwidth(const char *mib_text)
{
#ifdef MC_HAVE_OPENCL
    group_setup(NULL);
    if (!fx.ctx) {
        printf("opencl copy bandwidth: no OpenCL platform: %s\n", fx.reason);
        return 2;
    }
    const size_t bytes = (size_t)atoi(mib_text) << 20;
    double gbs = 0;
    mc_err err = {0};
    mc_status st = mc_opencl_copy_bandwidth(fx.ctx, bytes, &gbs, &err);
    if (st)
        printf("opencl copy bandwidth: %s\n", err.msg);
    else
        printf("opencl copy bandwidth: %.1f GB/s (%s, %zu MiB, read + written bytes, median of 7)\n", gbs,
               mc_opencl_device(fx.ctx)->name, bytes >> 20);
    group_teardown(NULL);
    return st ? 1 : 0;
#else
    printf("opencl copy bandwidth: not built\n");
    return 2;
#endif
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--copy-bandwidth") == 0)
        return print_copy_bandwidth(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_round_trip_with_offsets, test_teardown),
        cmocka_unit_test_teardown(test_describe_names_device, test_teardown),
        cmocka_unit_test_teardown(test_device_choice_by_name, test_teardown),
        cmocka_unit_test_teardown(test_timer_needs_a_kernel, test_teardown),
        cmocka_unit_test_teardown(test_program_hashes, test_teardown),
        cmocka_unit_test_teardown(test_gemm_contiguous_beta_zero, test_teardown),
        cmocka_unit_test_teardown(test_gemm_strided_misaligned_beta_bias, test_teardown),
        cmocka_unit_test_teardown(test_gemm_f16_batch_broadcast, test_teardown),
        cmocka_unit_test_teardown(test_gemv_f32_tail, test_teardown),
        cmocka_unit_test_teardown(test_gemv_f16_vector_and_scalar_paths, test_teardown),
        cmocka_unit_test_teardown(test_gemv_q8_0, test_teardown),
        cmocka_unit_test_teardown(test_gemv_q4_0_nibble_order, test_teardown),
        cmocka_unit_test_teardown(test_softmax_causal, test_teardown),
        cmocka_unit_test_teardown(test_softmax_neg_inf_and_vector_path, test_teardown),
        cmocka_unit_test_teardown(test_sdpa_gqa_causal, test_teardown),
        cmocka_unit_test_teardown(test_sdpa_weighted_misaligned, test_teardown),
        cmocka_unit_test(test_cli_without_platform),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
