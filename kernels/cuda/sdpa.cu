/* kernels/cuda/sdpa.cu: scaled dot-product attention with grouped-query heads, three ways: three
 * stages through an f32 score buffer, a fused QK-softmax kernel keeping a query's scores in shared
 * memory (the OpenCL sdpa.cl's two designs), and a flash-style warp kernel with an online softmax.
 * SPDX-License-Identifier: MIT */

/* Options:
 *   DT_Q, DT_K, DT_V, DT_O  dtype codes (common.cu)
 *   TILE                    side of the square tiles of the stage-1 and stage-3 kernels
 *   GROUP                   threads of the row kernels (a power of two)
 *   MAX_KV, MAX_D           fused kernel: the longest score row and query it keeps in shared memory
 *                           (flash: MAX_D only, the longest query and output row)
 *   FLASH_WARPS             flash kernel: warps (queries) per block
 *   FLASH_V_SMEM            flash kernel: 1: stage each group's values in shared memory too
 *   FLASH_DV_WORDS          flash kernel: output columns each lane keeps, ceil(dv / 32) (at most
 *                           MAX_D / 32): no lane loops over columns the case does not have
 * Tensors: q, o: ne = {d, n_q, heads, batch}; k, v: ne = {d, n_kv, kv_heads, batch}. Query head h reads
 * kv head h / (heads / kv_heads). Causal: key j is seen by query i only when j <= i + q_offset; a
 * query that sees no key gets a 0 row. Score buffer s: [batch][heads][n_q][n_kv], f32, packed. */

/* Keys [0, visible) are seen by query i. */
__device__ __forceinline__ i64 visible_keys(i64 i, i64 n_kv, int causal, i64 q_offset)
{
    if (!causal)
        return n_kv;
    const i64 last = i + q_offset;
    return last < 0 ? 0 : (last + 1 < n_kv ? last + 1 : n_kv);
}

/* Stage 1: s[bh][i][j] = scale * q[:, i] . k[:, j] for visible keys, -inf for masked ones.
 * Block (TILE, TILE) computes a TILE x TILE block, staging TILE-wide slices of d. */
extern "C" __global__ void __launch_bounds__(TILE * TILE)
sdpa_scores(mc_t q, mc_t k, float *s, float scale, int causal, i64 q_offset)
{
    __shared__ float q_tile[TILE][TILE + 1];
    __shared__ float k_tile[TILE][TILE + 1];
    const int lj = threadIdx.x, li = threadIdx.y;
    const i64 i_first = (i64)blockIdx.y * TILE, j_first = (i64)blockIdx.x * TILE;
    const i64 j = j_first + lj, i = i_first + li, bh = blockIdx.z;
    const i64 d = q.ne[0], n_q = q.ne[1], heads = q.ne[2], n_kv = k.ne[1];
    const i64 h = bh % heads, b3 = bh / heads, kvh = h / (heads / k.ne[2]);
    const i64 q_base = q.off + h * q.nb[2] + b3 * q.nb[3];
    const i64 k_base = k.off + kvh * k.nb[2] + mc_bcast(k.ne[3], b3) * k.nb[3];
    float acc = 0.0f;
    for (i64 c0 = 0; c0 < d; c0 += TILE) {
        /* thread (lj, li) stages q[c0 + lj, i_first + li] and k[c0 + lj, j_first + li] */
        const i64 c = c0 + lj, qi = i_first + li, kj = j_first + li;
        q_tile[li][lj] = c < d && qi < n_q ? mc_load(q.base, q_base + qi * q.nb[1] + c * q.nb[0], DT_Q) : 0.0f;
        k_tile[li][lj] = c < d && kj < n_kv ? mc_load(k.base, k_base + kj * k.nb[1] + c * k.nb[0], DT_K) : 0.0f;
        __syncthreads();
        for (int cc = 0; cc < TILE; cc++)
            acc = fmaf(q_tile[li][cc], k_tile[lj][cc], acc);
        __syncthreads();
    }
    if (i < n_q && j < n_kv)
        s[(bh * n_q + i) * n_kv + j] = j < visible_keys(i, n_kv, causal, q_offset) ? scale * acc : -MC_INF;
}

/* Stage 2: each score row becomes probabilities in place (0 where masked; an empty row is all 0). */
extern "C" __global__ void __launch_bounds__(GROUP) sdpa_softmax(float *s, i64 n_kv)
{
    __shared__ float scratch[GROUP];
    const int lid = threadIdx.x;
    float *row = s + (i64)blockIdx.x * n_kv;
    float mx = -MC_INF;
    for (i64 j = lid; j < n_kv; j += GROUP)
        mx = fmaxf(mx, row[j]);
    mx = mc_group_reduce<GROUP>(scratch, mx, true);
    const bool empty = mx == -MC_INF;
    float sum = 0.0f;
    for (i64 j = lid; j < n_kv && !empty; j += GROUP) {
        const float e = expf(row[j] - mx);
        row[j] = e;
        sum += e;
    }
    sum = mc_group_reduce<GROUP>(scratch, sum, false);
    for (i64 j = lid; j < n_kv; j += GROUP)
        row[j] = empty ? 0.0f : row[j] / sum;
}

/* Stage 3: o[c, i] = sum_j p[i][j] * v[c, j]. Block (TILE, TILE) computes a block of
 * (TILE columns c) x (TILE queries i), staging TILE keys at a time. */
extern "C" __global__ void __launch_bounds__(TILE * TILE) sdpa_pv(const float *s, mc_t v, mc_t o)
{
    __shared__ float p_tile[TILE][TILE + 1];
    __shared__ float v_tile[TILE][TILE + 1];
    const int lc = threadIdx.x, li = threadIdx.y;
    const i64 c_first = (i64)blockIdx.x * TILE, i_first = (i64)blockIdx.y * TILE;
    const i64 c = c_first + lc, i = i_first + li, bh = blockIdx.z;
    const i64 dv = o.ne[0], n_q = o.ne[1], heads = o.ne[2], n_kv = v.ne[1];
    const i64 h = bh % heads, b3 = bh / heads, kvh = h / (heads / v.ne[2]);
    const i64 v_base = v.off + kvh * v.nb[2] + mc_bcast(v.ne[3], b3) * v.nb[3];
    const float *p = s + bh * n_q * n_kv;
    float acc = 0.0f;
    for (i64 j0 = 0; j0 < n_kv; j0 += TILE) {
        /* thread (lc, li) stages p[i_first + li][j0 + lc] and v[c_first + lc, j0 + li] */
        const i64 pi = i_first + li, pj = j0 + lc, vj = j0 + li, vc = c_first + lc;
        p_tile[li][lc] = pi < n_q && pj < n_kv ? p[pi * n_kv + pj] : 0.0f;
        v_tile[li][lc] = vj < n_kv && vc < dv ? mc_load(v.base, v_base + vj * v.nb[1] + vc * v.nb[0], DT_V) : 0.0f;
        __syncthreads();
        for (int jj = 0; jj < TILE; jj++)
            acc = fmaf(p_tile[li][jj], v_tile[jj][lc], acc);
        __syncthreads();
    }
    if (c < dv && i < n_q)
        mc_store(o.base, o.off + c * o.nb[0] + i * o.nb[1] + h * o.nb[2] + b3 * o.nb[3], DT_O, acc);
}

/* Fused: one block per (query i, head bh) keeps q's row and its scores in shared memory. */
extern "C" __global__ void __launch_bounds__(GROUP)
sdpa_fused(mc_t q, mc_t k, mc_t v, mc_t o, float scale, int causal, i64 q_offset)
{
    __shared__ float q_row[MAX_D];
    __shared__ float p[MAX_KV];
    __shared__ float scratch[GROUP];
    const int lid = threadIdx.x;
    const i64 d = q.ne[0], heads = q.ne[2], n_kv = k.ne[1], dv = o.ne[0];
    const i64 i = blockIdx.x, bh = blockIdx.y;
    const i64 h = bh % heads, b3 = bh / heads, kvh = h / (heads / k.ne[2]);
    const i64 q_base = q.off + i * q.nb[1] + h * q.nb[2] + b3 * q.nb[3];
    const i64 k_base = k.off + kvh * k.nb[2] + mc_bcast(k.ne[3], b3) * k.nb[3];
    const i64 v_base = v.off + kvh * v.nb[2] + mc_bcast(v.ne[3], b3) * v.nb[3];
    const i64 visible = visible_keys(i, n_kv, causal, q_offset);

    for (i64 c = lid; c < d; c += GROUP)
        q_row[c] = mc_load(q.base, q_base + c * q.nb[0], DT_Q);
    __syncthreads();

    /* scores of the visible keys, one key per thread at a time */
    float mx = -MC_INF;
    for (i64 j = lid; j < visible; j += GROUP) {
        float acc = 0.0f;
        for (i64 c = 0; c < d; c++)
            acc = fmaf(q_row[c], mc_load(k.base, k_base + j * k.nb[1] + c * k.nb[0], DT_K), acc);
        p[j] = scale * acc;
        mx = fmaxf(mx, p[j]);
    }
    mx = mc_group_reduce<GROUP>(scratch, mx, true);
    const bool empty = mx == -MC_INF;
    float sum = 0.0f;
    for (i64 j = lid; j < visible && !empty; j += GROUP) {
        const float e = expf(p[j] - mx);
        p[j] = e;
        sum += e;
    }
    sum = mc_group_reduce<GROUP>(scratch, sum, false);
    for (i64 j = lid; j < visible && !empty; j += GROUP)
        p[j] = p[j] / sum;
    __syncthreads();

    /* o[c, i] = sum over visible keys of p[j] v[c, j]; neighbouring threads read neighbouring c */
    for (i64 c = lid; c < dv; c += GROUP) {
        float acc = 0.0f;
        for (i64 j = 0; j < visible && !empty; j++)
            acc = fmaf(p[j], mc_load(v.base, v_base + j * v.nb[1] + c * v.nb[0], DT_V), acc);
        mc_store(o.base, o.off + c * o.nb[0] + i * o.nb[1] + h * o.nb[2] + b3 * o.nb[3], DT_O, acc);
    }
}

/* Flash-style, split over keys (flash-decoding): a block of FLASH_WARPS warps takes consecutive
 * queries i of one head bh and one key chunk z (gridDim.z chunks of `chunk` keys, chosen by the
 * host to fill the device). Keys come 32 at a time: the block stages them in shared memory as f32
 * (k_tile, rows padded by one float: no bank conflicts; neighbouring threads read neighbouring
 * elements of a key, so the loads coalesce), then each warp's lane j scores key j for the warp's
 * query, with an online softmax: the running max m, the running sum l and the output accumulators
 * (lane owns columns lane, lane + 32, ...) are rescaled by exp(m_old - m_new) as each group
 * arrives, so no score row is stored and n_kv is unbounded. Each warp writes its (m, l, acc[dv])
 * unnormalised to part[((bh * n_q + i) * splits + z) * (dv + 2) ...]; sdpa_flash_combine merges the
 * chunks. A chunk that i sees none of gives m = -inf, l = 0. Dynamic shared memory: q_rows
 * [FLASH_WARPS][d], then k_tile [32][d + 1], then (FLASH_V_SMEM=1) v_tile [32][dv], floats: with
 * the values staged too, every load of a group is in flight at once (one per key from global, in
 * turn, left the first split kernel 1.5x slower than the three stages on the H200). */
#define D_PER_LANE FLASH_DV_WORDS

extern "C" __global__ void __launch_bounds__(32 * FLASH_WARPS)
sdpa_flash(mc_t q, mc_t k, mc_t v, float *part, float scale, int causal, i64 q_offset, i64 chunk)
{
    extern __shared__ float flash_smem[];
    const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
    const i64 d = q.ne[0], n_q = q.ne[1], heads = q.ne[2], n_kv = k.ne[1], dv = v.ne[0];
    const i64 i0 = (i64)blockIdx.x * FLASH_WARPS, bh = blockIdx.y, z = blockIdx.z, splits = gridDim.z;
    const i64 i = i0 + w;
    const bool query = i < n_q; /* warps past the last query still stage keys for the others */
    const i64 h = bh % heads, b3 = bh / heads, kvh = h / (heads / k.ne[2]);
    const i64 k_base = k.off + kvh * k.nb[2] + mc_bcast(k.ne[3], b3) * k.nb[3];
    const i64 v_base = v.off + kvh * v.nb[2] + mc_bcast(v.ne[3], b3) * v.nb[3];
    const i64 visible = query ? visible_keys(i, n_kv, causal, q_offset) : 0;
    const i64 last_q = i0 + FLASH_WARPS - 1 < n_q ? i0 + FLASH_WARPS - 1 : n_q - 1;
    const i64 block_visible = visible_keys(last_q, n_kv, causal, q_offset); /* the most any warp sees */
    const i64 first = z * chunk;
    const i64 end = first + chunk < visible ? first + chunk : visible;
    const i64 block_end = first + chunk < block_visible ? first + chunk : block_visible;
    float *q_row = flash_smem + w * d, *k_tile = flash_smem + FLASH_WARPS * d;
#if FLASH_V_SMEM
    float *v_tile = k_tile + 32 * (d + 1);
#endif
    if (query) {
        const i64 q_base = q.off + i * q.nb[1] + h * q.nb[2] + b3 * q.nb[3];
        for (i64 c = lane; c < d; c += 32)
            q_row[c] = mc_load(q.base, q_base + c * q.nb[0], DT_Q);
    }

    float m = -MC_INF, l = 0.0f, acc[D_PER_LANE];
#pragma unroll
    for (int t = 0; t < D_PER_LANE; t++)
        acc[t] = 0.0f;
    for (i64 j0 = first; j0 < block_end; j0 += 32) {
        const int group = block_end - j0 < 32 ? (int)(block_end - j0) : 32;
        __syncthreads(); /* the last group's k_tile is read; q_row is written */
        /* warp w stages keys w, w + FLASH_WARPS, ..., its lanes along the key (no 64-bit division
         * per element: with one, staging alone cost more than the three-stage variant's whole run) */
        for (int jj = w; jj < group; jj += FLASH_WARPS) {
            const i64 k_row = k_base + (j0 + jj) * k.nb[1];
            for (int c = lane; c < (int)d; c += 32)
                k_tile[jj * (d + 1) + c] = mc_load(k.base, k_row + c * k.nb[0], DT_K);
#if FLASH_V_SMEM
            const i64 v_row = v_base + (j0 + jj) * v.nb[1];
            for (int c = lane; c < (int)dv; c += 32)
                v_tile[jj * dv + c] = mc_load(v.base, v_row + c * v.nb[0], DT_V);
#endif
        }
        __syncthreads();
        if (j0 >= end) /* this warp's query sees none of this group; the block may go on */
            continue;
        const i64 j = j0 + lane;
        float s = -MC_INF;
        if (j < end) {
            const float *kr = k_tile + lane * (d + 1);
            float dot = 0.0f;
            for (i64 c = 0; c < d; c++)
                dot = fmaf(q_row[c], kr[c], dot);
            s = scale * dot;
        }
        const float m_new = fmaxf(m, mc_group_reduce<32>(nullptr, s, true)); /* finite: key j0 is visible */
        const float rescale = expf(m - m_new);   /* 0 on the first group (m = -inf) */
        const float pj = j < end ? expf(s - m_new) : 0.0f;
        l = l * rescale + mc_group_reduce<32>(nullptr, pj, false);
        m = m_new;
#pragma unroll
        for (int t = 0; t < D_PER_LANE; t++)
            acc[t] *= rescale;
        const int keys = end - j0 < 32 ? (int)(end - j0) : 32;
        for (int jj = 0; jj < keys; jj++) {
            const float p_jj = __shfl_sync(0xFFFFFFFFu, pj, jj);
#if FLASH_V_SMEM
            const float *vr = v_tile + jj * dv;
#else
            const i64 row = v_base + (j0 + jj) * v.nb[1];
#endif
#pragma unroll
            for (int t = 0; t < D_PER_LANE; t++) {
                const i64 c = lane + 32 * t;
#if FLASH_V_SMEM
                if (c < dv)
                    acc[t] = fmaf(p_jj, vr[c], acc[t]);
#else
                if (c < dv)
                    acc[t] = fmaf(p_jj, mc_load(v.base, row + c * v.nb[0], DT_V), acc[t]);
#endif
            }
        }
    }
    if (!query)
        return;
    float *out = part + ((bh * n_q + i) * splits + z) * (dv + 2);
    if (lane == 0) {
        out[0] = m;
        out[1] = l;
    }
#pragma unroll
    for (int t = 0; t < D_PER_LANE; t++) {
        const i64 c = lane + 32 * t;
        if (c < dv)
            out[2 + c] = acc[t];
    }
}

/* The chunks of each (query i, head bh) merged: one warp per query row, rows in the partials'
 * order (bh * n_q + i). With M the largest chunk max, o = sum_z acc_z exp(m_z - M) / sum_z l_z
 * exp(m_z - M), chunks in order z = 0, 1, ... (fixed: reproducible). A query that sees no key (every
 * m_z = -inf) gets a 0 row. */
extern "C" __global__ void __launch_bounds__(32 * FLASH_WARPS)
sdpa_flash_combine(const float *part, mc_t o, i64 splits)
{
    const int lane = threadIdx.x % 32;
    const i64 dv = o.ne[0], n_q = o.ne[1], heads = o.ne[2];
    const i64 r = (i64)blockIdx.x * FLASH_WARPS + threadIdx.x / 32;
    if (r >= n_q * o.ne[2] * o.ne[3])
        return;
    const i64 i = r % n_q, bh = r / n_q, h = bh % heads, b3 = bh / heads;
    const float *p = part + r * splits * (dv + 2);
    float mx = -MC_INF;
    for (i64 z = 0; z < splits; z++)
        mx = fmaxf(mx, p[z * (dv + 2)]);
    float l = 0.0f;
    for (i64 z = 0; z < splits && mx != -MC_INF; z++)
        l += p[z * (dv + 2) + 1] * expf(p[z * (dv + 2)] - mx);
    for (i64 c = lane; c < dv; c += 32) {
        float acc = 0.0f;
        for (i64 z = 0; z < splits && mx != -MC_INF; z++)
            acc = fmaf(p[z * (dv + 2) + 2 + c], expf(p[z * (dv + 2)] - mx), acc);
        mc_store(o.base, o.off + c * o.nb[0] + i * o.nb[1] + h * o.nb[2] + b3 * o.nb[3], DT_O,
                 mx != -MC_INF ? acc / l : 0.0f);
    }
}
