/* reference/ref_quant.h: byte-exact quantisers of every GGUF format (the ggml contract; decoding
 * is the format table's: core/quant_format.h).
 * SPDX-License-Identifier: MIT */
#ifndef MC_REF_QUANT_H
#define MC_REF_QUANT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/dtype.h" /* MC_QK, the block sizes and their decoders */

/* Quantises n floats (n a multiple of 32; the caller checks) into n/32 GGUF blocks at out,
 * byte-identical to ggml's quantize_row_q8_0_ref / quantize_row_q4_0_ref, NaN and Inf included
 * (docs/quant.md says what those give). out needs n/32 * block bytes; no alignment needed. */
void mc_ref_quantize_row_q8_0(const float *x, uint8_t *out, int64_t n);
void mc_ref_quantize_row_q4_0(const float *x, uint8_t *out, int64_t n);
/* The same for Q4_1, Q5_0, Q5_1 (quantize_row_q4_1_ref ...; n a multiple of 32) and the K-quants
 * (quantize_row_q2_K_ref ... q6_K, q8_K; n a multiple of 256: ref_quant_k.c). */
void mc_ref_quantize_row_q4_1(const float *x, uint8_t *out, int64_t n);
void mc_ref_quantize_row_q5_0(const float *x, uint8_t *out, int64_t n);
void mc_ref_quantize_row_q5_1(const float *x, uint8_t *out, int64_t n);
void mc_ref_quantize_row_q2_K(const float *x, uint8_t *out, int64_t n);
void mc_ref_quantize_row_q3_K(const float *x, uint8_t *out, int64_t n);
void mc_ref_quantize_row_q4_K(const float *x, uint8_t *out, int64_t n);
void mc_ref_quantize_row_q5_K(const float *x, uint8_t *out, int64_t n);
void mc_ref_quantize_row_q6_K(const float *x, uint8_t *out, int64_t n);
void mc_ref_quantize_row_q8_K(const float *x, uint8_t *out, int64_t n);

typedef void (*mc_ref_quantize_fn)(const float *x, uint8_t *out, int64_t n);
/* The quantiser of a quantised dtype; NULL for plain floats. */
mc_ref_quantize_fn mc_ref_quantizer_of(mc_dtype dt);

/* Stores d as fp16 (round to nearest even, NaN as 0x7E00), little-endian, at p. */
void mc_ref_quant_store_f16(uint8_t *p, float d);

/* The scale the Q8_0 quantiser would choose for one 32-element block, before (d32) and after
 * (the return value) its fp16 rounding. */
float mc_ref_q8_0_block_scale(const float *x, float *d32 /* out */);

/* The largest |x_j - q_j d16| over one block of 32 finite activations that a q8_0 x q8_0 dot
 * quantises, for any quantiser of ggml's kind (ggml's reference rule or its x86 one): codes
 * round(x_j / s) with s = amax / 127, rounding halves either way, scale computed in fp32 (both
 * fl(1 / fl(amax/127)) and fl(127 / amax) qualify), d16 = fp16(fl(amax / 127)). */
double mc_ref_q8_0_act_error(const float *x);

/* The same for one 256-element block that ggml's quantize_row_q8_K quantises: codes
 * round(x_j / s), s = amax / 127, the scale kept in f32 (no fp16 step). */
double mc_ref_q8_K_act_error(const float *x);

#endif
