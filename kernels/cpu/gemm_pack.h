/* kernels/cpu/gemm_pack.h: what the tiled GEMM kernels share: strided matrix views, panel packing,
 * the microkernel interface, the tile store, and the blocked, threaded driver (gemm_tiled.c).
 * SPDX-License-Identifier: MIT */
#ifndef MC_GEMM_PACK_H
#define MC_GEMM_PACK_H

#include <stdint.h>

#include "core/variant.h"
#include "kernels/cpu/gemm_tiles.h"

/* A strided matrix of plain floats (f32, f16, bf16) over host memory: element (r, c) lives at
 * base + r*rs + c*cs bytes. Strides may be anything, the base need not be aligned. */
typedef struct mc_gemm_mat {
    const uint8_t *base;
    int64_t rs, cs; /* byte strides of a row step and a column step */
    mc_dtype dtype;
} mc_gemm_mat;

/* Packs the rows [r0, r0 + rows) over the columns [c0, c0 + depth) of src into slivers of w rows:
 * out[(s*depth + p)*w + r] = src(r0 + s*w + r, c0 + p) as f32, and the rows of the last sliver
 * that lie past the end are zeros. A is packed as it is (m x k), B as its transpose (n x k), so
 * one routine serves both and every layout: packing is the one copy the GEMM makes. */
typedef void (*mc_gemm_pack_fn)(const mc_gemm_mat *src, int64_t r0, int64_t rows, int64_t c0, int64_t depth,
                                int w, float *out);

/* The portable packing routine (memcpy loads: any stride, any alignment). */
void mc_gemm_pack_generic(const mc_gemm_mat *src, int64_t r0, int64_t rows, int64_t c0, int64_t depth, int w,
                          float *out);

/* The same with F16C conversions for f16 (gemm_tiled_avx2.c): only for kernels whose probe checks F16C. */
void mc_gemm_pack_f16c(const mc_gemm_mat *src, int64_t r0, int64_t rows, int64_t c0, int64_t depth, int w,
                       float *out);

/* The bf16 matrix kernels' packing (gemm_bf16_pack.c), for bf16 sources only: the same slivers,
 * sliver s at out + s*depth*w slots, but each 32-bit slot holds a pair of consecutive k elements
 * as bf16 bits (low half the even one), pair q of row r at slot q*w + r: (depth + 1) / 2 pairs, an
 * odd depth's last pair and rows past the end padded with zeros. */
void mc_gemm_pack_bf16_pairs(const mc_gemm_mat *src, int64_t r0, int64_t rows, int64_t c0, int64_t depth, int w,
                             float *out);
/* A's packing for AMX-BF16 tiles (gemm_bf16_pack.c): the same pairs, but in chunks of 16 pairs,
 * each chunk row-major (row r's pairs adjacent, as a tile load wants them): chunk h at slot
 * 16 w h, pair q of row r at 16 w h + r * len + q, len = 16 or the pairs left in the last chunk.
 * Uses no more slots than mc_gemm_pack_bf16_pairs. */
void mc_gemm_pack_bf16_amx_a(const mc_gemm_mat *src, int64_t r0, int64_t rows, int64_t c0, int64_t depth, int w,
                             float *out);
/* supports() of the bf16 matrix kernels: bf16 A and B, then the tiled kernels' rule. */
const char *mc_gemm_bf16_supports(const mc_args *args);

/* Where one microkernel tile goes, and how it combines with what is there:
 * C = alpha * acc + beta * C + bias, with C not read at all when beta == 0. */
typedef struct mc_gemm_tile_c {
    uint8_t *c;        /* f32 element (0, 0) of the tile; any alignment */
    int64_t rs, cs;    /* byte strides of C */
    int mr, nr;        /* valid rows and columns: edge tiles are smaller than MR x NR */
    float alpha;
    float beta;        /* first k block: the caller's beta; later blocks: 1 */
    const float *bias; /* nr values added per column (first k block only), or NULL */
} mc_gemm_tile_c;

/* Multiplies an MR x kc packed A sliver by a kc x NR B sliver into the tile. Row p of the B sliver
 * starts at pb + p*ldb: ldb == NR when B is packed, B's row stride when it is read in place (f32,
 * 4-byte aligned, rows contiguous), so pb need not be vector-aligned. */
typedef void (*mc_gemm_ukr_fn)(int64_t kc, const float *pa, const float *pb, int64_t ldb, const mc_gemm_tile_c *t);

/* Stores an accumulator tile (row r, column c at acc[r*ld + c]) into t: the edge and strided path. */
void mc_gemm_store_tile(const float *acc, int ld, const mc_gemm_tile_c *t);

/* A microkernel with its packing: what a tiled variant plugs into the driver. */
typedef struct mc_gemm_kernel {
    const char *name;    /* the variant's registered name */
    int mr, nr;          /* tile shape */
    int row_step;        /* an edge tile of r rows costs as much as ceil(r / row_step) * row_step rows:
                            the driver splits rows between threads in these steps; 0: mr (the
                            kernel computes every tile in full) */
    mc_gemm_ukr_fn ukr;
    mc_gemm_pack_fn pack;
    mc_gemm_pack_fn pack_a; /* A's own packing when it differs from B's (AMX tiles); NULL: pack */
    void (*thread_begin)(void); /* called by each thread before its first microkernel call (AMX:
                                   the tile configuration, once per thread); NULL: none */
    void (*thread_end)(void);   /* called by each thread after its last one; NULL: none */
    /* n f32 values to n contiguous bf16, each rounded exactly as mc_f32_to_bf16 (the last step of
     * a bf16 C); NULL: element by element */
    void (*bf16_row)(uint8_t *dst, const float *src, int64_t n);
} mc_gemm_kernel;

/* The AVX-512F bf16_row (gemm_tiled_avx512.c): for kernels whose probe checks AVX-512F. */
void mc_gemm_bf16_row_avx512(uint8_t *dst, const float *src, int64_t n);

/* Runs C = alpha*A*B + beta*C + bias for every batch with the blocked driver, on exactly `threads`
 * threads (>= 1), with the given tiles (rounded up to the kernel's MR and NR). Plain-float dtypes
 * only; accumulation is f32 whatever the storage, and an f16/bf16 C is rounded once, at the end. */
mc_status mc_gemm_tiled_run(const mc_gemm_kernel *kern, const mc_gemm_tiles *tiles, int threads,
                            const mc_gemm_args *g, mc_err *err);

/* Threads a tiled GEMM of this shape should use: at most `allowed` and the tiles' cap, and few
 * enough that each gets real work (a wake-up and a barrier cost as much as ~1-4M flops). */
int mc_gemm_tiled_threads(const mc_gemm_args *g, const mc_gemm_tiles *tiles, int allowed);

/* Runs a tiled variant the way the registry does: tiles from the tuning table for the shape's
 * class, threads from kc->threads. What the tiled variants' run() calls. */
mc_status mc_gemm_tiled_variant_run(const mc_gemm_kernel *kern, mc_kernel_ctx *kc, const mc_args *args,
                                    mc_err *err);

/* supports() shared by the tiled variants: plain floats everywhere. */
const char *mc_gemm_tiled_supports(const mc_args *args);

/* The tiled kernels as driver plug-ins, for the tuner and the tests. The ISA ones are NULL (with
 * the probe's reason in *why_not) on a CPU that lacks what they need. */
const mc_gemm_kernel *mc_gemm_kernel_portable(void);
const mc_gemm_kernel *mc_gemm_kernel_avx2_6x16(const char **why_not /* out, may be NULL */);
const mc_gemm_kernel *mc_gemm_kernel_avx512_12x32(const char **why_not /* out, may be NULL */);
/* A tiled kernel by its variant name; NULL with a reason in *why_not when it is not one or
 * cannot run here. */
const mc_gemm_kernel *mc_gemm_kernel_find(const char *name, const char **why_not /* out, may be NULL */);

#endif
