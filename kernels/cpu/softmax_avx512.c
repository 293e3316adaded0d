/* kernels/cpu/softmax_avx512.c: AVX-512 row primitives for softmax_avx512 (16 lanes, masked tails,
 * vector f16/bf16 conversions) and the branch-free 16-lane exp (table of 2^(j/16) + vscalefps).
 * SPDX-License-Identifier: MIT */
#include <immintrin.h>
#include <math.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/softmax_avx2.h"
#include "kernels/cpu/softmax_avx512.h"

#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

/* 2^(j/16), j = 0..15, each rounded to nearest f32. */
static const float exp2_sixteenths[16] = {
    0x1p+0f,       0x1.0b5586p+0f, 0x1.172b84p+0f, 0x1.2387a6p+0f, 0x1.306fep+0f,  0x1.3dea64p+0f,
    0x1.4bfdaep+0f, 0x1.5ab07ep+0f, 0x1.6a09e6p+0f, 0x1.7a1148p+0f, 0x1.8ace54p+0f, 0x1.9c4918p+0f,
    0x1.ae89fap+0f, 0x1.c199bep+0f, 0x1.d5818ep+0f, 0x1.ea4afap+0f,
};

/* exp(x), 16 lanes, x <= 1e5 (softmax's arguments are <= 0 up to one rounding), no branch.
 *
 * exp(x) = 2^(n/16) e^r: n = round(16 x / ln2), r = x - n ln2/16, |r| <= ln2/32 = 0.0217;
 * 2^(n/16) = 2^floor(n/16) T[n mod 16] with T the table above.
 * Reduction: h = n/16 comes from the rounding trick with 1.5 * 2^19, whose ulp is 1/16: adding it
 * rounds x / ln2 to a multiple of 1/16 (the same rounding as 16 x / ln2 to an integer, scaled), its
 * low 4 mantissa bits are n mod 16 (they index T directly), and h itself is the exponent that
 * vscalefps takes (it multiplies by 2^floor(h)), so no multiply by 1/16 is needed.
 * ln2 = L1 + L2 with L1 = 355/512 (9 bits) so h L1 (= n ln2/16's leading part) is exact for |n| <=
 * 2400; each of the two FMAs rounds once: r carries 2 u |r| <= 0.05 u (u = 2^-24), plus
 * |n| |L1 + L2 - ln2| / 16 <= 2400 * 2^-41 = 0.01 u; an absolute error d in r is a relative error d in e^r.
 * Polynomial: e^r ~ 1 + r q, q = 1 + r/2 + r^2/6 (Taylor, degree 3): truncation r^4/24 <= 9.2e-9
 * = 0.16 u; q and r q round once each, reaching the result damped by |r|: <= 0.05 u.
 * Assembly: T[j] rounded to f32: u; T + T (r q) is one FMA: u. vscalefps multiplies by
 * 2^floor(h) exactly while the result is normal, and rounds once into the subnormals (0.5 ulp
 * of 2^-149 absolute, which the op budgets as underflow_abs).
 * Total: before the final FMA rounds, |rel err| <= (0.05 + 0.01 + 0.16 + 0.05 + 1) u = 1.27 u, at
 * most 1.27 ulp (an ulp is 2^-24 to 2^-23 of a value, so u of it where the binade tops out); the
 * final rounding adds 0.5 ulp: <= 1.77 ulp, inside the op's exp_ulps = 4 (engine/ops/op_common.c)
 * and the 2 ulp that test_kernels_cpu holds it to, sweeping it against exp() over the whole float
 * range, as the AVX2 exp. (This count read "2.3 u = 1.15 ulp" before: it took an ulp as 2 u.)
 * Every step computes the value it did when n was rounded as an integer (1.5 * 2^23, then n / 16
 * for vscalefps, n L1 / 16 with L1 / 16): the results are bitwise the same, one multiply fewer.
 * Edges: x < -104 (exp below half the smallest subnormal; -inf included) is clamped to -104,
 * whose 2^-150 T e^r < 2^-150 rounds to exactly 0; x > 88.73 comes out inf (scalef overflows). */
AVX512_TARGET static inline __m512 exp16(__m512 x)
{
    const __m512 magic = _mm512_set1_ps(786432.0f); /* 1.5 * 2^19: adding it rounds to a multiple of 1/16 */
    x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
    const __m512 k = _mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504088896341f), magic);
    const __m512 h = _mm512_sub_ps(k, magic);
    __m512 r = _mm512_fnmadd_ps(h, _mm512_set1_ps(0x1.63p-1f), x);
    r = _mm512_fnmadd_ps(h, _mm512_set1_ps(-0x1.bd0106p-13f), r);
    __m512 q = _mm512_fmadd_ps(r, _mm512_set1_ps(1.0f / 6.0f), _mm512_set1_ps(0.5f));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.0f));
    /* k's low 4 mantissa bits hold n mod 16, the 4 bits of each index vpermps reads */
    const __m512 t = _mm512_permutexvar_ps(_mm512_castps_si512(k), _mm512_loadu_ps(exp2_sixteenths));
    const __m512 e = _mm512_fmadd_ps(t, _mm512_mul_ps(r, q), t);
    /* scalef multiplies by 2^floor(h) = 2^floor(n / 16) */
    return _mm512_scalef_ps(e, h);
}

/* The first k lanes of 16 (k <= 16). */
static inline __mmask16 lanes(int64_t k)
{
    return (__mmask16)((1u << k) - 1u);
}

/* 16 elements of dtype dt at p as floats; lanes outside mask k read nothing and are 0. */
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

/* 16 floats to bf16 bits as mc_f32_to_bf16: round to nearest even, a NaN kept a quiet NaN. */
AVX512_TARGET static inline __m256i bf16_of(__m512 v)
{
    const __m512i x = _mm512_castps_si512(v);
    const __m512i hi = _mm512_srli_epi32(x, 16);
    const __m512i lsb = _mm512_and_si512(hi, _mm512_set1_epi32(1));
    const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(x, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7FFF))), 16);
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    const __m512i bits = _mm512_mask_or_epi32(rounded, nan, hi, _mm512_set1_epi32(0x40));
    return _mm512_cvtepi32_epi16(bits);
}

/* Stores the lanes of mask k as dtype dt at p, rounded to nearest even. */
AVX512_TARGET static inline void store16(mc_dtype dt, uint8_t *p, __m512 v, __mmask16 k)
{
    switch (dt) {
    case MC_DTYPE_F16:
        _mm256_mask_storeu_epi16(p, k, _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        break;
    case MC_DTYPE_BF16:
        _mm256_mask_storeu_epi16(p, k, bf16_of(v));
        break;
    default:
        _mm512_mask_storeu_ps(p, k, v);
        break;
    }
}

/* The row's largest (or, lowest != 0, smallest) element: four accumulators, so the loop runs at
 * the loads' rate instead of waiting on one chain of maxima (two chains took 2 cycles per 16
 * elements in L1). Inlined with constant dt and lowest: no branch in the loop. */
AVX512_TARGET static inline __attribute__((always_inline)) float row_extreme(mc_dtype dt, const uint8_t *x, int64_t n,
                                                                             int lowest)
{
    const int64_t eb = mc_cpu_elem_bytes(dt);
    const __m512 none = _mm512_set1_ps(lowest ? INFINITY : -INFINITY);
    __m512 m0 = none, m1 = none, m2 = none, m3 = none;
    int64_t j = 0;
    for (; j + 64 <= n; j += 64) {
        const __m512 v0 = load16(dt, x + j * eb, 0xFFFF), v1 = load16(dt, x + (j + 16) * eb, 0xFFFF);
        const __m512 v2 = load16(dt, x + (j + 32) * eb, 0xFFFF), v3 = load16(dt, x + (j + 48) * eb, 0xFFFF);
        m0 = lowest ? _mm512_min_ps(m0, v0) : _mm512_max_ps(m0, v0);
        m1 = lowest ? _mm512_min_ps(m1, v1) : _mm512_max_ps(m1, v1);
        m2 = lowest ? _mm512_min_ps(m2, v2) : _mm512_max_ps(m2, v2);
        m3 = lowest ? _mm512_min_ps(m3, v3) : _mm512_max_ps(m3, v3);
    }
    for (; j < n; j += 16) {
        const __mmask16 k = lanes(n - j < 16 ? n - j : 16);
        const __m512 v = load16(dt, x + j * eb, k);
        m0 = lowest ? _mm512_mask_min_ps(m0, k, m0, v) : _mm512_mask_max_ps(m0, k, m0, v);
    }
    if (lowest)
        return _mm512_reduce_min_ps(_mm512_min_ps(_mm512_min_ps(m0, m1), _mm512_min_ps(m2, m3)));
    return _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3)));
}

/* max_j round(scale x_j) is round(scale max_j x_j) for scale >= 0 (rounding is monotonic), and
 * round(scale min_j x_j) for scale < 0: one multiply per row instead of one per element. */
AVX512_TARGET float mc_avx512_row_max(mc_dtype dt, const uint8_t *x, int64_t n, float scale)
{
    if (n == 0)
        return -INFINITY;
    const int lowest = scale < 0.0f;
    float m;
    switch (dt) {
    case MC_DTYPE_F16:
        m = lowest ? row_extreme(MC_DTYPE_F16, x, n, 1) : row_extreme(MC_DTYPE_F16, x, n, 0);
        break;
    case MC_DTYPE_BF16:
        m = lowest ? row_extreme(MC_DTYPE_BF16, x, n, 1) : row_extreme(MC_DTYPE_BF16, x, n, 0);
        break;
    default:
        m = lowest ? row_extreme(MC_DTYPE_F32, x, n, 1) : row_extreme(MC_DTYPE_F32, x, n, 0);
        break;
    }
    return scale * m;
}

#define INLINE_LOOP static inline __attribute__((always_inline))

/* 32 elements of a held-back row (dtype ydt at y, exponentials v) from element j: v * f, rounded
 * to ydt, streamed when nt. */
AVX512_TARGET INLINE_LOOP void store32(mc_dtype ydt, uint8_t *y, const float *v, int64_t j, __m512 f, int nt)
{
    const int64_t eb = mc_cpu_elem_bytes(ydt);
    for (int64_t i = j; i < j + 32; i += 16) {
        const __m512 w = _mm512_mul_ps(_mm512_loadu_ps(v + i), f);
        uint8_t *dst = y + i * eb;
        if (!nt)
            store16(ydt, dst, w, 0xFFFF);
        else if (ydt == MC_DTYPE_F32)
            _mm512_stream_ps((float *)dst, w);
        else if (ydt == MC_DTYPE_F16)
            _mm256_stream_si256((__m256i *)dst, _mm512_cvtps_ph(w, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        else
            _mm256_stream_si256((__m256i *)dst, bf16_of(w));
    }
}

/* 32 exponentials exp(s x + m) from element j of x into v, added to the two sums. */
AVX512_TARGET INLINE_LOOP void exp32(mc_dtype dt, const uint8_t *x, int64_t j, __m512 s, __m512 m, float *v,
                                     __m512 *s0, __m512 *s1)
{
    const int64_t eb = mc_cpu_elem_bytes(dt);
    const __m512 e0 = exp16(_mm512_fmadd_ps(s, load16(dt, x + j * eb, 0xFFFF), m));
    const __m512 e1 = exp16(_mm512_fmadd_ps(s, load16(dt, x + (j + 16) * eb, 0xFFFF), m));
    _mm512_storeu_ps(v + j, e0);
    _mm512_storeu_ps(v + j + 16, e1);
    *s0 = _mm512_add_ps(*s0, e0);
    *s1 = _mm512_add_ps(*s1, e1);
}

/* mc_avx512_exp_sum_store for x and a held-back row of dtypes dt and ydt, streamed when nt:
 * inlined with constants, the loop carries no dtype branch, and the held-back row's blocks are a
 * loop of their own instead of a test per block. Each block of the held-back row is read before
 * this row's exponentials are written over the same elements, and its rest is stored before this
 * row's blocks past it are written: v may be prev->v itself. */
AVX512_TARGET INLINE_LOOP float exp_sum_loop(mc_dtype dt, mc_dtype ydt, int nt, const uint8_t *x, int64_t n,
                                             float scale, float max, float *v, const uint8_t *next_x,
                                             const mc_avx512_pending *prev)
{
    const int64_t eb = mc_cpu_elem_bytes(dt);
    const __m512 s = _mm512_set1_ps(scale), m = _mm512_set1_ps(-max);
    /* prev's factor as mc_avx512_store_row computes it */
    const __m512 f = _mm512_set1_ps(prev->mul / prev->div);
    /* this row's whole 32-element blocks; the held-back row's stored alongside the first of them */
    const int64_t whole = n & ~INT64_C(31), held = prev->n < whole ? prev->n & ~INT64_C(31) : whole;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0;
    int64_t j = 0;
    for (; j < held; j += 32) {
        mc_softmax_prefetch_block(next_x, eb, j);
        store32(ydt, prev->y, prev->v, j, f, nt);
        exp32(dt, x, j, s, m, v, &s0, &s1);
    }
    if (nt)
        _mm_sfence();
    /* what the loop left of prev: past this row's whole 32-element blocks */
    if (prev->n > held)
        mc_avx512_store_row(ydt, prev->y + held * mc_cpu_elem_bytes(ydt), prev->v + held, prev->n - held, prev->mul,
                            prev->div, prev->stream);
    for (; j < whole; j += 32) {
        mc_softmax_prefetch_block(next_x, eb, j);
        exp32(dt, x, j, s, m, v, &s0, &s1);
    }
    for (; j < n; j += 16) {
        const __mmask16 k = lanes(n - j < 16 ? n - j : 16);
        const __m512 e = exp16(_mm512_fmadd_ps(s, load16(dt, x + j * eb, k), m));
        _mm512_mask_storeu_ps(v + j, k, e);
        s1 = _mm512_mask_add_ps(s1, k, s1, e);
    }
    /* lanes added in a fixed order: the result depends on the inputs only */
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

AVX512_TARGET float mc_avx512_exp_sum_store(mc_dtype dt, const uint8_t *x, int64_t n, float scale, float max, float *v,
                                            const uint8_t *next_x, const mc_avx512_pending *prev)
{
    /* streaming as mc_avx512_store_row decides it */
    const int nt = prev->stream && ((uintptr_t)prev->y & (uintptr_t)(16 * mc_cpu_elem_bytes(prev->dt) - 1)) == 0;
    switch (dt) { /* prev->dt is dt (the contract): one loop per dtype and streaming */
    case MC_DTYPE_F16:
        return nt ? exp_sum_loop(MC_DTYPE_F16, MC_DTYPE_F16, 1, x, n, scale, max, v, next_x, prev)
                  : exp_sum_loop(MC_DTYPE_F16, MC_DTYPE_F16, 0, x, n, scale, max, v, next_x, prev);
    case MC_DTYPE_BF16:
        return nt ? exp_sum_loop(MC_DTYPE_BF16, MC_DTYPE_BF16, 1, x, n, scale, max, v, next_x, prev)
                  : exp_sum_loop(MC_DTYPE_BF16, MC_DTYPE_BF16, 0, x, n, scale, max, v, next_x, prev);
    default:
        return nt ? exp_sum_loop(MC_DTYPE_F32, MC_DTYPE_F32, 1, x, n, scale, max, v, next_x, prev)
                  : exp_sum_loop(MC_DTYPE_F32, MC_DTYPE_F32, 0, x, n, scale, max, v, next_x, prev);
    }
}

AVX512_TARGET float mc_avx512_exp_sum(mc_dtype dt, const uint8_t *x, int64_t n, float scale, float max, float *v,
                                      const uint8_t *next_x)
{
    const mc_avx512_pending none = {.dt = dt, .y = NULL, .v = NULL, .n = 0, .mul = 1.0f, .div = 1.0f};
    return mc_avx512_exp_sum_store(dt, x, n, scale, max, v, next_x, &none); /* nothing held back */
}

AVX512_TARGET void mc_avx512_store_row(mc_dtype dt, uint8_t *y, const float *v, int64_t n, float mul, float div,
                                       int stream)
{
    const int64_t eb = mc_cpu_elem_bytes(dt);
    /* one factor, then a multiply per element: the bound budgets a reciprocal and a multiply */
    const __m512 f = _mm512_set1_ps(mul / div);
    int64_t j = 0;
    /* non-temporal stores need a vector-aligned row; they skip reading y's lines before writing */
    if (stream && ((uintptr_t)y & (uintptr_t)(16 * eb - 1)) == 0) {
        for (; j + 16 <= n; j += 16) {
            const __m512 w = _mm512_mul_ps(_mm512_loadu_ps(v + j), f);
            if (dt == MC_DTYPE_F32)
                _mm512_stream_ps((float *)(y + j * eb), w);
            else if (dt == MC_DTYPE_F16)
                _mm256_stream_si256((__m256i *)(y + j * eb), _mm512_cvtps_ph(w, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
            else
                _mm256_stream_si256((__m256i *)(y + j * eb), bf16_of(w));
        }
        _mm_sfence(); /* ordered before any later store of this thread, the run's end included */
    }
    for (; j + 16 <= n; j += 16)
        store16(dt, y + j * eb, _mm512_mul_ps(_mm512_loadu_ps(v + j), f), 0xFFFF);
    if (j < n) {
        const __mmask16 k = lanes(n - j);
        store16(dt, y + j * eb, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, v + j), f), k);
    }
}

AVX512_TARGET void mc_avx512_exp_n(const float *x, float *out, int n)
{
    for (int i = 0; i < n; i += 16) {
        const __mmask16 k = lanes(n - i < 16 ? n - i : 16);
        _mm512_mask_storeu_ps(out + i, k, exp16(_mm512_maskz_loadu_ps(k, x + i)));
    }
}

const char *mc_avx512_softmax_probe(void)
{
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512vl"))
        return "needs AVX-512 F, BW and VL";
    return NULL;
}
