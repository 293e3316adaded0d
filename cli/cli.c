/* cli/cli.c: helpers every command shares (declared in cli.h): the usage error, the error report,
 * opening a database a command reads, and the number parsers.
 * SPDX-License-Identifier: MIT */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_outputs.h"
#include "core/sanitize.h"
#include "db/store.h"

int mc_cli_usage_error(const char *cmd, const char *usage, mc_usage_show show, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "metallic-check %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    const char *eol = usage ? strchr(usage, '\n') : NULL;
    if (show == MC_USAGE_FULL && usage)
        fprintf(stderr, "\n\n%s", usage);
    else if (show == MC_USAGE_FIRST_LINE && eol)
        fprintf(stderr, "\n%.*s", (int)(eol - usage + 1), usage);
    else
        fprintf(stderr, "\n(metallic-check %s --help for usage)\n", cmd);
    return MC_EXIT_USAGE;
}

int mc_cli_report_error(const char *cmd, const mc_err *err)
{
    fprintf(stderr, "metallic-check %s: %s: ", cmd, mc_status_str(err->status));
    mc_sanitize_write(MC_SINK_TERM, stderr, err->msg);
    fputc('\n', stderr);
    mc_cli_outputs_note_error(err);
    if (getenv("MC_DEBUG") && err->file)
        fprintf(stderr, "  (recorded at %s:%d)\n", err->file, err->line);
    return MC_EXIT_USAGE;
}

int mc_cli_open_existing(const char *cmd, const char *path, bool as_is, struct mc_store **s)
{
    mc_err err = {0};
    if (mc_store_open_existing(path, as_is, s, &err) == MC_OK)
        return -1;
    return mc_cli_report_error(cmd, &err);
}

/* ---- numbers ---- */

int mc_cli_parse_long(const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end || errno == ERANGE || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int mc_cli_parse_seed(const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    /* strtoull accepts "-1" (as 2^64-1) and saturates on overflow: both must be refused */
    if (!*text || strspn(text, "0123456789") != strlen(text))
        return -1;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno == ERANGE || *end)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int mc_cli_parse_seconds(const char *text, double max_s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno == ERANGE || !isfinite(v) || v <= 0 || v > max_s)
        return -1;
    *out = v;
    return 0;
}

bool mc_cli_parse_threshold(const char *text, double *fraction)
{
    char *end = NULL;
    double pct = strtod(text, &end);
    if (end && *end == '%')
        end++;
    if (end == text || *end || !(pct > 0 && pct < 100))
        return false;
    *fraction = pct / 100;
    return true;
}
