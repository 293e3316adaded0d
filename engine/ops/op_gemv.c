/* engine/ops/op_gemv.c: the gemv op: y = A x, the shape of LLM decode (one token, many weights).
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ops/op_common.h"
#include "engine/runparams.h"
#include "reference/ref_gemv.h"
#include "engine/generate_quant.h"
#include "reference/ref_quant.h"
#include "core/quant_format.h"

enum {
    P_DTYPE, P_WTYPE, P_M, P_K, P_LAYOUT_A, P_LAYOUT_X, P_ALIGN, P_MAG, P_XQ, P_WGEN, P_XGEN, P_THREADS, P_KERNEL,
    P_COUNT
};

static const mc_param_def gemv_params[P_COUNT] = {
    [P_DTYPE] = {"dtype", MC_PARAM_STR, "f32", "element type of x and y (and of A when wtype is same)"},
    [P_WTYPE] = {"wtype", MC_PARAM_STR, "same",
                 "element type of A: same (as dtype) or a GGUF format: q8_0|q4_0|q4_1|q5_0|q5_1|q2_K|q3_K|q4_K|"
                 "q5_K|q6_K|q8_K (docs/quant.md)"},
    [P_M] = {"m", MC_PARAM_INT, "1", "rows of A, length of y"},
    [P_K] = {"k", MC_PARAM_INT, "1", "columns of A, length of x"},
    [P_LAYOUT_A] = {"layout_a", MC_PARAM_STR, "contiguous", "contiguous|transposed|padded|stride2|sliced"},
    [P_LAYOUT_X] = {"layout_x", MC_PARAM_STR, "contiguous", "contiguous|stride2"},
    [P_ALIGN] = {"align", MC_PARAM_INT, "0", "byte offset of every tensor's data past an aligned base"},
    [P_MAG] = {"mag", MC_PARAM_NUM, "1", "inputs uniform in [-mag, mag]"},
    [P_XQ] = {"xq", MC_PARAM_STR, "none",
              "none|q8_0|q8_K|q8_0_ref: q8_0 (32-element formats, plain A) or q8_K (K-quants, plain A): a "
              "variant may quantise x to those blocks (ggml's quantised dots), the bound allows either tie "
              "rule; q8_0_ref: it must, byte-exactly by docs/quant.md's rule, and the reference uses those "
              "activations (32-element quantised wtype only)"},
    [P_WGEN] = {"wgen", MC_PARAM_STR, "random",
                "quantised A: random|zero|twin_max|ties|tiny|large|nan (docs/quant.md test vectors)"},
    [P_XGEN] = {"xgen", MC_PARAM_STR, "random",
                "x: random (uniform in [-mag, mag]) | ties (needs xq: every 32-block has amax 127, so q8_0's "
                "and q8_K's scale is 1, and all other entries on n + 1/2, exact ties)"},
    [P_THREADS] = MC_RUNPARAM_THREADS_ROW,
    [P_KERNEL] = MC_RUNPARAM_KERNEL_ROW,
};

enum { T_A, T_X, T_Y, T_COUNT };

static const unsigned gemv_dtypes = MC_BIT(MC_DTYPE_F32) | MC_BIT(MC_DTYPE_F16) | MC_BIT(MC_DTYPE_BF16);
static const unsigned a_layouts = MC_BIT(MC_LAYOUT_CONTIGUOUS) | MC_BIT(MC_LAYOUT_TRANSPOSED) |
                                  MC_BIT(MC_LAYOUT_PADDED) | MC_BIT(MC_LAYOUT_STRIDE2) |
                                  MC_BIT(MC_LAYOUT_SLICED);
static const unsigned x_layouts = MC_BIT(MC_LAYOUT_CONTIGUOUS) | MC_BIT(MC_LAYOUT_STRIDE2);

#define GEMV_MAX_DIM (INT64_C(1) << 24)
#define GEMV_MAX_K (INT64_C(1) << 22) /* keeps (k + 2) u_acc below 1/4 */

static mc_dtype dtype_of(const mc_case *c)
{
    mc_dtype dt = MC_DTYPE_F32;
    mc_dtype_parse(mc_case_str(c, P_DTYPE), &dt);
    return dt;
}

/* A's dtype for the case's wtype: "same" (dtype) or any quantised dtype of the format table. */
static mc_status weight_dtype(const mc_case *c, mc_dtype *out, mc_err *err)
{
    const char *w = mc_case_str(c, P_WTYPE);
    if (strcmp(w, "same") == 0) {
        *out = dtype_of(c);
        return MC_OK;
    }
    if (mc_dtype_parse(w, out) && mc_quant_format_of(*out))
        return MC_OK;
    char list[160] = "same";
    size_t len = strlen(list);
    for (int i = 0; i < MC_DTYPE_COUNT; i++)
        if (mc_quant_format_of((mc_dtype)i))
            len += (size_t)snprintf(list + len, sizeof list - len, "|%s", mc_dtype_name((mc_dtype)i));
    return mc_err_set(err, MC_ERR_CONFIG, "gemv: parameter 'wtype' is '%s'; allowed: %s", w, list);
}

/* x must be quantised by the reference rule (xq=q8_0_ref). */
static bool xq_exact_of(const mc_case *c)
{
    return strcmp(mc_case_str(c, P_XQ), "q8_0_ref") == 0;
}

/* x as the variant may use it: MC_DTYPE_F32 (as it is), MC_DTYPE_Q8_0 (xq=q8_0 or q8_0_ref) or
 * MC_DTYPE_Q8_K (xq=q8_K). */
static mc_dtype xq_of(const mc_case *c)
{
    const char *xq = mc_case_str(c, P_XQ);
    if (strcmp(xq, "q8_K") == 0)
        return MC_DTYPE_Q8_K;
    return strcmp(xq, "q8_0") == 0 || xq_exact_of(c) ? MC_DTYPE_Q8_0 : MC_DTYPE_F32;
}

static bool xgen_ties_of(const mc_case *c)
{
    return strcmp(mc_case_str(c, P_XGEN), "ties") == 0;
}

static mc_quant_pattern wgen_of(const mc_case *c)
{
    mc_quant_pattern p = MC_QPATTERN_RANDOM;
    mc_quant_pattern_parse(mc_case_str(c, P_WGEN), &p);
    return p;
}

/* Quantised weights and activations: whole blocks, row-contiguous blocks, and the activation
 * format the weight format's dot takes (its format row's act). */
static mc_status check_quant(const mc_case *c, mc_dtype wdt, mc_err *err)
{
    const char *xq = mc_case_str(c, P_XQ), *wgen = mc_case_str(c, P_WGEN);
    const mc_quant_format *qf = mc_quant_format_of(wdt);
    const bool quant_a = qf != NULL;
    const int64_t k = mc_case_int(c, P_K);
    mc_quant_pattern pattern;
    mc_layout l = MC_LAYOUT_CONTIGUOUS;
    const char *xgen = mc_case_str(c, P_XGEN);
    if (strcmp(xq, "none") != 0 && strcmp(xq, "q8_0") != 0 && strcmp(xq, "q8_K") != 0 &&
        strcmp(xq, "q8_0_ref") != 0)
        return mc_err_set(err, MC_ERR_CONFIG, "gemv: parameter 'xq' is '%s'; allowed: none|q8_0|q8_K|q8_0_ref", xq);
    /* Plain-A variants never quantise x, and the exact reference would hold their x against
     * quantised activations: only the quantised-matmul variants may be asked for it. */
    if (xq_exact_of(c) && (!quant_a || qf->act != MC_DTYPE_Q8_0))
        return mc_err_set(err, MC_ERR_CONFIG,
                          "gemv: parameter 'xq' is 'q8_0_ref'; it needs a wtype whose dot takes q8_0 (q8_0, q4_0, "
                          "q4_1, q5_0, q5_1)");
    if (quant_a && xq_of(c) != MC_DTYPE_F32 && xq_of(c) != qf->act)
        return mc_err_set(err, MC_ERR_CONFIG, "gemv: parameter 'xq' is '%s'; wtype %s dots take %s activations", xq,
                          mc_dtype_name(wdt), mc_dtype_name(qf->act));
    if (strcmp(xgen, "random") != 0 && strcmp(xgen, "ties") != 0)
        return mc_err_set(err, MC_ERR_CONFIG, "gemv: parameter 'xgen' is '%s'; allowed: random|ties", xgen);
    if (xgen_ties_of(c) && xq_of(c) == MC_DTYPE_F32)
        return mc_err_set(err, MC_ERR_CONFIG, "gemv: parameter 'xgen' is 'ties'; it needs xq q8_0, q8_K or q8_0_ref");
    if (!mc_quant_pattern_parse(wgen, &pattern))
        return mc_err_set(err, MC_ERR_CONFIG,
                          "gemv: parameter 'wgen' is '%s'; allowed: random|zero|twin_max|ties|tiny|large|nan", wgen);
    if (pattern != MC_QPATTERN_RANDOM && !quant_a)
        return mc_err_set(err, MC_ERR_CONFIG, "gemv: parameter 'wgen' is '%s'; it needs a quantised wtype", wgen);
    const int qk_a = mc_dtype_info_of(wdt)->block_elems, qk_x = mc_dtype_info_of(xq_of(c))->block_elems;
    const int qk = qk_a > qk_x ? qk_a : qk_x;
    if (k % qk != 0)
        return mc_err_set(err, MC_ERR_CONFIG, "gemv: parameter 'k' is %lld; %s needs a multiple of %d", (long long)k,
                          qk_a >= qk_x ? mc_dtype_name(wdt) : "xq", qk);
    mc_layout_parse(mc_case_str(c, P_LAYOUT_A), &l);
    if (quant_a && l != MC_LAYOUT_CONTIGUOUS && l != MC_LAYOUT_PADDED && l != MC_LAYOUT_SLICED)
        return mc_err_set(err, MC_ERR_CONFIG, "gemv: parameter 'layout_a' is '%s'; %s blocks are row-contiguous: "
                          "contiguous|padded|sliced", mc_layout_name(l), mc_dtype_name(wdt));
    return MC_OK;
}

static mc_layout layout_of(const mc_case *c, int idx)
{
    mc_layout l = MC_LAYOUT_CONTIGUOUS;
    mc_layout_parse(mc_case_str(c, idx), &l);
    return l;
}

static mc_status gemv_validate(const mc_case *c, mc_err *err)
{
    mc_dtype dt, wdt;
    mc_layout l;
    mc_status st = mc_op_check_dtype(c, P_DTYPE, gemv_dtypes, &dt, err);
    if (!st)
        st = weight_dtype(c, &wdt, err);
    if (!st)
        st = mc_op_check_int(c, P_M, 1, GEMV_MAX_DIM, err);
    if (!st)
        st = mc_op_check_int(c, P_K, 1, GEMV_MAX_K, err);
    if (!st)
        st = mc_op_check_layout(c, P_LAYOUT_A, a_layouts, &l, err);
    if (!st)
        st = mc_op_check_layout(c, P_LAYOUT_X, x_layouts, &l, err);
    if (!st)
        st = mc_op_check_align_mag(c, P_ALIGN, P_MAG, dt, err);
    if (!st)
        st = check_quant(c, wdt, err);
    if (!st)
        st = mc_runparams_check(c, err);
    return st;
}

static mc_status gemv_tensors(const mc_case *c, mc_tensor_spec specs[MC_MAX_TENSORS], int *n, int *out_index,
                              mc_err *err)
{
    const mc_dtype dt = dtype_of(c);
    mc_dtype wdt;
    const int64_t m = mc_case_int(c, P_M), k = mc_case_int(c, P_K), align = mc_case_int(c, P_ALIGN);
    const double mag = mc_case_num(c, P_MAG);
    const int64_t ne_a[MC_MAX_DIMS] = {k, m, 1, 1}, ne_x[MC_MAX_DIMS] = {k, 1, 1, 1};
    const int64_t ne_y[MC_MAX_DIMS] = {m, 1, 1, 1};
    *n = T_COUNT;
    *out_index = T_Y;
    mc_status st = weight_dtype(c, &wdt, err);
    if (!st)
        st = mc_op_spec(&specs[T_A], "a", MC_ROLE_IN, wdt, ne_a, layout_of(c, P_LAYOUT_A), align, mag, err);
    if (!st)
        specs[T_A].quant_pattern = (int)wgen_of(c);
    if (!st)
        st = mc_op_spec(&specs[T_X], "x", MC_ROLE_IN, dt, ne_x, layout_of(c, P_LAYOUT_X), align, mag, err);
    if (!st && xgen_ties_of(c)) { /* amax 127: the ties pattern's power-of-two scale is then 1 */
        specs[T_X].value_pattern = (int)MC_QPATTERN_TIES;
        specs[T_X].gen_lo = -127.0;
        specs[T_X].gen_hi = 127.0;
    }
    if (!st)
        st = mc_op_spec(&specs[T_Y], "y", MC_ROLE_OUT, dt, ne_y, MC_LAYOUT_CONTIGUOUS, align, mag, err);
    return st;
}

static void gemv_args(const mc_case *c, const mc_tensor placed[MC_MAX_TENSORS], mc_args *out)
{
    (void)c;
    out->op = MC_OP_GEMV;
    out->u.gemv.a = placed[T_A];
    out->u.gemv.x = placed[T_X];
    out->u.gemv.y = placed[T_Y];
    out->u.gemv.xq = xq_of(c);
    out->u.gemv.xq_exact = xq_exact_of(c);
}

/* xq=q8_0 or q8_K: a variant computes sum_p a_p x~_p, x~ the quantised x. Per block b of x,
 * |x_p - x~_p| <= e_b (mc_ref_q8_0_act_error, mc_ref_q8_K_act_error), so with
 * E = sum_b e_b sum_{p in b} |a_p| (|a_p| as mc_tensor_get_mag gives it):
 *   |y - sum a x| <= |y - sum a x~| + E <= gamma (mag + E) + E,
 * since sum |a x~| <= mag + E. Both parts are then rounded to y's dtype (the E part's store term
 * adds its own tiny(dt): harmless slack). */
static mc_status add_act_quant_bound(const mc_tensor_spec specs[MC_MAX_TENSORS],
                                     const uint8_t *const hosts[MC_MAX_TENSORS], mc_dtype act, const double *mag,
                                     mc_ref_out *out, mc_err *err)
{
    const mc_tensor *a = &specs[T_A].t, *x = &specs[T_X].t;
    const int64_t m = a->ne[1], k = a->ne[0];
    const mc_dtype ydt = specs[T_Y].t.dtype;
    const int qk = mc_dtype_info_of(act)->block_elems;
    double (*block_error)(const float *) = act == MC_DTYPE_Q8_K ? mc_ref_q8_K_act_error : mc_ref_q8_0_act_error;
    float *xb = malloc((size_t)k * sizeof *xb);
    double *e = malloc((size_t)(k / qk) * sizeof *e);
    if (!xb || !e) {
        free(xb);
        free(e);
        return mc_err_set(err, MC_ERR_NOMEM, "gemv reference: no memory for %lld activations", (long long)k);
    }
    for (int64_t p = 0; p < k; p++) {
        const int64_t ix[MC_MAX_DIMS] = {p, 0, 0, 0};
        xb[p] = (float)mc_tensor_get(x, hosts[T_X], ix); /* x is f32, f16 or bf16: exact */
    }
    for (int64_t b = 0; b < k / qk; b++)
        e[b] = block_error(xb + b * qk);
    for (int64_t i = 0; i < m; i++) {
        double big_e = 0;
        for (int64_t p = 0; p < k; p++) {
            const int64_t ia[MC_MAX_DIMS] = {p, i, 0, 0};
            big_e += mc_tensor_get_mag(a, hosts[T_A], ia) * e[p / qk];
        }
        out->bound[i] = mc_bound_dot(&mc_gemv_bound_consts, k, mag[i] + big_e, out->expected[i], ydt) +
                        mc_bound_store(big_e, 0.0, ydt);
    }
    free(xb);
    free(e);
    return MC_OK;
}

/* x as the reference quantiser (docs/quant.md: roundf, ties away from zero) makes it, block
 * by block, dequantised: q d16 is exact in f32 and in double (8-bit code, 11-bit scale). */
static mc_status quantised_x(const mc_tensor *x, const uint8_t *host, double *xd, mc_err *err)
{
    const int64_t k = x->ne[0];
    float *xf = malloc((size_t)k * sizeof *xf);
    uint8_t *blocks = malloc((size_t)(k / MC_QK) * MC_Q8_0_BLOCK_BYTES);
    if (!xf || !blocks) {
        free(xf);
        free(blocks);
        return mc_err_set(err, MC_ERR_NOMEM, "gemv reference: no memory for %lld activations", (long long)k);
    }
    for (int64_t p = 0; p < k; p++) {
        const int64_t ix[MC_MAX_DIMS] = {p, 0, 0, 0};
        xf[p] = (float)mc_tensor_get(x, host, ix); /* x is f32, f16 or bf16: exact */
    }
    mc_ref_quantize_row_q8_0(xf, blocks, k);
    for (int64_t p = 0; p < k; p++)
        xd[p] = mc_quant_elem(MC_DTYPE_Q8_0, blocks + (p / MC_QK) * MC_Q8_0_BLOCK_BYTES, (int)(p % MC_QK), NULL);
    free(xf);
    free(blocks);
    return MC_OK;
}

/* xq=q8_0_ref: expected = sum_p a_p x~_p in fp64, x~ the reference's q8_0 activations. A
 * variant that quantises x the same way gets x~ bit for bit, so only its arithmetic errs. For
 * ggml's q8_0 x q8_0 dot (and the q4_0 one): per block the integer dot s_b is exact (|s_b| <=
 * 32 * 127 * 127 < 2^24, so (float)s_b is exact too), the scale product d_a d_x is one rounding,
 * its product with s_b a second, and the running sum over the k/32 blocks at most one per block:
 * every term sees at most k/32 + 2 <= k + 2 roundings of u = 2^-24, so
 *   |y - expected| <= gamma_{k+2} sum_p |a_p x~_p| (+ underflow slack),
 * which is mc_bound_dot with mc_gemv_bound_consts (extra_ops = 2) on the magnitude of x~, then
 * the store to y's dtype. No activation-quantisation term is left, so variants that compute with
 * x itself (the dequantising ones) or quantise it by another rule (ggml's x86 ties-to-even) must
 * decline xq_exact: their honest error is the activation term this bound leaves out. */
static mc_status exact_reference(const mc_tensor_spec specs[MC_MAX_TENSORS],
                                 const uint8_t *const hosts[MC_MAX_TENSORS], mc_ref_out *out, mc_err *err)
{
    const mc_tensor *a = &specs[T_A].t;
    const int64_t m = a->ne[1], k = a->ne[0];
    double *xd = malloc((size_t)k * sizeof *xd);
    if (!xd)
        return mc_err_set(err, MC_ERR_NOMEM, "gemv reference: no memory for %lld activations", (long long)k);
    mc_status st = quantised_x(&specs[T_X].t, hosts[T_X], xd, err);
    for (int64_t i = 0; !st && i < m; i++) {
        double sum = 0, mag = 0;
        for (int64_t p = 0; p < k; p++) {
            const int64_t ia[MC_MAX_DIMS] = {p, i, 0, 0};
            sum += mc_tensor_get(a, hosts[T_A], ia) * xd[p];
            mag += mc_tensor_get_mag(a, hosts[T_A], ia) * fabs(xd[p]);
        }
        out->expected[i] = sum;
        out->bound[i] = mc_bound_dot(&mc_gemv_bound_consts, k, mag, sum, specs[T_Y].t.dtype);
    }
    free(xd);
    return st;
}

static mc_status gemv_reference(const mc_case *c, const mc_tensor_spec specs[MC_MAX_TENSORS],
                                const uint8_t *const hosts[MC_MAX_TENSORS], mc_ref_out *out, mc_err *err)
{
    const int64_t m = mc_case_int(c, P_M), k = mc_case_int(c, P_K);
    if (xq_exact_of(c))
        return exact_reference(specs, hosts, out, err);
    double *mag = malloc((size_t)m * sizeof *mag);
    if (!mag)
        return mc_err_set(err, MC_ERR_NOMEM, "gemv reference: no memory for %lld magnitudes", (long long)m);
    mc_ref_gemv(&specs[T_A].t, hosts[T_A], &specs[T_X].t, hosts[T_X], out->expected, mag);
    for (int64_t i = 0; i < m; i++)
        out->bound[i] = mc_bound_dot(&mc_gemv_bound_consts, k, mag[i], out->expected[i], specs[T_Y].t.dtype);
    mc_status st = xq_of(c) != MC_DTYPE_F32 ? add_act_quant_bound(specs, hosts, xq_of(c), mag, out, err) : MC_OK;
    free(mag);
    return st;
}

static double gemv_flops(const mc_case *c)
{
    return 2.0 * (double)mc_case_int(c, P_M) * (double)mc_case_int(c, P_K);
}

static double gemv_bytes(const mc_case *c)
{
    const double m = (double)mc_case_int(c, P_M), k = (double)mc_case_int(c, P_K);
    const mc_dtype dt = dtype_of(c);
    mc_dtype wdt = dt;
    if (weight_dtype(c, &wdt, NULL) != MC_OK)
        wdt = dt;
    return mc_op_elem_bytes(wdt, m * k) + mc_op_elem_bytes(dt, k + m);
}

const mc_op mc_op_gemv = {
    .id = MC_OP_GEMV,
    .name = "gemv",
    .doc = "y = A x, A m x k (plain, or GGUF blocks: wtype), x and y vectors",
    .params = gemv_params,
    .n_params = P_COUNT,
    .validate = gemv_validate,
    .tensors = gemv_tensors,
    .args = gemv_args,
    .reference = gemv_reference,
    .flops = gemv_flops,
    .bytes = gemv_bytes,
    .mistrust_zero_share = 0.3,
    .perf_peer = "gemv_openblas_sgemv",
    .roof = MC_ROOF_READ_BW,
    .sweep_axes = {
        {"m", {0}, false, "m (rows)"},
        {"k", {0}, false, "k (columns)"},
    },
};
