/* reference/ref_quant.h: byte-exact Q8_0/Q4_0 quantisers and dequantisers (the ggml contract).
 * SPDX-License-Identifier: MIT */
#ifndef MC_REF_QUANT_H
#define MC_REF_QUANT_H

#include <stdint.h>

#define MC_QK 32               /* elements per block */
#define MC_Q8_0_BLOCK_BYTES 34 /* fp16 d + 32 x int8 */
#define MC_Q4_0_BLOCK_BYTES 18 /* fp16 d + 16 x packed nibbles */

/* Dequantises element j (0..31) of the block at blk. */
double mc_ref_dequant_q8_0_elem(const uint8_t *blk, int j);
double mc_ref_dequant_q4_0_elem(const uint8_t *blk, int j);

#endif
