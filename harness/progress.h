/* harness/progress.h: progress on long runs: a bar on a terminal, plain periodic lines otherwise.
 * SPDX-License-Identifier: MIT */
#ifndef MC_PROGRESS_H
#define MC_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

typedef struct mc_progress {
    FILE *out;
    bool tty;       /* redraw one line in place */
    bool quiet;     /* print nothing */
    int total, done, failed;
    double started, last_print;
    const char *label;
} mc_progress;

void mc_progress_init(mc_progress *p, FILE *out, int total, const char *label, bool quiet);
/* Counts one finished item. */
void mc_progress_step(mc_progress *p, bool failed);
/* Redraws (terminal: at most 10 times a second; otherwise a line every 10 seconds). */
void mc_progress_show(mc_progress *p);
/* Ends the bar with a final line. */
void mc_progress_finish(mc_progress *p);

#endif
