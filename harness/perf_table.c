/* harness/perf_table.c: ratios, not absolute times, are what these shared machines can vouch for.
 * SPDX-License-Identifier: MIT */
#include "perf_table.h"

#include <string.h>

#include "op.h"

/* Which variant each op is measured against. Configuration as data. */
static const char *const peers[MC_OP_COUNT] = {
    [MC_OP_GEMM] = "gemm_openblas_sgemm",
    [MC_OP_GEMV] = "gemv_openblas_sgemv",
    [MC_OP_SOFTMAX] = NULL, /* against copy bandwidth */
    [MC_OP_SDPA] = "sdpa_three_stage",
};
_Static_assert(sizeof peers / sizeof peers[0] == MC_OP_COUNT, "one peer entry per op");

const char *mc_perf_peer_of(mc_op_id op)
{
    return peers[op];
}

bool mc_perf_timing_of(const mc_session *s, int item, mc_timing *out)
{
    if (!s->extras || !s->extras[item] || !s->extra_lens[item])
        return false;
    return mc_timing_unpack(s->extras[item], s->extra_lens[item], out, NULL) == MC_OK;
}

/* The peer's median for the same case, or 0. */
static double peer_median(const mc_session *s, int item, const char *peer)
{
    int c = s->items[item].case_index;
    for (int j = 0; j < s->n_items; j++) {
        if (s->items[j].case_index != c || strcmp(s->variants[s->items[j].variant_index]->name, peer) != 0)
            continue;
        mc_timing t;
        if (!mc_perf_timing_of(s, j, &t))
            return 0;
        double m = t.median_ns;
        mc_timing_free(&t);
        return m;
    }
    return 0;
}

static void print_row(FILE *out, const mc_session *s, int i, const mc_timing *t, const mc_peaks *peaks)
{
    const mc_variant *v = s->variants[s->items[i].variant_index];
    const mc_case *c = &s->cases.items[s->items[i].case_index];
    fprintf(out, "perf %-26s %-60s %10.1f us  mad %4.1f%%  %7.1f GFLOP/s %6.1f GB/s", v->name, c->key,
            t->median_ns / 1e3, 100 * t->mad_ns / t->median_ns, t->gflops, t->gbs);
    const char *peer = mc_perf_peer_of(v->op);
    double pm = peer && strcmp(peer, v->name) != 0 ? peer_median(s, i, peer) : 0;
    if (pm > 0)
        fprintf(out, "  x%.2f vs %s", pm / t->median_ns, peer);
    if (peaks && peaks->read_gbs > 0 && (v->op == MC_OP_GEMV || v->op == MC_OP_SOFTMAX))
        fprintf(out, "  %.0f%% of %s bw", 100 * t->gbs / (v->op == MC_OP_GEMV ? peaks->read_gbs : peaks->copy_gbs),
                v->op == MC_OP_GEMV ? "read" : "copy");
    fputc('\n', out);
}

void mc_perf_table_print(FILE *out, const mc_session *s, const mc_peaks *peaks)
{
    if (peaks && peaks->threads > 0)
        fprintf(out, "\nmachine: read %.1f GB/s, copy %.1f GB/s (%d threads, median of 7)\n", peaks->read_gbs,
                peaks->copy_gbs, peaks->threads);
    else if (peaks)
        fprintf(out, "\nmachine: read %.1f GB/s, copy %.1f GB/s (measured earlier, stored for this machine)\n",
                peaks->read_gbs, peaks->copy_gbs);
    for (int i = 0; i < s->n_items; i++) {
        mc_timing t;
        if (!mc_perf_timing_of(s, i, &t))
            continue;
        print_row(out, s, i, &t, peaks);
        mc_timing_free(&t);
    }
}
