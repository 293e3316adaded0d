/* reports/html.c: escaping and formatting for the HTML report. Everything that came from a case
 * file, a kernel or git is untrusted and passes through mc_html_text or mc_html_escape (the HTML
 * sink of core/sanitize.c: invalid UTF-8 too becomes U+FFFD).
 * SPDX-License-Identifier: MIT */
#include "html.h"

#include <math.h>
#include <string.h>

#include "core/sanitize.h"

void mc_html_text(FILE *out, const char *s)
{
    mc_sanitize_write(MC_SINK_HTML, out, s);
}

/* Appends piece (n bytes) when it fits whole; counts it either way. */
static void append(char *dst, size_t cap, size_t *len, const char *piece, size_t n, int *cut)
{
    if (!*cut && *len + n < cap)
        memcpy(dst + *len, piece, n);
    else
        *cut = 1;
    if (!*cut)
        dst[*len + n] = '\0';
    *len += n;
}

size_t mc_html_escape(char *dst, size_t cap, const char *s)
{
    return mc_sanitize(MC_SINK_HTML, dst, cap, s);
}

size_t mc_shell_quote(char *dst, size_t cap, const char *s)
{
    size_t len = 0;
    int cut = 0;
    if (cap)
        dst[0] = '\0';
    append(dst, cap, &len, "'", 1, &cut);
    for (; s && *s; s++) {
        if (*s == '\'')
            append(dst, cap, &len, "'\\''", 4, &cut);
        else
            append(dst, cap, &len, s, 1, &cut);
    }
    append(dst, cap, &len, "'", 1, &cut);
    return len;
}

void mc_fmt_time_ns(char *dst, size_t cap, double ns)
{
    static const struct {
        double below; /* use this unit for values under this many ns */
        double div;
        const char *unit;
    } units[] = {{1e3, 1, "ns"}, {1e6, 1e3, "us"}, {1e9, 1e6, "ms"}, {INFINITY, 1e9, "s"}};
    if (!isfinite(ns) || ns < 0) {
        snprintf(dst, cap, "n/a");
        return;
    }
    size_t i = 0;
    while (ns >= units[i].below * 0.9995 && i + 1 < sizeof units / sizeof units[0])
        i++; /* 999.96 ns prints as 1.00 us, not 1.00e+03 ns */
    snprintf(dst, cap, "%.3g %s", ns / units[i].div, units[i].unit);
}

void mc_fmt_change(char *dst, size_t cap, double ratio)
{
    if (!isfinite(ratio) || ratio <= 0) {
        snprintf(dst, cap, "n/a");
        return;
    }
    snprintf(dst, cap, "%+.1f%%", 100 * (ratio - 1));
}

void mc_fmt_num(char *dst, size_t cap, double v)
{
    if (!isfinite(v))
        snprintf(dst, cap, "n/a");
    else
        snprintf(dst, cap, "%.3g", v);
}
