/* kernels/cpu/qgemv_common.h: the quantised GEMV kernels' shared pieces: row-kernel and
 * x-quantiser types, the scalar and AVX2 row kernels, and the driver that runs them.
 * SPDX-License-Identifier: MIT */
#ifndef MC_QGEMV_COMMON_H
#define MC_QGEMV_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "core/variant.h"

#define MC_QGEMV_QK 32          /* elements per q8_0 / q4_0 block */
#define MC_QGEMV_Q8_0_BYTES 34  /* fp16 d + 32 x int8: also the layout of quantised x */
#define MC_QGEMV_QK_K 256       /* elements per K-quant super-block */
#define MC_QGEMV_Q8_K_BYTES 292 /* f32 d, int8 qs[256], int16 bsums[16]: x for the K-quant dots */

/* One output element: the dot product of a quantised row (nblocks blocks, block i at
 * row + i * block_stride, any alignment) with x, given as k contiguous f32 values and, for the
 * quantised-activation kernels, as contiguous q8_0 or q8_K blocks (xq; NULL for the others). */
typedef float (*mc_qgemv_row_fn)(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                 const uint8_t *xq);

/* Several output elements at once, x read once for all of them: rows i = 0 .. nrows - 1
 * (nrows 1 .. MC_QGEMV_ROWS_MAX) start at row + i * row_stride and are laid out as for
 * mc_qgemv_row_fn; out[i] gets row i's dot. Row i's value must not depend on nrows or on the
 * other rows (the driver groups rows wherever the thread split falls). */
#define MC_QGEMV_ROWS_MAX 8 /* 8 streams a thread (docs/quant.md: 4 measured slower) */
typedef void (*mc_qgemv_rows_fn)(const uint8_t *row, int64_t row_stride, int nrows, int64_t block_stride,
                                 int64_t nblocks, const float *x, const uint8_t *xq, float *out);

/* Quantises n (a multiple of 32) contiguous f32 values into q8_0 blocks. */
typedef void (*mc_qgemv_quantise_fn)(const float *x, uint8_t *out, int64_t n);

/* fp16 bits -> f32 value, all 65536 of them (exact; NaN payloads kept): a block scale then costs
 * one load, not a shuffle and a conversion. The AVX2 row kernels read it: call
 * mc_qgemv_fill_tables() first (mc_qgemv_run does). */
extern float mc_qgemv_f16_table[1 << 16];
/* Fills mc_qgemv_f16_table once per process; safe to call from any thread, any number of times. */
void mc_qgemv_fill_tables(void);

/* Scalar kernels (qgemv_scalar.c). */
float mc_qgemv_row_q8_0_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq);
float mc_qgemv_row_q4_0_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq);
float mc_qgemv_row_q8_0_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks,
                                     const float *x, const uint8_t *xq);
float mc_qgemv_row_q4_0_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks,
                                     const float *x, const uint8_t *xq);
/* ggml's reference rule: d = amax / 127, id = 1 / d, q = roundf(x id) (ties away from zero). */
void mc_qgemv_quantise_x_q8_0_scalar(const float *x, uint8_t *out, int64_t n);

/* AVX2/FMA/F16C kernels (qgemv_avx2.c): call only when mc_cpu_has_avx2(). */
float mc_qgemv_row_q8_0_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                             const uint8_t *xq);
float mc_qgemv_row_q4_0_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                             const uint8_t *xq);
float mc_qgemv_row_q8_0_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq);
float mc_qgemv_row_q4_0_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq);
/* The q8dot rows on vpdpbusd (qgemv_avx2.c): call only when mc_qgemv_has_vnni(); bitwise equal
 * to the AVX2 q8dot rows. */
float mc_qgemv_row_q8_0_q8dot_vnni(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq);
float mc_qgemv_row_q4_0_q8dot_vnni(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq);
/* ggml's x86 rule: id = 127 / amax, q = round-to-nearest-even(x id); d = amax / 127. */
void mc_qgemv_quantise_x_q8_0_avx2(const float *x, uint8_t *out, int64_t n);

/* Scalar kernels of the other formats (qgemv_decode.c: dequantising; qgemv_kdot.c: K-quant
 * dots against q8_K activations, and the q8_K quantiser). */
float mc_qgemv_row_q4_1_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq);
float mc_qgemv_row_q5_0_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq);
float mc_qgemv_row_q5_1_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq);
float mc_qgemv_row_q2_K_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq);
float mc_qgemv_row_q3_K_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq);
float mc_qgemv_row_q4_K_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq);
float mc_qgemv_row_q5_K_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq);
float mc_qgemv_row_q6_K_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq);
float mc_qgemv_row_q4_K_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                     const uint8_t *xq);
float mc_qgemv_row_q6_K_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                     const uint8_t *xq);
/* ggml's quantize_row_q8_K rule: iscale = -127 / max (max the signed element of largest
 * magnitude), codes nearest-even, d = 1 / iscale, bsums the sums of 16 codes. */
void mc_qgemv_quantise_x_q8_K_scalar(const float *x, uint8_t *out, int64_t n);

/* The kernel side's own block decoders (ggml's dequantize_row_* loops, one block into qk
 * floats): the scalar kernels and the planted-bug copies use them. */
typedef void (*mc_qgemv_decode_fn)(const uint8_t *blk, float *out);
void mc_qgemv_decode_q4_1(const uint8_t *blk, float *out);
void mc_qgemv_decode_q5_0(const uint8_t *blk, float *out);
void mc_qgemv_decode_q5_1(const uint8_t *blk, float *out);
void mc_qgemv_decode_q2_K(const uint8_t *blk, float *out);
void mc_qgemv_decode_q3_K(const uint8_t *blk, float *out);
void mc_qgemv_decode_q4_K(const uint8_t *blk, float *out);
void mc_qgemv_decode_q5_K(const uint8_t *blk, float *out);
void mc_qgemv_decode_q6_K(const uint8_t *blk, float *out);
/* The f32 dot of decoded blocks (qk elements each) with x, block by block, in element order. */
float mc_qgemv_dequant_dot(mc_qgemv_decode_fn decode, int qk, const uint8_t *row, int64_t block_stride,
                           int64_t nblocks, const float *x);
/* The 32 five-bit codes of a Q5_0/Q5_1 block from its qh (4 bytes) and qs (16 bytes). */
void mc_qgemv_q5_codes(const uint8_t *qh_bytes, const uint8_t *qs, int codes[32]);
/* The 16 signed 6-bit sub-block scales (minus 32) of a Q3_K block's 12 packed bytes. */
void mc_qgemv_scales_q3_K(const uint8_t *s, int scales[16]);
/* 6-bit scale and min j of a Q4_K/Q5_K block's 12 packed bytes (inline: the row kernels call it
 * for every sub-block). */
static inline void mc_qgemv_scale_min_k4(int j, const uint8_t *q, int *sc /* out */, int *m /* out */)
{
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

/* AVX2 kernels of Q4_K and Q6_K (qgemv_avx2_k.c): dequantising, and q8_K dots. */
float mc_qgemv_row_q4_K_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                             const uint8_t *xq);
float mc_qgemv_row_q6_K_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                             const uint8_t *xq);
/* And their dots against q8_K activations (xq from mc_qgemv_quantise_x_q8_K_scalar). */
float mc_qgemv_row_q4_K_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq);
float mc_qgemv_row_q6_K_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                   const uint8_t *xq);

/* Q4_K and Q6_K q8_K dots on AVX-512 VNNI (qgemv_avx512_k.c, vpdpbusd on 512-bit vectors),
 * MC_QGEMV_ROWS_MAX rows a pass: call only when the CPU has AVX512F, BW, VL and VNNI. */
void mc_qgemv_rows_q4_K_q8dot_avx512(const uint8_t *row, int64_t row_stride, int nrows, int64_t block_stride,
                                     int64_t nblocks, const float *x, const uint8_t *xq, float *out);
void mc_qgemv_rows_q6_K_q8dot_avx512(const uint8_t *row, int64_t row_stride, int nrows, int64_t block_stride,
                                     int64_t nblocks, const float *x, const uint8_t *xq, float *out);

/* Q8_0-activation dots of Q4_1, Q5_0, Q5_1 (qgemv_dot32.c, scalar: exact integer sums, the min
 * as m d_x sum v) and the K-quants' q8_K dots of Q2_K, Q3_K, Q5_K (qgemv_kdot.c). */
float mc_qgemv_row_q4_1_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
    const uint8_t *xq);
float mc_qgemv_row_q5_0_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
    const uint8_t *xq);
float mc_qgemv_row_q5_1_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
    const uint8_t *xq);
float mc_qgemv_row_q2_K_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
    const uint8_t *xq);
float mc_qgemv_row_q3_K_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
    const uint8_t *xq);
float mc_qgemv_row_q5_K_q8dot_scalar(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
    const uint8_t *xq);
/* AVX2 kernels of Q4_1, Q5_0, Q5_1 (qgemv_avx2_32.c), Q2_K, Q3_K (qgemv_avx2_k23.c) and Q5_K
 * (qgemv_avx2_k.c): dequantising, then dots against the format's activation blocks. */
float mc_qgemv_row_q4_1_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
    const uint8_t *xq);
float mc_qgemv_row_q5_0_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
    const uint8_t *xq);
float mc_qgemv_row_q5_1_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
    const uint8_t *xq);
float mc_qgemv_row_q2_K_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
    const uint8_t *xq);
float mc_qgemv_row_q3_K_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
    const uint8_t *xq);
float mc_qgemv_row_q5_K_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
    const uint8_t *xq);
float mc_qgemv_row_q4_1_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
    const uint8_t *xq);
float mc_qgemv_row_q5_0_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
    const uint8_t *xq);
float mc_qgemv_row_q5_1_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
    const uint8_t *xq);
float mc_qgemv_row_q2_K_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
    const uint8_t *xq);
float mc_qgemv_row_q3_K_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
    const uint8_t *xq);
float mc_qgemv_row_q5_K_q8dot_avx2(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
    const uint8_t *xq);

/* supports() of the formats beyond Q8_0/Q4_0 (qgemv_variants_k.c): a dequantising variant of dt
 * (declines xq_exact), and a dot against dt's activation format (xq must name it; exact_ok says
 * whether the variant quantises x by the reference rule and may take xq_exact). */
const char *mc_qgemv_supports_dequant(const mc_gemv_args *g, mc_dtype dt);
const char *mc_qgemv_supports_q8dot(const mc_gemv_args *g, mc_dtype dt, bool exact_ok);

/* Runs y = A x row by row on kc->threads threads: gathers x (any dtype, stride, alignment) into
 * contiguous f32, quantises it with quantise_x when that is not NULL, calls row() per output
 * element and stores the result rounded to y's dtype. */
mc_status mc_qgemv_run(mc_kernel_ctx *kc, const mc_gemv_args *g, mc_qgemv_row_fn row,
                       mc_qgemv_quantise_fn quantise_x, mc_err *err);
/* As mc_qgemv_run, calling rows() on up to MC_QGEMV_ROWS_MAX rows at a time. */
mc_status mc_qgemv_run_rows(mc_kernel_ctx *kc, const mc_gemv_args *g, mc_qgemv_rows_fn rows,
                            mc_qgemv_quantise_fn quantise_x, mc_err *err);

#endif
