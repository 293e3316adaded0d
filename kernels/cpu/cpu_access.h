/* kernels/cpu/cpu_access.h: element addressing and memcpy-based loads and stores for cpu kernels.
 * Loads go through memcpy so that misaligned bases (a case's align offset) are legal C.
 * SPDX-License-Identifier: MIT */
#ifndef MC_CPU_ACCESS_H
#define MC_CPU_ACCESS_H

#include <cpuid.h>
#include <stdint.h>
#include <string.h>

#include "core/quant_format.h"
#include "core/variant.h"


/* First byte of the tensor's view (element 0,0,0,0) on the cpu backend. */
static inline uint8_t *mc_cpu_base(const mc_tensor *t)
{
    return (uint8_t *)t->buf->native + t->offset;
}

/* Address of element (i0, i1, i2, i3); for quantised dtypes, of the block that holds i0. */
static inline uint8_t *mc_cpu_elem_ptr(const mc_tensor *t, int64_t i0, int64_t i1, int64_t i2, int64_t i3)
{
    const mc_dtype_info *info = mc_dtype_info_of(t->dtype);
    int64_t unit_index = info->quantised ? i0 / info->block_elems : i0; /* no division on plain floats */
    return mc_cpu_base(t) + unit_index * t->nb[0] + i1 * t->nb[1] + i2 * t->nb[2] + i3 * t->nb[3];
}

/* Index into a dim that may be broadcast: a dim of extent 1 always reads its one entry. */
static inline int64_t mc_cpu_bcast(const mc_tensor *t, int dim, int64_t i)
{
    return t->ne[dim] == 1 ? 0 : i;
}

static inline float mc_cpu_load_f32(const uint8_t *p)
{
    float f;
    memcpy(&f, p, sizeof f);
    return f;
}

static inline uint16_t mc_cpu_load_u16(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, sizeof h);
    return h;
}

/* Element i (0..31) of a q8_0 block: fp16 d, then int8 qs[32]; value qs[i] * d. */
static inline float mc_cpu_q8_0_elem(const uint8_t *block, int i)
{
    float d = mc_f16_to_f32(mc_cpu_load_u16(block));
    return (float)(int8_t)block[2 + i] * d;
}

/* Element i (0..31) of a q4_0 block: fp16 d, then 16 bytes; the low nibble of byte j holds
 * element j, the high nibble element j + 16; value (nibble - 8) * d. */
static inline float mc_cpu_q4_0_elem(const uint8_t *block, int i)
{
    float d = mc_f16_to_f32(mc_cpu_load_u16(block));
    uint8_t byte = block[2 + (i & 15)];
    int nibble = i < 16 ? (byte & 0x0F) : (byte >> 4);
    return (float)(nibble - 8) * d;
}

/* Loads one plain-float element of dtype dt at p, as float. */
static inline float mc_cpu_load(mc_dtype dt, const uint8_t *p)
{
    switch (dt) {
    case MC_DTYPE_F16:
        return mc_f16_to_f32(mc_cpu_load_u16(p));
    case MC_DTYPE_BF16:
        return mc_bf16_to_f32(mc_cpu_load_u16(p));
    default:
        return mc_cpu_load_f32(p);
    }
}

/* Stores v rounded (nearest even) to dtype dt at p. Plain floats only. */
static inline void mc_cpu_store(mc_dtype dt, uint8_t *p, float v)
{
    uint16_t h;
    switch (dt) {
    case MC_DTYPE_F16:
        h = mc_f32_to_f16(v);
        memcpy(p, &h, sizeof h);
        break;
    case MC_DTYPE_BF16:
        h = mc_f32_to_bf16(v);
        memcpy(p, &h, sizeof h);
        break;
    default:
        memcpy(p, &v, sizeof v);
        break;
    }
}

/* Reads element (i0, i1, i2, i3) of any dtype as float; quantised ones are dequantised. */
static inline float mc_cpu_get(const mc_tensor *t, int64_t i0, int64_t i1, int64_t i2, int64_t i3)
{
    const uint8_t *p = mc_cpu_elem_ptr(t, i0, i1, i2, i3);
    switch (t->dtype) {
    case MC_DTYPE_Q8_0:
        return mc_cpu_q8_0_elem(p, (int)(i0 % MC_QK));
    case MC_DTYPE_Q4_0:
        return mc_cpu_q4_0_elem(p, (int)(i0 % MC_QK));
    default: /* the other formats through their format row's decoder (core/quant_format.h) */
        if (mc_dtype_info_of(t->dtype)->quantised)
            return (float)mc_quant_elem(t->dtype, p, (int)(i0 % mc_dtype_info_of(t->dtype)->block_elems), NULL);
        return mc_cpu_load(t->dtype, p);
    }
}

/* Writes v at element (i0, i1, i2, i3) of a plain-float tensor. */
static inline void mc_cpu_set(const mc_tensor *t, int64_t i0, int64_t i1, int64_t i2, int64_t i3, float v)
{
    mc_cpu_store(t->dtype, mc_cpu_elem_ptr(t, i0, i1, i2, i3), v);
}

/* True for the dtypes a cpu kernel can store into. */
static inline int mc_cpu_is_plain_float(mc_dtype dt)
{
    return dt == MC_DTYPE_F32 || dt == MC_DTYPE_F16 || dt == MC_DTYPE_BF16;
}

/* True when the cpu has F16C (cpuid leaf 1, ecx bit 29). Asked of cpuid directly: clang 14's
 * __builtin_cpu_supports knows no "f16c". F16C is VEX-encoded, so it is usable only where the OS
 * saves the AVX state: callers ask it after __builtin_cpu_supports("avx2"), which checks that. */
static inline int mc_cpu_has_f16c(void)
{
    unsigned int eax, ebx, ecx, edx;
    return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
}

/* True when the cpu runs AVX2, FMA and F16C: the gate for every *_avx2.c routine. */
static inline int mc_cpu_has_avx2(void)
{
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && mc_cpu_has_f16c();
}

/* Bytes of one plain-float element. */
static inline int64_t mc_cpu_elem_bytes(mc_dtype dt)
{
    return dt == MC_DTYPE_F32 ? 4 : 2;
}

/* True when dim 0 of t is packed (a dense row) and p sits on an element boundary: the two things
 * a vector load of a row needs. Anything else takes the scalar path. */
static inline int mc_cpu_row_is_dense_aligned(const mc_tensor *t, const uint8_t *p)
{
    const int64_t eb = mc_cpu_elem_bytes(t->dtype);
    return mc_cpu_is_plain_float(t->dtype) && (t->nb[0] == eb || t->ne[0] == 1) &&
           (uintptr_t)p % (uintptr_t)eb == 0;
}

/* How many leading columns (keys) of row (query) i stay visible out of n: all of them without a
 * causal mask; with one, column j is hidden when j > i + q_offset. */
static inline int64_t mc_cpu_causal_visible(int causal, int64_t q_offset, int64_t i, int64_t n)
{
    if (!causal)
        return n;
    int64_t last = i + q_offset;
    if (last < 0)
        return 0;
    return last + 1 < n ? last + 1 : n;
}

#endif
