/* cli/cli.c: helpers every command shares (declared in cli.h).
 * SPDX-License-Identifier: MIT */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
