/* engine/generate_quant.c: quant test-vector patterns (docs/quant.md), applied by the generators
 * to weight rows before they are quantised.
 * SPDX-License-Identifier: MIT */
#include "generate_quant.h"

#include <math.h>
#include <string.h>

#include "core/quant_format.h"

static const char *const pattern_names[] = {
    [MC_QPATTERN_RANDOM] = "random", [MC_QPATTERN_ZERO] = "zero",   [MC_QPATTERN_TWIN_MAX] = "twin_max",
    [MC_QPATTERN_TIES] = "ties",     [MC_QPATTERN_TINY] = "tiny",   [MC_QPATTERN_LARGE] = "large",
    [MC_QPATTERN_NAN] = "nan",
};
_Static_assert(sizeof pattern_names / sizeof pattern_names[0] == MC_QPATTERN_COUNT, "one name per pattern");

const char *mc_quant_pattern_name(mc_quant_pattern p)
{
    return (p >= 0 && p < MC_QPATTERN_COUNT) ? pattern_names[p] : "?";
}

bool mc_quant_pattern_parse(const char *name, mc_quant_pattern *out)
{
    for (int i = 0; i < MC_QPATTERN_COUNT; i++) {
        if (strcmp(name, pattern_names[i]) == 0) {
            *out = (mc_quant_pattern)i;
            return true;
        }
    }
    return false;
}

/* The largest power of two <= v (v > 0, finite). */
static float pow2_at_most(double v)
{
    int e;
    frexp(v, &e); /* v = f 2^e, f in [1/2, 1) */
    return ldexpf(1.0f, e - 1);
}

/* Ties: the block's largest element is top * s (top = 127 for q8_0, 8 for q4_0: the format row's
 * ties_top), so d = s (or -s) exactly and id = 1 / s exactly; every other element is
 * (n + 1/2) s with |n + 1/2| < top, so x id lands exactly on n + 1/2. All of it is exact in fp32
 * (9-bit integers times 2^e). Formats with a min or a scale search get the same values: their
 * codes need not tie, the values still probe halfway points. */
static void pattern_ties(float *x, int top, int64_t t, double mag)
{
    const float s = pow2_at_most(mag / top);
    for (int j = 1; j < MC_QK; j++) {
        double n = floor((double)x[j] / mag * (top - 1)); /* -(top - 1) .. top - 1 */
        x[j] = ((float)n + 0.5f) * s;
    }
    x[0] = (float)(t % 2 ? -top : top) * s;
}

static void pattern_block(mc_quant_pattern p, int top, int64_t t, float *x, double mag)
{
    switch (p) {
    case MC_QPATTERN_ZERO:
        if (t % 2 == 0)
            memset(x, 0, MC_QK * sizeof *x);
        break;
    case MC_QPATTERN_TWIN_MAX: /* q4_0 keeps the first: d's sign alternates with t */
        x[3] = (float)(t % 2 ? 1.25 * mag : -1.25 * mag);
        x[20] = -x[3];
        break;
    case MC_QPATTERN_TIES:
        pattern_ties(x, top, t, mag);
        break;
    case MC_QPATTERN_TINY:
    case MC_QPATTERN_LARGE: {
        const float f = (float)((p == MC_QPATTERN_TINY ? 1e-6 : 3e4) / mag);
        for (int j = 0; j < MC_QK; j++)
            x[j] *= f;
        break;
    }
    case MC_QPATTERN_NAN: /* q8_0: amax restarts after the NaN, so 3 mag wraps (ggml's int8 cast) */
        if (t % 2 == 0) {
            x[0] = (float)(3.0 * mag);
            x[10] = NAN;
        }
        break;
    default:
        break;
    }
}

void mc_quant_pattern_apply(mc_quant_pattern p, mc_dtype dt, int64_t row, float *x, int64_t n, double mag)
{
    if (p == MC_QPATTERN_RANDOM || !(mag > 0))
        return;
    const int top = mc_quant_format_of(dt)->ties_top;
    for (int64_t b = 0; b < n / MC_QK; b++)
        pattern_block(p, top, row + b, x + b * MC_QK, mag);
}
