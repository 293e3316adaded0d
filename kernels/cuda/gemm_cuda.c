/* kernels/cuda/gemm_cuda.c: the CUDA GEMM variants: the SIMT tiled fallback (gemm.cu) in two tile
 * configurations, the tensor-core GEMMs (gemm_mma.cu's mma.sync, gemm_wgmma.cu's wgmma) behind
 * compute-capability gates, and the dispatcher that chooses among them and records its choice.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cuda/backend_cuda.h"

typedef struct gemm_tiles {
    int tile_m, tile_n, tile_k; /* block of C per thread block, k-slab per step */
    int wpt_m, wpt_n;           /* outputs per thread */
} gemm_tiles;

static const gemm_tiles tiles_32 = {32, 32, 8, 2, 2};     /* small shapes: little zero padding */
static const gemm_tiles tiles_128 = {128, 128, 16, 8, 8}; /* large shapes: 64 FMAs per 16 shared reads */

#define MMA_TILE_M 128   /* gemm_mma.cu's BM */
#define MMA_THREADS 256

/* The tensor-core kernel's configurations: columns of C per block, k per slab, pipeline stages. */
typedef struct mma_tiles {
    int bn, bk, stages;
} mma_tiles;

static const mma_tiles mma_128 = {128, 32, 4};
/* 64 x 64 per warp: twice the mma work per shared-memory read; slabs of 64: half the barriers */
static const mma_tiles mma_256 = {256, 64, 3};
#define MMA_CC_MAJOR 8   /* mma.sync m16n8k16 with bf16 needs sm_80 */
/* gemm_wgmma.cu's tile (BM = MMA_TILE_M, BN, BK = 64) fixes these: change them together */
#define WGMMA_TILE_N 256  /* gemm_wgmma.cu's BN */
#define WGMMA_STAGES 4
#define WGMMA_INFLIGHT 1   /* one slab's wgmmas left running: 372.5 us at 4096^3 on an H100, 439.0 with none */
#define WGMMA_STAGE_BYTES (128 * 64 * 2 + 64 * 256 * 2) /* a slab of A and one of B */
#define WGMMA_ALIGN 1024  /* the kernel aligns its swizzle atoms up to this in its window */
#define WGMMA_SHARED_BYTES (WGMMA_STAGES * WGMMA_STAGE_BYTES + WGMMA_ALIGN)
#define WGMMA_NVRTC_MAJOR 12 /* the first NVRTC that compiles for sm_90a */

/* Per-case options: dtypes, which index walks memory fastest, and the byte-wise path. */
static void case_options(char *opts, const mc_gemm_args *g)
{
    const mc_tensor *bias = g->has_bias ? &g->bias : &g->c;
    bool bytewise = mc_cuda_needs_bytewise(&g->a) || mc_cuda_needs_bytewise(&g->b) || mc_cuda_needs_bytewise(&g->c) ||
                    mc_cuda_needs_bytewise(bias);
    mc_cuda_options_add(opts, "-DDT_A=%d -DDT_B=%d -DDT_C=%d -DDT_BIAS=%d", mc_cuda_dtype_code(g->a.dtype),
                        mc_cuda_dtype_code(g->b.dtype), mc_cuda_dtype_code(g->c.dtype), mc_cuda_dtype_code(bias->dtype));
    mc_cuda_options_add(opts, "-DA_KFAST=%d -DB_NFAST=%d -DMC_BYTEWISE=%d", g->a.nb[0] <= g->a.nb[1],
                        g->b.nb[0] <= g->b.nb[1], bytewise);
}

/* The kernel's arguments: four tensors, alpha, beta, has_bias (gemm.cu and gemm_mma.cu alike). */
static mc_status gemm_launch(mc_kernel_ctx *kc, const mc_gemm_args *g, CUfunction f, const unsigned grid[3],
                             const unsigned block[3], unsigned shared, mc_err *err)
{
    mc_cuda_tensor a = mc_cuda_tensor_of(&g->a), b = mc_cuda_tensor_of(&g->b), c = mc_cuda_tensor_of(&g->c);
    /* without a bias the kernel never reads it, but the argument is still a valid tensor */
    mc_cuda_tensor bias = mc_cuda_tensor_of(g->has_bias ? &g->bias : &g->c);
    float alpha = g->alpha, beta = g->beta;
    int has_bias = g->has_bias;
    void *params[] = {&a, &b, &c, &bias, &alpha, &beta, &has_bias};
    return mc_cuda_launch(kc->backend, f, grid, block, shared, params, err);
}

static mc_status gemm_tiled_run(mc_kernel_ctx *kc, const mc_args *args, const gemm_tiles *t, mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    const int64_t n = g->c.ne[0], m = g->c.ne[1], batch = g->c.ne[2] * g->c.ne[3];
    if (!n || !m || !batch)
        return MC_OK; /* an empty C: nothing to write */
    char opts[MC_CUDA_OPTIONS_LEN] = "";
    mc_cuda_options_add(opts, "-DTILE_M=%d -DTILE_N=%d -DTILE_K=%d -DWPT_M=%d -DWPT_N=%d", t->tile_m, t->tile_n,
                        t->tile_k, t->wpt_m, t->wpt_n);
    case_options(opts, g);
    CUfunction f;
    mc_status st = mc_cuda_function(kc->backend, "gemm", opts, "gemm_tiled", &f, err);
    if (st)
        return st;
    const unsigned grid[3] = {mc_cuda_blocks(n, t->tile_n), mc_cuda_blocks(m, t->tile_m), (unsigned)batch};
    const unsigned block[3] = {(unsigned)(t->tile_n / t->wpt_n), (unsigned)(t->tile_m / t->wpt_m), 1};
    return gemm_launch(kc, g, f, grid, block, 0, err);
}

static const char *gemm_supports(const mc_args *args)
{
    const mc_gemm_args *g = &args->u.gemm;
    if (!mc_cuda_plain_float(g->a.dtype) || !mc_cuda_plain_float(g->b.dtype) || !mc_cuda_plain_float(g->c.dtype) ||
        (g->has_bias && !mc_cuda_plain_float(g->bias.dtype)))
        return "quantised operands not supported (f32, f16, bf16 only)";
    for (int d = 2; d < MC_MAX_DIMS; d++)
        if ((g->a.ne[d] != 1 && g->a.ne[d] != g->c.ne[d]) || (g->b.ne[d] != 1 && g->b.ne[d] != g->c.ne[d]))
            return "batch dims of A and B must equal C's or be 1";
    if (g->c.ne[2] * g->c.ne[3] > 65535 || g->c.ne[1] / 32 >= 65535)
        return "more batches or row blocks than a CUDA grid holds";
    return NULL;
}

static mc_status gemm_tiled_32_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return gemm_tiled_run(kc, args, &tiles_32, err);
}

static mc_status gemm_tiled_128_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return gemm_tiled_run(kc, args, &tiles_128, err);
}

/* ---- tensor cores ---- */

static const char *gemm_mma_probe(mc_backend_ctx *ctx)
{
#ifdef MC_CUDA_BROKEN_GATE /* the gate proof's test build (scripts/gpu-run-cuda.sh gate): always no */
    return "planted broken gate (MC_CUDA_BROKEN_GATE): says no on every device";
#endif
    if (mc_cuda_device(ctx)->cc_major < MMA_CC_MAJOR)
        return "tensor-core mma.sync m16n8k16 (f16 and bf16) needs compute capability 8.0 or newer";
    return NULL;
}

/* A view cp.async may copy in 16-byte chunks: element stride 2 along `fast`, and base and every
 * other stride of a dim longer than 1 a multiple of 16 bytes. */
static bool chunk_ok(const mc_tensor *t, int fast)
{
    if (t->nb[fast] != 2 || t->offset % 16 != 0)
        return false;
    for (int d = 0; d < MC_MAX_DIMS; d++)
        if (d != fast && t->ne[d] > 1 && t->nb[d] % 16 != 0)
            return false;
    return true;
}

static const char *gemm_mma_supports(const mc_args *args)
{
    const char *why = gemm_supports(args);
    if (why)
        return why;
    const mc_gemm_args *g = &args->u.gemm;
    if (g->a.dtype != g->b.dtype || (g->a.dtype != MC_DTYPE_F16 && g->a.dtype != MC_DTYPE_BF16))
        return "A and B must both be f16 or both bf16 (the tensor cores' inputs)";
    if (g->a.ne[0] % 8 != 0 || g->c.ne[0] % 8 != 0)
        return "k and n must be multiples of 8 (whole 16-byte chunks)";
    if (!chunk_ok(&g->a, 0))
        return "A must be k-contiguous with 16-byte aligned base and strides";
    if (!chunk_ok(&g->b, 0))
        return "B must be n-contiguous with 16-byte aligned base and strides";
    return NULL;
}

/* Dynamic shared memory of one block: STAGES x (BM x (BK + 8) + BK x (BN + 8)) halves. */
static unsigned mma_shared_bytes(const mma_tiles *t)
{
    return (unsigned)(t->stages * (MMA_TILE_M * (t->bk + 8) + t->bk * (t->bn + 8)) * 2);
}

/* The options both tensor-core kernels take from the case: dtypes and the byte-wise path for C. */
static void tensor_core_options(char *opts, const mc_gemm_args *g)
{
    const mc_tensor *bias = g->has_bias ? &g->bias : &g->c;
    mc_cuda_options_add(opts, "-DDT_AB=%d -DDT_C=%d -DDT_BIAS=%d -DMC_BYTEWISE=%d", mc_cuda_dtype_code(g->a.dtype),
                        mc_cuda_dtype_code(g->c.dtype), mc_cuda_dtype_code(bias->dtype),
                        mc_cuda_needs_bytewise(&g->c) || mc_cuda_needs_bytewise(bias));
}

/* Launches `kernel` of `source` (built with opts) over blocks of MMA_TILE_M x bn of C, MMA_THREADS
 * threads and `shared` bytes of dynamic shared memory each. */
static mc_status tensor_core_launch(mc_kernel_ctx *kc, const mc_gemm_args *g, const char *source, const char *opts,
                                    int bn, unsigned shared, mc_err *err)
{
    const int64_t n = g->c.ne[0], m = g->c.ne[1], batch = g->c.ne[2] * g->c.ne[3];
    if (!n || !m || !batch)
        return MC_OK;
    CUfunction f;
    mc_status st = mc_cuda_function(kc->backend, source, opts, source, &f, err);
    if (!st)
        st = mc_cuda_function_allow_shared(kc->backend, f, shared, err);
    if (st)
        return st;
    const unsigned grid[3] = {mc_cuda_blocks(n, bn), mc_cuda_blocks(m, MMA_TILE_M), (unsigned)batch};
    const unsigned block[3] = {MMA_THREADS, 1, 1};
    return gemm_launch(kc, g, f, grid, block, shared, err);
}

static mc_status gemm_mma_run(mc_kernel_ctx *kc, const mc_args *args, const mma_tiles *t, mc_err *err)
{
    char opts[MC_CUDA_OPTIONS_LEN] = "";
    mc_cuda_options_add(opts, "-DBN=%d -DBK=%d -DSTAGES=%d", t->bn, t->bk, t->stages);
    tensor_core_options(opts, &args->u.gemm);
    return tensor_core_launch(kc, &args->u.gemm, "gemm_mma", opts, t->bn, mma_shared_bytes(t), err);
}

static mc_status gemm_mma_128_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return gemm_mma_run(kc, args, &mma_128, err);
}

static mc_status gemm_mma_256_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    return gemm_mma_run(kc, args, &mma_256, err);
}

/* wgmma is sm_90a's own: the kernel is built for exactly that architecture and runs on 9.0 only. */
static const char *gemm_wgmma_probe(mc_backend_ctx *ctx)
{
#ifdef MC_CUDA_BROKEN_GATE /* the gate proof's test build: always no */
    return "planted broken gate (MC_CUDA_BROKEN_GATE): says no on every device";
#endif
    const mc_cuda_device_info *d = mc_cuda_device(ctx);
    if (d->cc_major != 9 || d->cc_minor != 0)
        return "tensor-core wgmma (sm_90a) needs compute capability 9.0 exactly";
    if (d->nvrtc_major < WGMMA_NVRTC_MAJOR)
        return "tensor-core wgmma (sm_90a) needs NVRTC 12.0 or newer to compile it";
    if (d->shared_optin_bytes < WGMMA_SHARED_BYTES)
        return "tensor-core wgmma needs 193 KiB of shared memory a block; this device allows less";
    return NULL;
}

static mc_status gemm_wgmma_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    char opts[MC_CUDA_OPTIONS_LEN] = "";
    mc_cuda_options_add(opts, "--gpu-architecture=sm_90a -DSTAGES=%d -DINFLIGHT=%d", WGMMA_STAGES, WGMMA_INFLIGHT);
    tensor_core_options(opts, &args->u.gemm);
    return tensor_core_launch(kc, &args->u.gemm, "gemm_wgmma", opts, WGMMA_TILE_N, WGMMA_SHARED_BYTES, err);
}

const mc_cuda_program_def mc_cuda_program_gemm_tiled_32 = {
    .program = "gemm_cuda_tiled_32x32x8",
    .source = "gemm",
    .options = "-DTILE_M=32 -DTILE_N=32 -DTILE_K=8 -DWPT_M=2 -DWPT_N=2 -DDT_A=0 -DDT_B=0 -DDT_C=0 -DDT_BIAS=0 "
               "-DA_KFAST=1 -DB_NFAST=1 -DMC_BYTEWISE=0",
};

const mc_cuda_program_def mc_cuda_program_gemm_tiled_128 = {
    .program = "gemm_cuda_tiled_128x128x16",
    .source = "gemm",
    .options = "-DTILE_M=128 -DTILE_N=128 -DTILE_K=16 -DWPT_M=8 -DWPT_N=8 -DDT_A=0 -DDT_B=0 -DDT_C=0 -DDT_BIAS=0 "
               "-DA_KFAST=1 -DB_NFAST=1 -DMC_BYTEWISE=0",
};

const mc_cuda_program_def mc_cuda_program_gemm_mma = {
    .program = "gemm_cuda_mma_f16_128x128",
    .source = "gemm_mma",
    .options = "-DBN=128 -DBK=32 -DSTAGES=4 -DDT_AB=1 -DDT_C=1 -DDT_BIAS=1 -DMC_BYTEWISE=0",
};

const mc_cuda_program_def mc_cuda_program_gemm_mma_256 = {
    .program = "gemm_cuda_mma_f16_128x256",
    .source = "gemm_mma",
    .options = "-DBN=256 -DBK=64 -DSTAGES=3 -DDT_AB=1 -DDT_C=1 -DDT_BIAS=1 -DMC_BYTEWISE=0",
};

const mc_variant mc_variant_gemm_cuda_tiled_32x32x8 = {
    .op = MC_OP_GEMM,
    .backend = "cuda",
    .name = "gemm_cuda_tiled_32x32x8",
    .supports = gemm_supports,
    .run = gemm_tiled_32_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)gemm_tiled_run,
};

const mc_variant mc_variant_gemm_cuda_tiled_128x128x16 = {
    .op = MC_OP_GEMM,
    .backend = "cuda",
    .name = "gemm_cuda_tiled_128x128x16",
    .supports = gemm_supports,
    .run = gemm_tiled_128_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)gemm_tiled_run,
};

const mc_variant mc_variant_gemm_cuda_mma_f16_128x128 = {
    .op = MC_OP_GEMM,
    .backend = "cuda",
    .name = "gemm_cuda_mma_f16_128x128",
    .probe = gemm_mma_probe,
    .supports = gemm_mma_supports,
    .run = gemm_mma_128_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)gemm_mma_run,
    .requires = "sm_80",
};

const mc_variant mc_variant_gemm_cuda_mma_f16_128x256 = {
    .op = MC_OP_GEMM,
    .backend = "cuda",
    .name = "gemm_cuda_mma_f16_128x256",
    .probe = gemm_mma_probe,
    .supports = gemm_mma_supports,
    .run = gemm_mma_256_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)gemm_mma_run,
    .requires = "sm_80",
};

const mc_cuda_program_def mc_cuda_program_gemm_wgmma = {
    .program = "gemm_cuda_wgmma_f16_128x256",
    .source = "gemm_wgmma",
    .options = "--gpu-architecture=sm_90a -DSTAGES=4 -DINFLIGHT=1 -DDT_AB=1 -DDT_C=1 -DDT_BIAS=1 -DMC_BYTEWISE=0",
};

const mc_variant mc_variant_gemm_cuda_wgmma_f16_128x256 = {
    .op = MC_OP_GEMM,
    .backend = "cuda",
    .name = "gemm_cuda_wgmma_f16_128x256",
    .probe = gemm_wgmma_probe,
    .supports = gemm_mma_supports,
    .run = gemm_wgmma_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)gemm_wgmma_run,
    .requires = "sm_90a",
};

/* ---- the dispatcher ----
 * Per call: $MC_GEMM_KERNEL, when set, names the kernel (a name outside `choices` is MC_ERR_CONFIG,
 * one that cannot run here or declines is MC_ERR_UNSUPPORTED: never a fallback). Otherwise a
 * tensor-core kernel where their gate says yes and they take the case (128 x 256 tiles when those
 * alone fill the device, on wgmma where it runs, else 128 x 128), else the 128-tile SIMT kernel
 * unless both m and n fit one 32-tile, else the 32-tile one. kc->ran names what ran. */

static const mc_variant *const choices[] = {
    &mc_variant_gemm_cuda_tiled_32x32x8,
    &mc_variant_gemm_cuda_tiled_128x128x16,
    &mc_variant_gemm_cuda_mma_f16_128x128,
    &mc_variant_gemm_cuda_mma_f16_128x256,
    &mc_variant_gemm_cuda_wgmma_f16_128x256,
};
enum { CHOICE_MMA_256 = 3, CHOICE_WGMMA = 4 }; /* their places in choices[] */
#define N_CHOICES (int)(sizeof choices / sizeof choices[0])
_Static_assert(sizeof choices / sizeof choices[0] == CHOICE_WGMMA + 1, "choices[] and its CHOICE_ places disagree");

static const mc_variant *const *dispatch_choices(int *count)
{
    *count = N_CHOICES;
    return choices;
}

static bool runnable(mc_backend_ctx *ctx, const mc_variant *v)
{
    return !v->probe || !v->probe(ctx);
}

static mc_status choose_override(mc_backend_ctx *ctx, const char *name, const mc_args *args, const mc_variant **out,
                                 mc_err *err)
{
    for (int i = 0; i < N_CHOICES; i++) {
        if (strcmp(choices[i]->name, name) != 0)
            continue;
        const char *why = choices[i]->probe ? choices[i]->probe(ctx) : NULL;
        if (why)
            return mc_err_set(err, MC_ERR_UNSUPPORTED, "MC_GEMM_KERNEL=%s cannot run here: %s", name, why);
        if ((why = choices[i]->supports(args)))
            return mc_err_set(err, MC_ERR_UNSUPPORTED, "MC_GEMM_KERNEL=%s declines this case: %s", name, why);
        *out = choices[i];
        return MC_OK;
    }
    char valid[256] = "";
    for (int i = 0; i < N_CHOICES; i++)
        snprintf(valid + strlen(valid), sizeof valid - strlen(valid), "%s%s", i ? ", " : "", choices[i]->name);
    return mc_err_set(err, MC_ERR_CONFIG, "MC_GEMM_KERNEL=%s names no CUDA GEMM kernel; valid names: %s", name, valid);
}

/* The 128 x 256 tiles once they give every multiprocessor a block; fewer, larger blocks would
 * leave multiprocessors idle, where 128 x 128 tiles give twice the blocks. */
static bool mma_wide_fills_device(mc_backend_ctx *ctx, const mc_gemm_args *g)
{
    const int64_t blocks = (int64_t)mc_cuda_blocks(g->c.ne[0], mma_256.bn) * mc_cuda_blocks(g->c.ne[1], MMA_TILE_M) *
                           g->c.ne[2] * g->c.ne[3];
    return blocks >= mc_cuda_device(ctx)->sms;
}

static mc_status dispatch_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_gemm_args *g = &args->u.gemm;
    const char *name = getenv("MC_GEMM_KERNEL");
    const mc_variant *v = NULL;
    if (name && *name) {
        mc_status st = choose_override(kc->backend, name, args, &v, err);
        if (st)
            return st;
    } else if (runnable(kc->backend, &mc_variant_gemm_cuda_mma_f16_128x128) && !gemm_mma_supports(args)) {
        if (!mma_wide_fills_device(kc->backend, g))
            v = &mc_variant_gemm_cuda_mma_f16_128x128;
        else /* the same 128 x 256 blocks on wgmma where the device has it (sm_90a) */
            v = runnable(kc->backend, &mc_variant_gemm_cuda_wgmma_f16_128x256) ? &mc_variant_gemm_cuda_wgmma_f16_128x256
                                                                                : &mc_variant_gemm_cuda_mma_f16_128x256;
    } else {
        v = g->c.ne[0] <= 32 && g->c.ne[1] <= 32 ? &mc_variant_gemm_cuda_tiled_32x32x8 : &mc_variant_gemm_cuda_tiled_128x128x16;
    }
    snprintf(kc->ran, sizeof kc->ran, "%s", v->name);
    return v->run(kc, args, err);
}

/* Every SIMT kernel runs everywhere; the tensor-core ones where their gate says yes, except that
 * mma.sync's 128 x 256 tiles give way to wgmma's where wgmma runs. */
static void dispatch_may_choose(const bool *can_run, bool *may_choose)
{
    for (int i = 0; i < N_CHOICES; i++)
        may_choose[i] = can_run[i];
    if (can_run[CHOICE_WGMMA])
        may_choose[CHOICE_MMA_256] = false;
}

static const mc_dispatch_info dispatch_info = {
    .accepts = dispatch_choices,
    .may_choose = dispatch_may_choose,
};

static const char *const dispatch_programs[] = {"gemm_cuda_tiled_32x32x8", "gemm_cuda_tiled_128x128x16",
                                                "gemm_cuda_mma_f16_128x128", "gemm_cuda_mma_f16_128x256",
                                                "gemm_cuda_wgmma_f16_128x256", NULL};

const mc_cuda_program_def mc_cuda_program_gemm_dispatch = {
    .program = "gemm_cuda_dispatch",
    .combines = dispatch_programs,
};

const mc_variant mc_variant_gemm_cuda_dispatch = {
    .op = MC_OP_GEMM,
    .backend = "cuda",
    .name = "gemm_cuda_dispatch",
    .supports = gemm_supports,
    .run = dispatch_run,
    .flags = MC_VARIANT_DISPATCHER | MC_VARIANT_DETERMINISTIC,
    .code = (const void *)dispatch_run,
    .dispatch = &dispatch_info,
};
