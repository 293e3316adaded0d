/* tests/test_cpu_gates.c: the capability gates of issue 18's CPU variants (VNNI and AVX-512 GEMVs,
 * the AVX512_BF16 and AMX-BF16 GEMMs).
 * Focus: each probe says yes exactly where the CPU has every flag its .requires declares, so the
 * session's gate check (engine/session.c: a probe saying no on a CPU with every declared flag
 * fails the run) applies to it and never fires falsely; where a flag is absent, the probe says no
 * with a reason that names what is missing.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/variant.h"
#include "engine/cpu_features.h"

extern const mc_variant mc_variant_gemv_q8_0_q8dot_vnni;
extern const mc_variant mc_variant_gemv_q4_0_q8dot_vnni;
extern const mc_variant mc_variant_gemm_tiled_bf16_avx512bf16_12x32;
extern const mc_variant mc_variant_gemm_tiled_bf16_amx_16x32;
extern const mc_variant mc_variant_gemv_q4_0_avx512;
extern const mc_variant mc_variant_gemv_q4_0_q8dot_vnni512;
extern const mc_variant mc_variant_gemv_f32_avx512;
extern const mc_variant mc_variant_gemv_f16_avx512;
extern const mc_variant mc_variant_gemv_bf16_avx512;
extern const mc_variant mc_variant_gemv_q4_K_q8dot_avx512;
extern const mc_variant mc_variant_gemv_q6_K_q8dot_avx512;

static void test_probes_agree_with_flags(void **state)
{
    (void)state;
    const mc_variant *const gated[] = {&mc_variant_gemv_q8_0_q8dot_vnni, &mc_variant_gemv_q4_0_q8dot_vnni,
                                       &mc_variant_gemm_tiled_bf16_avx512bf16_12x32,
                                       &mc_variant_gemm_tiled_bf16_amx_16x32, &mc_variant_gemv_q4_0_avx512,
                                       &mc_variant_gemv_q4_0_q8dot_vnni512, &mc_variant_gemv_f32_avx512,
                                       &mc_variant_gemv_f16_avx512, &mc_variant_gemv_bf16_avx512,
                                       &mc_variant_gemv_q4_K_q8dot_avx512, &mc_variant_gemv_q6_K_q8dot_avx512};
    for (size_t i = 0; i < sizeof gated / sizeof gated[0]; i++) {
        const mc_variant *v = gated[i];
        assert_non_null(v->probe);
        assert_non_null(v->requires);
        char missing[64] = "";
        const bool has = mc_cpu_has_all(v->requires, missing, sizeof missing);
        const char *why = v->probe(NULL);
        print_message("%s: requires %s; cpu %s%s; probe: %s\n", v->name, v->requires, has ? "has all" : "lacks ",
                      missing, why ? why : "yes");
        if (has && why)
            fail_msg("%s: the probe says no (%s) on a CPU with %s: the gate check would fail the run", v->name, why,
                     v->requires);
        if (!has && !why)
            fail_msg("%s: the probe says yes on a CPU without %s", v->name, missing);
        if (why)
            assert_true(strlen(why) > 8); /* a reason, not a bare no */
    }
}

/* The gate check's own condition: a declared flag the CPU lacks means "not all", naming it, so a
 * probe saying no there is never called a broken gate. */
static void test_absent_flag_is_named(void **state)
{
    (void)state;
    char missing[64] = "";
    assert_false(mc_cpu_has_all("no_such_flag_mc", missing, sizeof missing));
    assert_string_equal(missing, "no_such_flag_mc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probes_agree_with_flags),
        cmocka_unit_test(test_absent_flag_is_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
