/* kernels/cpu/qgemv_variants_dequant.c: the AVX2 dequantising GEMV variants of Q4_1, Q5_0, Q5_1,
 * Q2_K, Q3_K and Q5_K (f32 x): supports() rows and records (the Q4_K/Q6_K ones are in
 * qgemv_variants_k.c).
 * SPDX-License-Identifier: MIT */
#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_common.h"

static const char *probe_avx2(mc_backend_ctx *ctx)
{
    (void)ctx;
    return mc_cpu_has_avx2() ? NULL : "needs AVX2, FMA and F16C";
}

static const char *supports_q4_1_avx2(const mc_args *args)
{
    return mc_qgemv_supports_dequant(&args->u.gemv, MC_DTYPE_Q4_1);
}

static mc_status run_q4_1_avx2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q4_1_avx2, NULL, err);
}

const mc_variant mc_variant_gemv_q4_1_avx2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q4_1_avx2",
    .probe = probe_avx2, .requires = "avx2,fma,f16c",
    .supports = supports_q4_1_avx2, .run = run_q4_1_avx2,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q4_1_avx2,
};

static const char *supports_q5_0_avx2(const mc_args *args)
{
    return mc_qgemv_supports_dequant(&args->u.gemv, MC_DTYPE_Q5_0);
}

static mc_status run_q5_0_avx2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q5_0_avx2, NULL, err);
}

const mc_variant mc_variant_gemv_q5_0_avx2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q5_0_avx2",
    .probe = probe_avx2, .requires = "avx2,fma,f16c",
    .supports = supports_q5_0_avx2, .run = run_q5_0_avx2,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q5_0_avx2,
};

static const char *supports_q5_1_avx2(const mc_args *args)
{
    return mc_qgemv_supports_dequant(&args->u.gemv, MC_DTYPE_Q5_1);
}

static mc_status run_q5_1_avx2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q5_1_avx2, NULL, err);
}

const mc_variant mc_variant_gemv_q5_1_avx2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q5_1_avx2",
    .probe = probe_avx2, .requires = "avx2,fma,f16c",
    .supports = supports_q5_1_avx2, .run = run_q5_1_avx2,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q5_1_avx2,
};

static const char *supports_q2_K_avx2(const mc_args *args)
{
    return mc_qgemv_supports_dequant(&args->u.gemv, MC_DTYPE_Q2_K);
}

static mc_status run_q2_K_avx2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q2_K_avx2, NULL, err);
}

const mc_variant mc_variant_gemv_q2_K_avx2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q2_K_avx2",
    .probe = probe_avx2, .requires = "avx2,fma,f16c",
    .supports = supports_q2_K_avx2, .run = run_q2_K_avx2,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q2_K_avx2,
};

static const char *supports_q3_K_avx2(const mc_args *args)
{
    return mc_qgemv_supports_dequant(&args->u.gemv, MC_DTYPE_Q3_K);
}

static mc_status run_q3_K_avx2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q3_K_avx2, NULL, err);
}

const mc_variant mc_variant_gemv_q3_K_avx2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q3_K_avx2",
    .probe = probe_avx2, .requires = "avx2,fma,f16c",
    .supports = supports_q3_K_avx2, .run = run_q3_K_avx2,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q3_K_avx2,
};

static const char *supports_q5_K_avx2(const mc_args *args)
{
    return mc_qgemv_supports_dequant(&args->u.gemv, MC_DTYPE_Q5_K);
}

static mc_status run_q5_K_avx2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q5_K_avx2, NULL, err);
}

const mc_variant mc_variant_gemv_q5_K_avx2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q5_K_avx2",
    .probe = probe_avx2, .requires = "avx2,fma,f16c",
    .supports = supports_q5_K_avx2, .run = run_q5_K_avx2,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q5_K_avx2,
};
