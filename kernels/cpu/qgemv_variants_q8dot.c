/* kernels/cpu/qgemv_variants_q8dot.c: the quantised-activation dot variants of Q4_1, Q5_0, Q5_1
 * (x as q8_0) and Q2_K, Q3_K, Q5_K (x as q8_K), scalar and AVX2, and Q4_0's on 512-bit VNNI:
 * supports() rows and records.
 * The scalar q8_0 dots quantise x by the reference rule and so may take xq_exact; the AVX2 ones
 * use ggml's x86 rule (ties to even) and decline it.
 * SPDX-License-Identifier: MIT */
#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_avx512_32.h"
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

/* Q4_0 x q8_0 on zmm (qgemv_avx512_32.c): its cases, x quantiser and supports() are the AVX2
 * sibling's; the row needs vpdpbusd on 512 bits, gf2p8affineqb and the AVX2 quantiser's ISA. */
extern const mc_variant mc_variant_gemv_q4_0_q8dot_avx2;

static const char *probe_vnni512(mc_backend_ctx *ctx)
{
    (void)ctx;
    if (!mc_cpu_has_avx2())
        return "needs AVX2, FMA and F16C";
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512vnni"))
        return "needs AVX512F, AVX512BW, AVX512VL and AVX512_VNNI (vpdpbusd on 512-bit vectors)";
    if (!__builtin_cpu_supports("gfni"))
        return "needs GFNI (gf2p8affineqb splits the nibbles)";
    return NULL;
}

static const char *supports_q4_0_q8dot_vnni512(const mc_args *args)
{
    return mc_variant_gemv_q4_0_q8dot_avx2.supports(args);
}

static mc_status run_q4_0_q8dot_vnni512(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q4_0_q8dot_vnni512, mc_qgemv_quantise_x_q8_0_avx2, err);
}

const mc_variant mc_variant_gemv_q4_0_q8dot_vnni512 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q4_0_q8dot_vnni512",
    .probe = probe_vnni512, .requires = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512_vnni,gfni",
    .supports = supports_q4_0_q8dot_vnni512, .run = run_q4_0_q8dot_vnni512,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q4_0_q8dot_vnni512,
};
