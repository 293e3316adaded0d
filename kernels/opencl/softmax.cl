/* kernels/opencl/softmax.cl: row softmax, one work-group per row, vectorised where the host proved
 * alignment and blocked through a __local copy of the row when it fits.
 * SPDX-License-Identifier: MIT */

/* Build options:
 *   GROUP        work-items per row (a power of two)
 *   CACHE_COLS   floats of a row kept in __local: rows up to this long are read from global once
 *   DT_X, DT_Y   dtype codes (common.cl)
 *   X_VEC, Y_VEC 1: rows are contiguous and start 4-element aligned, so work-items move blocks of
 *                4 (float4 / vload_half4); 0: one element at a time through the strides
 * Passes: (1) scaled row into the cache and the row max, (2) exponentials and their sum, (3) the
 * normalised row out. A row with nothing visible (causal) or only -inf has no mass: it is all 0.
 * Reductions run in a fixed tree: results are bitwise reproducible. */
#define ELEM_BYTES(dt) ((dt) == MC_F32 ? 4 : 2)

/* Work-group tree reduction of v (max when want_max, else sum); every work-item gets the result. */
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
    barrier(CLK_LOCAL_MEM_FENCE); /* scratch is reused by the next reduction */
    return r;
}

inline float x_at(__global const uchar *x, long row, long nb0, float scale, long j)
{
    return scale * mc_load(x, row + j * nb0, DT_X);
}

__kernel __attribute__((reqd_work_group_size(GROUP, 1, 1)))
void softmax_rows(__global const uchar *x, long x_off, long4 x_ne, long4 x_nb,
                  __global uchar *y, long y_off, long4 y_ne, long4 y_nb,
                  float scale, int causal, long q_offset)
{
    __local float cache[CACHE_COLS];
    __local float scratch[GROUP];
    const int lid = get_local_id(0);
    const long cols = x_ne.s0, rows = x_ne.s1;
    const long r = get_group_id(0);
    const long i = r % rows, b = r / rows, b2 = b % x_ne.s2, b3 = b / x_ne.s2;
    const long xr = x_off + i * x_nb.s1 + b2 * x_nb.s2 + b3 * x_nb.s3;
    const long yr = y_off + i * y_nb.s1 + b2 * y_nb.s2 + b3 * y_nb.s3;
    long visible = cols;
    if (causal) {
        const long last = i + q_offset; /* last column row i may see */
        visible = last < 0 ? 0 : min(last + 1, cols);
    }
    const bool cached = visible <= CACHE_COLS;
    long j0 = 0; /* first column the scalar loops start from (after the vector part) */

    /* pass 1: max of the visible, scaled row */
    float mx = -INFINITY;
#if X_VEC
    const long v4 = visible / 4 * 4;
    for (long j = 4 * (long)lid; j < v4; j += 4 * GROUP) {
        const float4 v = scale * mc_load4(x, xr + j * ELEM_BYTES(DT_X), DT_X);
        if (cached)
            vstore4(v, 0, cache + j);
        mx = fmax(mx, fmax(fmax(v.x, v.y), fmax(v.z, v.w)));
    }
    j0 = v4;
#endif
    for (long j = j0 + lid; j < visible; j += GROUP) {
        const float v = x_at(x, xr, x_nb.s0, scale, j);
        if (cached)
            cache[j] = v;
        mx = fmax(mx, v);
    }
    mx = group_reduce(scratch, mx, true);
    const bool empty = mx == -INFINITY;

    /* pass 2: exponentials (kept in the cache) and their sum; -inf entries give exactly 0 */
    float sum = 0.0f;
    for (long j = lid; j < visible && !empty; j += GROUP) {
        const float e = exp((cached ? cache[j] : x_at(x, xr, x_nb.s0, scale, j)) - mx);
        if (cached)
            cache[j] = e;
        sum += e;
    }
    sum = group_reduce(scratch, sum, false);

    /* pass 3: normalised row out; masked columns and empty rows are 0 */
#if Y_VEC
    const long c4 = cols / 4 * 4;
    for (long j = 4 * (long)lid; j < c4; j += 4 * GROUP) {
        float4 out = (float4)(0.0f);
        if (!empty && j < visible) {
            float4 e;
            e.x = cached ? cache[j] : exp(x_at(x, xr, x_nb.s0, scale, j) - mx);
            e.y = j + 1 >= visible ? 0.0f : cached ? cache[j + 1] : exp(x_at(x, xr, x_nb.s0, scale, j + 1) - mx);
            e.z = j + 2 >= visible ? 0.0f : cached ? cache[j + 2] : exp(x_at(x, xr, x_nb.s0, scale, j + 2) - mx);
            e.w = j + 3 >= visible ? 0.0f : cached ? cache[j + 3] : exp(x_at(x, xr, x_nb.s0, scale, j + 3) - mx);
            out = e / sum;
        }
        mc_store4(y, yr + j * ELEM_BYTES(DT_Y), DT_Y, out);
    }
    j0 = c4;
#else
    j0 = 0;
#endif
    for (long j = j0 + lid; j < cols; j += GROUP) {
        float out = 0.0f;
        if (!empty && j < visible)
            out = (cached ? cache[j] : exp(x_at(x, xr, x_nb.s0, scale, j) - mx)) / sum;
        mc_store(y, yr + j * y_nb.s0, DT_Y, out);
    }
}
