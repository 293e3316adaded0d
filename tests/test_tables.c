/* tests/test_tables.c: every slot of every enum-indexed table is filled (a static_assert catches a
 * missing last row only; a row missing in the middle is a NULL this walk finds).
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/dtype.h"
#include "core/op.h"
#include "core/result.h"
#include "core/status.h"
#include "core/tensor.h"
#include "engine/generate_quant.h"
#include "engine/registry.h"
#include "kernels/cpu/gemm_tiles.h"
#include "reports/svg.h"
#include "stats/compare.h"

/* names[i] for i in 0..n-1: each set, not the accessors' "?" / "unknown", all distinct. */
static void assert_names(const char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        assert_non_null(names[i]);
        assert_true(names[i][0] != '\0');
        assert_string_not_equal(names[i], "?");
        assert_string_not_equal(names[i], "unknown");
        for (int j = 0; j < i; j++)
            assert_string_not_equal(names[i], names[j]);
    }
}

static void test_core_tables(void **state)
{
    (void)state;
    const char *names[64];
    for (int i = 0; i < MC_STATUS_COUNT; i++)
        names[i] = mc_status_str((mc_status)i);
    assert_names(names, MC_STATUS_COUNT);
    for (int i = 0; i < MC_RESULT_COUNT; i++) {
        names[i] = mc_result_kind_name((mc_result_kind)i);
        assert_int_equal(mc_result_kind_parse(names[i]), i);
    }
    assert_names(names, MC_RESULT_COUNT);
    for (int i = 0; i < MC_LAYOUT_COUNT; i++) {
        mc_layout l;
        names[i] = mc_layout_name((mc_layout)i);
        assert_true(mc_layout_parse(names[i], &l));
        assert_int_equal(l, i);
    }
    assert_names(names, MC_LAYOUT_COUNT);
    for (int i = 0; i < MC_DTYPE_COUNT; i++) {
        mc_dtype dt;
        const mc_dtype_info *info = mc_dtype_info_of((mc_dtype)i);
        assert_non_null(info);
        assert_true(info->block_elems > 0 && info->block_bytes > 0 && info->unit_roundoff > 0);
        names[i] = info->name;
        assert_true(mc_dtype_parse(names[i], &dt));
        assert_int_equal(dt, i);
    }
    assert_names(names, MC_DTYPE_COUNT);
}

/* True when the op has a parameter called name. */
static int has_param(const mc_op *op, const char *name)
{
    for (int i = 0; i < op->n_params; i++)
        if (strcmp(op->params[i].name, name) == 0)
            return 1;
    return 0;
}

/* The op record is complete: a roof, a peer that is a compiled variant of that op, and report
 * axes over parameters the op has. */
static void assert_op_record_complete(const mc_op *op)
{
    assert_true((int)op->roof >= 0 && op->roof < MC_ROOF_COUNT);
    assert_string_not_equal(mc_roof_name(op->roof), "?");
    if (op->perf_peer) {
        const mc_variant *peer = mc_registry_find(op->perf_peer);
        assert_non_null(peer);
        assert_int_equal(peer->op, op->id);
    } else {
        assert_true(op->roof != MC_ROOF_COMPUTE); /* no peer: held to a measured bandwidth */
    }
    assert_non_null(op->sweep_axes[0].x);
    for (int a = 0; a < MC_MAX_SWEEP_AXES && op->sweep_axes[a].x; a++) {
        assert_true(has_param(op, op->sweep_axes[a].x));
        assert_non_null(op->sweep_axes[a].label);
        for (int i = 0; i < 3 && op->sweep_axes[a].ignore[i]; i++)
            assert_true(has_param(op, op->sweep_axes[a].ignore[i]));
    }
}

static void test_op_table(void **state)
{
    (void)state;
    const char *names[MC_OP_COUNT];
    for (int i = 0; i < MC_OP_COUNT; i++) {
        const mc_op *op = mc_op_get((mc_op_id)i);
        assert_non_null(op);
        assert_int_equal(op->id, i);
        assert_true(op->tensors && op->args && op->reference && op->flops && op->bytes);
        names[i] = op->name;
        assert_ptr_equal(mc_op_find(op->name), op);
        assert_op_record_complete(op);
    }
    assert_names(names, MC_OP_COUNT);
}

static void test_other_tables(void **state)
{
    (void)state;
    const char *names[64];
    for (int i = 0; i < MC_VERDICT_COUNT; i++)
        names[i] = mc_verdict_name((mc_verdict)i);
    assert_names(names, MC_VERDICT_COUNT);
    for (int i = 0; i < MC_QPATTERN_COUNT; i++) {
        mc_quant_pattern p;
        names[i] = mc_quant_pattern_name((mc_quant_pattern)i);
        assert_true(mc_quant_pattern_parse(names[i], &p));
        assert_int_equal(p, i);
    }
    assert_names(names, MC_QPATTERN_COUNT);
    for (int i = 0; i < MC_MARK_COUNT; i++)
        names[i] = mc_marker_glyph((mc_marker)i);
    assert_names(names, MC_MARK_COUNT);
    for (int i = 0; i < MC_GEMM_CLASS_COUNT; i++) {
        const mc_gemm_class_info *info = mc_gemm_class_info_of((mc_gemm_class)i);
        assert_non_null(info);
        assert_non_null(info->rule);
        assert_non_null(info->candidates[0]);
        names[i] = info->name;
        assert_int_equal(mc_gemm_class_parse(names[i]), i);
    }
    assert_names(names, MC_GEMM_CLASS_COUNT);
}

/* ---- variant names a failure can be grepped by (issue 14) ---- */

/* Each variant table is generated from its X-macro list (kernels/<backend>/variants_*.def), which
 * gives the C symbol mc_variant_<name>: the list spelled as strings must equal the table's .name
 * fields, row by row, so a variant's name is always its symbol. */
extern const mc_variant *const mc_cpu_variants[];
static const char *const cpu_symbols[] = {
#define MC_VARIANT(name) #name,
#include "kernels/cpu/variants_cpu.def"
#undef MC_VARIANT
    NULL,
};
#ifdef MC_HAVE_OPENCL
extern const mc_variant *const mc_opencl_variants[];
static const char *const opencl_symbols[] = {
#define MC_OPENCL_VARIANT(name, program) #name,
#include "kernels/opencl/variants_opencl.def"
#undef MC_OPENCL_VARIANT
    NULL,
};
#endif
#ifdef MC_HAVE_CUDA
extern const mc_variant *const mc_cuda_variants[];
static const char *const cuda_symbols[] = {
#define MC_CUDA_VARIANT(name, program) #name,
#define MC_CUDA_PEER(name) #name,
#include "kernels/cuda/variants_cuda.def"
#undef MC_CUDA_PEER
#undef MC_CUDA_VARIANT
    NULL,
};
#endif
#ifdef MC_MUTANTS
extern const mc_variant *const mc_mutant_variants[];
static const char *const mutant_symbols[] = {
#define MC_VARIANT(name) #name,
#include "kernels/cpu/mutants/variants_mutants.def"
#undef MC_VARIANT
    NULL,
};
#endif
#ifdef MC_TEST_VARIANTS
extern const mc_variant *const mc_testonly_variants[];
static const char *const testonly_symbols[] = {
#define MC_VARIANT(name) #name,
#include "kernels/cpu/testonly/variants_testonly.def"
#undef MC_VARIANT
    NULL,
};
#endif

/* Row by row: table[i]->name == symbols[i], both end together. Returns the row count. */
static int assert_named_as_symbols(const mc_variant *const *table, const char *const *symbols)
{
    int i = 0;
    for (; table[i] && symbols[i]; i++)
        if (strcmp(table[i]->name, symbols[i]) != 0)
            fail_msg("variant \"%s\" is C symbol mc_variant_%s: a failure could not be grepped by its name",
                     table[i]->name, symbols[i]);
    assert_null(table[i]);
    assert_null(symbols[i]);
    return i;
}

static void test_variant_names_are_symbols(void **state)
{
    (void)state;
    int listed = assert_named_as_symbols(mc_cpu_variants, cpu_symbols);
#ifdef MC_HAVE_OPENCL
    listed += assert_named_as_symbols(mc_opencl_variants, opencl_symbols);
#endif
#ifdef MC_HAVE_CUDA
    listed += assert_named_as_symbols(mc_cuda_variants, cuda_symbols);
#endif
#ifdef MC_MUTANTS
    listed += assert_named_as_symbols(mc_mutant_variants, mutant_symbols);
#endif
#ifdef MC_TEST_VARIANTS
    listed += assert_named_as_symbols(mc_testonly_variants, testonly_symbols);
#endif
    /* every variant the registry knows is in one of the lists walked (none from elsewhere) */
    int count = 0;
    mc_registry_variants(true, &count);
    assert_int_equal(count, listed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_core_tables),
        cmocka_unit_test(test_op_table),
        cmocka_unit_test(test_other_tables),
        cmocka_unit_test(test_variant_names_are_symbols),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
