/* kernels/cpu/qgemv_avx2_32.c: AVX2/FMA/F16C row kernels of Q4_1, Q5_0 and Q5_1: dequantising
 * (weights fma(d, q, c), c = m or -16 d: one rounding of d q + m, as ggml's q d + m, exact for
 * Q5_0) and dots against q8_0 activations (exact integer sums, as qgemv_dot32.c). Built with
 * -mavx2 -mfma -mf16c; called only after the cpuid probe.
 * SPDX-License-Identifier: MIT */
#include "kernels/cpu/qgemv_avx2.h"
#include "kernels/cpu/qgemv_common.h"

/* Byte offsets of a format's parts (-1: absent); offset is added to every code (-16: Q5_0). */
typedef struct fmt32 {
    int min, qh, qs, offset;
} fmt32;

static const fmt32 q4_1 = {.min = 2, .qh = -1, .qs = 4, .offset = 0};
static const fmt32 q5_0 = {.min = -1, .qh = 2, .qs = 6, .offset = -16};
static const fmt32 q5_1 = {.min = 2, .qh = 4, .qs = 8, .offset = 0};

static float f16_at(const uint8_t *p)
{
    return mc_qgemv_f16_table[p[0] | p[1] << 8];
}

/* The block's 32 unsigned codes as bytes in element order: byte j < 16 the low nibble of qs[j],
 * byte 16 + j its high nibble (ggml's bytes_from_nibbles_32), or-ed with 16 where bit j of the
 * 32-bit qh is set (ggml's bytes_from_bits_32: byte j of a broadcast, all ones iff bit j). */
static inline __attribute__((always_inline)) __m256i codes32(fmt32 f, const uint8_t *blk)
{
    const __m128i packed = _mm_loadu_si128((const __m128i *)(const void *)(blk + f.qs));
    const __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(packed), _mm_srli_epi16(packed, 4), 1);
    __m256i q = _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
    if (f.qh >= 0) {
        uint32_t qh;
        memcpy(&qh, blk + f.qh, sizeof qh);
        const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh),
                                                   _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                                                     0x0101010101010101, 0));
        const __m256i set = _mm256_cmpeq_epi8(_mm256_or_si256(spread, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe)),
                                              _mm256_set1_epi64x(-1));
        q = _mm256_or_si256(q, _mm256_and_si256(set, _mm256_set1_epi8(0x10)));
    }
    return q;
}

/* sum_j w_j x_j over one block, w_j = fma(d, q_j, c). */
static inline __attribute__((always_inline)) __m256 dequant_block(fmt32 f, const uint8_t *blk, const float *xb,
                                                                  __m256 acc)
{
    const float d = f16_at(blk);
    const __m256 dv = _mm256_set1_ps(d);
    const __m256 cv = _mm256_set1_ps(f.min >= 0 ? f16_at(blk + f.min) : (float)f.offset * d);
    const __m256i q = codes32(f, blk);
    const __m128i halves[2] = {_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1)};
    for (int i = 0; i < 4; i++) {
        const __m128i part = i % 2 ? _mm_srli_si128(halves[i / 2], 8) : halves[i / 2];
        const __m256 w = _mm256_fmadd_ps(dv, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(part)), cv);
        acc = _mm256_fmadd_ps(w, _mm256_loadu_ps(xb + 8 * i), acc);
    }
    return acc;
}

static inline __attribute__((always_inline)) float dequant_row(fmt32 f, const uint8_t *row, int64_t block_stride,
                                                               int64_t nblocks, const float *x)
{
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= nblocks; b += 2) {
        const uint8_t *blk = row + b * block_stride;
        _mm_prefetch((const char *)(blk + 2048), _MM_HINT_T0);
        acc0 = dequant_block(f, blk, x + b * MC_QGEMV_QK, acc0);
        acc1 = dequant_block(f, blk + block_stride, x + (b + 1) * MC_QGEMV_QK, acc1);
    }
    if (b < nblocks)
        acc0 = dequant_block(f, row + b * block_stride, x + b * MC_QGEMV_QK, acc0);
    return mc_qgemv_hsum(_mm256_add_ps(acc0, acc1));
}

/* One block against q8_0 x: codes 0..31 (2 * 31 * 127 < 32768: no maddubs saturation), the
 * exact integer sums sum q v and sum v; Q5_0's -16 is taken out exactly as 16 sum v. acc gets
 * d_w d_x sum (q + offset) v (d_w d_x exact: 11 x 11 bits), accm gets m d_x sum v. */
static inline __attribute__((always_inline)) void dot_block(fmt32 f, const uint8_t *wb, const uint8_t *xb,
                                                            __m256 *acc, __m256 *accm)
{
    const __m256i v = mc_qgemv_bytes32(xb + 2);
    const __m256i sumv = mc_qgemv_udot32(_mm256_set1_epi8(1), v);
    __m256i sumi = mc_qgemv_udot32(codes32(f, wb), v);
    if (f.offset) /* -16: sum (q - 16) v = sum q v - 16 sum v */
        sumi = _mm256_sub_epi32(sumi, _mm256_slli_epi32(sumv, 4));
    const float dx = f16_at(xb);
    *acc = _mm256_fmadd_ps(_mm256_set1_ps(f16_at(wb) * dx), _mm256_cvtepi32_ps(sumi), *acc);
    if (f.min >= 0)
        *accm = _mm256_fmadd_ps(_mm256_set1_ps(f16_at(wb + f.min) * dx), _mm256_cvtepi32_ps(sumv), *accm);
}

static inline __attribute__((always_inline)) float dot_row(fmt32 f, const uint8_t *row, int64_t block_stride,
                                                           int64_t nblocks, const uint8_t *xq)
{
    __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
    for (int64_t b = 0; b < nblocks; b++) {
        const uint8_t *wb = row + b * block_stride;
        _mm_prefetch((const char *)(wb + 2048), _MM_HINT_T0);
        dot_block(f, wb, xq + b * MC_QGEMV_Q8_0_BYTES, &acc, &accm);
    }
    return mc_qgemv_hsum(_mm256_add_ps(acc, accm));
}

float mc_qgemv_row_q4_1_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                             const uint8_t *xq)
{
    (void)xq;
    return dequant_row(q4_1, row, block_stride, nblocks, x);
}

float mc_qgemv_row_q5_0_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                             const uint8_t *xq)
{
    (void)xq;
    return dequant_row(q5_0, row, block_stride, nblocks, x);
}

float mc_qgemv_row_q5_1_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                             const uint8_t *xq)
{
    (void)xq;
    return dequant_row(q5_1, row, block_stride, nblocks, x);
}

float mc_qgemv_row_q4_1_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq)
{
    (void)x;
    return dot_row(q4_1, row, block_stride, nblocks, xq);
}

float mc_qgemv_row_q5_0_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq)
{
    (void)x;
    return dot_row(q5_0, row, block_stride, nblocks, xq);
}

float mc_qgemv_row_q5_1_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq)
{
    (void)x;
    return dot_row(q5_1, row, block_stride, nblocks, xq);
}
