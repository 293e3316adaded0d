/* reference/ref_gemm.c: plain fp64 GEMM over strided views, and a dgemm path for big sizes.
 * SPDX-License-Identifier: MIT */
#include "ref_gemm.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

static double get3(const mc_tensor *t, const uint8_t *host, int64_t i0, int64_t i1, int64_t i2)
{
    const int64_t idx[MC_MAX_DIMS] = {i0, i1, i2, 0};
    return mc_tensor_get(t, host, idx);
}

/* alpha * dot + beta * c0 + bias for one element, and its magnitude. */
static void finish_element(const mc_ref_gemm_in *in, int64_t b, int64_t i, int64_t j, double dot,
                           double dot_abs, double *out, double *mag)
{
    double v = in->alpha * dot;
    double g = fabs(in->alpha) * dot_abs;
    if (in->c) {
        double c0 = in->beta * get3(in->c, in->c_host, j, i, b);
        v += c0;
        g += fabs(c0);
    }
    if (in->bias) {
        double bj = get3(in->bias, in->bias_host, j, 0, 0);
        v += bj;
        g += fabs(bj);
    }
    *out = v;
    *mag = g;
}

static void gemm_loop(const mc_ref_gemm_in *in, double *out, double *mag)
{
    for (int64_t b = 0; b < in->batch; b++)
        for (int64_t i = 0; i < in->m; i++)
            for (int64_t j = 0; j < in->n; j++) {
                double dot = 0, dot_abs = 0;
                for (int64_t p = 0; p < in->k; p++) {
                    double prod = get3(in->a, in->a_host, p, i, b) * get3(in->b, in->b_host, j, p, b);
                    dot += prod;
                    dot_abs += fabs(prod);
                }
                int64_t e = j + in->n * (i + in->m * b);
                finish_element(in, b, i, j, dot, dot_abs, &out[e], &mag[e]);
            }
}

/* Dense row-major copies of batch b: pa is m x k, pb is k x n. */
static void pack_batch(const mc_ref_gemm_in *in, int64_t b, double *pa, double *pb)
{
    for (int64_t i = 0; i < in->m; i++)
        for (int64_t p = 0; p < in->k; p++)
            pa[i * in->k + p] = get3(in->a, in->a_host, p, i, b);
    for (int64_t p = 0; p < in->k; p++)
        for (int64_t j = 0; j < in->n; j++)
            pb[p * in->n + j] = get3(in->b, in->b_host, j, p, b);
}

static void abs_all(double *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = fabs(x[i]);
}

/* dgemm twice per batch: on the values, then on their absolute values (sum |a||b| = sum |ab|). */
static mc_status gemm_blas(const mc_ref_gemm_in *in, double *out, double *mag, mc_err *err)
{
    mc_status st = MC_OK;
    const int m = (int)in->m, n = (int)in->n, k = (int)in->k;
    double *pa = malloc((size_t)in->m * (size_t)in->k * sizeof *pa);
    double *pb = malloc((size_t)in->k * (size_t)in->n * sizeof *pb);
    double *dv = malloc((size_t)in->m * (size_t)in->n * sizeof *dv);
    double *da = malloc((size_t)in->m * (size_t)in->n * sizeof *da);
    if (!pa || !pb || !dv || !da) {
        st = mc_err_set(err, MC_ERR_NOMEM, "gemm reference: cannot pack a %lldx%lldx%lld problem",
                        (long long)in->m, (long long)in->n, (long long)in->k);
        goto done;
    }
    for (int64_t b = 0; b < in->batch; b++) {
        pack_batch(in, b, pa, pb);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0, pa, k, pb, n, 0.0, dv, n);
        abs_all(pa, in->m * in->k);
        abs_all(pb, in->k * in->n);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0, pa, k, pb, n, 0.0, da, n);
        for (int64_t i = 0; i < in->m; i++)
            for (int64_t j = 0; j < in->n; j++) {
                int64_t e = j + in->n * (i + in->m * b);
                finish_element(in, b, i, j, dv[i * in->n + j], da[i * in->n + j], &out[e], &mag[e]);
            }
    }
done:
    free(pa);
    free(pb);
    free(dv);
    free(da);
    return st;
}

mc_status mc_ref_gemm(const mc_ref_gemm_in *in, mc_ref_gemm_path path, double *out, double *mag,
                      mc_err *err)
{
    if (path == MC_REF_GEMM_AUTO)
        path = (double)in->m * (double)in->n * (double)in->k > (double)MC_REF_GEMM_BLAS_MIN_MNK
                   ? MC_REF_GEMM_BLAS : MC_REF_GEMM_LOOP; /* in double: m n k may pass 2^63 */
    if (path == MC_REF_GEMM_BLAS && (in->m > INT32_MAX || in->n > INT32_MAX || in->k > INT32_MAX))
        return mc_err_set(err, MC_ERR_CONFIG, "gemm reference: dimensions beyond BLAS int range");
    if (path == MC_REF_GEMM_BLAS)
        return gemm_blas(in, out, mag, err);
    gemm_loop(in, out, mag);
    return MC_OK;
}
