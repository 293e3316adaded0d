/* kernels/cuda/gemm.cu: SIMT tiled GEMM, C = alpha*A*B + beta*C + bias, with shared-memory tiles,
 * register blocking and a register prefetch of the next k-slab (the OpenCL gemm.cl's design); the
 * fallback that runs on every device. Tile sizes and access directions are options.
 * SPDX-License-Identifier: MIT */

/* Options:
 *   TILE_M, TILE_N, TILE_K    the block of C a block computes and the k-slab it stages
 *   WPT_M, WPT_N              outputs per thread in each direction (register blocking)
 *   DT_A, DT_B, DT_C, DT_BIAS dtype codes (common.cl)
 *   A_KFAST                   1 when A's k index is its smaller stride (row-major A): tile loads then
 *                             walk k across neighbouring threads, so global reads coalesce
 *   B_NFAST                   1 when B's n index is its smaller stride (row-major B)
 * The block is (TILE_N / WPT_N) x (TILE_M / WPT_M) threads. Which rows and columns of the
 * block a thread (tn, tm) owns:
 *   WPT a multiple of 4: runs of 4, row (r / 4) * 4 * THREADS_M + 4 * tm + r % 4 (columns alike), read
 *     from shared memory as float4: a quarter of the shared memory instructions, neighbours read neighbouring
 *     16-byte words, and C is stored in 16-byte runs;
 *   otherwise: row tm + r * THREADS_M: neighbours read neighbouring words.
 * Each k-step: the slab fetched during the last step goes from registers to shared memory, the next slab is
 * fetched from global into registers, and the block is updated from shared memory while those loads fly. */
#define THREADS_N (TILE_N / WPT_N)
#define THREADS_M (TILE_M / WPT_M)
#define THREADS (THREADS_N * THREADS_M)
#define LOADS_A (TILE_M * TILE_K / THREADS) /* elements of A each thread stages per slab */
#define LOADS_B (TILE_N * TILE_K / THREADS)
#if (TILE_M * TILE_K) % THREADS != 0 || (TILE_N * TILE_K) % THREADS != 0
#error "every thread must stage the same number of tile elements"
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

/* This thread's share of the slab at k = p0, from global into registers; outside the matrix
 * it stages zeros and reads nothing. */
__device__ __forceinline__ void fetch_slab(float *next_a, float *next_b, const mc_t &a, i64 a_base, const mc_t &b,
                                           i64 b_base, i64 i0, i64 j0, i64 m, i64 n, i64 k, i64 p0, int tid)
{
#pragma unroll
    for (int t = 0; t < LOADS_A; t++) {
        const int e = tid + t * THREADS;
        const i64 gi = i0 + A_MM(e), gp = p0 + A_KK(e);
        next_a[t] = gi < m && gp < k ? mc_load(a.base, a_base + gi * a.nb[1] + gp * a.nb[0], DT_A) : 0.0f;
    }
#pragma unroll
    for (int t = 0; t < LOADS_B; t++) {
        const int e = tid + t * THREADS;
        const i64 gj = j0 + B_NN(e), gp = p0 + B_KK(e);
        next_b[t] = gj < n && gp < k ? mc_load(b.base, b_base + gp * b.nb[1] + gj * b.nb[0], DT_B) : 0.0f;
    }
}

extern "C" __global__ void __launch_bounds__(THREADS)
gemm_tiled(mc_t a, mc_t b, mc_t c, mc_t bias, float alpha, float beta, int has_bias)
{
    __shared__ __align__(16) float a_tile[TILE_K][TILE_M + TILE_PAD];
    __shared__ __align__(16) float b_tile[TILE_K][TILE_N + TILE_PAD];
    const int tn = threadIdx.x, tm = threadIdx.y;
    const int tid = tm * THREADS_N + tn;
    const i64 n = c.ne[0], m = c.ne[1], k = a.ne[0];
    const i64 i0 = (i64)blockIdx.y * TILE_M, j0 = (i64)blockIdx.x * TILE_N;
    const mc_gemm_batch at = mc_gemm_batch_of(a, b, c);
    const i64 a_base = at.a, b_base = at.b, c_base = at.c;

    float acc[WPT_M][WPT_N];
#pragma unroll
    for (int r = 0; r < WPT_M; r++)
#pragma unroll
        for (int s = 0; s < WPT_N; s++)
            acc[r][s] = 0.0f;

    float next_a[LOADS_A], next_b[LOADS_B];
    fetch_slab(next_a, next_b, a, a_base, b, b_base, i0, j0, m, n, k, 0, tid);
    for (i64 p0 = 0; p0 < k; p0 += TILE_K) {
#pragma unroll
        for (int t = 0; t < LOADS_A; t++)
            a_tile[A_KK(tid + t * THREADS)][A_MM(tid + t * THREADS)] = next_a[t];
#pragma unroll
        for (int t = 0; t < LOADS_B; t++)
            b_tile[B_KK(tid + t * THREADS)][B_NN(tid + t * THREADS)] = next_b[t];
        __syncthreads();
        if (p0 + TILE_K < k)
            fetch_slab(next_a, next_b, a, a_base, b, b_base, i0, j0, m, n, k, p0 + TILE_K, tid);
#pragma unroll
        for (int kk = 0; kk < TILE_K; kk++) {
            float ar[WPT_M], br[WPT_N];
#if VEC_LOCAL
#pragma unroll
            for (int g = 0; g < WPT_M / 4; g++) {
                const float4 v = *(const float4 *)&a_tile[kk][g * 4 * THREADS_M + 4 * tm];
                ar[4 * g] = v.x;
                ar[4 * g + 1] = v.y;
                ar[4 * g + 2] = v.z;
                ar[4 * g + 3] = v.w;
            }
#pragma unroll
            for (int g = 0; g < WPT_N / 4; g++) {
                const float4 v = *(const float4 *)&b_tile[kk][g * 4 * THREADS_N + 4 * tn];
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
                    acc[r][s] = fmaf(ar[r], br[s], acc[r][s]);
        }
        __syncthreads();
    }

#pragma unroll
    for (int r = 0; r < WPT_M; r++) {
        const i64 gi = i0 + ROW_OF(r);
#pragma unroll
        for (int s = 0; s < WPT_N; s++) {
            mc_gemm_store(c, c_base, bias, has_bias, gi, j0 + COL_OF(s), acc[r][s], alpha, beta, DT_C, DT_BIAS);
        }
    }
}
