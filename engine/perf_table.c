/* engine/perf_table.c: ratios, not absolute times, are what these shared machines can vouch for.
 * SPDX-License-Identifier: MIT */
#include "perf_table.h"

#include <stdlib.h>
#include <string.h>

#include "core/op.h"

const char *mc_perf_peer_of(mc_op_id op)
{
    return mc_op_get(op)->perf_peer;
}

bool mc_perf_timing_of(const mc_session *s, int item, mc_timing *out)
{
    if (!s->extras || !s->extras[item] || !s->extra_lens[item])
        return false;
    return mc_timing_unpack(s->extras[item], s->extra_lens[item], out, NULL) == MC_OK;
}

/* The highest clock the CPU may run at (cpufreq), 0 when the kernel does not say. */
static double nominal_mhz(void)
{
    FILE *f = fopen("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "r");
    double khz = 0;
    if (f) {
        if (fscanf(f, "%lf", &khz) != 1)
            khz = 0;
        fclose(f);
    }
    return khz / 1e3;
}

/* The peer's median for the same case, or 0. The peer is a variant of the row's backend flagged
 * MC_VARIANT_PEER that timed this case (cuBLAS for cuda rows), else the op's perf_peer. */
static double peer_median(const mc_session *s, int item, const char **peer)
{
    int c = s->items[item].case_index;
    const mc_variant *v = s->variants[s->items[item].variant_index];
    for (int pass = 0; pass < 2; pass++) {
        for (int j = 0; j < s->n_items; j++) {
            const mc_variant *w = s->variants[s->items[j].variant_index];
            bool is_peer = pass == 0 ? (w->flags & MC_VARIANT_PEER) && w->op == v->op && strcmp(w->backend, v->backend) == 0
                                     : *peer && strcmp(w->name, *peer) == 0;
            if (s->items[j].case_index != c || !is_peer || w == v)
                continue;
            mc_timing t;
            if (!mc_perf_timing_of(s, j, &t))
                continue;
            double m = t.median_ns;
            mc_timing_free(&t);
            *peer = w->name;
            return m;
        }
    }
    return 0;
}

/* Roofs measured at each working-set size the table meets, each once. */
#define ROOF_SIZES 64

typedef struct roof_cache {
    double bytes[ROOF_SIZES];
    mc_peaks peaks[ROOF_SIZES];
    int n, threads;
    mc_cache_sizes caches;
} roof_cache;

/* The roof for a working set: bandwidth measured at that size (so a set that fits in a cache is
 * held to the cache), or NULL when it cannot be measured. */
static const mc_peaks *roof_for(roof_cache *rc, double bytes)
{
    for (int i = 0; i < rc->n; i++)
        if (rc->bytes[i] == bytes)
            return &rc->peaks[i];
    mc_err err = {0};
    if (rc->n == ROOF_SIZES || bytes <= 0 || mc_peaks_measure_at(rc->threads, bytes, &rc->peaks[rc->n], &err) != MC_OK)
        return NULL;
    rc->bytes[rc->n] = bytes;
    return &rc->peaks[rc->n++];
}

static void print_row(FILE *out, const mc_session *s, int i, const mc_timing *t, roof_cache *roofs)
{
    const mc_variant *v = s->variants[s->items[i].variant_index];
    const mc_case *c = &s->cases.items[s->items[i].case_index];
    fprintf(out, "perf %-26s %-60s %10.1f us  mad %4.1f%%  %7.1f GFLOP/s %6.1f GB/s", v->name, c->key,
            t->median_ns / 1e3, 100 * t->mad_ns / t->median_ns, t->gflops, t->gbs);
    const char *peer = mc_perf_peer_of(v->op);
    double pm = peer_median(s, i, &peer);
    if (pm > 0)
        fprintf(out, "  x%.2f vs %s", pm / t->median_ns, peer);
    double bytes = c->op && c->op->bytes ? c->op->bytes(c) : 0;
    const mc_roof kind = mc_op_get(v->op)->roof;
    /* a device row is held to the device's own copy bandwidth, measured by its backend */
    const mc_peaks *roof = roofs && kind != MC_ROOF_COMPUTE && t->device_roof_gbs <= 0 ? roof_for(roofs, bytes) : NULL;
    if (kind != MC_ROOF_COMPUTE && t->device_roof_gbs > 0)
        fprintf(out, "  %.0f%% of device copy bw (%.0f GB/s)", 100 * t->gbs / t->device_roof_gbs, t->device_roof_gbs);
    if (t->device_throttled > 0)
        fprintf(out, "  THROTTLED in %.0f batch(es) (device clock down to %.0f MHz)", t->device_throttled, t->device_mhz);
    if (roof && roof->read_gbs > 0)
        fprintf(out, "  %.0f%% of %s bw at %.1f MB (%s)",
                100 * t->gbs / (kind == MC_ROOF_READ_BW ? roof->read_gbs : roof->copy_gbs),
                mc_roof_name(kind), bytes / 1e6, mc_peaks_level(bytes, &roofs->caches));
    fputc('\n', out);
}

void mc_perf_table_print(FILE *out, const mc_session *s, const mc_peaks *peaks, int threads)
{
    if (peaks && peaks->threads > 0)
        fprintf(out, "\nmachine: read %.1f GB/s, copy %.1f GB/s (%d threads, median of 7)\n", peaks->read_gbs,
                peaks->copy_gbs, peaks->threads);
    else if (peaks)
        fprintf(out, "\nmachine: read %.1f GB/s, copy %.1f GB/s (measured earlier, stored for this machine)\n",
                peaks->read_gbs, peaks->copy_gbs);
    /* bandwidth-bound rows are held to the bandwidth where their data lives, measured at their size */
    roof_cache *roofs = peaks ? calloc(1, sizeof *roofs) : NULL;
    if (roofs) {
        roofs->threads = threads;
        roofs->caches = mc_peaks_cache_sizes();
    }
    for (int i = 0; i < s->n_items; i++) {
        mc_timing t;
        if (!mc_perf_timing_of(s, i, &t))
            continue;
        print_row(out, s, i, &t, roofs);
        mc_timing_free(&t);
    }
    free(roofs);
}

/* Another program's threads on the cores a perf run gives its kernels. The load average counts the
 * kernel's own threads too, so they are taken off first. */
mc_perf_env mc_perf_env_assess(const mc_session *s, int cores, int kernel_threads)
{
    mc_perf_env e = {.cores = cores, .kernel_threads = kernel_threads, .min_mhz = 0, .nominal_mhz = nominal_mhz()};
    for (int i = 0; i < s->n_items; i++) {
        mc_timing t;
        if (!mc_perf_timing_of(s, i, &t))
            continue;
        e.n_timed++;
        if (t.loadavg > e.max_loadavg)
            e.max_loadavg = t.loadavg;
        if (t.cpu_mhz > 0 && (e.min_mhz == 0 || t.cpu_mhz < e.min_mhz))
            e.min_mhz = t.cpu_mhz;
        if (t.cpu_mhz > e.max_mhz)
            e.max_mhz = t.cpu_mhz;
        mc_timing_free(&t);
    }
    double others = e.max_loadavg - kernel_threads;
    e.loaded = e.n_timed > 0 && cores > 0 && others >= MC_PERF_LOAD_SHARE * cores;
    double top = e.nominal_mhz > e.max_mhz ? e.nominal_mhz : e.max_mhz;
    e.throttled = e.n_timed > 0 && e.min_mhz > 0 && e.min_mhz < MC_PERF_CLOCK_SHARE * top;
    return e;
}

void mc_perf_env_warn(FILE *out, const mc_perf_env *e)
{
    if (e->loaded)
        fprintf(out,
                "warning: timings unreliable: load average up to %.1f on %d cores, %d of it this run's kernel "
                "threads: other work held %.1f cores; re-measure on a quiet machine before trusting a verdict\n",
                e->max_loadavg, e->cores, e->kernel_threads, e->max_loadavg - e->kernel_threads);
    if (e->throttled)
        fprintf(out,
                "warning: timings unreliable: the CPU clock fell to %.0f MHz (of %.0f): throttling or power "
                "saving; re-measure before trusting a verdict\n",
                e->min_mhz, e->nominal_mhz > e->max_mhz ? e->nominal_mhz : e->max_mhz);
}
