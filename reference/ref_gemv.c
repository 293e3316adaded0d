/* reference/ref_gemv.c: plain fp64 matrix-vector product over strided (or quantised) views.
 * SPDX-License-Identifier: MIT */
#include "ref_gemv.h"

#include <math.h>

void mc_ref_gemv(const mc_tensor *a, const uint8_t *a_host, const mc_tensor *x, const uint8_t *x_host,
                 double *out, double *mag)
{
    const int64_t k = a->ne[0], m = a->ne[1];
    for (int64_t i = 0; i < m; i++) {
        double dot = 0, dot_abs = 0;
        for (int64_t p = 0; p < k; p++) {
            const int64_t ia[MC_MAX_DIMS] = {p, i, 0, 0};
            const int64_t ix[MC_MAX_DIMS] = {p, 0, 0, 0};
            const double xv = mc_tensor_get(x, x_host, ix);
            dot += mc_tensor_get(a, a_host, ia) * xv;
            dot_abs += mc_tensor_get_mag(a, a_host, ia) * fabs(xv); /* |a x| for all but minned quants */
        }
        out[i] = dot;
        mag[i] = dot_abs;
    }
}
