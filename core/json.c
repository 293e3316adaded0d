/* core/json.c: JSON string and number output.
 * SPDX-License-Identifier: MIT */
#include "json.h"

#include <math.h>

#include "sanitize.h"

void mc_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    mc_sanitize_write(MC_SINK_JSON, out, s);
    fputc('"', out);
}

void mc_json_number(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, "%.17g", v);
    else
        fputs("null", out);
}
