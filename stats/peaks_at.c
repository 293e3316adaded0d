/* stats/peaks_at.c: roofs at a working set's own size. A VM may report its host's whole L3 and hold
 * an unknown share of it, so past L2 a case is held to what a buffer of its size moves, measured
 * with every loop form, and named L3 or DRAM by that rate, not by the reported sizes.
 * SPDX-License-Identifier: MIT */
#include "peaks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peaks_kernels.h"

#define BUCKETS_PER_OCTAVE 8
/* Rounds over all sizes, each the best of 7 passes per loop: on a shared machine a neighbour can
 * hold a core through one size's passes (a 226 MB read came out at 21.6 GB/s in one round, 34-42
 * in others); rounds spread each size's passes over the whole measurement. */
#define AT_ROUNDS 3

double mc_peaks_bucket(double bytes)
{
    if (!(bytes >= 1))
        return 0;
    /* the nudge keeps a bucket its own bucket: floor(2^(k/8)) sits a hair below 2^(k/8) (under 1e-5
     * of it, past 100 kB: the sizes bucketed here are past L2) */
    const double k = floor(BUCKETS_PER_OCTAVE * log2(bytes) + 1e-3);
    const double b = floor(exp2(k / BUCKETS_PER_OCTAVE));
    return b <= bytes ? b : floor(exp2((k - 1) / BUCKETS_PER_OCTAVE));
}

static mc_peaks_at *find(const mc_peaks *p, double bucket)
{
    for (int i = 0; i < p->n_at; i++)
        if (p->at[i].bytes == bucket)
            return (mc_peaks_at *)&p->at[i];
    return NULL;
}

static mc_peaks_at *find_or_add(mc_peaks *p, double bucket)
{
    mc_peaks_at *a = find(p, bucket);
    if (a || p->n_at == MC_PEAKS_MAX_AT)
        return a;
    a = &p->at[p->n_at++];
    memset(a, 0, sizeof *a);
    a->bytes = bucket;
    return a;
}

bool mc_peaks_add_at(mc_peaks *p, double bytes, mc_traffic t, double gbs)
{
    mc_peaks_at *a = find_or_add(p, mc_peaks_bucket(bytes));
    if (!a || (unsigned)t >= MC_TRAFFIC_COUNT)
        return false;
    if (gbs > a->gbs[t])
        a->gbs[t] = gbs;
    return true;
}

double mc_peaks_at_gbs(const mc_peaks *p, double bytes, mc_traffic t)
{
    const mc_peaks_at *a = (unsigned)t < MC_TRAFFIC_COUNT ? find(p, mc_peaks_bucket(bytes)) : NULL;
    return a ? a->gbs[t] : 0;
}

mc_mem_level mc_peaks_at_level(const mc_peaks *p, double gbs, mc_traffic t)
{
    const double dram = mc_peaks_roof(p, MC_MEM_DRAM, t);
    return dram > 0 && gbs >= MC_PEAKS_CACHE_GAIN * dram ? MC_MEM_L3 : MC_MEM_DRAM;
}

void mc_peaks_at_stored_name(double bucket, mc_traffic t, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s_gbs_at_%.0f", mc_peaks_traffic_name(t), bucket);
}

/* The buckets of sizes[] that p lacks and that lie short of DRAM's buffer, sorted and distinct;
 * returns how many (at most the room left in p). */
static int wanted(const mc_peaks *p, const double *sizes, int n, double *out)
{
    int count = 0;
    for (int i = 0; i < n; i++) {
        const double b = mc_peaks_bucket(sizes[i]);
        const size_t per = (size_t)(b / p->threads / MC_PEAKS_BLOCK) * MC_PEAKS_BLOCK;
        bool have = per == 0 || b >= p->bytes[MC_MEM_DRAM] || find(p, b);
        for (int j = 0; j < count && !have; j++)
            have = out[j] == b;
        if (!have && p->n_at + count < MC_PEAKS_MAX_AT)
            out[count++] = b;
    }
    return count;
}

mc_status mc_peaks_measure_at(mc_peaks *p, const double *sizes, int n, mc_err *err)
{
    if (p->threads < 1 || !(p->bytes[MC_MEM_DRAM] > 0))
        return mc_err_set(err, MC_ERR_USAGE, "bandwidth probe at a size: DRAM's roof is not measured");
    double todo[MC_PEAKS_MAX_AT];
    const int count = wanted(p, sizes, n, todo);
    double biggest = 0;
    for (int i = 0; i < count; i++)
        biggest = todo[i] > biggest ? todo[i] : biggest;
    if (count == 0)
        return MC_OK;
    /* whole blocks: aligned_alloc wants a multiple of the alignment, and every slice is whole blocks */
    const size_t cap = ((size_t)biggest / MC_PEAKS_BLOCK + 1) * MC_PEAKS_BLOCK;
    unsigned char *src, *dst;
    mc_status st = mc_peaks_buffers_alloc(cap, &src, &dst, err);
    if (st != MC_OK)
        return st;
    for (int round = 0; round < AT_ROUNDS; round++)
        for (int i = 0; i < count; i++) {
            const size_t per = (size_t)(todo[i] / p->threads / MC_PEAKS_BLOCK) * MC_PEAKS_BLOCK;
            for (const mc_peaks_kernel *k = mc_peaks_kernels(); k->fn; k++)
                if (k->traffic != MC_TRAFFIC_WRITE) /* no row is held to a write roof */
                    mc_peaks_add_at(p, todo[i], k->traffic, mc_peaks_kernel_rate(k, src, dst, per, p->threads));
        }
    free(src);
    free(dst);
    mc_peaks_at_envelope(p);
    return MC_OK;
}

void mc_peaks_at_envelope(mc_peaks *p)
{
    for (int i = 0; i < p->n_at; i++)
        for (int t = 0; t < MC_TRAFFIC_COUNT; t++) {
            double *g = &p->at[i].gbs[t];
            if (*g == 0)
                continue; /* not measured: stays so */
            if (p->at[i].bytes < p->bytes[MC_MEM_DRAM] && p->gbs[MC_MEM_DRAM][t] > *g)
                *g = p->gbs[MC_MEM_DRAM][t];
            for (int j = 0; j < p->n_at; j++)
                if (p->at[j].bytes > p->at[i].bytes && p->at[j].gbs[t] > *g)
                    *g = p->at[j].gbs[t];
        }
}
