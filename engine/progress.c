/* engine/progress.c: done/total, failures so far and an ETA weighted by each item's cost, on one
 * line that fits the terminal.
 * SPDX-License-Identifier: MIT */
#include "progress.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "core/op.h"
#include "core/clock.h"

#define ITEM_OVERHEAD_FLOPS 2e6 /* a small case's fixed cost (fork round trip, tensors, checks), in flops */
#define MIN_BAR 10              /* narrower than this, the bar is left out */

void mc_progress_init(mc_progress *p, FILE *out, int total, const char *label, bool quiet)
{
    *p = (mc_progress){.out = out, .tty = isatty(fileno(out)), .quiet = quiet, .total = total,
                       .started = mc_now_s(), .label = label};
    p->last_print = p->started;
}

double mc_progress_item_cost(const mc_case *c)
{
    double flops = c->op && c->op->flops ? c->op->flops(c) : 0;
    return ITEM_OVERHEAD_FLOPS + (flops > 0 ? flops : 0);
}

void mc_progress_add_cost(mc_progress *p, double cost)
{
    p->total_cost += cost;
}

void mc_progress_step(mc_progress *p, double cost, bool failed)
{
    p->done++;
    p->done_cost += cost;
    p->failed += failed;
}

int mc_progress_columns(int fd)
{
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *env = getenv("COLUMNS");
    int n = env ? atoi(env) : 0;
    return n > 0 ? n : 80;
}

static void format_seconds(double s, char *out, size_t cap)
{
    long whole = (long)(s + 0.5), minutes = whole / 60;
    if (s < 0)
        snprintf(out, cap, "?");
    else if (whole < 100)
        snprintf(out, cap, "%lds", whole);
    else if (whole < 6000)
        snprintf(out, cap, "%ldm%02lds", minutes, whole - 60 * minutes);
    else
        snprintf(out, cap, "%.1fh", s / 3600);
}

/* The rate so far, in cost per second, times the cost still to do: the last big cases of a tier
 * are not "0s away" because most of the small ones are done. -1 while unknown. */
static double eta_s(const mc_progress *p, double elapsed)
{
    double left = p->total_cost - p->done_cost;
    if (p->done >= p->total)
        return 0;
    return p->done_cost > 0 && left > 0 ? elapsed * left / p->done_cost : -1;
}

/* " 12/40  failed 1  3s, ETA 9s" */
static int format_tail(const mc_progress *p, double t, char *out, size_t cap)
{
    char e[48], r[48];
    format_seconds(t - p->started, e, sizeof e);
    format_seconds(eta_s(p, t - p->started), r, sizeof r);
    return snprintf(out, cap, " %d/%d  failed %d  %s, ETA %s", p->done, p->total, p->failed, e, r);
}

void mc_progress_format(const mc_progress *p, double t, int columns, char *out, size_t cap)
{
    char tail[96];
    int n_tail = format_tail(p, t, tail, sizeof tail);
    int width = columns - 1; /* the last column would wrap on some terminals */
    int bar = width - (int)strlen(p->label) - 3 - n_tail;
    if (bar > 40)
        bar = 40;
    size_t len = 0;
    if (bar >= MIN_BAR) {
        int filled = p->total ? (int)((long)bar * p->done / p->total) : bar;
        len = (size_t)snprintf(out, cap, "%s [", p->label);
        for (int i = 0; i < bar && len + 1 < cap; i++)
            out[len++] = i < filled ? '#' : '.';
        snprintf(out + len, cap - len, "]%s", tail);
    } else {
        snprintf(out, cap, "%s", tail + 1);
    }
    if (width > 0 && strlen(out) > (size_t)width)
        out[width] = '\0';
}

static void draw(mc_progress *p, double t)
{
    char line[512];
    if (p->tty) {
        mc_progress_format(p, t, mc_progress_columns(fileno(p->out)), line, sizeof line);
        int len = (int)strlen(line);
        fprintf(p->out, "\r%s%*s", line, p->last_len > len ? p->last_len - len : 0, "");
        p->last_len = len;
    } else {
        char tail[96];
        format_tail(p, t, tail, sizeof tail);
        fprintf(p->out, "%s:%s\n", p->label, tail);
    }
    fflush(p->out);
    p->last_print = t;
}

void mc_progress_show(mc_progress *p)
{
    if (p->quiet)
        return;
    double t = mc_now_s();
    if (t - p->last_print >= (p->tty ? 0.1 : 10.0))
        draw(p, t);
}

void mc_progress_finish(mc_progress *p)
{
    if (p->quiet)
        return;
    draw(p, mc_now_s());
    if (p->tty)
        fputc('\n', p->out);
}
