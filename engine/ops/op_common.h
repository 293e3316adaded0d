/* engine/ops/op_common.h: helpers the four op files share: parameter checks, tensor specs,
 * and the error-bound formulas with their constants (one table per op).
 * SPDX-License-Identifier: MIT */
#ifndef MC_OP_COMMON_H
#define MC_OP_COMMON_H

#include <stdint.h>

#include "core/op.h"
#include "reference/ref_sdpa.h"
#include "reference/ref_softmax.h"

/* ---- parameters ---------------------------------------------------------------------------- */

/* Looks a parameter up by name (for callers that do not know the schema order); NULL when the
 * op has no such parameter. */
const mc_value *mc_op_param(const mc_case *c, const char *name);

/* Checks that integer parameter idx lies in [lo, hi]; MC_ERR_CONFIG naming it otherwise. */
mc_status mc_op_check_int(const mc_case *c, int idx, int64_t lo, int64_t hi, mc_err *err);
/* Checks that number parameter idx is finite and lies in [lo, hi]. */
mc_status mc_op_check_num(const mc_case *c, int idx, double lo, double hi, mc_err *err);
/* Parses string parameter idx as a dtype among `allowed` (bit 1u << dtype). */
mc_status mc_op_check_dtype(const mc_case *c, int idx, unsigned allowed, mc_dtype *out, mc_err *err);
/* Parses string parameter idx as a layout among `allowed` (bit 1u << layout). */
mc_status mc_op_check_layout(const mc_case *c, int idx, unsigned allowed, mc_layout *out, mc_err *err);
/* The checks every op shares: align in 0..4095, mag finite, > 0 and representable in dt. */
mc_status mc_op_check_align_mag(const mc_case *c, int align_idx, int mag_idx, mc_dtype dt, mc_err *err);

#define MC_BIT(x) (1u << (unsigned)(x))

/* Fills one tensor spec: strides from mc_tensor_init, data start `align` bytes past an aligned
 * base, inputs uniform in [-mag, mag]. */
mc_status mc_op_spec(mc_tensor_spec *s, const char *name, mc_role role, mc_dtype dt,
                     const int64_t ne[MC_MAX_DIMS], mc_layout l, int64_t align, double mag, mc_err *err);

/* Bytes that n logical elements of dt occupy (quantised: whole blocks). */
double mc_op_elem_bytes(mc_dtype dt, double n);

/* ---- error bounds -------------------------------------------------------------------------- */

/* Constants of the error model. Every kernel accumulates in fp32 at least, with round to
 * nearest; inputs are exactly representable (the generator rounds them to the dtype), so no
 * input-rounding term appears anywhere. Fields an op does not use are 0. */
typedef struct mc_bound_consts {
    double u_acc;          /* unit roundoff of the accumulator: 2^-24 (fp32) */
    double underflow_abs;  /* absolute error one fp32 product may make below the normal range
                              (half the smallest subnormal is 2^-150; we take 2^-149) */
    int extra_ops;         /* roundings beyond the k of a length-k dot product (see each op) */
    int exp_ulps;          /* worst error of the kernel's expf, in ulps of its result */
    int rescale_ops;       /* roundings of one online rescale besides its exp: the multiply of
                              the running sum/accumulator and a renormalising divide */
    int segment_min_elems; /* fewest elements an online/blocked kernel puts in one segment */
    int shift_ops;         /* roundings on |t_j| + |max| when forming an exponent t_j - max */
    int span_ops;          /* roundings on the row's span along a chain of max shifts */
    int norm_ops;          /* roundings of the final normalisation (divide, or reciprocal x mul) */
} mc_bound_consts;

extern const mc_bound_consts mc_gemm_bound_consts;
extern const mc_bound_consts mc_gemv_bound_consts;
extern const mc_bound_consts mc_softmax_bound_consts;
extern const mc_bound_consts mc_sdpa_bound_consts;

/* gamma_n(u) = n u / (1 - n u) (Higham, Accuracy and Stability, Lemma 3.1); +inf once n u >= 1. */
double mc_gamma(double n, double u);
/* Half the smallest subnormal spacing of dt: the absolute error of rounding to dt near zero. */
double mc_bound_tiny(mc_dtype dt);
/* Output rounding: a value within acc of ref, rounded to dt, is within the returned bound of ref:
 * (1 + u_out) acc + u_out |ref| + tiny(dt). */
double mc_bound_store(double acc, double ref, mc_dtype out);

/* A dot product of length k (plus bc->extra_ops roundings) whose terms have absolute sum mag,
 * stored as dt: gamma_{k+c}(u_acc) mag + (k + c) underflow, then output rounding. */
double mc_bound_dot(const mc_bound_consts *bc, int64_t k, double mag, double ref, mc_dtype out);

/* Online segments a row of n visible elements may be cut into, at most: ceil(n / segment_min). */
int64_t mc_bound_segments(const mc_bound_consts *bc, int64_t n);

/* One softmax output y_j (not masked) with t_abs = |scale x_j|, in a row described by row. */
double mc_bound_softmax(const mc_bound_consts *bc, const mc_ref_softmax_row *row, double y,
                        double t_abs, mc_dtype out);

/* One sdpa output element o with pv = sum_j p_j |v_j|, pvs = sum_j p_j |v_j| S_j (S_j = |scale|
 * sum_c |q_c k_jc|), in the query row `row`; head_dim is the dot length, v_max bounds |v|. */
double mc_bound_sdpa(const mc_bound_consts *bc, int64_t head_dim, const mc_ref_sdpa_row *row,
                     double o, double pv, double pvs, double v_max, mc_dtype out);

/* Typical error of accumulating a length-k dot product of values uniform in [-mag, mag] in f16
 * instead of f32 (the bug the bounds must catch): each of the k partial sums s_i is rounded with
 * an error uniform within half an f16 ulp, standard deviation u16 |s_i| / sqrt(3); the s_i have
 * variance i mag^4 / 9, so the total has standard deviation u16 mag^2 sqrt(sum i / 27), about
 * u16 k mag^2 / sqrt(54). */
double mc_bound_f16_accumulation_error(int64_t k, double mag);

#endif
