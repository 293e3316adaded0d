/* kernels/cpu/mutants/mutant_softmax_stream.c: planted-bug copies of the streaming softmaxes'
 * primitives (softmax_avx512.c, softmax_avx2.c): the exp polynomial missing its quadratic term,
 * the row's tail not scaled (AVX-512 and AVX2), the held-back row's last elements never stored or
 * stored after the next row's exponentials were written over them.
 * SPDX-License-Identifier: MIT
 *
 * Each mutant is a pristine primitive written out again with exactly one change, marked "DEFECT:";
 * the others are the pristine ones. The row loop is a plain one-thread copy of stream_row
 * (softmax_variants.c) for packed rows; supports() declines the strided layouts it cannot load.
 */
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/softmax_avx2.h"
#include "kernels/cpu/softmax_avx512.h"

#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

static const float exp2_sixteenths[16] = {
    0x1p+0f,       0x1.0b5586p+0f, 0x1.172b84p+0f, 0x1.2387a6p+0f, 0x1.306fep+0f,  0x1.3dea64p+0f,
    0x1.4bfdaep+0f, 0x1.5ab07ep+0f, 0x1.6a09e6p+0f, 0x1.7a1148p+0f, 0x1.8ace54p+0f, 0x1.9c4918p+0f,
    0x1.ae89fap+0f, 0x1.c199bep+0f, 0x1.d5818ep+0f, 0x1.ea4afap+0f,
};

/* softmax_avx512.c's exp16. DEFECT: q = 1 + r^2/6, the r/2 term dropped (its constant 1/2 lost
 * from the first FMA): e^r comes out short by r^2/2, up to 2.3e-4 relatively where |r| nears
 * ln2/32. (Dropping the r^2/6 term instead, 28 u at most, stays inside the op's bound on the
 * quick tier's rows: the bound budgets the row's sum and scale roundings, which dwarf it.) */
AVX512_TARGET static inline __m512 exp16_short(__m512 x)
{
    const __m512 magic = _mm512_set1_ps(786432.0f);
    x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
    const __m512 k = _mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504088896341f), magic);
    const __m512 h = _mm512_sub_ps(k, magic);
    __m512 r = _mm512_fnmadd_ps(h, _mm512_set1_ps(0x1.63p-1f), x);
    r = _mm512_fnmadd_ps(h, _mm512_set1_ps(-0x1.bd0106p-13f), r);
    __m512 q = _mm512_mul_ps(r, _mm512_set1_ps(1.0f / 6.0f));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.0f));
    const __m512 t = _mm512_permutexvar_ps(_mm512_castps_si512(k), _mm512_loadu_ps(exp2_sixteenths));
    const __m512 e = _mm512_fmadd_ps(t, _mm512_mul_ps(r, q), t);
    return _mm512_scalef_ps(e, h);
}

static inline __mmask16 lanes(int64_t k)
{
    return (__mmask16)((1u << k) - 1u);
}

AVX512_TARGET static inline __m512 load16(mc_dtype dt, const uint8_t *p, __mmask16 k)
{
    switch (dt) {
    case MC_DTYPE_F16:
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, p));
    case MC_DTYPE_BF16:
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(k, p)), 16));
    default:
        return _mm512_maskz_loadu_ps(k, p);
    }
}

/* softmax_avx512.c's mc_avx512_exp_sum (no prefetch), with the short exp. */
AVX512_TARGET static float exp_sum_short(mc_dtype dt, const uint8_t *x, int64_t n, float scale, float max, float *v,
                                         const uint8_t *next_x)
{
    (void)next_x;
    const int64_t eb = mc_cpu_elem_bytes(dt);
    const __m512 s = _mm512_set1_ps(scale), m = _mm512_set1_ps(-max);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t j = 0; j < n; j += 16) {
        const __mmask16 k = lanes(n - j < 16 ? n - j : 16);
        const __m512 e = exp16_short(_mm512_fmadd_ps(s, load16(dt, x + j * eb, k), m));
        _mm512_mask_storeu_ps(v + j, k, e);
        acc = _mm512_mask_add_ps(acc, k, acc, e);
    }
    return _mm512_reduce_add_ps(acc);
}

/* softmax_avx512.c's mc_avx512_store_row for f32 (regular stores). DEFECT: the masked tail (the
 * last n mod 16 elements) is stored as the exponentials themselves, never divided by the sum. */
AVX512_TARGET static void store_tail_unscaled(mc_dtype dt, uint8_t *y, const float *v, int64_t n, float mul,
                                              float div, int stream)
{
    (void)stream;
    if (dt != MC_DTYPE_F32) {
        mc_avx512_store_row(dt, y, v, n, mul, div, 0);
        return;
    }
    const __m512 f = _mm512_set1_ps(mul / div);
    int64_t j = 0;
    for (; j + 16 <= n; j += 16)
        _mm512_storeu_ps((float *)y + j, _mm512_mul_ps(_mm512_loadu_ps(v + j), f));
    if (j < n) {
        const __mmask16 k = lanes(n - j);
        _mm512_mask_storeu_ps((float *)y + j, k, _mm512_maskz_loadu_ps(k, v + j));
    }
}

/* softmax_avx2.c's mc_avx2_store_row_nt without streaming. DEFECT: the last n mod 8 elements (the
 * vector loop's tail) are stored as the exponentials themselves, never divided by the sum. */
static void store_tail_unscaled_avx2(mc_dtype dt, uint8_t *y, const float *v, int64_t n, float mul, float div,
                                     int stream)
{
    (void)stream;
    const int64_t eb = mc_cpu_elem_bytes(dt), body = n - n % 8;
    mc_avx2_store_row(dt, y, v, body, mul, div);
    for (int64_t j = body; j < n; j++)
        mc_cpu_store(dt, y + j * eb, v[j]);
}

typedef float (*row_max_fn)(mc_dtype dt, const uint8_t *x, int64_t n, float scale);
typedef float (*exp_sum_fn)(mc_dtype dt, const uint8_t *x, int64_t n, float scale, float max, float *v,
                            const uint8_t *next_x);
typedef void (*store_fn)(mc_dtype dt, uint8_t *y, const float *v, int64_t n, float mul, float div, int stream);

/* softmax_variants.c's stream_row for packed rows, one thread, through the given primitives. */
static mc_status run_rows(const mc_args *args, row_max_fn row_max, exp_sum_fn exp_sum, store_fn store, mc_err *err)
{
    const mc_softmax_args *s = &args->u.softmax;
    const int64_t cols = s->x.ne[0], yb = mc_cpu_elem_bytes(s->y.dtype);
    float *v = malloc(sizeof *v * (size_t)cols);
    if (!v)
        return mc_err_set(err, MC_ERR_NOMEM, "softmax: no memory for a scratch row of %lld", (long long)cols);
    for (int64_t b3 = 0; b3 < s->y.ne[3]; b3++)
        for (int64_t b2 = 0; b2 < s->y.ne[2]; b2++)
            for (int64_t i = 0; i < s->y.ne[1]; i++) {
                const uint8_t *x = mc_cpu_elem_ptr(&s->x, 0, i, b2, b3);
                uint8_t *y = mc_cpu_elem_ptr(&s->y, 0, i, b2, b3);
                const int64_t visible = mc_cpu_causal_visible(s->causal, s->q_offset, i, cols);
                const float max = row_max(s->x.dtype, x, visible, s->scale);
                int64_t live = 0;
                if (max != -INFINITY) {
                    store(s->y.dtype, y, v, visible, 1.0f,
                          exp_sum(s->x.dtype, x, visible, s->scale, max, v, NULL), 0);
                    live = visible;
                }
                memset(y + live * yb, 0, (size_t)((cols - live) * yb));
            }
    free(v);
    return MC_OK;
}

/* softmax_avx512.c's mc_avx512_exp_sum_store. DEFECT: the held-back row's elements past this
 * row's whole 32-element blocks (what the fused loop leaves for the closing store) are never
 * stored: the held-back row is handed over cut to them. */
static float exp_sum_store_no_rest(mc_dtype dt, const uint8_t *x, int64_t n, float scale, float max, float *v,
                                   const uint8_t *next_x, const mc_avx512_pending *prev)
{
    mc_avx512_pending cut = *prev;
    cut.n = (prev->n < n ? prev->n : n) & ~INT64_C(31);
    return mc_avx512_exp_sum_store(dt, x, n, scale, max, v, next_x, &cut);
}

/* softmax_avx512.c's mc_avx512_exp_sum_store. DEFECT: the held-back row's elements past this
 * row's whole 32-element blocks are stored after this row's exponentials, which share the scratch
 * row with them, were written over them (the order of the two-scratch-row version): that part
 * of the held-back row comes out as the next row's exponentials scaled by its factor. */
static float exp_sum_store_rest_late(mc_dtype dt, const uint8_t *x, int64_t n, float scale, float max, float *v,
                                     const uint8_t *next_x, const mc_avx512_pending *prev)
{
    mc_avx512_pending cut = *prev;
    cut.n = (prev->n < n ? prev->n : n) & ~INT64_C(31);
    const float sum = mc_avx512_exp_sum_store(dt, x, n, scale, max, v, next_x, &cut);
    if (prev->n > cut.n)
        mc_avx512_store_row(prev->dt, prev->y + cut.n * mc_cpu_elem_bytes(prev->dt), prev->v + cut.n,
                            prev->n - cut.n, prev->mul, prev->div, prev->stream);
    return sum;
}

typedef float (*exp_sum_store_fn)(mc_dtype dt, const uint8_t *x, int64_t n, float scale, float max, float *v,
                                  const uint8_t *next_x, const mc_avx512_pending *prev);

/* softmax_variants.c's stream_row with the hold-back for packed rows, one thread: each row's
 * output is stored during the next row's exp pass (whose exponentials go into the same scratch
 * row), the last one on its own. */
static mc_status run_rows_held(const mc_args *args, exp_sum_store_fn exp_sum_store, mc_err *err)
{
    const mc_softmax_args *s = &args->u.softmax;
    const int64_t cols = s->x.ne[0], yb = mc_cpu_elem_bytes(s->y.dtype);
    float *cur = malloc(sizeof *cur * (size_t)cols);
    if (!cur)
        return mc_err_set(err, MC_ERR_NOMEM, "softmax: no memory for a scratch row of %lld", (long long)cols);
    mc_avx512_pending pending = {.y = NULL};
    for (int64_t r = 0; r < s->y.ne[1] * s->y.ne[2] * s->y.ne[3]; r++) {
        const int64_t i = r % s->y.ne[1], b2 = (r / s->y.ne[1]) % s->y.ne[2], b3 = r / (s->y.ne[1] * s->y.ne[2]);
        const uint8_t *x = mc_cpu_elem_ptr(&s->x, 0, i, b2, b3);
        uint8_t *y = mc_cpu_elem_ptr(&s->y, 0, i, b2, b3);
        const int64_t visible = mc_cpu_causal_visible(s->causal, s->q_offset, i, cols);
        const float max = mc_avx512_row_max(s->x.dtype, x, visible, s->scale);
        if (max == -INFINITY) {
            memset(y, 0, (size_t)(cols * yb));
            continue;
        }
        const float sum = pending.y ? exp_sum_store(s->x.dtype, x, visible, s->scale, max, cur, NULL, &pending)
                                    : mc_avx512_exp_sum(s->x.dtype, x, visible, s->scale, max, cur, NULL);
        memset(y + visible * yb, 0, (size_t)((cols - visible) * yb));
        pending = (mc_avx512_pending){s->y.dtype, y, cur, visible, 1.0f, sum, 0};
    }
    if (pending.y)
        mc_avx512_store_row(pending.dt, pending.y, pending.v, pending.n, pending.mul, pending.div, 0);
    free(cur);
    return MC_OK;
}

static mc_status held_no_rest_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return run_rows_held(args, exp_sum_store_no_rest, err);
}

static mc_status held_rest_late_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return run_rows_held(args, exp_sum_store_rest_late, err);
}

static mc_status exp_short_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return run_rows(args, mc_avx512_row_max, exp_sum_short, mc_avx512_store_row, err);
}

static mc_status tail_unscaled_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return run_rows(args, mc_avx512_row_max, mc_avx512_exp_sum, store_tail_unscaled, err);
}

static mc_status avx2_tail_unscaled_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return run_rows(args, mc_avx2_row_max, mc_avx2_exp_sum_x, store_tail_unscaled_avx2, err);
}

static const char *avx2_probe(mc_backend_ctx *ctx)
{
    return mc_cpu_has_avx2() ? NULL : "needs AVX2, FMA and F16C";
}

static const char *avx512_probe(mc_backend_ctx *ctx)
{
    return mc_avx512_softmax_probe();
}

/* Packed rows of x and y only (vector loads take any address): the loop above has no strided path. */
static const char *dense_supports(const mc_args *args)
{
    const mc_softmax_args *s = &args->u.softmax;
    if (!mc_cpu_is_plain_float(s->x.dtype) || !mc_cpu_is_plain_float(s->y.dtype))
        return "quantised x or y not supported";
    if (s->x.nb[0] != mc_cpu_elem_bytes(s->x.dtype) || s->y.nb[0] != mc_cpu_elem_bytes(s->y.dtype))
        return "packed rows only";
    return NULL;
}

const mc_variant mc_variant_mutant_softmax_avx512_exp_short = {
    .op = MC_OP_SOFTMAX, .backend = "cpu", .name = "mutant_softmax_avx512_exp_short",
    .probe = avx512_probe, .requires = "avx512f,avx512bw,avx512vl", .supports = dense_supports,
    .run = exp_short_run, .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)exp_sum_short,
};

const mc_variant mc_variant_mutant_softmax_avx512_tail_unscaled = {
    .op = MC_OP_SOFTMAX, .backend = "cpu", .name = "mutant_softmax_avx512_tail_unscaled",
    .probe = avx512_probe, .requires = "avx512f,avx512bw,avx512vl", .supports = dense_supports,
    .run = tail_unscaled_run, .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)store_tail_unscaled,
};

const mc_variant mc_variant_mutant_softmax_avx2_stream_tail_unscaled = {
    .op = MC_OP_SOFTMAX, .backend = "cpu", .name = "mutant_softmax_avx2_stream_tail_unscaled",
    .probe = avx2_probe, .requires = "avx2,fma,f16c", .supports = dense_supports,
    .run = avx2_tail_unscaled_run, .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)store_tail_unscaled_avx2,
};

const mc_variant mc_variant_mutant_softmax_avx512_held_no_rest = {
    .op = MC_OP_SOFTMAX, .backend = "cpu", .name = "mutant_softmax_avx512_held_no_rest",
    .probe = avx512_probe, .requires = "avx512f,avx512bw,avx512vl", .supports = dense_supports,
    .run = held_no_rest_run, .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "unwritten",
    .code = (const void *)exp_sum_store_no_rest,
};

const mc_variant mc_variant_mutant_softmax_avx512_held_rest_late = {
    .op = MC_OP_SOFTMAX, .backend = "cpu", .name = "mutant_softmax_avx512_held_rest_late",
    .probe = avx512_probe, .requires = "avx512f,avx512bw,avx512vl", .supports = dense_supports,
    .run = held_rest_late_run, .flags = MC_VARIANT_MUTANT | MC_VARIANT_DETERMINISTIC, .expect = "bound",
    .code = (const void *)exp_sum_store_rest_late,
};
