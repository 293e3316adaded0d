/* harness/peaks.c: bandwidth probes. Each thread streams its own slice; the median of several
 * repeats is kept, since these machines are shared and noisy.
 * SPDX-License-Identifier: MIT */
#include "peaks.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"

#define PEAK_REPEATS 7
#define PEAK_MAX_THREADS 64

typedef struct slice {
    const double *src;
    double *dst;
    size_t n;
    double sum; /* keeps the read loop from being optimised away */
} slice;

static void *read_slice(void *arg)
{
    slice *s = arg;
    double a = 0, b = 0, c = 0, d = 0;
    for (size_t i = 0; i + 4 <= s->n; i += 4) {
        a += s->src[i];
        b += s->src[i + 1];
        c += s->src[i + 2];
        d += s->src[i + 3];
    }
    s->sum = a + b + c + d;
    return NULL;
}

static void *copy_slice(void *arg)
{
    slice *s = arg;
    memcpy(s->dst, s->src, s->n * sizeof *s->src);
    return NULL;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double timed_pass(void *(*fn)(void *), slice *slices, int threads)
{
    pthread_t tid[PEAK_MAX_THREADS];
    double t0 = now_s();
    for (int i = 0; i < threads; i++)
        pthread_create(&tid[i], NULL, fn, &slices[i]);
    for (int i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    return now_s() - t0;
}

static double median_rate(void *(*fn)(void *), slice *slices, int threads, double bytes)
{
    double rates[PEAK_REPEATS];
    timed_pass(fn, slices, threads); /* warm-up: page faults, frequency */
    for (int r = 0; r < PEAK_REPEATS; r++)
        rates[r] = bytes / timed_pass(fn, slices, threads) / 1e9;
    mc_stats_sort(rates, PEAK_REPEATS);
    return mc_stats_median_sorted(rates, PEAK_REPEATS);
}

mc_status mc_peaks_measure(int threads, int mib, mc_peaks *out, mc_err *err)
{
    if (threads < 1 || threads > PEAK_MAX_THREADS)
        threads = 1;
    size_t n = (size_t)mib * 1024 * 1024 / sizeof(double);
    double *src = malloc(n * sizeof *src), *dst = malloc(n * sizeof *dst);
    if (!src || !dst) {
        free(src);
        free(dst);
        return mc_err_set(err, MC_ERR_NOMEM, "cannot allocate 2 x %d MiB for the bandwidth probe", mib);
    }
    for (size_t i = 0; i < n; i++) {
        src[i] = (double)(i & 1023);
        dst[i] = 0;
    }
    slice slices[PEAK_MAX_THREADS];
    size_t per = n / (size_t)threads;
    for (int i = 0; i < threads; i++)
        slices[i] = (slice){src + (size_t)i * per, dst + (size_t)i * per, per, 0};
    double bytes = (double)(per * (size_t)threads * sizeof(double));
    out->read_gbs = median_rate(read_slice, slices, threads, bytes);
    out->copy_gbs = median_rate(copy_slice, slices, threads, 2 * bytes);
    out->threads = threads;
    out->bytes = bytes;
    free(src);
    free(dst);
    return MC_OK;
}
