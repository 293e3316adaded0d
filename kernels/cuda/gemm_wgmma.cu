/* kernels/cuda/gemm_wgmma.cu: tensor-core GEMM on Hopper's warpgroup MMA (wgmma.mma_async, sm_90a):
 * f16 or bf16 in, f32 accumulate, C = alpha*A*B + beta*C + bias, the tensor cores reading both
 * operands straight from shared memory (no fragments in registers, as gemm_mma.cu's mma.sync needs).
 * SPDX-License-Identifier: MIT */

/* Options: DT_AB, DT_C, DT_BIAS, MC_BYTEWISE as in gemm_mma.cu; STAGES, the shared-memory stages of
 * the k pipeline (3 or 4); INFLIGHT, slabs of wgmmas a warpgroup leaves running while it issues the
 * next (0 or 1): the loads run STAGES - 1 - INFLIGHT slabs ahead. What the host proved: as
 * gemm_mma.cu (A k-contiguous, B n-contiguous, 16-byte aligned bases and strides, k and n multiples
 * of 8).
 * A block of 256 threads, two warpgroups, computes a 128 x 256 tile of C: warpgroup g takes rows
 * 64g .. 64g + 63, all 256 columns, as one m64n256k16 wgmma per 16 of k (128 f32 accumulators a
 * thread). K advances in slabs of 64. The shared-memory layouts are the tensor cores' own, in the
 * 128-byte swizzle: an atom is 8 rows of 128 bytes (1024 bytes, 1024-aligned), and the 16-byte chunk
 * c of its row r sits at chunk c ^ r. A's slab (128 x 64, k fastest) is 16 atoms of 8 rows each,
 * one after another; B's slab (64 x 256, n fastest) is atoms of 8 k-rows x 64 columns, the four
 * column atoms of k-rows 8q .. 8q + 7 together. */
#define BM 128 /* gemm_cuda.c's MMA_TILE_M, WGMMA_TILE_N and WGMMA_STAGE_BYTES follow these three */
#define BN 256
#define BK 64
#define THREADS 256
#define ATOM 1024                    /* bytes of a swizzle atom */
#define A_STAGE_BYTES (BM * BK * 2)  /* 16 KiB */
#define B_STAGE_BYTES (BK * BN * 2)  /* 32 KiB */
#define B_GROUP_BYTES (BN / 64 * ATOM) /* one group of 8 k-rows: 4 column atoms */

#if DT_AB == MC_BF16
#define WGMMA_TYPES ".f32.bf16.bf16"
#else
#define WGMMA_TYPES ".f32.f16.f16"
#endif

/* 16 bytes global -> shared at byte address dst, or 16 zero bytes when !inside. */
__device__ __forceinline__ void copy16(u32 dst, const u8 *src, bool inside)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(inside ? 16 : 0));
}

/* Byte offset of chunk c of row r inside its atom (the 128-byte swizzle). */
__device__ __forceinline__ u32 swizzled(int r, int c)
{
    return (u32)(r * 128 + ((c ^ r) * 16));
}

/* Stages slab k0: A's 128 x 64 (4 chunks a thread: chunk tid % 8 of rows tid / 8 + 32t) and B's
 * 64 x 256 (8 chunks a thread: chunk tid % 32 of k-rows tid / 32 + 8t), zeros outside the matrix,
 * and commits them as one group. */
__device__ __forceinline__ void load_slab(u32 as, u32 bs, const mc_t &a, i64 a_base, const mc_t &b, i64 b_base,
                                          i64 i0, i64 j0, i64 m, i64 n, i64 k, i64 k0)
{
    const int tid = threadIdx.x;
    const int ac = tid % 8, ar = tid / 8;
    const i64 ak = k0 + 8 * ac;
#pragma unroll
    for (int t = 0; t < 4; t++) {
        const int r = ar + 32 * t;
        const bool inside = ak < k && i0 + r < m;
        const u8 *src = inside ? a.base + a_base + (i0 + r) * a.nb[1] + ak * 2 : a.base;
        copy16(as + (r / 8) * ATOM + swizzled(r % 8, ac), src, inside);
    }
    const int bc = tid % 32, br = tid / 32;
    const i64 bj = j0 + 8 * bc;
#pragma unroll
    for (int t = 0; t < 8; t++) {
        const i64 kr = k0 + br + 8 * t;
        const bool inside = bj < n && kr < k;
        const u8 *src = inside ? b.base + b_base + kr * b.nb[1] + bj * 2 : b.base;
        copy16(bs + t * B_GROUP_BYTES + (bc / 8) * ATOM + swizzled(br, bc % 8), src, inside);
    }
    asm volatile("cp.async.commit_group;\n" ::);
}

/* A shared-memory matrix descriptor: start address, leading and stride byte offsets (all in 16-byte
 * units), the 128-byte swizzle (mode 1 in bits 62-63). K-major A: the leading offset is unused (1),
 * the stride offset steps 8 rows. N-major B: the leading offset steps 64 columns (one column atom),
 * the stride offset 8 k-rows (measured on an H100: the other reading fails every quick-tier case). */
__device__ __forceinline__ unsigned long long descriptor(u32 addr, u32 leading, u32 stride)
{
    return (unsigned long long)((addr & 0x3FFFF) >> 4) | ((unsigned long long)(leading >> 4) << 16) |
           ((unsigned long long)(stride >> 4) << 32) | (1ull << 62);
}

/* d += A . B for one 64 x 256 x 16 step: A K-major (no transpose), B N-major (transposed). */
__device__ __forceinline__ void wgmma_m64n256k16(float *d, unsigned long long da, unsigned long long db)
{
    asm volatile("{\n"
                 "wgmma.mma_async.sync.aligned.m64n256k16" WGMMA_TYPES " {"
                 "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
                 "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
                 "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
                 "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, "
                 "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, "
                 "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, "
                 "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, "
                 "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"
                 "}, %128, %129, 1, 1, 1, 0, 1;\n"
                 "}\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
                   "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
                   "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
                   "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
                   "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
                   "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
                   "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
                   "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]),
                   "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]),
                   "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]),
                   "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]),
                   "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]),
                   "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]),
                   "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]),
                   "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]),
                   "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])
                 : "l"(da), "l"(db));
}

__device__ __forceinline__ void wgmma_fence()
{
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}

__device__ __forceinline__ void wgmma_commit()
{
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}

template <int N> __device__ __forceinline__ void wgmma_wait()
{
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}

/* The tensor cores read shared memory through the async proxy: what cp.async wrote becomes visible
 * to them after this fence (and the barrier that follows it). */
__device__ __forceinline__ void fence_for_async_proxy()
{
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

extern "C" __global__ void __launch_bounds__(THREADS, 1)
gemm_wgmma(mc_t a, mc_t b, mc_t c, mc_t bias, float alpha, float beta, int has_bias)
{
    extern __shared__ __align__(1024) u8 smem_raw[];
    const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32, group = warp / 4;
    const i64 n = c.ne[0], m = c.ne[1], k = a.ne[0];
    const i64 i0 = (i64)blockIdx.y * BM, j0 = (i64)blockIdx.x * BN;
    const mc_gemm_batch at = mc_gemm_batch_of(a, b, c);
    const i64 a_base = at.a, b_base = at.b, c_base = at.c;
    /* the atoms must start on 1024-byte boundaries of the shared window */
    const u32 base = (mc_smem_addr(smem_raw) + ATOM - 1) & ~(u32)(ATOM - 1);
    const u32 a_stages = base, b_stages = base + STAGES * A_STAGE_BYTES;

    float acc[128];
#pragma unroll
    for (int e = 0; e < 128; e++)
        acc[e] = 0.0f;

    /* Slab s's copies are group s. Slab s goes into stage s % STAGES once slab s - STAGES's wgmmas
     * are done everywhere: at iteration s every warpgroup has waited for its slab s - 1 - INFLIGHT
     * (wait_group INFLIGHT after issuing s - 1) before the barrier, so AHEAD slabs are loaded ahead. */
#define AHEAD (STAGES - 1 - INFLIGHT)
    const i64 slabs = (k + BK - 1) / BK;
#pragma unroll
    for (int s = 0; s < AHEAD; s++) {
        if (s < slabs)
            load_slab(a_stages + s * A_STAGE_BYTES, b_stages + s * B_STAGE_BYTES, a, a_base, b, b_base, i0, j0, m, n, k,
                      s * BK);
        else
            asm volatile("cp.async.commit_group;\n" ::);
    }
    for (i64 s = 0; s < slabs; s++) {
        asm volatile("cp.async.wait_group %0;\n" ::"n"(AHEAD - 1));
        fence_for_async_proxy();
        __syncthreads(); /* slab s is in shared memory; slab s - 1 - INFLIGHT's wgmmas are done everywhere */
        const i64 next = s + AHEAD;
        const int ns = (int)(next % STAGES), cs = (int)(s % STAGES);
        if (next < slabs)
            load_slab(a_stages + ns * A_STAGE_BYTES, b_stages + ns * B_STAGE_BYTES, a, a_base, b, b_base, i0, j0, m, n,
                      k, next * BK);
        else
            asm volatile("cp.async.commit_group;\n" ::);
        const u32 as = a_stages + cs * A_STAGE_BYTES + group * 8 * ATOM, bs = b_stages + cs * B_STAGE_BYTES;
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < BK / 16; kk++)
            /* A: 32 bytes (16 halves of k) further along each row; atoms of 8 rows ATOM apart.
             * B: two groups of 8 k-rows further; column atoms ATOM apart, k groups B_GROUP_BYTES. */
            wgmma_m64n256k16(acc, descriptor(as + 32 * kk, 16, ATOM),
                             descriptor(bs + 2 * kk * B_GROUP_BYTES, ATOM, B_GROUP_BYTES));
        wgmma_commit();
        wgmma_wait<INFLIGHT>();
    }
    wgmma_wait<0>();
    asm volatile("cp.async.wait_group 0;\n" ::);

    /* accumulator 4q + e: row lane / 4 (+ 8 for e >= 2) of the warp's 16, column 8q + 2 (lane % 4) + e % 2 */
    const i64 row0 = i0 + 64 * group + 16 * (warp % 4) + lane / 4;
#pragma unroll
    for (int q = 0; q < BN / 8; q++)
#pragma unroll
        for (int e = 0; e < 4; e++) {
            const i64 gi = row0 + (e >= 2 ? 8 : 0), gj = j0 + 8 * q + 2 * (lane % 4) + e % 2;
            mc_gemm_store(c, c_base, bias, has_bias, gi, gj, acc[4 * q + e], alpha, beta, DT_C, DT_BIAS);
        }
}
