/* kernels/cpu/mutants/mutant_softmax.c: planted-bug copies of the softmaxes (softmax_scalar.c, softmax_variants.c),
 * one classic defect each: no max, overflow at large logits, segments merged wrongly, input as scratch.
 * SPDX-License-Identifier: MIT
 *
 * Each mutant is a pristine row function written out again with exactly one change, marked
 * "DEFECT:". The row loop and the causal mask are copied once and shared.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/softmax_avx2.h"

#define SEGMENT_COLS 1024 /* softmax_blocked's segment: rows longer than this are split */

/* softmax_scalar's mask: columns [0, visible) of row i are unmasked (causal hides j > i + q_offset). */
static int64_t visible_cols(const mc_softmax_args *s, int64_t i)
{
    const int64_t cols = s->x.ne[0];
    if (!s->causal)
        return cols;
    int64_t last = i + s->q_offset;
    if (last < 0)
        return 0;
    return last + 1 < cols ? last + 1 : cols;
}

typedef void (*row_fn)(const mc_softmax_args *s, int64_t i, int64_t b2, int64_t b3);

static mc_status each_row(const mc_args *args, row_fn row)
{
    const mc_softmax_args *s = &args->u.softmax;
    for (int64_t b3 = 0; b3 < s->y.ne[3]; b3++)
        for (int64_t b2 = 0; b2 < s->y.ne[2]; b2++)
            for (int64_t i = 0; i < s->y.ne[1]; i++)
                row(s, i, b2, b3);
    return MC_OK;
}

/* softmax_scalar's row: max, sum of exponentials, normalise. DEFECT: the row maximum is never
 * subtracted: exp(x) overflows to inf once a logit passes ~88, and inf / inf is NaN. */
static void row_no_max(const mc_softmax_args *s, int64_t i, int64_t b2, int64_t b3)
{
    const int64_t cols = s->x.ne[0], visible = visible_cols(s, i);
    float sum = 0.0f;
    int any = 0;
    for (int64_t j = 0; j < visible; j++) {
        const float v = s->scale * mc_cpu_get(&s->x, j, i, b2, b3);
        any |= v != -INFINITY;
        sum += expf(v);
    }
    for (int64_t j = 0; j < cols; j++) {
        float y = 0.0f;
        if (j < visible && any)
            y = expf(s->scale * mc_cpu_get(&s->x, j, i, b2, b3)) / sum;
        mc_cpu_set(&s->y, j, i, b2, b3, y);
    }
}

/* softmax_scalar's row. DEFECT: the exponentials are parked in x (an "in-place" scratch row that
 * saves an allocation), so the caller's input comes back changed. */
static void row_writes_input(const mc_softmax_args *s, int64_t i, int64_t b2, int64_t b3)
{
    const int64_t cols = s->x.ne[0], visible = visible_cols(s, i);
    float max = -INFINITY;
    for (int64_t j = 0; j < visible; j++) {
        float v = s->scale * mc_cpu_get(&s->x, j, i, b2, b3);
        max = v > max ? v : max;
    }
    float sum = 0.0f;
    const int empty = max == -INFINITY;
    for (int64_t j = 0; j < visible && !empty; j++) {
        const float e = expf(s->scale * mc_cpu_get(&s->x, j, i, b2, b3) - max);
        mc_cpu_set(&s->x, j, i, b2, b3, e);
        sum += e;
    }
    for (int64_t j = 0; j < cols; j++) {
        float y = 0.0f;
        if (j < visible && !empty)
            y = mc_cpu_get(&s->x, j, i, b2, b3) / sum;
        mc_cpu_set(&s->y, j, i, b2, b3, y);
    }
}

/* softmax_scalar's row, unchanged: the supports() mutant below never lets it run. */
static void row_pristine(const mc_softmax_args *s, int64_t i, int64_t b2, int64_t b3)
{
    const int64_t cols = s->x.ne[0], visible = visible_cols(s, i);
    float max = -INFINITY;
    for (int64_t j = 0; j < visible; j++) {
        float v = s->scale * mc_cpu_get(&s->x, j, i, b2, b3);
        max = v > max ? v : max;
    }
    float sum = 0.0f;
    const int empty = max == -INFINITY;
    for (int64_t j = 0; j < visible && !empty; j++)
        sum += expf(s->scale * mc_cpu_get(&s->x, j, i, b2, b3) - max);
    for (int64_t j = 0; j < cols; j++) {
        float y = 0.0f;
        if (j < visible && !empty)
            y = expf(s->scale * mc_cpu_get(&s->x, j, i, b2, b3) - max) / sum;
        mc_cpu_set(&s->y, j, i, b2, b3, y);
    }
}

/* ---- online (softmax_variants.c's scalar path) ---- */

/* softmax_online's one-pass statistics through strides: running max m and sum of e^(v - m).
 * DEFECT: the rescale e^(m - v) is written e^m / e^v: the same number in exact arithmetic, but
 * e^m overflows to inf (or underflows to a subnormal) once |m| passes ~88: large logits only. */
static void online_stats(const mc_tensor *x, const uint8_t *p, int64_t n, float scale, float *max, float *sum)
{
    float m = -INFINITY, acc = 0.0f;
    for (int64_t j = 0; j < n; j++) {
        const float v = scale * mc_cpu_load(x->dtype, p + j * x->nb[0]);
        if (v == -INFINITY)
            continue;
        if (v > m) {
            acc = (m == -INFINITY ? 0.0f : acc * expf(m) / expf(v)) + 1.0f;
            m = v;
        } else {
            acc += expf(v - m);
        }
    }
    *max = m;
    *sum = acc;
}

/* softmax_online's row on its strided path: statistics, then y = e^(v - max) / sum; masked
 * columns and rows with nothing visible are 0. */
static void row_online_overflow(const mc_softmax_args *s, int64_t i, int64_t b2, int64_t b3)
{
    const uint8_t *x = mc_cpu_elem_ptr(&s->x, 0, i, b2, b3);
    const int64_t cols = s->y.ne[0], visible = visible_cols(s, i);
    float max, sum;
    online_stats(&s->x, x, visible, s->scale, &max, &sum);
    for (int64_t j = 0; j < cols; j++) {
        float y = 0.0f;
        if (j < visible && max != -INFINITY)
            y = expf(s->scale * mc_cpu_load(s->x.dtype, x + j * s->x.nb[0]) - max) / sum;
        mc_cpu_set(&s->y, j, i, b2, b3, y);
    }
}

/* ---- blocked (softmax_variants.c's segmented long rows, on one thread) ---- */

/* dst[j] = scale * x[j0 + j] for n columns: vector loads for a dense row, else one by one. */
static void gather(const mc_tensor *x, const uint8_t *row, int64_t j0, int64_t n, float scale, float *dst)
{
    const uint8_t *p = row + j0 * x->nb[0];
    if (mc_cpu_row_is_dense_aligned(x, p)) {
        mc_avx2_load_row(x->dtype, p, n, scale, dst);
        return;
    }
    for (int64_t j = 0; j < n; j++)
        dst[j] = scale * mc_cpu_load(x->dtype, p + j * x->nb[0]);
}

/* y[j0 + j] = v[j] * mul / div for n columns. */
static void scatter(const mc_tensor *y, uint8_t *row, int64_t j0, const float *v, int64_t n, float mul, float div)
{
    uint8_t *p = row + j0 * y->nb[0];
    if (mc_cpu_row_is_dense_aligned(y, p)) {
        mc_avx2_store_row(y->dtype, p, v, n, mul, div);
        return;
    }
    for (int64_t j = 0; j < n; j++)
        mc_cpu_store(y->dtype, p + j * y->nb[0], v[j] * mul / div);
}

static void zero_fill(const mc_tensor *y, uint8_t *row, int64_t j0, int64_t cols)
{
    for (int64_t j = j0; j < cols; j++)
        mc_cpu_store(y->dtype, row + j * y->nb[0], 0.0f);
}

/* Segment g: v = exp(scale * x - m_g), seg_max[g] = m_g, seg_sum[g] = their sum; masked columns
 * enter as -inf and add exactly 0. */
static void segment_stats(const mc_softmax_args *s, const uint8_t *x, int64_t visible, int64_t g, float *v,
                          float *seg_max, float *seg_sum)
{
    const int64_t j0 = g * SEGMENT_COLS, cols = s->x.ne[0];
    const int64_t n = cols - j0 < SEGMENT_COLS ? cols - j0 : SEGMENT_COLS;
    const int64_t live = visible <= j0 ? 0 : (visible - j0 < n ? visible - j0 : n);
    gather(&s->x, x, j0, live, s->scale, v + j0);
    for (int64_t j = live; j < n; j++)
        v[j0 + j] = -INFINITY;
    seg_max[g] = mc_avx2_max(v + j0, n);
    seg_sum[g] = 0.0f;
    if (seg_max[g] == -INFINITY)
        memset(v + j0, 0, sizeof *v * (size_t)n);
    else
        seg_sum[g] = mc_avx2_exp_sum(v + j0, n, seg_max[g]);
}

/* The row's max M and sum S = sum_g seg_sum[g] e^(seg_max[g] - M), in segment order.
 * DEFECT: the segment sums are added as they are, without the factor e^(seg_max[g] - M) that
 * brings them to the common max: right for one segment, wrong as soon as a row has two. */
static void merge_segments(int64_t nseg, const float *seg_max, const float *seg_sum, float *max, float *sum)
{
    float m = -INFINITY, acc = 0.0f;
    for (int64_t g = 0; g < nseg; g++)
        m = seg_max[g] > m ? seg_max[g] : m;
    for (int64_t g = 0; g < nseg && m != -INFINITY; g++)
        if (seg_max[g] != -INFINITY)
            acc += seg_sum[g];
    *max = m;
    *sum = acc;
}

static void segment_store(const mc_softmax_args *s, uint8_t *y, int64_t g, const float *v, const float *seg_max,
                          float max, float sum)
{
    const int64_t j0 = g * SEGMENT_COLS, cols = s->y.ne[0];
    const int64_t n = cols - j0 < SEGMENT_COLS ? cols - j0 : SEGMENT_COLS;
    if (max == -INFINITY || seg_max[g] == -INFINITY) {
        zero_fill(&s->y, y, j0, j0 + n);
        return;
    }
    scatter(&s->y, y, j0, v + j0, n, expf(seg_max[g] - max), sum);
}

static mc_status blocked_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_softmax_args *s = &args->u.softmax;
    const int64_t cols = s->x.ne[0], nseg = (cols + SEGMENT_COLS - 1) / SEGMENT_COLS;
    float *v = malloc(sizeof(float) * (size_t)(cols + 2 * nseg));
    if (!v)
        return mc_err_set(err, MC_ERR_NOMEM, "softmax: no memory for a scratch row of %lld", (long long)cols);
    float *seg_max = v + cols, *seg_sum = seg_max + nseg;
    for (int64_t b3 = 0; b3 < s->y.ne[3]; b3++)
        for (int64_t b2 = 0; b2 < s->y.ne[2]; b2++)
            for (int64_t i = 0; i < s->y.ne[1]; i++) {
                const uint8_t *x = mc_cpu_elem_ptr(&s->x, 0, i, b2, b3);
                uint8_t *y = mc_cpu_elem_ptr(&s->y, 0, i, b2, b3);
                const int64_t visible = visible_cols(s, i);
                float max, sum;
                for (int64_t g = 0; g < nseg; g++)
                    segment_stats(s, x, visible, g, v, seg_max, seg_sum);
                merge_segments(nseg, seg_max, seg_sum, &max, &sum);
                for (int64_t g = 0; g < nseg; g++)
                    segment_store(s, y, g, v, seg_max, max, sum);
            }
    free(v);
    return MC_OK;
}

static mc_status online_overflow_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return each_row(args, row_online_overflow);
}

static mc_status no_max_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return each_row(args, row_no_max);
}

static mc_status writes_input_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return each_row(args, row_writes_input);
}

static mc_status declines_all_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return each_row(args, row_pristine);
}

/* softmax_scalar's supports(). */
static const char *softmax_supports(const mc_args *args)
{
    const mc_softmax_args *s = &args->u.softmax;
    if (!mc_cpu_is_plain_float(s->x.dtype) || !mc_cpu_is_plain_float(s->y.dtype))
        return "quantised x or y not supported";
    return NULL;
}

/* DEFECT: the dtype test lost its "!": every plain-float case, which is every case, is declined,
 * so the variant runs nothing and every check it could fail is never reached. */
static const char *supports_inverted(const mc_args *args)
{
    const mc_softmax_args *s = &args->u.softmax;
    if (mc_cpu_is_plain_float(s->x.dtype) || !mc_cpu_is_plain_float(s->y.dtype))
        return "quantised x or y not supported";
    return NULL;
}

const mc_variant mc_variant_mutant_softmax_no_max = {
    .op = MC_OP_SOFTMAX, .backend = "cpu", .name = "mutant_softmax_no_max",
    .supports = softmax_supports, .run = no_max_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "nan",
    .code = (const void *)row_no_max,
};

static const char *avx2_probe(mc_backend_ctx *ctx)
{
    return mc_cpu_has_avx2() ? NULL : "needs AVX2, FMA and F16C";
}

const mc_variant mc_variant_mutant_softmax_online_overflow = {
    .op = MC_OP_SOFTMAX, .backend = "cpu", .name = "mutant_softmax_online_overflow",
    .supports = softmax_supports, .run = online_overflow_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "nan",
    .code = (const void *)online_stats,
};

const mc_variant mc_variant_mutant_softmax_segments = {
    .op = MC_OP_SOFTMAX, .backend = "cpu", .name = "mutant_softmax_segments",
    .probe = avx2_probe, .supports = softmax_supports, .run = blocked_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)merge_segments, .requires = "avx2,fma,f16c",
};

const mc_variant mc_variant_mutant_softmax_writes_input = {
    .op = MC_OP_SOFTMAX, .backend = "cpu", .name = "mutant_softmax_writes_input",
    .supports = softmax_supports, .run = writes_input_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "input-modified",
    .code = (const void *)row_writes_input,
};

const mc_variant mc_variant_mutant_softmax_declines_all = {
    .op = MC_OP_SOFTMAX, .backend = "cpu", .name = "mutant_softmax_declines_all",
    .supports = supports_inverted, .run = declines_all_run,
    .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "coverage",
    .code = (const void *)supports_inverted,
};
