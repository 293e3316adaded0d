/* kernels/cuda/gemv.cu: GEMV y = A x with LANES threads per row and a shared-memory tree reduction,
 * for plain A (16-byte loads: 4 f32 or 8 f16 / bf16, where the host proved alignment; a scalar path
 * where it did not) and q8_0 / q4_0 A (the OpenCL gemv.cl's design, byte layout as on the CPU).
 * SPDX-License-Identifier: MIT */

/* Options:
 *   LANES, ROWS      threads per row (a power of two) and rows per block
 *   DT_A, DT_X, DT_Y dtype codes (common.cu); DT_A is ignored for quantised A
 *   QUANT            0: plain A; 8: q8_0 A (34-byte blocks: fp16 d, then 32 int8); 4: q4_0 A
 *                    (18-byte blocks: fp16 d, then 16 bytes of nibble pairs)
 *   A_VEC            1: A's rows are contiguous and every row starts 16-byte aligned, so lanes
 *                    read 16 bytes at once (4 f32, 8 f16 or bf16); 0: the scalar path (misaligned)
 *   X_VEC            1: x is contiguous and 4-element aligned
 * Lanes stride the row by VEC elements (vector path) or 1 (scalar path), so neighbouring lanes read
 * neighbouring addresses. The reduction order is fixed: results are bitwise reproducible. */
#define GROUP (LANES * ROWS)

/* x[p .. p+3], vectorised when x allows it. */
__device__ __forceinline__ float4 x_load4(const u8 *x, i64 x_off, i64 x_nb0, i64 p)
{
#if X_VEC
    return mc_load4(x, x_off + p * ELEM_BYTES(DT_X), DT_X);
#else
    return make_float4(mc_load(x, x_off + p * x_nb0, DT_X), mc_load(x, x_off + (p + 1) * x_nb0, DT_X),
                       mc_load(x, x_off + (p + 2) * x_nb0, DT_X), mc_load(x, x_off + (p + 3) * x_nb0, DT_X));
#endif
}

#if QUANT == 8
/* One lane's share of a q8_0 row: blocks lane, lane + LANES, ...; each block's 32 products are
 * summed, then scaled by the block's fp16 d (d is read byte by byte: blocks are 34 bytes apart, so
 * half of them start off a 4-byte boundary). */
__device__ __forceinline__ float row_dot(const u8 *a, i64 row_off, i64 a_nb0, const u8 *x, i64 x_off, i64 x_nb0, i64 k,
                                         int lane)
{
    float acc = 0.0f;
    const i64 blocks = k / 32;
    for (i64 blk = lane; blk < blocks; blk += LANES) {
        const u8 *q = a + row_off + blk * a_nb0;
        const float d = mc_half_bits_to_float((u16)(q[0] | ((u32)q[1] << 8)));
        float s = 0.0f;
#pragma unroll 8
        for (int j = 0; j < 32; j += 4) {
            const signed char *qs = (const signed char *)(q + 2 + j);
            const float4 qv = make_float4(qs[0], qs[1], qs[2], qs[3]);
            s += mc_dot4(qv, x_load4(x, x_off, x_nb0, blk * 32 + j));
        }
        acc = fmaf(d, s, acc);
    }
    return acc;
}
#elif QUANT == 4
/* One lane's share of a q4_0 row: 18-byte blocks of fp16 d and 16 bytes whose low nibble holds
 * element j and high nibble element j + 16, each (nibble - 8) * d. */
__device__ __forceinline__ float row_dot(const u8 *a, i64 row_off, i64 a_nb0, const u8 *x, i64 x_off, i64 x_nb0, i64 k,
                                         int lane)
{
    float acc = 0.0f;
    const i64 blocks = k / 32;
    for (i64 blk = lane; blk < blocks; blk += LANES) {
        const u8 *q = a + row_off + blk * a_nb0;
        const float d = mc_half_bits_to_float((u16)(q[0] | ((u32)q[1] << 8)));
        float s = 0.0f;
#pragma unroll 4
        for (int j = 0; j < 16; j += 4) {
            const u8 *b = q + 2 + j;
            const float4 lo = make_float4((b[0] & 15) - 8.0f, (b[1] & 15) - 8.0f, (b[2] & 15) - 8.0f, (b[3] & 15) - 8.0f);
            const float4 hi = make_float4((b[0] >> 4) - 8.0f, (b[1] >> 4) - 8.0f, (b[2] >> 4) - 8.0f, (b[3] >> 4) - 8.0f);
            s += mc_dot4(lo, x_load4(x, x_off, x_nb0, blk * 32 + j));
            s += mc_dot4(hi, x_load4(x, x_off, x_nb0, blk * 32 + 16 + j));
        }
        acc = fmaf(d, s, acc);
    }
    return acc;
}
#else
#if A_VEC
/* Elements of A per 16-byte load: 4 f32 or 8 f16 / bf16. */
#define VEC (DT_A == MC_F32 ? 4 : 8)

/* A[p .. p+VEC-1] . x[p .. p+VEC-1] with one 16-byte load of A. */
__device__ __forceinline__ float vec_dot(const u8 *a, i64 row_off, const u8 *x, i64 x_off, i64 x_nb0, i64 p)
{
#if DT_A == MC_F32
    return mc_dot4(mc_load4(a, row_off + p * 4, MC_F32), x_load4(x, x_off, x_nb0, p));
#else
    float v[8];
    mc_load8(a, row_off + p * 2, DT_A, v);
    return mc_dot4(make_float4(v[0], v[1], v[2], v[3]), x_load4(x, x_off, x_nb0, p)) +
           mc_dot4(make_float4(v[4], v[5], v[6], v[7]), x_load4(x, x_off, x_nb0, p + 4));
#endif
}
#endif

__device__ __forceinline__ float row_dot(const u8 *a, i64 row_off, i64 a_nb0, const u8 *x, i64 x_off, i64 x_nb0, i64 k,
                                         int lane)
{
    float acc = 0.0f;
    i64 p = 0;
#if A_VEC
    /* four independent 16-byte loads in flight per lane (a GPU hides memory latency with them),
     * then single steps, then the scalar tail for k % VEC */
    const i64 kv = k / VEC * VEC;
    const i64 step = VEC * LANES;
    float acc1 = 0.0f, acc2 = 0.0f, acc3 = 0.0f;
    for (p = VEC * (i64)lane; p + 3 * step < kv; p += 4 * step) {
        acc += vec_dot(a, row_off, x, x_off, x_nb0, p);
        acc1 += vec_dot(a, row_off, x, x_off, x_nb0, p + step);
        acc2 += vec_dot(a, row_off, x, x_off, x_nb0, p + 2 * step);
        acc3 += vec_dot(a, row_off, x, x_off, x_nb0, p + 3 * step);
    }
    for (; p < kv; p += step)
        acc += vec_dot(a, row_off, x, x_off, x_nb0, p);
    acc = (acc + acc1) + (acc2 + acc3);
    p = kv;
#endif
    for (p += lane; p < k; p += LANES)
        acc = fmaf(mc_load(a, row_off + p * a_nb0, DT_A), mc_load(x, x_off + p * x_nb0, DT_X), acc);
    return acc;
}
#endif

extern "C" __global__ void __launch_bounds__(GROUP) gemv(mc_t a, mc_t x, mc_t y)
{
    __shared__ float partial[GROUP];
    const int lid = threadIdx.x;
    const int lane = lid % LANES, slot = lid / LANES;
    const i64 m = a.ne[1], k = a.ne[0];
    const i64 row = (i64)blockIdx.x * ROWS + slot;
    partial[lid] = row < m ? row_dot(a.base, a.off + row * a.nb[1], a.nb[0], x.base, x.off, x.nb[0], k, lane) : 0.0f;
    __syncthreads();
    for (int w = LANES / 2; w > 0; w >>= 1) {
        if (lane < w)
            partial[lid] += partial[lid + w];
        __syncthreads();
    }
    if (lane == 0 && row < m)
        mc_store(y.base, y.off + row * y.nb[0], DT_Y, partial[lid]);
}
