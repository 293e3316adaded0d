/* kernels/cpu/qgemv_variants_k.c: the GEMV variants of the formats beyond Q8_0/Q4_0 (Q4_1, Q5_0,
 * Q5_1 and the K-quants): supports() rows and registry records. They share qgemv_variants.c's
 * driver (mc_qgemv_run), which reads block sizes from the dtype table and sizes x's q8_0 or q8_K
 * copy from the case's activation format, so each record here is a row kernel and its format.
 * SPDX-License-Identifier: MIT */
#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_common.h"

static const char *probe_avx2(mc_backend_ctx *ctx)
{
    (void)ctx;
    return mc_cpu_has_avx2() ? NULL : "needs AVX2, FMA and F16C";
}

/* A dequantising variant: A in format dt, plain x and y; exact in x, so any xq but the exact one
 * (asked first: whatever the format, such a variant cannot meet it). */
const char *mc_qgemv_supports_dequant(const mc_gemv_args *g, mc_dtype dt)
{
    if (g->xq_exact)
        return "computes with x itself, not with q8_0 activations: cannot meet xq_exact";
    if (g->a.dtype != dt)
        return "A is not this variant's format";
    if (!mc_cpu_is_plain_float(g->x.dtype) || !mc_cpu_is_plain_float(g->y.dtype))
        return "x and y must be plain floats";
    return NULL;
}

/* A quantised-activation dot: as above, and x quantised to the format's activation (q8_0 or
 * q8_K); xq_exact only where the variant quantises by the reference rule (exact_ok). */
const char *mc_qgemv_supports_q8dot(const mc_gemv_args *g, mc_dtype dt, bool exact_ok)
{
    const mc_dtype act = mc_quant_format_of(dt)->act;
    if (g->xq != act)
        return act == MC_DTYPE_Q8_K ? "quantises x to q8_K: needs xq=q8_K" : "quantises x to q8_0: needs xq=q8_0";
    if (g->xq_exact && !exact_ok)
        return "ggml's x86 rule rounds ties to even: cannot meet xq_exact";
    if (g->a.dtype != dt)
        return "A is not this variant's format";
    if (!mc_cpu_is_plain_float(g->x.dtype) || !mc_cpu_is_plain_float(g->y.dtype))
        return "x and y must be plain floats";
    return NULL;
}

static const char *supports_q4_1_scalar(const mc_args *args)
{
    return mc_qgemv_supports_dequant(&args->u.gemv, MC_DTYPE_Q4_1);
}

static mc_status run_q4_1_scalar(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q4_1_scalar, NULL, err);
}

const mc_variant mc_variant_gemv_q4_1_scalar = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q4_1_scalar",
    .supports = supports_q4_1_scalar, .run = run_q4_1_scalar,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q4_1_scalar,
};

static const char *supports_q5_0_scalar(const mc_args *args)
{
    return mc_qgemv_supports_dequant(&args->u.gemv, MC_DTYPE_Q5_0);
}

static mc_status run_q5_0_scalar(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q5_0_scalar, NULL, err);
}

const mc_variant mc_variant_gemv_q5_0_scalar = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q5_0_scalar",
    .supports = supports_q5_0_scalar, .run = run_q5_0_scalar,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q5_0_scalar,
};

static const char *supports_q5_1_scalar(const mc_args *args)
{
    return mc_qgemv_supports_dequant(&args->u.gemv, MC_DTYPE_Q5_1);
}

static mc_status run_q5_1_scalar(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q5_1_scalar, NULL, err);
}

const mc_variant mc_variant_gemv_q5_1_scalar = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q5_1_scalar",
    .supports = supports_q5_1_scalar, .run = run_q5_1_scalar,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q5_1_scalar,
};

static const char *supports_q2_K_scalar(const mc_args *args)
{
    return mc_qgemv_supports_dequant(&args->u.gemv, MC_DTYPE_Q2_K);
}

static mc_status run_q2_K_scalar(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q2_K_scalar, NULL, err);
}

const mc_variant mc_variant_gemv_q2_K_scalar = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q2_K_scalar",
    .supports = supports_q2_K_scalar, .run = run_q2_K_scalar,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q2_K_scalar,
};

static const char *supports_q3_K_scalar(const mc_args *args)
{
    return mc_qgemv_supports_dequant(&args->u.gemv, MC_DTYPE_Q3_K);
}

static mc_status run_q3_K_scalar(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q3_K_scalar, NULL, err);
}

const mc_variant mc_variant_gemv_q3_K_scalar = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q3_K_scalar",
    .supports = supports_q3_K_scalar, .run = run_q3_K_scalar,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q3_K_scalar,
};

static const char *supports_q4_K_scalar(const mc_args *args)
{
    return mc_qgemv_supports_dequant(&args->u.gemv, MC_DTYPE_Q4_K);
}

static mc_status run_q4_K_scalar(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q4_K_scalar, NULL, err);
}

const mc_variant mc_variant_gemv_q4_K_scalar = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q4_K_scalar",
    .supports = supports_q4_K_scalar, .run = run_q4_K_scalar,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q4_K_scalar,
};

static const char *supports_q5_K_scalar(const mc_args *args)
{
    return mc_qgemv_supports_dequant(&args->u.gemv, MC_DTYPE_Q5_K);
}

static mc_status run_q5_K_scalar(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q5_K_scalar, NULL, err);
}

const mc_variant mc_variant_gemv_q5_K_scalar = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q5_K_scalar",
    .supports = supports_q5_K_scalar, .run = run_q5_K_scalar,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q5_K_scalar,
};

static const char *supports_q6_K_scalar(const mc_args *args)
{
    return mc_qgemv_supports_dequant(&args->u.gemv, MC_DTYPE_Q6_K);
}

static mc_status run_q6_K_scalar(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q6_K_scalar, NULL, err);
}

const mc_variant mc_variant_gemv_q6_K_scalar = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q6_K_scalar",
    .supports = supports_q6_K_scalar, .run = run_q6_K_scalar,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q6_K_scalar,
};

static const char *supports_q4_K_avx2(const mc_args *args)
{
    return mc_qgemv_supports_dequant(&args->u.gemv, MC_DTYPE_Q4_K);
}

static mc_status run_q4_K_avx2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q4_K_avx2, NULL, err);
}

const mc_variant mc_variant_gemv_q4_K_avx2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q4_K_avx2",
    .probe = probe_avx2, .requires = "avx2,fma,f16c",
    .supports = supports_q4_K_avx2, .run = run_q4_K_avx2,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q4_K_avx2,
};

static const char *supports_q6_K_avx2(const mc_args *args)
{
    return mc_qgemv_supports_dequant(&args->u.gemv, MC_DTYPE_Q6_K);
}

static mc_status run_q6_K_avx2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q6_K_avx2, NULL, err);
}

const mc_variant mc_variant_gemv_q6_K_avx2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q6_K_avx2",
    .probe = probe_avx2, .requires = "avx2,fma,f16c",
    .supports = supports_q6_K_avx2, .run = run_q6_K_avx2,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q6_K_avx2,
};

static const char *supports_q4_K_q8dot_scalar(const mc_args *args)
{
    return mc_qgemv_supports_q8dot(&args->u.gemv, MC_DTYPE_Q4_K, false);
}

static mc_status run_q4_K_q8dot_scalar(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q4_K_q8dot_scalar, mc_qgemv_quantise_x_q8_K_scalar, err);
}

const mc_variant mc_variant_gemv_q4_K_q8dot_scalar = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q4_K_q8dot_scalar",
    .supports = supports_q4_K_q8dot_scalar, .run = run_q4_K_q8dot_scalar,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q4_K_q8dot_scalar,
};

static const char *supports_q6_K_q8dot_scalar(const mc_args *args)
{
    return mc_qgemv_supports_q8dot(&args->u.gemv, MC_DTYPE_Q6_K, false);
}

static mc_status run_q6_K_q8dot_scalar(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q6_K_q8dot_scalar, mc_qgemv_quantise_x_q8_K_scalar, err);
}

const mc_variant mc_variant_gemv_q6_K_q8dot_scalar = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q6_K_q8dot_scalar",
    .supports = supports_q6_K_q8dot_scalar, .run = run_q6_K_q8dot_scalar,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q6_K_q8dot_scalar,
};

static const char *supports_q4_K_q8dot_avx2(const mc_args *args)
{
    return mc_qgemv_supports_q8dot(&args->u.gemv, MC_DTYPE_Q4_K, false);
}

static mc_status run_q4_K_q8dot_avx2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q4_K_q8dot_avx2, mc_qgemv_quantise_x_q8_K_scalar, err);
}

const mc_variant mc_variant_gemv_q4_K_q8dot_avx2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q4_K_q8dot_avx2",
    .probe = probe_avx2, .requires = "avx2,fma,f16c",
    .supports = supports_q4_K_q8dot_avx2, .run = run_q4_K_q8dot_avx2,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q4_K_q8dot_avx2,
};

static const char *supports_q6_K_q8dot_avx2(const mc_args *args)
{
    return mc_qgemv_supports_q8dot(&args->u.gemv, MC_DTYPE_Q6_K, false);
}

static mc_status run_q6_K_q8dot_avx2(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run(kc, &args->u.gemv, mc_qgemv_row_q6_K_q8dot_avx2, mc_qgemv_quantise_x_q8_K_scalar, err);
}

const mc_variant mc_variant_gemv_q6_K_q8dot_avx2 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q6_K_q8dot_avx2",
    .probe = probe_avx2, .requires = "avx2,fma,f16c",
    .supports = supports_q6_K_q8dot_avx2, .run = run_q6_K_q8dot_avx2,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_row_q6_K_q8dot_avx2,
};

/* The AVX-512 VNNI q8_K dots (qgemv_avx512_k.c): the AVX2 q8dot rows' cases and x quantiser,
 * MC_QGEMV_ROWS_MAX rows a pass. */
static const char *probe_avx512_vnni(mc_backend_ctx *ctx)
{
    (void)ctx;
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512vnni"))
        return "needs AVX-512 F, BW, VL and VNNI (vpdpbusd on 512-bit vectors)";
    return NULL;
}

static mc_status run_q4_K_q8dot_avx512(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run_rows(kc, &args->u.gemv, mc_qgemv_rows_q4_K_q8dot_avx512, mc_qgemv_quantise_x_q8_K_scalar,
                             err);
}

const mc_variant mc_variant_gemv_q4_K_q8dot_avx512 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q4_K_q8dot_avx512",
    .probe = probe_avx512_vnni, .requires = "avx512f,avx512bw,avx512vl,avx512_vnni",
    .supports = supports_q4_K_q8dot_avx2, .run = run_q4_K_q8dot_avx512,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_rows_q4_K_q8dot_avx512,
};

static mc_status run_q6_K_q8dot_avx512(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return mc_qgemv_run_rows(kc, &args->u.gemv, mc_qgemv_rows_q6_K_q8dot_avx512, mc_qgemv_quantise_x_q8_K_scalar,
                             err);
}

const mc_variant mc_variant_gemv_q6_K_q8dot_avx512 = {
    .op = MC_OP_GEMV, .backend = "cpu", .name = "gemv_q6_K_q8dot_avx512",
    .probe = probe_avx512_vnni, .requires = "avx512f,avx512bw,avx512vl,avx512_vnni",
    .supports = supports_q6_K_q8dot_avx2, .run = run_q6_K_q8dot_avx512,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED, .code = (const void *)mc_qgemv_rows_q6_K_q8dot_avx512,
};
