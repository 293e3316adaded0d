/* engine/generate_quant.h: the quant test-vector patterns the generators apply to weight rows.
 * SPDX-License-Identifier: MIT */
#ifndef MC_GENERATE_QUANT_H
#define MC_GENERATE_QUANT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/dtype.h"

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

/* Rewrites row `row` (n values, n a multiple of 32, values in [-mag, mag]), 32 values at a time,
 * for the quantised dtype dt (its format row's ties_top sets the ties pattern's scale).
 * Deterministic: same row, same result. RANDOM leaves it unchanged. */
void mc_quant_pattern_apply(mc_quant_pattern p, mc_dtype dt, int64_t row, float *x, int64_t n, double mag);

#endif
