/* reference/ref_sdpa.h: fp64 reference for scaled dot-product attention with grouped-query heads.
 * SPDX-License-Identifier: MIT */
#ifndef MC_REF_SDPA_H
#define MC_REF_SDPA_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "core/tensor.h"

/* What the error bound needs of one query row (query i of head h), over its visible keys j,
 * with scores s_j = scale q.k_j and probabilities p_j = softmax(s)_j. */
typedef struct mc_ref_sdpa_row {
    int64_t n;        /* visible keys (>= 1) */
    double m_abs;     /* |max_j s_j| */
    double span;      /* max_j s_j - min_j s_j */
    double s_mag_max; /* max_j S_j, S_j = |scale| sum_c |q_c k_jc| (bounds |s_j| too) */
    double ps;        /* sum_j p_j S_j */
} mc_ref_sdpa_row;

/* q: ne = {d, n_q, heads}; k, v: ne = {d, n_kv, kv_heads}. Query head h reads kv head
 * h / (heads / kv_heads). Causal: key j is visible to query i iff j <= i + q_offset. */
typedef struct mc_ref_sdpa_in {
    const mc_tensor *q, *k, *v;
    const uint8_t *q_host, *k_host, *v_host; /* the buffers' first bytes */
    double scale;
    bool causal;
    int64_t q_offset;
} mc_ref_sdpa_in;

/* o[e] = sum_j p_j v_jc, pv[e] = sum_j p_j |v_jc|, pvs[e] = sum_j p_j |v_jc| S_j, for e = c + d *
 * (i + n_q * h) (o's logical order); rows[i + n_q * h]. Fails with MC_ERR_CONFIG when a query
 * sees no key or heads is not a multiple of kv_heads, MC_ERR_NOMEM when scratch runs out. */
mc_status mc_ref_sdpa(const mc_ref_sdpa_in *in, double *o, double *pv, double *pvs, mc_ref_sdpa_row *rows,
                      mc_err *err);

#endif
