/* core/half.h: portable fp16 and bf16 conversions (round to nearest, ties to even).
 * SPDX-License-Identifier: MIT */
#ifndef MC_HALF_H
#define MC_HALF_H

#include <stdint.h>

/* fp32 -> fp16, round to nearest even; NaN becomes 0x7E00 (the quant-format contract). */
uint16_t mc_f32_to_f16(float f);
/* fp16 -> fp32, exact. */
float mc_f16_to_f32(uint16_t h);
/* fp32 -> bf16, round to nearest even; NaN stays a quiet NaN. */
uint16_t mc_f32_to_bf16(float f);
/* bf16 -> fp32, exact. */
float mc_bf16_to_f32(uint16_t h);

#endif
