/* kernels/cpu/gemm_pack.c: portable panel packing and the tile store of the tiled GEMM.
 * SPDX-License-Identifier: MIT */
#include "kernels/cpu/gemm_pack.h"

#include <string.h>

#include "kernels/cpu/cpu_access.h"

static void zero_pad_rows(float *o, int64_t depth, int w, int64_t valid)
{
    if (valid == w)
        return;
    for (int64_t p = 0; p < depth; p++)
        for (int r = (int)valid; r < w; r++)
            o[p * w + r] = 0.0f;
}

/* f32 whose rows are adjacent (a column-major A, a row-major B^T): a run of w floats per column. */
static void pack_f32_rows_adjacent(const uint8_t *base, int64_t cs, int64_t depth, int w, int64_t valid, float *o)
{
    for (int64_t p = 0; p < depth; p++)
        memcpy(o + p * w, base + p * cs, (size_t)valid * sizeof(float));
}

/* f32 whose columns are adjacent (a row-major A): read each row in order, write it strided. */
static void pack_f32_cols_adjacent(const uint8_t *base, int64_t rs, int64_t depth, int w, int64_t valid, float *o)
{
    for (int64_t r = 0; r < valid; r++) {
        const uint8_t *row = base + r * rs;
        for (int64_t p = 0; p < depth; p++)
            memcpy(&o[p * w + r], row + p * (int64_t)sizeof(float), sizeof(float));
    }
}

static void pack_any(const mc_gemm_mat *src, const uint8_t *base, int64_t depth, int w, int64_t valid, float *o)
{
    for (int64_t p = 0; p < depth; p++)
        for (int64_t r = 0; r < valid; r++)
            o[p * w + r] = mc_cpu_load(src->dtype, base + r * src->rs + p * src->cs);
}

void mc_gemm_pack_generic(const mc_gemm_mat *src, int64_t r0, int64_t rows, int64_t c0, int64_t depth, int w,
                          float *out)
{
    for (int64_t s = 0; s * w < rows; s++) {
        float *o = out + s * depth * w;
        int64_t valid = rows - s * w < w ? rows - s * w : w;
        const uint8_t *base = src->base + (r0 + s * w) * src->rs + c0 * src->cs;
        if (src->dtype == MC_DTYPE_F32 && src->rs == (int64_t)sizeof(float))
            pack_f32_rows_adjacent(base, src->cs, depth, w, valid, o);
        else if (src->dtype == MC_DTYPE_F32 && src->cs == (int64_t)sizeof(float))
            pack_f32_cols_adjacent(base, src->rs, depth, w, valid, o);
        else
            pack_any(src, base, depth, w, valid, o);
        zero_pad_rows(o, depth, w, valid);
    }
}

void mc_gemm_store_tile(const float *acc, int ld, const mc_gemm_tile_c *t)
{
    for (int r = 0; r < t->mr; r++) {
        uint8_t *row = t->c + r * t->rs;
        for (int c = 0; c < t->nr; c++) {
            uint8_t *p = row + c * t->cs;
            float v = t->alpha * acc[r * ld + c];
            /* beta == 0: C holds a NaN sentinel and must not be read */
            if (t->beta != 0.0f)
                v += t->beta * mc_cpu_load_f32(p);
            if (t->bias)
                v += t->bias[c];
            memcpy(p, &v, sizeof v);
        }
    }
}
