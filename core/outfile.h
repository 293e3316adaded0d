/* core/outfile.h: writing an output (report, JUnit, JSON, tuning table) without ever replacing
 * a device, a pipe or anything else that is not a regular file.
 * SPDX-License-Identifier: MIT */
#ifndef MC_OUTFILE_H
#define MC_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

#include "status.h"

typedef struct mc_outfile {
    FILE *f;             /* write here */
    char path[4096];     /* the output asked for */
    char tmp[4120];      /* the temporary beside it, "" when written in place */
    bool is_stdout;      /* "-" */
} mc_outfile;

/* Opens the output `path` for `what` (a flag or a noun, used in messages):
 *   - a new path or a regular file: a temporary beside it, renamed over it by mc_outfile_commit,
 *     so a reader never sees half a file and a failed write leaves the old one;
 *   - "-": stdout;
 *   - a device, a FIFO, a socket, or a symbolic link (whose target the rename would not reach):
 *     written in place, never renamed over;
 *   - a directory: an error. */
mc_status mc_outfile_open(mc_outfile *o, const char *path, const char *what, mc_err *err);
/* Finishes the output: flushes, closes, renames the temporary. On a write error the temporary is
 * removed and the old file stays. */
mc_status mc_outfile_commit(mc_outfile *o, const char *what, mc_err *err);
/* Gives up: closes and removes the temporary (the target is untouched when it was renamed onto). */
void mc_outfile_abort(mc_outfile *o);

/* For outputs that are databases (merge -o): a new path or a regular file only, since SQLite
 * writes beside it (journal, WAL); anything else is refused with MC_ERR_USAGE. */
mc_status mc_outfile_check_regular(const char *path, const char *what, mc_err *err);

#endif
