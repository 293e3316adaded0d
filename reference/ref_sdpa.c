/* reference/ref_sdpa.c: plain fp64 attention, one query row at a time: scores, softmax, P.V.
 * K and V of one kv head are first copied into dense doubles, so the inner loops read arrays
 * rather than strided views; the arithmetic is the textbook formula in fp64.
 * SPDX-License-Identifier: MIT */
#include "ref_sdpa.h"

#include <math.h>
#include <stdlib.h>

/* Dense copy of view t's head g: out[j * d + c] = t(c, j, g). */
static void pack_head(const mc_tensor *t, const uint8_t *host, int64_t g, double *out)
{
    const int64_t d = t->ne[0], n = t->ne[1];
    for (int64_t j = 0; j < n; j++)
        for (int64_t c = 0; c < d; c++) {
            const int64_t idx[MC_MAX_DIMS] = {c, j, g, 0};
            out[j * d + c] = mc_tensor_get(t, host, idx);
        }
}

typedef struct scratch {
    double *kh, *vh; /* dense K and V of the current kv head */
    double *q;       /* the current query row */
    double *s, *smag, *p; /* per visible key: score, |scale| sum |q k|, probability */
} scratch;

/* Scores and softmax of query i of head h; fills p[0..n) and the row stats. */
static void score_row(const mc_ref_sdpa_in *in, const scratch *w, int64_t n, mc_ref_sdpa_row *row)
{
    const int64_t d = in->q->ne[0];
    double m = -INFINITY, lo = INFINITY, smax = 0;
    for (int64_t j = 0; j < n; j++) {
        double dot = 0, dot_abs = 0;
        for (int64_t c = 0; c < d; c++) {
            dot += w->q[c] * w->kh[j * d + c];
            dot_abs += fabs(w->q[c] * w->kh[j * d + c]);
        }
        w->s[j] = in->scale * dot;
        w->smag[j] = fabs(in->scale) * dot_abs;
        m = fmax(m, w->s[j]);
        lo = fmin(lo, w->s[j]);
        smax = fmax(smax, w->smag[j]);
    }
    double sum = 0;
    for (int64_t j = 0; j < n; j++)
        sum += exp(w->s[j] - m);
    double ps = 0;
    for (int64_t j = 0; j < n; j++) {
        w->p[j] = exp(w->s[j] - m) / sum;
        ps += w->p[j] * w->smag[j];
    }
    *row = (mc_ref_sdpa_row){.n = n, .m_abs = fabs(m), .span = m - lo, .s_mag_max = smax, .ps = ps};
}

/* P.V for one query row: o, pv, pvs at e0 .. e0 + d - 1. */
static void weigh_values(const scratch *w, int64_t d, int64_t n, double *o, double *pv, double *pvs)
{
    for (int64_t c = 0; c < d; c++) {
        double acc = 0, acc_abs = 0, acc_abs_s = 0;
        for (int64_t j = 0; j < n; j++) {
            double v = w->vh[j * d + c];
            acc += w->p[j] * v;
            acc_abs += w->p[j] * fabs(v);
            acc_abs_s += w->p[j] * fabs(v) * w->smag[j];
        }
        o[c] = acc;
        pv[c] = acc_abs;
        pvs[c] = acc_abs_s;
    }
}

static int64_t visible_keys(const mc_ref_sdpa_in *in, int64_t i)
{
    const int64_t n_kv = in->k->ne[1];
    if (!in->causal)
        return n_kv;
    int64_t n = i + in->q_offset + 1; /* keys 0 .. i + q_offset */
    if (n < 0)
        return 0;
    return n < n_kv ? n : n_kv;
}

static void load_query(const mc_ref_sdpa_in *in, const scratch *w, int64_t i, int64_t h)
{
    for (int64_t c = 0; c < in->q->ne[0]; c++) {
        const int64_t idx[MC_MAX_DIMS] = {c, i, h, 0};
        w->q[c] = mc_tensor_get(in->q, in->q_host, idx);
    }
}

static mc_status attend(const mc_ref_sdpa_in *in, scratch *w, double *o, double *pv, double *pvs,
                        mc_ref_sdpa_row *rows, mc_err *err)
{
    const int64_t d = in->q->ne[0], n_q = in->q->ne[1], heads = in->q->ne[2];
    const int64_t kv_heads = in->k->ne[2], group = heads / kv_heads;
    for (int64_t g = 0; g < kv_heads; g++) {
        pack_head(in->k, in->k_host, g, w->kh);
        pack_head(in->v, in->v_host, g, w->vh);
        for (int64_t h = g * group; h < (g + 1) * group; h++)
            for (int64_t i = 0; i < n_q; i++) {
                int64_t n = visible_keys(in, i);
                if (n == 0)
                    return mc_err_set(err, MC_ERR_CONFIG, "sdpa query %lld sees no key", (long long)i);
                load_query(in, w, i, h);
                int64_t r = i + n_q * h;
                score_row(in, w, n, &rows[r]);
                weigh_values(w, d, n, o + r * d, pv + r * d, pvs + r * d);
            }
    }
    return MC_OK;
}

mc_status mc_ref_sdpa(const mc_ref_sdpa_in *in, double *o, double *pv, double *pvs, mc_ref_sdpa_row *rows,
                      mc_err *err)
{
    const int64_t d = in->q->ne[0], n_kv = in->k->ne[1];
    const int64_t heads = in->q->ne[2], kv_heads = in->k->ne[2];
    if (kv_heads < 1 || heads % kv_heads != 0)
        return mc_err_set(err, MC_ERR_CONFIG, "sdpa: heads (%lld) must be a multiple of kv_heads (%lld)",
                          (long long)heads, (long long)kv_heads);
    scratch w = {
        .kh = malloc((size_t)(n_kv * d) * sizeof(double)),
        .vh = malloc((size_t)(n_kv * d) * sizeof(double)),
        .q = malloc((size_t)d * sizeof(double)),
        .s = malloc((size_t)n_kv * sizeof(double)),
        .smag = malloc((size_t)n_kv * sizeof(double)),
        .p = malloc((size_t)n_kv * sizeof(double)),
    };
    mc_status st;
    if (!w.kh || !w.vh || !w.q || !w.s || !w.smag || !w.p)
        st = mc_err_set(err, MC_ERR_NOMEM, "sdpa reference: no memory for %lld keys of %lld dims",
                        (long long)n_kv, (long long)d);
    else
        st = attend(in, &w, o, pv, pvs, rows, err);
    free(w.kh);
    free(w.vh);
    free(w.q);
    free(w.s);
    free(w.smag);
    free(w.p);
    return st;
}
