/* kernels/opencl/common.cl: element loads and stores through a byte base and byte offsets, put in
 * front of every program. Tensors arrive as (uchar base, long offset, long4 ne, long4 nb).
 * SPDX-License-Identifier: MIT */

/* Build options every program takes:
 *   MC_BYTEWISE=1  some base is not a multiple of its element size: a float there is not addressable
 *                  in OpenCL C, so every load and store assembles its bytes (slow, always correct).
 * dtype codes (DT_<tensor> options): */
#define MC_F32 0
#define MC_F16 1
#define MC_BF16 2

#ifndef MC_BYTEWISE
#define MC_BYTEWISE 0
#endif

/* Half values are only converted (vload_half / vstore_half_rte, core OpenCL 1.2), never computed
 * on, so no program needs cl_khr_fp16. */
inline float mc_half_bits_to_float(ushort h)
{
    return vload_half(0, (const __private half *)&h);
}

inline ushort mc_float_to_half_bits(float f)
{
    ushort h;
    vstore_half_rte(f, 0, (__private half *)&h);
    return h;
}

inline float mc_bf16_bits_to_float(ushort b)
{
    return as_float((uint)b << 16);
}

/* Round to nearest even; a NaN stays a quiet NaN (harness/half.c does the same). */
inline ushort mc_float_to_bf16_bits(float f)
{
    uint u = as_uint(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u)
        return (ushort)((u >> 16) | 0x40u);
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (ushort)(u >> 16);
}

inline ushort mc_load_u16(__global const uchar *p)
{
#if MC_BYTEWISE
    return (ushort)(p[0] | ((uint)p[1] << 8));
#else
    return *(__global const ushort *)p;
#endif
}

inline uint mc_load_u32(__global const uchar *p)
{
#if MC_BYTEWISE
    return (uint)p[0] | ((uint)p[1] << 8) | ((uint)p[2] << 16) | ((uint)p[3] << 24);
#else
    return *(__global const uint *)p;
#endif
}

inline void mc_store_u16(__global uchar *p, ushort v)
{
#if MC_BYTEWISE
    p[0] = (uchar)v;
    p[1] = (uchar)(v >> 8);
#else
    *(__global ushort *)p = v;
#endif
}

inline void mc_store_u32(__global uchar *p, uint v)
{
#if MC_BYTEWISE
    p[0] = (uchar)v;
    p[1] = (uchar)(v >> 8);
    p[2] = (uchar)(v >> 16);
    p[3] = (uchar)(v >> 24);
#else
    *(__global uint *)p = v;
#endif
}

/* Element at byte offset `off` of `base`, of dtype dt (a build-time constant, so the switch folds). */
inline float mc_load(__global const uchar *base, long off, int dt)
{
    __global const uchar *p = base + off;
    if (dt == MC_F16)
        return mc_half_bits_to_float(mc_load_u16(p));
    if (dt == MC_BF16)
        return mc_bf16_bits_to_float(mc_load_u16(p));
    return as_float(mc_load_u32(p));
}

/* Stores v rounded to nearest even into dtype dt at byte offset `off`. */
inline void mc_store(__global uchar *base, long off, int dt, float v)
{
    __global uchar *p = base + off;
    if (dt == MC_F16)
        mc_store_u16(p, mc_float_to_half_bits(v));
    else if (dt == MC_BF16)
        mc_store_u16(p, mc_float_to_bf16_bits(v));
    else
        mc_store_u32(p, as_uint(v));
}

/* Index into a dim that may be broadcast: a dim of extent 1 always reads its one entry. */
inline long mc_bcast(long ne, long i)
{
    return ne == 1 ? 0 : i;
}

/* Four consecutive elements starting at byte offset `off`, for vector paths the host enabled only
 * when that address is aligned to 4 elements (16 bytes for f32, 8 for f16 and bf16). */
inline float4 mc_load4(__global const uchar *base, long off, int dt)
{
    __global const uchar *p = base + off;
    if (dt == MC_F16) {
        ushort4 h = *(__global const ushort4 *)p;
        return vload_half4(0, (const __private half *)&h);
    }
    if (dt == MC_BF16) {
        uint4 u = convert_uint4(*(__global const ushort4 *)p);
        return as_float4(u << 16);
    }
    return *(__global const float4 *)p;
}

/* Stores four consecutive elements under the same alignment promise as mc_load4. */
inline void mc_store4(__global uchar *base, long off, int dt, float4 v)
{
    __global uchar *p = base + off;
    if (dt == MC_F16) {
        ushort4 h;
        vstore_half4_rte(v, 0, (__private half *)&h);
        *(__global ushort4 *)p = h;
    } else if (dt == MC_BF16) {
        ushort4 h = (ushort4)(mc_float_to_bf16_bits(v.x), mc_float_to_bf16_bits(v.y), mc_float_to_bf16_bits(v.z),
                              mc_float_to_bf16_bits(v.w));
        *(__global ushort4 *)p = h;
    } else {
        *(__global float4 *)p = v;
    }
}
