/* kernels/cuda/gemv.cu: GEMV y = A x with LANES threads per row and a fixed-order reduction,
 * for plain A (16-byte loads: 4 f32 or 8 f16 / bf16, where the host proved alignment; a scalar path
 * where it did not) and q8_0 / q4_0 A (the OpenCL gemv.cl's design, byte layout as on the CPU).
 * SPDX-License-Identifier: MIT */

/* Options:
 *   LANES, ROWS      threads per row (a power of two) and rows per block; up to 32 lanes a row's
 *                    sum is a warp shuffle, above a shared-memory tree
 *   UNROLL           plain A: 16-byte loads each lane keeps in flight
 *   DT_A, DT_X, DT_Y dtype codes (common.cu); DT_A is ignored for quantised A
 *   QUANT            0: plain A; 8: q8_0 A (34-byte blocks: fp16 d, then 32 int8); 4: q4_0 A
 *                    (18-byte blocks: fp16 d, then 16 bytes of nibble pairs)
 *   A_VEC            plain A: 1: A's rows are contiguous and every row starts 16-byte aligned, so
 *                    lanes read 16 bytes at once (4 f32, 8 f16 or bf16); 0: the scalar path
 *                    (misaligned). Quantised A: 1: every block starts 2-byte aligned (16-bit
 *                    loads); 0: byte loads
 *   X_VEC            1: x is contiguous and 4-element aligned
 *   X_SMEM           1: each block first copies x to shared memory as f32 (k floats, dynamic)
 *   STAGE            quantised A: 0, or 8 / 4: the kernel gemv_staged (below) copies rows through
 *                    shared memory STAGE bytes a load (needs X_SMEM=1 and A_VEC=1)
 * Lanes stride the row by VEC elements (vector path) or 1 (scalar path), so neighbouring lanes read
 * neighbouring addresses. The reduction order is fixed: results are bitwise reproducible. */
#define GROUP (LANES * ROWS)

/* x[p .. p+3], vectorised when x allows it; from the block's f32 copy of x when X_SMEM. */
__device__ __forceinline__ float4 x_load4(const u8 *x, i64 x_off, i64 x_nb0, i64 p)
{
#if X_SMEM
    extern __shared__ __align__(16) float x_smem[];
    (void)x, (void)x_off, (void)x_nb0;
    return *(const float4 *)(x_smem + p);
#elif X_VEC
    return mc_load4(x, x_off + p * ELEM_BYTES(DT_X), DT_X);
#else
    return make_float4(mc_load(x, x_off + p * x_nb0, DT_X), mc_load(x, x_off + (p + 1) * x_nb0, DT_X),
                       mc_load(x, x_off + (p + 2) * x_nb0, DT_X), mc_load(x, x_off + (p + 3) * x_nb0, DT_X));
#endif
}

/* The block's f32 copy of x (X_SMEM), x_smem[0 .. k): each thread loads X_FILL_BATCH elements before
 * it stores them (a store to shared memory through a plain pointer may alias the next load: one
 * memory latency per element otherwise). */
#define X_FILL_BATCH 4
__device__ __forceinline__ void x_fill(float *x_smem, const mc_t &x, i64 k, int tid, int threads)
{
    for (i64 p0 = tid; p0 < k; p0 += (i64)threads * X_FILL_BATCH) {
        float v[X_FILL_BATCH];
#pragma unroll
        for (int u = 0; u < X_FILL_BATCH; u++)
            if (p0 + (i64)u * threads < k)
                v[u] = mc_load(x.base, x.off + (p0 + (i64)u * threads) * x.nb[0], DT_X);
#pragma unroll
        for (int u = 0; u < X_FILL_BATCH; u++)
            if (p0 + (i64)u * threads < k)
                x_smem[p0 + (i64)u * threads] = v[u];
    }
}

#if QUANT
/* Two bytes of a quantised row: one 16-bit load where the host proved every block 2-byte aligned
 * (A_VEC: row offsets and the block stride even), else byte by byte. */
__device__ __forceinline__ u32 q_u16(const u8 *p)
{
#if A_VEC
    return *(const u16 *)p;
#else
    return (u32)p[0] | ((u32)p[1] << 8);
#endif
}

__device__ __forceinline__ float q_scale(const u8 *block)
{
    return mc_half_bits_to_float((u16)q_u16(block));
}

/* The four bytes of w, each as an unsigned integer u, as floats u - bias, exactly: a byte placed in
 * the low mantissa of 2^23 (0x4B0000uu) reads 2^23 + u, and one subtraction leaves u - bias (an
 * int-to-float conversion runs at a quarter of the FMA rate on sm_90: with one per quant byte it,
 * not memory, bounded these GEMVs at 30% of copy bandwidth on the H200). */
__device__ __forceinline__ float4 q_bytes_to_float4(u32 w, float bias)
{
    const float base = 8388608.0f + bias;
    return make_float4(__uint_as_float(__byte_perm(w, 0x4B000000u, 0x7540)) - base,
                       __uint_as_float(__byte_perm(w, 0x4B000000u, 0x7541)) - base,
                       __uint_as_float(__byte_perm(w, 0x4B000000u, 0x7542)) - base,
                       __uint_as_float(__byte_perm(w, 0x4B000000u, 0x7543)) - base);
}
#endif

#if QUANT == 8
#define Q_BYTES 34  /* bytes of a block: fp16 d, then 32 int8 */
#define Q_GROUPS 8  /* groups of 4 quants a block */
#define Q_GROUP_QUANTS 4

/* Group t of a q8_0 block at q (quants 4t .. 4t+3) against x from element xb (the block's first),
 * unscaled. */
/* The x elements group t of a block meets (from element xb, the block's first). */
struct group_x {
    float4 lo;
};

__device__ __forceinline__ group_x group_x_load(int t, const u8 *x, i64 x_off, i64 x_nb0, i64 xb)
{
    return {x_load4(x, x_off, x_nb0, xb + 4 * t)};
}

__device__ __forceinline__ float group_dot_with(const u8 *q, int t, const group_x &gx)
{
    const u32 w = q_u16(q + 2 + 4 * t) | (q_u16(q + 4 + 4 * t) << 16);
    const float4 qv = q_bytes_to_float4(w ^ 0x80808080u, 128.0f); /* int8 q = (q + 128) - 128 */
    return mc_dot4(qv, gx.lo);
}
#elif QUANT == 4
#define Q_BYTES 18  /* fp16 d, then 16 bytes whose low nibble holds element j and high nibble j + 16 */
#define Q_GROUPS 4  /* groups of 4 bytes (8 quants) a block */
#define Q_GROUP_QUANTS 8

/* Group t of a q4_0 block at q (bytes 4t .. 4t+3: elements 4t.. and 4t+16..), each (nibble - 8),
 * against x from element xb (the block's first), unscaled. */
/* The x elements group t of a block meets (from element xb, the block's first): 4t.. and 4t+16... */
struct group_x {
    float4 lo, hi;
};

__device__ __forceinline__ group_x group_x_load(int t, const u8 *x, i64 x_off, i64 x_nb0, i64 xb)
{
    return {x_load4(x, x_off, x_nb0, xb + 4 * t), x_load4(x, x_off, x_nb0, xb + 4 * t + 16)};
}

__device__ __forceinline__ float group_dot_with(const u8 *q, int t, const group_x &gx)
{
    const u32 w = q_u16(q + 2 + 4 * t) | (q_u16(q + 4 + 4 * t) << 16);
    const float4 lo = q_bytes_to_float4(w & 0x0F0F0F0Fu, 8.0f);
    const float4 hi = q_bytes_to_float4((w >> 4) & 0x0F0F0F0Fu, 8.0f);
    return mc_dot4(lo, gx.lo) + mc_dot4(hi, gx.hi);
}
#endif

#if QUANT
__device__ __forceinline__ float group_dot(const u8 *q, int t, const u8 *x, i64 x_off, i64 x_nb0, i64 xb)
{
    return group_dot_with(q, t, group_x_load(t, x, x_off, x_nb0, xb));
}
#endif

#if QUANT
/* One lane's share of a quantised row. The row's groups go to the lanes in turn (group g: block
 * g / Q_GROUPS), so neighbouring lanes read neighbouring bytes and a warp reads whole stretches of
 * the row; the lanes of a block read its d together. */
__device__ __forceinline__ float row_dot(const u8 *a, i64 row_off, i64 a_nb0, const u8 *x, i64 x_off, i64 x_nb0, i64 k,
                                         int lane)
{
    float acc = 0.0f;
    const i64 groups = k / Q_GROUP_QUANTS;
#pragma unroll 4
    for (i64 g = lane; g < groups; g += LANES) {
        const i64 blk = g / Q_GROUPS;
        const u8 *q = a + row_off + blk * a_nb0;
        acc = fmaf(q_scale(q), group_dot(q, (int)(g % Q_GROUPS), x, x_off, x_nb0, blk * 32), acc);
    }
    return acc;
}
#else
#if A_VEC
/* Elements of A per 16-byte load: 4 f32 or 8 f16 / bf16. */
#define VEC (DT_A == MC_F32 ? 4 : 8)

/* A[p .. p+VEC-1] . x[p .. p+VEC-1] with one 16-byte load of A. */
__device__ __forceinline__ float vec_dot(const u8 *a, i64 row_off, const u8 *x, i64 x_off, i64 x_nb0, i64 p)
{
#if DT_A == MC_F32
    return mc_dot4(mc_load4(a, row_off + p * 4, MC_F32), x_load4(x, x_off, x_nb0, p));
#else
    float v[8];
    mc_load8(a, row_off + p * 2, DT_A, v);
    return mc_dot4(make_float4(v[0], v[1], v[2], v[3]), x_load4(x, x_off, x_nb0, p)) +
           mc_dot4(make_float4(v[4], v[5], v[6], v[7]), x_load4(x, x_off, x_nb0, p + 4));
#endif
}
#endif

__device__ __forceinline__ float row_dot(const u8 *a, i64 row_off, i64 a_nb0, const u8 *x, i64 x_off, i64 x_nb0, i64 k,
                                         int lane)
{
    float acc = 0.0f;
    i64 p = 0;
#if A_VEC
    /* UNROLL independent 16-byte loads in flight per lane (a GPU hides memory latency with them),
     * then single steps, then the scalar tail */
    const i64 kv = k / VEC * VEC;
    const i64 step = VEC * LANES;
    float part[UNROLL];
#pragma unroll
    for (int u = 0; u < UNROLL; u++)
        part[u] = 0.0f;
    for (p = VEC * (i64)lane; p + (UNROLL - 1) * step < kv; p += UNROLL * step) {
#pragma unroll
        for (int u = 0; u < UNROLL; u++)
            part[u] += vec_dot(a, row_off, x, x_off, x_nb0, p + u * step);
    }
    for (; p < kv; p += step)
        part[0] += vec_dot(a, row_off, x, x_off, x_nb0, p);
#pragma unroll
    for (int u = 0; u < UNROLL; u++)
        acc += part[u];
    p = kv;
#endif
    for (p += lane; p < k; p += LANES)
        acc = fmaf(mc_load(a, row_off + p * a_nb0, DT_A), mc_load(x, x_off + p * x_nb0, DT_X), acc);
    return acc;
}
#endif

extern "C" __global__ void __launch_bounds__(GROUP) gemv(mc_t a, mc_t x, mc_t y)
{
#if LANES > 32
    __shared__ float partial[GROUP];
#endif
    const int lid = threadIdx.x;
    const int lane = lid % LANES, slot = lid / LANES;
    const i64 m = a.ne[1], k = a.ne[0];
#if X_SMEM
    extern __shared__ __align__(16) float x_smem[];
    x_fill(x_smem, x, k, lid, GROUP);
    __syncthreads();
#endif
    /* blocks stride over the row groups (the host may launch fewer blocks than groups) */
    for (i64 row0 = (i64)blockIdx.x * ROWS; row0 < m; row0 += (i64)gridDim.x * ROWS) {
        const i64 row = row0 + slot;
        float sum = row < m ? row_dot(a.base, a.off + row * a.nb[1], a.nb[0], x.base, x.off, x.nb[0], k, lane) : 0.0f;
#if LANES <= 32
        /* a row's lanes are within one warp: shuffles, no barrier */
        for (int w = LANES / 2; w > 0; w >>= 1)
            sum += __shfl_xor_sync(0xFFFFFFFFu, sum, w);
#else
        partial[lid] = sum;
        __syncthreads();
        for (int w = LANES / 2; w > 0; w >>= 1) {
            if (lane < w)
                partial[lid] += partial[lid + w];
            __syncthreads();
        }
        sum = partial[lid];
#endif
        if (lane == 0 && row < m)
            mc_store(y.base, y.off + row * y.nb[0], DT_Y, sum);
    }
}

#if QUANT && STAGE
/* The staged quantised GEMV (STAGE: bytes a lane loads at once, 8 or 4; the host proved that every
 * row starts and ends on a STAGE-byte boundary and that the blocks are packed). A warp copies rows
 * into its own shared-memory buffer with coalesced STAGE-byte loads (a 34- or 18-byte block is
 * only 2-byte aligned, so lanes reading it in place issue 2-byte loads that each touch parts of two
 * sectors), then decodes the groups from there as row_dot does, in the same order per lane. Rows of
 * at most CHUNK blocks go CHUNK / blocks at a time (the LM head's 28-block rows four at once: more
 * bytes in flight a warp); longer rows go CHUNK blocks at a time. x is in shared memory (X_SMEM). */
#define STAGE_WARPS 8
#define CHUNK 112 /* blocks a buffer holds: 3808 bytes of q8_0, 2016 of q4_0, multiples of 8 */
#define STAGE_WORDS (CHUNK * Q_BYTES / STAGE)
#define WORDS_PER_LANE ((STAGE_WORDS + 31) / 32)
#if STAGE == 8
typedef uint2 stage_word;
#else
typedef u32 stage_word;
#endif

/* A lane's share of a copy of `pieces` runs of `words` words (run p from src + p * pitch, one after
 * another into the buffer): word lane + 32 t is in r[t]. stage_load issues every load of a lane
 * before stage_store's first store (a store to shared memory through a plain pointer may alias the
 * next load, so a copy loop that stores as it goes waits out one memory latency per word); a
 * pass's loads can then be issued before the previous pass is decoded. Run and word come from a
 * running count, not a division per word. */
__device__ __forceinline__ void stage_load(stage_word r[WORDS_PER_LANE], const u8 *src, i64 pitch, int pieces,
                                           int words, int lane)
{
    int p = lane / words, in_run = lane - p * words;
#pragma unroll
    for (int t = 0; t < WORDS_PER_LANE; t++) {
        if (p < pieces)
            r[t] = *(const stage_word *)(src + p * pitch + (i64)in_run * STAGE);
        in_run += 32;
        while (in_run >= words) {
            in_run -= words;
            p++;
        }
    }
}

__device__ __forceinline__ void stage_store(u8 *dst, const stage_word r[WORDS_PER_LANE], int total, int lane)
{
#pragma unroll
    for (int t = 0; t < WORDS_PER_LANE; t++) {
        const int w = lane + 32 * t;
        if (w < total)
            ((stage_word *)dst)[w] = r[t];
    }
}

/* acc[r] plus this lane's groups of nb staged blocks of row r (r < rows <= STAGED_ROWS, row_bytes
 * apart at buf), whose first is block b0 of its row. 32 is a multiple of Q_GROUPS, so a lane keeps
 * one group t of every block it takes (its blocks step by 32 / Q_GROUPS): the group's x is read
 * from shared memory once for all the rows, and each row's sum runs in the same order as one row
 * alone. */
#define STAGED_ROWS 4
__device__ __forceinline__ void staged_dot(const u8 *buf, int row_bytes, int rows, int nb, i64 b0, const mc_t &x,
                                           float acc[STAGED_ROWS], int lane)
{
    const int t = lane % Q_GROUPS;
    for (int blk = lane / Q_GROUPS; blk < nb; blk += 32 / Q_GROUPS) {
        const group_x gx = group_x_load(t, x.base, x.off, x.nb[0], (b0 + blk) * 32);
#pragma unroll
        for (int r = 0; r < STAGED_ROWS; r++)
            if (r < rows) {
                const u8 *q = buf + r * row_bytes + blk * Q_BYTES;
                acc[r] = fmaf(q_scale(q), group_dot_with(q, t, gx), acc[r]);
            }
    }
}

__device__ __forceinline__ void staged_store(const mc_t &y, i64 row, float acc, int lane)
{
    for (int w = 16; w > 0; w >>= 1)
        acc += __shfl_xor_sync(0xFFFFFFFFu, acc, w);
    if (lane == 0)
        mc_store(y.base, y.off + row * y.nb[0], DT_Y, acc);
}

extern "C" __global__ void __launch_bounds__(32 * STAGE_WARPS, 4) gemv_staged(mc_t a, mc_t x, mc_t y)
{
    __shared__ __align__(16) u8 stage[STAGE_WARPS][CHUNK * Q_BYTES];
    extern __shared__ __align__(16) float x_smem[];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const i64 m = a.ne[1], k = a.ne[0], blocks = k / 32;
    u8 *buf = stage[warp];
    const int per_pass = blocks <= CHUNK ? (int)(CHUNK / blocks) : 1; /* rows a pass */
    const int row_words = (int)(blocks * Q_BYTES / STAGE);
    const i64 step = (i64)gridDim.x * STAGE_WARPS * per_pass;
    stage_word next[WORDS_PER_LANE];
    const i64 first = ((i64)blockIdx.x * STAGE_WARPS + warp) * per_pass;
    /* the first pass's rows are on their way while x is copied */
    if (blocks <= CHUNK && first < m)
        stage_load(next, a.base + a.off + first * a.nb[1], a.nb[1], m - first < per_pass ? (int)(m - first) : per_pass,
                   row_words, lane);
    x_fill(x_smem, x, k, threadIdx.x, 32 * STAGE_WARPS);
    __syncthreads();
    for (i64 r0 = first; r0 < m; r0 += step) {
        const u8 *src = a.base + a.off + r0 * a.nb[1];
        if (blocks <= CHUNK) {
            /* this pass's rows are in next: store them, load the next pass's, then decode these */
            const int rows = m - r0 < per_pass ? (int)(m - r0) : per_pass;
            __syncwarp(); /* every lane is done with the last pass */
            stage_store(buf, next, rows * row_words, lane);
            __syncwarp();
            const i64 r1 = r0 + step;
            if (r1 < m)
                stage_load(next, a.base + a.off + r1 * a.nb[1], a.nb[1], m - r1 < per_pass ? (int)(m - r1) : per_pass,
                           row_words, lane);
            const int row_bytes = (int)(blocks * Q_BYTES);
            for (int rr0 = 0; rr0 < rows; rr0 += STAGED_ROWS) {
                const int now = rows - rr0 < STAGED_ROWS ? rows - rr0 : STAGED_ROWS;
                float acc[STAGED_ROWS] = {0.0f, 0.0f, 0.0f, 0.0f};
                staged_dot(buf + rr0 * row_bytes, row_bytes, now, (int)blocks, 0, x, acc, lane);
#pragma unroll
                for (int r = 0; r < STAGED_ROWS; r++)
                    if (r < now)
                        staged_store(y, r0 + rr0 + r, acc[r], lane);
            }
            continue;
        }
        float acc[STAGED_ROWS] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (i64 b0 = 0; b0 < blocks; b0 += CHUNK) {
            const int nb = blocks - b0 < CHUNK ? (int)(blocks - b0) : CHUNK;
            __syncwarp();
            stage_load(next, src + b0 * Q_BYTES, 0, 1, nb * Q_BYTES / STAGE, lane);
            stage_store(buf, next, nb * Q_BYTES / STAGE, lane);
            __syncwarp();
            staged_dot(buf, 0, 1, nb, b0, x, acc, lane);
        }
        staged_store(y, r0, acc[0], lane);
    }
}
#endif
