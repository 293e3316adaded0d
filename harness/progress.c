/* harness/progress.c: done/total, failures so far and ETA.
 * SPDX-License-Identifier: MIT */
#include "progress.h"

#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void mc_progress_init(mc_progress *p, FILE *out, int total, const char *label, bool quiet)
{
    *p = (mc_progress){.out = out, .tty = isatty(fileno(out)), .quiet = quiet, .total = total,
                       .started = now_s(), .label = label};
    p->last_print = p->started;
}

void mc_progress_step(mc_progress *p, bool failed)
{
    p->done++;
    p->failed += failed;
}

static void draw(mc_progress *p, double t)
{
    double elapsed = t - p->started;
    double eta = p->done ? elapsed * (p->total - p->done) / p->done : 0;
    if (p->tty) {
        int width = 30, filled = p->total ? width * p->done / p->total : width;
        fprintf(p->out, "\r%s [", p->label);
        for (int i = 0; i < width; i++)
            fputc(i < filled ? '#' : '.', p->out);
        fprintf(p->out, "] %d/%d  failed %d  %.0fs, ETA %.0fs ", p->done, p->total, p->failed, elapsed, eta);
    } else {
        fprintf(p->out, "%s: %d/%d done, %d failed, %.0fs elapsed, ETA %.0fs\n", p->label, p->done, p->total,
                p->failed, elapsed, eta);
    }
    fflush(p->out);
    p->last_print = t;
}

void mc_progress_show(mc_progress *p)
{
    if (p->quiet)
        return;
    double t = now_s();
    if (t - p->last_print >= (p->tty ? 0.1 : 10.0))
        draw(p, t);
}

void mc_progress_finish(mc_progress *p)
{
    if (p->quiet)
        return;
    draw(p, now_s());
    if (p->tty)
        fputc('\n', p->out);
}
