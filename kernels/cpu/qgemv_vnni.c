/* kernels/cpu/qgemv_vnni.c: the q8_0 x q8_0 dot GEMVs on VNNI (vpdpbusd, AVX512_VNNI on 256-bit
 * vectors): gemv_q8_0_q8dot_vnni and gemv_q4_0_q8dot_vnni. Same cases, same x quantiser and the
 * same results, bit for bit, as their AVX2 siblings (whose supports() they reuse); the row
 * kernels are in qgemv_avx2.c.
 * SPDX-License-Identifier: MIT */
#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_common.h"

extern const mc_variant mc_variant_gemv_q8_0_q8dot_avx2;
extern const mc_variant mc_variant_gemv_q4_0_q8dot_avx2;

static const char *probe_vnni(mc_backend_ctx *ctx)
{
    (void)ctx;
    if (!mc_cpu_has_avx2())
        return "needs AVX2, FMA and F16C";
    if (!__builtin_cpu_supports("avx512vnni") || !__builtin_cpu_supports("avx512vl"))
        return "needs AVX512_VNNI and AVX512VL (vpdpbusd on 256-bit vectors)";
    return NULL;
}

static const char *supports_q8_0(const mc_args *args)
{
    return mc_variant_gemv_q8_0_q8dot_avx2.supports(args);
}

static const char *supports_q4_0(const mc_args *args)
{
    return mc_variant_gemv_q4_0_q8dot_avx2.supports(args);
}

static mc_status run_q8_0(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q8_0_q8dot_vnni, mc_qgemv_quantise_x_q8_0_avx2, err);
}

static mc_status run_q4_0(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q4_0_q8dot_vnni, mc_qgemv_quantise_x_q8_0_avx2, err);
}

const mc_variant mc_variant_gemv_q8_0_q8dot_vnni = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q8_0_q8dot_vnni",
    .probe = probe_vnni, .requires = "avx2,fma,f16c,avx512_vnni,avx512vl", .supports = supports_q8_0,
    .run = run_q8_0, .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)mc_qgemv_row_q8_0_q8dot_vnni,
};

const mc_variant mc_variant_gemv_q4_0_q8dot_vnni = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q4_0_q8dot_vnni",
    .probe = probe_vnni, .requires = "avx2,fma,f16c,avx512_vnni,avx512vl", .supports = supports_q4_0,
    .run = run_q4_0, .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)mc_qgemv_row_q4_0_q8dot_vnni,
};
