/* reports/html.h: HTML output helpers for the report: escaping of untrusted text (case keys,
 * messages, commit metadata), shell quoting for reproducer lines, and number and time formats.
 * SPDX-License-Identifier: MIT */
#ifndef MC_REPORT_HTML_H
#define MC_REPORT_HTML_H

#include <stddef.h>
#include <stdio.h>

/* Writes s as HTML text or attribute content: & < > " ' become entities, and control characters
 * (which HTML forbids, and which could hide text), C1 controls and invalid UTF-8 become U+FFFD.
 * Safe in text, in quoted attributes and in SVG <text>. NULL writes nothing. */
void mc_html_text(FILE *out, const char *s);

/* The same into a buffer, always NUL-terminated; returns the length the whole escape needs
 * (snprintf's convention: a result >= cap means it was cut, never in the middle of an entity). */
size_t mc_html_escape(char *dst, size_t cap, const char *s);

/* Quotes s for a POSIX shell: 'text', with each ' written as '\''. Same return convention. */
size_t mc_shell_quote(char *dst, size_t cap, const char *s);

/* "12.3 ns", "4.56 us", "7.89 ms", "1.23 s" (3 significant digits); NaN and negatives: "n/a". */
void mc_fmt_time_ns(char *dst, size_t cap, double ns);
/* A ratio as a signed percentage change: 1.123 -> "+12.3%", 0.5 -> "-50.0%". */
void mc_fmt_change(char *dst, size_t cap, double ratio);
/* A number with up to 3 significant digits ("%.3g"), "n/a" when not finite. */
void mc_fmt_num(char *dst, size_t cap, double v);

#endif
