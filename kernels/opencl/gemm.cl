/* kernels/opencl/gemm.cl: tiled GEMM, C = alpha*A*B + beta*C + bias, with __local tiles and
 * register blocking; tile sizes and access directions are build options.
 * SPDX-License-Identifier: MIT */

/* Build options:
 *   TILE_M, TILE_N, TILE_K   the block of C a work-group computes and the k-slab it stages
 *   WPT_M, WPT_N             outputs per work-item in each direction (register blocking)
 *   DT_A, DT_B, DT_C, DT_BIAS dtype codes (common.cl)
 *   A_KFAST                  1 when A's k index is its smaller stride (row-major A): tile loads then
 *                            walk k across neighbouring work-items, so global reads coalesce
 *   B_NFAST                  1 when B's n index is its smaller stride (row-major B)
 * The work-group is (TILE_N / WPT_N) x (TILE_M / WPT_M). Work-item (tn, tm) owns rows tm + r*THREADS_M
 * and columns tn + s*THREADS_N of the block: neighbours read neighbouring __local words (no bank
 * conflicts) and store neighbouring columns of C (coalesced for row-major C). */
#define THREADS_N (TILE_N / WPT_N)
#define THREADS_M (TILE_M / WPT_M)
#define THREADS (THREADS_N * THREADS_M)
#if (TILE_M * TILE_K) % THREADS != 0 || (TILE_N * TILE_K) % THREADS != 0
#error "every work-item must stage the same number of tile elements"
#endif
#define TILE_PAD 1 /* one spare word per __local row: transposing tile stores do not hit one bank */

__kernel __attribute__((reqd_work_group_size(THREADS_N, THREADS_M, 1)))
void gemm_tiled(__global const uchar *a, long a_off, long4 a_ne, long4 a_nb,
                __global const uchar *b, long b_off, long4 b_ne, long4 b_nb,
                __global uchar *c, long c_off, long4 c_ne, long4 c_nb,
                __global const uchar *bias, long bias_off, long4 bias_ne, long4 bias_nb,
                float alpha, float beta, int has_bias)
{
    __local float a_tile[TILE_K][TILE_M + TILE_PAD];
    __local float b_tile[TILE_K][TILE_N + TILE_PAD];
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

    for (long p0 = 0; p0 < k; p0 += TILE_K) {
        /* stage A[i0.., p0..] and B[p0.., j0..]; outside the matrix stage zeros, never read */
#pragma unroll
        for (int t = 0; t < TILE_M * TILE_K / THREADS; t++) {
            const int e = tid + t * THREADS;
#if A_KFAST
            const int kk = e % TILE_K, mm = e / TILE_K;
#else
            const int mm = e % TILE_M, kk = e / TILE_M;
#endif
            const long gi = i0 + mm, gp = p0 + kk;
            a_tile[kk][mm] = gi < m && gp < k ? mc_load(a, a_base + gi * a_nb.s1 + gp * a_nb.s0, DT_A) : 0.0f;
        }
#pragma unroll
        for (int t = 0; t < TILE_N * TILE_K / THREADS; t++) {
            const int e = tid + t * THREADS;
#if B_NFAST
            const int nn = e % TILE_N, kk = e / TILE_N;
#else
            const int kk = e % TILE_K, nn = e / TILE_K;
#endif
            const long gj = j0 + nn, gp = p0 + kk;
            b_tile[kk][nn] = gj < n && gp < k ? mc_load(b, b_base + gp * b_nb.s1 + gj * b_nb.s0, DT_B) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
#pragma unroll
        for (int kk = 0; kk < TILE_K; kk++) {
            float ar[WPT_M], br[WPT_N];
#pragma unroll
            for (int r = 0; r < WPT_M; r++)
                ar[r] = a_tile[kk][tm + r * THREADS_M];
#pragma unroll
            for (int s = 0; s < WPT_N; s++)
                br[s] = b_tile[kk][tn + s * THREADS_N];
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
        const long gi = i0 + tm + r * THREADS_M;
#pragma unroll
        for (int s = 0; s < WPT_N; s++) {
            const long gj = j0 + tn + s * THREADS_N;
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
