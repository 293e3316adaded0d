/* harness/peaks.h: the machine's own ceilings (memory read and copy bandwidth), measured once per
 * machine, so kernels are judged as a share of what this machine can do.
 * SPDX-License-Identifier: MIT */
#ifndef MC_PEAKS_H
#define MC_PEAKS_H

#include "status.h"

typedef struct mc_peaks {
    double read_gbs;  /* streaming read of a buffer far larger than the caches, all cores */
    double copy_gbs;  /* read + write bytes of memcpy, all cores */
    int threads;      /* threads used */
    double bytes;     /* buffer size per measurement */
} mc_peaks;

/* Measures with `threads` threads over `mib` MiB (median of 7 repeats). */
mc_status mc_peaks_measure(int threads, int mib, mc_peaks *out, mc_err *err);

#endif
