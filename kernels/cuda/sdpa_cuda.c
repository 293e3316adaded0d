/* kernels/cuda/sdpa_cuda.c: the CUDA attention variants (sdpa.cu): three stages through an f32 score
 * buffer, the fused QK-softmax kernel that keeps a query's scores in shared memory, and the
 * flash-style warp kernel with an online softmax, split over key chunks and merged by a second
 * kernel (flash-decoding: no score buffer, any n_kv, enough warps for every SM).
 * SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "kernels/cuda/backend_cuda.h"

#define SDPA_TILE 16                                /* stage-1 and stage-3 tiles: 256 threads */
#define SDPA_GROUP 128                              /* row kernels */
#define SDPA_MAX_KV 4096                            /* fused: 16 KiB of scores in shared memory */
#define SDPA_MAX_D 256                              /* fused and flash: the query row in shared memory */
                                                    /* (flash: 16 query rows and 32 keys, 48 KiB at d = 256) */
#define SDPA_FLASH_WARPS 4                          /* flash: warps per block */
#define SDPA_FLASH_ROWS 4                           /* flash: query rows per warp (of heads sharing a kv head) */
#define SDPA_FLASH_WARPS_PER_SM 64                  /* flash: warps (rows x key chunk) wanted per SM */
#define SDPA_FLASH_MIN_CHUNK 64                     /* flash: fewest keys a chunk holds */
#define SDPA_FLASH_MAX_SPLITS 64                    /* flash: most chunks per query row */
#define SDPA_MAX_SCORE_BYTES (256ull * 1024 * 1024) /* three-stage: largest score buffer it allocates */

/* Floats of the flash kernel's shared memory: the block's query rows and a group of 32 keys, and
 * with with_v the group's values. */
static int64_t flash_smem_floats(const mc_sdpa_args *s, bool with_v)
{
    return SDPA_FLASH_WARPS * SDPA_FLASH_ROWS * s->q.ne[0] + 32 * (s->q.ne[0] + 1) + (with_v ? 32 * s->o.ne[0] : 0);
}

/* The flash kernel stages values beside keys when both fit the 48 KiB a block gets by default. */
static bool flash_v_smem(const mc_sdpa_args *s)
{
    return flash_smem_floats(s, true) * (int64_t)sizeof(float) <= 48 * 1024;
}

/* Elements of a row each of a warp's 32 lanes holds: ceil(n / 32), at least 1. */
static int flash_words(int64_t n)
{
    return n > 32 ? (int)((n + 31) / 32) : 1;
}

static void sdpa_options(char *opts, const mc_sdpa_args *s)
{
    const bool bytewise = mc_cuda_needs_bytewise(&s->q) || mc_cuda_needs_bytewise(&s->k) ||
                          mc_cuda_needs_bytewise(&s->v) || mc_cuda_needs_bytewise(&s->o);
    mc_cuda_options_add(opts, "-DTILE=%d -DGROUP=%d -DMAX_KV=%d -DMAX_D=%d -DFLASH_WARPS=%d -DFLASH_V_SMEM=%d",
                        SDPA_TILE, SDPA_GROUP, SDPA_MAX_KV, SDPA_MAX_D, SDPA_FLASH_WARPS, flash_v_smem(s));
    mc_cuda_options_add(opts, "-DFLASH_DV_WORDS=%d -DFLASH_D_WORDS=%d -DFLASH_ROWS=%d -DFLASH_MAX_SPLITS=%d",
                        flash_words(s->o.ne[0]), flash_words(s->q.ne[0]), SDPA_FLASH_ROWS, SDPA_FLASH_MAX_SPLITS);
    mc_cuda_options_add(opts, "-DDT_Q=%d -DDT_K=%d -DDT_V=%d -DDT_O=%d -DMC_BYTEWISE=%d", mc_cuda_dtype_code(s->q.dtype),
                        mc_cuda_dtype_code(s->k.dtype), mc_cuda_dtype_code(s->v.dtype), mc_cuda_dtype_code(s->o.dtype),
                        bytewise);
}

/* Query rows of all heads and batches: the number of score rows. */
static int64_t sdpa_rows(const mc_sdpa_args *s)
{
    return s->q.ne[1] * s->q.ne[2] * s->q.ne[3];
}

static size_t score_bytes(const mc_sdpa_args *s)
{
    return (size_t)sdpa_rows(s) * (size_t)s->k.ne[1] * sizeof(float);
}

static bool sdpa_empty(const mc_sdpa_args *s)
{
    return !s->o.ne[0] || !sdpa_rows(s);
}

static mc_status sdpa_three_stage_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_sdpa_args *s = &args->u.sdpa;
    if (sdpa_empty(s))
        return MC_OK; /* an empty o: nothing to write */
    char opts[MC_CUDA_OPTIONS_LEN] = "";
    sdpa_options(opts, s);
    CUdeviceptr scores;
    CUfunction f_scores, f_softmax, f_pv;
    mc_status st = mc_cuda_scratch(kc->backend, 0, score_bytes(s), &scores, err);
    if (!st)
        st = mc_cuda_function(kc->backend, "sdpa", opts, "sdpa_scores", &f_scores, err);
    if (!st)
        st = mc_cuda_function(kc->backend, "sdpa", opts, "sdpa_softmax", &f_softmax, err);
    if (!st)
        st = mc_cuda_function(kc->backend, "sdpa", opts, "sdpa_pv", &f_pv, err);
    if (st)
        return st;
    mc_cuda_tensor q = mc_cuda_tensor_of(&s->q), k = mc_cuda_tensor_of(&s->k), v = mc_cuda_tensor_of(&s->v),
                   o = mc_cuda_tensor_of(&s->o);
    float scale = s->scale;
    int causal = s->causal;
    long long q_offset = s->q_offset, n_kv = s->k.ne[1];
    const unsigned tile[3] = {SDPA_TILE, SDPA_TILE, 1}, group[3] = {SDPA_GROUP, 1, 1};
    const unsigned bh = (unsigned)(s->q.ne[2] * s->q.ne[3]);
    if (n_kv > 0) {
        void *p1[] = {&q, &k, &scores, &scale, &causal, &q_offset};
        const unsigned g1[3] = {mc_cuda_blocks(n_kv, SDPA_TILE), mc_cuda_blocks(s->q.ne[1], SDPA_TILE), bh};
        st = mc_cuda_launch(kc->backend, f_scores, g1, tile, 0, p1, err);
        void *p2[] = {&scores, &n_kv};
        const unsigned g2[3] = {(unsigned)sdpa_rows(s), 1, 1};
        if (!st)
            st = mc_cuda_launch(kc->backend, f_softmax, g2, group, 0, p2, err);
    }
    void *p3[] = {&scores, &v, &o};
    const unsigned g3[3] = {mc_cuda_blocks(s->o.ne[0], SDPA_TILE), mc_cuda_blocks(s->o.ne[1], SDPA_TILE), bh};
    if (!st)
        st = mc_cuda_launch(kc->backend, f_pv, g3, tile, 0, p3, err);
    return st;
}

/* The fused and flash kernels take the same arguments: q, k, v, o, scale, causal, q_offset. */
static mc_status sdpa_one_kernel(mc_kernel_ctx *kc, const mc_sdpa_args *s, const char *kernel, const unsigned grid[3],
                                 const unsigned block[3], mc_err *err)
{
    char opts[MC_CUDA_OPTIONS_LEN] = "";
    sdpa_options(opts, s);
    CUfunction f;
    mc_status st = mc_cuda_function(kc->backend, "sdpa", opts, kernel, &f, err);
    if (st)
        return st;
    mc_cuda_tensor q = mc_cuda_tensor_of(&s->q), k = mc_cuda_tensor_of(&s->k), v = mc_cuda_tensor_of(&s->v),
                   o = mc_cuda_tensor_of(&s->o);
    float scale = s->scale;
    int causal = s->causal;
    long long q_offset = s->q_offset;
    void *params[] = {&q, &k, &v, &o, &scale, &causal, &q_offset};
    return mc_cuda_launch(kc->backend, f, grid, block, 0, params, err);
}

static mc_status sdpa_fused_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_sdpa_args *s = &args->u.sdpa;
    if (sdpa_empty(s))
        return MC_OK;
    const unsigned grid[3] = {(unsigned)s->q.ne[1], (unsigned)(s->q.ne[2] * s->q.ne[3]), 1};
    const unsigned block[3] = {SDPA_GROUP, 1, 1};
    return sdpa_one_kernel(kc, s, "sdpa_fused", grid, block, err);
}

/* Blocks of the flash kernel per key chunk: (rows of a kv head, rounded up to whole blocks) x kv heads x batch. */
static int64_t flash_blocks_per_chunk(const mc_sdpa_args *s)
{
    const int64_t rows = s->q.ne[2] / s->k.ne[2] * s->q.ne[1];
    return (rows + SDPA_FLASH_WARPS * SDPA_FLASH_ROWS - 1) / (SDPA_FLASH_WARPS * SDPA_FLASH_ROWS) * s->k.ne[2] * s->q.ne[3];
}

/* Key chunks per query row for the flash kernel: enough warps to fill the device, no chunk under
 * SDPA_FLASH_MIN_CHUNK keys, at most SDPA_FLASH_MAX_SPLITS. */
static int64_t flash_splits(mc_backend_ctx *ctx, const mc_sdpa_args *s)
{
    const int64_t want = (int64_t)mc_cuda_device(ctx)->sms * SDPA_FLASH_WARPS_PER_SM;
    const int64_t warps = flash_blocks_per_chunk(s) * SDPA_FLASH_WARPS;
    int64_t splits = (want + warps - 1) / warps;
    const int64_t by_keys = (s->k.ne[1] + SDPA_FLASH_MIN_CHUNK - 1) / SDPA_FLASH_MIN_CHUNK;
    if (splits > by_keys)
        splits = by_keys;
    if (splits > SDPA_FLASH_MAX_SPLITS)
        splits = SDPA_FLASH_MAX_SPLITS;
    return splits < 1 ? 1 : splits;
}

static mc_status sdpa_flash_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_sdpa_args *s = &args->u.sdpa;
    if (sdpa_empty(s))
        return MC_OK;
    long long splits = flash_splits(kc->backend, s), n_kv = s->k.ne[1];
    long long chunk = (n_kv + splits - 1) / splits;
    chunk = (chunk + 31) / 32 * 32; /* whole groups of 32 keys per warp */
    char opts[MC_CUDA_OPTIONS_LEN] = "";
    sdpa_options(opts, s);
    CUdeviceptr part;
    CUfunction f_flash, f_combine;
    mc_status st = mc_cuda_scratch(kc->backend, 0,
                                   (size_t)sdpa_rows(s) * (size_t)splits * (size_t)(s->o.ne[0] + 2) * sizeof(float),
                                   &part, err);
    if (!st)
        st = mc_cuda_function(kc->backend, "sdpa", opts, "sdpa_flash", &f_flash, err);
    if (!st)
        st = mc_cuda_function(kc->backend, "sdpa", opts, "sdpa_flash_combine", &f_combine, err);
    if (st)
        return st;
    mc_cuda_tensor q = mc_cuda_tensor_of(&s->q), k = mc_cuda_tensor_of(&s->k), v = mc_cuda_tensor_of(&s->v),
                   o = mc_cuda_tensor_of(&s->o);
    float scale = s->scale;
    int causal = s->causal;
    long long q_offset = s->q_offset;
    void *p1[] = {&q, &k, &v, &part, &scale, &causal, &q_offset, &chunk};
    const unsigned g1[3] = {mc_cuda_blocks(s->q.ne[2] / s->k.ne[2] * s->q.ne[1], SDPA_FLASH_WARPS * SDPA_FLASH_ROWS),
                            (unsigned)(s->k.ne[2] * s->q.ne[3]), (unsigned)splits};
    const unsigned block[3] = {32 * SDPA_FLASH_WARPS, 1, 1};
    const unsigned shared = (unsigned)(flash_smem_floats(s, flash_v_smem(s)) * (int64_t)sizeof(float));
    st = mc_cuda_function_allow_shared(kc->backend, f_flash, shared, err);
    if (!st)
        st = mc_cuda_launch(kc->backend, f_flash, g1, block, shared, p1, err);
    void *p2[] = {&part, &o, &splits};
    const unsigned g2[3] = {mc_cuda_blocks(sdpa_rows(s), SDPA_FLASH_WARPS), 1, 1};
    if (!st)
        st = mc_cuda_launch(kc->backend, f_combine, g2, block, 0, p2, err);
    return st;
}

static const char *grid_supports(const mc_sdpa_args *s)
{
    if (s->q.ne[2] * s->q.ne[3] > 65535 || s->q.ne[1] / SDPA_TILE >= 65535)
        return "more heads or query tiles than a CUDA grid holds";
    return NULL;
}

static const char *sdpa_common_supports(const mc_sdpa_args *s)
{
    if (!mc_cuda_plain_float(s->q.dtype) || !mc_cuda_plain_float(s->k.dtype) ||
        !mc_cuda_plain_float(s->v.dtype) || !mc_cuda_plain_float(s->o.dtype))
        return "quantised q, k, v or o not supported";
    if (s->k.ne[2] < 1 || s->q.ne[2] % s->k.ne[2] != 0 || s->v.ne[2] != s->k.ne[2])
        return "heads must be a multiple of kv_heads (and v must have k's heads)";
    if (s->q.ne[0] != s->k.ne[0] || s->v.ne[1] != s->k.ne[1] || s->o.ne[0] != s->v.ne[0])
        return "q, k, v, o shapes disagree";
    if ((s->k.ne[3] != 1 && s->k.ne[3] != s->q.ne[3]) || (s->v.ne[3] != 1 && s->v.ne[3] != s->q.ne[3]))
        return "batch of k and v must equal q's or be 1";
    return grid_supports(s);
}

static const char *sdpa_three_stage_supports(const mc_args *args)
{
    const mc_sdpa_args *s = &args->u.sdpa;
    const char *why = sdpa_common_supports(s);
    if (!why && score_bytes(s) > SDPA_MAX_SCORE_BYTES)
        why = "the score buffer (heads x n_q x n_kv floats) would exceed 256 MiB";
    return why;
}

static const char *sdpa_fused_supports(const mc_args *args)
{
    const mc_sdpa_args *s = &args->u.sdpa;
    const char *why = sdpa_common_supports(s);
    if (!why && s->k.ne[1] > SDPA_MAX_KV)
        why = "fused QK-softmax keeps a query's scores in shared memory: n_kv must be at most 4096";
    if (!why && s->q.ne[0] > SDPA_MAX_D)
        why = "fused QK-softmax keeps the query row in shared memory: d must be at most 256";
    return why;
}

static const char *sdpa_flash_supports(const mc_args *args)
{
    const mc_sdpa_args *s = &args->u.sdpa;
    const char *why = sdpa_common_supports(s);
    if (!why && (s->q.ne[0] > SDPA_MAX_D || s->o.ne[0] > SDPA_MAX_D))
        why = "flash keeps the query row and the output row per warp: d must be at most 256";
    return why;
}

#define SDPA_CANONICAL                                                                     \
    "-DTILE=16 -DGROUP=128 -DMAX_KV=4096 -DMAX_D=256 -DFLASH_WARPS=4 -DFLASH_V_SMEM=1 " \
    "-DFLASH_DV_WORDS=2 -DFLASH_D_WORDS=2 -DFLASH_ROWS=4 -DFLASH_MAX_SPLITS=64 -DDT_Q=0 -DDT_K=0 -DDT_V=0 -DDT_O=0 -DMC_BYTEWISE=0"

/* All three variants build the same program (sdpa.cu holds every kernel), so they share its hash. */
const mc_cuda_program_def mc_cuda_program_sdpa_three_stage = {
    .program = "sdpa_cuda_three_stage", .source = "sdpa", .options = SDPA_CANONICAL};
const mc_cuda_program_def mc_cuda_program_sdpa_fused = {
    .program = "sdpa_cuda_fused_qk_softmax", .source = "sdpa", .options = SDPA_CANONICAL};
const mc_cuda_program_def mc_cuda_program_sdpa_flash = {
    .program = "sdpa_cuda_flash", .source = "sdpa", .options = SDPA_CANONICAL};

const mc_variant mc_variant_sdpa_cuda_three_stage = {
    .op = MC_OP_SDPA,
    .backend = "cuda",
    .name = "sdpa_cuda_three_stage",
    .supports = sdpa_three_stage_supports,
    .run = sdpa_three_stage_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)sdpa_three_stage_run,
};

const mc_variant mc_variant_sdpa_cuda_fused_qk_softmax = {
    .op = MC_OP_SDPA,
    .backend = "cuda",
    .name = "sdpa_cuda_fused_qk_softmax",
    .supports = sdpa_fused_supports,
    .run = sdpa_fused_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)sdpa_fused_run,
};

const mc_variant mc_variant_sdpa_cuda_flash = {
    .op = MC_OP_SDPA,
    .backend = "cuda",
    .name = "sdpa_cuda_flash",
    .supports = sdpa_flash_supports,
    .run = sdpa_flash_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)sdpa_flash_run,
};
