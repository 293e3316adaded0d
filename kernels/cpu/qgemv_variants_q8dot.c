/* kernels/cpu/qgemv_variants_q8dot.c: the quantised-activation dot variants of Q4_1, Q5_0, Q5_1
 * (x as q8_0) and Q2_K, Q3_K, Q5_K (x as q8_K), scalar and AVX2: supports() rows and records.
 * The scalar q8_0 dots quantise x by the reference rule and so may take xq_exact; the AVX2 ones
 * use ggml's x86 rule (ties to even) and decline it.
 * SPDX-License-Identifier: MIT */
#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_common.h"

static const char *probe_avx2(mc_backend_ctx *ctx)
{
    (void)ctx;
    return mc_cpu_has_avx2() ? NULL : "needs AVX2, FMA and F16C";
}

static const char *supports_q4_1_q8dot_scalar(const mc_args *args)
{
    return mc_qgemv_supports_q8dot(&args->u.gemv, MC_DTYPE_Q4_1, true);
}

static mc_status run_q4_1_q8dot_scalar(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q4_1_q8dot_scalar, mc_qgemv_quantise_x_q8_0_scalar, err);
}

const mc_variant mc_variant_gemv_q4_1_q8dot_scalar = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q4_1_q8dot_scalar",
    .supports = supports_q4_1_q8dot_scalar, .run = run_q4_1_q8dot_scalar,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q4_1_q8dot_scalar,
};

static const char *supports_q4_1_q8dot_avx2(const mc_args *args)
{
    return mc_qgemv_supports_q8dot(&args->u.gemv, MC_DTYPE_Q4_1, false);
}

static mc_status run_q4_1_q8dot_avx2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q4_1_q8dot_avx2, mc_qgemv_quantise_x_q8_0_avx2, err);
}

const mc_variant mc_variant_gemv_q4_1_q8dot_avx2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q4_1_q8dot_avx2",
    .probe = probe_avx2, .requires = "avx2,fma,f16c",
    .supports = supports_q4_1_q8dot_avx2, .run = run_q4_1_q8dot_avx2,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q4_1_q8dot_avx2,
};

static const char *supports_q5_0_q8dot_scalar(const mc_args *args)
{
    return mc_qgemv_supports_q8dot(&args->u.gemv, MC_DTYPE_Q5_0, true);
}

static mc_status run_q5_0_q8dot_scalar(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q5_0_q8dot_scalar, mc_qgemv_quantise_x_q8_0_scalar, err);
}

const mc_variant mc_variant_gemv_q5_0_q8dot_scalar = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q5_0_q8dot_scalar",
    .supports = supports_q5_0_q8dot_scalar, .run = run_q5_0_q8dot_scalar,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q5_0_q8dot_scalar,
};

static const char *supports_q5_0_q8dot_avx2(const mc_args *args)
{
    return mc_qgemv_supports_q8dot(&args->u.gemv, MC_DTYPE_Q5_0, false);
}

static mc_status run_q5_0_q8dot_avx2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q5_0_q8dot_avx2, mc_qgemv_quantise_x_q8_0_avx2, err);
}

const mc_variant mc_variant_gemv_q5_0_q8dot_avx2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q5_0_q8dot_avx2",
    .probe = probe_avx2, .requires = "avx2,fma,f16c",
    .supports = supports_q5_0_q8dot_avx2, .run = run_q5_0_q8dot_avx2,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q5_0_q8dot_avx2,
};

static const char *supports_q5_1_q8dot_scalar(const mc_args *args)
{
    return mc_qgemv_supports_q8dot(&args->u.gemv, MC_DTYPE_Q5_1, true);
}

static mc_status run_q5_1_q8dot_scalar(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q5_1_q8dot_scalar, mc_qgemv_quantise_x_q8_0_scalar, err);
}

const mc_variant mc_variant_gemv_q5_1_q8dot_scalar = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q5_1_q8dot_scalar",
    .supports = supports_q5_1_q8dot_scalar, .run = run_q5_1_q8dot_scalar,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q5_1_q8dot_scalar,
};

static const char *supports_q5_1_q8dot_avx2(const mc_args *args)
{
    return mc_qgemv_supports_q8dot(&args->u.gemv, MC_DTYPE_Q5_1, false);
}

static mc_status run_q5_1_q8dot_avx2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q5_1_q8dot_avx2, mc_qgemv_quantise_x_q8_0_avx2, err);
}

const mc_variant mc_variant_gemv_q5_1_q8dot_avx2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q5_1_q8dot_avx2",
    .probe = probe_avx2, .requires = "avx2,fma,f16c",
    .supports = supports_q5_1_q8dot_avx2, .run = run_q5_1_q8dot_avx2,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q5_1_q8dot_avx2,
};

static const char *supports_q2_K_q8dot_scalar(const mc_args *args)
{
    return mc_qgemv_supports_q8dot(&args->u.gemv, MC_DTYPE_Q2_K, false);
}

static mc_status run_q2_K_q8dot_scalar(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q2_K_q8dot_scalar, mc_qgemv_quantise_x_q8_K_scalar, err);
}

const mc_variant mc_variant_gemv_q2_K_q8dot_scalar = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q2_K_q8dot_scalar",
    .supports = supports_q2_K_q8dot_scalar, .run = run_q2_K_q8dot_scalar,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q2_K_q8dot_scalar,
};

static const char *supports_q2_K_q8dot_avx2(const mc_args *args)
{
    return mc_qgemv_supports_q8dot(&args->u.gemv, MC_DTYPE_Q2_K, false);
}

static mc_status run_q2_K_q8dot_avx2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q2_K_q8dot_avx2, mc_qgemv_quantise_x_q8_K_scalar, err);
}

const mc_variant mc_variant_gemv_q2_K_q8dot_avx2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q2_K_q8dot_avx2",
    .probe = probe_avx2, .requires = "avx2,fma,f16c",
    .supports = supports_q2_K_q8dot_avx2, .run = run_q2_K_q8dot_avx2,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q2_K_q8dot_avx2,
};

static const char *supports_q3_K_q8dot_scalar(const mc_args *args)
{
    return mc_qgemv_supports_q8dot(&args->u.gemv, MC_DTYPE_Q3_K, false);
}

static mc_status run_q3_K_q8dot_scalar(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q3_K_q8dot_scalar, mc_qgemv_quantise_x_q8_K_scalar, err);
}

const mc_variant mc_variant_gemv_q3_K_q8dot_scalar = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q3_K_q8dot_scalar",
    .supports = supports_q3_K_q8dot_scalar, .run = run_q3_K_q8dot_scalar,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q3_K_q8dot_scalar,
};

static const char *supports_q3_K_q8dot_avx2(const mc_args *args)
{
    return mc_qgemv_supports_q8dot(&args->u.gemv, MC_DTYPE_Q3_K, false);
}

static mc_status run_q3_K_q8dot_avx2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q3_K_q8dot_avx2, mc_qgemv_quantise_x_q8_K_scalar, err);
}

const mc_variant mc_variant_gemv_q3_K_q8dot_avx2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q3_K_q8dot_avx2",
    .probe = probe_avx2, .requires = "avx2,fma,f16c",
    .supports = supports_q3_K_q8dot_avx2, .run = run_q3_K_q8dot_avx2,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q3_K_q8dot_avx2,
};

static const char *supports_q5_K_q8dot_scalar(const mc_args *args)
{
    return mc_qgemv_supports_q8dot(&args->u.gemv, MC_DTYPE_Q5_K, false);
}

static mc_status run_q5_K_q8dot_scalar(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q5_K_q8dot_scalar, mc_qgemv_quantise_x_q8_K_scalar, err);
}

const mc_variant mc_variant_gemv_q5_K_q8dot_scalar = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q5_K_q8dot_scalar",
    .supports = supports_q5_K_q8dot_scalar, .run = run_q5_K_q8dot_scalar,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q5_K_q8dot_scalar,
};

static const char *supports_q5_K_q8dot_avx2(const mc_args *args)
{
    return mc_qgemv_supports_q8dot(&args->u.gemv, MC_DTYPE_Q5_K, false);
}

static mc_status run_q5_K_q8dot_avx2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q5_K_q8dot_avx2, mc_qgemv_quantise_x_q8_K_scalar, err);
}

const mc_variant mc_variant_gemv_q5_K_q8dot_avx2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q5_K_q8dot_avx2",
    .probe = probe_avx2, .requires = "avx2,fma,f16c",
    .supports = supports_q5_K_q8dot_avx2, .run = run_q5_K_q8dot_avx2,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q5_K_q8dot_avx2,
};
