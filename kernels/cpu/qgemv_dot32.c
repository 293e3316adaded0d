/* kernels/cpu/qgemv_dot32.c: the Q4_1, Q5_0 and Q5_1 dots against q8_0 activations, scalar
 * (ggml's vec_dot_q4_1_q8_1 / q5_0_q8_0 / q5_1_q8_1, generic paths, with q8_0 for x).
 * Per block: d_w d_x sum q v (+ m d_x sum v for the formats with a min), both sums exact
 * integers. ggml's q8_1 carries s = d_x sum v rounded to fp16; x here is q8_0 and the kernel sums
 * the codes itself, so no fp16 step enters and the bound stays the Q8_0 one (docs/quant.md).
 * SPDX-License-Identifier: MIT */
#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_common.h"

/* Where a 32-element format keeps its parts (byte offsets in the block; -1: absent). */
typedef struct dot32_layout {
    int min;    /* fp16 m (Q4_1, Q5_1) */
    int qh;     /* 32-bit fifth-bit mask (Q5_0, Q5_1) */
    int qs;     /* 16 bytes of nibbles */
    int offset; /* added to every code: -16 for Q5_0, 0 for the formats with a min */
} dot32_layout;

static const dot32_layout q4_1_layout = {.min = 2, .qh = -1, .qs = 4, .offset = 0};
static const dot32_layout q5_0_layout = {.min = -1, .qh = 2, .qs = 6, .offset = -16};
static const dot32_layout q5_1_layout = {.min = 2, .qh = 4, .qs = 8, .offset = 0};

static float f16_at(const uint8_t *p)
{
    return mc_f16_to_f32(mc_cpu_load_u16(p));
}

static void block_codes(const dot32_layout *l, const uint8_t *wb, int q[32])
{
    if (l->qh >= 0) {
        mc_qgemv_q5_codes(wb + l->qh, wb + l->qs, q);
        return;
    }
    for (int j = 0; j < 16; j++) {
        q[j] = wb[l->qs + j] & 0x0F;
        q[j + 16] = wb[l->qs + j] >> 4;
    }
}

/* d_w d_x is exact in f32 (11 x 11 bits) and so is d_x sum v (11 bits x |sum| <= 4064): each
 * block adds one rounded product for the codes and one for the min. */
static float dot32_row(const dot32_layout *l, const uint8_t *row, int64_t block_stride, int64_t nblocks,
                       const uint8_t *xq)
{
    float acc = 0.0f;
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *wb = row + b * block_stride, *xb = xq + b * MC_QGEMV_Q8_0_BYTES;
        const int8_t *v = (const int8_t *)(const void *)(xb + 2);
        int q[32];
        int32_t sumi = 0, sumv = 0;
        block_codes(l, wb, q);
        for (int j = 0; j < MC_QGEMV_QK; j++) {
            sumi += (q[j] + l->offset) * v[j];
            sumv += v[j];
        }
        const float dx = f16_at(xb);
        acc += f16_at(wb) * dx * (float)sumi;
        if (l->min >= 0)
            acc += f16_at(wb + l->min) * (dx * (float)sumv);
    }
    return acc;
}

float mc_qgemv_row_q4_1_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                     const uint8_t *xq)
{
    (void)x;
    return dot32_row(&q4_1_layout, row, block_stride, nblocks, xq);
}

float mc_qgemv_row_q5_0_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                     const uint8_t *xq)
{
    (void)x;
    return dot32_row(&q5_0_layout, row, block_stride, nblocks, xq);
}

float mc_qgemv_row_q5_1_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                     const uint8_t *xq)
{
    (void)x;
    return dot32_row(&q5_1_layout, row, block_stride, nblocks, xq);
}
