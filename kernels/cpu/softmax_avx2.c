/* kernels/cpu/softmax_avx2.c: AVX2/FMA/F16C row primitives for softmax and SDPA (built with -mavx2).
 * Tails shorter than 8 go through an 8-lane staging vector padded with a neutral value, so every
 * element of a row sees the same arithmetic, whatever its position.
 * SPDX-License-Identifier: MIT */
#include <math.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/softmax_avx2.h"

/* 8 elements of dtype dt at p as floats (p dense, element-aligned; no alignment beyond that). */
static inline __m256 load8(mc_dtype dt, const uint8_t *p)
{
    switch (dt) {
    case MC_DTYPE_F16:
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
    case MC_DTYPE_BF16:
        return _mm256_castsi256_ps(
            _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
    default:
        return _mm256_loadu_ps((const float *)p);
    }
}

/* 8 floats to bf16 bits, as mc_f32_to_bf16 does one: round to nearest even on the bits, a NaN
 * kept a (quiet) NaN. Packed 32 -> 16 within 128-bit lanes, then the two halves joined. */
static inline __m128i bf16_of(__m256 v)
{
    const __m256i x = _mm256_castps_si256(v);
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
    const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(x, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7FFF))), 16);
    const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(0x40));
    const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    const __m256i bits = _mm256_blendv_epi8(rounded, quiet, nan);
    return _mm_packus_epi32(_mm256_castsi256_si128(bits), _mm256_extracti128_si256(bits, 1));
}

/* Stores 8 floats as dtype dt at p, rounded to nearest even. */
static inline void store8(mc_dtype dt, uint8_t *p, __m256 v)
{
    switch (dt) {
    case MC_DTYPE_F16:
        _mm_storeu_si128((__m128i *)p, _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        break;
    case MC_DTYPE_BF16:
        _mm_storeu_si128((__m128i *)p, bf16_of(v));
        break;
    default:
        _mm256_storeu_ps((float *)p, v);
        break;
    }
}

/* The last n < 8 elements of a row, padded with `pad`. */
static inline __m256 load_tail(mc_dtype dt, const uint8_t *p, int64_t n, float pad)
{
    float tmp[8];
    const int64_t eb = mc_cpu_elem_bytes(dt);
    for (int i = 0; i < 8; i++)
        tmp[i] = i < n ? mc_cpu_load(dt, p + i * eb) : pad;
    return _mm256_loadu_ps(tmp);
}

/* The first n of 8 lanes (all ones), the others 0. */
static inline __m256 tail_lanes(int64_t n)
{
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
}

/* scale times the last n < 8 elements of a row, the padding lanes -inf whatever the sign of scale
 * (padding with -inf before the multiply made them +inf, the row's max, for a negative scale). */
static inline __m256 load_tail_scaled(mc_dtype dt, const uint8_t *p, int64_t n, __m256 scale)
{
    return _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), _mm256_mul_ps(scale, load_tail(dt, p, n, 0.0f)), tail_lanes(n));
}

static inline void store_tail(mc_dtype dt, uint8_t *p, __m256 v, int64_t n)
{
    float tmp[8];
    const int64_t eb = mc_cpu_elem_bytes(dt);
    _mm256_storeu_ps(tmp, v);
    for (int i = 0; i < n; i++)
        mc_cpu_store(dt, p + i * eb, tmp[i]);
}

float mc_avx2_load_row_max(mc_dtype dt, const uint8_t *x, int64_t n, float scale, float *dst)
{
    const int64_t eb = mc_cpu_elem_bytes(dt);
    const __m256 s = _mm256_set1_ps(scale);
    __m256 m = _mm256_set1_ps(-INFINITY);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        const __m256 v = _mm256_mul_ps(s, load8(dt, x + j * eb));
        _mm256_storeu_ps(dst + j, v);
        m = _mm256_max_ps(m, v);
    }
    if (j < n) {
        const __m256 v = load_tail_scaled(dt, x + j * eb, n - j, s);
        store_tail(MC_DTYPE_F32, (uint8_t *)(dst + j), v, n - j);
        m = _mm256_max_ps(m, v);
    }
    return mc_hmax_avx2(m);
}

void mc_avx2_load_row(mc_dtype dt, const uint8_t *x, int64_t n, float scale, float *dst)
{
    (void)mc_avx2_load_row_max(dt, x, n, scale, dst);
}

void mc_avx2_store_row(mc_dtype dt, uint8_t *y, const float *v, int64_t n, float mul, float div)
{
    const int64_t eb = mc_cpu_elem_bytes(dt);
    /* one factor, then a multiply per element: the bound budgets a reciprocal and a multiply */
    const __m256 f = _mm256_set1_ps(mul / div);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        store8(dt, y + j * eb, _mm256_mul_ps(_mm256_loadu_ps(v + j), f));
    if (j < n)
        store_tail(dt, y + j * eb, _mm256_mul_ps(load_tail(MC_DTYPE_F32, (const uint8_t *)(v + j), n - j, 0.0f), f),
                   n - j);
}

float mc_avx2_max(const float *v, int64_t n)
{
    __m256 m0 = _mm256_set1_ps(-INFINITY), m1 = m0;
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        m0 = _mm256_max_ps(m0, _mm256_loadu_ps(v + j));
        m1 = _mm256_max_ps(m1, _mm256_loadu_ps(v + j + 8));
    }
    for (; j + 8 <= n; j += 8)
        m0 = _mm256_max_ps(m0, _mm256_loadu_ps(v + j));
    if (j < n)
        m1 = _mm256_max_ps(m1, load_tail(MC_DTYPE_F32, (const uint8_t *)(v + j), n - j, -INFINITY));
    return mc_hmax_avx2(_mm256_max_ps(m0, m1));
}

float mc_avx2_exp_sum(float *v, int64_t n, float max)
{
    const __m256 m = _mm256_set1_ps(max);
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m256 e0 = mc_exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(v + j), m));
        __m256 e1 = mc_exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(v + j + 8), m));
        _mm256_storeu_ps(v + j, e0);
        _mm256_storeu_ps(v + j + 8, e1);
        s0 = _mm256_add_ps(s0, e0);
        s1 = _mm256_add_ps(s1, e1);
    }
    for (; j + 8 <= n; j += 8) {
        __m256 e = mc_exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(v + j), m));
        _mm256_storeu_ps(v + j, e);
        s0 = _mm256_add_ps(s0, e);
    }
    if (j < n) {
        /* padding -inf: exp gives 0, which adds nothing */
        __m256 e = mc_exp_avx2(_mm256_sub_ps(load_tail(MC_DTYPE_F32, (const uint8_t *)(v + j), n - j, -INFINITY), m));
        store_tail(MC_DTYPE_F32, (uint8_t *)(v + j), e, n - j);
        s1 = _mm256_add_ps(s1, e);
    }
    return mc_hsum_avx2(_mm256_add_ps(s0, s1));
}

/* Lane-wise online update with a block of values b: m' = max(m, b), s' = s e^(m - m') + e^(b - m').
 * Lanes whose max is still -inf keep s = 0 (and never compute -inf - -inf). */
static inline void online_update(__m256 *m, __m256 *s, __m256 bmax, const __m256 *b, int nb)
{
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    const __m256 mn = _mm256_max_ps(*m, bmax);
    const __m256 live = _mm256_cmp_ps(mn, ninf, _CMP_NEQ_OQ);
    const __m256 shift = _mm256_and_ps(mn, live); /* 0 where the lane has seen nothing finite */
    __m256 acc = _mm256_mul_ps(*s, mc_exp_avx2(_mm256_sub_ps(*m, shift)));
    for (int i = 0; i < nb; i++)
        acc = _mm256_add_ps(acc, mc_exp_avx2(_mm256_sub_ps(b[i], shift)));
    *s = _mm256_and_ps(acc, live);
    *m = mn;
}

void mc_avx2_online_stats(mc_dtype dt, const uint8_t *x, int64_t n, float scale, float *max, float *sum)
{
    const int64_t eb = mc_cpu_elem_bytes(dt);
    const __m256 sc = _mm256_set1_ps(scale);
    __m256 m = _mm256_set1_ps(-INFINITY), s = _mm256_setzero_ps();
    __m256 b[4];
    int64_t j = 0;
    /* 32 elements per update: one rescale per lane amortised over four exponentials */
    for (; j + 32 <= n; j += 32) {
        for (int i = 0; i < 4; i++)
            b[i] = _mm256_mul_ps(sc, load8(dt, x + (j + 8 * i) * eb));
        __m256 bmax = _mm256_max_ps(_mm256_max_ps(b[0], b[1]), _mm256_max_ps(b[2], b[3]));
        online_update(&m, &s, bmax, b, 4);
    }
    for (; j + 8 <= n; j += 8) {
        b[0] = _mm256_mul_ps(sc, load8(dt, x + j * eb));
        online_update(&m, &s, b[0], b, 1);
    }
    if (j < n) {
        b[0] = load_tail_scaled(dt, x + j * eb, n - j, sc);
        online_update(&m, &s, b[0], b, 1);
    }
    /* merge the lanes: M = max m_l, S = sum s_l e^(m_l - M), in lane order */
    const float total_max = mc_hmax_avx2(m);
    if (total_max == -INFINITY) {
        *max = -INFINITY;
        *sum = 0.0f;
        return;
    }
    const __m256 w = mc_exp_avx2(_mm256_sub_ps(m, _mm256_set1_ps(total_max)));
    *max = total_max;
    *sum = mc_hsum_avx2(_mm256_mul_ps(s, w));
}

void mc_avx2_online_out(mc_dtype xdt, const uint8_t *x, mc_dtype ydt, uint8_t *y, int64_t n, float scale,
                        float max, float sum)
{
    const int64_t xb = mc_cpu_elem_bytes(xdt), yb = mc_cpu_elem_bytes(ydt);
    /* a reciprocal and a multiply, as mc_avx2_store_row */
    const __m256 sc = _mm256_set1_ps(scale), m = _mm256_set1_ps(max), d = _mm256_set1_ps(1.0f / sum);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 v = _mm256_sub_ps(_mm256_mul_ps(sc, load8(xdt, x + j * xb)), m);
        store8(ydt, y + j * yb, _mm256_mul_ps(mc_exp_avx2(v), d));
    }
    if (j < n) {
        __m256 v = _mm256_sub_ps(_mm256_mul_ps(sc, load_tail(xdt, x + j * xb, n - j, 0.0f)), m);
        store_tail(ydt, y + j * yb, _mm256_mul_ps(mc_exp_avx2(v), d), n - j);
    }
}

/* max_j round(scale x_j) is round(scale max_j x_j) for scale >= 0 (rounding is monotonic), and
 * round(scale min_j x_j) for scale < 0: one multiply per row instead of one per element. */
float mc_avx2_row_max(mc_dtype dt, const uint8_t *x, int64_t n, float scale)
{
    const int64_t eb = mc_cpu_elem_bytes(dt);
    const int lowest = scale < 0.0f;
    const float none = lowest ? INFINITY : -INFINITY;
    __m256 m0 = _mm256_set1_ps(none), m1 = m0;
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        const __m256 v0 = load8(dt, x + j * eb), v1 = load8(dt, x + (j + 8) * eb);
        m0 = lowest ? _mm256_min_ps(m0, v0) : _mm256_max_ps(m0, v0);
        m1 = lowest ? _mm256_min_ps(m1, v1) : _mm256_max_ps(m1, v1);
    }
    for (; j < n; j += 8) {
        const __m256 v = n - j >= 8 ? load8(dt, x + j * eb) : load_tail(dt, x + j * eb, n - j, none);
        m0 = lowest ? _mm256_min_ps(m0, v) : _mm256_max_ps(m0, v);
    }
    if (n == 0)
        return -INFINITY;
    const __m256 m = lowest ? _mm256_min_ps(m0, m1) : _mm256_max_ps(m0, m1);
    return scale * (lowest ? -mc_hmax_avx2(_mm256_sub_ps(_mm256_setzero_ps(), m)) : mc_hmax_avx2(m));
}

float mc_avx2_exp_sum_x(mc_dtype dt, const uint8_t *x, int64_t n, float scale, float max, float *v,
                        const uint8_t *next_x)
{
    const int64_t eb = mc_cpu_elem_bytes(dt);
    const __m256 s = _mm256_set1_ps(scale), m = _mm256_set1_ps(-max);
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    int64_t j = 0;
    for (; j + 32 <= n; j += 32) {
        mc_softmax_prefetch_block(next_x, eb, j);
        for (int i = 0; i < 32; i += 16) {
            const __m256 e0 = mc_exp_avx2(_mm256_fmadd_ps(s, load8(dt, x + (j + i) * eb), m));
            const __m256 e1 = mc_exp_avx2(_mm256_fmadd_ps(s, load8(dt, x + (j + i + 8) * eb), m));
            _mm256_storeu_ps(v + j + i, e0);
            _mm256_storeu_ps(v + j + i + 8, e1);
            s0 = _mm256_add_ps(s0, e0);
            s1 = _mm256_add_ps(s1, e1);
        }
    }
    for (; j + 8 <= n; j += 8) {
        const __m256 e = mc_exp_avx2(_mm256_fmadd_ps(s, load8(dt, x + j * eb), m));
        _mm256_storeu_ps(v + j, e);
        s0 = _mm256_add_ps(s0, e);
    }
    if (j < n) {
        /* the padding lanes (0, whatever the sign of scale) are cleared before they reach the sum */
        __m256 e = mc_exp_avx2(_mm256_fmadd_ps(s, load_tail(dt, x + j * eb, n - j, 0.0f), m));
        e = _mm256_and_ps(e, tail_lanes(n - j));
        store_tail(MC_DTYPE_F32, (uint8_t *)(v + j), e, n - j);
        s1 = _mm256_add_ps(s1, e);
    }
    return mc_hsum_avx2(_mm256_add_ps(s0, s1));
}

void mc_avx2_store_row_nt(mc_dtype dt, uint8_t *y, const float *v, int64_t n, float mul, float div, int stream)
{
    const int64_t eb = mc_cpu_elem_bytes(dt);
    int64_t j = 0;
    /* non-temporal stores need a vector-aligned row; they skip reading y's lines before writing */
    if (stream && ((uintptr_t)y & (uintptr_t)(8 * eb - 1)) == 0) {
        const __m256 f = _mm256_set1_ps(mul / div); /* as mc_avx2_store_row */
        for (; j + 8 <= n; j += 8) {
            const __m256 w = _mm256_mul_ps(_mm256_loadu_ps(v + j), f);
            if (dt == MC_DTYPE_F32)
                _mm256_stream_ps((float *)(y + j * eb), w);
            else if (dt == MC_DTYPE_F16)
                _mm_stream_si128((__m128i *)(y + j * eb), _mm256_cvtps_ph(w, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
            else
                _mm_stream_si128((__m128i *)(y + j * eb), bf16_of(w));
        }
        _mm_sfence(); /* ordered before any later store of this thread, the run's end included */
    }
    mc_avx2_store_row(dt, y + j * eb, v + j, n - j, mul, div);
}

void mc_avx2_exp_n(const float *x, float *out, int n)
{
    for (int i = 0; i < n; i += 8) {
        int k = n - i < 8 ? n - i : 8;
        __m256 v = load_tail(MC_DTYPE_F32, (const uint8_t *)(x + i), k, 0.0f);
        store_tail(MC_DTYPE_F32, (uint8_t *)(out + i), mc_exp_avx2(v), k);
    }
}
