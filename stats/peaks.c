/* stats/peaks.c: bandwidth probes, at a fixed size (the machine's peaks) or at a case's working
 * set (its roof where its data lives). Each thread streams its own slice; the median of several
 * repeats is kept, since these machines are shared and noisy.
 * SPDX-License-Identifier: MIT */
#include "peaks.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"
#include "core/clock.h"

#define PEAK_REPEATS 7
#define PEAK_MAX_THREADS 64

typedef struct slice {
    const double *src;
    double *dst;
    size_t n;
    int reps;   /* passes over the slice per timed call: small buffers need many to be timeable */
    double sum; /* keeps the read loop from being optimised away */
} slice;

/* Four independent 32-byte accumulators over integer XOR: no floating-point dependency chain
 * limits the loop (a scalar double sum reads cache-resident data at a fraction of the cache's
 * rate, which made a cached GEMV look like "384% of read bw"). */
typedef uint64_t lanes __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) void read_lanes(slice *s)
{
    const unsigned char *p = (const unsigned char *)s->src;
    size_t blocks = s->n * sizeof(double) / (4 * sizeof(lanes));
    lanes a = {0}, b = {0}, c = {0}, d = {0};
    for (int r = 0; r < s->reps; r++)
        for (size_t i = 0; i < blocks; i++) {
            lanes x, y, z, w;
            memcpy(&x, p + (4 * i + 0) * sizeof x, sizeof x);
            memcpy(&y, p + (4 * i + 1) * sizeof y, sizeof y);
            memcpy(&z, p + (4 * i + 2) * sizeof z, sizeof z);
            memcpy(&w, p + (4 * i + 3) * sizeof w, sizeof w);
            a ^= x;
            b ^= y;
            c ^= z;
            d ^= w;
        }
    lanes all = a ^ b ^ c ^ d;
    s->sum = (double)(all[0] ^ all[1] ^ all[2] ^ all[3]);
}

static void *read_slice(void *arg)
{
    read_lanes(arg);
    return NULL;
}

#if defined(__x86_64__) || defined(__i386__)
/* The same loop with 32-byte loads: the kernels use AVX2, and SSE2's 16-byte loads read a cache
 * at half its rate (39 against 81 GB/s from L2 on this machine), so the roof would sit below them. */
__attribute__((target("avx2"))) static void *read_slice_avx2(void *arg)
{
    read_lanes(arg);
    return NULL;
}
#endif

/* The widest read loop this CPU runs. */
static void *(*read_fn(void))(void *)
{
#if defined(__x86_64__) || defined(__i386__)
    if (__builtin_cpu_supports("avx2"))
        return read_slice_avx2;
#endif
    return read_slice;
}

static void *copy_slice(void *arg)
{
    slice *s = arg;
    for (int r = 0; r < s->reps; r++) {
        memcpy(s->dst, s->src, s->n * sizeof *s->src);
        __asm__ volatile("" : : "r"(s->dst) : "memory"); /* every pass happens */
    }
    return NULL;
}

static double timed_pass(void *(*fn)(void *), slice *slices, int threads)
{
    pthread_t tid[PEAK_MAX_THREADS];
    double t0 = mc_now_s();
    for (int i = 0; i < threads; i++)
        pthread_create(&tid[i], NULL, fn, &slices[i]);
    for (int i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    return mc_now_s() - t0;
}

/* The median of the repeats (the machine's peaks, stored and compared across runs), or their best
 * (a case's roof: a ceiling, and on a shared machine every other repeat is one another program
 * interrupted). */
static double rate(void *(*fn)(void *), slice *slices, int threads, double bytes, bool best)
{
    double rates[PEAK_REPEATS];
    timed_pass(fn, slices, threads); /* warm-up: page faults, frequency */
    for (int r = 0; r < PEAK_REPEATS; r++)
        rates[r] = bytes / timed_pass(fn, slices, threads) / 1e9;
    mc_stats_sort(rates, PEAK_REPEATS);
    return best ? rates[PEAK_REPEATS - 1] : mc_stats_median_sorted(rates, PEAK_REPEATS);
}

/* Measures over two buffers of `per_buffer` bytes each: a streaming read of one, a copy of one
 * into the other. Each timed call repeats its passes until it moves at least MIN_PASS_BYTES. */
#define MIN_PASS_BYTES (64.0 * 1024 * 1024)

static mc_status measure(int threads, size_t per_buffer, bool best, mc_peaks *out, mc_err *err)
{
    if (threads < 1 || threads > PEAK_MAX_THREADS)
        threads = 1;
    size_t n = per_buffer / sizeof(double);
    if (n < (size_t)threads * 4)
        n = (size_t)threads * 4;
    double *src = malloc(n * sizeof *src), *dst = malloc(n * sizeof *dst);
    if (!src || !dst) {
        free(src);
        free(dst);
        return mc_err_set(err, MC_ERR_NOMEM, "cannot allocate 2 x %zu bytes for the bandwidth probe",
                          n * sizeof(double));
    }
    for (size_t i = 0; i < n; i++) {
        src[i] = (double)(i & 1023);
        dst[i] = 0;
    }
    slice slices[PEAK_MAX_THREADS];
    size_t per = n / (size_t)threads;
    double bytes = (double)(per * (size_t)threads * sizeof(double));
    int reps = bytes >= MIN_PASS_BYTES ? 1 : (int)(MIN_PASS_BYTES / bytes) + 1;
    for (int i = 0; i < threads; i++)
        slices[i] = (slice){src + (size_t)i * per, dst + (size_t)i * per, per, reps, 0};
    out->read_gbs = rate(read_fn(), slices, threads, bytes * reps, best);
    out->copy_gbs = rate(copy_slice, slices, threads, 2 * bytes * reps, best);
    out->threads = threads;
    out->bytes = bytes;
    free(src);
    free(dst);
    return MC_OK;
}

mc_status mc_peaks_measure(int threads, int mib, mc_peaks *out, mc_err *err)
{
    return measure(threads, (size_t)mib * 1024 * 1024, false, out, err);
}

mc_status mc_peaks_measure_at(int threads, double working_set_bytes, mc_peaks *out, mc_err *err)
{
    /* read: the working set is one buffer; copy: half of it is read, half written */
    mc_status st = measure(threads, (size_t)working_set_bytes, true, out, err);
    mc_peaks half;
    if (!st && (st = measure(threads, (size_t)(working_set_bytes / 2), true, &half, err)) == MC_OK)
        out->copy_gbs = half.copy_gbs;
    out->bytes = working_set_bytes;
    return st;
}

mc_cache_sizes mc_peaks_cache_sizes(void)
{
    mc_cache_sizes c = {0};
#ifdef _SC_LEVEL1_DCACHE_SIZE
    long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE), l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
    c.l1_bytes = l1 > 0 ? (double)l1 : 0;
    c.l2_bytes = l2 > 0 ? (double)l2 : 0;
    c.l3_bytes = l3 > 0 ? (double)l3 : 0;
#endif
    return c;
}

const char *mc_peaks_level(double working_set_bytes, const mc_cache_sizes *c)
{
    const struct {
        double size;
        const char *name;
    } levels[] = {{c->l1_bytes, "L1"}, {c->l2_bytes, "L2"}, {c->l3_bytes, "L3"}};
    bool known = false;
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        known |= levels[i].size > 0;
        if (levels[i].size > 0 && working_set_bytes <= levels[i].size)
            return levels[i].name;
    }
    return known ? "DRAM" : "memory";
}
