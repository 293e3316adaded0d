/* kernels/cpu/gemm_tiles.h: GEMM shape classes, each class's default kernels, and the tile
 * configurations (the tuning table) that the tiled kernels and the dispatcher load.
 * SPDX-License-Identifier: MIT */
#ifndef MC_GEMM_TILES_H
#define MC_GEMM_TILES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/variant.h"

/* One tile configuration of the blocked GEMM (BLIS's MC, NC, KC). */
typedef struct mc_gemm_tiles {
    int tile_m;  /* rows of A packed per block (rounded up to the microkernel's MR) */
    int tile_n;  /* columns of B packed per panel (rounded up to NR) */
    int tile_k;  /* depth of one packed block */
    int threads; /* most threads worth using for this class; 0 = as many as the caller allows */
} mc_gemm_tiles;

/* Shape classes, tried in the order of the rule table in gemm_tiles.c. */
typedef enum mc_gemm_class {
    MC_GEMM_CLASS_GEMV,    /* n == 1: a matrix-vector product */
    MC_GEMM_CLASS_SMALL_N, /* n <= 8: a few dot products per row of A */
    MC_GEMM_CLASS_TINY,    /* m*n*k small enough that packing would dominate */
    MC_GEMM_CLASS_SMALL_M, /* m <= 32: prefill-sized activations against weights */
    MC_GEMM_CLASS_MEDIUM,  /* up to 256^3 multiply-adds */
    MC_GEMM_CLASS_LARGE,   /* everything bigger */
    MC_GEMM_CLASS_COUNT
} mc_gemm_class;

#define MC_GEMM_MAX_CANDIDATES 8

typedef struct mc_gemm_class_info {
    const char *name;                               /* as written in tuning files */
    const char *rule;                               /* one line for --help and reports */
    const char *candidates[MC_GEMM_MAX_CANDIDATES]; /* default kernels, best first: the dispatcher
                                                       takes the first whose probe says yes and
                                                       that supports the case; NULL-terminated */
} mc_gemm_class_info;

/* The class of an m x n x k product. */
mc_gemm_class mc_gemm_class_of(int64_t m, int64_t n, int64_t k);
/* Whether this CPU executes a 512-bit FMA at full width (Intel cores with AVX-512, AMD from Zen 5;
 * Zen 4 splits it in two 256-bit halves): some classes then list AVX-512 first. */
int mc_gemm_cpu_full_width_512(void);
/* Description of a class on this CPU (its defaults may depend on mc_gemm_cpu_full_width_512). */
const mc_gemm_class_info *mc_gemm_class_info_of(mc_gemm_class cls);
/* Parses a class name; returns -1 when unknown. */
int mc_gemm_class_parse(const char *name);

/* Names of the kernels whose tiles are tunable, NULL-terminated. */
const char *const *mc_gemm_tunable_kernels(void);

/* Tiles for kernel `kernel` on class `cls`: from the file named by $MC_GEMM_TUNING when it is set
 * and has an entry, else the compiled-in table, else the kernel's generic default. Fails only when
 * $MC_GEMM_TUNING names a file that cannot be read or parsed (never a silent fallback). */
mc_status mc_gemm_tiles_lookup(const char *kernel, mc_gemm_class cls, mc_gemm_tiles *out, mc_err *err);

/* The kernel that the $MC_GEMM_TUNING file puts first for class cls: *found is 0 when there is no
 * file or no default row for the class. Fails only as mc_gemm_tiles_lookup does. */
mc_status mc_gemm_default_lookup(mc_gemm_class cls, char *kernel, size_t cap, int *found /* out */, mc_err *err);

/* The compiled-in tiles alone (what the tuner compares against). */
mc_gemm_tiles mc_gemm_tiles_builtin(const char *kernel, mc_gemm_class cls);

/* One row of a tuning table: a kernel's tiles for a class, or (is_default) the kernel the
 * dispatcher tries first for a class on this machine. */
typedef struct mc_gemm_tuning_entry {
    int is_default;
    char kernel[64];
    mc_gemm_class cls;
    mc_gemm_tiles tiles; /* tile rows only */
    double gflops;       /* what the tuner measured (0 when unknown) */
} mc_gemm_tuning_entry;

/* Reads a tuning file into entries (at most cap). Lines are "kernel class tile_m tile_n tile_k
 * threads [gflops]" or "default class kernel". Unknown kernels or classes, bad numbers and
 * malformed lines are MC_ERR_CONFIG naming the file and line. */
mc_status mc_gemm_tuning_read(const char *path, mc_gemm_tuning_entry *entries, int cap, int *count /* out */,
                              mc_err *err);
/* Prints a tuning table to f (the CLI writes it through core/outfile.h). */
void mc_gemm_tuning_print(FILE *f, const mc_gemm_tuning_entry *entries, int count, const char *comment);
/* Writes a tuning file; `comment` (may be NULL) goes into its header. */
mc_status mc_gemm_tuning_write(const char *path, const mc_gemm_tuning_entry *entries, int count,
                               const char *comment, mc_err *err);

/* The dispatcher's choice for a case (gemm_dispatch.c): $MC_GEMM_KERNEL when set (an unknown
 * name is MC_ERR_CONFIG listing the valid ones; a kernel that cannot run here or declines the case
 * is MC_ERR_UNSUPPORTED), else the class's first default that probes yes and supports the case. */
mc_status mc_gemm_dispatch_choose(mc_backend_ctx *ctx, const mc_args *args, const mc_variant **out, mc_err *err);
/* How many times the dispatcher has asked a kernel's probe in this process: each probe is asked
 * once and its answer kept (tests/test_gemm_tiled.c holds the dispatcher to that). */
int mc_gemm_dispatch_probe_asks(void);
/* Every kernel the dispatcher may choose (the valid $MC_GEMM_KERNEL names). */
const mc_variant *const *mc_gemm_dispatch_choices(int *count /* out */);
/* The dispatcher's declaration for dispatch coverage (its choices and which it prefers here). */
extern const mc_dispatch_info mc_gemm_dispatch_info;

#endif
