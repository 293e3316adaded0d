/* kernels/cpu/gemm_bf16_amx.c: the bf16 GEMM on AMX-BF16 tiles (tdpbf16ps), 16x32 per call as two
 * 16x16 f32 accumulator tiles, in the tiled driver; behind its own probe (cpuid and the kernel's
 * permission to use tile data). Runs only where the CPU has AMX.
 * SPDX-License-Identifier: MIT */
#include <cpuid.h>
#include <immintrin.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/gemm_pack.h"

#define MR 16
#define NR 32
#define CHUNK 16 /* pairs per tile step: 32 k elements, a 64-byte tile row */
#define AMX_TARGET __attribute__((target("amx-tile,amx-bf16")))

#define ARCH_REQ_XCOMP_PERM 0x1023 /* linux/arch/x86/include/uapi/asm/prctl.h */
#define XFEATURE_XTILEDATA 18

/* Linux hands out the tile data state only on request, once per process. */
static int request_tile_permission(void)
{
#ifdef SYS_arch_prctl
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
#else
    return 0;
#endif
}

static const char *probe_amx(mc_backend_ctx *ctx)
{
    (void)ctx;
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
        return "cpuid leaf 7 missing";
    if (!(edx & (1u << 24)) || !(edx & (1u << 22)))
        return "cpu lacks AMX-TILE or AMX-BF16 (cpuid 7.0 edx bits 24, 22)";
    if (!__builtin_cpu_supports("avx512f"))
        return "cpu lacks AVX-512F (the bf16 output rows)";
    if (!request_tile_permission())
        return "the kernel refused AMX tile data (arch_prctl ARCH_REQ_XCOMP_PERM)";
    return NULL;
}

typedef struct tile_config {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

/* Tiles 0, 1: C halves (16 x 16 f32); 2: A (16 rows x 16 pairs); 3, 4: B halves (16 pairs x 16).
 * Loaded once per thread by the driver (thread_begin), released after its last tile (thread_end):
 * LDTILECFG and TILERELEASE in every microkernel call cost more than its tile loads. */
AMX_TARGET static void load_config(void)
{
    /* static const, not a stack copy filled in here: gcc 12 does not see LDTILECFG read its
     * operand and dropped the stores to a local configuration (a #GP, SIGSEGV, on the first call) */
    static const tile_config cfg __attribute__((aligned(64))) = {
        .palette = 1,
        .colsb = {64, 64, 64, 64, 64},
        .rows = {16, 16, 16, 16, 16},
    };
    _tile_loadconfig(&cfg);
}

AMX_TARGET static void release_tiles(void)
{
    _tile_release();
}

/* gcc's tile loads and stores are asm statements without a memory operand or clobber: without
 * this barrier the stores into the padded tiles were dropped as dead and the tile stores to acc
 * were not seen by the reads after them (NaN results). */
static inline void memory_barrier(void)
{
    __asm__ __volatile__("" ::: "memory");
}

/* The accumulators go straight between C and the tiles when nothing needs scaling: a full tile of
 * rows of contiguous f32, alpha 1, no bias, and beta 0 (start from zero) or 1 (start from C). */
static int c_in_tiles(const mc_gemm_tile_c *t)
{
    return t->mr == MR && t->nr == NR && t->cs == (int64_t)sizeof(float) && t->alpha == 1.0f && !t->bias &&
           (t->beta == 0.0f || t->beta == 1.0f);
}

/* pa: mc_gemm_pack_bf16_amx_a's chunks; pb: pair rows of NR slots (ldb == NR: B is packed). The
 * last chunk, when short, is copied into zero-padded tiles so every tile step is a full one. */
AMX_TARGET static void ukr_amx_16x32(int64_t kc, const float *pa, const float *pb, int64_t ldb,
                                     const mc_gemm_tile_c *t)
{
    const uint32_t *a = (const uint32_t *)(const void *)pa, *b = (const uint32_t *)(const void *)pb;
    const int64_t pairs = (kc + 1) / 2, bstride = ldb * (int64_t)sizeof *b;
    const int direct = c_in_tiles(t);
    memory_barrier(); /* C and the packed panels are written before the tile loads read them */
    if (direct && t->beta == 1.0f) {
        _tile_loadd(0, t->c, t->rs);
        _tile_loadd(1, t->c + 16 * sizeof(float), t->rs);
    } else {
        _tile_zero(0);
        _tile_zero(1);
    }
    int64_t h0 = 0;
    for (; h0 + CHUNK <= pairs; h0 += CHUNK) {
        const uint32_t *bt = b + h0 * ldb;
        _tile_loadd(2, a + h0 * MR, CHUNK * sizeof *a);
        _tile_loadd(3, bt, bstride);
        _tile_loadd(4, bt + 16, bstride);
        _tile_dpbf16ps(0, 2, 3);
        _tile_dpbf16ps(1, 2, 4);
    }
    if (h0 < pairs) {
        const int64_t len = pairs - h0;
        const uint32_t *at = a + h0 * MR, *bt = b + h0 * ldb;
        uint32_t a_pad[MR * CHUNK] __attribute__((aligned(64)));
        uint32_t b_pad[CHUNK * NR] __attribute__((aligned(64)));
        memset(a_pad, 0, sizeof a_pad);
        memset(b_pad, 0, sizeof b_pad);
        for (int r = 0; r < MR; r++)
            memcpy(a_pad + r * CHUNK, at + r * len, (size_t)len * sizeof *at);
        for (int64_t q = 0; q < len; q++)
            memcpy(b_pad + q * NR, bt + q * ldb, NR * sizeof *bt);
        memory_barrier();
        _tile_loadd(2, a_pad, CHUNK * sizeof *a_pad);
        _tile_loadd(3, b_pad, NR * sizeof *b_pad);
        _tile_loadd(4, b_pad + 16, NR * sizeof *b_pad);
        _tile_dpbf16ps(0, 2, 3);
        _tile_dpbf16ps(1, 2, 4);
    }
    if (direct) {
        _tile_stored(0, t->c, t->rs);
        _tile_stored(1, t->c + 16 * sizeof(float), t->rs);
        memory_barrier();
        return;
    }
    float acc[MR * NR] __attribute__((aligned(64)));
    _tile_stored(0, acc, NR * sizeof *acc);
    _tile_stored(1, acc + 16, NR * sizeof *acc);
    memory_barrier();
    mc_gemm_store_tile(acc, NR, t);
}

static const mc_gemm_kernel amx_kernel = {
    .name = "gemm_tiled_bf16_amx_16x32",
    .mr = MR,
    .nr = NR,
    .ukr = ukr_amx_16x32,
    .pack = mc_gemm_pack_bf16_pairs,
    .pack_a = mc_gemm_pack_bf16_amx_a,
    .thread_begin = load_config,
    .thread_end = release_tiles,
    .bf16_row = mc_gemm_bf16_row_avx512,
};

static mc_status run_amx(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    if (!request_tile_permission()) /* per process: a worker may not be the one that probed */
        return mc_err_set(err, MC_ERR_BACKEND, "gemm_tiled_bf16_amx_16x32: AMX tile data refused");
    return mc_gemm_tiled_variant_run(&amx_kernel, kc, args, err);
}

const mc_variant mc_variant_gemm_tiled_bf16_amx_16x32 = {
    .op = MC_OP_GEMM,
    .backend = "cpu",
    .name = "gemm_tiled_bf16_amx_16x32",
    .probe = probe_amx,
    .requires = "amx_tile,amx_bf16,avx512f",
    .supports = mc_gemm_bf16_supports,
    .run = run_amx,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)ukr_amx_16x32,
};
