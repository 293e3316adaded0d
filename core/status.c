/* core/status.c: the status message table and the error setter.
 * SPDX-License-Identifier: MIT */
#include "status.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {
    [MC_OK] = "ok",
    [MC_ERR_USAGE] = "usage error",
    [MC_ERR_CONFIG] = "configuration error",
    [MC_ERR_LUA] = "case file error",
    [MC_ERR_IO] = "i/o error",
    [MC_ERR_NOMEM] = "out of memory",
    [MC_ERR_BACKEND] = "backend error",
    [MC_ERR_DB] = "database error",
    [MC_ERR_UNSUPPORTED] = "unsupported",
    [MC_ERR_INTERNAL] = "internal error",
};
static_assert(sizeof status_names / sizeof status_names[0] == MC_STATUS_COUNT, "one name per status");

const char *mc_status_str(mc_status st)
{
    if ((int)st < 0 || st >= MC_STATUS_COUNT)
        return "unknown status";
    return status_names[st];
}

mc_status mc_err_set_at(mc_err *err, mc_status st, const char *file, int line, const char *fmt, ...)
{
    if (!err)
        return st;
    err->status = st;
    err->file = file;
    err->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return st;
}

void mc_err_clear(mc_err *err)
{
    if (!err)
        return;
    memset(err, 0, sizeof *err);
}
