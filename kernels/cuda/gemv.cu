/* kernels/cuda/gemv.cu: GEMV y = A x with LANES threads per row and a fixed-order reduction,
 * for plain A (16-byte loads: 4 f32 or 8 f16 / bf16, where the host proved alignment; a scalar path
 * where it did not) and q8_0 / q4_0 A (the OpenCL gemv.cl's design, byte layout as on the CPU).
 * SPDX-License-Identifier: MIT */

/* Options:
 *   LANES, ROWS      threads per row (a power of two) and rows per block; up to 32 lanes a row's
 *                    sum is a warp shuffle, above a shared-memory tree
 *   UNROLL           plain A: 16-byte loads each lane keeps in flight
 *   DT_A, DT_X, DT_Y dtype codes (common.cu); DT_A is ignored for quantised A
 *   QUANT            0: plain A; 8: q8_0 A (34-byte blocks: fp16 d, then 32 int8); 4: q4_0 A
 *                    (18-byte blocks: fp16 d, then 16 bytes of nibble pairs)
 *   A_VEC            plain A: 1: A's rows are contiguous and every row starts 16-byte aligned, so
 *                    lanes read 16 bytes at once (4 f32, 8 f16 or bf16); 0: the scalar path
 *                    (misaligned). Quantised A: 1: every block starts 2-byte aligned (16-bit
 *                    loads); 0: byte loads
 *   X_VEC            1: x is contiguous and 4-element aligned
 *   X_SMEM           1: each block first copies x to shared memory as f32 (k floats, dynamic)
 * Lanes stride the row by VEC elements (vector path) or 1 (scalar path), so neighbouring lanes read
 * neighbouring addresses. The reduction order is fixed: results are bitwise reproducible. */
#define GROUP (LANES * ROWS)

/* x[p .. p+3], vectorised when x allows it; from the block's f32 copy of x when X_SMEM. */
__device__ __forceinline__ float4 x_load4(const u8 *x, i64 x_off, i64 x_nb0, i64 p)
{
#if X_SMEM
    extern __shared__ __align__(16) float x_smem[];
    (void)x, (void)x_off, (void)x_nb0;
    return *(const float4 *)(x_smem + p);
#elif X_VEC
    return mc_load4(x, x_off + p * ELEM_BYTES(DT_X), DT_X);
#else
    return make_float4(mc_load(x, x_off + p * x_nb0, DT_X), mc_load(x, x_off + (p + 1) * x_nb0, DT_X),
                       mc_load(x, x_off + (p + 2) * x_nb0, DT_X), mc_load(x, x_off + (p + 3) * x_nb0, DT_X));
#endif
}

#if QUANT
/* Two bytes of a quantised row: one 16-bit load where the host proved every block 2-byte aligned
 * (A_VEC: row offsets and the block stride even), else byte by byte. */
__device__ __forceinline__ u32 q_u16(const u8 *p)
{
#if A_VEC
    return *(const u16 *)p;
#else
    return (u32)p[0] | ((u32)p[1] << 8);
#endif
}

__device__ __forceinline__ float q_scale(const u8 *block)
{
    return mc_half_bits_to_float((u16)q_u16(block));
}

#endif

#if QUANT == 8
/* One lane's share of a q8_0 row (34-byte blocks: fp16 d, then 32 int8). The row's groups of 4
 * quants go to the lanes in turn (group g: block g / 8, quants 4 (g % 8) ..), so neighbouring lanes
 * read neighbouring bytes and a warp reads whole stretches of the row; the 8 lanes of a block
 * read its d together. */
__device__ __forceinline__ float row_dot(const u8 *a, i64 row_off, i64 a_nb0, const u8 *x, i64 x_off, i64 x_nb0, i64 k,
                                         int lane)
{
    float acc = 0.0f;
    const i64 groups = k / 4;
#pragma unroll 4
    for (i64 g = lane; g < groups; g += LANES) {
        const i64 blk = g / 8, t = g % 8;
        const u8 *q = a + row_off + blk * a_nb0;
        const u32 w = q_u16(q + 2 + 4 * t) | (q_u16(q + 4 + 4 * t) << 16);
        const float4 qv = make_float4((float)(signed char)w, (float)(signed char)(w >> 8),
                                      (float)(signed char)(w >> 16), (float)(signed char)(w >> 24));
        acc = fmaf(q_scale(q), mc_dot4(qv, x_load4(x, x_off, x_nb0, 4 * g)), acc);
    }
    return acc;
}
#elif QUANT == 4
/* One lane's share of a q4_0 row (18-byte blocks: fp16 d, then 16 bytes whose low nibble holds
 * element j and high nibble element j + 16, each (nibble - 8) * d). Groups of 4 bytes go to the
 * lanes in turn (group g: block g / 4, bytes 4 (g % 4) ..), neighbouring lanes on neighbouring bytes. */
__device__ __forceinline__ float row_dot(const u8 *a, i64 row_off, i64 a_nb0, const u8 *x, i64 x_off, i64 x_nb0, i64 k,
                                         int lane)
{
    float acc = 0.0f;
    const i64 groups = k / 8;
#pragma unroll 4
    for (i64 g = lane; g < groups; g += LANES) {
        const i64 blk = g / 4, t = g % 4;
        const u8 *q = a + row_off + blk * a_nb0;
        const u32 w = q_u16(q + 2 + 4 * t) | (q_u16(q + 4 + 4 * t) << 16);
        const float4 lo = make_float4((float)(w & 15) - 8.0f, (float)((w >> 8) & 15) - 8.0f,
                                      (float)((w >> 16) & 15) - 8.0f, (float)((w >> 24) & 15) - 8.0f);
        const float4 hi = make_float4((float)((w >> 4) & 15) - 8.0f, (float)((w >> 12) & 15) - 8.0f,
                                      (float)((w >> 20) & 15) - 8.0f, (float)((w >> 28) & 15) - 8.0f);
        const i64 p = blk * 32 + 4 * t;
        acc = fmaf(q_scale(q), mc_dot4(lo, x_load4(x, x_off, x_nb0, p)) + mc_dot4(hi, x_load4(x, x_off, x_nb0, p + 16)),
                   acc);
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
    /* UNROLL independent 16-byte loads in flight per lane (a GPU hides memory latency with them),
     * then single steps, then the scalar tail */
    const i64 kv = k / VEC * VEC;
    const i64 step = VEC * LANES;
    float part[UNROLL];
#pragma unroll
    for (int u = 0; u < UNROLL; u++)
        part[u] = 0.0f;
    for (p = VEC * (i64)lane; p + (UNROLL - 1) * step < kv; p += UNROLL * step) {
#pragma unroll
        for (int u = 0; u < UNROLL; u++)
            part[u] += vec_dot(a, row_off, x, x_off, x_nb0, p + u * step);
    }
    for (; p < kv; p += step)
        part[0] += vec_dot(a, row_off, x, x_off, x_nb0, p);
#pragma unroll
    for (int u = 0; u < UNROLL; u++)
        acc += part[u];
    p = kv;
#endif
    for (p += lane; p < k; p += LANES)
        acc = fmaf(mc_load(a, row_off + p * a_nb0, DT_A), mc_load(x, x_off + p * x_nb0, DT_X), acc);
    return acc;
}
#endif

extern "C" __global__ void __launch_bounds__(GROUP) gemv(mc_t a, mc_t x, mc_t y)
{
#if LANES > 32
    __shared__ float partial[GROUP];
#endif
    const int lid = threadIdx.x;
    const int lane = lid % LANES, slot = lid / LANES;
    const i64 m = a.ne[1], k = a.ne[0];
#if X_SMEM
    extern __shared__ __align__(16) float x_smem[];
    for (i64 p = lid; p < k; p += GROUP)
        x_smem[p] = mc_load(x.base, x.off + p * x.nb[0], DT_X);
    __syncthreads();
#endif
    /* blocks stride over the row groups (the host may launch fewer blocks than groups) */
    for (i64 row0 = (i64)blockIdx.x * ROWS; row0 < m; row0 += (i64)gridDim.x * ROWS) {
        const i64 row = row0 + slot;
        float sum = row < m ? row_dot(a.base, a.off + row * a.nb[1], a.nb[0], x.base, x.off, x.nb[0], k, lane) : 0.0f;
#if LANES <= 32
        /* a row's lanes are within one warp: shuffles, no barrier */
        for (int w = LANES / 2; w > 0; w >>= 1)
            sum += __shfl_xor_sync(0xFFFFFFFFu, sum, w);
#else
        partial[lid] = sum;
        __syncthreads();
        for (int w = LANES / 2; w > 0; w >>= 1) {
            if (lane < w)
                partial[lid] += partial[lid + w];
            __syncthreads();
        }
        sum = partial[lid];
#endif
        if (lane == 0 && row < m)
            mc_store(y.base, y.off + row * y.nb[0], DT_Y, sum);
    }
}
