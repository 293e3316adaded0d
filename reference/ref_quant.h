/* reference/ref_quant.h: byte-exact Q8_0/Q4_0 quantisers and dequantisers (the ggml contract).
 * SPDX-License-Identifier: MIT */
#ifndef MC_REF_QUANT_H
#define MC_REF_QUANT_H

#include <stdbool.h>
#include <stdint.h>

#define MC_QK 32               /* elements per block */
#define MC_Q8_0_BLOCK_BYTES 34 /* fp16 d + 32 x int8 */
#define MC_Q4_0_BLOCK_BYTES 18 /* fp16 d + 16 x packed nibbles */

/* Quantises n floats (n a multiple of 32; the caller checks) into n/32 GGUF blocks at out,
 * byte-identical to ggml's quantize_row_q8_0_ref / quantize_row_q4_0_ref, NaN and Inf included
 * (docs/quant.md says what those give). out needs n/32 * block bytes; no alignment needed. */
void mc_ref_quantize_row_q8_0(const float *x, uint8_t *out, int64_t n);
void mc_ref_quantize_row_q4_0(const float *x, uint8_t *out, int64_t n);

/* Dequantises n/32 blocks at in into n floats, as ggml's dequantize_row_*: q * fp16-to-f32(d)
 * in float arithmetic. */
void mc_ref_dequantize_row_q8_0(const uint8_t *in, float *out, int64_t n);
void mc_ref_dequantize_row_q4_0(const uint8_t *in, float *out, int64_t n);

/* Dequantises element j (0..31) of the block at blk (exact: the float product widened). */
double mc_ref_dequant_q8_0_elem(const uint8_t *blk, int j);
double mc_ref_dequant_q4_0_elem(const uint8_t *blk, int j);

/* The scale the Q8_0 quantiser would choose for one 32-element block, before (d32) and after
 * (the return value) its fp16 rounding. */
float mc_ref_q8_0_block_scale(const float *x, float *d32 /* out */);

/* The largest |x_j - q_j d16| over one block of 32 finite activations that a q8_0 x q8_0 dot
 * quantises, for any quantiser of ggml's kind (ggml's reference rule or its x86 one): codes
 * round(x_j / s) with s = amax / 127, rounding halves either way, scale computed in fp32 (both
 * fl(1 / fl(amax/127)) and fl(127 / amax) qualify), d16 = fp16(fl(amax / 127)). */
double mc_ref_q8_0_act_error(const float *x);

/* Test-vector patterns (quant-formats.md) applied to generated weight rows before they are
 * quantised, so that gemv cases carry the vectors as weights. Every pattern keeps the
 * dequantised weights finite: blocks that dequantise to NaN (an infinite input, or d beyond
 * fp16) cannot be checked against a reference and are left to the unit tests. */
typedef enum mc_quant_pattern {
    MC_QPATTERN_RANDOM,   /* the generated values as they are */
    MC_QPATTERN_ZERO,     /* every other block all zeros */
    MC_QPATTERN_TWIN_MAX, /* the largest magnitude twice with opposite signs (elements 3, 20) */
    MC_QPATTERN_TIES,     /* every element on k + 1/2 after scaling (a power-of-two scale) */
    MC_QPATTERN_TINY,     /* values scaled to 1e-6 */
    MC_QPATTERN_LARGE,    /* values scaled to 3e4 */
    MC_QPATTERN_NAN,      /* a NaN at element 10 of every other block, after a large element 0 */
    MC_QPATTERN_COUNT
} mc_quant_pattern;

/* Name of a pattern ("ties"); parses one, false when unknown. */
const char *mc_quant_pattern_name(mc_quant_pattern p);
bool mc_quant_pattern_parse(const char *name, mc_quant_pattern *out);

/* Rewrites row `row` (n values, n a multiple of 32, values in [-mag, mag]) for dtype `q8_0`
 * (true) or q4_0 (false). Deterministic: same row, same result. RANDOM leaves it unchanged. */
void mc_ref_quant_pattern_apply(mc_quant_pattern p, bool q8_0, int64_t row, float *x, int64_t n, double mag);

#endif
