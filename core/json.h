/* core/json.h: writing JSON strings safely (labels and messages are untrusted text).
 * SPDX-License-Identifier: MIT */
#ifndef MC_JSON_H
#define MC_JSON_H

#include <stdio.h>

/* Writes s as a quoted JSON string: valid UTF-8 (invalid bytes become \ufffd), every control
 * character, quote and backslash escaped. NULL is "". */
void mc_json_string(FILE *out, const char *s);
/* Writes a number; NaN and infinities become null (JSON has no such numbers). */
void mc_json_number(FILE *out, double v);

#endif
