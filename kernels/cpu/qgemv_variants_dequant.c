/* kernels/cpu/qgemv_variants_dequant.c: the AVX2 dequantising GEMV variants of Q4_1, Q5_0, Q5_1,
 * Q2_K, Q3_K and Q5_K (f32 x), and Q4_0's on AVX-512: supports() rows and records (the Q4_K/Q6_K
 * ones are in qgemv_variants_k.c).
 * SPDX-License-Identifier: MIT */
#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_avx512_32.h"
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

/* Q4_0 against f32 x on zmm (qgemv_avx512_32.c): the AVX2 sibling's cases and supports(). */
extern const mc_variant mc_variant_gemv_q4_0_avx2;

static const char *probe_avx512(mc_backend_ctx *ctx)
{
    (void)ctx;
    return __builtin_cpu_supports("avx512f") ? NULL : "needs AVX512F (vpermps on 512-bit vectors)";
}

static const char *supports_q4_0_avx512(const mc_args *args)
{
    return mc_variant_gemv_q4_0_avx2.supports(args);
}

static mc_status run_q4_0_avx512(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q4_0_avx512, NULL, err);
}

const mc_variant mc_variant_gemv_q4_0_avx512 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q4_0_avx512",
    .probe = probe_avx512, .requires = "avx512f",
    .supports = supports_q4_0_avx512, .run = run_q4_0_avx512,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q4_0_avx512,
};
