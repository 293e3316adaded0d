/* kernels/cuda/gemm_mma.cu: tensor-core GEMM (mma.sync m16n8k16, f16 or bf16 in, f32 accumulate) for
 * compute capability 8.0 and up, C = alpha*A*B + beta*C + bias.
 * SPDX-License-Identifier: MIT */

/* Options:
 *   DT_AB       dtype code of A and B (1 f16, 2 bf16): the mma's input type
 *   DT_C, DT_BIAS dtype codes of C and the bias (any plain float; MC_BYTEWISE for a misaligned C)
 *   BN          columns of C per block: 128 (each warp 64 x 32) or 256 (each warp 64 x 64)
 *   BK          k per slab: 32 or 64
 *   STAGES      shared-memory stages of the k pipeline (2 to 4): STAGES - 1 slabs are in flight
 *               while the tensor cores work on the current one
 * What the host proved (gemm_cuda.c's mma supports): A is k-fast (nb[0] = 2) and B n-fast, their
 * bases and row and batch strides are multiples of 16 bytes, k and n are multiples of 8: every
 * 16-byte chunk of 8 elements lies wholly inside or outside the matrix, so cp.async copies it whole
 * or fills zeros.
 * A block of 256 threads (8 warps, 2 x 4) computes a 128 x BN block of C; each warp a 64 x BN/4
 * piece as 16 x 8 mma tiles. K advances in slabs of BK through STAGES shared-memory stages (dynamic
 * shared memory: STAGES x (128 x (BK + 8) + BK x (BN + 8)) halves). Rows of the staged tiles are padded
 * by 8 halves, so ldmatrix's eight row addresses hit eight bank groups. */
#define BM 128
#define WARPS_N 4
#define THREADS 256
#define WM 64 /* rows of C per warp */
#define WN (BN / WARPS_N) /* columns of C per warp */
#define MT (WM / 16)
#define NT (WN / 8)
#define A_PITCH (BK + 8)
#define B_PITCH (BN + 8)
#define A_STAGE (BM * A_PITCH) /* halves of one stage of A */
#define B_STAGE (BK * B_PITCH)

#if DT_AB == MC_BF16
#define MMA_OP "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"
#else
#define MMA_OP "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32"
#endif

/* 16 bytes global -> shared, or 16 zero bytes when !inside (nothing is read then). */
__device__ __forceinline__ void copy16(void *dst, const u8 *src, bool inside)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(mc_smem_addr(dst)), "l"(src),
                 "r"(inside ? 16 : 0));
}

/* Where this thread's 16-byte chunks of every slab come from, worked out once: its chunk t of A
 * is row a_row + t * A_ROWS_STEP, columns a_kc.. of the slab; of B row b_row + t * B_ROWS_STEP,
 * columns b_nc... A slab at k0 then costs an add and two compares a chunk (the 64-bit index
 * products a chunk took before issued as many instructions as the tensor cores' own work). */
#define A_ROWS_STEP (THREADS / (BK / 8))
#define B_ROWS_STEP (THREADS / (BN / 8))
struct slab_src {
    const u8 *a;      /* chunk 0 of A at k0 = 0 */
    i64 a_step;       /* bytes from chunk t to t + 1 (A_ROWS_STEP rows) */
    i64 a_rows_left;  /* chunk t is inside while t * A_ROWS_STEP < a_rows_left */
    const u8 *b;      /* chunk 0 of B at k0 = 0 */
    i64 b_step;       /* B_ROWS_STEP rows of B */
    i64 b_row_bytes;  /* one row of B: the step from slab to slab is BK of them */
    bool b_col_inside;
    int a_row, a_kc, b_row, b_nc;
};

__device__ __forceinline__ slab_src slab_src_of(const mc_t &a, i64 a_base, const mc_t &b, i64 b_base, i64 i0, i64 j0,
                                                i64 m, i64 n, int tid)
{
    slab_src s;
    s.a_row = tid / (BK / 8);
    s.a_kc = tid % (BK / 8) * 8;
    s.b_row = tid / (BN / 8);
    s.b_nc = tid % (BN / 8) * 8;
    s.a = a.base + a_base + (i0 + s.a_row) * a.nb[1] + s.a_kc * 2;
    s.a_step = A_ROWS_STEP * a.nb[1];
    s.a_rows_left = m - i0 - s.a_row;
    s.b = b.base + b_base + s.b_row * b.nb[1] + (j0 + s.b_nc) * 2;
    s.b_step = B_ROWS_STEP * b.nb[1];
    s.b_row_bytes = b.nb[1];
    s.b_col_inside = j0 + s.b_nc < n;
    return s;
}

/* Stages slab k0 of A (BM x BK) and B (BK x BN) in 16-byte chunks, then commits the copies as one
 * group. A chunk outside the matrix is filled with zeros and reads nothing (src is then any valid
 * address: the tensor's base). */
__device__ __forceinline__ void load_slab(u16 (*as)[A_PITCH], u16 (*bs)[B_PITCH], const slab_src &s, const mc_t &a,
                                          const mc_t &b, i64 k, i64 k0)
{
    const bool a_k_inside = k0 + s.a_kc < k;
    const u8 *a_src = s.a + k0 * 2;
#pragma unroll
    for (int t = 0; t < BM * BK / 8 / THREADS; t++) {
        const bool inside = a_k_inside && t * A_ROWS_STEP < s.a_rows_left;
        copy16(&as[s.a_row + t * A_ROWS_STEP][s.a_kc], inside ? a_src + t * s.a_step : a.base, inside);
    }
    const u8 *b_src = s.b + k0 * s.b_row_bytes;
#pragma unroll
    for (int t = 0; t < BK * BN / 8 / THREADS; t++) {
        const bool inside = s.b_col_inside && k0 + s.b_row + t * B_ROWS_STEP < k;
        copy16(&bs[s.b_row + t * B_ROWS_STEP][s.b_nc], inside ? b_src + t * s.b_step : b.base, inside);
    }
    asm volatile("cp.async.commit_group;\n" ::);
}

__device__ __forceinline__ void ldmatrix_x4(u32 *r, const void *p)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(mc_smem_addr(p)));
}

__device__ __forceinline__ void ldmatrix_x4_trans(u32 *r, const void *p)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(mc_smem_addr(p)));
}

__device__ __forceinline__ void mma(float *d, const u32 *a, const u32 *b)
{
    asm volatile(MMA_OP " {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

/* The 16 x 16 piece of A at (row0, kk) of a stage: lane l addresses row l % 16, column 8 * (l / 16),
 * so the four 8 x 8 matrices come back as the mma's a0..a3. */
__device__ __forceinline__ void fragment_a(u32 *r, u16 (*as)[A_PITCH], int row0, int kk, int lane)
{
    ldmatrix_x4(r, &as[row0 + lane % 16][kk + 8 * (lane / 16)]);
}

/* Two 16 x 8 pieces of B at (kk, col0) and (kk, col0 + 8), transposed on the way (B is k-major in
 * shared memory): r[0..1] are the first mma's b0, b1 and r[2..3] the second's. */
__device__ __forceinline__ void fragment_b(u32 *r, u16 (*bs)[B_PITCH], int kk, int col0, int lane)
{
    ldmatrix_x4_trans(r, &bs[kk + lane % 16][col0 + 8 * (lane / 16)]);
}

/* The stage that holds slab s: STAGES of them in a ring, A's and then B's, in dynamic shared memory. */
__device__ __forceinline__ u16 (*stage_a(u16 *smem, i64 s))[A_PITCH]
{
    return (u16(*)[A_PITCH])(smem + (s % STAGES) * A_STAGE);
}

__device__ __forceinline__ u16 (*stage_b(u16 *smem, i64 s))[B_PITCH]
{
    return (u16(*)[B_PITCH])(smem + STAGES * A_STAGE + (s % STAGES) * B_STAGE);
}

/* 128 x 128 tiles fit two blocks a multiprocessor (at most 128 registers a thread); 128 x 256 one. */
extern "C" __global__ void __launch_bounds__(THREADS, BN == 128 ? 2 : 1)
gemm_mma(mc_t a, mc_t b, mc_t c, mc_t bias, float alpha, float beta, int has_bias)
{
    extern __shared__ __align__(16) u16 smem[];
    const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
    const int wm = warp / WARPS_N, wn = warp % WARPS_N;
    const i64 n = c.ne[0], m = c.ne[1], k = a.ne[0];
    const i64 i0 = (i64)blockIdx.y * BM, j0 = (i64)blockIdx.x * BN;
    const mc_gemm_batch at = mc_gemm_batch_of(a, b, c);
    const i64 a_base = at.a, b_base = at.b, c_base = at.c;

    float acc[MT][NT][4];
#pragma unroll
    for (int i = 0; i < MT; i++)
#pragma unroll
        for (int j = 0; j < NT; j++)
#pragma unroll
            for (int e = 0; e < 4; e++)
                acc[i][j][e] = 0.0f;

    /* Slab s's copies are group s (an empty group past the last slab keeps the count): before
     * slab s is used, at most STAGES - 2 younger groups may still be in flight. */
    const i64 slabs = (k + BK - 1) / BK;
    const slab_src src = slab_src_of(a, a_base, b, b_base, i0, j0, m, n, tid);
#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < slabs)
            load_slab(stage_a(smem, s), stage_b(smem, s), src, a, b, k, s * BK);
        else
            asm volatile("cp.async.commit_group;\n" ::);
    }
    for (i64 s = 0; s < slabs; s++) {
        asm volatile("cp.async.wait_group %0;\n" ::"n"(STAGES - 2));
        __syncthreads(); /* slab s is in every thread's view; stage (s - 1) is free for reuse */
        const i64 next = s + STAGES - 1;
        if (next < slabs)
            load_slab(stage_a(smem, next), stage_b(smem, next), src, a, b, k, next * BK);
        else
            asm volatile("cp.async.commit_group;\n" ::);
        u16(*as)[A_PITCH] = stage_a(smem, s);
        u16(*bs)[B_PITCH] = stage_b(smem, s);
#pragma unroll
        for (int kk = 0; kk < BK; kk += 16) {
            u32 fa[MT][4], fb[NT][2];
#pragma unroll
            for (int i = 0; i < MT; i++)
                fragment_a(fa[i], as, wm * WM + i * 16, kk, lane);
#pragma unroll
            for (int j = 0; j < NT; j += 2) {
                u32 r[4];
                fragment_b(r, bs, kk, wn * WN + j * 8, lane);
                fb[j][0] = r[0];
                fb[j][1] = r[1];
                fb[j + 1][0] = r[2];
                fb[j + 1][1] = r[3];
            }
#pragma unroll
            for (int i = 0; i < MT; i++)
#pragma unroll
                for (int j = 0; j < NT; j++)
                    mma(acc[i][j], fa[i], fb[j]);
        }
    }
    asm volatile("cp.async.wait_group 0;\n" ::);

    /* accumulator e of tile (i, j): row g (+8 for e >= 2), column 2t + e % 2, g = lane / 4, t = lane % 4 */
#pragma unroll
    for (int i = 0; i < MT; i++)
#pragma unroll
        for (int j = 0; j < NT; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const i64 gi = i0 + wm * WM + i * 16 + lane / 4 + (e >= 2 ? 8 : 0);
                const i64 gj = j0 + wn * WN + j * 8 + 2 * (lane % 4) + e % 2;
                mc_gemm_store(c, c_base, bias, has_bias, gi, gj, acc[i][j][e], alpha, beta, DT_C, DT_BIAS);
            }
}
