/* stats/peaks.c: the bandwidth probe: read, write and copy at each cache level and from DRAM, with
 * the widest vector loads and stores the CPU has, on every thread the run uses.
 * SPDX-License-Identifier: MIT */
#include "peaks.h"

#include <assert.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "peaks_kernels.h"

#define PEAK_REPEATS 7
#define PEAK_MAX_THREADS 64
#define MIN_PASS_BYTES (64.0 * 1024 * 1024) /* each timed pass moves at least this much */
#define MIN_DRAM_BYTES (64.0 * 1024 * 1024)

static const char *const level_names[] = {"L1", "L2", "L3", "DRAM"};
static_assert(sizeof level_names / sizeof level_names[0] == MC_MEM_LEVEL_COUNT, "one name per level");
static const char *const traffic_names[] = {"read", "write", "copy"};
static_assert(sizeof traffic_names / sizeof traffic_names[0] == MC_TRAFFIC_COUNT, "one name per traffic");
static const char *const stored_names[][MC_TRAFFIC_COUNT] = {
    {"l1_read_gbs", "l1_write_gbs", "l1_copy_gbs"},
    {"l2_read_gbs", "l2_write_gbs", "l2_copy_gbs"},
    {"l3_read_gbs", "l3_write_gbs", "l3_copy_gbs"},
    {"read_gbs", "dram_write_gbs", "copy_gbs"},
};
static_assert(sizeof stored_names / sizeof stored_names[0] == MC_MEM_LEVEL_COUNT, "one row per level");

const char *mc_peaks_level_name(mc_mem_level level)
{
    return (unsigned)level < MC_MEM_LEVEL_COUNT ? level_names[level] : "?";
}

const char *mc_peaks_traffic_name(mc_traffic t)
{
    return (unsigned)t < MC_TRAFFIC_COUNT ? traffic_names[t] : "?";
}

const char *mc_peaks_stored_name(mc_mem_level level, mc_traffic t)
{
    return (unsigned)level < MC_MEM_LEVEL_COUNT && (unsigned)t < MC_TRAFFIC_COUNT ? stored_names[level][t] : NULL;
}

/* ---- cache sizes ---- */

/* One sysfs cache description of cpu0: level and size of a data or unified cache, else 0. */
static double sysfs_cache(int index, int *level)
{
    char path[128], type[32] = "", size[32] = "";
    double bytes = 0;
    *level = 0;
    static const char *const fields[] = {"level", "type", "size"};
    char *into[] = {NULL, type, size};
    for (int f = 0; f < 3; f++) {
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/%s", index, fields[f]);
        FILE *fp = fopen(path, "r");
        if (!fp)
            return 0;
        int ok = f == 0 ? fscanf(fp, "%d", level) : fscanf(fp, "%31s", into[f]);
        fclose(fp);
        if (ok != 1)
            return 0;
    }
    if (strcmp(type, "Instruction") == 0)
        return 0;
    char unit = 0;
    if (sscanf(size, "%lf%c", &bytes, &unit) < 1)
        return 0;
    return bytes * (unit == 'K' ? 1024.0 : unit == 'M' ? 1048576.0 : unit == 'G' ? 1073741824.0 : 1.0);
}

mc_cache_sizes mc_peaks_cache_sizes(void)
{
    mc_cache_sizes c = {0};
    double *by_level[] = {NULL, &c.l1_bytes, &c.l2_bytes, &c.l3_bytes};
    for (int i = 0; i < 8; i++) {
        int level;
        double bytes = sysfs_cache(i, &level);
        if (bytes > 0 && level >= 1 && level <= 3)
            *by_level[level] = bytes;
    }
#ifdef _SC_LEVEL1_DCACHE_SIZE
    const long from_sysconf[] = {0, sysconf(_SC_LEVEL1_DCACHE_SIZE), sysconf(_SC_LEVEL2_CACHE_SIZE),
                                 sysconf(_SC_LEVEL3_CACHE_SIZE)};
    for (int level = 1; level <= 3; level++)
        if (*by_level[level] == 0 && from_sysconf[level] > 0)
            *by_level[level] = (double)from_sysconf[level];
#endif
    return c;
}

mc_mem_level mc_peaks_level(double bytes, int threads, const mc_cache_sizes *c)
{
    const double share = bytes / (threads > 1 ? threads : 1);
    if (c->l1_bytes > 0 && share <= c->l1_bytes)
        return MC_MEM_L1;
    if (c->l2_bytes > 0 && share <= c->l2_bytes)
        return MC_MEM_L2;
    if (c->l3_bytes > 0 && bytes <= c->l3_bytes)
        return MC_MEM_L3;
    return MC_MEM_DRAM;
}

double mc_peaks_roof(const mc_peaks *p, mc_mem_level level, mc_traffic t)
{
    for (int l = (int)level; l < MC_MEM_LEVEL_COUNT; l++)
        if (p->gbs[l][t] > 0)
            return p->gbs[l][t];
    return 0;
}

/* ---- timing ---- */

typedef struct slice {
    const mc_peaks_kernel *k;
    const unsigned char *src;
    unsigned char *dst;
    size_t bytes; /* a multiple of MC_PEAKS_BLOCK */
    int reps;     /* passes over the slice per timed call: small buffers need many to be timeable */
    uint64_t sink;
} slice;

static void *run_slice(void *arg)
{
    slice *s = arg;
    for (int r = 0; r < s->reps; r++)
        s->sink ^= s->k->fn(s->src, s->dst, s->bytes);
    return NULL;
}

static double timed_pass(slice *slices, int threads)
{
    pthread_t tid[PEAK_MAX_THREADS];
    int started = 0;
    double t0 = mc_now_s();
    for (int i = 1; i < threads; i++)
        started += pthread_create(&tid[i], NULL, run_slice, &slices[i]) == 0 ? 1 : 0;
    run_slice(&slices[0]); /* the calling thread takes a slice too */
    for (int i = 1; i <= started; i++)
        pthread_join(tid[i], NULL);
    return mc_now_s() - t0;
}

/* The best of the repeats, after a warm-up pass (page faults, clock ramp). */
static double best_rate(slice *slices, int threads, double bytes_moved)
{
    double best = 0;
    timed_pass(slices, threads);
    for (int r = 0; r < PEAK_REPEATS; r++) {
        double gbs = bytes_moved / timed_pass(slices, threads) / 1e9;
        if (gbs > best)
            best = gbs;
    }
    return best;
}

double mc_peaks_kernel_rate(const mc_peaks_kernel *k, unsigned char *src, unsigned char *dst, size_t per_thread,
                            int threads)
{
    slice slices[PEAK_MAX_THREADS];
    const double moved = (double)per_thread * threads * (k->traffic == MC_TRAFFIC_COPY ? 2 : 1);
    const int reps = moved >= MIN_PASS_BYTES ? 1 : (int)(MIN_PASS_BYTES / moved) + 1;
    for (int i = 0; i < threads; i++)
        slices[i] = (slice){k, src + (size_t)i * per_thread, dst + (size_t)i * per_thread, per_thread, reps, 0};
    return best_rate(slices, threads, moved * reps);
}

/* Per-thread bytes of each traffic's buffers at a level: half the cache, so src and dst of a copy
 * fit together (L3: four L2s per thread when that is less); DRAM: twice the last-level cache in
 * all. Rounded down to whole blocks. */
static size_t per_thread_bytes(mc_mem_level level, const mc_cache_sizes *c, int threads)
{
    double b = 0;
    switch (level) {
    case MC_MEM_L1: b = c->l1_bytes / 2; break;
    case MC_MEM_L2: b = c->l2_bytes / 2; break;
    case MC_MEM_L3: /* just past L2: the L3's ceiling (a VM may report the host's whole L3, of which
                        it holds little: half of it reads at DRAM's rate) */
        b = 4 * c->l2_bytes < c->l3_bytes / 2 / threads ? 4 * c->l2_bytes : c->l3_bytes / 2 / threads;
        break;
    case MC_MEM_DRAM: b = (2 * c->l3_bytes > MIN_DRAM_BYTES ? 2 * c->l3_bytes : MIN_DRAM_BYTES) / threads; break;
    case MC_MEM_LEVEL_COUNT: break;
    }
    return (size_t)(b / MC_PEAKS_BLOCK) * MC_PEAKS_BLOCK;
}

mc_status mc_peaks_buffers_alloc(size_t bytes, unsigned char **src, unsigned char **dst, mc_err *err)
{
    *src = aligned_alloc(MC_PEAKS_BLOCK, bytes);
    *dst = aligned_alloc(MC_PEAKS_BLOCK, bytes);
    if (!*src || !*dst) {
        free(*src);
        free(*dst);
        return mc_err_set(err, MC_ERR_NOMEM, "bandwidth probe: cannot allocate 2 x %zu bytes", bytes);
    }
    memset(*src, 0x5a, bytes);
    memset(*dst, 0, bytes);
    return MC_OK;
}

mc_status mc_peaks_measure(int threads, const mc_cache_sizes *c, unsigned levels, mc_peaks *out, mc_err *err)
{
    if (threads < 1 || threads > PEAK_MAX_THREADS)
        return mc_err_set(err, MC_ERR_USAGE, "bandwidth probe: %d threads (1 to %d)", threads, PEAK_MAX_THREADS);
    memset(out, 0, sizeof *out);
    out->threads = threads;
    size_t biggest = 0; /* the largest buffer a measured level needs */
    for (int l = 0; l < MC_MEM_LEVEL_COUNT; l++) {
        size_t b = per_thread_bytes((mc_mem_level)l, c, threads) * (size_t)threads;
        if ((levels & (1u << l)) && b > biggest)
            biggest = b;
    }
    if (biggest == 0)
        return MC_OK; /* nothing asked that this machine has */
    unsigned char *src, *dst;
    mc_status st = mc_peaks_buffers_alloc(biggest, &src, &dst, err);
    if (st != MC_OK)
        return st;
    const mc_peaks_kernel *kernels = mc_peaks_kernels();
    for (int l = 0; l < MC_MEM_LEVEL_COUNT; l++) {
        size_t per = per_thread_bytes((mc_mem_level)l, c, threads);
        if (per == 0 || !(levels & (1u << l)))
            continue;
        out->bytes[l] = (double)per * threads;
        for (const mc_peaks_kernel *k = kernels; k->fn; k++) {
            if (k->far_only && l != MC_MEM_DRAM)
                continue; /* streaming stores would bypass the cache this level measures */
            double gbs = mc_peaks_kernel_rate(k, src, dst, per, threads);
            if (gbs > out->gbs[l][k->traffic])
                out->gbs[l][k->traffic] = gbs;
        }
    }
    free(src);
    free(dst);
    return MC_OK;
}
