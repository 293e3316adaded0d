/* kernels/cuda/softmax.cu: row softmax, GROUP threads per row (a warp, with shuffle reductions, or a
 * whole block, with a shared-memory tree), vectorised where the host proved alignment and blocked
 * through a shared-memory copy of the row when it fits (the OpenCL softmax.cl's passes).
 * SPDX-License-Identifier: MIT */

/* Options:
 *   GROUP        threads per row (a power of two; 32: one warp per row)
 *   ROWS         rows per block (threadIdx.y); GROUP * ROWS <= 1024
 *   CACHE_COLS   floats of each row kept in shared memory: rows up to this long are read once
 *   DT_X, DT_Y   dtype codes (common.cu)
 *   X_VEC, Y_VEC 1: rows are contiguous and start 4-element aligned, so threads move blocks of 4;
 *                0: one element at a time through the strides
 * Passes: (1) scaled row into the cache and the row max, (2) exponentials and their sum, (3) the
 * normalised row out. Rows of at most REG_COLS columns, a multiple of 4, with x and y vectorised
 * (X_VEC, Y_VEC), stay in registers instead of the cache. A row with nothing visible (causal) or only -inf has no mass: it is all 0.
 * Reductions run in a fixed order: results are bitwise reproducible. */

#define LOADS_IN_FLIGHT 4

__device__ __forceinline__ float x_at(const u8 *x, i64 row, i64 nb0, float scale, i64 j)
{
    return scale * mc_load(x, row + j * nb0, DT_X);
}

#if X_VEC && Y_VEC
/* Rows of at most REG_COLS columns, a multiple of 4, contiguous and aligned in x and y: each thread
 * keeps its LOADS_IN_FLIGHT blocks of 4 in registers through all three passes, so the row is read
 * once, every load is in flight before the first use, and no pass goes through shared memory. */
#define REG_COLS (4 * GROUP * LOADS_IN_FLIGHT)

/* Element t of v; t is a constant once the loops over it unroll, so v stays in registers. */
__device__ __forceinline__ float &element_of(float4 &v, int t)
{
    return t == 0 ? v.x : t == 1 ? v.y : t == 2 ? v.z : v.w;
}

__device__ __forceinline__ void softmax_row_in_registers(const mc_t &x, const mc_t &y, i64 xr, i64 yr, float scale,
                                                         i64 visible, float *scratch)
{
    const i64 cols = x.ne[0];
    float4 v[LOADS_IN_FLIGHT];
#pragma unroll
    for (int u = 0; u < LOADS_IN_FLIGHT; u++) {
        const i64 j = 4 * ((i64)threadIdx.x + GROUP * u);
        v[u] = j < cols ? mc_load4(x.base, xr + j * ELEM_BYTES(DT_X), DT_X) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    }
    /* pass 1: the visible columns scaled, the rest -inf; the row max */
    float mx = -MC_INF;
#pragma unroll
    for (int u = 0; u < LOADS_IN_FLIGHT; u++)
#pragma unroll
        for (int t = 0; t < 4; t++) {
            float &e = element_of(v[u], t);
            e = 4 * ((i64)threadIdx.x + GROUP * u) + t < visible ? scale * e : -MC_INF;
            mx = fmaxf(mx, e);
        }
    mx = mc_group_reduce<GROUP>(scratch, mx, true);
    const bool empty = mx == -MC_INF;
    /* pass 2: exponentials and their sum; -inf entries (masked or given) give exactly 0 */
    float sum = 0.0f;
#pragma unroll
    for (int u = 0; u < LOADS_IN_FLIGHT; u++)
#pragma unroll
        for (int t = 0; t < 4; t++) {
            float &e = element_of(v[u], t);
            e = empty ? 0.0f : expf(e - mx);
            sum += e;
        }
    sum = mc_group_reduce<GROUP>(scratch, sum, false);
    /* pass 3: the normalised row out, a reciprocal and a multiply (two roundings, as the op's bound
     * allows: norm_ops); an empty row is all 0 */
    const float inv = empty ? 0.0f : 1.0f / sum;
#pragma unroll
    for (int u = 0; u < LOADS_IN_FLIGHT; u++) {
        const i64 j = 4 * ((i64)threadIdx.x + GROUP * u);
        if (j >= cols)
            continue;
#pragma unroll
        for (int t = 0; t < 4; t++)
            element_of(v[u], t) *= inv;
        mc_store4(y.base, yr + j * ELEM_BYTES(DT_Y), DT_Y, v[u]);
    }
}
#endif

extern "C" __global__ void __launch_bounds__(GROUP * ROWS)
softmax_rows(mc_t x, mc_t y, float scale, int causal, i64 q_offset)
{
    __shared__ __align__(16) float caches[ROWS][CACHE_COLS];
    __shared__ float scratches[ROWS][GROUP];
    float *cache = caches[threadIdx.y], *scratch = scratches[threadIdx.y];
    const int lid = threadIdx.x;
    const i64 cols = x.ne[0], rows = x.ne[1];
    const i64 all_rows = x.ne[1] * x.ne[2] * x.ne[3];
    const i64 r = (i64)blockIdx.x * ROWS + threadIdx.y;
    if (r >= all_rows) /* a whole row's threads leave together: GROUP == 32 is one warp, else ROWS is 1 */
        return;
    const i64 i = r % rows, b = r / rows, b2 = b % x.ne[2], b3 = b / x.ne[2];
    const i64 xr = x.off + i * x.nb[1] + b2 * x.nb[2] + b3 * x.nb[3];
    const i64 yr = y.off + i * y.nb[1] + b2 * y.nb[2] + b3 * y.nb[3];
    i64 visible = cols;
    if (causal) {
        const i64 last = i + q_offset; /* last column row i may see */
        visible = last < 0 ? 0 : (last + 1 < cols ? last + 1 : cols);
    }
#if X_VEC && Y_VEC
    if (cols % 4 == 0 && cols <= REG_COLS) {
        softmax_row_in_registers(x, y, xr, yr, scale, visible, scratch);
        return;
    }
#endif
    const bool cached = visible <= CACHE_COLS;
    i64 j0 = 0; /* first column the scalar loops start from (after the vector part) */

    /* pass 1: max of the visible, scaled row */
    float mx = -MC_INF;
#if X_VEC
    /* LOADS_IN_FLIGHT blocks of 4 a thread, all loaded before the first is stored: a store to the
     * cache through a plain pointer may alias the next load, so storing as it went waited out one
     * memory latency per block */
    const i64 v4 = visible / 4 * 4;
    for (i64 j = 4 * (i64)lid; j < v4; j += 4 * GROUP * LOADS_IN_FLIGHT) {
        float4 v[LOADS_IN_FLIGHT];
#pragma unroll
        for (int u = 0; u < LOADS_IN_FLIGHT; u++)
            if (j + 4 * GROUP * u < v4)
                v[u] = mc_load4(x.base, xr + (j + 4 * GROUP * u) * ELEM_BYTES(DT_X), DT_X);
#pragma unroll
        for (int u = 0; u < LOADS_IN_FLIGHT; u++) {
            if (j + 4 * GROUP * u >= v4)
                break;
            const float4 e = make_float4(scale * v[u].x, scale * v[u].y, scale * v[u].z, scale * v[u].w);
            if (cached)
                *(float4 *)(cache + j + 4 * GROUP * u) = e;
            mx = fmaxf(mx, fmaxf(fmaxf(e.x, e.y), fmaxf(e.z, e.w)));
        }
    }
    j0 = v4;
#endif
    for (i64 j = j0 + lid; j < visible; j += GROUP) {
        const float v = x_at(x.base, xr, x.nb[0], scale, j);
        if (cached)
            cache[j] = v;
        mx = fmaxf(mx, v);
    }
    mx = mc_group_reduce<GROUP>(scratch, mx, true);
    const bool empty = mx == -MC_INF;
#if GROUP == 32
    __syncwarp();
#endif

    /* pass 2: exponentials (kept in the cache) and their sum; -inf entries give exactly 0 */
    float sum = 0.0f;
    for (i64 j = lid; j < visible && !empty; j += GROUP) {
        const float e = expf((cached ? cache[j] : x_at(x.base, xr, x.nb[0], scale, j)) - mx);
        if (cached)
            cache[j] = e;
        sum += e;
    }
    sum = mc_group_reduce<GROUP>(scratch, sum, false);
#if GROUP == 32
    __syncwarp();
#endif

    /* pass 3: normalised row out; masked columns and empty rows are 0 */
    j0 = 0;
#if Y_VEC
    const i64 c4 = cols / 4 * 4;
    for (i64 j = 4 * (i64)lid; j < c4; j += 4 * GROUP) {
        float e[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        if (!empty)
            for (int t = 0; t < 4; t++)
                if (j + t < visible)
                    e[t] = (cached ? cache[j + t] : expf(x_at(x.base, xr, x.nb[0], scale, j + t) - mx)) / sum;
        mc_store4(y.base, yr + j * ELEM_BYTES(DT_Y), DT_Y, make_float4(e[0], e[1], e[2], e[3]));
    }
    j0 = c4;
#endif
    for (i64 j = j0 + lid; j < cols; j += GROUP) {
        float out = 0.0f;
        if (!empty && j < visible)
            out = (cached ? cache[j] : expf(x_at(x.base, xr, x.nb[0], scale, j) - mx)) / sum;
        mc_store(y.base, yr + j * y.nb[0], DT_Y, out);
    }
}
