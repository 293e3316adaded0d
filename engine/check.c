/* engine/check.c: every check on a kernel's output. Lower checks never print: the result's
 * message says what failed and where.
 * SPDX-License-Identifier: MIT */
#include "check.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/half.h"

static int first_difference(const uint8_t *a, const uint8_t *b, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (a[i] != b[i])
            return (int)i;
    return -1;
}

static bool check_guards(const mc_placed *p, const uint8_t *after, mc_result *res)
{
    /* positions are given from the guard's edge next to the data: byte 0 after is the first byte
     * past the data, byte 1 before is the last byte before it */
    int at = first_difference(p->image, after, 0, p->guard_bytes);
    int distance = (int)p->guard_bytes - at;
    const char *where = "before";
    if (at < 0) {
        at = first_difference(p->image, after, p->total_bytes - p->guard_bytes, p->total_bytes);
        distance = at - (int)(p->guard_bytes + p->data_bytes);
        where = "after";
    }
    if (at < 0)
        return true;
    res->kind = MC_RESULT_FAIL_GUARD;
    if (where[0] == 'a')
        snprintf(res->message, sizeof res->message,
                 "guard zone after tensor '%s' changed at offset +%d from the end of its data", p->spec.name, distance);
    else
        snprintf(res->message, sizeof res->message,
                 "guard zone before tensor '%s' changed at offset -%d from the start of its data", p->spec.name, distance);
    return false;
}

static bool check_input_unchanged(const mc_placed *p, const uint8_t *after, mc_result *res)
{
    int at = first_difference(p->image, after, p->guard_bytes, p->guard_bytes + p->data_bytes);
    if (at < 0)
        return true;
    res->kind = MC_RESULT_FAIL_INPUT_MODIFIED;
    snprintf(res->message, sizeof res->message, "input '%s' modified at data byte %d", p->spec.name,
             at - (int)p->guard_bytes);
    return false;
}

static bool check_gaps(const mc_placed *p, const uint8_t *after, mc_result *res)
{
    for (size_t i = 0; i < p->data_bytes; i++) {
        size_t at = p->guard_bytes + i;
        if (!p->owned[i] && p->image[at] != after[at]) {
            res->kind = MC_RESULT_FAIL_GUARD;
            snprintf(res->message, sizeof res->message,
                     "tensor '%s': a byte between elements (a stride gap or padding) was written at data byte %zu",
                     p->spec.name, i);
            return false;
        }
    }
    return true;
}

/* Element-level statistics of the output. */
typedef struct element_scan {
    int64_t unwritten, nonfinite, out_of_bound, zeros, ref_zeros, n;
    int64_t first_unwritten, first_nonfinite;
    double worst_ratio, sum_sq_err, sum_sq_ref;
    int64_t worst;
    double worst_out, worst_ref, worst_err, worst_bound;
} element_scan;

/* The reference as the output's dtype can hold it: what "exact zero" means for mistrust, since an
 * f16 softmax output underflows to zero where the fp64 reference is merely tiny. */
static double ref_in_dtype(double ref, mc_dtype dt)
{
    switch (dt) {
    case MC_DTYPE_F16:
        return mc_f16_to_f32(mc_f32_to_f16((float)ref));
    case MC_DTYPE_BF16:
        return mc_bf16_to_f32(mc_f32_to_bf16((float)ref));
    default:
        return (float)ref;
    }
}

static void scan_element(element_scan *s, double out, double ref, double bound, bool sentinel, int64_t i,
                         mc_dtype dt)
{
    s->n++;
    if (sentinel) {
        if (s->unwritten++ == 0)
            s->first_unwritten = i;
        return;
    }
    bool both_nan = isnan(out) && isnan(ref); /* the reference says NaN too (NaN weights) */
    if (!isfinite(out) && !(out == ref) && !both_nan) {
        if (s->nonfinite++ == 0)
            s->first_nonfinite = i;
        return;
    }
    double err = (out == ref || both_nan) ? 0.0 : fabs(out - ref);
    double ratio = err == 0.0 ? 0.0 : (bound > 0 ? err / bound : INFINITY);
    if (ratio > 1.0)
        s->out_of_bound++;
    if (ratio > s->worst_ratio || s->worst < 0) {
        s->worst_ratio = ratio;
        s->worst = i;
        s->worst_out = out;
        s->worst_ref = ref;
        s->worst_err = err;
        s->worst_bound = bound;
    }
    s->zeros += out == 0.0;
    s->ref_zeros += ref_in_dtype(ref, dt) == 0.0;
    if (isfinite(ref) && isfinite(out)) {
        s->sum_sq_err += err * err;
        s->sum_sq_ref += ref * ref;
    }
}

static void scan_output(const mc_check_input *in, const uint8_t *after, element_scan *s)
{
    const mc_placed *p = &in->placed[in->out_index];
    const mc_tensor *t = &p->spec.t;
    memset(s, 0, sizeof *s);
    s->worst = -1;
    int64_t idx[MC_MAX_DIMS] = {0, 0, 0, 0};
    int64_t i = 0;
    do {
        int64_t off = mc_tensor_elem_offset(t, idx);
        bool sentinel = p->spec.role == MC_ROLE_OUT && mc_place_is_sentinel(p, after, off);
        scan_element(s, mc_tensor_get(t, after, idx), in->ref->expected[i], in->ref->bound[i], sentinel, i,
                     t->dtype);
        i++;
    } while (mc_index_next(idx, t->ne));
}

/* An output identical to one of the inputs, element for element, when the reference is not. */
static bool output_copies_an_input(const mc_check_input *in, const uint8_t *after)
{
    const mc_tensor *o = &in->placed[in->out_index].spec.t;
    for (int k = 0; k < in->n; k++) {
        const mc_placed *p = &in->placed[k];
        if (k == in->out_index || p->spec.absent || p->spec.role != MC_ROLE_IN ||
            mc_tensor_nelems(&p->spec.t) != mc_tensor_nelems(o) ||
            memcmp(p->spec.t.ne, o->ne, sizeof o->ne) != 0)
            continue;
        bool same_out = true, same_ref = true;
        int64_t idx[MC_MAX_DIMS] = {0, 0, 0, 0};
        int64_t i = 0;
        do {
            double x = mc_tensor_get(&p->spec.t, p->image, idx);
            same_out = mc_tensor_get(o, after, idx) == x;
            same_ref = same_ref && in->ref->expected[i++] == x;
        } while (same_out && mc_index_next(idx, o->ne));
        if (same_out && !same_ref)
            return true;
    }
    return false;
}

static void fill_statistics(mc_result *res, const element_scan *s)
{
    res->n_checked = s->n;
    res->n_bad = s->unwritten + s->nonfinite + s->out_of_bound;
    res->worst_index = s->worst;
    res->worst_out = s->worst_out;
    res->worst_ref = s->worst_ref;
    res->worst_err = s->worst_err;
    res->worst_bound = s->worst_bound;
    res->max_ratio = s->worst_ratio;
    res->nmse = s->sum_sq_ref > 0 ? s->sum_sq_err / s->sum_sq_ref : s->sum_sq_err;
}

static void judge_elements(const mc_check_input *in, const uint8_t *after, mc_result *res)
{
    element_scan s;
    scan_output(in, after, &s);
    fill_statistics(res, &s);
    double zero_share = s.n ? (double)s.zeros / (double)s.n : 0;
    double ref_zero_share = s.n ? (double)s.ref_zeros / (double)s.n : 0;
    double limit = in->op->mistrust_zero_share;
    if (s.unwritten) {
        res->kind = MC_RESULT_FAIL_UNWRITTEN;
        snprintf(res->message, sizeof res->message, "%lld of %lld output elements never written (first at %lld)",
                 (long long)s.unwritten, (long long)s.n, (long long)s.first_unwritten);
    } else if (s.nonfinite) {
        res->kind = MC_RESULT_FAIL_NAN;
        snprintf(res->message, sizeof res->message, "%lld output elements are NaN/Inf where the reference is finite (first at %lld)",
                 (long long)s.nonfinite, (long long)s.first_nonfinite);
    } else if (s.out_of_bound) {
        res->kind = MC_RESULT_FAIL_BOUND;
        snprintf(res->message, sizeof res->message,
                 "%lld elements beyond their bound; worst at %lld: out %.9g ref %.9g |err| %.3g > bound %.3g",
                 (long long)s.out_of_bound, (long long)s.worst, s.worst_out, s.worst_ref, s.worst_err, s.worst_bound);
    } else if (zero_share > limit && ref_zero_share <= limit / 10) {
        res->kind = MC_RESULT_FAIL_MISTRUSTED;
        snprintf(res->message, sizeof res->message, "mistrusted: %.0f%% of the output is exact zeros (reference %.1f%%)",
                 100 * zero_share, 100 * ref_zero_share);
    } else if (output_copies_an_input(in, after)) {
        res->kind = MC_RESULT_FAIL_MISTRUSTED;
        snprintf(res->message, sizeof res->message, "mistrusted: the output is a copy of an input");
    } else {
        res->kind = MC_RESULT_PASS;
    }
}

void mc_check_run(const mc_check_input *in, mc_result *res)
{
    for (int k = 0; k < in->n; k++)
        if (!in->placed[k].spec.absent && !check_guards(&in->placed[k], in->after[k], res))
            return;
    for (int k = 0; k < in->n; k++) {
        const mc_placed *p = &in->placed[k];
        if (p->spec.absent)
            continue;
        if (p->spec.role == MC_ROLE_IN && !check_input_unchanged(p, in->after[k], res))
            return;
        if (p->spec.role != MC_ROLE_IN && !check_gaps(p, in->after[k], res))
            return;
    }
    judge_elements(in, in->after[in->out_index], res);
}
