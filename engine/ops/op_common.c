/* engine/ops/op_common.c: parameter checks, tensor specs and the error-bound formulas.
 *
 * The error model, numbered (every bound below rests on these and on nothing else):
 *   1. Kernels compute in fp32 at least, round to nearest: fl(x op y) = (x op y)(1 + d) + e with
 *      |d| <= u = 2^-24 and |e| <= 2^-150 for a product that lands below the normal range
 *      (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., section 2.1).
 *   2. Inputs are exactly representable: the generator rounds them to the storage dtype, and
 *      products of two f16 or bf16 values are exact in fp32 unless they underflow. Scalars the
 *      kernel receives as float (alpha, beta, scale) are used as those floats by the reference.
 *   3. A sum of n terms, in any order or tree, each term carrying its own relative error
 *      |r_i| <= gamma_p, is within gamma_{p + n - 1} sum |terms| of the exact sum (Higham,
 *      Lemma 3.1 and eq. 3.4): every term passes through at most n - 1 additions.
 *   4. expf may be off by exp_ulps ulps of its result: a relative error of 2 exp_ulps u.
 *   5. Intermediates (scores, probabilities, running sums) are held in fp32 at least.
 *   6. The result is rounded once to the output dtype: |fl(v) - v| <= u_out |v| + tiny(dt).
 * SPDX-License-Identifier: MIT */
#include "op_common.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- parameters ---------------------------------------------------------------------------- */

const mc_value *mc_op_param(const mc_case *c, const char *name)
{
    int i = mc_case_param_index(c->op, name);
    return i < 0 ? NULL : &c->v[i];
}

static const char *param_name(const mc_case *c, int idx)
{
    return c->op->params[idx].name;
}

mc_status mc_op_check_int(const mc_case *c, int idx, int64_t lo, int64_t hi, mc_err *err)
{
    int64_t v = mc_case_int(c, idx);
    if (v < lo || v > hi)
        return mc_err_set(err, MC_ERR_CONFIG, "%s: parameter '%s' is %lld; allowed: %lld..%lld", c->op->name,
                          param_name(c, idx), (long long)v, (long long)lo, (long long)hi);
    return MC_OK;
}

mc_status mc_op_check_num(const mc_case *c, int idx, double lo, double hi, mc_err *err)
{
    double v = mc_case_num(c, idx);
    if (!isfinite(v) || v < lo || v > hi)
        return mc_err_set(err, MC_ERR_CONFIG, "%s: parameter '%s' is %g; allowed: a finite number in [%g, %g]",
                          c->op->name, param_name(c, idx), v, lo, hi);
    return MC_OK;
}

/* "a|b|c" of the names whose bit is set in allowed. */
static void allowed_list(unsigned allowed, int count, const char *(*name_of)(int), char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < count && len < n; i++)
        if (allowed & MC_BIT(i))
            len += (size_t)snprintf(out + len, n - len, "%s%s", len ? "|" : "", name_of(i));
}

static const char *dtype_name_of(int i)
{
    return mc_dtype_name((mc_dtype)i);
}

static const char *layout_name_of(int i)
{
    return mc_layout_name((mc_layout)i);
}

mc_status mc_op_check_dtype(const mc_case *c, int idx, unsigned allowed, mc_dtype *out, mc_err *err)
{
    const char *s = mc_case_str(c, idx);
    if (mc_dtype_parse(s, out) && (allowed & MC_BIT(*out)))
        return MC_OK;
    char list[128];
    allowed_list(allowed, MC_DTYPE_COUNT, dtype_name_of, list, sizeof list);
    return mc_err_set(err, MC_ERR_CONFIG, "%s: parameter '%s' is '%s'; allowed: %s", c->op->name,
                      param_name(c, idx), s, list);
}

mc_status mc_op_check_layout(const mc_case *c, int idx, unsigned allowed, mc_layout *out, mc_err *err)
{
    const char *s = mc_case_str(c, idx);
    if (mc_layout_parse(s, out) && (allowed & MC_BIT(*out)))
        return MC_OK;
    char list[160];
    allowed_list(allowed, MC_LAYOUT_COUNT, layout_name_of, list, sizeof list);
    return mc_err_set(err, MC_ERR_CONFIG, "%s: parameter '%s' is '%s'; allowed: %s", c->op->name,
                      param_name(c, idx), s, list);
}

/* Largest finite value of a plain dtype: inputs up to mag must not round to infinity. */
static double dtype_max(mc_dtype dt)
{
    return dt == MC_DTYPE_F16 ? 65504.0 : (double)FLT_MAX; /* bf16 reaches about FLT_MAX too */
}

mc_status mc_op_check_align_mag(const mc_case *c, int align_idx, int mag_idx, mc_dtype dt, mc_err *err)
{
    mc_status st = mc_op_check_int(c, align_idx, 0, 4095, err);
    if (st)
        return st;
    double mag = mc_case_num(c, mag_idx);
    if (!isfinite(mag) || mag <= 0 || mag > dtype_max(dt))
        return mc_err_set(err, MC_ERR_CONFIG, "%s: parameter '%s' is %g; allowed: > 0 and <= %g (largest %s)",
                          c->op->name, param_name(c, mag_idx), mag, dtype_max(dt), mc_dtype_name(dt));
    return MC_OK;
}

mc_status mc_op_spec(mc_tensor_spec *s, const char *name, mc_role role, mc_dtype dt,
                     const int64_t ne[MC_MAX_DIMS], mc_layout l, int64_t align, double mag, mc_err *err)
{
    memset(s, 0, sizeof *s);
    s->name = name;
    s->role = role;
    s->align_bytes = align;
    s->gen_lo = -mag;
    s->gen_hi = mag;
    return mc_tensor_init(&s->t, dt, ne, l, err);
}

double mc_op_elem_bytes(mc_dtype dt, double n)
{
    const mc_dtype_info *info = mc_dtype_info_of(dt);
    return n / info->block_elems * info->block_bytes;
}

/* ---- constants ----------------------------------------------------------------------------- */

/* gemm: alpha * sum_p a_p b_p + beta * c0 + bias is a sum of k + 2 terms. The k product terms
 * carry up to two roundings (a*b, then alpha*(.) or alpha*a first); beta*c0 carries one; every
 * term then passes through at most k + 1 additions. So each term's relative error is within
 * gamma_{2 + k + 1} = gamma_{k+3} (model point 3): extra_ops = 3. A kernel that sums a*b first
 * and scales the dot by alpha afterwards (the common way) uses the same count: k roundings for
 * the dot, one for alpha, two additions. FMA only removes roundings. */
const mc_bound_consts mc_gemm_bound_consts = {
    .u_acc = 0x1p-24,
    .underflow_abs = 0x1p-149,
    .extra_ops = 3,
};

/* gemv: sum_p a_p x_p needs gamma_k. Two more roundings pay for the block scales a quantised
 * kernel applies (d_a * d_x * integer dot: two multiplies per block, each term sees them once);
 * for plain dtypes they only add 2u of slack. */
const mc_bound_consts mc_gemv_bound_consts = {
    .u_acc = 0x1p-24,
    .underflow_abs = 0x1p-149,
    .extra_ops = 2,
};

/* softmax: extra_ops = 1 is the rounding of t_j = scale * x_j. The rest is explained at
 * weight_error below. segment_min_elems = 1: an online normaliser may rescale after every
 * element (Milakov & Gimelshein 2018; ggml's CPU flash attention does), so a row of n may be n
 * segments and every term may see n - 1 rescales. */
const mc_bound_consts mc_softmax_bound_consts = {
    .u_acc = 0x1p-24,
    .underflow_abs = 0x1p-149,
    .extra_ops = 1,
    .exp_ulps = 4,
    .rescale_ops = 2,
    .segment_min_elems = 1,
    .shift_ops = 2,
    .span_ops = 4,
    .norm_ops = 2,
};

/* sdpa: extra_ops = 1 is the scale applied to the q.k dot (or to q before it). The softmax part
 * uses the same constants as the softmax op. */
const mc_bound_consts mc_sdpa_bound_consts = {
    .u_acc = 0x1p-24,
    .underflow_abs = 0x1p-149,
    .extra_ops = 1,
    .exp_ulps = 4,
    .rescale_ops = 2,
    .segment_min_elems = 1,
    .shift_ops = 2,
    .span_ops = 4,
    .norm_ops = 2,
};

/* ---- general formulas ---------------------------------------------------------------------- */

double mc_gamma(double n, double u)
{
    double nu = n * u;
    if (nu <= 0)
        return 0;
    return nu < 1 ? nu / (1 - nu) : INFINITY;
}

double mc_bound_tiny(mc_dtype dt)
{
    switch (dt) {
    case MC_DTYPE_F32:
        return 0x1p-150; /* half of 2^-149 */
    case MC_DTYPE_BF16:
        return 0x1p-134; /* half of 2^-133 */
    default:
        return 0x1p-25; /* f16 (and the f16 scales of quants): half of 2^-24 */
    }
}

/* Model point 6: fl(v) = v (1 + d) + e with v = ref + err, |err| <= acc, so
 * |fl(v) - ref| <= |err| + u_out (|ref| + |err|) + tiny. */
double mc_bound_store(double acc, double ref, mc_dtype out)
{
    double u_out = mc_dtype_info_of(out)->unit_roundoff;
    return (1 + u_out) * acc + u_out * fabs(ref) + mc_bound_tiny(out);
}

/* Model points 1 and 3: the k products and bc->extra_ops further roundings of each term give
 * gamma_{k+c} sum |terms|; each product that underflows adds at most 2^-149 absolutely. */
double mc_bound_dot(const mc_bound_consts *bc, int64_t k, double mag, double ref, mc_dtype out)
{
    double n = (double)(k + bc->extra_ops);
    double acc = mc_gamma(n, bc->u_acc) * mag + n * bc->underflow_abs;
    return mc_bound_store(acc, ref, out);
}

int64_t mc_bound_segments(const mc_bound_consts *bc, int64_t n)
{
    int64_t seg = bc->segment_min_elems > 0 ? bc->segment_min_elems : 1;
    return (n + seg - 1) / seg;
}

double mc_bound_f16_accumulation_error(int64_t k, double mag)
{
    return 0x1p-11 * (double)k * mag * mag / sqrt(54.0);
}

/* ---- softmax weights ----------------------------------------------------------------------- */

/* The relative error of one unnormalised weight w_j = exp(t_j - m), as the kernel forms it,
 * bounded by expm1(x_j) with x_j = c0 + c1 T_j, where T_j >= |t_j| and the computed exponent
 * t^_j differs from t_j by at most g_score T_j + d_abs. Why, term by term:
 *   - score error: |t^_j - t_j| <= g_score T_j + d_abs (the caller's dot or scale model);
 *     the computed max m^ is one of the t^, so it is off by at most D = g_score T_max + d_abs.
 *   - shift: forming t_j - m, possibly after multiplying both by a constant such as log2(e),
 *     rounds values of size |t_j| and |m^|: gamma_{shift_ops} (T_j + |m| + D).
 *   - span: an online kernel reaches t_j - m through t^_j - m^_seg (its segment's max) and a
 *     chain of differences of running maxima. Those are >= 0 and telescope to m^ - m^_seg, so
 *     they sum to at most span' = span + 2 D, as |t^_j - m^_seg| is too: rounding each (and,
 *     in exp2 forms, its product with log2 e) costs at most gamma_{span_ops} span' in all.
 *   - log-sum-exp forms (split-KV combines): log of a sum of n weights, each <= 1, is at most
 *     ln n, computed with exp_ulps ulps and shifted: gamma_{shift_ops + 2 exp_ulps} ln n.
 *   - roundings that multiply the weight rather than shift its exponent: its own expf and, per
 *     rescale, one expf and rescale_ops multiplies/divides; with at most segments - 1 rescales,
 *     prod (1 + d_i) <= exp(-sum log1p(-|d_i|)), added to the exponent as U.
 * Then |w^_j / w_j - 1| <= expm1(x_j): exp(a) prod(1 + d_i) lies within
 * [exp(-x), exp(x)] and 1 - exp(-x) <= expm1(x). */
typedef struct weight_error {
    double c0, c1; /* x_j = c0 + c1 T_j */
    int64_t rescales;
} weight_error;

static weight_error weight_error_of(const mc_bound_consts *bc, int64_t n, double m_abs, double span,
                                    double t_max, double g_score, double d_abs)
{
    const double u = bc->u_acc;
    weight_error w;
    w.rescales = mc_bound_segments(bc, n) - 1;
    double d_max = g_score * t_max + d_abs;
    double span_eff = span + 2 * d_max;
    double mult = -(double)(1 + w.rescales) * log1p(-2.0 * bc->exp_ulps * u) -
                  (double)(w.rescales * bc->rescale_ops) * log1p(-u);
    w.c0 = d_abs + mc_gamma(bc->shift_ops, u) * (m_abs + d_max) + mc_gamma(bc->span_ops, u) * span_eff +
           mc_gamma(bc->shift_ops + 2 * bc->exp_ulps, u) * log((double)n) + mult;
    w.c1 = g_score + mc_gamma(bc->shift_ops, u);
    return w;
}

/* expm1 is convex with expm1(0) = 0, so on [0, X] it lies under its chord: expm1(x) <= kappa x
 * with kappa = expm1(X) / X. This turns weighted sums of expm1(x_j) into sums of x_j, which the
 * reference's magnitudes give. */
static double chord_slope(double x_max)
{
    return x_max > 0 ? expm1(x_max) / x_max : 1.0;
}

/* Absolute error of weights that underflow (where model point 4's relative bound fails): each
 * expf or rescale is off by at most its ulps of the smallest subnormal. Divided by the computed
 * sum, which holds the max's weight exp(0) ~ 1 and so exceeds 1/2, and counted for the element's
 * own weight and every weight of the sum. */
static double underflow_floor(const mc_bound_consts *bc, int64_t n, int64_t rescales)
{
    return 2.0 * (double)(n + 1) * (double)(rescales + 1) * (bc->exp_ulps + bc->rescale_ops) *
           bc->underflow_abs;
}

/* Where the analysis stops being valid (a first-order term near 1), the bound is +inf and the
 * op reports the case as too ill-conditioned rather than pass anything. */
#define MC_BOUND_MAX_REL 0.5

/* Softmax, y_j = w_j / W with W = sum_l w_l:
 *   w^_j = w_j (1 + e_j), |e_j| <= expm1(x_j) (weight_error_of, with g_score = gamma_1 and
 *          d_abs = 2^-149: the rounding of scale * x_j; T_j = |t_j|);
 *   W^   = sum_l w_l (1 + e_l)(1 + s_l), |s_l| <= gamma_{n-1} (model point 3), so
 *          |W^ / W - 1| <= E_W = (1 + gamma_{n-1}) sum_l y_l |e_l| + gamma_{n-1}, and
 *          sum_l y_l |e_l| <= kappa (c0 + c1 sum_l y_l T_l) (chord_slope);
 *   y^_j = w^_j / W^ (1 + d), |d| <= gamma_{norm_ops} (a divide, or a reciprocal and a multiply).
 * Hence |y^_j - y_j| <= y_j [(1 + e_j)(1 + gamma_norm) / (1 - E_W) - 1], plus the underflow
 * floor, then output rounding. The bound grows with the row's condition: |t_j| and |max| (the
 * cancellation in t_j - max), sum y_j |t_j|, and n (the sum and, per segment, the rescales). */
double mc_bound_softmax(const mc_bound_consts *bc, const mc_ref_softmax_row *row, double y,
                        double t_abs, mc_dtype out)
{
    const double u = bc->u_acc;
    const double g_score = mc_gamma(bc->extra_ops, u);
    weight_error w = weight_error_of(bc, row->n, fabs(row->max), row->span, row->t_max, g_score,
                                     bc->underflow_abs);
    double x_max = w.c0 + w.c1 * row->t_max;
    if (!(x_max < MC_BOUND_MAX_REL))
        return INFINITY;
    double e_j = expm1(w.c0 + w.c1 * t_abs);
    double sigma = mc_gamma((double)(row->n - 1), u);
    double e_w = (1 + sigma) * chord_slope(x_max) * (w.c0 + w.c1 * row->yt_sum) + sigma;
    if (!(e_w < MC_BOUND_MAX_REL))
        return INFINITY;
    double g_norm = mc_gamma(bc->norm_ops, u);
    double acc = y * ((1 + e_j) * (1 + g_norm) / (1 - e_w) - 1) + underflow_floor(bc, row->n, w.rescales);
    return mc_bound_store(acc, y, out);
}

/* SDPA, o = N / W with N = sum_j w_j v_j, composed from the steps:
 *   scores: s^_j = fl(scale * q.k_j), |s^_j - s_j| <= gamma_{d + extra_ops} S_j + (d + 1) 2^-149
 *           with S_j = |scale| sum_c |q_c k_jc| >= |s_j| (model points 1, 3);
 *   weights: w^_j = w_j (1 + e_j), |e_j| <= expm1(x_j), x_j = c0 + c1 S_j (weight_error_of). The
 *           score error enters as a factor exp(ds_j) on w_j: after normalisation this is the
 *           first-order |dp_j| <= p_j (|ds_j| + sum_l p_l |ds_l|), sharper than max_l |ds_l|;
 *   P.V:     N^ = sum_j w^_j v_j (1 + h_j), |h_j| <= gamma_n (a product and n - 1 additions;
 *           rescales of the accumulator are inside e_j);
 *   sum:     W^ = sum_j w^_j (1 + s_j), |s_j| <= gamma_{n-1}; E_W as for softmax, with
 *           sum_j p_j |e_j| <= kappa (c0 + c1 sum_j p_j S_j).
 * Exactly, o^ - o = [(N^ - N) - o (W^ - W)] / W^, so with |o| <= PV = sum_j p_j |v_j|:
 *   |o^ - o| <= [(1 + gamma_n) kappa (c0 PV + c1 sum_j p_j |v_j| S_j) + gamma_n PV + PV E_W] / (1 - E_W).
 * Writing PV rather than |o| in the second term keeps kernels that normalise partial outputs
 * (split-KV, or FlashAttention-1's per-block renormalisation) inside the bound: their partial
 * outputs are weighted averages of |v|, not of v. The final normalisation (or, in a three-stage
 * kernel, the normalisation of P before P.V) adds gamma_{norm_ops} (PV + acc); then the underflow
 * floor (times max |v|) and output rounding. */
double mc_bound_sdpa(const mc_bound_consts *bc, int64_t head_dim, const mc_ref_sdpa_row *row,
                     double o, double pv, double pvs, double v_max, mc_dtype out)
{
    const double u = bc->u_acc;
    const double dot_ops = (double)(head_dim + bc->extra_ops);
    const double g_score = mc_gamma(dot_ops, u);
    weight_error w = weight_error_of(bc, row->n, row->m_abs, row->span, row->s_mag_max, g_score,
                                     dot_ops * bc->underflow_abs);
    double x_max = w.c0 + w.c1 * row->s_mag_max;
    if (!(x_max < MC_BOUND_MAX_REL))
        return INFINITY;
    double kappa = chord_slope(x_max);
    double theta = mc_gamma((double)row->n, u);
    double sigma = mc_gamma((double)(row->n - 1), u);
    double e_w = (1 + sigma) * kappa * (w.c0 + w.c1 * row->ps) + sigma;
    if (!(e_w < MC_BOUND_MAX_REL))
        return INFINITY;
    double num = (1 + theta) * kappa * (w.c0 * pv + w.c1 * pvs) + theta * pv;
    double acc = (num + pv * e_w) / (1 - e_w);
    acc += mc_gamma(bc->norm_ops, u) * (pv + acc);
    acc += underflow_floor(bc, row->n, w.rescales) * (v_max + 1);
    return mc_bound_store(acc, o, out);
}
