/* tests/test_check.c: guarded placement, generation and every output check.
 * Focus: each planted defect in a downloaded image is reported as its own kind, and an exact
 * result passes.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/check.h"
#include "engine/generate.h"

static const mc_op fake_op = {.name = "fake", .mistrust_zero_share = 0.3};

/* Two tensors: x (input, 6 f32 in stride-2 layout, 3x2) and y (output, contiguous 3x2). */
typedef struct fixture {
    mc_placed p[2];
    uint8_t *after[2];
    double expected[6], bound[6];
    mc_ref_out ref;
} fixture;

static void spec_for(mc_tensor_spec *s, const char *name, mc_role role, mc_layout l, int64_t align)
{
    memset(s, 0, sizeof *s);
    int64_t ne[4] = {3, 2, 1, 1};
    assert_int_equal(mc_tensor_init(&s->t, MC_DTYPE_F32, ne, l, NULL), MC_OK);
    s->name = name;
    s->role = role;
    s->align_bytes = align;
    s->gen_lo = -1;
    s->gen_hi = 1;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    mc_tensor_spec sx, sy;
    spec_for(&sx, "x", MC_ROLE_IN, MC_LAYOUT_STRIDE2, 4);
    spec_for(&sy, "y", MC_ROLE_OUT, MC_LAYOUT_CONTIGUOUS, 2);
    assert_int_equal(mc_place_init(&f->p[0], &sx, 64, NULL), MC_OK);
    assert_int_equal(mc_place_init(&f->p[1], &sy, 64, NULL), MC_OK);
    assert_int_equal(mc_generate_fill(&f->p[0], 42, NULL), MC_OK);
    for (int k = 0; k < 2; k++) {
        f->after[k] = malloc(f->p[k].total_bytes);
        memcpy(f->after[k], f->p[k].image, f->p[k].total_bytes);
    }
    /* "kernel": y = 2x + 1, written exactly */
    int64_t idx[4] = {0, 0, 0, 0};
    int i = 0;
    do {
        double x = mc_tensor_get(&f->p[0].spec.t, f->p[0].image, idx);
        f->expected[i] = 2 * x + 1;
        f->bound[i] = 1e-6;
        mc_tensor_set(&f->p[1].spec.t, f->after[1], idx, f->expected[i]);
        i++;
    } while (mc_index_next(idx, f->p[1].spec.t.ne));
    f->ref = (mc_ref_out){f->expected, f->bound};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    for (int k = 0; k < 2; k++) {
        mc_place_free(&f->p[k]);
        free(f->after[k]);
    }
    free(f);
    return 0;
}

static mc_result_kind judge(fixture *f)
{
    mc_check_input in = {.op = &fake_op, .placed = f->p, .after = (const uint8_t *const *)f->after, .n = 2,
                         .out_index = 1, .ref = &f->ref};
    mc_result res;
    memset(&res, 0, sizeof res);
    mc_check_run(&in, &res);
    return res.kind;
}

static void put_f32(uint8_t *image, const mc_placed *p, int64_t i0, int64_t i1, float v)
{
    int64_t idx[4] = {i0, i1, 0, 0};
    memcpy(image + mc_tensor_elem_offset(&p->spec.t, idx), &v, sizeof v);
}

static void test_exact_result_passes(void **state)
{
    assert_int_equal(judge(*state), MC_RESULT_PASS);
}

static void test_placement_invariants(void **state)
{
    fixture *f = *state;
    const mc_placed *x = &f->p[0];
    /* the data starts `align` bytes past an aligned base */
    assert_int_equal(x->spec.t.offset, 64 + 4);
    /* stride-2 gaps are NaN in the input image, elements are finite */
    for (size_t i = 0; i < x->data_bytes; i += 4) {
        if (i < 4)
            continue; /* the alignment prefix */
        float v;
        memcpy(&v, x->image + x->guard_bytes + i, sizeof v);
        assert_true(x->owned[i] ? isfinite(v) : isnan(v));
    }
    /* outputs start as sentinels everywhere */
    int64_t idx[4] = {2, 1, 0, 0};
    assert_true(mc_place_is_sentinel(&f->p[1], f->p[1].image, mc_tensor_elem_offset(&f->p[1].spec.t, idx)));
    /* guards are the position pattern */
    assert_int_equal(x->image[0], mc_place_guard_byte(0));
    assert_int_equal(x->image[x->total_bytes - 1], mc_place_guard_byte(x->total_bytes - 1));
}

static void test_generation_is_seeded(void **state)
{
    fixture *f = *state;
    mc_placed again;
    mc_tensor_spec sx = f->p[0].spec;
    sx.t.offset -= 64 + 4;
    assert_int_equal(mc_place_init(&again, &sx, 64, NULL), MC_OK);
    assert_int_equal(mc_generate_fill(&again, 42, NULL), MC_OK);
    assert_memory_equal(again.image, f->p[0].image, again.total_bytes);
    assert_int_equal(mc_generate_fill(&again, 43, NULL), MC_OK);
    assert_memory_not_equal(again.image, f->p[0].image, again.total_bytes);
    mc_place_free(&again);
}

typedef void (*defect_fn)(fixture *f);

static void guard_before(fixture *f) { f->after[1][10] ^= 1; }
static void guard_after(fixture *f) { f->after[1][f->p[1].total_bytes - 1] ^= 0x80; }
static void input_written(fixture *f) { put_f32(f->after[0], &f->p[0], 1, 1, 0.25f); }
static void gap_written(fixture *f) { f->after[0][f->p[0].spec.t.offset + 4] ^= 1; }
static void output_unwritten(fixture *f) { memcpy(f->after[1], f->p[1].image, f->p[1].total_bytes); }
static void one_unwritten(fixture *f)
{
    int64_t idx[4] = {2, 1, 0, 0};
    int64_t off = mc_tensor_elem_offset(&f->p[1].spec.t, idx);
    memcpy(f->after[1] + off, f->p[1].image + off, 4);
}
static void nan_out(fixture *f) { put_f32(f->after[1], &f->p[1], 0, 1, NAN); }
static void off_by_a_little(fixture *f) { put_f32(f->after[1], &f->p[1], 1, 0, (float)(f->expected[1] + 1e-3)); }
static void all_zero(fixture *f)
{
    for (int i0 = 0; i0 < 3; i0++)
        for (int i1 = 0; i1 < 2; i1++)
            put_f32(f->after[1], &f->p[1], i0, i1, 0.0f);
    for (int i = 0; i < 6; i++)
        f->bound[i] = 10; /* even a loose bound must not let zeros through */
}
static void copy_of_input(fixture *f)
{
    int64_t idx[4] = {0, 0, 0, 0};
    do {
        mc_tensor_set(&f->p[1].spec.t, f->after[1], idx, mc_tensor_get(&f->p[0].spec.t, f->p[0].image, idx));
    } while (mc_index_next(idx, f->p[1].spec.t.ne));
    for (int i = 0; i < 6; i++)
        f->bound[i] = 10;
}

/* Not a defect: NaN where the reference is NaN too (NaN weights) must pass. */
static void nan_expected(fixture *f)
{
    put_f32(f->after[1], &f->p[1], 0, 1, NAN);
    f->expected[3] = NAN;
}

typedef struct {
    const char *name;
    defect_fn plant;
    mc_result_kind want;
} defect_row;

static void test_each_defect_has_its_kind(void **state)
{
    static const defect_row rows[] = {
        {"guard before", guard_before, MC_RESULT_FAIL_GUARD},
        {"guard after", guard_after, MC_RESULT_FAIL_GUARD},
        {"input written", input_written, MC_RESULT_FAIL_INPUT_MODIFIED},
        {"input gap written", gap_written, MC_RESULT_FAIL_INPUT_MODIFIED},
        {"nothing written", output_unwritten, MC_RESULT_FAIL_UNWRITTEN},
        {"last element unwritten", one_unwritten, MC_RESULT_FAIL_UNWRITTEN},
        {"nan", nan_out, MC_RESULT_FAIL_NAN},
        {"nan where the reference is nan", nan_expected, MC_RESULT_PASS},
        {"beyond bound", off_by_a_little, MC_RESULT_FAIL_BOUND},
        {"all zero", all_zero, MC_RESULT_FAIL_MISTRUSTED},
        {"copy of input", copy_of_input, MC_RESULT_FAIL_MISTRUSTED},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        teardown(state);
        setup(state);
        rows[i].plant(*state);
        mc_result_kind got = judge(*state);
        if (got != rows[i].want)
            print_error("%s: got %s, want %s\n", rows[i].name, mc_result_kind_name(got),
                        mc_result_kind_name(rows[i].want));
        assert_int_equal(got, rows[i].want);
    }
}

static void test_output_gap_write_is_a_guard_failure(void **state)
{
    fixture *f = *state;
    /* make y strided too: rebuild it as a stride-2 output and write into a gap */
    mc_tensor_spec sy;
    spec_for(&sy, "y", MC_ROLE_OUT, MC_LAYOUT_STRIDE2, 0);
    mc_place_free(&f->p[1]);
    free(f->after[1]);
    assert_int_equal(mc_place_init(&f->p[1], &sy, 64, NULL), MC_OK);
    f->after[1] = malloc(f->p[1].total_bytes);
    memcpy(f->after[1], f->p[1].image, f->p[1].total_bytes);
    int64_t idx[4] = {0, 0, 0, 0};
    int i = 0;
    do {
        mc_tensor_set(&f->p[1].spec.t, f->after[1], idx, f->expected[i++]);
    } while (mc_index_next(idx, f->p[1].spec.t.ne));
    assert_int_equal(judge(f), MC_RESULT_PASS);
    f->after[1][f->p[1].spec.t.offset + 4] = 0; /* the gap after element 0 */
    assert_int_equal(judge(f), MC_RESULT_FAIL_GUARD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exact_result_passes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_placement_invariants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generation_is_seeded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_defect_has_its_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_gap_write_is_a_guard_failure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
