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

/* The working set of item i when it is a timed, bandwidth-bound row; 0 otherwise. */
static double bound_bytes(const mc_session *s, int i)
{
    const mc_variant *v = s->variants[s->items[i].variant_index];
    const mc_case *c = &s->cases.items[s->items[i].case_index];
    if (!s->extras || !s->extras[i] || !s->extra_lens[i] || mc_op_get(v->op)->roof == MC_ROOF_COMPUTE || !c->op ||
        !c->op->bytes)
        return 0;
    return c->op->bytes(c);
}

unsigned mc_perf_table_levels(const mc_session *s, int threads)
{
    const mc_cache_sizes caches = mc_peaks_cache_sizes();
    unsigned levels = 0;
    for (int i = 0; i < s->n_items; i++) {
        const double bytes = bound_bytes(s, i);
        if (bytes <= 0)
            continue;
        const mc_mem_level l = mc_peaks_level(bytes, threads, &caches);
        /* past L2 a row is held to a roof at its own size (mc_perf_table_sizes), named against DRAM's */
        levels |= 1u << (l == MC_MEM_L3 ? MC_MEM_DRAM : l);
    }
    return levels;
}

int mc_perf_table_sizes(const mc_session *s, int threads, double *sizes, int cap)
{
    const mc_cache_sizes caches = mc_peaks_cache_sizes();
    int n = 0;
    for (int i = 0; i < s->n_items && n < cap; i++) {
        const double bytes = bound_bytes(s, i);
        if (bytes > 0 && mc_peaks_level(bytes, threads, &caches) >= MC_MEM_L3)
            sizes[n++] = bytes;
    }
    return n;
}

mc_perf_roof mc_perf_roof_for(const mc_peaks *p, const mc_cache_sizes *c, mc_roof kind, double bytes)
{
    mc_perf_roof r = {.level = mc_peaks_level(bytes, p->threads, c),
                      .traffic = kind == MC_ROOF_COPY_BW ? MC_TRAFFIC_COPY : MC_TRAFFIC_READ};
    if (kind == MC_ROOF_COMPUTE || bytes <= 0)
        return r;
    r.dram_gbs = mc_peaks_roof(p, MC_MEM_DRAM, r.traffic);
    const double at = r.level >= MC_MEM_L3 ? mc_peaks_at_gbs(p, bytes, r.traffic) : 0;
    if (at > 0) { /* measured at this size: its level is where that rate comes from */
        r.gbs = at;
        r.level = mc_peaks_at_level(p, at, r.traffic);
        r.at_bytes = mc_peaks_bucket(bytes);
    } else {
        r.gbs = mc_peaks_roof(p, r.level, r.traffic);
    }
    return r;
}

bool mc_perf_roof_share(char *buf, size_t cap, double gbs, const mc_perf_roof *r)
{
    const char *level = mc_peaks_level_name(r->level), *traffic = mc_peaks_traffic_name(r->traffic);
    if (gbs > r->gbs) {
        snprintf(buf, cap, "ABOVE its %s %s roof", level, traffic);
        return false;
    }
    int len = r->at_bytes > 0 ? snprintf(buf, cap, "%.0f%% of %s %s roof [at %.1f MB]", 100 * gbs / r->gbs, level,
                                         traffic, r->at_bytes / 1e6)
                              : snprintf(buf, cap, "%.0f%% of %s %s roof", 100 * gbs / r->gbs, level, traffic);
    if (r->gbs != r->dram_gbs && r->dram_gbs > 0 && len > 0 && (size_t)len < cap) /* not DRAM's own figure */
        snprintf(buf + len, cap - (size_t)len, " (%.0f%% of DRAM's)", 100 * gbs / r->dram_gbs);
    return true;
}

void mc_perf_roof_warn(FILE *out, const char *variant, const char *case_key, double gbs, const mc_perf_roof *r)
{
    fprintf(out,
            "warning: %s on %s moves %.1f GB/s, above the %s %s roof of %.1f GB/s%s: the roof is wrong (or the "
            "timing is); no share of it is printed\n",
            variant, case_key, gbs, mc_peaks_level_name(r->level), mc_peaks_traffic_name(r->traffic), r->gbs,
            r->at_bytes > 0 ? " (measured at its size)" : "");
}

static void print_row(FILE *out, const mc_session *s, int i, const mc_timing *t, const mc_peaks *peaks,
                      const mc_cache_sizes *caches)
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
    const bool device_row = kind != MC_ROOF_COMPUTE && t->device_roof_gbs > 0;
    if (device_row)
        fprintf(out, "  %.0f%% of device copy bw (%.0f GB/s)", 100 * t->gbs / t->device_roof_gbs, t->device_roof_gbs);
    if (device_row && t->device_ws_roof_gbs > 0) /* where a small case's data lives: a copy of its size */
        fprintf(out, ", %.0f%% of a same-size copy (%.0f GB/s)", 100 * t->gbs / t->device_ws_roof_gbs,
                t->device_ws_roof_gbs);
    if (t->device_throttled > 0)
        fprintf(out, "  THROTTLED in %.0f batch(es) (device clock down to %.0f MHz)", t->device_throttled, t->device_mhz);
    mc_perf_roof roof = {0};
    if (peaks && !device_row)
        roof = mc_perf_roof_for(peaks, caches, kind, bytes);
    char share[96];
    bool under = roof.gbs > 0 && mc_perf_roof_share(share, sizeof share, t->gbs, &roof);
    if (roof.gbs > 0)
        fprintf(out, "  %s at %.1f MB", share, bytes / 1e6);
    fputc('\n', out);
    if (roof.gbs > 0 && !under)
        mc_perf_roof_warn(out, v->name, c->key, t->gbs, &roof);
}

static void print_peaks(FILE *out, const mc_peaks *p, bool measured_now)
{
    fprintf(out, "\nmachine roofs, GB/s read/write/copy (%d threads, best of 7, %s):", p->threads,
            measured_now ? "measured now" : "measured earlier, stored for this machine");
    for (int l = 0; l < MC_MEM_LEVEL_COUNT; l++)
        if (p->gbs[l][MC_TRAFFIC_READ] > 0)
            fprintf(out, "  %s %.1f/%.1f/%.1f", mc_peaks_level_name((mc_mem_level)l), p->gbs[l][MC_TRAFFIC_READ],
                    p->gbs[l][MC_TRAFFIC_WRITE], p->gbs[l][MC_TRAFFIC_COPY]);
    fputc('\n', out);
    if (p->n_at > 0)
        fputs("roofs at the rows' sizes, GB/s read/copy (the level is where that rate comes from):", out);
    for (int i = 0; i < p->n_at; i++) {
        const mc_peaks_at *a = &p->at[i];
        fprintf(out, "  %.1f MB %s %.1f/%.1f", a->bytes / 1e6,
                mc_peaks_level_name(mc_peaks_at_level(p, a->gbs[MC_TRAFFIC_READ], MC_TRAFFIC_READ)),
                a->gbs[MC_TRAFFIC_READ], a->gbs[MC_TRAFFIC_COPY]);
    }
    if (p->n_at > 0)
        fputc('\n', out);
}

void mc_perf_table_print(FILE *out, const mc_session *s, const mc_peaks *peaks, bool measured_now)
{
    const mc_cache_sizes caches = mc_peaks_cache_sizes();
    if (peaks)
        print_peaks(out, peaks, measured_now);
    for (int i = 0; i < s->n_items; i++) {
        mc_timing t;
        if (!mc_perf_timing_of(s, i, &t))
            continue;
        print_row(out, s, i, &t, peaks, &caches);
        mc_timing_free(&t);
    }
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
