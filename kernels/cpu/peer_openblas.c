/* kernels/cpu/peer_openblas.c: OpenBLAS as a variant: the performance peer that perf runs measure in
 * the same run (and that the correctness tiers check like any other variant).
 * SPDX-License-Identifier: MIT */
#include <cblas.h>
#include <stdint.h>

#include "cpu_access.h"

/* BLAS wants f32 elements at float-aligned addresses with a unit stride in one of the two matrix
 * dims. Returns the leading dimension and whether the matrix is stored column-major, or -1. */
static int64_t blas_leading_dim(const mc_tensor *t, int *col_major)
{
    if (t->dtype != MC_DTYPE_F32 || t->offset % 4 != 0)
        return -1;
    if (t->nb[0] == 4 && t->nb[1] % 4 == 0 && t->nb[1] / 4 >= t->ne[0]) {
        *col_major = 0;
        return t->ne[1] == 1 ? (t->ne[0] > 0 ? t->ne[0] : 1) : t->nb[1] / 4;
    }
    if (t->nb[1] == 4 && t->nb[0] % 4 == 0 && t->nb[0] / 4 >= t->ne[1]) {
        *col_major = 1;
        return t->nb[0] / 4;
    }
    return -1;
}

static const char *gemm_openblas_supports(const mc_args *args)
{
    const mc_gemm_args *g = &args->u.gemm;
    int cm;
    if (g->a.dtype != MC_DTYPE_F32)
        return "f32 only (sgemm)";
    if (g->has_bias)
        return "no bias epilogue in BLAS";
    if (blas_leading_dim(&g->a, &cm) < 0 || blas_leading_dim(&g->b, &cm) < 0)
        return "sgemm needs a unit stride in one dim and a float-aligned base";
    if (blas_leading_dim(&g->c, &cm) < 0 || cm)
        return "sgemm output must be row-major with a float-aligned base";
    if ((g->a.nb[2] | g->b.nb[2] | g->c.nb[2]) % 4 != 0)
        return "batch strides must be whole floats";
    return NULL;
}

static mc_status gemm_openblas_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    int a_cm, b_cm, c_cm;
    int lda = (int)blas_leading_dim(&g->a, &a_cm);
    int ldb = (int)blas_leading_dim(&g->b, &b_cm);
    int ldc = (int)blas_leading_dim(&g->c, &c_cm);
    const int m = (int)g->c.ne[1], n = (int)g->c.ne[0], k = (int)g->a.ne[0];
    openblas_set_num_threads(kc->threads);
    for (int64_t b = 0; b < g->c.ne[2]; b++) {
        const float *A = (const float *)(const void *)mc_cpu_elem_ptr(&g->a, 0, 0, mc_cpu_bcast(&g->a, 2, b), 0);
        const float *B = (const float *)(const void *)mc_cpu_elem_ptr(&g->b, 0, 0, mc_cpu_bcast(&g->b, 2, b), 0);
        float *C = (float *)(void *)mc_cpu_elem_ptr(&g->c, 0, 0, b, 0);
        cblas_sgemm(CblasRowMajor, a_cm ? CblasTrans : CblasNoTrans, b_cm ? CblasTrans : CblasNoTrans, m, n, k,
                    g->alpha, A, lda, B, ldb, g->beta, C, ldc);
    }
    return MC_OK;
}

const mc_variant mc_variant_gemm_openblas_sgemm = {
    .op = MC_OP_GEMM,
    .backend = "cpu",
    .name = "gemm_openblas_sgemm",
    .supports = gemm_openblas_supports,
    .run = gemm_openblas_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)gemm_openblas_run,
};

static const char *gemv_openblas_supports(const mc_args *args)
{
    const mc_gemv_args *g = &args->u.gemv;
    int cm;
    if (g->a.dtype != MC_DTYPE_F32 || g->x.dtype != MC_DTYPE_F32 || g->y.dtype != MC_DTYPE_F32)
        return "f32 only (sgemv)";
    if (blas_leading_dim(&g->a, &cm) < 0)
        return "sgemv needs a unit stride in one dim and a float-aligned base";
    if (g->x.offset % 4 || g->x.nb[0] % 4 || g->y.offset % 4 || g->y.nb[0] % 4)
        return "sgemv vectors need whole-float strides and float-aligned bases";
    return NULL;
}

static mc_status gemv_openblas_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemv_args *g = &args->u.gemv;
    int cm;
    int lda = (int)blas_leading_dim(&g->a, &cm);
    const int m = (int)g->a.ne[1], k = (int)g->a.ne[0];
    openblas_set_num_threads(kc->threads);
    cblas_sgemv(cm ? CblasColMajor : CblasRowMajor, CblasNoTrans, m, k, 1.0f,
                (const float *)(const void *)mc_cpu_base(&g->a), lda, (const float *)(const void *)mc_cpu_base(&g->x),
                (int)(g->x.nb[0] / 4), 0.0f, (float *)(void *)mc_cpu_base(&g->y), (int)(g->y.nb[0] / 4));
    return MC_OK;
}

const mc_variant mc_variant_gemv_openblas_sgemv = {
    .op = MC_OP_GEMV,
    .backend = "cpu",
    .name = "gemv_openblas_sgemv",
    .supports = gemv_openblas_supports,
    .run = gemv_openblas_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)gemv_openblas_run,
};
