/* kernels/cuda/gemv_cuda.c: the CUDA GEMV variants (gemv.cu): plain A with block reductions and
 * 16-byte loads where alignment allows (a scalar path where not), and the dequantising q8_0 and q4_0 GEMVs.
 * x is used as it is (xq, the licence to quantise x first, is not taken).
 * SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "kernels/cuda/backend_cuda.h"

#define GEMV_GROUP 256          /* threads per block: GEMV_GROUP / lanes rows each */
#define GEMV_LANES_MIN 32       /* a warp-sized team per row at least: its reads of a row coalesce */
#define GEMV_LANES_MAX 64         /* more lanes a row (256) left 2048 x 11008 at 62-66% on the H200 */
#define GEMV_QUANT_LANES_MIN 4
#define GEMV_QUANT_GROUPS_PER_LANE 16
#define GEMV_THREADS_PER_SM 2048 /* threads an SM keeps resident */
#define GEMV_QBLOCK 32
#define GEMV_X_SMEM_MAX 11264   /* x of up to this many elements is copied to shared memory (44 KiB of f32) */
#define GEMV_BLOCKS_PER_SM 32   /* blocks launched per SM at most; each strides over the rest of the rows */
#define GEMV_STAGE_WARPS 8      /* gemv.cu's STAGE_WARPS: rows (one a warp) a block of the staged kernel */
#define GEMV_STAGE_CHUNK 112    /* gemv.cu's CHUNK: blocks each warp's shared-memory buffer holds */
#define GEMV_STAGE_BLOCKS_PER_SM 4 /* staged kernel: its launch bound; every block resident at once, each */
                                   /* warp loading its next pass while it decodes the current one */

/* Threads per row. Bandwidth needs many loads in flight, so few rows get more lanes each until the
 * device is full (SMs x GEMV_THREADS_PER_SM threads), as long as each lane still has a vector step
 * (16 bytes) or a block of the row to itself (the OpenCL variant's rule, measured on an H100). */
static int gemv_lanes(mc_backend_ctx *ctx, const mc_gemv_args *g, int quant)
{
    const int64_t vec = g->a.dtype == MC_DTYPE_F32 ? 4 : 8;
    const int64_t m = g->a.ne[1], steps = quant ? g->a.ne[0] / GEMV_QBLOCK : (g->a.ne[0] + vec - 1) / vec;
    const int64_t want = (int64_t)mc_cuda_device(ctx)->sms * GEMV_THREADS_PER_SM;
    int lanes = GEMV_LANES_MIN;
    while (lanes < GEMV_LANES_MAX && m * lanes < want && 2 * lanes <= steps)
        lanes *= 2;
    /* quantised rows go to their lanes in groups of 4 (q8_0) or 8 (q4_0) quants: short rows (the LM
     * head's k = 896) get fewer lanes, each with GEMV_QUANT_GROUPS_PER_LANE groups, while the
     * device stays full */
    const int64_t groups = quant ? g->a.ne[0] / (quant == 8 ? 4 : 8) : 0;
    while (quant && lanes > GEMV_QUANT_LANES_MIN && groups < GEMV_QUANT_GROUPS_PER_LANE * lanes && m * lanes / 2 >= want)
        lanes /= 2;
    return lanes;
}

/* 16-byte loads in flight per lane: 8 when the device is not full of threads (each lane must
 * hide more latency), else 4 (8 cost occupancy: 14336 x 4096 f16 fell from 72% to 63% of copy
 * bandwidth on the H200, while 2048 x 11008 f16 rose from 62% to 94% with 64 lanes a row). */
static int gemv_unroll(mc_backend_ctx *ctx, const mc_gemv_args *g, int lanes)
{
    return g->a.ne[1] * lanes < (int64_t)mc_cuda_device(ctx)->sms * GEMV_THREADS_PER_SM ? 8 : 4;
}

/* True when lanes may read A 16 bytes at a time: rows contiguous and each row's first element on a
 * 16-byte boundary (a misaligned 16-byte load is a device fault). */
static bool gemv_a_vector_ok(const mc_tensor *a)
{
    const int64_t es = mc_tensor_unit_bytes(a);
    return a->nb[0] == es && a->offset % 16 == 0 && (a->ne[1] == 1 || a->nb[1] % 16 == 0);
}

static bool gemv_x_vector_ok(const mc_tensor *x)
{
    const int64_t es = mc_tensor_unit_bytes(x);
    return (x->nb[0] == es || x->ne[0] == 1) && x->offset % (4 * es) == 0;
}

/* True when every q8_0 / q4_0 block of A starts on a 2-byte boundary (16-bit loads are safe). */
static bool gemv_quant_aligned(const mc_tensor *a)
{
    return a->offset % 2 == 0 && a->nb[0] % 2 == 0 && a->nb[1] % 2 == 0;
}

/* Quantised GEMVs copy x to shared memory (as f32) when it fits: their lanes read it as float4s. */
static bool gemv_x_smem(const mc_gemv_args *g, int quant)
{
    return quant && g->a.ne[0] <= GEMV_X_SMEM_MAX;
}

/* Bytes of a quantised block (q8_0: fp16 d + 32 int8; q4_0: fp16 d + 16 nibble pairs). */
static int64_t gemv_quant_block_bytes(int quant)
{
    return quant == 8 ? 34 : 18;
}

/* The staged kernel's load width: 8 or 4 when the blocks are packed and every row starts and ends
 * on that boundary (a row is then copied whole with aligned loads), else 0 (the in-place kernel). */
static int gemv_stage_bytes(const mc_gemv_args *g, int quant)
{
    if (!quant || !gemv_x_smem(g, quant) || mc_cuda_needs_bytewise(&g->x) || mc_cuda_needs_bytewise(&g->y))
        return 0;
    /* its buffers and x's copy within the 48 KiB a block has without asking the driver for more */
    if (GEMV_STAGE_WARPS * GEMV_STAGE_CHUNK * gemv_quant_block_bytes(quant) + g->a.ne[0] * (int64_t)sizeof(float) >
        48 * 1024)
        return 0;
    const mc_tensor *a = &g->a;
    const int64_t row_bytes = a->ne[0] / GEMV_QBLOCK * gemv_quant_block_bytes(quant);
    if (a->nb[0] != gemv_quant_block_bytes(quant))
        return 0;
    for (int s = 8; s >= 4; s /= 2)
        if (a->offset % s == 0 && row_bytes % s == 0 && (a->ne[1] == 1 || a->nb[1] % s == 0))
            return s;
    return 0;
}

static void gemv_options(char *opts, const mc_gemv_args *g, int quant, int lanes, int unroll)
{
    const bool bytewise = (!quant && mc_cuda_needs_bytewise(&g->a)) || mc_cuda_needs_bytewise(&g->x) ||
                          mc_cuda_needs_bytewise(&g->y);
    const bool a_vec = quant ? gemv_quant_aligned(&g->a) : !bytewise && gemv_a_vector_ok(&g->a);
    const bool x_vec = !bytewise && gemv_x_vector_ok(&g->x);
    mc_cuda_options_add(opts, "-DLANES=%d -DROWS=%d -DQUANT=%d -DUNROLL=%d", lanes, GEMV_GROUP / lanes, quant,
                        unroll);
    mc_cuda_options_add(opts, "-DDT_A=%d -DDT_X=%d -DDT_Y=%d", quant ? 0 : mc_cuda_dtype_code(g->a.dtype),
                          mc_cuda_dtype_code(g->x.dtype), mc_cuda_dtype_code(g->y.dtype));
    mc_cuda_options_add(opts, "-DA_VEC=%d -DX_VEC=%d -DX_SMEM=%d -DSTAGE=%d -DMC_BYTEWISE=%d", a_vec, x_vec,
                        gemv_x_smem(g, quant), gemv_stage_bytes(g, quant), bytewise);
}

static mc_status gemv_launch(mc_kernel_ctx *kc, const mc_gemv_args *g, int quant, mc_err *err)
{
    const int64_t m = g->a.ne[1];
    if (!m)
        return MC_OK; /* an empty y: nothing to write */
    const bool staged = gemv_stage_bytes(g, quant) != 0;
    /* the staged kernel: a warp a row, GEMV_STAGE_WARPS rows a block */
    const int lanes = staged ? 32 : gemv_lanes(kc->backend, g, quant);
    const int rows = staged ? GEMV_STAGE_WARPS : GEMV_GROUP / lanes;
    char opts[MC_CUDA_OPTIONS_LEN] = "";
    gemv_options(opts, g, quant, lanes, gemv_unroll(kc->backend, g, lanes));
    CUfunction f;
    mc_status st = mc_cuda_function(kc->backend, "gemv", opts, staged ? "gemv_staged" : "gemv", &f, err);
    if (st)
        return st;
    mc_cuda_tensor a = mc_cuda_tensor_of(&g->a), x = mc_cuda_tensor_of(&g->x), y = mc_cuda_tensor_of(&g->y);
    void *params[] = {&a, &x, &y};
    unsigned blocks = mc_cuda_blocks(m, rows);
    const unsigned most =
        (unsigned)mc_cuda_device(kc->backend)->sms * (staged ? GEMV_STAGE_BLOCKS_PER_SM : GEMV_BLOCKS_PER_SM);
    if (blocks > most)
        blocks = most;
    const unsigned grid[3] = {blocks, 1, 1}, block[3] = {GEMV_GROUP, 1, 1};
    const unsigned shared = gemv_x_smem(g, quant) ? (unsigned)(g->a.ne[0] * (int64_t)sizeof(float)) : 0;
    return mc_cuda_launch(kc->backend, f, grid, block, shared, params, err);
}

static const char *gemv_common_supports(const mc_gemv_args *g)
{
    if (!mc_cuda_plain_float(g->x.dtype) || !mc_cuda_plain_float(g->y.dtype))
        return "quantised x or y not supported";
    if (g->xq_exact) /* the exact reference uses q8_0 activations; this dot uses x itself */
        return "computes with x itself, not with q8_0 activations: cannot meet xq_exact";
    return NULL;
}

static mc_status gemv_plain_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return gemv_launch(kc, &args->u.gemv, 0, err);
}

static const char *gemv_plain_supports(const mc_args *args)
{
    const mc_gemv_args *g = &args->u.gemv;
    if (!mc_cuda_plain_float(g->a.dtype))
        return "quantised A is for gemv_q8_0_cuda and gemv_q4_0_cuda (this one takes f32, f16, bf16 A)";
    return gemv_common_supports(g);
}

/* The quantised variants: which dtype A must have, and its QUANT build option. */
static const char *gemv_quant_supports(const mc_gemv_args *g, mc_dtype want)
{
    if (g->a.dtype != want)
        return want == MC_DTYPE_Q8_0 ? "A is not q8_0" : "A is not q4_0";
    if (g->a.ne[0] % GEMV_QBLOCK != 0)
        return "k is not a multiple of the 32-element block";
    return gemv_common_supports(g);
}

static mc_status gemv_q8_0_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return gemv_launch(kc, &args->u.gemv, 8, err);
}

static const char *gemv_q8_0_supports(const mc_args *args)
{
    return gemv_quant_supports(&args->u.gemv, MC_DTYPE_Q8_0);
}

static mc_status gemv_q4_0_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return gemv_launch(kc, &args->u.gemv, 4, err);
}

static const char *gemv_q4_0_supports(const mc_args *args)
{
    return gemv_quant_supports(&args->u.gemv, MC_DTYPE_Q4_0);
}

const mc_cuda_program_def mc_cuda_program_gemv_plain = {
    .program = "gemv_cuda_vec16",
    .source = "gemv",
    .options = "-DLANES=32 -DROWS=8 -DQUANT=0 -DUNROLL=4 -DDT_A=1 -DDT_X=0 -DDT_Y=0 -DA_VEC=1 -DX_VEC=1 -DX_SMEM=0 -DSTAGE=0 "
               "-DMC_BYTEWISE=0",
};

const mc_cuda_program_def mc_cuda_program_gemv_q8_0 = {
    .program = "gemv_q8_0_cuda",
    .source = "gemv",
    .options = "-DLANES=32 -DROWS=8 -DQUANT=8 -DUNROLL=8 -DDT_A=0 -DDT_X=0 -DDT_Y=0 -DA_VEC=1 -DX_VEC=1 -DX_SMEM=1 -DSTAGE=8 "
               "-DMC_BYTEWISE=0",
};

const mc_cuda_program_def mc_cuda_program_gemv_q4_0 = {
    .program = "gemv_q4_0_cuda",
    .source = "gemv",
    .options = "-DLANES=32 -DROWS=8 -DQUANT=4 -DUNROLL=8 -DDT_A=0 -DDT_X=0 -DDT_Y=0 -DA_VEC=1 -DX_VEC=1 -DX_SMEM=1 -DSTAGE=8 "
               "-DMC_BYTEWISE=0",
};

const mc_variant mc_variant_gemv_cuda_vec16 = {
    .op = MC_OP_GEMV,
    .backend = "cuda",
    .name = "gemv_cuda_vec16",
    .supports = gemv_plain_supports,
    .run = gemv_plain_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)gemv_launch,
};

const mc_variant mc_variant_gemv_q8_0_cuda = {
    .op = MC_OP_GEMV,
    .backend = "cuda",
    .name = "gemv_q8_0_cuda",
    .supports = gemv_q8_0_supports,
    .run = gemv_q8_0_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)gemv_launch,
};

const mc_variant mc_variant_gemv_q4_0_cuda = {
    .op = MC_OP_GEMV,
    .backend = "cuda",
    .name = "gemv_q4_0_cuda",
    .supports = gemv_q4_0_supports,
    .run = gemv_q4_0_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)gemv_launch,
};
