/* kernels/opencl/sdpa.cl: scaled dot-product attention with grouped-query heads, two ways: three
 * stages through an f32 score buffer (scores, row softmax, P V), and one fused kernel that keeps a
 * query's scores in __local (QK, softmax and P V without a round trip through global memory).
 * SPDX-License-Identifier: MIT */

/* Build options:
 *   DT_Q, DT_K, DT_V, DT_O  dtype codes (common.cl)
 *   TILE                    side of the square tiles of the stage-1 and stage-3 kernels
 *   GROUP                   work-items of the row kernels (a power of two)
 *   MAX_KV, MAX_D           fused kernel: the longest score row and query it keeps in __local
 * Tensors: q, o: ne = {d, n_q, heads, batch}; k, v: ne = {d, n_kv, kv_heads, batch}. Query head h reads
 * kv head h / (heads / kv_heads). Causal: key j is seen by query i only when j <= i + q_offset; a
 * query that sees no key gets a 0 row. Score buffer s: [batch][heads][n_q][n_kv], f32, packed. */

/* Keys [0, visible) are seen by query i. */
inline long visible_keys(long i, long n_kv, int causal, long q_offset)
{
    if (!causal)
        return n_kv;
    const long last = i + q_offset;
    return last < 0 ? 0 : min(last + 1, n_kv);
}

/* Work-group tree reduction (max or sum); every work-item gets the result. */
inline float group_reduce(__local float *scratch, float v, bool want_max)
{
    const int lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = GROUP / 2; w > 0; w >>= 1) {
        if (lid < w)
            scratch[lid] = want_max ? fmax(scratch[lid], scratch[lid + w]) : scratch[lid] + scratch[lid + w];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

/* Stage 1: s[bh][i][j] = scale * q[:, i] . k[:, j] for visible keys, -inf for masked ones.
 * Work-group (TILE, TILE) computes a TILE x TILE block, staging TILE-wide slices of d. */
__kernel __attribute__((reqd_work_group_size(TILE, TILE, 1)))
void sdpa_scores(__global const uchar *q, long q_off, long4 q_ne, long4 q_nb,
                 __global const uchar *k, long k_off, long4 k_ne, long4 k_nb,
                 __global float *s, float scale, int causal, long q_offset)
{
    __local float q_tile[TILE][TILE + 1];
    __local float k_tile[TILE][TILE + 1];
    const int lj = get_local_id(0), li = get_local_id(1);
    const long j = get_global_id(0), i = get_global_id(1), bh = get_global_id(2);
    const long d = q_ne.s0, n_q = q_ne.s1, heads = q_ne.s2, n_kv = k_ne.s1;
    const long h = bh % heads, b3 = bh / heads, kvh = h / (heads / k_ne.s2);
    const long q_base = q_off + h * q_nb.s2 + b3 * q_nb.s3;
    const long k_base = k_off + kvh * k_nb.s2 + mc_bcast(k_ne.s3, b3) * k_nb.s3;
    const long i_first = (long)get_group_id(1) * TILE, j_first = (long)get_group_id(0) * TILE;
    float acc = 0.0f;
    for (long c0 = 0; c0 < d; c0 += TILE) {
        /* work-item (lj, li) stages q[c0 + lj, i_first + li] and k[c0 + lj, j_first + li] */
        const long c = c0 + lj, qi = i_first + li, kj = j_first + li;
        q_tile[li][lj] = c < d && qi < n_q ? mc_load(q, q_base + qi * q_nb.s1 + c * q_nb.s0, DT_Q) : 0.0f;
        k_tile[li][lj] = c < d && kj < n_kv ? mc_load(k, k_base + kj * k_nb.s1 + c * k_nb.s0, DT_K) : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int cc = 0; cc < TILE; cc++)
            acc = fma(q_tile[li][cc], k_tile[lj][cc], acc);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (i < n_q && j < n_kv)
        s[(bh * n_q + i) * n_kv + j] = j < visible_keys(i, n_kv, causal, q_offset) ? scale * acc : -INFINITY;
}

/* Stage 2: each score row becomes probabilities in place (0 where masked; an empty row is all 0). */
__kernel __attribute__((reqd_work_group_size(GROUP, 1, 1)))
void sdpa_softmax(__global float *s, long n_kv)
{
    __local float scratch[GROUP];
    const int lid = get_local_id(0);
    __global float *row = s + (long)get_group_id(0) * n_kv;
    float mx = -INFINITY;
    for (long j = lid; j < n_kv; j += GROUP)
        mx = fmax(mx, row[j]);
    mx = group_reduce(scratch, mx, true);
    const bool empty = mx == -INFINITY;
    float sum = 0.0f;
    for (long j = lid; j < n_kv && !empty; j += GROUP) {
        const float e = exp(row[j] - mx);
        row[j] = e;
        sum += e;
    }
    sum = group_reduce(scratch, sum, false);
    for (long j = lid; j < n_kv; j += GROUP)
        row[j] = empty ? 0.0f : row[j] / sum;
}

/* Stage 3: o[c, i] = sum_j p[i][j] * v[c, j]. Work-group (TILE, TILE) computes a block of
 * (TILE columns c) x (TILE queries i), staging TILE keys at a time. */
__kernel __attribute__((reqd_work_group_size(TILE, TILE, 1)))
void sdpa_pv(__global const float *s, __global const uchar *v, long v_off, long4 v_ne, long4 v_nb,
             __global uchar *o, long o_off, long4 o_ne, long4 o_nb)
{
    __local float p_tile[TILE][TILE + 1];
    __local float v_tile[TILE][TILE + 1];
    const int lc = get_local_id(0), li = get_local_id(1);
    const long c = get_global_id(0), i = get_global_id(1), bh = get_global_id(2);
    const long dv = o_ne.s0, n_q = o_ne.s1, heads = o_ne.s2, n_kv = v_ne.s1;
    const long h = bh % heads, b3 = bh / heads, kvh = h / (heads / v_ne.s2);
    const long v_base = v_off + kvh * v_nb.s2 + mc_bcast(v_ne.s3, b3) * v_nb.s3;
    const long c_first = (long)get_group_id(0) * TILE, i_first = (long)get_group_id(1) * TILE;
    __global const float *p = s + bh * n_q * n_kv;
    float acc = 0.0f;
    for (long j0 = 0; j0 < n_kv; j0 += TILE) {
        /* work-item (lc, li) stages p[i_first + li][j0 + lc] and v[c_first + lc, j0 + li] */
        const long pi = i_first + li, pj = j0 + lc, vj = j0 + li, vc = c_first + lc;
        p_tile[li][lc] = pi < n_q && pj < n_kv ? p[pi * n_kv + pj] : 0.0f;
        v_tile[li][lc] = vj < n_kv && vc < dv ? mc_load(v, v_base + vj * v_nb.s1 + vc * v_nb.s0, DT_V) : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int jj = 0; jj < TILE; jj++)
            acc = fma(p_tile[li][jj], v_tile[jj][lc], acc);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (c < dv && i < n_q)
        mc_store(o, o_off + c * o_nb.s0 + i * o_nb.s1 + h * o_nb.s2 + b3 * o_nb.s3, DT_O, acc);
}

/* Fused: one work-group per (query i, head bh) keeps q's row and its scores in __local. */
__kernel __attribute__((reqd_work_group_size(GROUP, 1, 1)))
void sdpa_fused(__global const uchar *q, long q_off, long4 q_ne, long4 q_nb,
                __global const uchar *k, long k_off, long4 k_ne, long4 k_nb,
                __global const uchar *v, long v_off, long4 v_ne, long4 v_nb,
                __global uchar *o, long o_off, long4 o_ne, long4 o_nb,
                float scale, int causal, long q_offset)
{
    __local float q_row[MAX_D];
    __local float p[MAX_KV];
    __local float scratch[GROUP];
    const int lid = get_local_id(0);
    const long d = q_ne.s0, heads = q_ne.s2, n_kv = k_ne.s1, dv = o_ne.s0;
    const long i = get_group_id(0), bh = get_group_id(1);
    const long h = bh % heads, b3 = bh / heads, kvh = h / (heads / k_ne.s2);
    const long q_base = q_off + i * q_nb.s1 + h * q_nb.s2 + b3 * q_nb.s3;
    const long k_base = k_off + kvh * k_nb.s2 + mc_bcast(k_ne.s3, b3) * k_nb.s3;
    const long v_base = v_off + kvh * v_nb.s2 + mc_bcast(v_ne.s3, b3) * v_nb.s3;
    const long visible = visible_keys(i, n_kv, causal, q_offset);

    for (long c = lid; c < d; c += GROUP)
        q_row[c] = mc_load(q, q_base + c * q_nb.s0, DT_Q);
    barrier(CLK_LOCAL_MEM_FENCE);

    /* scores of the visible keys, one key per work-item at a time */
    float mx = -INFINITY;
    for (long j = lid; j < visible; j += GROUP) {
        float acc = 0.0f;
        for (long c = 0; c < d; c++)
            acc = fma(q_row[c], mc_load(k, k_base + j * k_nb.s1 + c * k_nb.s0, DT_K), acc);
        p[j] = scale * acc;
        mx = fmax(mx, p[j]);
    }
    mx = group_reduce(scratch, mx, true);
    const bool empty = mx == -INFINITY;
    float sum = 0.0f;
    for (long j = lid; j < visible && !empty; j += GROUP) {
        const float e = exp(p[j] - mx);
        p[j] = e;
        sum += e;
    }
    sum = group_reduce(scratch, sum, false);
    for (long j = lid; j < visible && !empty; j += GROUP)
        p[j] = p[j] / sum;
    barrier(CLK_LOCAL_MEM_FENCE);

    /* o[c, i] = sum over visible keys of p[j] v[c, j]; neighbouring work-items read neighbouring c */
    for (long c = lid; c < dv; c += GROUP) {
        float acc = 0.0f;
        for (long j = 0; j < visible && !empty; j++)
            acc = fma(p[j], mc_load(v, v_base + j * v_nb.s1 + c * v_nb.s0, DT_V), acc);
        mc_store(o, o_off + c * o_nb.s0 + i * o_nb.s1 + h * o_nb.s2 + b3 * o_nb.s3, DT_O, acc);
    }
}
