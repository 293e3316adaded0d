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
 *   FLASH_WARPS             flash kernel: warps per block
 *   FLASH_ROWS              flash kernel: query rows each warp scores every key against
 *   FLASH_MAX_SPLITS        flash kernel: the most key chunks a row is split into (the combine's weights)
 *   FLASH_V_SMEM            flash kernel: 1: stage each group's values in shared memory too
 *   FLASH_DV_WORDS          flash kernel: output columns each lane keeps, ceil(dv / 32) (at most
 *                           MAX_D / 32): no lane loops over columns the case does not have
 *   FLASH_D_WORDS           flash kernel: ceil(d / 32), the key elements a lane stages per key
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
 * (TILE columns c) x (TILE queries i), staging TILE keys at a time; thread (lc, li) loads the next
 * tile's p[i_first + li][j0 + lc] and v[c_first + lc, j0 + li] into registers before it works
 * through the current one, so the loads' latency overlaps the arithmetic. */
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
    const float *p_row = s + (bh * n_q + i) * n_kv; /* read only when i < n_q */
    const i64 vc = c_first + lc;
    float acc = 0.0f, p_next = 0.0f, v_next = 0.0f;
    if (i < n_q && lc < n_kv)
        p_next = p_row[lc];
    if (li < n_kv && vc < dv)
        v_next = mc_load(v.base, v_base + li * v.nb[1] + vc * v.nb[0], DT_V);
    for (i64 j0 = 0; j0 < n_kv; j0 += TILE) {
        p_tile[li][lc] = p_next;
        v_tile[li][lc] = v_next;
        __syncthreads();
        const i64 pj = j0 + TILE + lc, vj = j0 + TILE + li;
        p_next = i < n_q && pj < n_kv ? p_row[pj] : 0.0f;
        v_next = vj < n_kv && vc < dv ? mc_load(v.base, v_base + vj * v.nb[1] + vc * v.nb[0], DT_V) : 0.0f;
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

/* Flash-style, split over keys (flash-decoding), with the query rows of a kv head packed together.
 * The heads that share kv head kvh (heads / kv_heads of them) read the same keys and values, so a
 * block takes FLASH_WARPS * FLASH_ROWS query rows of those heads (row u of the kv head is query
 * u % n_q of head kvh * group + u / n_q) and one key chunk z (gridDim.z chunks of `chunk` keys,
 * chosen by the host to fill the device): each key it stages serves every row of the block, not
 * one query per warp. Keys come 32 at a time: the block stages them in shared memory as f32
 * (k_tile, rows padded by one float: no bank conflicts; neighbouring threads read neighbouring
 * elements of a key, so the loads coalesce), then lane j of each warp scores key j against the
 * warp's FLASH_ROWS rows, with an online softmax per row: the running max m, the lane's share of
 * the running sum l (summed over the warp once, at the end) and the output accumulators (lane owns
 * columns lane, lane + 32, ...) are rescaled by exp(m_old - m_new) as each group arrives, so no
 * score row is stored and n_kv is unbounded. Each row's (m, l, acc[dv]) goes unnormalised to
 * part[((bh * n_q + i) * splits + z) * (dv + 2) ...]; sdpa_flash_combine merges the chunks. A chunk
 * that row i sees none of gives m = -inf, l = 0. Dynamic shared memory: q_rows [rows][d], then
 * k_tile [32][d + 1], then (FLASH_V_SMEM=1) v_tile [32][dv], floats. */
#define D_PER_LANE FLASH_DV_WORDS
#define KEYS_PER_WARP (32 / FLASH_WARPS)
#define BLOCK_ROWS (FLASH_WARPS * FLASH_ROWS)

/* Stages keys j0 .. j0 + group - 1 as f32 rows of k_tile (pitch d + 1) and, when v_tile is not
 * NULL, their values (pitch dv): warp w takes keys w, w + FLASH_WARPS, ..., its lanes along the
 * row. Every load of a thread is issued before its first store (a store to shared memory through a
 * plain pointer may alias the next load: storing as it went, the kernel waited one memory latency
 * per element and ran slower than the three-stage variant), and no 64-bit division per element. */
__device__ __forceinline__ void stage_group(float *k_tile, const mc_t &k, i64 k_base, float *v_tile, const mc_t &v,
                                            i64 v_base, i64 j0, int group, int d, int dv, int w, int lane)
{
    float kr[KEYS_PER_WARP][FLASH_D_WORDS], vr[KEYS_PER_WARP][D_PER_LANE];
#pragma unroll
    for (int t = 0; t < KEYS_PER_WARP; t++) {
        const int jj = w + FLASH_WARPS * t;
#pragma unroll
        for (int u = 0; u < FLASH_D_WORDS; u++) {
            const int c = lane + 32 * u;
            if (jj < group && c < d)
                kr[t][u] = mc_load(k.base, k_base + (j0 + jj) * k.nb[1] + c * k.nb[0], DT_K);
        }
#pragma unroll
        for (int u = 0; u < D_PER_LANE; u++) {
            const int c = lane + 32 * u;
            if (v_tile && jj < group && c < dv)
                vr[t][u] = mc_load(v.base, v_base + (j0 + jj) * v.nb[1] + c * v.nb[0], DT_V);
        }
    }
#pragma unroll
    for (int t = 0; t < KEYS_PER_WARP; t++) {
        const int jj = w + FLASH_WARPS * t;
#pragma unroll
        for (int u = 0; u < FLASH_D_WORDS; u++) {
            const int c = lane + 32 * u;
            if (jj < group && c < d)
                k_tile[jj * (d + 1) + c] = kr[t][u];
        }
#pragma unroll
        for (int u = 0; u < D_PER_LANE; u++) {
            const int c = lane + 32 * u;
            if (v_tile && jj < group && c < dv)
                v_tile[jj * dv + c] = vr[t][u];
        }
    }
}

/* Where the block's rows are: block row t is row u = blockIdx.x * BLOCK_ROWS + t of kv head kvh
 * (of batch b3), query i = u % n_q of head h; valid when u < group * n_q. */
struct flash_row {
    bool valid;
    i64 i, bh;
};

__device__ __forceinline__ flash_row flash_row_of(int t, i64 n_q, i64 heads, i64 kv_heads)
{
    const i64 group = heads / kv_heads, kvh = blockIdx.y % kv_heads, b3 = blockIdx.y / kv_heads;
    const i64 u = (i64)blockIdx.x * BLOCK_ROWS + t;
    flash_row r;
    r.valid = u < group * n_q;
    r.i = u % n_q;
    r.bh = b3 * heads + kvh * group + u / n_q;
    return r;
}

/* The most keys any row of the block sees: visible_keys grows with i, so it is that of the largest
 * i among the block's rows (n_q - 1 when they span two heads). */
__device__ __forceinline__ i64 flash_block_visible(i64 n_q, i64 heads, i64 kv_heads, i64 n_kv, int causal, i64 q_offset)
{
    const i64 rows = heads / kv_heads * n_q, u0 = (i64)blockIdx.x * BLOCK_ROWS;
    const i64 u1 = (u0 + BLOCK_ROWS < rows ? u0 + BLOCK_ROWS : rows) - 1;
    const i64 last_i = u0 / n_q == u1 / n_q ? u1 % n_q : n_q - 1;
    return visible_keys(last_i, n_kv, causal, q_offset);
}

/* dot[r] = q_rows[r] . key, for the warp's FLASH_ROWS query rows (q_rows pitch d); float4 reads of
 * the query rows when d is a multiple of 4 (the rows then start on 16-byte boundaries). */
__device__ __forceinline__ void flash_scores(const float *q_rows, const float *key, int d, float dot[FLASH_ROWS])
{
#pragma unroll
    for (int r = 0; r < FLASH_ROWS; r++)
        dot[r] = 0.0f;
    int c = 0;
    if (d % 4 == 0)
        for (; c < d; c += 4) {
            const float k0 = key[c], k1 = key[c + 1], k2 = key[c + 2], k3 = key[c + 3];
#pragma unroll
            for (int r = 0; r < FLASH_ROWS; r++) {
                const float4 qv = *(const float4 *)(q_rows + r * d + c);
                dot[r] = fmaf(qv.x, k0, dot[r]);
                dot[r] = fmaf(qv.y, k1, dot[r]);
                dot[r] = fmaf(qv.z, k2, dot[r]);
                dot[r] = fmaf(qv.w, k3, dot[r]);
            }
        }
    for (; c < d; c++) {
        const float kc = key[c];
#pragma unroll
        for (int r = 0; r < FLASH_ROWS; r++)
            dot[r] = fmaf(q_rows[r * d + c], kc, dot[r]);
    }
}

extern "C" __global__ void __launch_bounds__(32 * FLASH_WARPS, 3)
sdpa_flash(mc_t q, mc_t k, mc_t v, float *part, float scale, int causal, i64 q_offset, i64 chunk)
{
    extern __shared__ __align__(16) float flash_smem[];
    const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
    const i64 d = q.ne[0], n_q = q.ne[1], heads = q.ne[2], kv_heads = k.ne[2], n_kv = k.ne[1], dv = v.ne[0];
    const i64 z = blockIdx.z, splits = gridDim.z, kvh = blockIdx.y % kv_heads, b3 = blockIdx.y / kv_heads;
    const i64 k_base = k.off + kvh * k.nb[2] + mc_bcast(k.ne[3], b3) * k.nb[3];
    const i64 v_base = v.off + kvh * v.nb[2] + mc_bcast(v.ne[3], b3) * v.nb[3];
    const i64 first = z * chunk;
    const i64 block_visible = flash_block_visible(n_q, heads, kv_heads, n_kv, causal, q_offset);
    const i64 block_end = first + chunk < block_visible ? first + chunk : block_visible;
    float *q_rows = flash_smem + w * FLASH_ROWS * d, *k_tile = flash_smem + BLOCK_ROWS * d;
#if FLASH_V_SMEM
    float *v_tile_or_null = k_tile + 32 * (d + 1);
#else
    float *v_tile_or_null = nullptr;
#endif
    /* seen[r]: how many keys of the chunk row r sees (they are keys first .. first + seen[r] - 1) */
    int seen[FLASH_ROWS], warp_seen = 0;
#pragma unroll
    for (int r = 0; r < FLASH_ROWS; r++) {
        const flash_row row = flash_row_of(w * FLASH_ROWS + r, n_q, heads, kv_heads);
        const i64 visible = row.valid ? visible_keys(row.i, n_kv, causal, q_offset) : 0;
        seen[r] = (int)(visible <= first ? 0 : (visible - first < chunk ? visible - first : chunk));
        warp_seen = seen[r] > warp_seen ? seen[r] : warp_seen;
        const i64 q_base = q.off + row.i * q.nb[1] + (row.bh % heads) * q.nb[2] + b3 * q.nb[3];
        for (i64 c = lane; c < d; c += 32) /* a row past the last is zeros: its scores are never used */
            q_rows[r * d + c] = row.valid ? mc_load(q.base, q_base + c * q.nb[0], DT_Q) : 0.0f;
    }

    float m[FLASH_ROWS], l[FLASH_ROWS], acc[FLASH_ROWS][D_PER_LANE];
#pragma unroll
    for (int r = 0; r < FLASH_ROWS; r++) {
        m[r] = -MC_INF;
        l[r] = 0.0f;
#pragma unroll
        for (int t = 0; t < D_PER_LANE; t++)
            acc[r][t] = 0.0f;
    }
    for (i64 j0 = first; j0 < block_end; j0 += 32) {
        const int group = block_end - j0 < 32 ? (int)(block_end - j0) : 32;
        __syncthreads(); /* the last group's tiles are read; q_rows are written */
        stage_group(k_tile, k, k_base, v_tile_or_null, v, v_base, j0, group, (int)d, (int)dv, w, lane);
        __syncthreads();
        const int jr = (int)(j0 - first), j = jr + lane; /* key j0 + lane, counted from the chunk's first */
        if (jr >= warp_seen) /* no row of this warp sees any key of this group; the block may go on */
            continue;
        float dot[FLASH_ROWS], p[FLASH_ROWS];
        flash_scores(q_rows, k_tile + lane * (d + 1), (int)d, dot);
#pragma unroll
        for (int r = 0; r < FLASH_ROWS; r++) {
            p[r] = 0.0f;
            if (jr >= seen[r]) /* warp-uniform: this row sees none of the group */
                continue;
            const float s = j < seen[r] ? scale * dot[r] : -MC_INF;
            const float m_new = fmaxf(m[r], mc_warp_reduce(s, true)); /* finite: key j0 is visible */
            const float rescale = expf(m[r] - m_new);                /* 0 on the first group (m = -inf) */
            p[r] = j < seen[r] ? expf(s - m_new) : 0.0f;
            l[r] = l[r] * rescale + p[r]; /* this lane's share; the warp's sum is taken at the end */
            m[r] = m_new;
#pragma unroll
            for (int t = 0; t < D_PER_LANE; t++)
                acc[r][t] *= rescale;
        }
        const int keys = warp_seen - jr < 32 ? warp_seen - jr : 32;
        for (int jj = 0; jj < keys; jj++) {
            float vr[D_PER_LANE];
#pragma unroll
            for (int t = 0; t < D_PER_LANE; t++) {
                const i64 c = lane + 32 * t;
#if FLASH_V_SMEM
                vr[t] = c < dv ? v_tile_or_null[jj * dv + c] : 0.0f;
#else
                vr[t] = c < dv ? mc_load(v.base, v_base + (j0 + jj) * v.nb[1] + c * v.nb[0], DT_V) : 0.0f;
#endif
            }
#pragma unroll
            for (int r = 0; r < FLASH_ROWS; r++) {
                const float p_jj = __shfl_sync(0xFFFFFFFFu, p[r], jj); /* 0 for a row that does not see jj */
#pragma unroll
                for (int t = 0; t < D_PER_LANE; t++)
                    acc[r][t] = fmaf(p_jj, vr[t], acc[r][t]);
            }
        }
    }
#pragma unroll
    for (int r = 0; r < FLASH_ROWS; r++) {
        const float l_row = mc_warp_reduce(l[r], false);
        /* worked out again, not kept from the start: held through the loop, the rows' indices
         * pushed the kernel past its register budget */
        const flash_row row = flash_row_of(w * FLASH_ROWS + r, n_q, heads, kv_heads);
        if (!row.valid)
            continue;
        float *out = part + ((row.bh * n_q + row.i) * splits + z) * (dv + 2);
        if (lane == 0) {
            out[0] = m[r];
            out[1] = l_row;
        }
#pragma unroll
        for (int t = 0; t < D_PER_LANE; t++) {
            const i64 c = lane + 32 * t;
            if (c < dv)
                out[2 + c] = acc[r][t];
        }
    }
}

/* The chunks of each (query i, head bh) merged: one warp per query row, rows in the partials'
 * order (bh * n_q + i). With M the largest chunk max, o = sum_z acc_z exp(m_z - M) / sum_z l_z
 * exp(m_z - M). The lanes take the chunks for M and the weights w_z = exp(m_z - M) (kept in
 * shared memory), then the columns, each lane summing its column over z = 0, 1, ... in order
 * (fixed: reproducible). A query that sees no key (every m_z = -inf) gets a 0 row. */
extern "C" __global__ void __launch_bounds__(32 * FLASH_WARPS)
sdpa_flash_combine(const float *part, mc_t o, i64 splits)
{
    __shared__ float weights[FLASH_WARPS][FLASH_MAX_SPLITS];
    const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
    const i64 dv = o.ne[0], n_q = o.ne[1], heads = o.ne[2];
    const i64 r = (i64)blockIdx.x * FLASH_WARPS + w;
    if (r >= n_q * o.ne[2] * o.ne[3])
        return;
    const i64 i = r % n_q, bh = r / n_q, h = bh % heads, b3 = bh / heads;
    const float *p = part + r * splits * (dv + 2);
    float mx = -MC_INF;
    for (i64 z = lane; z < splits; z += 32)
        mx = fmaxf(mx, p[z * (dv + 2)]);
    mx = mc_warp_reduce(mx, true);
    float l = 0.0f;
    for (i64 z = lane; z < splits; z += 32) {
        const float wz = mx == -MC_INF ? 0.0f : expf(p[z * (dv + 2)] - mx);
        weights[w][z] = wz;
        l += p[z * (dv + 2) + 1] * wz;
    }
    l = mc_warp_reduce(l, false);
    __syncwarp();
    for (i64 c = lane; c < dv; c += 32) {
        float acc = 0.0f;
#pragma unroll 8
        for (i64 z = 0; z < splits; z++)
            acc = fmaf(p[z * (dv + 2) + 2 + c], weights[w][z], acc);
        mc_store(o.base, o.off + c * o.nb[0] + i * o.nb[1] + h * o.nb[2] + b3 * o.nb[3], DT_O,
                 mx != -MC_INF ? acc / l : 0.0f);
    }
}
