/* kernels/cpu/gemm_bf16_pack.c: packing for the bf16 matrix kernels (vdpbf16ps, AMX-BF16): pairs
 * of consecutive k elements, kept as bf16 bits, one 32-bit slot per pair.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/gemm_pack.h"

/* Pair q of a full sliver whose rows are adjacent 16-bit elements (B^T of a row-major B): the w
 * elements of two consecutive source columns, interleaved. Plain loops the compiler vectorises; the
 * per-element path below took as long as the AMX tiles at 1024^3. */
static void pack_pair_adjacent_rows(const uint8_t *lo, const uint8_t *hi, int w, uint8_t *dst)
{
    for (int r = 0; r < w; r++) {
        const uint32_t pair = mc_cpu_load_u16(lo + 2 * r) | (uint32_t)mc_cpu_load_u16(hi + 2 * r) << 16;
        memcpy(dst + (size_t)r * sizeof pair, &pair, sizeof pair);
    }
}

void mc_gemm_pack_bf16_pairs(const mc_gemm_mat *src, int64_t r0, int64_t rows, int64_t c0, int64_t depth, int w,
                             float *out)
{
    const int64_t pairs = (depth + 1) / 2;
    for (int64_t s = 0; s * w < rows; s++) {
        uint8_t *sliver = (uint8_t *)out + (size_t)(s * depth * w) * sizeof(uint32_t);
        int64_t q = 0;
        const uint8_t *first = src->base + (r0 + s * w) * src->rs + c0 * src->cs;
        if (src->rs == 2 && (s + 1) * w <= rows)
            for (; 2 * q + 1 < depth; q++) {
                const uint8_t *p = first + 2 * q * src->cs;
                pack_pair_adjacent_rows(p, p + src->cs, w, sliver + (size_t)(q * w) * sizeof(uint32_t));
            }
        else if (src->cs == 2 && (s + 1) * w <= rows) /* k adjacent (A): each pair is 4 source bytes */
            for (; 2 * q + 1 < depth; q++)
                for (int r = 0; r < w; r++)
                    memcpy(sliver + (size_t)(q * w + r) * sizeof(uint32_t), first + r * src->rs + 4 * q,
                           sizeof(uint32_t));
        for (; q < pairs; q++)
            for (int r = 0; r < w; r++) {
                const int64_t row = s * w + r;
                uint32_t pair = 0;
                if (row < rows) {
                    const uint8_t *p = src->base + (r0 + row) * src->rs + (c0 + 2 * q) * src->cs;
                    pair = mc_cpu_load_u16(p);
                    if (2 * q + 1 < depth)
                        pair |= (uint32_t)mc_cpu_load_u16(p + src->cs) << 16;
                }
                memcpy(sliver + (size_t)(q * w + r) * sizeof pair, &pair, sizeof pair);
            }
    }
}

void mc_gemm_pack_bf16_amx_a(const mc_gemm_mat *src, int64_t r0, int64_t rows, int64_t c0, int64_t depth, int w,
                             float *out)
{
    const int64_t pairs = (depth + 1) / 2;
    for (int64_t s = 0; s * w < rows; s++) {
        uint8_t *sliver = (uint8_t *)out + (size_t)(s * depth * w) * sizeof(uint32_t);
        for (int64_t h0 = 0; h0 < pairs; h0 += 16) {
            const int64_t len = pairs - h0 < 16 ? pairs - h0 : 16;
            /* k adjacent and every pair whole: a chunk row is the source row's bytes as they are */
            if (src->cs == 2 && 2 * (h0 + len) <= depth) {
                for (int r = 0; r < w; r++) {
                    uint8_t *dst = sliver + (size_t)(h0 * w + r * len) * sizeof(uint32_t);
                    if (s * w + r < rows)
                        memcpy(dst, src->base + (r0 + s * w + r) * src->rs + (c0 + 2 * h0) * src->cs,
                               (size_t)len * sizeof(uint32_t));
                    else
                        memset(dst, 0, (size_t)len * sizeof(uint32_t));
                }
                continue;
            }
            for (int r = 0; r < w; r++)
                for (int64_t q = 0; q < len; q++) {
                    const int64_t row = s * w + r, k = 2 * (h0 + q);
                    uint32_t pair = 0;
                    if (row < rows) {
                        const uint8_t *p = src->base + (r0 + row) * src->rs + (c0 + k) * src->cs;
                        pair = mc_cpu_load_u16(p);
                        if (k + 1 < depth)
                            pair |= (uint32_t)mc_cpu_load_u16(p + src->cs) << 16;
                    }
                    memcpy(sliver + (size_t)(h0 * w + r * len + q) * sizeof pair, &pair, sizeof pair);
                }
        }
    }
}

const char *mc_gemm_bf16_supports(const mc_args *args)
{
    const mc_gemm_args *g = &args->u.gemm;
    if (g->a.dtype != MC_DTYPE_BF16 || g->b.dtype != MC_DTYPE_BF16)
        return "bf16 matrix path: A and B must be bf16";
    return mc_gemm_tiled_supports(args);
}
