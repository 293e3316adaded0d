/* core/json.c: JSON string and number output, and the store's flat params objects read back.
 * SPDX-License-Identifier: MIT */
#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"

void mc_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    mc_sanitize_write(MC_SINK_JSON, out, s);
    fputc('"', out);
}

size_t mc_json_quote(char *dst, size_t cap, const char *s)
{
    size_t body = cap > 2 ? mc_sanitize(MC_SINK_JSON, dst + 1, cap - 2, s) : mc_sanitize(MC_SINK_JSON, NULL, 0, s);
    if (cap > 2 && body < cap - 2) {
        dst[0] = '"';
        dst[body + 1] = '"';
        dst[body + 2] = '\0';
    } else if (cap) {
        dst[0] = '\0';
    }
    return body + 2;
}

void mc_json_number(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, "%.17g", v);
    else
        fputs("null", out);
}

/* ---- the store's flat params objects ---- */

/* Reads one "..." token starting after the opening quote; returns the byte after the closing one. */
static const char *read_string(const char *s, char *out, size_t cap)
{
    size_t len = 0;
    while (*s && *s != '"') {
        if (*s == '\\' && s[1])
            s++; /* the store escapes only quotes and backslashes in words */
        if (len + 1 < cap)
            out[len++] = *s;
        s++;
    }
    out[len] = '\0';
    return *s ? s + 1 : s;
}

void mc_json_params_parse(const char *json, mc_json_params *out)
{
    out->n = 0;
    const char *s = json ? strchr(json, '{') : NULL;
    if (!s)
        return;
    s++;
    while (*s && out->n < MC_JSON_MAX_PARAMS) {
        while (*s == ' ' || *s == ',')
            s++;
        if (*s != '"')
            return;
        mc_json_param *p = &out->p[out->n];
        s = read_string(s + 1, p->name, sizeof p->name);
        while (*s == ' ' || *s == ':')
            s++;
        if (*s == '"') {
            s = read_string(s + 1, p->text, sizeof p->text);
            p->is_num = false;
            p->num = NAN;
        } else {
            char *end = NULL;
            p->num = strtod(s, &end);
            if (end == s)
                return;
            snprintf(p->text, sizeof p->text, "%.*s", (int)(end - s), s);
            p->is_num = true;
            s = end;
        }
        out->n++;
    }
}

const mc_json_param *mc_json_params_find(const mc_json_params *ps, const char *name)
{
    for (int i = 0; i < ps->n; i++)
        if (strcmp(ps->p[i].name, name) == 0)
            return &ps->p[i];
    return NULL;
}
