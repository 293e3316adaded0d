/* core/json.h: writing JSON strings safely (labels and messages are untrusted text), and reading
 * the store's flat params objects.
 * SPDX-License-Identifier: MIT */
#ifndef MC_JSON_H
#define MC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Writes s as a quoted JSON string: valid UTF-8 (invalid bytes become \ufffd), every control
 * character, quote and backslash escaped. NULL is "". */
void mc_json_string(FILE *out, const char *s);
/* The same into dst (always NUL-terminated, quotes included); returns the length the whole string
 * needs, as snprintf does: >= cap means it did not fit. */
size_t mc_json_quote(char *dst, size_t cap, const char *s);
/* Writes a number; NaN and infinities become null (JSON has no such numbers). */
void mc_json_number(FILE *out, double v);

/* One parameter of a flat params object, as the store writes them ({"name":"word","m":5,...}). */
#define MC_JSON_MAX_PARAMS 32
typedef struct mc_json_param {
    char name[32];
    char text[64]; /* the value as written (strings without quotes, unescaped) */
    bool is_num;
    double num;    /* NaN for strings */
} mc_json_param;

typedef struct mc_json_params {
    mc_json_param p[MC_JSON_MAX_PARAMS];
    int n;
} mc_json_params;

/* Parses a flat params object; stops at the first shape it does not know (what it read stays). */
void mc_json_params_parse(const char *json, mc_json_params *out);
/* The parameter called name, or NULL. */
const mc_json_param *mc_json_params_find(const mc_json_params *ps, const char *name);

#endif
