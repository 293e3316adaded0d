/* kernels/cuda/common.cu: element loads and stores through a byte base and byte offsets, put in
 * front of every program (NVRTC, no headers). Tensors arrive as mc_t (backend_cuda.h's mc_cuda_tensor).
 * SPDX-License-Identifier: MIT */

/* Options every program takes:
 *   MC_BYTEWISE=1  some base is not a multiple of its element size: a misaligned load is a device
 *                  fault, so every load and store assembles its bytes (slow, always correct).
 * dtype codes (DT_<tensor> options): */
#define MC_F32 0
#define MC_F16 1
#define MC_BF16 2

#ifndef MC_BYTEWISE
#define MC_BYTEWISE 0
#endif

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef long long i64;

struct mc_t {
    const u8 *base;
    i64 off;
    i64 ne[4];
    i64 nb[4];
};

#define MC_INF __int_as_float(0x7f800000)
#define ELEM_BYTES(dt) ((dt) == MC_F32 ? 4 : 2)

/* The f16 conversions keep their 16-bit register inside the asm and trade 32-bit ones with C: on
 * the H200 (NVRTC 13.0, sm_90) a "=h" result stored byte by byte (MC_BYTEWISE=1) lost its low byte
 * (every f16 case at an odd base offset failed, the high byte right); bf16, which needs no asm, passed. */
__device__ __forceinline__ float mc_half_bits_to_float(u16 h)
{
    float f;
    asm("{ .reg .b16 t; cvt.u16.u32 t, %1; cvt.f32.f16 %0, t; }" : "=f"(f) : "r"((u32)h));
    return f;
}

__device__ __forceinline__ u16 mc_float_to_half_bits(float f)
{
    u32 h;
    asm("{ .reg .b16 t; cvt.rn.f16.f32 t, %1; cvt.u32.u16 %0, t; }" : "=r"(h) : "f"(f));
    return (u16)h;
}

__device__ __forceinline__ float mc_bf16_bits_to_float(u16 b)
{
    return __uint_as_float((u32)b << 16);
}

/* Round to nearest even; a NaN stays a quiet NaN (core/half.c does the same). */
__device__ __forceinline__ u16 mc_float_to_bf16_bits(float f)
{
    u32 u = __float_as_uint(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u)
        return (u16)((u >> 16) | 0x40u);
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (u16)(u >> 16);
}

__device__ __forceinline__ u16 mc_load_u16(const u8 *p)
{
#if MC_BYTEWISE
    return (u16)(p[0] | ((u32)p[1] << 8));
#else
    return *(const u16 *)p;
#endif
}

__device__ __forceinline__ u32 mc_load_u32(const u8 *p)
{
#if MC_BYTEWISE
    return (u32)p[0] | ((u32)p[1] << 8) | ((u32)p[2] << 16) | ((u32)p[3] << 24);
#else
    return *(const u32 *)p;
#endif
}

__device__ __forceinline__ void mc_store_u16(u8 *p, u16 v)
{
#if MC_BYTEWISE
    p[0] = (u8)v;
    p[1] = (u8)(v >> 8);
#else
    *(u16 *)p = v;
#endif
}

__device__ __forceinline__ void mc_store_u32(u8 *p, u32 v)
{
#if MC_BYTEWISE
    p[0] = (u8)v;
    p[1] = (u8)(v >> 8);
    p[2] = (u8)(v >> 16);
    p[3] = (u8)(v >> 24);
#else
    *(u32 *)p = v;
#endif
}

/* Element at byte offset `off` of `base`, of dtype dt (a compile-time constant: the branches fold). */
__device__ __forceinline__ float mc_load(const u8 *base, i64 off, int dt)
{
    const u8 *p = base + off;
    if (dt == MC_F16)
        return mc_half_bits_to_float(mc_load_u16(p));
    if (dt == MC_BF16)
        return mc_bf16_bits_to_float(mc_load_u16(p));
    return __uint_as_float(mc_load_u32(p));
}

/* Stores v rounded to nearest even into dtype dt at byte offset `off`. */
__device__ __forceinline__ void mc_store(const u8 *base, i64 off, int dt, float v)
{
    u8 *p = (u8 *)base + off;
    if (dt == MC_F16)
        mc_store_u16(p, mc_float_to_half_bits(v));
    else if (dt == MC_BF16)
        mc_store_u16(p, mc_float_to_bf16_bits(v));
    else
        mc_store_u32(p, __float_as_uint(v));
}

/* The GEMMs' epilogue for one element: C[gi, gj] = alpha * acc + beta * C[gi, gj] + bias[gj], C at
 * c_base (this batch's), dtype codes dt_c and dt_bias. beta == 0: C holds a NaN sentinel and is not
 * read. Elements outside the m x n of C are left alone. */
__device__ __forceinline__ void mc_gemm_store(const mc_t &c, i64 c_base, const mc_t &bias, int has_bias, i64 gi, i64 gj,
                                              float acc, float alpha, float beta, int dt_c, int dt_bias)
{
    if (gi >= c.ne[1] || gj >= c.ne[0])
        return;
    const i64 at = c_base + gi * c.nb[1] + gj * c.nb[0];
    float v = alpha * acc;
    if (beta != 0.0f)
        v += beta * mc_load(c.base, at, dt_c);
    if (has_bias)
        v += mc_load(bias.base, bias.off + gj * bias.nb[0], dt_bias);
    mc_store(c.base, at, dt_c, v);
}

/* Index into a dim that may be broadcast: a dim of extent 1 always reads its one entry. */
__device__ __forceinline__ i64 mc_bcast(i64 ne, i64 i)
{
    return ne == 1 ? 0 : i;
}

/* Where this block's batch (blockIdx.z) of a GEMM starts in A, B (either may be broadcast over
 * the batch dims) and C: byte offsets from their bases. */
struct mc_gemm_batch {
    i64 a, b, c;
};

__device__ __forceinline__ mc_gemm_batch mc_gemm_batch_of(const mc_t &a, const mc_t &b, const mc_t &c)
{
    const i64 batch = blockIdx.z, b2 = batch % c.ne[2], b3 = batch / c.ne[2];
    return {a.off + mc_bcast(a.ne[2], b2) * a.nb[2] + mc_bcast(a.ne[3], b3) * a.nb[3],
            b.off + mc_bcast(b.ne[2], b2) * b.nb[2] + mc_bcast(b.ne[3], b3) * b.nb[3],
            c.off + b2 * c.nb[2] + b3 * c.nb[3]};
}

/* A generic pointer into shared memory as the 32-bit shared-window address PTX instructions take. */
__device__ __forceinline__ u32 mc_smem_addr(const void *p)
{
    return (u32)__cvta_generic_to_shared(p);
}

/* Four consecutive elements at byte offset `off`, for vector paths the host enabled only when that
 * address is aligned to 4 elements (16 bytes for f32, 8 for f16 and bf16). */
__device__ __forceinline__ float4 mc_load4(const u8 *base, i64 off, int dt)
{
    const u8 *p = base + off;
    if (dt == MC_F32)
        return *(const float4 *)p;
    const uint2 w = *(const uint2 *)p;
    if (dt == MC_F16)
        return make_float4(mc_half_bits_to_float((u16)w.x), mc_half_bits_to_float((u16)(w.x >> 16)),
                           mc_half_bits_to_float((u16)w.y), mc_half_bits_to_float((u16)(w.y >> 16)));
    return make_float4(__uint_as_float(w.x << 16), __uint_as_float(w.x & 0xFFFF0000u), __uint_as_float(w.y << 16),
                       __uint_as_float(w.y & 0xFFFF0000u));
}

/* Eight consecutive elements at a 16-byte aligned address: one 16-byte load (f16, bf16 only). */
__device__ __forceinline__ void mc_load8(const u8 *base, i64 off, int dt, float *out)
{
    const uint4 w = *(const uint4 *)(base + off);
    const u32 words[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
    for (int i = 0; i < 4; i++) {
        if (dt == MC_F16) {
            out[2 * i] = mc_half_bits_to_float((u16)words[i]);
            out[2 * i + 1] = mc_half_bits_to_float((u16)(words[i] >> 16));
        } else {
            out[2 * i] = __uint_as_float(words[i] << 16);
            out[2 * i + 1] = __uint_as_float(words[i] & 0xFFFF0000u);
        }
    }
}

/* Stores four consecutive elements under the same alignment promise as mc_load4. */
__device__ __forceinline__ void mc_store4(const u8 *base, i64 off, int dt, float4 v)
{
    u8 *p = (u8 *)base + off;
    if (dt == MC_F32) {
        *(float4 *)p = v;
        return;
    }
    uint2 w;
    if (dt == MC_F16) {
        w.x = mc_float_to_half_bits(v.x) | ((u32)mc_float_to_half_bits(v.y) << 16);
        w.y = mc_float_to_half_bits(v.z) | ((u32)mc_float_to_half_bits(v.w) << 16);
    } else {
        w.x = mc_float_to_bf16_bits(v.x) | ((u32)mc_float_to_bf16_bits(v.y) << 16);
        w.y = mc_float_to_bf16_bits(v.z) | ((u32)mc_float_to_bf16_bits(v.w) << 16);
    }
    *(uint2 *)p = w;
}

__device__ __forceinline__ float mc_dot4(float4 a, float4 b)
{
    return fmaf(a.x, b.x, fmaf(a.y, b.y, fmaf(a.z, b.z, a.w * b.w)));
}

/* Reduction of v over a warp's 32 lanes (shuffles, a fixed order); every lane gets the result. */
__device__ __forceinline__ float mc_warp_reduce(float v, bool want_max)
{
    for (int w = 16; w > 0; w >>= 1) {
        const float o = __shfl_xor_sync(0xFFFFFFFFu, v, w);
        v = want_max ? fmaxf(v, o) : v + o;
    }
    return v;
}

/* Reduction of v over the G threads of a row (threadIdx.x; G a power of two), max when want_max,
 * else sum, in a fixed order; every thread gets the result. G = 32 is one warp: shuffles, no
 * scratch; otherwise each warp reduces by shuffles, writes its result to scratch[warp], and every
 * thread combines the G / 32 of them in warp order: two barriers for the whole block (a tree over
 * scratch[G] took one per level). */
template <int G> __device__ __forceinline__ float mc_group_reduce(float *scratch, float v, bool want_max)
{
    v = mc_warp_reduce(v, want_max);
    if (G == 32)
        return v;
    const int lid = threadIdx.x;
    if (lid % 32 == 0)
        scratch[lid / 32] = v;
    __syncthreads();
    float r = scratch[0];
    for (int i = 1; i < G / 32; i++)
        r = want_max ? fmaxf(r, scratch[i]) : r + scratch[i];
    __syncthreads(); /* scratch is reused by the next reduction */
    return r;
}
