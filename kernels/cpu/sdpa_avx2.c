/* kernels/cpu/sdpa_avx2.c: AVX2/FMA/F16C building blocks of the SDPA variants (built with -mavx2):
 * a register-tiled (6 x 16), cache-blocked f32 GEMM and dot/axpy loops over dense K and V rows.
 * SPDX-License-Identifier: MIT */
#include <immintrin.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/sdpa_avx2.h"
#include "kernels/cpu/softmax_avx2.h"

#define GEMM_KB 256 /* k per block: a 16-wide B panel of 256 rows is 16 KiB, it stays in L1 */
#define GEMM_MB 60  /* rows per block (ten 6-row tiles): 60 x 256 of A is 60 KiB, it stays in L2 */

/* C rows 0..6, 16 columns: alpha * sum_p A[r][p] B[p][0..16), plus C when acc. Twelve
 * accumulators keep both FMA ports busy through the 4-cycle FMA latency. */
static void kernel_6x16(int64_t k, float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
                        float *c, int64_t ldc, int acc)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int64_t p = 0; p < k; p++) {
        const __m256 b0 = _mm256_loadu_ps(b + p * ldb), b1 = _mm256_loadu_ps(b + p * ldb + 8);
        __m256 a0 = _mm256_broadcast_ss(a + p), a1 = _mm256_broadcast_ss(a + lda + p);
        c00 = _mm256_fmadd_ps(a0, b0, c00);
        c01 = _mm256_fmadd_ps(a0, b1, c01);
        c10 = _mm256_fmadd_ps(a1, b0, c10);
        c11 = _mm256_fmadd_ps(a1, b1, c11);
        a0 = _mm256_broadcast_ss(a + 2 * lda + p);
        a1 = _mm256_broadcast_ss(a + 3 * lda + p);
        c20 = _mm256_fmadd_ps(a0, b0, c20);
        c21 = _mm256_fmadd_ps(a0, b1, c21);
        c30 = _mm256_fmadd_ps(a1, b0, c30);
        c31 = _mm256_fmadd_ps(a1, b1, c31);
        a0 = _mm256_broadcast_ss(a + 4 * lda + p);
        a1 = _mm256_broadcast_ss(a + 5 * lda + p);
        c40 = _mm256_fmadd_ps(a0, b0, c40);
        c41 = _mm256_fmadd_ps(a0, b1, c41);
        c50 = _mm256_fmadd_ps(a1, b0, c50);
        c51 = _mm256_fmadd_ps(a1, b1, c51);
    }
    const __m256 al = _mm256_set1_ps(alpha);
    const __m256 out[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    for (int r = 0; r < 6; r++)
        for (int h = 0; h < 2; h++) {
            float *dst = c + r * ldc + 8 * h;
            __m256 v = _mm256_mul_ps(al, out[2 * r + h]);
            _mm256_storeu_ps(dst, acc ? _mm256_add_ps(_mm256_loadu_ps(dst), v) : v);
        }
}

static void kernel_1x16(int64_t k, float alpha, const float *a, const float *b, int64_t ldb, float *c, int acc)
{
    __m256 c0 = _mm256_setzero_ps(), c1 = c0;
    for (int64_t p = 0; p < k; p++) {
        const __m256 a0 = _mm256_broadcast_ss(a + p);
        c0 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b + p * ldb), c0);
        c1 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b + p * ldb + 8), c1);
    }
    const __m256 al = _mm256_set1_ps(alpha);
    c0 = _mm256_mul_ps(al, c0);
    c1 = _mm256_mul_ps(al, c1);
    if (acc) {
        c0 = _mm256_add_ps(_mm256_loadu_ps(c), c0);
        c1 = _mm256_add_ps(_mm256_loadu_ps(c + 8), c1);
    }
    _mm256_storeu_ps(c, c0);
    _mm256_storeu_ps(c + 8, c1);
}

void mc_sdpa_gemm_avx2(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                       const float *b, int64_t ldb, float *c, int64_t ldc, int accumulate)
{
    if (k == 0 && !accumulate) {
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                c[i * ldc + j] = 0.0f;
        return;
    }
    for (int64_t p0 = 0; p0 < k; p0 += GEMM_KB) {
        const int64_t kb = k - p0 < GEMM_KB ? k - p0 : GEMM_KB;
        const int acc = accumulate || p0 > 0;
        for (int64_t i0 = 0; i0 < m; i0 += GEMM_MB) {
            const int64_t i1 = m - i0 < GEMM_MB ? m : i0 + GEMM_MB;
            for (int64_t j = 0; j < n; j += 16) {
                const float *bp = b + p0 * ldb + j;
                int64_t i = i0;
                for (; i + 6 <= i1; i += 6)
                    kernel_6x16(kb, alpha, a + i * lda + p0, lda, bp, ldb, c + i * ldc + j, ldc, acc);
                for (; i < i1; i++)
                    kernel_1x16(kb, alpha, a + i * lda + p0, bp, ldb, c + i * ldc + j, acc);
            }
        }
    }
}

/* 8 elements of dtype dt at p as floats (p dense and element-aligned). */
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

void mc_sdpa_dot_keys_avx2(mc_dtype dt, const uint8_t *k_row, int64_t k_stride, int count, const float *q,
                           int64_t d, float *out)
{
    const int64_t eb = mc_cpu_elem_bytes(dt);
    __m256 s[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int64_t c = 0;
    for (; c + 8 <= d; c += 8) {
        const __m256 qv = _mm256_loadu_ps(q + c);
        for (int t = 0; t < count; t++)
            s[t] = _mm256_fmadd_ps(load8(dt, k_row + t * k_stride + c * eb), qv, s[t]);
    }
    for (int t = 0; t < count; t++) {
        float acc = mc_hsum_avx2(s[t]);
        for (int64_t cc = c; cc < d; cc++)
            acc += q[cc] * mc_cpu_load(dt, k_row + t * k_stride + cc * eb);
        out[t] = acc;
    }
}

void mc_sdpa_axpy_avx2(mc_dtype dt, float *o, const uint8_t *v, int64_t d, float p)
{
    const int64_t eb = mc_cpu_elem_bytes(dt);
    const __m256 pv = _mm256_set1_ps(p);
    int64_t c = 0;
    for (; c + 8 <= d; c += 8)
        _mm256_storeu_ps(o + c, _mm256_fmadd_ps(pv, load8(dt, v + c * eb), _mm256_loadu_ps(o + c)));
    for (; c < d; c++)
        o[c] += p * mc_cpu_load(dt, v + c * eb);
}

void mc_sdpa_scale_avx2(float *v, int64_t n, float s)
{
    const __m256 sv = _mm256_set1_ps(s);
    int64_t c = 0;
    for (; c + 8 <= n; c += 8)
        _mm256_storeu_ps(v + c, _mm256_mul_ps(sv, _mm256_loadu_ps(v + c)));
    for (; c < n; c++)
        v[c] *= s;
}

/* Transposes the 8 x 8 block held in r[0..8) (row t becomes column t). */
static inline void transpose8(__m256 r[8])
{
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

void mc_sdpa_pack_transposed_avx2(mc_dtype dt, const uint8_t *src, int64_t row_stride, int64_t nk, int64_t d,
                                  float *dst, int64_t ldd)
{
    const int64_t eb = mc_cpu_elem_bytes(dt);
    int64_t j = 0;
    for (; j + 8 <= nk; j += 8) {
        const uint8_t *rows = src + j * row_stride;
        int64_t c = 0;
        for (; c + 8 <= d; c += 8) {
            __m256 r[8];
            for (int t = 0; t < 8; t++)
                r[t] = load8(dt, rows + t * row_stride + c * eb);
            transpose8(r);
            for (int t = 0; t < 8; t++)
                _mm256_storeu_ps(dst + (c + t) * ldd + j, r[t]);
        }
        for (; c < d; c++)
            for (int t = 0; t < 8; t++)
                dst[c * ldd + j + t] = mc_cpu_load(dt, rows + t * row_stride + c * eb);
    }
    for (; j < nk; j++)
        for (int64_t c = 0; c < d; c++)
            dst[c * ldd + j] = mc_cpu_load(dt, src + j * row_stride + c * eb);
}
