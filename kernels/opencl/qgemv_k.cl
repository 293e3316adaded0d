/* kernels/opencl/qgemv_k.cl: dequantising GEMV y = A x for q4_K and q6_K A (256-element
 * super-blocks, the byte layout of core/quant_format.c and docs/quant.md), x as it is (f32 sums).
 * SPDX-License-Identifier: MIT */

/* Build options:
 *   LANES, ROWS  work-items per row (a power of two) and rows per work-group
 *   QUANT        40: q4_K (144-byte super-blocks); 60: q6_K (210-byte super-blocks)
 *   DT_X, DT_Y   dtype codes (common.cl)
 *   MUTANT       0; test-only wrong decodes (tests/test_opencl_qgemv_k.c proves each one fails):
 *                1 q4_K: the sub-block scales of a pair swapped (scale 2c + 1 for sub-block 2c);
 *                2 q6_K: the two high bits read from the wrong position (shift 2 f + 1)
 * A row's work is its 32-element groups (8 per super-block); lane i takes groups i, i + LANES, ...,
 * so neighbouring lanes read neighbouring bytes. The reduction order is fixed: results are bitwise
 * reproducible. */
#ifndef MUTANT
#define MUTANT 0
#endif
#define GROUP (LANES * ROWS)
#define GROUPS_PER_SUPER 8

inline float f16_at(__global const uchar *p)
{
    return mc_half_bits_to_float((ushort)(p[0] | ((uint)p[1] << 8)));
}

inline float x_at(__global const uchar *x, long x_off, long x_nb0, long p)
{
    return mc_load(x, x_off + p * x_nb0, DT_X);
}

#if QUANT == 40
/* 6-bit scale (*sc) and min (*mn) of sub-block j from the 12 packed bytes at q
 * (mc_quant_scale_min_k4). */
inline void scale_min_k4(int j, __global const uchar *q, float *sc, float *mn)
{
    if (j < 4) {
        *sc = (float)(q[j] & 63);
        *mn = (float)(q[j + 4] & 63);
    } else {
        *sc = (float)((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4));
        *mn = (float)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* Group s (sub-block s, elements 32 s .. 32 s + 31) of the super-block at q: byte 16 + 32 (s / 2)
 * + l holds element l's code in its low nibble for even s, its high nibble for odd s; the value is
 * (d sc) code - (dmin m), summed here as (d sc) sum(code x) - (dmin m) sum(x). */
inline float group_dot(__global const uchar *q, int s, __global const uchar *x, long x_off, long x_nb0, long p0)
{
    float sc, mn;
#if MUTANT == 1
    scale_min_k4(s ^ 1, q + 4, &sc, &mn);
#else
    scale_min_k4(s, q + 4, &sc, &mn);
#endif
    __global const uchar *qs = q + 16 + 32 * (s / 2);
    const int shift = 4 * (s & 1);
    float sqx = 0.0f, sx = 0.0f;
    for (int l = 0; l < 32; l++) {
        const float xv = x_at(x, x_off, x_nb0, p0 + l);
        sqx = fma((float)((qs[l] >> shift) & 15), xv, sqx);
        sx += xv;
    }
    return f16_at(q) * sc * sqx - f16_at(q + 2) * mn * sx;
}
#elif QUANT == 60
/* Group g = 4 h + f (elements 128 h + 32 f .. + 31) of the super-block at q: element l's low four
 * bits are the low (f < 2) or high nibble of ql[64 h + 32 (f & 1) + l], its two high bits
 * (qh[128 + 32 h + l] >> 2 f) & 3; code - 32 times d times the int8 scale at 192 + 8 h + 2 f
 * (l < 16) or the next one (l >= 16). */
inline float group_dot(__global const uchar *q, int g, __global const uchar *x, long x_off, long x_nb0, long p0)
{
    const int h = g / 4, f = g % 4;
    __global const uchar *ql = q + 64 * h + 32 * (f & 1), *qh = q + 128 + 32 * h;
    const int low_shift = f < 2 ? 0 : 4;
#if MUTANT == 2
    const int high_shift = 2 * f + 1;
#else
    const int high_shift = 2 * f;
#endif
    float half_sums[2];
    for (int half_ = 0; half_ < 2; half_++) {
        float s = 0.0f;
        for (int l = 16 * half_; l < 16 * half_ + 16; l++) {
            const int code = ((ql[l] >> low_shift) & 15) | (((qh[l] >> high_shift) & 3) << 4);
            s = fma((float)(code - 32), x_at(x, x_off, x_nb0, p0 + l), s);
        }
        half_sums[half_] = s;
    }
    const float d = f16_at(q + 208);
    __global const char *sc = (__global const char *)(q + 192 + 8 * h + 2 * f);
    return d * (float)sc[0] * half_sums[0] + d * (float)sc[1] * half_sums[1];
}
#endif

/* One lane's share of a row: its groups, in order. */
inline float row_dot(__global const uchar *a, long row_off, long a_nb0, __global const uchar *x, long x_off,
                     long x_nb0, long k, int lane)
{
    float acc = 0.0f;
    const long groups = k / 256 * GROUPS_PER_SUPER;
    for (long u = lane; u < groups; u += LANES) {
        const long blk = u / GROUPS_PER_SUPER;
        const int g = (int)(u % GROUPS_PER_SUPER);
        acc += group_dot(a + row_off + blk * a_nb0, g, x, x_off, x_nb0, blk * 256 + 32 * g);
    }
    return acc;
}

__kernel __attribute__((reqd_work_group_size(GROUP, 1, 1)))
void qgemv_k(__global const uchar *a, long a_off, long4 a_ne, long4 a_nb,
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
