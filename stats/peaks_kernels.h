/* stats/peaks_kernels.h: the bandwidth probe's inner loops (read, write, copy; plain and
 * non-temporal stores), the widest this CPU runs, for stats/peaks.c.
 * SPDX-License-Identifier: MIT */
#ifndef MC_PEAKS_KERNELS_H
#define MC_PEAKS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "peaks.h"

#define MC_PEAKS_BLOCK 256 /* bytes per loop step: four 64-byte vectors; buffers are multiples of it */

/* Moves `bytes` (a multiple of MC_PEAKS_BLOCK, both buffers 64-byte aligned) from src, to dst or
 * both; returns a value depending on what it read, so no read is optimised away. */
typedef uint64_t (*mc_peaks_kernel_fn)(const unsigned char *src, unsigned char *dst, size_t bytes);

typedef struct mc_peaks_kernel {
    mc_peaks_kernel_fn fn;
    mc_traffic traffic;
    int far_only; /* streaming stores or software prefetch: measured from DRAM and at sizes past L2
                   * (stats/peaks_at.c), never at the L1/L2 levels, whose lines they would bypass */
} mc_peaks_kernel;

/* The loops for this CPU (AVX-512, else AVX2, else portable C), ended by a row with fn NULL. */
const mc_peaks_kernel *mc_peaks_kernels(void);

/* GB/s of loop k over `per_thread` bytes on each of `threads` threads (src, and dst for write and
 * copy; a copy counts both), the best of 7 timed passes after a warm-up (stats/peaks.c). */
double mc_peaks_kernel_rate(const mc_peaks_kernel *k, unsigned char *src, unsigned char *dst, size_t per_thread,
                            int threads);

/* The probe's two buffers, bytes each (a multiple of MC_PEAKS_BLOCK), every page touched before
 * any timing; the caller frees both (stats/peaks.c). */
mc_status mc_peaks_buffers_alloc(size_t bytes, unsigned char **src, unsigned char **dst, mc_err *err);

#endif
