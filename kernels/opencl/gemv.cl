/* kernels/opencl/gemv.cl: GEMV y = A x with LANES work-items per row and a __local tree reduction,
 * for plain A (half4 / float4 loads where the host proved alignment) and q8_0 / q4_0 A.
 * SPDX-License-Identifier: MIT */

/* Build options:
 *   LANES, ROWS      work-items per row (a power of two) and rows per work-group
 *   DT_A, DT_X, DT_Y dtype codes (common.cl); DT_A is ignored for quantised A
 *   QUANT            0: plain A; 8: q8_0 A (34-byte blocks: fp16 d, then 32 int8); 4: q4_0 A
 *                    (18-byte blocks: fp16 d, then 16 bytes of nibble pairs)
 *   A_VEC            1: A's rows are contiguous and every row starts 4-element aligned, so lanes
 *                    read 4 elements at once (vload_half4 for f16); 0: the scalar path
 *   X_VEC            1: x is contiguous and 4-element aligned
 * Lanes stride the row by 4 elements (vector path) or 1 (scalar path), so neighbouring lanes read
 * neighbouring addresses. The reduction order is fixed: results are bitwise reproducible. */
#define GROUP (LANES * ROWS)
#define ELEM_BYTES(dt) ((dt) == MC_F32 ? 4 : 2)

/* x[p .. p+3], vectorised when x allows it. */
inline float4 x_load4(__global const uchar *x, long x_off, long x_nb0, long p)
{
#if X_VEC
    return mc_load4(x, x_off + p * ELEM_BYTES(DT_X), DT_X);
#else
    return (float4)(mc_load(x, x_off + p * x_nb0, DT_X), mc_load(x, x_off + (p + 1) * x_nb0, DT_X),
                    mc_load(x, x_off + (p + 2) * x_nb0, DT_X), mc_load(x, x_off + (p + 3) * x_nb0, DT_X));
#endif
}

#if QUANT == 8
/* One lane's share of a q8_0 row: blocks lane, lane + LANES, ...; each block's 32 products are
 * summed, then scaled by the block's fp16 d (d is read byte by byte: blocks are 34 bytes apart, so
 * half of them start off a 4-byte boundary). */
inline float row_dot(__global const uchar *a, long row_off, long a_nb0, __global const uchar *x, long x_off,
                     long x_nb0, long k, int lane)
{
    float acc = 0.0f;
    const long blocks = k / 32;
    for (long blk = lane; blk < blocks; blk += LANES) {
        __global const uchar *q = a + row_off + blk * a_nb0;
        const float d = mc_half_bits_to_float((ushort)(q[0] | ((uint)q[1] << 8)));
        float s = 0.0f;
#pragma unroll 8
        for (int j = 0; j < 32; j += 4) {
            const float4 qv = convert_float4(vload4(0, (__global const char *)(q + 2 + j)));
            s += dot(qv, x_load4(x, x_off, x_nb0, blk * 32 + j));
        }
        acc = fma(d, s, acc);
    }
    return acc;
}
#elif QUANT == 4
/* One lane's share of a q4_0 row: 18-byte blocks of fp16 d and 16 bytes whose low nibble holds
 * element j and high nibble element j + 16, each (nibble - 8) * d. */
inline float row_dot(__global const uchar *a, long row_off, long a_nb0, __global const uchar *x, long x_off,
                     long x_nb0, long k, int lane)
{
    float acc = 0.0f;
    const long blocks = k / 32;
    for (long blk = lane; blk < blocks; blk += LANES) {
        __global const uchar *q = a + row_off + blk * a_nb0;
        const float d = mc_half_bits_to_float((ushort)(q[0] | ((uint)q[1] << 8)));
        float s = 0.0f;
#pragma unroll 4
        for (int j = 0; j < 16; j += 4) {
            const uchar4 b = vload4(0, q + 2 + j);
            const float4 lo = convert_float4(b & (uchar4)(15)) - 8.0f;
            const float4 hi = convert_float4(b >> (uchar4)(4)) - 8.0f;
            s += dot(lo, x_load4(x, x_off, x_nb0, blk * 32 + j));
            s += dot(hi, x_load4(x, x_off, x_nb0, blk * 32 + 16 + j));
        }
        acc = fma(d, s, acc);
    }
    return acc;
}
#else
inline float row_dot(__global const uchar *a, long row_off, long a_nb0, __global const uchar *x, long x_off,
                     long x_nb0, long k, int lane)
{
    float acc = 0.0f;
    long p = 0;
#if A_VEC
    /* four independent loads in flight per lane (a GPU hides memory latency with them), then
     * single steps, then the scalar tail for k % 4 */
    const long k4 = k / 4 * 4;
    const long step = 4 * LANES;
    float acc1 = 0.0f, acc2 = 0.0f, acc3 = 0.0f;
    for (p = 4 * (long)lane; p + 3 * step < k4; p += 4 * step) {
        acc += dot(mc_load4(a, row_off + p * ELEM_BYTES(DT_A), DT_A), x_load4(x, x_off, x_nb0, p));
        acc1 += dot(mc_load4(a, row_off + (p + step) * ELEM_BYTES(DT_A), DT_A), x_load4(x, x_off, x_nb0, p + step));
        acc2 += dot(mc_load4(a, row_off + (p + 2 * step) * ELEM_BYTES(DT_A), DT_A),
                    x_load4(x, x_off, x_nb0, p + 2 * step));
        acc3 += dot(mc_load4(a, row_off + (p + 3 * step) * ELEM_BYTES(DT_A), DT_A),
                    x_load4(x, x_off, x_nb0, p + 3 * step));
    }
    for (; p < k4; p += step)
        acc += dot(mc_load4(a, row_off + p * ELEM_BYTES(DT_A), DT_A), x_load4(x, x_off, x_nb0, p));
    acc = (acc + acc1) + (acc2 + acc3);
    p = k4;
#endif
    for (p += lane; p < k; p += LANES)
        acc = fma(mc_load(a, row_off + p * a_nb0, DT_A), mc_load(x, x_off + p * x_nb0, DT_X), acc);
    return acc;
}
#endif

__kernel __attribute__((reqd_work_group_size(GROUP, 1, 1)))
void gemv(__global const uchar *a, long a_off, long4 a_ne, long4 a_nb,
          __global const uchar *x, long x_off, long4 x_ne, long4 x_nb,
          __global uchar *y, long y_off, long4 y_ne, long4 y_nb)
{
    __local float partial[GROUP];
    const int lid = get_local_id(0);
    const int lane = lid % LANES, slot = lid / LANES;
    const long m = a_ne.s1, k = a_ne.s0;
    const long row = (long)get_group_id(0) * ROWS + slot;
    partial[lid] = row < m ? row_dot(a, a_off + row * a_nb.s1, a_nb.s0, x, x_off, x_nb.s0, k, lane) : 0.0f;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = LANES / 2; w > 0; w >>= 1) {
        if (lane < w)
            partial[lid] += partial[lid + w];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane == 0 && row < m)
        mc_store(y, y_off + row * y_nb.s0, DT_Y, partial[lid]);
}
