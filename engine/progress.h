/* engine/progress.h: progress on long runs: a bar on a terminal, plain periodic lines otherwise.
 * SPDX-License-Identifier: MIT */
#ifndef MC_PROGRESS_H
#define MC_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

#include "core/case.h"

typedef struct mc_progress {
    FILE *out;
    bool tty;       /* redraw one line in place */
    bool quiet;     /* print nothing */
    int total, done, failed;
    double total_cost, done_cost; /* mc_progress_item_cost units: the ETA weighs items by them */
    double started, last_print;
    int last_len;   /* columns of the last line drawn, to blank what a shorter one leaves */
    const char *label;
} mc_progress;

void mc_progress_init(mc_progress *p, FILE *out, int total, const char *label, bool quiet);
/* What checking one case costs, in arbitrary units: a fixed overhead (worker round trip, tensors,
 * checks) plus its flops (the fp64 reference is the bulk of a big case). */
double mc_progress_item_cost(const mc_case *c);
/* Adds an item's cost to the total still to do (once per item, before the run). */
void mc_progress_add_cost(mc_progress *p, double cost);
/* Counts one finished item of that cost. */
void mc_progress_step(mc_progress *p, double cost, bool failed);
/* Redraws (terminal: at most 10 times a second; otherwise a line every 10 seconds). */
void mc_progress_show(mc_progress *p);
/* Ends the bar with a final line. */
void mc_progress_finish(mc_progress *p);

/* The line drawn for a state, cut to fit `columns` (a terminal line never wraps: it must stay one
 * line to be redrawn in place). Exposed for tests. */
void mc_progress_format(const mc_progress *p, double now_s, int columns, char *out, size_t cap);
/* The terminal's width: the window size of fd, else $COLUMNS, else 80. */
int mc_progress_columns(int fd);

#endif
