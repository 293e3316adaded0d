/* stats/peaks.h: the machine's own ceilings: read, write and copy bandwidth from each cache level
 * and from DRAM, measured the way the fastest kernel moves data, so kernels are judged as a share
 * of what this machine can do where their data lives.
 * SPDX-License-Identifier: MIT */
#ifndef MC_PEAKS_H
#define MC_PEAKS_H

#include <stdbool.h>

#include "core/status.h"

/* Where a working set lives. */
typedef enum mc_mem_level {
    MC_MEM_L1,
    MC_MEM_L2,
    MC_MEM_L3,
    MC_MEM_DRAM,
    MC_MEM_LEVEL_COUNT
} mc_mem_level;

/* How a kernel moves its bytes. */
typedef enum mc_traffic {
    MC_TRAFFIC_READ,
    MC_TRAFFIC_WRITE,
    MC_TRAFFIC_COPY, /* read + write bytes, both counted */
    MC_TRAFFIC_COUNT
} mc_traffic;

typedef struct mc_cache_sizes {
    double l1_bytes, l2_bytes; /* data cache per core (private); 0 when unknown */
    double l3_bytes;           /* last-level cache, shared by all cores; 0 when unknown */
} mc_cache_sizes;

typedef struct mc_peaks {
    double gbs[MC_MEM_LEVEL_COUNT][MC_TRAFFIC_COUNT]; /* GB/s; 0 where not measured (cache unknown) */
    double bytes[MC_MEM_LEVEL_COUNT];                 /* working set of each measurement, all threads */
    int threads;                                      /* threads used */
} mc_peaks;

/* This machine's cache sizes (sysfs, else sysconf). */
mc_cache_sizes mc_peaks_cache_sizes(void);

/* A set of levels: bit (1 << level). */
#define MC_PEAKS_ALL_LEVELS ((1u << MC_MEM_LEVEL_COUNT) - 1)

/* The one bandwidth probe: the levels of `levels` that `c` has (a level of size 0 is skipped; L3
 * at four L2s per thread, its ceiling) and DRAM when asked (buffers
 * twice the last-level cache, at least 64 MiB), read, write and copy, on `threads` threads (1 to
 * 64), with the widest vector loads and stores this CPU has, non-temporal stores too for DRAM
 * (the faster of the two is kept). Each figure is the best of 7 timed passes: a roof is a ceiling,
 * and on a shared machine the slower passes are another program's interruptions. */
mc_status mc_peaks_measure(int threads, const mc_cache_sizes *c, unsigned levels, mc_peaks *out, mc_err *err);

/* Where a working set of `bytes` spread over `threads` threads lives: L1 and L2 hold a thread's
 * share, L3 the whole set. DRAM when it fits nowhere or no cache size is known. */
mc_mem_level mc_peaks_level(double bytes, int threads, const mc_cache_sizes *c);
/* "L1", "L2", "L3", "DRAM". */
const char *mc_peaks_level_name(mc_mem_level level);
/* "read", "write", "copy". */
const char *mc_peaks_traffic_name(mc_traffic t);

/* The roof for data at `level`: that level's figure, or the nearest measured level outward when
 * it has none (0 when nothing is measured). */
double mc_peaks_roof(const mc_peaks *p, mc_mem_level level, mc_traffic t);

/* The name a figure is stored under as a machine peak ("l2_read_gbs"; DRAM's read and copy keep
 * their historic names "read_gbs" and "copy_gbs", which the report's roofline reads). */
const char *mc_peaks_stored_name(mc_mem_level level, mc_traffic t);

#endif
