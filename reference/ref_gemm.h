/* reference/ref_gemm.h: fp64 reference for batched GEMM with alpha, beta and a bias row.
 * SPDX-License-Identifier: MIT */
#ifndef MC_REF_GEMM_H
#define MC_REF_GEMM_H

#include <stdint.h>

#include "core/status.h"
#include "core/tensor.h"

/* The inputs as views over host images (each host pointer is its buffer's first byte).
 * a: ne = {k, m, batch}; b: ne = {n, k, batch}; c: ne = {n, m, batch}; bias: ne = {n}. */
typedef struct mc_ref_gemm_in {
    const mc_tensor *a, *b;
    const mc_tensor *c;    /* C before the call; NULL when beta == 0 (C is then never read) */
    const mc_tensor *bias; /* NULL when there is no bias */
    const uint8_t *a_host, *b_host, *c_host, *bias_host;
    double alpha, beta;
    int64_t m, n, k, batch;
} mc_ref_gemm_in;

/* Which way the products are summed. Both are fp64; the BLAS path is for sizes where the plain
 * loop is too slow, and a unit test checks that the two agree. */
typedef enum mc_ref_gemm_path {
    MC_REF_GEMM_AUTO, /* the loop up to MC_REF_GEMM_BLAS_MIN_MNK per batch, dgemm above */
    MC_REF_GEMM_LOOP, /* plain triple loop over mc_tensor_get */
    MC_REF_GEMM_BLAS, /* pack into dense doubles and call cblas_dgemm (values and |A||B|) */
} mc_ref_gemm_path;

#define MC_REF_GEMM_BLAS_MIN_MNK (INT64_C(1) << 18) /* m*n*k above which AUTO uses dgemm */

/* out[j + n*(i + m*b)] = alpha * sum_p A[b][i][p] B[b][p][j] + beta * C0[b][i][j] + bias[j], and
 * mag[...] = |alpha| * sum_p |A[b][i][p] B[b][p][j]| + |beta * C0[b][i][j]| + |bias[j]|: the
 * magnitude the error bound scales with. Fails only when memory runs out. */
mc_status mc_ref_gemm(const mc_ref_gemm_in *in, mc_ref_gemm_path path, double *out, double *mag,
                      mc_err *err);

#endif
