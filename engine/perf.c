/* engine/perf.c: timing inside workers. Only cases that passed are timed: a wrong kernel has no
 * speed worth recording.
 * SPDX-License-Identifier: MIT */
#include "perf.h"

#include <string.h>

#include "core/op.h"

void mc_perf_hook_init(mc_perf_hook *h, double budget_s)
{
    memset(h, 0, sizeof *h);
    h->cfg = mc_timing_defaults();
    if (budget_s > 0)
        h->cfg.budget_s = budget_s;
}

static mc_status call_once(void *ctx, mc_err *err)
{
    return mc_runner_call_again(ctx, err);
}

mc_status mc_perf_after(void *user, mc_runner *r, const mc_case *c, const mc_variant *v, mc_err *err)
{
    mc_perf_hook *h = user;
    if (h->have) {
        mc_timing_free(&h->last);
        h->have = 0;
    }
    mc_backend_timer bt = {0};
    bt.ctx = mc_runner_current_backend(r, &bt.be);
    mc_timer timer = mc_timer_for_backend(&bt, 0);
    mc_status st = mc_time_run(&h->cfg, &timer, call_once, r, &h->last, err);
    if (st)
        return st;
    mc_timing_set_rates(&h->last, c->op->flops(c), c->op->bytes(c));
    if (bt.be && bt.be->timing_note) { /* a device's roof, clock and throttling go with its timing */
        mc_device_timing_note note = {0};
        bt.be->timing_note(bt.ctx, &note);
        h->last.device_roof_gbs = note.roof_gbs;
        h->last.device_mhz = note.min_clock_mhz;
        h->last.device_throttled = note.throttled;
    }
    h->have = 1;
    return MC_OK;
}

size_t mc_perf_take(void *user, void *buf, size_t cap)
{
    mc_perf_hook *h = user;
    if (!h->have)
        return 0;
    size_t need = mc_timing_pack(&h->last, buf, cap);
    mc_timing_free(&h->last);
    h->have = 0;
    return need <= cap ? need : 0;
}
