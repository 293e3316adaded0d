/* engine/perf.c: timing inside workers. Only cases that passed are timed: a wrong kernel has no
 * speed worth recording.
 * SPDX-License-Identifier: MIT */
#include "perf.h"

#include <stdio.h>
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
    /* what the timer measured goes with every timing (stored beside it) */
    if (bt.be)
        snprintf(h->last.timer, sizeof h->last.timer, "%s",
                 bt.be->timer_definition ? bt.be->timer_definition : "undeclared: the backend's timer_begin/timer_end");
    if (bt.be && bt.be->timing_note) { /* a device's roof, clocks and throttling too */
        mc_device_timing_note note = {.case_bytes = c->op->bytes(c)};
        bt.be->timing_note(bt.ctx, &note);
        h->last.device_roof_gbs = note.roof_gbs;
        h->last.device_ws_roof_gbs = note.ws_roof_gbs;
        h->last.device_mhz = note.min_clock_mhz;
        h->last.device_mem_mhz = note.min_mem_mhz;
        h->last.device_temp_c = note.max_temp_c;
        h->last.device_batches = note.batches;
        h->last.device_throttled = note.throttled;
        h->last.device_reasons = (double)note.reasons;
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
