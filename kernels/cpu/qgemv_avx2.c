/* kernels/cpu/qgemv_avx2.c: AVX2/FMA/F16C row kernels of the quantised GEMV and ggml's x86
 * activation quantiser. Built with -mavx2 -mfma -mf16c; called only after the cpuid probe.
 * Blocks are read with unaligned loads of exactly their own bytes (32 codes of a q8_0 block,
 * 16 bytes of a q4_0 block), so misaligned bases and padded rows need no scalar path.
 * SPDX-License-Identifier: MIT */
#include <immintrin.h>
#include <string.h>

#include "kernels/cpu/qgemv_common.h"

static float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* The block's fp16 scale, in every lane: a table load and a broadcast, both on the load ports
 * (a vpbroadcastw + vcvtph2ps pair would take two shuffle-port uops per block). */
static __m256 block_scale8(const uint8_t *blk)
{
    return _mm256_broadcast_ss(&mc_qgemv_f16_table[blk[0] | blk[1] << 8]);
}

/* Eight int8 codes at p, sign-extended straight from memory (vpmovsxbd ymm, m64): no shuffles
 * beyond the extension itself, which is what limits these kernels on Intel's port 5. */
static __m256 codes8(const uint8_t *p)
{
    __m128i v;
    v = _mm_loadl_epi64((const __m128i *)(const void *)p);
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v));
}

/* Prefetch distance in bytes: the hardware stream prefetcher alone leaves a core short of
 * misses in flight once the kernel does real work between loads (measured: docs/quant.md). */
#ifndef MC_QGEMV_PREFETCH_BYTES
#define MC_QGEMV_PREFETCH_BYTES 2048
#endif

static void prefetch_ahead(const uint8_t *blk)
{
    _mm_prefetch((const char *)(blk + MC_QGEMV_PREFETCH_BYTES), _MM_HINT_T0);
}

/* sum_j code_j x_j over one q8_0 block, in f32 (codes convert exactly). */
static __m256 q8_0_block_sum(const uint8_t *blk, const float *xb)
{
    __m256 s = _mm256_mul_ps(codes8(blk + 2), _mm256_loadu_ps(xb));
    s = _mm256_fmadd_ps(codes8(blk + 10), _mm256_loadu_ps(xb + 8), s);
    s = _mm256_fmadd_ps(codes8(blk + 18), _mm256_loadu_ps(xb + 16), s);
    return _mm256_fmadd_ps(codes8(blk + 26), _mm256_loadu_ps(xb + 24), s);
}

/* Blocks in pairs on two accumulators (kept in registers: a variable index would put them on
 * the stack), so consecutive blocks do not wait on one FMA chain: acc += d * block sum. */
float mc_qgemv_row_q8_0_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                             const uint8_t *xq)
{
    (void)xq;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= nblocks; b += 2) {
        const uint8_t *blk = row + b * block_stride;
        prefetch_ahead(blk);
        acc0 = _mm256_fmadd_ps(block_scale8(blk), q8_0_block_sum(blk, x + b * MC_QGEMV_QK), acc0);
        blk += block_stride;
        acc1 = _mm256_fmadd_ps(block_scale8(blk), q8_0_block_sum(blk, x + (b + 1) * MC_QGEMV_QK), acc1);
    }
    if (b < nblocks) {
        const uint8_t *blk = row + b * block_stride;
        acc0 = _mm256_fmadd_ps(block_scale8(blk), q8_0_block_sum(blk, x + b * MC_QGEMV_QK), acc0);
    }
    return hsum(_mm256_add_ps(acc0, acc1));
}

/* Eight bytes at p zero-extended to 32-bit lanes: lane i holds element j + i in its low nibble
 * and element j + 16 + i in its high nibble (j = p - blk - 2). */
static void nibbles8(const uint8_t *p, __m256 *lo, __m256 *hi)
{
    const __m256i low4 = _mm256_set1_epi32(0x0F), eight = _mm256_set1_epi32(8);
    __m128i v;
    v = _mm_loadl_epi64((const __m128i *)(const void *)p);
    const __m256i bytes = _mm256_cvtepu8_epi32(v);
    *lo = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_and_si256(bytes, low4), eight));
    *hi = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bytes, 4), eight));
}

/* sum_j (nibble_j - 8) x_j over one q4_0 block, in f32. */
static __m256 q4_0_block_sum(const uint8_t *blk, const float *xb)
{
    __m256 lo0, hi0, lo1, hi1;
    nibbles8(blk + 2, &lo0, &hi0);  /* elements 0..7 and 16..23 */
    nibbles8(blk + 10, &lo1, &hi1); /* elements 8..15 and 24..31 */
    __m256 s = _mm256_mul_ps(lo0, _mm256_loadu_ps(xb));
    s = _mm256_fmadd_ps(hi0, _mm256_loadu_ps(xb + 16), s);
    s = _mm256_fmadd_ps(lo1, _mm256_loadu_ps(xb + 8), s);
    return _mm256_fmadd_ps(hi1, _mm256_loadu_ps(xb + 24), s);
}

float mc_qgemv_row_q4_0_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                             const uint8_t *xq)
{
    (void)xq;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= nblocks; b += 2) {
        const uint8_t *blk = row + b * block_stride;
        prefetch_ahead(blk);
        acc0 = _mm256_fmadd_ps(block_scale8(blk), q4_0_block_sum(blk, x + b * MC_QGEMV_QK), acc0);
        blk += block_stride;
        acc1 = _mm256_fmadd_ps(block_scale8(blk), q4_0_block_sum(blk, x + (b + 1) * MC_QGEMV_QK), acc1);
    }
    if (b < nblocks) {
        const uint8_t *blk = row + b * block_stride;
        acc0 = _mm256_fmadd_ps(block_scale8(blk), q4_0_block_sum(blk, x + b * MC_QGEMV_QK), acc0);
    }
    return hsum(_mm256_add_ps(acc0, acc1));
}

/* sum over 32 code pairs w_j v_j, as 8 int32 lanes, exactly. ggml's trick: maddubs multiplies
 * unsigned by signed bytes, so |w| goes first and v takes w's sign. |w| <= 128 (-128 reads as
 * unsigned 128) and |v| <= 127 (our x quantisers never make -128), so a pair sums to at most
 * 2 * 128 * 127 = 32512: the int16 saturation of maddubs is never reached. */
static __m256i dot32(__m256i w, __m256i v)
{
    const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(v, w));
    return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

/* One q8_0 x q8_0 block: the exact integer dot, as floats, times d_w d_x (exact in f32:
 * 11 bits times 11 bits), added to acc. */
static __m256 q8_0_block_dot(const uint8_t *wb, const uint8_t *xb, __m256 acc)
{
    const __m256i w = _mm256_loadu_si256((const __m256i *)(const void *)(wb + 2));
    const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(xb + 2));
    const __m256 scale = _mm256_mul_ps(block_scale8(wb), block_scale8(xb));
    return _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(dot32(w, v)), acc);
}

/* ggml's vec_dot_q4_0_q8_0 block: nibbles to int8 codes in [-8, 7] (low nibbles are elements
 * 0..15, high nibbles 16..31), then the same exact integer dot. */
static __m256 q4_0_block_dot(const uint8_t *wb, const uint8_t *xb, __m256 acc)
{
    const __m256i low4 = _mm256_set1_epi8(0x0F), eight = _mm256_set1_epi8(8);
    const __m128i packed = _mm_loadu_si128((const __m128i *)(const void *)(wb + 2));
    const __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(packed), _mm_srli_epi16(packed, 4), 1);
    const __m256i w = _mm256_sub_epi8(_mm256_and_si256(both, low4), eight);
    const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(xb + 2));
    const __m256 scale = _mm256_mul_ps(block_scale8(wb), block_scale8(xb));
    return _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(dot32(w, v)), acc);
}

typedef __m256 (*block_dot_fn)(const uint8_t *wb, const uint8_t *xb, __m256 acc);

/* Blocks in pairs on two register accumulators; inlined per format below. */
static inline __attribute__((always_inline)) float q8dot_row(block_dot_fn dot, const uint8_t *row,
                                                             int64_t block_stride, int64_t nblocks,
                                                             const uint8_t *xq)
{
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= nblocks; b += 2) {
        const uint8_t *wb = row + b * block_stride;
        prefetch_ahead(wb);
        acc0 = dot(wb, xq + b * MC_QGEMV_Q8_0_BYTES, acc0);
        acc1 = dot(wb + block_stride, xq + (b + 1) * MC_QGEMV_Q8_0_BYTES, acc1);
    }
    if (b < nblocks)
        acc0 = dot(row + b * block_stride, xq + b * MC_QGEMV_Q8_0_BYTES, acc0);
    return hsum(_mm256_add_ps(acc0, acc1));
}

float mc_qgemv_row_q8_0_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq)
{
    (void)x;
    return q8dot_row(q8_0_block_dot, row, block_stride, nblocks, xq);
}

float mc_qgemv_row_q4_0_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq)
{
    (void)x;
    return q8dot_row(q4_0_block_dot, row, block_stride, nblocks, xq);
}

/* ---- VNNI: vpdpbusd does maddubs + madd in one instruction, without the int16 step ----
 * Called only after the VNNI probe (AVX512_VNNI with AVX512VL, on 256-bit vectors). Each lane
 * holds the same four-product sum as dot32's, exactly (no saturation: |sum| <= 4 * 128 * 127), so
 * these rows equal the AVX2 ones bit for bit, in fewer uops per block. */
#define VNNI_TARGET __attribute__((target("avx512vnni,avx512vl,avx2,fma,f16c")))

VNNI_TARGET static __m256i dot32_vnni(__m256i w, __m256i v)
{
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(w, w), _mm256_sign_epi8(v, w));
}

VNNI_TARGET static __m256 q8_0_block_dot_vnni(const uint8_t *wb, const uint8_t *xb, __m256 acc)
{
    const __m256i w = _mm256_loadu_si256((const __m256i *)(const void *)(wb + 2));
    const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(xb + 2));
    const __m256 scale = _mm256_mul_ps(block_scale8(wb), block_scale8(xb));
    return _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(dot32_vnni(w, v)), acc);
}

VNNI_TARGET static __m256 q4_0_block_dot_vnni(const uint8_t *wb, const uint8_t *xb, __m256 acc)
{
    const __m256i low4 = _mm256_set1_epi8(0x0F), eight = _mm256_set1_epi8(8);
    const __m128i packed = _mm_loadu_si128((const __m128i *)(const void *)(wb + 2));
    const __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(packed), _mm_srli_epi16(packed, 4), 1);
    const __m256i w = _mm256_sub_epi8(_mm256_and_si256(both, low4), eight);
    const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(xb + 2));
    const __m256 scale = _mm256_mul_ps(block_scale8(wb), block_scale8(xb));
    return _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(dot32_vnni(w, v)), acc);
}

VNNI_TARGET float mc_qgemv_row_q8_0_q8dot_vnni(const uint8_t *row, int64_t block_stride, int64_t nblocks,
                                               const float *x, const uint8_t *xq)
{
    (void)x;
    return q8dot_row(q8_0_block_dot_vnni, row, block_stride, nblocks, xq);
}

VNNI_TARGET float mc_qgemv_row_q4_0_q8dot_vnni(const uint8_t *row, int64_t block_stride, int64_t nblocks,
                                               const float *x, const uint8_t *xq)
{
    (void)x;
    return q8dot_row(q4_0_block_dot_vnni, row, block_stride, nblocks, xq);
}

/* ggml's AVX2 quantize_row_q8_0: amax by vector max, id = 127 / amax, round to nearest even,
 * pack 32 int32 to int8 (packs interleave 128-bit lanes; the permute restores element order). */
void mc_qgemv_quantise_x_q8_0_avx2(const float *x, uint8_t *out, int64_t n)
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int64_t b = 0; b < n / MC_QGEMV_QK; b++) {
        const float *xb = x + b * MC_QGEMV_QK;
        uint8_t *blk = out + b * MC_QGEMV_Q8_0_BYTES;
        __m256 v[4], m = _mm256_setzero_ps();
        for (int i = 0; i < 4; i++) {
            v[i] = _mm256_loadu_ps(xb + 8 * i);
            m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v[i]));
        }
        __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(m, 1), _mm256_castps256_ps128(m));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        const uint16_t d = _cvtss_sh(amax / 127.0f, 0);
        memcpy(blk, &d, sizeof d);
        const __m256 id = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
        __m256i q[4];
        for (int i = 0; i < 4; i++)
            q[i] = _mm256_cvtps_epi32(
                _mm256_round_ps(_mm256_mul_ps(v[i], id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        __m256i q01 = _mm256_packs_epi32(q[0], q[1]);
        __m256i q23 = _mm256_packs_epi32(q[2], q[3]);
        __m256i q8 = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(q01, q23), order);
        _mm256_storeu_si256((__m256i *)(blk + 2), q8);
    }
}
