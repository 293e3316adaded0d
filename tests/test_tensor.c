/* tests/test_tensor.c: tensor views over every layout.
 * Focus: strides, offsets and spans per layout and dtype (hand-computed), contiguity, quantised
 * rows and the layouts they refuse, element access with rounding to nearest even.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/half.h"
#include "core/tensor.h"

typedef struct layout_row {
    mc_dtype dt;
    int64_t ne[MC_MAX_DIMS];
    mc_layout layout;
    int64_t nb[MC_MAX_DIMS];
    int64_t offset;
    int64_t span;
    bool contiguous;
} layout_row;

/* Worked out by hand from the layout definitions in tensor.h (a 3 x 4 x 5 f32 tensor unless said):
 *   padded rows hold 3 + 13 elements; stride2 doubles every stride; sliced sits at row 1, unit 3
 *   of a parent with 5 more units per row and 2 more rows; quantised rows count 34/18-byte blocks. */
static const layout_row layout_rows[] = {
    {MC_DTYPE_F32, {3, 4, 5, 1}, MC_LAYOUT_CONTIGUOUS, {4, 12, 48, 240}, 0, 240, true},
    {MC_DTYPE_F32, {3, 4, 5, 1}, MC_LAYOUT_TRANSPOSED, {16, 4, 48, 240}, 0, 240, false},
    {MC_DTYPE_F32, {3, 4, 5, 1}, MC_LAYOUT_PADDED, {4, 64, 256, 1280}, 0, 1228, false},
    {MC_DTYPE_F32, {3, 4, 5, 1}, MC_LAYOUT_STRIDE2, {8, 24, 96, 480}, 0, 476, false},
    {MC_DTYPE_F32, {3, 4, 5, 1}, MC_LAYOUT_BROADCAST, {4, 12, 0, 0}, 0, 48, false},
    {MC_DTYPE_F32, {3, 4, 5, 1}, MC_LAYOUT_SLICED, {4, 32, 192, 960}, 44, 920, false},
    {MC_DTYPE_F32, {3, 4, 5, 1}, MC_LAYOUT_PERMUTED, {4, 60, 12, 240}, 0, 240, false},
    {MC_DTYPE_F16, {3, 4, 5, 1}, MC_LAYOUT_CONTIGUOUS, {2, 6, 24, 120}, 0, 120, true},
    {MC_DTYPE_F16, {3, 4, 5, 1}, MC_LAYOUT_STRIDE2, {4, 12, 48, 240}, 0, 238, false},
    {MC_DTYPE_BF16, {3, 4, 5, 1}, MC_LAYOUT_TRANSPOSED, {8, 2, 24, 120}, 0, 120, false},
    {MC_DTYPE_F32, {3, 1, 1, 1}, MC_LAYOUT_PADDED, {4, 64, 64, 64}, 0, 12, true}, /* one row */
    {MC_DTYPE_F32, {1, 4, 1, 1}, MC_LAYOUT_TRANSPOSED, {16, 4, 16, 16}, 0, 16, true},
    {MC_DTYPE_Q8_0, {64, 3, 1, 1}, MC_LAYOUT_CONTIGUOUS, {34, 68, 204, 204}, 0, 204, true},
    {MC_DTYPE_Q8_0, {64, 3, 1, 1}, MC_LAYOUT_PADDED, {34, 510, 1530, 1530}, 0, 1088, false},
    {MC_DTYPE_Q8_0, {64, 3, 1, 1}, MC_LAYOUT_SLICED, {34, 238, 1190, 1190}, 340, 884, false},
    {MC_DTYPE_Q8_0, {64, 3, 2, 1}, MC_LAYOUT_BROADCAST, {34, 68, 0, 0}, 0, 204, false},
    {MC_DTYPE_Q4_0, {32, 2, 1, 1}, MC_LAYOUT_CONTIGUOUS, {18, 18, 36, 36}, 0, 36, true},
};

static void test_strides_offsets_spans(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof layout_rows / sizeof layout_rows[0]; i++) {
        const layout_row *r = &layout_rows[i];
        mc_tensor t;
        mc_err err = {0};
        assert_int_equal(mc_tensor_init(&t, r->dt, r->ne, r->layout, &err), MC_OK);
        for (int d = 0; d < MC_MAX_DIMS; d++) {
            assert_int_equal(t.ne[d], r->ne[d]);
            assert_int_equal(t.nb[d], r->nb[d]);
        }
        assert_int_equal(t.offset, r->offset);
        assert_int_equal(mc_tensor_span_bytes(&t), r->span);
        assert_int_equal(mc_tensor_is_contiguous(&t), r->contiguous);
        assert_null(t.buf);
    }
}

typedef struct offset_row {
    mc_dtype dt;
    int64_t ne[MC_MAX_DIMS];
    mc_layout layout;
    int64_t idx[MC_MAX_DIMS];
    int64_t offset;
} offset_row;

static const offset_row offset_rows[] = {
    {MC_DTYPE_F32, {3, 4, 5, 1}, MC_LAYOUT_CONTIGUOUS, {2, 1, 3, 0}, 8 + 12 + 144},
    {MC_DTYPE_F32, {3, 4, 5, 1}, MC_LAYOUT_TRANSPOSED, {2, 1, 3, 0}, 32 + 4 + 144},
    {MC_DTYPE_F32, {3, 4, 5, 1}, MC_LAYOUT_SLICED, {0, 0, 0, 0}, 44},
    {MC_DTYPE_F32, {3, 4, 5, 1}, MC_LAYOUT_SLICED, {2, 3, 1, 0}, 44 + 8 + 96 + 192},
    {MC_DTYPE_F32, {3, 4, 5, 1}, MC_LAYOUT_BROADCAST, {1, 2, 4, 0}, 4 + 24},
    {MC_DTYPE_F32, {3, 4, 5, 1}, MC_LAYOUT_PERMUTED, {1, 2, 3, 0}, 4 + 120 + 36},
    {MC_DTYPE_Q8_0, {64, 3, 1, 1}, MC_LAYOUT_CONTIGUOUS, {40, 2, 0, 0}, 34 + 136}, /* block 1 of row 2 */
    {MC_DTYPE_Q8_0, {64, 3, 1, 1}, MC_LAYOUT_CONTIGUOUS, {31, 0, 0, 0}, 0},
    {MC_DTYPE_Q4_0, {64, 3, 1, 1}, MC_LAYOUT_PADDED, {63, 1, 0, 0}, 18 + 15 * 18},
};

static void test_element_offsets(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof offset_rows / sizeof offset_rows[0]; i++) {
        const offset_row *r = &offset_rows[i];
        mc_tensor t;
        mc_err err = {0};
        assert_int_equal(mc_tensor_init(&t, r->dt, r->ne, r->layout, &err), MC_OK);
        assert_int_equal(mc_tensor_elem_offset(&t, r->idx), r->offset);
    }
}

/* Every element of every view lies inside its span, and no two elements share bytes (except
 * across broadcast batches, which share by design). */
static void test_views_stay_inside_span_and_do_not_overlap(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof layout_rows / sizeof layout_rows[0]; i++) {
        const layout_row *r = &layout_rows[i];
        if (r->layout == MC_LAYOUT_BROADCAST || r->dt == MC_DTYPE_Q8_0 || r->dt == MC_DTYPE_Q4_0)
            continue;
        mc_tensor t;
        mc_err err = {0};
        assert_int_equal(mc_tensor_init(&t, r->dt, r->ne, r->layout, &err), MC_OK);
        const int64_t span = mc_tensor_span_bytes(&t), unit = mc_tensor_unit_bytes(&t);
        uint8_t *used = calloc((size_t)span, 1);
        assert_non_null(used);
        int64_t idx[MC_MAX_DIMS] = {0, 0, 0, 0};
        int64_t count = 0;
        do {
            int64_t off = mc_tensor_elem_offset(&t, idx);
            assert_true(off >= 0 && off + unit <= span);
            for (int64_t b = 0; b < unit; b++)
                assert_int_equal(used[off + b]++, 0);
            count++;
        } while (mc_index_next(idx, t.ne));
        assert_int_equal(count, mc_tensor_nelems(&t));
        free(used);
    }
}

typedef struct refusal_row {
    mc_dtype dt;
    int64_t ne[MC_MAX_DIMS];
    mc_layout layout;
    mc_status expect;
} refusal_row;

static const refusal_row refusal_rows[] = {
    {MC_DTYPE_Q8_0, {64, 2, 1, 1}, MC_LAYOUT_TRANSPOSED, MC_ERR_UNSUPPORTED},
    {MC_DTYPE_Q8_0, {64, 2, 1, 1}, MC_LAYOUT_STRIDE2, MC_ERR_UNSUPPORTED},
    {MC_DTYPE_Q8_0, {64, 2, 1, 1}, MC_LAYOUT_PERMUTED, MC_ERR_UNSUPPORTED},
    {MC_DTYPE_Q4_0, {32, 2, 1, 1}, MC_LAYOUT_TRANSPOSED, MC_ERR_UNSUPPORTED},
    {MC_DTYPE_Q4_0, {32, 2, 1, 1}, MC_LAYOUT_STRIDE2, MC_ERR_UNSUPPORTED},
    {MC_DTYPE_Q8_0, {48, 2, 1, 1}, MC_LAYOUT_CONTIGUOUS, MC_ERR_CONFIG}, /* not whole blocks */
    {MC_DTYPE_Q4_0, {33, 1, 1, 1}, MC_LAYOUT_PADDED, MC_ERR_CONFIG},
    {MC_DTYPE_F32, {3, 0, 1, 1}, MC_LAYOUT_CONTIGUOUS, MC_ERR_CONFIG},    /* empty dim */
    {MC_DTYPE_F32, {3, 2, 1, -1}, MC_LAYOUT_CONTIGUOUS, MC_ERR_CONFIG},
    {MC_DTYPE_F32, {3, 2, 1, 1}, MC_LAYOUT_COUNT, MC_ERR_CONFIG},         /* no such layout */
};

static void test_refused_views(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof refusal_rows / sizeof refusal_rows[0]; i++) {
        const refusal_row *r = &refusal_rows[i];
        mc_tensor t;
        mc_err err = {0};
        assert_int_equal(mc_tensor_init(&t, r->dt, r->ne, r->layout, &err), r->expect);
        assert_int_equal(err.status, r->expect);
        assert_true(strlen(err.msg) > 0);
    }
    mc_tensor t;
    mc_err err = {0};
    mc_tensor_init(&t, MC_DTYPE_Q4_0, refusal_rows[3].ne, MC_LAYOUT_TRANSPOSED, &err);
    assert_non_null(strstr(err.msg, "q4_0"));
    assert_non_null(strstr(err.msg, "transposed"));
}

static void test_layout_names(void **state)
{
    (void)state;
    for (int l = 0; l < MC_LAYOUT_COUNT; l++) {
        mc_layout back;
        assert_true(mc_layout_parse(mc_layout_name((mc_layout)l), &back));
        assert_int_equal(back, l);
    }
    mc_layout out;
    assert_false(mc_layout_parse("Contiguous", &out));
    assert_false(mc_layout_parse("", &out));
    assert_string_equal(mc_layout_name(MC_LAYOUT_COUNT), "?");
    assert_string_equal(mc_layout_name(MC_LAYOUT_PERMUTED), "permuted");
}

static void test_index_walks_i0_fastest(void **state)
{
    (void)state;
    const int64_t ne[MC_MAX_DIMS] = {2, 3, 1, 2};
    int64_t idx[MC_MAX_DIMS] = {0, 0, 0, 0};
    int64_t n = 1;
    assert_true(mc_index_next(idx, ne));
    assert_int_equal(idx[0], 1);
    assert_true(mc_index_next(idx, ne));
    assert_int_equal(idx[0], 0);
    assert_int_equal(idx[1], 1);
    n += 2;
    while (mc_index_next(idx, ne))
        n++;
    assert_int_equal(n, 12);
    for (int d = 0; d < MC_MAX_DIMS; d++)
        assert_int_equal(idx[d], 0); /* wrapped back to the start */
}

/* Writes through a stride-2 view at an odd base address: elements land where the view says, the
 * gaps keep their bytes, and the values read back (UBSan checks the accesses are aligned-safe). */
static void test_get_set_on_gapped_misaligned_views(void **state)
{
    (void)state;
    static const mc_dtype dts[] = {MC_DTYPE_F32, MC_DTYPE_F16, MC_DTYPE_BF16};
    for (size_t k = 0; k < 3; k++) {
        mc_tensor t;
        mc_err err = {0};
        const int64_t ne[MC_MAX_DIMS] = {5, 3, 2, 1};
        assert_int_equal(mc_tensor_init(&t, dts[k], ne, MC_LAYOUT_STRIDE2, &err), MC_OK);
        const size_t span = (size_t)mc_tensor_span_bytes(&t);
        uint8_t *raw = malloc(span + 1);
        assert_non_null(raw);
        memset(raw, 0xAB, span + 1);
        uint8_t *base = raw + 1; /* odd address */
        int64_t idx[MC_MAX_DIMS] = {0, 0, 0, 0};
        int i = 0;
        do {
            mc_tensor_set(&t, base, idx, 0.25 * (i++ - 12)); /* exact in every dtype */
        } while (mc_index_next(idx, t.ne));
        i = 0;
        do {
            assert_true(mc_tensor_get(&t, base, idx) == 0.25 * (i++ - 12));
        } while (mc_index_next(idx, t.ne));
        const int64_t unit = mc_tensor_unit_bytes(&t);
        for (size_t b = 0; b < span; b++) /* odd units are gaps */
            if ((b / (size_t)unit) % 2 == 1)
                assert_int_equal(base[b], 0xAB);
        assert_int_equal(raw[0], 0xAB);
        free(raw);
    }
}

typedef struct rounding_row {
    mc_dtype dt;
    double in;
    double out;
} rounding_row;

/* Round to nearest, ties to even, once, from the double given. The last row of each dtype sits
 * just above a tie by less than half an f32 ulp: rounding through f32 first would make it an
 * exact tie and round it down (double rounding). */
static const rounding_row rounding_rows[] = {
    {MC_DTYPE_F16, 1.0 + 0x1p-11, 1.0},                          /* tie, even below */
    {MC_DTYPE_F16, 1.0 + 3 * 0x1p-11, 1.0 + 0x1p-9},             /* tie, even above */
    {MC_DTYPE_F16, 1.0 + 0x1p-11 - 0x1p-30, 1.0},
    {MC_DTYPE_F16, -(1.0 + 0x1p-11 + 0x1p-40), -(1.0 + 0x1p-10)}, /* above the tie: up */
    {MC_DTYPE_F16, 1.0 + 0x1p-11 + 0x1p-40, 1.0 + 0x1p-10},
    {MC_DTYPE_F16, 0x1p-25 + 0x1p-60, 0x1p-24},                  /* subnormal, just above the tie */
    {MC_DTYPE_F16, 70000.0, INFINITY},
    {MC_DTYPE_BF16, 1.0 + 0x1p-8, 1.0},
    {MC_DTYPE_BF16, 1.0 + 3 * 0x1p-8, 1.0 + 0x1p-6},
    {MC_DTYPE_BF16, 1.0 + 0x1p-8 + 0x1p-40, 1.0 + 0x1p-7},
    {MC_DTYPE_F32, 1.0 + 0x1p-24, 1.0},
    {MC_DTYPE_F32, 1.0 + 0x1p-24 + 0x1p-50, 1.0 + 0x1p-23},
    {MC_DTYPE_F32, -0.0, -0.0},
};

static void test_set_rounds_to_nearest_even_once(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rounding_rows / sizeof rounding_rows[0]; i++) {
        const rounding_row *r = &rounding_rows[i];
        mc_tensor t;
        mc_err err = {0};
        const int64_t ne[MC_MAX_DIMS] = {1, 1, 1, 1};
        assert_int_equal(mc_tensor_init(&t, r->dt, ne, MC_LAYOUT_CONTIGUOUS, &err), MC_OK);
        uint8_t buf[4] = {0};
        const int64_t idx[MC_MAX_DIMS] = {0, 0, 0, 0};
        mc_tensor_set(&t, buf, idx, r->in);
        double got = mc_tensor_get(&t, buf, idx);
        if (got != r->out)
            print_error("row %zu: %s(%.17g) gave %.17g, want %.17g\n", i, mc_dtype_name(r->dt), r->in, got,
                        r->out);
        assert_true(got == r->out);
    }
}

/* A q8_0 and a q4_0 block written by hand: get() dequantises element by element. */
static void test_quantised_get(void **state)
{
    (void)state;
    mc_tensor t;
    mc_err err = {0};
    const int64_t ne[MC_MAX_DIMS] = {32, 1, 1, 1};
    const int64_t at5[MC_MAX_DIMS] = {5, 0, 0, 0}, at31[MC_MAX_DIMS] = {31, 0, 0, 0};
    uint8_t q8[34];
    const uint16_t half = mc_f32_to_f16(0.5f);
    memcpy(q8, &half, 2);
    for (int j = 0; j < 32; j++)
        q8[2 + j] = (uint8_t)(int8_t)(j - 16);
    assert_int_equal(mc_tensor_init(&t, MC_DTYPE_Q8_0, ne, MC_LAYOUT_CONTIGUOUS, &err), MC_OK);
    assert_true(mc_tensor_get(&t, q8, at5) == -5.5);
    assert_true(mc_tensor_get(&t, q8, at31) == 7.5);

    uint8_t q4[18] = {0};
    const uint16_t one = mc_f32_to_f16(1.0f);
    memcpy(q4, &one, 2);
    q4[2 + 3] = 0x2A; /* element 3: low nibble 10 -> 2; element 19: high nibble 2 -> -6 */
    const int64_t at3[MC_MAX_DIMS] = {3, 0, 0, 0}, at19[MC_MAX_DIMS] = {19, 0, 0, 0};
    assert_int_equal(mc_tensor_init(&t, MC_DTYPE_Q4_0, ne, MC_LAYOUT_CONTIGUOUS, &err), MC_OK);
    assert_true(mc_tensor_get(&t, q4, at3) == 2.0);
    assert_true(mc_tensor_get(&t, q4, at19) == -6.0);
    assert_true(mc_tensor_get(&t, q4, at5) == -8.0); /* zero byte: both nibbles -8 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strides_offsets_spans),
        cmocka_unit_test(test_element_offsets),
        cmocka_unit_test(test_views_stay_inside_span_and_do_not_overlap),
        cmocka_unit_test(test_refused_views),
        cmocka_unit_test(test_layout_names),
        cmocka_unit_test(test_index_walks_i0_fastest),
        cmocka_unit_test(test_get_set_on_gapped_misaligned_views),
        cmocka_unit_test(test_set_rounds_to_nearest_even_once),
        cmocka_unit_test(test_quantised_get),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
