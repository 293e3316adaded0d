/* kernels/cpu/qgemv_avx512_32.c: Q4_0 row kernels on 512-bit vectors (built with -mavx512f; the
 * VNNI row adds its own target): against f32 x by a vpermps table, and against q8_0 x two blocks
 * per vpdpbusd with GFNI splitting the nibbles. Called only after their variants' probes.
 * SPDX-License-Identifier: MIT */
#include <immintrin.h>

#include "kernels/cpu/qgemv_avx512_32.h"
#include "kernels/cpu/qgemv_common.h"

/* Prefetch distance in bytes ahead of the current block (the AVX2 rows' lever, docs/quant.md). */
#define PREFETCH_BYTES 2048

static inline float f16_at(const uint8_t *p)
{
    return mc_qgemv_f16_table[p[0] | p[1] << 8];
}

/* ---- f32 x: weight (q - 8) by table lookup, d applied once per block ---- */

/* sum_j d (q_j - 8) x_j over one block onto acc: the 16 bytes zero-extended to dword indices,
 * vpermps reads the low nibble from bits 0..3 as it is and the high one after a shift. */
static inline __attribute__((always_inline)) __m512 q4_0_block_f32(const uint8_t *blk, const float *xb,
                                                                  __m512 table, __m512 acc)
{
    const __m512i idx = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(blk + 2)));
    const __m512 lo = _mm512_permutexvar_ps(idx, table);                         /* elements 0..15 */
    const __m512 hi = _mm512_permutexvar_ps(_mm512_srli_epi32(idx, 4), table); /* elements 16..31 */
    __m512 s = _mm512_mul_ps(lo, _mm512_loadu_ps(xb));
    s = _mm512_fmadd_ps(hi, _mm512_loadu_ps(xb + 16), s);
    return _mm512_fmadd_ps(_mm512_set1_ps(f16_at(blk)), s, acc);
}

float mc_qgemv_row_q4_0_avx512(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq)
{
    (void)xq;
    const __m512 table = _mm512_setr_ps(-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= nblocks; b += 2) {
        const uint8_t *blk = row + b * block_stride;
        _mm_prefetch((const char *)(blk + PREFETCH_BYTES), _MM_HINT_T0);
        acc0 = q4_0_block_f32(blk, x + b * MC_QGEMV_QK, table, acc0);
        acc1 = q4_0_block_f32(blk + block_stride, x + (b + 1) * MC_QGEMV_QK, table, acc1);
    }
    if (b < nblocks)
        acc0 = q4_0_block_f32(row + b * block_stride, x + b * MC_QGEMV_QK, table, acc0);
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

/* ---- q8_0 x: two blocks per vpdpbusd ---- */
#define VNNI512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,gfni,avx2,fma,f16c")))

/* GF(2) affine matrices, one per 64-bit lane (gf2p8affineqb: result bit i of a byte is the parity
 * of the source byte and matrix byte 7 - i): LOW keeps bits 0..3, HIGH moves bits 4..7 down. */
#define NIBBLE_LOW 0x0102040800000000LL
#define NIBBLE_HIGH 0x1020408000000000LL

/* Blocks w0, w1 (int32 lanes 0..7 and 8..15) against x blocks xb0, xb1 (xb1 may be NULL: lanes
 * 8..15 then read zero codes and add nothing). qs is broadcast to [qs0, qs0, qs1, qs1] and one
 * gf2p8affineqb takes low nibbles (elements 0..15) in the first copy of each, high nibbles
 * (16..31) in the second: the unsigned codes q in x's element order. sum (q - 8) v = sum q v -
 * 8 sum v, both exact in int32; the lane scale d_w d_x is exact in f32 (11 x 11 bits). */
VNNI512 static inline __attribute__((always_inline)) __m512 q4_0_pair_dot(const uint8_t *w0, const uint8_t *w1,
                                                                         const uint8_t *xb0, const uint8_t *xb1,
                                                                         __m512 acc)
{
    const __m512i nibbles = _mm512_set_epi64(NIBBLE_HIGH, NIBBLE_HIGH, NIBBLE_LOW, NIBBLE_LOW, NIBBLE_HIGH,
                                             NIBBLE_HIGH, NIBBLE_LOW, NIBBLE_LOW);
    const __m512i eight = _mm512_set1_epi8(8);
    __m512i packed = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)(w0 + 2)));
    packed = _mm512_mask_broadcast_i32x4(packed, 0xFF00, _mm_loadu_si128((const __m128i *)(const void *)(w1 + 2)));
    const __m512i q = _mm512_gf2p8affine_epi64_epi8(packed, nibbles, 0);
    __m512i v = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(const void *)(xb0 + 2)));
    __m512 dx = _mm512_set1_ps(f16_at(xb0));
    if (xb1) {
        v = _mm512_inserti64x4(v, _mm256_loadu_si256((const __m256i *)(const void *)(xb1 + 2)), 1);
        dx = _mm512_mask_mov_ps(dx, 0xFF00, _mm512_set1_ps(f16_at(xb1)));
    } else {
        v = _mm512_zextsi256_si512(_mm512_castsi512_si256(v));
    }
    const __m512i zero = _mm512_setzero_si512();
    const __m512i dot = _mm512_sub_epi32(_mm512_dpbusd_epi32(zero, q, v), _mm512_dpbusd_epi32(zero, eight, v));
    const __m512 dw = _mm512_mask_mov_ps(_mm512_set1_ps(f16_at(w0)), 0xFF00, _mm512_set1_ps(f16_at(w1)));
    return _mm512_fmadd_ps(_mm512_mul_ps(dw, dx), _mm512_cvtepi32_ps(dot), acc);
}

VNNI512 float mc_qgemv_row_q4_0_q8dot_vnni512(const uint8_t *row, int64_t block_stride, int64_t nblocks,
                                              const float *x, const uint8_t *xq)
{
    (void)x;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int64_t b = 0;
    for (; b + 4 <= nblocks; b += 4) {
        const uint8_t *wb = row + b * block_stride, *xb = xq + b * MC_QGEMV_Q8_0_BYTES;
        _mm_prefetch((const char *)(wb + PREFETCH_BYTES), _MM_HINT_T0);
        acc0 = q4_0_pair_dot(wb, wb + block_stride, xb, xb + MC_QGEMV_Q8_0_BYTES, acc0);
        wb += 2 * block_stride;
        xb += 2 * MC_QGEMV_Q8_0_BYTES;
        _mm_prefetch((const char *)(wb + PREFETCH_BYTES), _MM_HINT_T0);
        acc1 = q4_0_pair_dot(wb, wb + block_stride, xb, xb + MC_QGEMV_Q8_0_BYTES, acc1);
    }
    for (; b + 2 <= nblocks; b += 2) {
        const uint8_t *wb = row + b * block_stride, *xb = xq + b * MC_QGEMV_Q8_0_BYTES;
        acc0 = q4_0_pair_dot(wb, wb + block_stride, xb, xb + MC_QGEMV_Q8_0_BYTES, acc0);
    }
    if (b < nblocks) {
        const uint8_t *wb = row + b * block_stride;
        acc1 = q4_0_pair_dot(wb, wb, xq + b * MC_QGEMV_Q8_0_BYTES, NULL, acc1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}
