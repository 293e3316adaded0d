/* stats/peaks.h: the machine's own ceilings: read, write and copy bandwidth from each cache level
 * and from DRAM, measured the way the fastest kernel moves data, so kernels are judged as a share
 * of what this machine can do where their data lives.
 * SPDX-License-Identifier: MIT */
#ifndef MC_PEAKS_H
#define MC_PEAKS_H

#include <stdbool.h>
#include <stddef.h>

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

/* A roof measured at one working-set size (stats/peaks_at.c): past L2 a case is held to the
 * rate a buffer of its own size moves, not to a level named after the reported cache sizes. */
#define MC_PEAKS_MAX_AT 64
typedef struct mc_peaks_at {
    double bytes;                  /* the bucket, all threads together (mc_peaks_bucket) */
    double gbs[MC_TRAFFIC_COUNT];  /* read and copy; 0 where not measured */
} mc_peaks_at;

typedef struct mc_peaks {
    double gbs[MC_MEM_LEVEL_COUNT][MC_TRAFFIC_COUNT]; /* GB/s; 0 where not measured (cache unknown) */
    double bytes[MC_MEM_LEVEL_COUNT];                 /* working set of each measurement, all threads */
    int threads;                                      /* threads used */
    int n_at;                                         /* roofs at the rows' own sizes, by size */
    mc_peaks_at at[MC_PEAKS_MAX_AT];
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

/* ---- roofs at a working set's own size (stats/peaks_at.c) ---- */

/* A figure that beats DRAM's (the far buffer's) by this factor comes from a cache: its level is
 * "L3" whatever size the caches report; below it, "DRAM". */
#define MC_PEAKS_CACHE_GAIN 1.25

/* The size a working set of `bytes` is measured at: the largest 2^(k/8) <= bytes (eight buckets
 * an octave, at most 8% below the set: a smaller buffer reads no slower, so the roof stays a
 * ceiling). 0 for bytes < 1. */
double mc_peaks_bucket(double bytes);
/* Measures read and copy at the bucket of each of sizes[0..n) not yet in p, with p->threads
 * threads and every loop form (vector width, streams, prefetch, streaming stores: the fastest is
 * kept, best of 7 passes, in 3 rounds over all sizes), then applies mc_peaks_at_envelope. Sizes at or past DRAM's buffer (p->bytes[MC_MEM_DRAM], which must be
 * measured) are left to DRAM's figure. */
mc_status mc_peaks_measure_at(mc_peaks *p, const double *sizes, int n, mc_err *err);
/* A smaller working set is never slower to move: raises each size's figure to the best of every
 * larger size's and of DRAM's (for sizes short of DRAM's buffer), so that one noisy measurement
 * cannot put a roof below a larger set's. mc_peaks_measure_at ends with it. */
void mc_peaks_at_envelope(mc_peaks *p);
/* Adds a figure for the bucket of `bytes` (the store's loaded figures, tests). false when full. */
bool mc_peaks_add_at(mc_peaks *p, double bytes, mc_traffic t, double gbs);
/* The figure measured at the bucket of `bytes` (0 when none). */
double mc_peaks_at_gbs(const mc_peaks *p, double bytes, mc_traffic t);
/* Where a figure measured at some size reads from: L3 when it beats DRAM's figure for the same
 * traffic by MC_PEAKS_CACHE_GAIN, else DRAM (also when DRAM's is unknown). */
mc_mem_level mc_peaks_at_level(const mc_peaks *p, double gbs, mc_traffic t);
/* The name a figure at a bucket is stored under: "read_gbs_at_117440512". */
void mc_peaks_at_stored_name(double bucket, mc_traffic t, char *buf, size_t cap);

#endif
