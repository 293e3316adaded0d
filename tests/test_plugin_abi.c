/* tests/test_plugin_abi.c: the public plugin ABI 1.0 (include/metallic_check/plugin.h).
 * Focus: the layout of every public struct (offsets and sizes on LP64) is pinned, so a change that
 * moves a field fails here before it breaks built plugins; the adapter's minimum record sizes are
 * the 1.0 sizes; the public op and dtype numbers map onto the harness's ops and dtypes.
 * SPDX-License-Identifier: MIT */
#include <assert.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "core/op.h"
#include "engine/plugin_int.h"

typedef struct pin {
    const char *what;
    size_t have, want;
} pin;

#define PIN(type, field, want) {#type "." #field, offsetof(type, field), want}
#define PIN_SIZE(type, want) {"sizeof " #type, sizeof(type), want}

static void test_layout_is_pinned(void **state)
{
    (void)state;
    static const pin pins[] = {
        PIN(mc_plugin_tensor, dtype, 0), PIN(mc_plugin_tensor, present, 4), PIN(mc_plugin_tensor, ne, 8),
        PIN(mc_plugin_tensor, nb, 40), PIN(mc_plugin_tensor, offset, 72), PIN(mc_plugin_tensor, buffer, 80),
        PIN(mc_plugin_tensor, buffer_bytes, 88), PIN_SIZE(mc_plugin_tensor, 96),
        PIN(mc_plugin_gemm_args, b, 96), PIN(mc_plugin_gemm_args, bias, 288), PIN(mc_plugin_gemm_args, alpha, 384),
        PIN(mc_plugin_gemm_args, has_bias, 392), PIN_SIZE(mc_plugin_gemm_args, 400),
        PIN(mc_plugin_gemv_args, y, 192), PIN(mc_plugin_gemv_args, xq, 288), PIN(mc_plugin_gemv_args, xq_exact, 292),
        PIN_SIZE(mc_plugin_gemv_args, 296),
        PIN(mc_plugin_softmax_args, y, 96), PIN(mc_plugin_softmax_args, scale, 192),
        PIN(mc_plugin_softmax_args, causal, 196), PIN(mc_plugin_softmax_args, q_offset, 200),
        PIN_SIZE(mc_plugin_softmax_args, 208),
        PIN(mc_plugin_sdpa_args, o, 288), PIN(mc_plugin_sdpa_args, scale, 384), PIN(mc_plugin_sdpa_args, q_offset, 392),
        PIN_SIZE(mc_plugin_sdpa_args, 400),
        PIN(mc_plugin_args, abi, 4), PIN(mc_plugin_args, op, 8), PIN(mc_plugin_args, u, 16),
        PIN_SIZE(mc_plugin_args, 1040),
        PIN(mc_plugin_kernel_ctx, threads, 8), PIN(mc_plugin_kernel_ctx, native, 16), PIN(mc_plugin_kernel_ctx, user, 24),
        PIN(mc_plugin_kernel_ctx, ran, 32), PIN(mc_plugin_kernel_ctx, error, 96), PIN_SIZE(mc_plugin_kernel_ctx, 352),
        PIN(mc_plugin_variant, op, 8), PIN(mc_plugin_variant, flags, 12), PIN(mc_plugin_variant, backend, 16),
        PIN(mc_plugin_variant, name, 24), PIN(mc_plugin_variant, probe, 32), PIN(mc_plugin_variant, supports, 40),
        PIN(mc_plugin_variant, run, 48), PIN(mc_plugin_variant, requires, 56), PIN(mc_plugin_variant, user, 64),
        PIN_SIZE(mc_plugin_variant, 72),
        PIN(mc_plugin_backend, name, 8), PIN(mc_plugin_backend, probe, 16), PIN(mc_plugin_backend, init, 24),
        PIN(mc_plugin_backend, alloc, 48), PIN(mc_plugin_backend, sync, 80), PIN(mc_plugin_backend, timer_begin, 88),
        PIN(mc_plugin_backend, program_hash, 104), PIN_SIZE(mc_plugin_backend, 112),
        PIN(mc_plugin_host, harness_version, 8), PIN(mc_plugin_host, plugin_path, 16), PIN(mc_plugin_host, log, 24),
        PIN_SIZE(mc_plugin_host, 32),
        PIN(mc_plugin_registry, add_variant, 8), PIN(mc_plugin_registry, add_backend, 16),
        PIN(mc_plugin_registry, harness, 24), PIN_SIZE(mc_plugin_registry, 32),
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof pins / sizeof pins[0]; i++)
        if (pins[i].have != pins[i].want) {
            print_error("%s is %zu, ABI 1.0 says %zu\n", pins[i].what, pins[i].have, pins[i].want);
            bad++;
        }
    assert_int_equal(bad, 0);
    /* the adapter refuses records smaller than the 1.0 ones */
    assert_int_equal(mc_plugin_min_size_variant, 72);
    assert_int_equal(mc_plugin_min_size_backend, 112);
    assert_int_equal(MC_PLUGIN_ABI_VERSION, 0x10000u);
}

static void test_numbers_map(void **state)
{
    (void)state;
    static const struct {
        int32_t op;
        const char *name;
    } ops[] = {{MC_PLUGIN_OP_GEMM, "gemm"}, {MC_PLUGIN_OP_GEMV, "gemv"}, {MC_PLUGIN_OP_SOFTMAX, "softmax"},
               {MC_PLUGIN_OP_SDPA, "sdpa"}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        assert_string_equal(mc_op_get(mc_plugin_op_to_harness(ops[i].op))->name, ops[i].name);
    assert_int_equal(mc_plugin_op_to_harness(0), MC_OP_COUNT);
    assert_int_equal(mc_plugin_op_to_harness(77), MC_OP_COUNT);
    static const struct {
        mc_dtype dt;
        int32_t pub;
    } dts[] = {{MC_DTYPE_F32, MC_PLUGIN_F32}, {MC_DTYPE_F16, MC_PLUGIN_F16}, {MC_DTYPE_BF16, MC_PLUGIN_BF16},
               {MC_DTYPE_Q8_0, MC_PLUGIN_Q8_0}, {MC_DTYPE_Q4_0, MC_PLUGIN_Q4_0}, {MC_DTYPE_Q4_1, MC_PLUGIN_Q4_1},
               {MC_DTYPE_Q5_0, MC_PLUGIN_Q5_0}, {MC_DTYPE_Q5_1, MC_PLUGIN_Q5_1}, {MC_DTYPE_Q2_K, MC_PLUGIN_Q2_K},
               {MC_DTYPE_Q3_K, MC_PLUGIN_Q3_K}, {MC_DTYPE_Q4_K, MC_PLUGIN_Q4_K}, {MC_DTYPE_Q5_K, MC_PLUGIN_Q5_K},
               {MC_DTYPE_Q6_K, MC_PLUGIN_Q6_K}, {MC_DTYPE_Q8_K, MC_PLUGIN_Q8_K}};
    static_assert(sizeof dts / sizeof dts[0] == MC_DTYPE_COUNT, "every dtype has its public number");
    for (size_t i = 0; i < sizeof dts / sizeof dts[0]; i++)
        assert_int_equal(mc_plugin_dtype_from_harness(dts[i].dt), dts[i].pub);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_is_pinned),
        cmocka_unit_test(test_numbers_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
