/* kernels/cuda/peer_cublas.c: cuBLAS as peer variants, the yardstick of the CUDA rows in the perf
 * table: sgemm (TF32 off: the default math mode), GemmEx with f16 in and out and f32 accumulation
 * (named hgemm), sgemv. libcublas.so.13 is found with dlopen, never from a toolkit's stubs/ folder;
 * its calls go on the worker's stream, so the device timer sees them.
 * SPDX-License-Identifier: MIT */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "kernels/cuda/backend_cuda.h"
#include "kernels/cuda/cuda_api.h"

/* The few cuBLAS declarations used, by value (cublas_api.h needs the runtime's headers). */
typedef void *cublas_handle;
enum { CUBLAS_OK = 0, CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUDA_R_32F = 0, CUDA_R_16F = 2 };
enum { CUBLAS_COMPUTE_32F = 68, CUBLAS_GEMM_DEFAULT = -1 };

typedef struct cublas_api {
    int (*create)(cublas_handle *h);
    int (*set_stream)(cublas_handle h, CUstream s);
    int (*sgemm)(cublas_handle h, int ta, int tb, int m, int n, int k, const float *alpha, const float *a, int lda,
                 const float *b, int ldb, const float *beta, float *c, int ldc);
    int (*gemm_ex)(cublas_handle h, int ta, int tb, int m, int n, int k, const void *alpha, const void *a, int a_type,
                   int lda, const void *b, int b_type, int ldb, const void *beta, void *c, int c_type, int ldc,
                   int compute, int algo);
    int (*sgemv)(cublas_handle h, int trans, int m, int n, const float *alpha, const float *a, int lda, const float *x,
                 int incx, const float *beta, float *y, int incy);
} cublas_api;

static cublas_api api;
static const char *load_failure; /* why cuBLAS cannot be used; NULL when loaded */
static bool tried;
static cublas_handle handle; /* one per worker: a worker has one context */

static bool cublas_sym(void *lib, const char *name, void *slot)
{
    void *p = dlsym(lib, name);
    if (p)
        memcpy(slot, &p, sizeof p);
    return p != NULL;
}

static const char *cublas_load(void)
{
    if (tried)
        return load_failure;
    tried = true;
    static const char *const names[] = {"libcublas.so.13", NULL};
    static char why[300];
    char path[256];
    mc_err err = {0};
    void *lib = mc_cuda_dlopen_first(names, path, sizeof path, &err);
    if (!lib) {
        snprintf(why, sizeof why, "no cuBLAS: %.250s", err.msg);
        return load_failure = why;
    }
    if (!cublas_sym(lib, "cublasCreate_v2", &api.create) || !cublas_sym(lib, "cublasSetStream_v2", &api.set_stream) ||
        !cublas_sym(lib, "cublasSgemm_v2", &api.sgemm) || !cublas_sym(lib, "cublasGemmEx", &api.gemm_ex) ||
        !cublas_sym(lib, "cublasSgemv_v2", &api.sgemv))
        return load_failure = "libcublas.so.13 lacks a function we call";
    return NULL;
}

/* The worker's handle, bound to its stream. */
static mc_status cublas_handle_for(mc_backend_ctx *ctx, cublas_handle *out, mc_err *err)
{
    const char *why = cublas_load();
    if (why)
        return mc_err_set(err, MC_ERR_UNSUPPORTED, "%s", why);
    int rc = handle ? CUBLAS_OK : api.create(&handle);
    if (rc == CUBLAS_OK)
        rc = api.set_stream(handle, mc_cuda_stream(ctx));
    if (rc != CUBLAS_OK)
        return mc_err_set(err, MC_ERR_BACKEND, "cublasCreate / cublasSetStream failed: status %d", rc);
    *out = handle;
    return MC_OK;
}

static const char *cublas_probe(mc_backend_ctx *ctx)
{
    return cublas_load();
}

/* Row-major rows of `es`-byte elements: unit stride, element-aligned base and row stride, one batch. */
static int64_t row_major_ld(const mc_tensor *t, int64_t es)
{
    if (t->nb[0] != es || t->offset % es != 0 || t->nb[1] % es != 0 || t->ne[2] * t->ne[3] != 1)
        return -1;
    return t->ne[1] == 1 ? (t->ne[0] > 0 ? t->ne[0] : 1) : t->nb[1] / es;
}

static const char *gemm_peer_supports(const mc_gemm_args *g, mc_dtype dt, int64_t es)
{
    if (g->a.dtype != dt || g->b.dtype != dt || g->c.dtype != dt)
        return dt == MC_DTYPE_F32 ? "f32 only (sgemm)" : "f16 only (hgemm)";
    if (g->has_bias)
        return "no bias epilogue in cuBLAS";
    if (row_major_ld(&g->a, es) < 0 || row_major_ld(&g->b, es) < 0 || row_major_ld(&g->c, es) < 0)
        return "row-major A, B and C with element-aligned bases, one batch";
    return NULL;
}

static CUdeviceptr at(const mc_tensor *t)
{
    return (CUdeviceptr)(uintptr_t)t->buf->native + (CUdeviceptr)t->offset;
}

/* Row-major C = A B is column-major C^T = B^T A^T: cuBLAS gets (n, m, k) with B first. */
static mc_status gemm_cublas(mc_kernel_ctx *kc, const mc_gemm_args *g, bool half, mc_err *err)
{
    const int64_t es = half ? 2 : 4;
    const int m = (int)g->c.ne[1], n = (int)g->c.ne[0], k = (int)g->a.ne[0];
    if (!m || !n)
        return MC_OK;
    cublas_handle h;
    mc_status st = cublas_handle_for(kc->backend, &h, err);
    if (st)
        return st;
    const int lda = (int)row_major_ld(&g->a, es), ldb = (int)row_major_ld(&g->b, es), ldc = (int)row_major_ld(&g->c, es);
    const float alpha = g->alpha, beta = g->beta; /* beta == 0: cuBLAS never reads C */
    const void *a = (const void *)(uintptr_t)at(&g->a), *b = (const void *)(uintptr_t)at(&g->b);
    void *c = (void *)(uintptr_t)at(&g->c);
    int rc = half ? api.gemm_ex(h, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &alpha, b, CUDA_R_16F, ldb, a, CUDA_R_16F, lda,
                                &beta, c, CUDA_R_16F, ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT)
                  : api.sgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &alpha, b, ldb, a, lda, &beta, c, ldc);
    if (rc != CUBLAS_OK)
        return mc_err_set(err, MC_ERR_BACKEND, "cuBLAS %s failed: status %d", half ? "GemmEx (f16)" : "sgemm", rc);
    mc_cuda_note_launch(kc->backend);
    return MC_OK;
}

static mc_status sgemm_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return gemm_cublas(kc, &args->u.gemm, false, err);
}

static mc_status hgemm_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return gemm_cublas(kc, &args->u.gemm, true, err);
}

static const char *sgemm_supports(const mc_args *args)
{
    return gemm_peer_supports(&args->u.gemm, MC_DTYPE_F32, 4);
}

static const char *hgemm_supports(const mc_args *args)
{
    return gemm_peer_supports(&args->u.gemm, MC_DTYPE_F16, 2);
}

/* y = A x with A row-major m x k: column-major k x m, so op T with (k, m). */
static const char *sgemv_supports(const mc_args *args)
{
    const mc_gemv_args *g = &args->u.gemv;
    if (g->a.dtype != MC_DTYPE_F32 || g->x.dtype != MC_DTYPE_F32 || g->y.dtype != MC_DTYPE_F32)
        return "f32 only (sgemv)";
    if (g->xq_exact)
        return "computes with x itself, not with q8_0 activations: cannot meet xq_exact";
    if (row_major_ld(&g->a, 4) < 0)
        return "row-major A with a float-aligned base";
    if (g->x.offset % 4 || g->x.nb[0] % 4 || g->x.nb[0] <= 0 || g->y.offset % 4 || g->y.nb[0] % 4 || g->y.nb[0] <= 0)
        return "x and y need positive whole-float strides and float-aligned bases";
    return NULL;
}

static mc_status sgemv_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemv_args *g = &args->u.gemv;
    const int m = (int)g->a.ne[1], k = (int)g->a.ne[0];
    if (!m)
        return MC_OK;
    cublas_handle h;
    mc_status st = cublas_handle_for(kc->backend, &h, err);
    if (st)
        return st;
    const float one = 1.0f, zero = 0.0f;
    int rc = api.sgemv(h, CUBLAS_OP_T, k, m, &one, (const float *)(uintptr_t)at(&g->a), (int)row_major_ld(&g->a, 4),
                       (const float *)(uintptr_t)at(&g->x), (int)(g->x.nb[0] / 4), &zero,
                       (float *)(uintptr_t)at(&g->y), (int)(g->y.nb[0] / 4));
    if (rc != CUBLAS_OK)
        return mc_err_set(err, MC_ERR_BACKEND, "cuBLAS sgemv failed: status %d", rc);
    mc_cuda_note_launch(kc->backend);
    return MC_OK;
}

const mc_variant mc_variant_gemm_cublas_sgemm = {
    .op = MC_OP_GEMM,
    .backend = "cuda",
    .name = "gemm_cublas_sgemm",
    .probe = cublas_probe,
    .supports = sgemm_supports,
    .run = sgemm_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_PEER,
    .code = (const void *)gemm_cublas,
};

const mc_variant mc_variant_gemm_cublas_hgemm = {
    .op = MC_OP_GEMM,
    .backend = "cuda",
    .name = "gemm_cublas_hgemm",
    .probe = cublas_probe,
    .supports = hgemm_supports,
    .run = hgemm_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_PEER,
    .code = (const void *)gemm_cublas,
};

const mc_variant mc_variant_gemv_cublas_sgemv = {
    .op = MC_OP_GEMV,
    .backend = "cuda",
    .name = "gemv_cublas_sgemv",
    .probe = cublas_probe,
    .supports = sgemv_supports,
    .run = sgemv_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_PEER,
    .code = (const void *)sgemv_run,
};
