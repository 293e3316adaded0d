/* tests/test_quant.c: the Q8_0/Q4_0 reference quantisers, dequantisers and quantize/dequantize CLI.
 * Focus: every test vector of quant-formats.md, byte for byte against bytes worked out by hand
 * (the arithmetic is in the comments); NaN/Inf; round-trip error bounds; the fp16 scale's edges.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli/cli_quant.h"
#include "engine/generate.h"
#include "core/half.h"
#include "core/op.h"
#include "engine/ops/op_common.h"
#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_common.h"
#include "core/quant_format.h"
#include "reference/ref_quant.h"

enum { Q8_0, Q4_0 };

typedef struct byte_at {
    int at;       /* index into qs (0..31 for q8_0, 0..15 for q4_0) */
    uint8_t byte; /* expected byte there */
} byte_at;

/* One block: 32 inputs (unlisted ones are 0), and the expected block as scale bits, the byte
 * most qs hold, and the qs bytes that differ from it. */
typedef struct quant_row {
    const char *name;
    int type;
    float x[MC_QK];
    uint16_t d;
    uint8_t fill;
    byte_at diff[8];
    int n_diff;
} quant_row;

/* 127 * (1 + 3 * 2^-11): its d = amax / 127 = 1 + 3 * 2^-11 exactly, halfway between the fp16
 * values 1 + 2^-10 (0x3C01) and 1 + 2^-9 (0x3C02). */
#define AMAX_FP16_TIE 127.18603515625f

static const quant_row quant_rows[] = {
    /* amax = 0: d = 0/127 = 0 -> 0x0000; id = 0; every roundf(0 * 0) = 0. */
    {"q8_0 all zero", Q8_0, {0}, 0x0000, 0x00, {{0, 0}}, 0},
    /* amax = 127: d = 1 exactly -> 0x3C00, id = 1. Largest magnitude twice, opposite signs:
     * 127 -> 0x7F, -127 -> 0x81; 1.25 -> roundf(1.25) = 1. */
    {"q8_0 twin max, d = 1", Q8_0, {[5] = 127.0f, [6] = -127.0f, [7] = 1.25f}, 0x3C00, 0x00,
     {{5, 0x7F}, {6, 0x81}, {7, 0x01}}, 3},
    /* amax = 2 (at j = 3 and j = 20): d = fl(2/127) = 0.015748..; fp16: 2^-6 * 1.007874, mantissa
     * 0.007874 * 1024 = 8.06 -> 8, exponent -6 + 15 = 9: 0x2400 + 8 = 0x2408. id = fl(1/d) = 63.5
     * within 2 ulps: -2 -> -127.0000x -> -127 = 0x81, 2 -> 0x7F, 0.5 -> 31.75 -> 32 = 0x20. */
    {"q8_0 twin max, d = 2/127", Q8_0, {[0] = 0.5f, [3] = -2.0f, [20] = 2.0f}, 0x2408, 0x00,
     {{0, 0x20}, {3, 0x81}, {20, 0x7F}}, 3},
    /* d = 1, id = 1: exact ties after scaling; roundf goes away from zero (ties-to-even would
     * give 0, -0, 2, -2, 126, -126 and 2). 0.5 -> 1, -0.5 -> -1 = 0xFF, 2.5 -> 3, -2.5 -> -3 =
     * 0xFD, 126.5 -> 127 = 0x7F, -126.5 -> -127 = 0x81, 1.5 -> 2. */
    {"q8_0 ties at .5, d = 1", Q8_0,
     {[0] = 127.0f, [1] = 0.5f, [2] = -0.5f, [3] = 2.5f, [4] = -2.5f, [5] = 126.5f, [6] = -126.5f,
      [7] = 1.5f},
     0x3C00, 0x00, {{0, 0x7F}, {1, 0x01}, {2, 0xFF}, {3, 0x03}, {4, 0xFD}, {5, 0x7F}, {6, 0x81}, {7, 0x02}},
     8},
    /* amax = 127 * 2^-20: d = 2^-20 exactly, an fp16 subnormal: 2^-20 / 2^-24 = 16 -> 0x0010.
     * id = 2^20 exactly, so the ties are exact: 63.5 -> 64 = 0x40, -63.5 -> -64 = 0xC0,
     * 2.5 -> 3. */
    {"q8_0 ties at .5, subnormal d", Q8_0,
     {[0] = 127.0f * 0x1p-20f, [1] = 63.5f * 0x1p-20f, [2] = -63.5f * 0x1p-20f, [3] = 2.5f * 0x1p-20f},
     0x0010, 0x00, {{0, 0x7F}, {1, 0x40}, {2, 0xC0}, {3, 0x03}}, 4},
    /* d = 1 + 3 * 2^-11 exactly: the fp16 tie goes to even, 0x3C02. The element is scaled with
     * the fp32 id, not the fp16 d: 100.6875 / 1.00146484375 = 100.540 -> 101 = 0x65, where
     * 100.6875 / 1.001953125 (the fp16 d) = 100.491 would give 100. amax -> 127. */
    {"q8_0 fp16 tie in d, fp32 id", Q8_0, {[0] = AMAX_FP16_TIE, [1] = 100.6875f}, 0x3C02, 0x00,
     {{0, 0x7F}, {1, 0x65}}, 2},
    /* amax = 1e-6: d = 7.874e-9, below half the smallest fp16 subnormal (2^-25 = 2.98e-8):
     * stored d = 0x0000, while qs keep the shape: 1e-6 -> 127, -1e-6 -> 0x81,
     * 2.5e-7 -> 31.75 -> 32 = 0x20. The block dequantises to zeros, as in ggml. */
    {"q8_0 tiny (1e-6)", Q8_0, {[0] = 1e-6f, [1] = -1e-6f, [2] = 2.5e-7f}, 0x0000, 0x00,
     {{0, 0x7F}, {1, 0x81}, {2, 0x20}}, 3},
    /* amax = 1e-38: d = 7.9e-41 (an fp32 subnormal), id = 1/d = 1.27e40 overflows to +inf.
     * 1e-38 * inf = inf and -5e-39 * inf = -inf: out of int range, x86's cast gives 0;
     * 0 * inf = NaN -> 0. d -> fp16 0x0000. */
    {"q8_0 id overflows", Q8_0, {[0] = 1e-38f, [1] = -5e-39f}, 0x0000, 0x00, {{0, 0}}, 0},
    /* amax = 3e4: d = 236.2205; fp16 step in [128, 256) is 0.125: 1889.76 steps -> 1890 =
     * 236.25 = 0x5800 (2^7) + 866 = 0x5B62. 3e4 -> 127, -3e4 -> 0x81, 6e3 -> 25.4 -> 25 = 0x19,
     * -2.1e4 -> -88.9 -> -89 = 0xA7. */
    {"q8_0 large (3e4)", Q8_0, {[0] = 3e4f, [1] = -3e4f, [2] = 6e3f, [3] = -2.1e4f}, 0x5B62, 0x00,
     {{0, 0x7F}, {1, 0x81}, {2, 0x19}, {3, 0xA7}}, 4},
    /* amax = 1e7: d = 78740.2 >= 65520 rounds to fp16 +inf, 0x7C00; qs still use the fp32 id:
     * 1e7 -> 127, -2.5e6 -> -31.75 -> -32 = 0xE0. */
    {"q8_0 d beyond fp16", Q8_0, {[0] = 1e7f, [1] = -2.5e6f}, 0x7C00, 0x00, {{0, 0x7F}, {1, 0xE0}}, 2},
    /* NaN last: ggml's amax = MAX(amax, |v|) ends on NaN; d = NaN -> 0x7E00, id = NaN (NaN is
     * "true"), every x * NaN = NaN -> 0. */
    {"q8_0 NaN last", Q8_0, {[0] = 1.0f, [31] = NAN}, 0x7E00, 0x00, {{0, 0}}, 0},
    /* NaN at j = 10: MAX keeps NaN, then the next |v| replaces it, so amax = 1 (the largest after
     * the NaN). d = 1/127 = 2^-7 * 1.007874: mantissa 8.06 -> 8, exponent 8: 0x2008. id = 127:
     * 100 -> 12700 = 0x319C, stored as its low byte 0x9C (x86's int8 cast); NaN -> 0;
     * 1 -> 0x7F; -0.25 -> -31.75 -> -32 = 0xE0. */
    {"q8_0 NaN inside", Q8_0, {[0] = 100.0f, [10] = NAN, [20] = 1.0f, [21] = -0.25f}, 0x2008, 0x00,
     {{0, 0x9C}, {20, 0x7F}, {21, 0xE0}}, 3},
    /* +inf: amax = inf, d = inf -> 0x7C00, id = 1/inf = 0: -3 * 0 = -0 -> 0; inf * 0 = NaN -> 0. */
    {"q8_0 +inf", Q8_0, {[5] = INFINITY, [6] = -3.0f}, 0x7C00, 0x00, {{0, 0}}, 0},
    /* -inf: |v| = inf, so the same as +inf. */
    {"q8_0 -inf", Q8_0, {[0] = -INFINITY, [1] = 2.0f}, 0x7C00, 0x00, {{0, 0}}, 0},

    /* max stays +0: d = 0 / -8 = -0 -> 0x8000; id = 0; each 0 + 8.5 -> 8, so bytes 0x88. */
    {"q4_0 all zero", Q4_0, {0}, 0x8000, 0x88, {{0, 0x88}}, 0},
    /* |-2| at j = 3 comes first, so max = -2 (strict <: |2| at j = 20 does not replace it).
     * d = -2 / -8 = 0.25 -> 0x3400; id = 4. Codes trunc(x * 4 + 8.5): x0 = 1 -> 12.5 -> 12,
     * x16 = -0.5 -> 6.5 -> 6: byte 0 = 12 | 6 << 4 = 0x6C; x3 = -2 -> 0.5 -> 0, x19 = 0 -> 8:
     * 0x80; x4 -> 8, x20 = 2 -> 16.5 -> 16 -> min 15: 0xF8. */
    {"q4_0 twin max, negative first", Q4_0, {[0] = 1.0f, [3] = -2.0f, [16] = -0.5f, [20] = 2.0f}, 0x3400,
     0x88, {{0, 0x6C}, {3, 0x80}, {4, 0xF8}}, 3},
    /* The mirror: max = +2 (j = 3), d = -0.25 -> 0xB400, id = -4. x0 = 1 -> 4.5 -> 4, x16 = -0.5
     * -> 10.5 -> 10: 0xA4; x3 = 2 -> 0.5 -> 0: 0x80; x20 = -2 -> 16.5 -> 15: 0xF8. */
    {"q4_0 twin max, positive first", Q4_0, {[0] = 1.0f, [3] = 2.0f, [16] = -0.5f, [20] = -2.0f}, 0xB400,
     0x88, {{0, 0xA4}, {3, 0x80}, {4, 0xF8}}, 3},
    /* max = -8: d = 1 -> 0x3C00, id = 1, codes trunc(x + 8.5), i.e. halves round up:
     * -8 -> 0 | x16 = -7.5 -> 1: 0x10; 0.5 -> 9 | x17 = 3.5 -> 12: 0xC9; -0.5 -> 8: 0x88;
     * 2.5 -> 11: 0x8B; -2.5 -> 6: 0x86; 7.5 -> 16 -> 15: 0x8F; 7.49 -> 15.99 -> 15: 0x8F. */
    {"q4_0 ties at .5, d = 1", Q4_0,
     {[0] = -8.0f, [1] = 0.5f, [2] = -0.5f, [3] = 2.5f, [4] = -2.5f, [5] = 7.5f, [6] = 7.49f,
      [16] = -7.5f, [17] = 3.5f},
     0x3C00, 0x88, {{0, 0x10}, {1, 0xC9}, {3, 0x8B}, {4, 0x86}, {5, 0x8F}, {6, 0x8F}}, 6},
    /* max = 1e-6 (first): d = -1e-6/8 = -1.25e-7, an fp16 subnormal: 1.25e-7 / 2^-24 = 2.097
     * -> 2: 0x8002. id = -8e6: 1e-6 -> -8 + 8.5 -> 0, x16 = 5e-7 -> -4 + 8.5 = 4.5 -> 4: 0x40;
     * -1e-6 -> 16.5 -> 15, x17 = 0 -> 8: 0x8F. */
    {"q4_0 tiny (1e-6)", Q4_0, {[0] = 1e-6f, [1] = -1e-6f, [16] = 5e-7f}, 0x8002, 0x88,
     {{0, 0x40}, {1, 0x8F}}, 2},
    /* max = 3e4: d = -3750 exactly = -2^11 * 1.8310546875, mantissa 851 = 0x353, exponent 26:
     * 0x6800 + 0x353, negative: 0xEB53. id = -1/3750: 3e4 -> -8 -> 0, x16 = 1e4 -> -2.67 + 8.5 =
     * 5.83 -> 5: 0x50; -3e4 -> 16.5 -> 15, x17 = -1e4 -> 11.17 -> 11: 0xBF. */
    {"q4_0 large (3e4)", Q4_0, {[0] = 3e4f, [1] = -3e4f, [16] = 1e4f, [17] = -1e4f}, 0xEB53, 0x88,
     {{0, 0x50}, {1, 0xBF}}, 2},
    /* max = -1e6: d = 125000 >= 65520 -> fp16 +inf 0x7C00; id = 8e-6: -1e6 -> -8 + 8.5 -> 0. */
    {"q4_0 d beyond fp16", Q4_0, {[0] = -1e6f}, 0x7C00, 0x88, {{0, 0x80}}, 1},
    /* NaN never wins the strict amax < |v| test: max = -4, d = 0.5 -> 0x3800, id = 2. NaN * 2 +
     * 8.5 = NaN -> x86's cast gives 0, x16 -> 8: 0x80; -4 -> 0.5 -> 0, x17 = 2 -> 12.5 -> 12: 0xC0. */
    {"q4_0 NaN", Q4_0, {[0] = NAN, [1] = -4.0f, [17] = 2.0f}, 0x3800, 0x88, {{0, 0x80}, {1, 0xC0}}, 2},
    /* -inf wins: max = -inf, d = +inf -> 0x7C00, id = 1/inf = 0: -inf * 0 = NaN -> 0, x18 -> 8:
     * 0x80; 5 * 0 = 0 -> 8. */
    {"q4_0 -inf", Q4_0, {[2] = -INFINITY, [3] = 5.0f}, 0x7C00, 0x88, {{2, 0x80}}, 1},
};

/* A table row by name, so tests that reuse rows do not depend on the table's order. */
static const quant_row *row_named(const char *name)
{
    for (size_t i = 0; i < sizeof quant_rows / sizeof quant_rows[0]; i++)
        if (strcmp(quant_rows[i].name, name) == 0)
            return &quant_rows[i];
    fail_msg("no table row named '%s'", name);
    return NULL;
}

static int block_bytes_of(int type)
{
    return type == Q8_0 ? MC_Q8_0_BLOCK_BYTES : MC_Q4_0_BLOCK_BYTES;
}

static void quantize_row(int type, const float *x, uint8_t *out, int64_t n)
{
    if (type == Q8_0)
        mc_ref_quantize_row_q8_0(x, out, n);
    else
        mc_ref_quantize_row_q4_0(x, out, n);
}

static void dequantize_row(int type, const uint8_t *in, float *out, int64_t n)
{
    if (type == Q8_0)
        mc_quant_dequantize_row(MC_DTYPE_Q8_0, in, out, n);
    else
        mc_quant_dequantize_row(MC_DTYPE_Q4_0, in, out, n);
}

static void expected_block(const quant_row *r, uint8_t *want)
{
    const int nq = block_bytes_of(r->type) - 2;
    want[0] = (uint8_t)(r->d & 0xFF);
    want[1] = (uint8_t)(r->d >> 8);
    memset(want + 2, r->fill, (size_t)nq);
    for (int i = 0; i < r->n_diff; i++)
        want[2 + r->diff[i].at] = r->diff[i].byte;
}

static void test_vectors_byte_for_byte(void **state)
{
    (void)state;
    int failed = 0;
    for (size_t i = 0; i < sizeof quant_rows / sizeof quant_rows[0]; i++) {
        const quant_row *r = &quant_rows[i];
        uint8_t got[MC_Q8_0_BLOCK_BYTES], want[MC_Q8_0_BLOCK_BYTES];
        const int nb = block_bytes_of(r->type);
        memset(got, 0xEE, sizeof got);
        quantize_row(r->type, r->x, got, MC_QK);
        expected_block(r, want);
        if (memcmp(got, want, (size_t)nb) != 0) {
            failed++;
            print_error("%s:\n", r->name);
            for (int b = 0; b < nb; b++)
                if (got[b] != want[b])
                    print_error("  byte %d: got 0x%02X, want 0x%02X\n", b, got[b], want[b]);
        }
        if (r->type == Q4_0)
            assert_int_equal(got[MC_Q4_0_BLOCK_BYTES], 0xEE); /* wrote no more than one block */
    }
    assert_int_equal(failed, 0);
}

/* All NaN (q4_0): no element beats amax = 0, so max = +0, d = -0 -> 0x8000, id = 0;
 * NaN * 0 = NaN -> code 0 in both nibbles: every qs byte 0x00. For q8_0 the scan ends on NaN:
 * d = NaN -> 0x7E00 and every qs 0. */
static void test_all_nan_blocks(void **state)
{
    (void)state;
    float x[MC_QK];
    for (int j = 0; j < MC_QK; j++)
        x[j] = NAN;
    uint8_t q4[MC_Q4_0_BLOCK_BYTES], q8[MC_Q8_0_BLOCK_BYTES];
    mc_ref_quantize_row_q4_0(x, q4, MC_QK);
    mc_ref_quantize_row_q8_0(x, q8, MC_QK);
    assert_int_equal(q4[0], 0x00);
    assert_int_equal(q4[1], 0x80);
    for (int j = 2; j < MC_Q4_0_BLOCK_BYTES; j++)
        assert_int_equal(q4[j], 0x00);
    assert_int_equal(q8[0], 0x00);
    assert_int_equal(q8[1], 0x7E);
    for (int j = 2; j < MC_Q8_0_BLOCK_BYTES; j++)
        assert_int_equal(q8[j], 0x00);
}

/* A row is its blocks, one after the other: quantising three table rows as one 96-element row
 * gives their three blocks back to back, at a misaligned output address. */
static void test_row_is_independent_blocks(void **state)
{
    (void)state;
    static const char *const pick[2][3] = {
        {"q8_0 twin max, d = 1", "q8_0 ties at .5, d = 1", "q8_0 NaN inside"},
        {"q4_0 twin max, negative first", "q4_0 ties at .5, d = 1", "q4_0 NaN"},
    };
    for (int t = 0; t < 2; t++) {
        const int nb = block_bytes_of(t == 0 ? Q8_0 : Q4_0);
        float row[3 * MC_QK];
        uint8_t want[3 * MC_Q8_0_BLOCK_BYTES], buf[3 * MC_Q8_0_BLOCK_BYTES + 1];
        for (int b = 0; b < 3; b++) {
            const quant_row *r = row_named(pick[t][b]);
            assert_int_equal(r->type, t == 0 ? Q8_0 : Q4_0);
            memcpy(row + b * MC_QK, r->x, sizeof r->x);
            expected_block(r, want + b * nb);
        }
        quantize_row(t == 0 ? Q8_0 : Q4_0, row, buf + 1, 3 * MC_QK);
        assert_memory_equal(buf + 1, want, (size_t)(3 * nb));
    }
}

/* Dequantisers, on blocks written by hand. */
static void test_dequantize_by_hand(void **state)
{
    (void)state;
    /* q8_0, d = 0x3C00 = 1: qs -128 (0x80), -127, 0, 127 read back as themselves. */
    uint8_t q8[MC_Q8_0_BLOCK_BYTES] = {0x00, 0x3C, 0x80, 0x81, 0x00, 0x7F};
    float y[MC_QK];
    mc_quant_dequantize_row(MC_DTYPE_Q8_0, q8, y, MC_QK);
    assert_true(y[0] == -128.0f && y[1] == -127.0f && y[2] == 0.0f && y[3] == 127.0f);
    /* d = 0x0010 = 16 * 2^-24 = 2^-20: qs 64 -> 64 * 2^-20 = 2^-14. */
    q8[0] = 0x10, q8[1] = 0x00, q8[2] = 64;
    mc_quant_dequantize_row(MC_DTYPE_Q8_0, q8, y, MC_QK);
    assert_true(y[0] == 0x1p-14f);
    assert_true(mc_quant_elem(MC_DTYPE_Q8_0, q8, 0, NULL) == 0x1p-14);
    /* d = NaN (0x7E00): every element NaN; d = +inf: qs 2 -> +inf, qs 0 -> 0 * inf = NaN. */
    q8[0] = 0x00, q8[1] = 0x7E;
    mc_quant_dequantize_row(MC_DTYPE_Q8_0, q8, y, MC_QK);
    assert_true(isnan(y[0]) && isnan(y[31]));
    q8[1] = 0x7C, q8[2] = 2, q8[3] = 0;
    mc_quant_dequantize_row(MC_DTYPE_Q8_0, q8, y, MC_QK);
    assert_true(isinf(y[0]) && y[0] > 0 && isnan(y[1]));

    /* q4_0, d = 0xB400 = -0.25, byte j = j | (15 - j) << 4: element j (low nibble) = (j - 8) * -0.25,
     * element j + 16 (high nibble) = (15 - j - 8) * -0.25 = (7 - j) * -0.25. */
    uint8_t q4[MC_Q4_0_BLOCK_BYTES] = {0x00, 0xB4};
    for (int j = 0; j < 16; j++)
        q4[2 + j] = (uint8_t)(j | (15 - j) << 4);
    mc_quant_dequantize_row(MC_DTYPE_Q4_0, q4, y, MC_QK);
    for (int j = 0; j < 16; j++) {
        assert_true(y[j] == (float)(j - 8) * -0.25f);
        assert_true(y[j + 16] == (float)(7 - j) * -0.25f);
        assert_true(mc_quant_elem(MC_DTYPE_Q4_0, q4, j, NULL) == (double)y[j]);
        assert_true(mc_quant_elem(MC_DTYPE_Q4_0, q4, j + 16, NULL) == (double)y[j + 16]);
    }
    assert_true(y[0] == 2.0f && y[8] == 0.0f && y[15] == -1.75f && y[16] == -1.75f && y[31] == 2.0f);
}

/* xorshift: a fixed, portable stream for the round trips. */
static uint32_t next_u32(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static float next_value(uint32_t *s, float scale)
{
    return scale * ((float)(next_u32(s) >> 8) / 16777216.0f * 2.0f - 1.0f);
}

/* Round trips. With d the fp32 scale the quantiser used and d16 its stored fp16 rounding:
 *   q8_0: q = round(x * id), |x - q d| <= d/2 + |x| * 2^-22.9 (id and the product each rounded
 *         once) <= (1/2 + 2^-15) d; the stored value q d16 adds |q| |d - d16| <= 127 |d - d16|.
 *   q4_0: the code trunc(x id + 8.5) rounds halves up except at the clamp (x id >= 7.5 -> 15,
 *         one whole step), so |x - (c - 8) d| <= (1 + 2^-15) |d|, plus 8 |d - d16|.
 * The first bound is also checked alone, against the quantiser's own d: that is the one a
 * wrong rounding rule would break. */
static void check_round_trip(int type, const float *x, int64_t n)
{
    const int nb = block_bytes_of(type);
    uint8_t *blocks = malloc((size_t)(n / MC_QK * nb));
    float *y = malloc((size_t)n * sizeof *y);
    assert_non_null(blocks);
    assert_non_null(y);
    quantize_row(type, x, blocks, n);
    dequantize_row(type, blocks, y, n);
    for (int64_t b = 0; b < n / MC_QK; b++) {
        const float *xb = x + b * MC_QK;
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < MC_QK; j++)
            if (amax < fabsf(xb[j]))
                amax = fabsf(xb[j]), max = xb[j];
        const double d = type == Q8_0 ? (double)(amax / 127.0f) : fabs((double)(max / -8.0f));
        const uint8_t *blk = blocks + b * nb;
        const double d16 = fabs((double)mc_f16_to_f32((uint16_t)(blk[0] | blk[1] << 8)));
        const double step = type == Q8_0 ? 0.5 : 1.0, qmax = type == Q8_0 ? 127.0 : 8.0;
        for (int j = 0; j < MC_QK; j++) {
            const double xv = xb[j], yv = y[b * MC_QK + j];
            const double q = d16 > 0 ? yv / d16 : 0.0; /* the integer code, signed as d16 */
            const double own = fabs(xv - q * d);
            const double stored = fabs(xv - yv);
            const double bound_own = (step + 0x1p-15) * d;
            const double bound_stored = bound_own + qmax * fabs(d - d16);
            if (d16 > 0 && own > bound_own)
                fail_msg("block %lld elem %d: |x - q d| = %g > %g (x %g, q %g)", (long long)b, j, own,
                         bound_own, xv, q);
            if (stored > bound_stored)
                fail_msg("block %lld elem %d: |x - deq| = %g > %g", (long long)b, j, stored, bound_stored);
        }
    }
    free(blocks);
    free(y);
}

static void test_round_trips_within_bounds(void **state)
{
    (void)state;
    enum { N = 64 * MC_QK };
    float *x = malloc(N * sizeof *x);
    assert_non_null(x);
    uint32_t s = 0x9E3779B9u;
    /* Scales from 1e-4 to 3e4: each block gets its own magnitude, some blocks mix magnitudes. */
    static const float scales[] = {1.0f, 3e4f, 1e-4f, 0.37f, 250.0f, 7.0f, 1e-2f, 1e3f};
    for (int b = 0; b < N / MC_QK; b++)
        for (int j = 0; j < MC_QK; j++)
            x[b * MC_QK + j] = next_value(&s, scales[(b + (j == 7 && b % 3 == 0)) % 8]);
    check_round_trip(Q8_0, x, N);
    check_round_trip(Q4_0, x, N);
    free(x);
}

/* Dequantise then quantise again gives the same bytes when d is an fp16 value exactly:
 * x = integers in [-127, 127] with 127 present (q8_0: d = 1). */
static void test_q8_0_exact_grid_is_a_fixed_point(void **state)
{
    (void)state;
    float x[MC_QK];
    uint8_t a[MC_Q8_0_BLOCK_BYTES], b[MC_Q8_0_BLOCK_BYTES];
    for (int j = 0; j < MC_QK; j++)
        x[j] = (float)((j * 37) % 255 - 127);
    x[9] = 127.0f;
    mc_ref_quantize_row_q8_0(x, a, MC_QK);
    float y[MC_QK];
    mc_quant_dequantize_row(MC_DTYPE_Q8_0, a, y, MC_QK);
    assert_memory_equal(x, y, sizeof x);
    mc_ref_quantize_row_q8_0(y, b, MC_QK);
    assert_memory_equal(a, b, sizeof a);
}

/* The block-scale helper the gemv bound uses: the same d as the quantiser stores. */
static void test_q8_0_block_scale(void **state)
{
    (void)state;
    float d32 = 0.0f;
    float d16 = mc_ref_q8_0_block_scale(row_named("q8_0 fp16 tie in d, fp32 id")->x, &d32);
    assert_true(d32 == 1.00146484375f);
    assert_true(d16 == 1.001953125f); /* 0x3C02 */
    d16 = mc_ref_q8_0_block_scale(row_named("q8_0 d beyond fp16")->x, &d32);
    assert_true(isinf(d16));
}

/* ---- the quantised GEMV row kernels, on inputs whose dot products are exact integers ---- */

static bool have_avx2(void)
{
    return mc_cpu_has_avx2();
}

/* x on the q8_0 grid: integers in [-127, 127] with 127 present, so d_x = 1 (0x3C00) and x's codes
 * are x itself; every kernel's result is then an exact integer. */
static void grid_x(float *x, int n)
{
    for (int j = 0; j < n; j++)
        x[j] = (float)((j * 37) % 255 - 127);
    x[9] = 127.0f;
}

/* Two blocks of each format at 3 bytes past an aligned base, with a 6-byte gap between blocks
 * (block stride 40 for q8_0, 24 for q4_0), d = 1: q8_0 codes j - 16 and 20 - j; q4_0 byte j =
 * j | (15 - j) << 4, i.e. weights j - 8 (element j) and 7 - j (element j + 16), in both blocks. */
static void test_row_kernels_exact(void **state)
{
    (void)state;
    enum { K = 2 * MC_QK };
    float x[K];
    grid_x(x, MC_QK);
    grid_x(x + MC_QK, MC_QK);
    uint8_t xq[2 * MC_Q8_0_BLOCK_BYTES];
    mc_ref_quantize_row_q8_0(x, xq, K);
    uint8_t mem8[3 + 2 * 40] = {0}, mem4[3 + 2 * 24] = {0};
    uint8_t *w8 = mem8 + 3, *w4 = mem4 + 3;
    double want8 = 0, want4 = 0;
    for (int b = 0; b < 2; b++) {
        w8[40 * b] = 0x00, w8[40 * b + 1] = 0x3C;
        w4[24 * b] = 0x00, w4[24 * b + 1] = 0x3C;
        for (int j = 0; j < MC_QK; j++) {
            int c = b == 0 ? j - 16 : 20 - j;
            w8[40 * b + 2 + j] = (uint8_t)(c & 0xFF);
            want8 += c * x[b * MC_QK + j];
        }
        for (int j = 0; j < 16; j++) {
            w4[24 * b + 2 + j] = (uint8_t)(j | (15 - j) << 4);
            want4 += (j - 8) * x[b * MC_QK + j] + (7 - j) * x[b * MC_QK + j + 16];
        }
    }
    /* x's q8_0 codes are x: the integer dots see the same numbers as the float ones */
    for (int j = 0; j < K; j++)
        assert_int_equal((int8_t)xq[(j / MC_QK) * MC_Q8_0_BLOCK_BYTES + 2 + j % MC_QK], (int)x[j]);
    assert_true(mc_qgemv_row_q8_0_scalar(w8, 40, 2, x, NULL) == want8);
    assert_true(mc_qgemv_row_q8_0_q8dot_scalar(w8, 40, 2, x, xq) == want8);
    assert_true(mc_qgemv_row_q4_0_scalar(w4, 24, 2, x, NULL) == want4);
    assert_true(mc_qgemv_row_q4_0_q8dot_scalar(w4, 24, 2, x, xq) == want4);
    if (!have_avx2()) {
        print_message("no AVX2/FMA/F16C here: AVX2 row kernels not run\n");
        return;
    }
    mc_qgemv_fill_tables();
    assert_true(mc_qgemv_row_q8_0_avx2(w8, 40, 2, x, NULL) == want8);
    assert_true(mc_qgemv_row_q8_0_q8dot_avx2(w8, 40, 2, x, xq) == want8);
    assert_true(mc_qgemv_row_q4_0_avx2(w4, 24, 2, x, NULL) == want4);
    assert_true(mc_qgemv_row_q4_0_q8dot_avx2(w4, 24, 2, x, xq) == want4);
    /* code -128 (only NaN-wrapped blocks have it) must not break the sign trick of maddubs */
    w8[2] = 0x80;
    want8 += (-128 - -16) * x[0];
    assert_true(mc_qgemv_row_q8_0_q8dot_avx2(w8, 40, 2, x, xq) == want8);
    assert_true(mc_qgemv_row_q8_0_q8dot_scalar(w8, 40, 2, x, xq) == want8);
}

/* The two activation quantisers differ only in ties: x = 127 (d = 1, id = 1), then exact halves.
 * ggml's reference rule (scalar): roundf, away from zero: 0.5 1.5 2.5 -0.5 -2.5 126.5 ->
 * 1 2 3 -1 -3 127. ggml's x86 rule (AVX2): nearest even: 0 2 2 0 -2 126. */
static void test_x_quantisers_ties(void **state)
{
    (void)state;
    const float x[MC_QK] = {127.0f, 0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 126.5f};
    static const int8_t away[7] = {127, 1, 2, 3, -1, -3, 127}, even[7] = {127, 0, 2, 2, 0, -2, 126};
    uint8_t q[MC_Q8_0_BLOCK_BYTES];
    mc_qgemv_quantise_x_q8_0_scalar(x, q, MC_QK);
    assert_int_equal(q[0], 0x00);
    assert_int_equal(q[1], 0x3C);
    for (int j = 0; j < 7; j++)
        assert_int_equal((int8_t)q[2 + j], away[j]);
    if (!have_avx2())
        return;
    mc_qgemv_quantise_x_q8_0_avx2(x, q, MC_QK);
    assert_int_equal(q[0], 0x00);
    assert_int_equal(q[1], 0x3C);
    for (int j = 0; j < 7; j++)
        assert_int_equal((int8_t)q[2 + j], even[j]);
    for (int j = 7; j < MC_QK; j++)
        assert_int_equal(q[2 + j], 0);
}

/* ---- gemv's exact activation mode (xq=q8_0_ref) ---- */

extern const mc_op mc_op_gemv;

typedef struct gemv_case {
    mc_case c;
    mc_tensor_spec specs[MC_MAX_TENSORS];
    uint8_t *hosts[MC_MAX_TENSORS];
    int n, out;
} gemv_case;

static void gemv_case_open(gemv_case *g, const char *const *params)
{
    mc_err err = {0};
    memset(g, 0, sizeof *g);
    assert_int_equal(mc_case_init(&g->c, &mc_op_gemv, &err), MC_OK);
    for (; *params; params++) {
        char name[32];
        const char *eq = strchr(*params, '=');
        snprintf(name, sizeof name, "%.*s", (int)(eq - *params), *params);
        if (mc_case_set(&g->c, name, eq + 1, &err) != MC_OK)
            fail_msg("%s", err.msg);
    }
    if (mc_case_finish(&g->c, &err) != MC_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(mc_op_gemv.tensors(&g->c, g->specs, &g->n, &g->out, &err), MC_OK);
    for (int i = 0; i < g->n; i++) {
        g->hosts[i] = calloc((size_t)mc_tensor_span_bytes(&g->specs[i].t), 1);
        assert_non_null(g->hosts[i]);
    }
}

static void gemv_case_close(gemv_case *g)
{
    for (int i = 0; i < g->n; i++)
        free(g->hosts[i]);
}

/* One tie block by hand. x = 127 (d = id = 1), 0.5, 1.5, 2.5, -0.5, -2.5, 126.5, then zeros;
 * A one q8_0 row, d = 1, codes 1 2 -1 1 3 1 -2, then zeros. The reference rule (roundf) gives
 * x~ = 127 1 2 3 -1 -3 127, so expected = 127 + 2 - 2 + 3 - 3 - 3 - 254 = -130 with
 * sum |a x~| = 394. Ties to even (x~ = 127 0 2 2 0 -2 126) would give -127 and x itself
 * 127 + 1 - 1.5 + 2.5 - 1.5 - 2.5 - 253 = -128: both far outside the exact bound, gamma_34 * 394
 * (about 1e-3). xq=q8_0 on the same inputs keeps x's dot (-128) as expected and allows half a
 * step per element: E = 0.5 sum |a| = 5.5 at least, so -130 and -127 both pass there. */
static void test_gemv_exact_reference_tie_block(void **state)
{
    (void)state;
    const float x[7] = {127.0f, 0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 126.5f};
    const int8_t codes[7] = {1, 2, -1, 1, 3, 1, -2};
    const char *const modes[2] = {"xq=q8_0_ref", "xq=q8_0"};
    for (int mode = 0; mode < 2; mode++) {
        const char *const params[] = {"wtype=q8_0", "m=1", "k=32", modes[mode], NULL};
        gemv_case g;
        mc_err err = {0};
        gemv_case_open(&g, params);
        g.hosts[0][1] = 0x3C; /* d = fp16 1.0 = 0x3C00, little-endian */
        for (int j = 0; j < 7; j++) {
            memcpy(g.hosts[0] + 2 + j, &codes[j], 1);
            const int64_t ix[MC_MAX_DIMS] = {j, 0, 0, 0};
            mc_tensor_set(&g.specs[1].t, g.hosts[1], ix, x[j]);
        }
        double expected = 0, bound = 0;
        mc_ref_out out = {&expected, &bound};
        assert_int_equal(mc_op_gemv.reference(&g.c, g.specs, (const uint8_t *const *)g.hosts, &out, &err), MC_OK);
        if (mode == 0) {
            assert_true(expected == -130.0);
            assert_true(bound == mc_bound_dot(&mc_gemv_bound_consts, 32, 394.0, -130.0, MC_DTYPE_F32));
            assert_true(bound < 1e-3);
        } else {
            assert_true(expected == -128.0);
            assert_true(bound >= 5.5);
        }
        gemv_case_close(&g);
    }
}

/* Only quantised weights may ask for exact mode (plain-A variants never quantise x); xgen=ties
 * needs activation quantisation; both defaults stay out of the key. */
static void test_gemv_exact_params(void **state)
{
    (void)state;
    static const struct {
        const char *params[4];
        bool ok;
        const char *key;
    } rows[] = {
        {{"wtype=q4_0", "k=64", "xq=q8_0_ref"}, true, "gemv(wtype=q4_0,k=64,xq=q8_0_ref)"},
        {{"wtype=same", "k=64", "xq=q8_0_ref"}, false, NULL},
        {{"wtype=q8_0", "k=64", "xgen=ties"}, false, NULL},
        {{"wtype=q8_0", "k=64", "xgen=wavy"}, false, NULL},
        {{"wtype=q8_0", "k=64", "xgen=random"}, true, "gemv(wtype=q8_0,k=64)"},
        /* the other formats: k whole (super-)blocks, xq the format's own activation format */
        {{"wtype=q4_K", "k=256", "xq=q8_K"}, true, "gemv(wtype=q4_K,k=256,xq=q8_K)"},
        {{"wtype=q4_K", "k=96", "xq=none"}, false, NULL},    /* not whole super-blocks */
        {{"wtype=q4_K", "k=256", "xq=q8_0"}, false, NULL},   /* q4_K dots take q8_K */
        {{"wtype=q5_1", "k=64", "xq=q8_K"}, false, NULL},    /* q5_1 dots take q8_0 */
        {{"wtype=q6_K", "k=256", "xq=q8_0_ref"}, false, NULL}, /* exact mode: q8_0 formats only */
        {{"wtype=q5_1", "k=64", "xq=q8_0_ref"}, true, "gemv(wtype=q5_1,k=64,xq=q8_0_ref)"},
        {{"wtype=same", "k=96", "xq=q8_K"}, false, NULL},    /* q8_K x needs k % 256 == 0 */
        {{"wtype=Q4_K", "k=256", "xq=none"}, false, NULL},   /* case keys spell ggml's names exactly */
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        mc_case c;
        mc_err err = {0};
        assert_int_equal(mc_case_init(&c, &mc_op_gemv, &err), MC_OK);
        for (int i = 0; i < 3; i++) {
            char name[32];
            const char *eq = strchr(rows[r].params[i], '=');
            snprintf(name, sizeof name, "%.*s", (int)(eq - rows[r].params[i]), rows[r].params[i]);
            assert_int_equal(mc_case_set(&c, name, eq + 1, &err), MC_OK);
        }
        assert_int_equal(mc_case_finish(&c, &err) == MC_OK, rows[r].ok);
        if (rows[r].ok)
            assert_string_equal(c.key, rows[r].key);
    }
}

/* xgen=ties: every 32-block of x has amax exactly 127 and every other entry is on n + 1/2, with
 * n even and odd, positive and negative, over a 4-block x. */
static void test_gemv_xgen_ties(void **state)
{
    (void)state;
    const char *const params[] = {"wtype=q8_0", "k=128", "xq=q8_0_ref", "xgen=ties", "dtype=f16", NULL};
    gemv_case g;
    mc_err err = {0};
    gemv_case_open(&g, params);
    mc_placed p;
    assert_int_equal(mc_place_init(&p, &g.specs[1], 64, &err), MC_OK);
    assert_int_equal(mc_generate_fill(&p, 7, &err), MC_OK);
    int seen[2][2] = {{0, 0}, {0, 0}}; /* [n odd][negative] */
    for (int64_t b = 0; b < 4; b++) {
        double amax = 0;
        int at_max = 0;
        for (int64_t j = 0; j < MC_QK; j++) {
            const int64_t ix[MC_MAX_DIMS] = {b * MC_QK + j, 0, 0, 0};
            const double v = mc_tensor_get(&p.spec.t, p.image, ix);
            amax = fmax(amax, fabs(v));
            if (fabs(v) == 127.0) {
                at_max++;
                continue;
            }
            const double n = v - 0.5;
            assert_true(n == floor(n));
            seen[(int64_t)fabs(n) % 2][v < 0]++;
        }
        assert_true(amax == 127.0);
        assert_int_equal(at_max, 1);
    }
    for (int i = 0; i < 4; i++)
        assert_true(seen[i / 2][i % 2] > 0);
    mc_place_free(&p);
    gemv_case_close(&g);
}

/* ---- CLI, called as functions (the binary is tested by tests/cli_quant.sh) ---- */

static char tmp_dir[64];

static int setup_tmp(void **state)
{
    (void)state;
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/mc_test_quant_XXXXXX");
    return mkdtemp(tmp_dir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
    (void)state;
    static const char *const names[] = {"x.f32", "x.bin", "y.f32", "odd.f32", "odd.bin", "z.f32"};
    char path[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmp_dir, names[i]);
        unlink(path);
    }
    return rmdir(tmp_dir);
}

static void tmp_path(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", tmp_dir, name);
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static size_t read_bytes(const char *path, void *data, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(data, 1, cap, f);
    fclose(f);
    return n;
}

static int run_cli(int (*cmd)(int, char **), const char *name, const char *type, const char *in,
                   const char *out)
{
    char *argv[] = {(char *)name, "--type", (char *)type, "--in", (char *)in, "--out", (char *)out, NULL};
    return cmd(7, argv);
}

static void test_cli_quantize_and_back(void **state)
{
    (void)state;
    char in[128], bin[128], back[128];
    tmp_path(in, sizeof in, "x.f32");
    tmp_path(bin, sizeof bin, "x.bin");
    tmp_path(back, sizeof back, "y.f32");
    /* two table rows as a 64-value file: the output must be their hand-computed blocks */
    const quant_row *r0 = row_named("q8_0 ties at .5, d = 1"), *r1 = row_named("q8_0 large (3e4)");
    float x[2 * MC_QK];
    memcpy(x, r0->x, sizeof r0->x);
    memcpy(x + MC_QK, r1->x, sizeof r1->x);
    write_bytes(in, x, sizeof x);
    assert_int_equal(run_cli(mc_cli_quantize, "quantize", "q8_0", in, bin), 0);
    uint8_t got[4 * MC_Q8_0_BLOCK_BYTES], want[2 * MC_Q8_0_BLOCK_BYTES];
    expected_block(r0, want);
    expected_block(r1, want + MC_Q8_0_BLOCK_BYTES);
    assert_int_equal(read_bytes(bin, got, sizeof got), 2 * MC_Q8_0_BLOCK_BYTES);
    assert_memory_equal(got, want, sizeof want);
    /* and back: the reference dequantiser's floats */
    assert_int_equal(run_cli(mc_cli_dequantize, "dequantize", "q8_0", bin, back), 0);
    float y[4 * MC_QK], ref[2 * MC_QK];
    mc_quant_dequantize_row(MC_DTYPE_Q8_0, want, ref, 2 * MC_QK);
    assert_int_equal(read_bytes(back, y, sizeof y), sizeof ref);
    assert_memory_equal(y, ref, sizeof ref);
    /* q4_0 too */
    assert_int_equal(run_cli(mc_cli_quantize, "quantize", "q4_0", in, bin), 0);
    uint8_t want4[2 * MC_Q4_0_BLOCK_BYTES];
    mc_ref_quantize_row_q4_0(x, want4, 2 * MC_QK);
    assert_int_equal(read_bytes(bin, got, sizeof got), sizeof want4);
    assert_memory_equal(got, want4, sizeof want4);
}

static void test_cli_errors_exit_2(void **state)
{
    (void)state;
    char odd[128], oddbin[128], out[128], missing[128];
    tmp_path(odd, sizeof odd, "odd.f32");
    tmp_path(oddbin, sizeof oddbin, "odd.bin");
    tmp_path(out, sizeof out, "z.f32");
    tmp_path(missing, sizeof missing, "no-such-file.f32");
    float x[33] = {0};
    write_bytes(odd, x, sizeof x); /* 33 values: not a multiple of 32 */
    assert_int_equal(run_cli(mc_cli_quantize, "quantize", "q8_0", odd, out), 2);
    write_bytes(odd, x, 130); /* not a whole number of f32 values */
    assert_int_equal(run_cli(mc_cli_quantize, "quantize", "q4_0", odd, out), 2);
    uint8_t blk[MC_Q8_0_BLOCK_BYTES + 1] = {0};
    write_bytes(oddbin, blk, sizeof blk); /* 35 bytes: not whole q8_0 blocks */
    assert_int_equal(run_cli(mc_cli_dequantize, "dequantize", "q8_0", oddbin, out), 2);
    write_bytes(oddbin, blk, MC_Q4_0_BLOCK_BYTES); /* one q4_0 block is 34 bytes short of q8_0 */
    assert_int_equal(run_cli(mc_cli_dequantize, "dequantize", "q8_0", oddbin, out), 2);
    assert_int_equal(run_cli(mc_cli_dequantize, "dequantize", "q4_0", oddbin, out), 0);
    assert_int_equal(run_cli(mc_cli_quantize, "quantize", "q8_0", missing, out), 2);
    assert_int_equal(run_cli(mc_cli_quantize, "quantize", "f16", odd, out), 2); /* not a quant type */
    char *no_out[] = {"quantize", "--type", "q8_0", "--in", odd, NULL};
    assert_int_equal(mc_cli_quantize(5, no_out), 2);
    char *unknown[] = {"quantize", "--bogus", NULL};
    assert_int_equal(mc_cli_quantize(2, unknown), 2);
    char *help[] = {"dequantize", "--help", NULL};
    assert_int_equal(mc_cli_dequantize(2, help), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_byte_for_byte),
        cmocka_unit_test(test_all_nan_blocks),
        cmocka_unit_test(test_row_is_independent_blocks),
        cmocka_unit_test(test_dequantize_by_hand),
        cmocka_unit_test(test_round_trips_within_bounds),
        cmocka_unit_test(test_q8_0_exact_grid_is_a_fixed_point),
        cmocka_unit_test(test_q8_0_block_scale),
        cmocka_unit_test(test_row_kernels_exact),
        cmocka_unit_test(test_x_quantisers_ties),
        cmocka_unit_test(test_gemv_exact_reference_tie_block),
        cmocka_unit_test(test_gemv_exact_params),
        cmocka_unit_test(test_gemv_xgen_ties),
        cmocka_unit_test(test_cli_quantize_and_back),
        cmocka_unit_test(test_cli_errors_exit_2),
    };
    return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
