/* kernels/cpu/qgemv_avx512_32.h: the Q4_0 row kernels on 512-bit vectors (qgemv_avx512_32.c), with
 * the row signature of qgemv_common.h. Call each only after its variant's probe said yes.
 * SPDX-License-Identifier: MIT */
#ifndef MC_QGEMV_AVX512_32_H
#define MC_QGEMV_AVX512_32_H

#include <stdint.h>

/* Q4_0 against f32 x (AVX512F): nibbles to weights by a 16-entry vpermps table. */
float mc_qgemv_row_q4_0_avx512(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                               const uint8_t *xq);
/* Q4_0 against q8_0 x (AVX512F/BW/VL, AVX512_VNNI, GFNI): two blocks per vpdpbusd. */
float mc_qgemv_row_q4_0_q8dot_vnni512(const uint8_t *row, int64_t block_stride, int64_t nblocks, const float *x,
                                      const uint8_t *xq);

#endif
