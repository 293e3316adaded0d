/* engine/perf_table.h: the perf tier's printout: medians, rates, and ratios against a peer
 * measured in the same run (OpenBLAS, the three-stage SDPA, the machine's bandwidth).
 * SPDX-License-Identifier: MIT */
#ifndef MC_PERF_TABLE_H
#define MC_PERF_TABLE_H

#include <stdio.h>

#include "core/op.h"
#include "stats/peaks.h"
#include "session.h"
#include "stats/timing.h"

/* The peer variant an op's timings are compared with, or NULL (bandwidth-bound ops). */
const char *mc_perf_peer_of(mc_op_id op);
/* Unpacks item i's timing; false when it has none. */
bool mc_perf_timing_of(const mc_session *s, int item, mc_timing *out);
/* Prints the machine's roofs, then one line per timed item; peaks may be NULL (no roofs),
 * measured_now says whether the probe ran in this run or its figures came from the store. A
 * bandwidth-bound row is held to the roof of the level its working set lives in ("62% of L3 read
 * roof at 45.2 MB"); a row above its roof prints a warning line instead of a share over 100%. */
void mc_perf_table_print(FILE *out, const mc_session *s, const mc_peaks *peaks, bool measured_now);

/* The levels (a set for mc_peaks_measure) where the bandwidth-bound timed rows of s live, with
 * `threads` threads; rows past L2 ask for DRAM (their own roof is measured at their size, and
 * named against DRAM's): the roofs worth measuring for this table. */
unsigned mc_perf_table_levels(const mc_session *s, int threads);
/* The working sets of the bandwidth-bound timed rows past L2 (at most cap, into sizes): the sizes
 * to measure roofs at (mc_peaks_measure_at). Returns how many. */
int mc_perf_table_sizes(const mc_session *s, int threads, double *sizes, int cap);

/* The roof a row is held to. */
typedef struct mc_perf_roof {
    mc_mem_level level;
    mc_traffic traffic;
    double gbs;      /* 0: no roof */
    double dram_gbs; /* DRAM's figure for the same traffic, for rows that live in a cache */
    double at_bytes; /* the size the roof was measured at (past L2); 0: the level's own figure */
} mc_perf_roof;

/* The roof for `bytes` of a `kind`-bound op, on the peaks' thread count and these caches: in L1
 * or L2 that level's figure; past L2 the figure measured at its size when p has one (its level
 * then says where that rate comes from: mc_peaks_at_level), else the level's or the next one out. */
mc_perf_roof mc_perf_roof_for(const mc_peaks *p, const mc_cache_sizes *c, mc_roof kind, double bytes);
/* Writes the share of the roof a row reaches into buf ("62% of L3 read roof"); returns false and
 * writes "ABOVE its L3 read roof" when gbs exceeds it (the roof, or the timing, is wrong). */
bool mc_perf_roof_share(char *buf, size_t cap, double gbs, const mc_perf_roof *r);
/* The warning line for a row above its roof, naming the row and the roof. */
void mc_perf_roof_warn(FILE *out, const char *variant, const char *case_key, double gbs, const mc_perf_roof *r);

/* When timings cannot be trusted: other programs' load on the cores, or a falling clock. */
#define MC_PERF_LOAD_SHARE 0.5  /* others held half the cores or more (load average, own threads off) */
#define MC_PERF_CLOCK_SHARE 0.9 /* the clock fell below 90% of the highest seen or allowed */

typedef struct mc_perf_env {
    int n_timed;            /* timings looked at */
    int cores, kernel_threads;
    double max_loadavg;     /* 1-minute load average, highest at the end of a timing */
    double min_mhz, max_mhz; /* CPU clock around the timings, 0 when unknown */
    double nominal_mhz;     /* cpufreq's maximum, 0 when unknown */
    bool loaded, throttled; /* the verdicts: either makes the timings unreliable */
} mc_perf_env;

/* Looks at every timing of s (the load and clock recorded with it, and stored with it). */
mc_perf_env mc_perf_env_assess(const mc_session *s, int cores, int kernel_threads);
/* One warning line per reason the timings are unreliable; nothing when they are not. */
void mc_perf_env_warn(FILE *out, const mc_perf_env *e);

#endif
