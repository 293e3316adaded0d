/* kernels/opencl/gemm.cl: tiled GEMM, C = alpha*A*B + beta*C + bias, with __local tiles, register
 * blocking and a register prefetch of the next k-slab; tile sizes and access directions are build options.
 * SPDX-License-Identifier: MIT */

/* Build options:
 *   TILE_M, TILE_N, TILE_K    the block of C a work-group computes and the k-slab it stages
 *   WPT_M, WPT_N              outputs per work-item in each direction (register blocking)
 *   DT_A, DT_B, DT_C, DT_BIAS dtype codes (common.cl)
 *   A_KFAST                   1 when A's k index is its smaller stride (row-major A): tile loads then
 *                             walk k across neighbouring work-items, so global reads coalesce
 *   B_NFAST                   1 when B's n index is its smaller stride (row-major B)
 * The work-group is (TILE_N / WPT_N) x (TILE_M / WPT_M) work-items. Which rows and columns of the
 * block a work-item (tn, tm) owns:
 *   WPT a multiple of 4: runs of 4, row (r / 4) * 4 * THREADS_M + 4 * tm + r % 4 (columns alike), read
 *     from __local as float4: a quarter of the __local instructions, neighbours read neighbouring
 *     16-byte words, and C is stored in 16-byte runs;
 *   otherwise: row tm + r * THREADS_M: neighbours read neighbouring words.
 * Each k-step: the slab fetched during the last step goes from registers to __local, the next slab is
 * fetched from global into registers, and the block is updated from __local while those loads fly. */
#define THREADS_N (TILE_N / WPT_N)
#define THREADS_M (TILE_M / WPT_M)
#define THREADS (THREADS_N * THREADS_M)
#define LOADS_A (TILE_M * TILE_K / THREADS) /* elements of A each work-item stages per slab */
#define LOADS_B (TILE_N * TILE_K / THREADS)
#if (TILE_M * TILE_K) % THREADS != 0 || (TILE_N * TILE_K) % THREADS != 0
#error "every work-item must stage the same number of tile elements"
#endif
#define VEC_LOCAL (WPT_M % 4 == 0 && WPT_N % 4 == 0)
#if VEC_LOCAL
#define TILE_PAD 4 /* keeps rows 16-byte aligned; shifts transposing stores by 4 banks per row */
#define ROW_OF(r) (((r) / 4) * 4 * THREADS_M + 4 * tm + (r) % 4)
#define COL_OF(s) (((s) / 4) * 4 * THREADS_N + 4 * tn + (s) % 4)
#else
#define TILE_PAD 1 /* transposing stores do not all hit one bank */
#define ROW_OF(r) (tm + (r) * THREADS_M)
#define COL_OF(s) (tn + (s) * THREADS_N)
#endif

/* Which element of the A slab (mm: row in the block, kk: k in the slab) staging index e is. */
#if A_KFAST
#define A_KK(e) ((e) % TILE_K)
#define A_MM(e) ((e) / TILE_K)
#else
#define A_KK(e) ((e) / TILE_M)
#define A_MM(e) ((e) % TILE_M)
#endif
#if B_NFAST
#define B_KK(e) ((e) / TILE_N)
#define B_NN(e) ((e) % TILE_N)
#else
#define B_KK(e) ((e) % TILE_K)
#define B_NN(e) ((e) / TILE_K)
#endif

/* This work-item's share of the slab at k = p0, from global into registers; outside the matrix
 * it stages zeros and reads nothing. */
inline void fetch_slab(float *next_a, float *next_b, __global const uchar *a, long a_base, long4 a_nb,
                       __global const uchar *b, long b_base, long4 b_nb, long i0, long j0, long m, long n, long k,
                       long p0, int tid)
{
#pragma unroll
    for (int t = 0; t < LOADS_A; t++) {
        const int e = tid + t * THREADS;
        const long gi = i0 + A_MM(e), gp = p0 + A_KK(e);
        next_a[t] = gi < m && gp < k ? mc_load(a, a_base + gi * a_nb.s1 + gp * a_nb.s0, DT_A) : 0.0f;
    }
#pragma unroll
    for (int t = 0; t < LOADS_B; t++) {
        const int e = tid + t * THREADS;
        const long gj = j0 + B_NN(e), gp = p0 + B_KK(e);
        next_b[t] = gj < n && gp < k ? mc_load(b, b_base + gp * b_nb.s1 + gj * b_nb.s0, DT_B) : 0.0f;
    }
}

__kernel __attribute__((reqd_work_group_size(THREADS_N, THREADS_M, 1)))
void gemm_tiled(__global const uchar *a, long a_off, long4 a_ne, long4 a_nb,
                __global const uchar *b, long b_off, long4 b_ne, long4 b_nb,
                __global uchar *c, long c_off, long4 c_ne, long4 c_nb,
                __global const uchar *bias, long bias_off, long4 bias_ne, long4 bias_nb,
                float alpha, float beta, int has_bias)
{
    /* 16-byte aligned: the float4 reads below need it (a float array alone promises 4 bytes) */
    __local float a_tile[TILE_K][TILE_M + TILE_PAD] __attribute__((aligned(16)));
    __local float b_tile[TILE_K][TILE_N + TILE_PAD] __attribute__((aligned(16)));
    const int tn = get_local_id(0), tm = get_local_id(1);
    const int tid = tm * THREADS_N + tn;
    const long n = c_ne.s0, m = c_ne.s1, k = a_ne.s0;
    const long i0 = (long)get_group_id(1) * TILE_M, j0 = (long)get_group_id(0) * TILE_N;
    const long batch = get_group_id(2);
    const long b2 = batch % c_ne.s2, b3 = batch / c_ne.s2;
    const long a_base = a_off + mc_bcast(a_ne.s2, b2) * a_nb.s2 + mc_bcast(a_ne.s3, b3) * a_nb.s3;
    const long b_base = b_off + mc_bcast(b_ne.s2, b2) * b_nb.s2 + mc_bcast(b_ne.s3, b3) * b_nb.s3;
    const long c_base = c_off + b2 * c_nb.s2 + b3 * c_nb.s3;

    float acc[WPT_M][WPT_N];
#pragma unroll
    for (int r = 0; r < WPT_M; r++)
#pragma unroll
        for (int s = 0; s < WPT_N; s++)
            acc[r][s] = 0.0f;

    float next_a[LOADS_A], next_b[LOADS_B];
    fetch_slab(next_a, next_b, a, a_base, a_nb, b, b_base, b_nb, i0, j0, m, n, k, 0, tid);
    for (long p0 = 0; p0 < k; p0 += TILE_K) {
#pragma unroll
        for (int t = 0; t < LOADS_A; t++)
            a_tile[A_KK(tid + t * THREADS)][A_MM(tid + t * THREADS)] = next_a[t];
#pragma unroll
        for (int t = 0; t < LOADS_B; t++)
            b_tile[B_KK(tid + t * THREADS)][B_NN(tid + t * THREADS)] = next_b[t];
        barrier(CLK_LOCAL_MEM_FENCE);
        if (p0 + TILE_K < k)
            fetch_slab(next_a, next_b, a, a_base, a_nb, b, b_base, b_nb, i0, j0, m, n, k, p0 + TILE_K, tid);
#pragma unroll
        for (int kk = 0; kk < TILE_K; kk++) {
            float ar[WPT_M], br[WPT_N];
#if VEC_LOCAL
#pragma unroll
            for (int g = 0; g < WPT_M / 4; g++) {
                const float4 v = *(__local const float4 *)&a_tile[kk][g * 4 * THREADS_M + 4 * tm];
                ar[4 * g] = v.x;
                ar[4 * g + 1] = v.y;
                ar[4 * g + 2] = v.z;
                ar[4 * g + 3] = v.w;
            }
#pragma unroll
            for (int g = 0; g < WPT_N / 4; g++) {
                const float4 v = *(__local const float4 *)&b_tile[kk][g * 4 * THREADS_N + 4 * tn];
                br[4 * g] = v.x;
                br[4 * g + 1] = v.y;
                br[4 * g + 2] = v.z;
                br[4 * g + 3] = v.w;
            }
#else
#pragma unroll
            for (int r = 0; r < WPT_M; r++)
                ar[r] = a_tile[kk][ROW_OF(r)];
#pragma unroll
            for (int s = 0; s < WPT_N; s++)
                br[s] = b_tile[kk][COL_OF(s)];
#endif
#pragma unroll
            for (int r = 0; r < WPT_M; r++)
#pragma unroll
                for (int s = 0; s < WPT_N; s++)
                    acc[r][s] = fma(ar[r], br[s], acc[r][s]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

#pragma unroll
    for (int r = 0; r < WPT_M; r++) {
        const long gi = i0 + ROW_OF(r);
#pragma unroll
        for (int s = 0; s < WPT_N; s++) {
            const long gj = j0 + COL_OF(s);
            if (gi >= m || gj >= n)
                continue;
            const long at = c_base + gi * c_nb.s1 + gj * c_nb.s0;
            float v = alpha * acc[r][s];
            /* beta == 0: C holds a NaN sentinel and must not be read */
            if (beta != 0.0f)
                v += beta * mc_load(c, at, DT_C);
            if (has_bias)
                v += mc_load(bias, bias_off + gj * bias_nb.s0, DT_BIAS);
            mc_store(c, at, DT_C, v);
        }
    }
}
