/* stats/peaks.h: the machine's own ceilings (memory read and copy bandwidth), measured once per
 * machine, so kernels are judged as a share of what this machine can do.
 * SPDX-License-Identifier: MIT */
#ifndef MC_PEAKS_H
#define MC_PEAKS_H

#include "core/status.h"

typedef struct mc_peaks {
    double read_gbs;  /* streaming read of a buffer of `bytes` (machine peaks: far larger than most caches) */
    double copy_gbs;  /* read + write bytes of memcpy, all cores */
    int threads;      /* threads used */
    double bytes;     /* buffer size per measurement */
} mc_peaks;

/* Measures with `threads` threads over `mib` MiB (median of 7 repeats). */
mc_status mc_peaks_measure(int threads, int mib, mc_peaks *out, mc_err *err);
/* The best of 7 repeats over a working set of this many bytes, so a kernel whose data fits in a
 * cache is held to that cache's bandwidth, not to DRAM's (a 45 MB GEMV once showed "240% of read
 * bw"). */
mc_status mc_peaks_measure_at(int threads, double working_set_bytes, mc_peaks *out, mc_err *err);

typedef struct mc_cache_sizes {
    double l1_bytes, l2_bytes, l3_bytes; /* data caches per level; 0 when unknown */
} mc_cache_sizes;

/* This machine's cache sizes (sysconf). */
mc_cache_sizes mc_peaks_cache_sizes(void);
/* Where a working set lives: "L1", "L2", "L3", "DRAM", or "memory" when no cache size is known. */
const char *mc_peaks_level(double working_set_bytes, const mc_cache_sizes *c);

#endif
