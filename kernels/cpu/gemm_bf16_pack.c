/* kernels/cpu/gemm_bf16_pack.c: packing for the bf16 matrix kernels (vdpbf16ps, AMX-BF16): pairs
 * of consecutive k elements, kept as bf16 bits, one 32-bit slot per pair.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/gemm_pack.h"

void mc_gemm_pack_bf16_pairs(const mc_gemm_mat *src, int64_t r0, int64_t rows, int64_t c0, int64_t depth, int w,
                             float *out)
{
    const int64_t pairs = (depth + 1) / 2;
    for (int64_t s = 0; s * w < rows; s++) {
        uint8_t *sliver = (uint8_t *)out + (size_t)(s * depth * w) * sizeof(uint32_t);
        for (int64_t q = 0; q < pairs; q++)
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
