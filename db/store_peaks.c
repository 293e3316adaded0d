/* db/store_peaks.c: the bandwidth roofs of stats/peaks.c through the machine_peak table, one row
 * per level and traffic plus the thread count they were measured with.
 * SPDX-License-Identifier: MIT */
#include "store_peaks.h"

#include <string.h>

#define THREADS_NAME "peak_threads"

/* True when every figure the probe measures on this machine is stored, with `threads` threads. */
static mc_status load(mc_store *s, const char *fingerprint, int threads, unsigned levels,
                      const mc_peaks *fresh_shape, mc_peaks *out, bool *found, mc_err *err)
{
    double t = 0;
    mc_status st = mc_store_get_machine_peak(s, fingerprint, THREADS_NAME, &t, found, err);
    if (st || !*found || (int)t != threads) {
        *found = false;
        return st;
    }
    memset(out, 0, sizeof *out);
    for (int l = 0; l < MC_MEM_LEVEL_COUNT && *found; l++)
        for (int k = 0; k < MC_TRAFFIC_COUNT && *found; k++) {
            if (fresh_shape->bytes[l] == 0 || !(levels & (1u << l)))
                continue; /* a level this machine does not report, or not asked for */
            st = mc_store_get_machine_peak(s, fingerprint, mc_peaks_stored_name((mc_mem_level)l, (mc_traffic)k),
                                           &out->gbs[l][k], found, err);
            if (st)
                return st;
        }
    return MC_OK;
}

static mc_status save(mc_store *s, const mc_machine *m, const mc_peaks *p, mc_err *err)
{
    mc_status st = MC_OK;
    char name[64];
    for (int i = 0; i < p->n_at && !st; i++) /* roofs at the rows' sizes: the report's roofline reads them */
        for (int k = 0; k < MC_TRAFFIC_COUNT && !st; k++)
            if (p->at[i].gbs[k] > 0) {
                mc_peaks_at_stored_name(p->at[i].bytes, (mc_traffic)k, name, sizeof name);
                st = mc_store_set_machine_peak(s, m, name, p->at[i].gbs[k], "GB/s", err);
            }
    for (int l = 0; l < MC_MEM_LEVEL_COUNT && !st; l++)
        for (int k = 0; k < MC_TRAFFIC_COUNT && !st; k++)
            if (p->gbs[l][k] > 0)
                st = mc_store_set_machine_peak(s, m, mc_peaks_stored_name((mc_mem_level)l, (mc_traffic)k),
                                               p->gbs[l][k], "GB/s", err);
    /* last: a probe interrupted before this line leaves no thread count, so it is measured again */
    return st ? st : mc_store_set_machine_peak(s, m, THREADS_NAME, p->threads, "threads", err);
}

mc_status mc_store_obtain_peaks(mc_store *store, const mc_machine *m, int threads, bool fresh, unsigned levels,
                                const double *sizes, int n_sizes, mc_peaks *out, bool *measured, mc_err *err)
{
    *measured = false;
    const mc_cache_sizes caches = mc_peaks_cache_sizes();
    mc_peaks shape = {0}; /* which levels this machine has: the ones the probe would measure */
    shape.bytes[MC_MEM_L1] = caches.l1_bytes;
    shape.bytes[MC_MEM_L2] = caches.l2_bytes;
    shape.bytes[MC_MEM_L3] = caches.l3_bytes;
    shape.bytes[MC_MEM_DRAM] = 1;
    bool found = false;
    mc_status st = store && m->fingerprint[0] && !fresh ? load(store, m->fingerprint, threads, levels, &shape, out, &found, err)
                                                        : MC_OK;
    if (st || found) {
        out->threads = threads;
        return st;
    }
    st = mc_peaks_measure(threads, &caches, n_sizes > 0 ? levels | 1u << MC_MEM_DRAM : levels, out, err);
    if (!st && n_sizes > 0)
        st = mc_peaks_measure_at(out, sizes, n_sizes, err);
    if (st)
        return st;
    *measured = true;
    return store && m->fingerprint[0] ? save(store, m, out, err) : MC_OK;
}
