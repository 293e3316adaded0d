/* tests/test_half.c: fp16/bf16 conversions.
 * Focus: round-to-nearest-even at every boundary (normal, subnormal, overflow), NaN handling.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/half.h"

typedef struct {
    float in;
    uint16_t want;
} conv_row;

static void test_f32_to_f16_table(void **state)
{
    (void)state;
    static const conv_row rows[] = {
        {0.0f, 0x0000},
        {-0.0f, 0x8000},
        {1.0f, 0x3C00},
        {-2.0f, 0xC000},
        {65504.0f, 0x7BFF},                 /* largest finite */
        {65519.0f, 0x7BFF},                 /* below the rounding midpoint 65520 */
        {65520.0f, 0x7C00},                 /* midpoint rounds to even = infinity */
        {INFINITY, 0x7C00},
        {-INFINITY, 0xFC00},
        {0x1p-24f, 0x0001},                 /* smallest subnormal */
        {0x1p-25f, 0x0000},                 /* half of it: tie to even (0) */
        {0x1.8p-24f, 0x0002},               /* 1.5 subnormal units: tie to even (2) */
        {0x1.8p-23f, 0x0003},               /* 3 units exactly */
        {0x1p-14f, 0x0400},                 /* smallest normal */
        {0x1.ffcp-15f, 0x0400},             /* just below the smallest normal rounds up into it */
        {1.0f + 0x1p-11f, 0x3C00},          /* tie between 1 and 1+2^-10: even is 1 */
        {1.0f + 0x1.8p-10f, 0x3C02},        /* tie between 1+2^-10 and 1+2^-9: even is 0x3C02 */
        {1.0f + 0x1p-11f + 0x1p-20f, 0x3C01}, /* just above the tie */
        {0.1f, 0x2E66},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint16_t got = mc_f32_to_f16(rows[i].in);
        if (got != rows[i].want)
            print_error("row %zu: %a -> 0x%04X, want 0x%04X\n", i, (double)rows[i].in, got, rows[i].want);
        assert_int_equal(got, rows[i].want);
    }
    assert_int_equal(mc_f32_to_f16(NAN), 0x7E00);
    assert_int_equal(mc_f32_to_f16(-NAN), 0x7E00);
}

static void test_f16_round_trip_every_value(void **state)
{
    (void)state;
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF))
            continue; /* NaNs are canonicalised */
        assert_int_equal(mc_f32_to_f16(mc_f16_to_f32((uint16_t)h)), h);
    }
    assert_true(isnan(mc_f16_to_f32(0x7E17)));
    assert_true(mc_f16_to_f32(0x0001) == 0x1p-24f);
}

static void test_bf16_table(void **state)
{
    (void)state;
    static const conv_row rows[] = {
        {1.0f, 0x3F80},
        {1.0f + 0x1p-8f, 0x3F80},         /* tie: even */
        {1.0f + 0x1.8p-7f, 0x3F82},       /* tie between 0x3F81 and 0x3F82: even */
        {-3.0f, 0xC040},
        {INFINITY, 0x7F80},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        assert_int_equal(mc_f32_to_bf16(rows[i].in), rows[i].want);
    assert_true(isnan(mc_bf16_to_f32(mc_f32_to_bf16(NAN))));
    assert_true(mc_bf16_to_f32(0x3F80) == 1.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f32_to_f16_table),
        cmocka_unit_test(test_f16_round_trip_every_value),
        cmocka_unit_test(test_bf16_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
