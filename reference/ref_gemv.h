/* reference/ref_gemv.h: fp64 reference for y = A x (A plain or quantised, dequantised exactly).
 * SPDX-License-Identifier: MIT */
#ifndef MC_REF_GEMV_H
#define MC_REF_GEMV_H

#include <stdint.h>

#include "core/tensor.h"

/* a: ne = {k, m}; x: ne = {k}; hosts are the buffers' first bytes.
 * out[i] = sum_p A[i][p] x[p]; mag[i] = sum_p |A[i][p] x[p]|. */
void mc_ref_gemv(const mc_tensor *a, const uint8_t *a_host, const mc_tensor *x, const uint8_t *x_host,
                 double *out, double *mag);

#endif
