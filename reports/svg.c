/* reports/svg.c: inline-SVG drawing for the report. Coordinates are written with one decimal
 * (enough for a screen, and it keeps a page with hundreds of charts small). Every string that
 * reaches the SVG from data is escaped by mc_html_text.
 * SPDX-License-Identifier: MIT */
#include "svg.h"

#include <math.h>
#include <string.h>

#include "html.h"

mc_scale mc_scale_make(double d0, double d1, double r0, double r1, bool log)
{
    return (mc_scale){.d0 = d0, .d1 = d1, .r0 = r0, .r1 = r1, .log = log};
}

double mc_scale_map(const mc_scale *s, double v)
{
    double a = s->d0, b = s->d1;
    if (s->log) {
        if (!(v > 0) || !(a > 0) || !(b > 0))
            return s->r0;
        a = log10(a);
        b = log10(b);
        v = log10(v);
    }
    if (b == a)
        return (s->r0 + s->r1) / 2;
    return s->r0 + (v - a) / (b - a) * (s->r1 - s->r0);
}

static int linear_ticks(double lo, double hi, int max_ticks, double *out, int cap)
{
    if (!(hi > lo) || max_ticks < 1) {
        if (cap > 0 && isfinite(lo)) {
            out[0] = lo;
            return 1;
        }
        return 0;
    }
    double raw = (hi - lo) / max_ticks;
    double mag = pow(10, floor(log10(raw)));
    double norm = raw / mag;
    double step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
    int n = 0;
    for (double k = ceil(lo / step - 1e-9); n < cap; k++) {
        double v = k * step;
        if (v > hi + step * 1e-9)
            break;
        out[n++] = fabs(v) < step * 1e-9 ? 0 : v;
    }
    return n;
}

/* Powers of ten in [lo, hi] times each multiplier in mults. */
static int decade_ticks(double lo, double hi, const double *mults, int n_mults, double *out, int cap)
{
    int n = 0;
    for (int e = (int)floor(log10(lo)); e <= (int)ceil(log10(hi)) && n < cap; e++)
        for (int m = 0; m < n_mults && n < cap; m++) {
            double v = mults[m] * pow(10, e);
            if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9))
                out[n++] = v;
        }
    return n;
}

int mc_nice_ticks(double lo, double hi, bool log, int max_ticks, double *out, int cap)
{
    if (!log)
        return linear_ticks(lo, hi, max_ticks, out, cap);
    if (!(lo > 0) || !(hi >= lo))
        return 0;
    static const double ones[] = {1}, one_two_five[] = {1, 2, 5};
    int n = decade_ticks(lo, hi, ones, 1, out, cap);
    if (n > max_ticks) { /* too many decades: keep every k-th */
        int k = (n + max_ticks - 1) / max_ticks, kept = 0;
        for (int i = 0; i < n; i += k)
            out[kept++] = out[i];
        return kept;
    }
    if (n < 3) {
        n = decade_ticks(lo, hi, one_two_five, 3, out, cap);
        if (n > max_ticks)
            n = decade_ticks(lo, hi, ones, 1, out, cap);
    }
    if (n < 2) /* inside one decade without round values: linear ticks read fine there */
        n = linear_ticks(lo, hi, max_ticks < 4 ? max_ticks : 4, out, cap);
    return n;
}

static const char *const glyphs[] = {
    [MC_MARK_CIRCLE] = "\u25CF",        [MC_MARK_SQUARE] = "\u25A0",   [MC_MARK_TRIANGLE_UP] = "\u25B2",
    [MC_MARK_DIAMOND] = "\u25C6",       [MC_MARK_TRIANGLE_DOWN] = "\u25BC", [MC_MARK_CROSS] = "\u2715",
    [MC_MARK_PLUS] = "+",               [MC_MARK_STAR] = "\u2605",
};
_Static_assert(sizeof glyphs / sizeof glyphs[0] == MC_MARK_COUNT, "one glyph per marker");

const char *mc_marker_glyph(mc_marker m)
{
    return (int)m >= 0 && m < MC_MARK_COUNT ? glyphs[m] : "?";
}

static void class_attr(FILE *out, const char *cls)
{
    if (cls && *cls) {
        fputs(" class=\"", out);
        mc_html_text(out, cls);
        fputc('"', out);
    }
}

/* A closed polygon through n (dx, dy) offsets, scaled by r, around (x, y). */
static void polygon(FILE *out, double x, double y, double r, const double (*pts)[2], int n, const char *cls)
{
    fputs("<polygon", out);
    class_attr(out, cls);
    fputs(" points=\"", out);
    for (int i = 0; i < n; i++)
        fprintf(out, "%s%.1f,%.1f", i ? " " : "", x + r * pts[i][0], y + r * pts[i][1]);
    fputs("\"/>", out);
}

void mc_svg_marker(FILE *out, mc_marker m, double x, double y, double r, const char *cls)
{
    static const double up[][2] = {{0, -1.15}, {-1.05, 0.75}, {1.05, 0.75}};
    static const double down[][2] = {{0, 1.15}, {-1.05, -0.75}, {1.05, -0.75}};
    static const double diamond[][2] = {{0, -1.25}, {1.1, 0}, {0, 1.25}, {-1.1, 0}};
    static const double star[][2] = {{0, -1.3},    {0.31, -0.42}, {1.24, -0.4}, {0.5, 0.16}, {0.76, 1.05},
                                     {0, 0.52},    {-0.76, 1.05}, {-0.5, 0.16}, {-1.24, -0.4}, {-0.31, -0.42}};
    switch (m) {
    case MC_MARK_SQUARE:
        fputs("<rect", out);
        class_attr(out, cls);
        fprintf(out, " x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", x - 0.85 * r, y - 0.85 * r, 1.7 * r,
                1.7 * r);
        return;
    case MC_MARK_TRIANGLE_UP: polygon(out, x, y, r, up, 3, cls); return;
    case MC_MARK_TRIANGLE_DOWN: polygon(out, x, y, r, down, 3, cls); return;
    case MC_MARK_DIAMOND: polygon(out, x, y, r, diamond, 4, cls); return;
    case MC_MARK_STAR: polygon(out, x, y, r, star, 10, cls); return;
    case MC_MARK_CROSS:
    case MC_MARK_PLUS: {
        double a = m == MC_MARK_CROSS ? 0.8 * r : 0, b = m == MC_MARK_CROSS ? 0.8 * r : 1.1 * r;
        fputs("<path", out);
        class_attr(out, cls);
        if (m == MC_MARK_CROSS)
            fprintf(out, " d=\"M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f\"", x - a, y - b, x + a, y + b, x - a, y + b,
                    x + a, y - b);
        else
            fprintf(out, " d=\"M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f\"", x - b, y, x + b, y, x, y - b, x, y + b);
        fputs(" stroke-width=\"2.2\"/>", out);
        return;
    }
    case MC_MARK_CIRCLE:
    default:
        fputs("<circle", out);
        class_attr(out, cls);
        fprintf(out, " cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"/>", x, y, r);
        return;
    }
}

void mc_svg_open(FILE *out, double w, double h, const char *cls, const char *label)
{
    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\"",
            w, h, w, h);
    class_attr(out, cls);
    if (label) {
        fputs(" role=\"img\" aria-label=\"", out);
        mc_html_text(out, label);
        fputc('"', out);
    }
    fputs(">", out);
}

void mc_svg_close(FILE *out)
{
    fputs("</svg>", out);
}

void mc_svg_text(FILE *out, double x, double y, const char *anchor, const char *cls, const char *text)
{
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\"", x, y);
    if (anchor && strcmp(anchor, "start") != 0)
        fprintf(out, " text-anchor=\"%s\"", strcmp(anchor, "end") == 0 ? "end" : "middle");
    class_attr(out, cls);
    fputc('>', out);
    mc_html_text(out, text);
    fputs("</text>", out);
}

void mc_plot_layout(mc_plot *p, double x0, double x1, bool xlog, double y0, double y1, bool ylog)
{
    p->x = mc_scale_make(x0, x1, p->left, p->width - p->right, xlog);
    p->y = mc_scale_make(y0, y1, p->height - p->bottom, p->top, ylog);
}

#define MAX_TICKS 24

void mc_plot_y_axis(FILE *out, const mc_plot *p, mc_tick_format fmt, const char *title)
{
    double ticks[MAX_TICKS];
    int n = mc_nice_ticks(p->y.d0, p->y.d1, p->y.log, 6, ticks, MAX_TICKS);
    for (int i = 0; i < n; i++) {
        double y = mc_scale_map(&p->y, ticks[i]);
        char label[32];
        fmt(label, sizeof label, ticks[i]);
        fprintf(out, "<line class=\"gl\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", p->left,
                p->width - p->right, y, y);
        mc_svg_text(out, p->left - 5, y + 4, "end", "tick", label);
    }
    fprintf(out, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", p->left, p->left, p->top,
            p->height - p->bottom);
    if (title) {
        double cy = (p->top + p->height - p->bottom) / 2;
        fprintf(out, "<text class=\"axis-title\" text-anchor=\"middle\" transform=\"translate(12 %.1f) rotate(-90)\">",
                cy);
        mc_html_text(out, title);
        fputs("</text>", out);
    }
}

void mc_plot_x_axis(FILE *out, const mc_plot *p, mc_tick_format fmt, const char *title)
{
    double ticks[MAX_TICKS];
    int n = mc_nice_ticks(p->x.d0, p->x.d1, p->x.log, 8, ticks, MAX_TICKS);
    double base = p->height - p->bottom;
    for (int i = 0; i < n; i++) {
        double x = mc_scale_map(&p->x, ticks[i]);
        char label[32];
        fmt(label, sizeof label, ticks[i]);
        fprintf(out, "<line class=\"gl\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x, x, p->top, base);
        mc_svg_text(out, x, base + 15, "middle", "tick", label);
    }
    fprintf(out, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", p->left,
            p->width - p->right, base, base);
    if (title)
        mc_svg_text(out, (p->left + p->width - p->right) / 2, p->height - 4, "middle", "axis-title", title);
}

/* The band of the contiguous finite stretch [i, j) as one polygon. */
static void band_stretch(FILE *out, const mc_plot *p, const mc_series *s, int i, int j, const char *cls)
{
    fputs("<polygon", out);
    class_attr(out, cls);
    fputs(" points=\"", out);
    for (int k = i; k < j; k++)
        fprintf(out, "%s%.1f,%.1f", k > i ? " " : "", mc_scale_map(&p->x, s->x[k]), mc_scale_map(&p->y, s->hi[k]));
    for (int k = j - 1; k >= i; k--)
        fprintf(out, " %.1f,%.1f", mc_scale_map(&p->x, s->x[k]), mc_scale_map(&p->y, s->lo[k]));
    fputs("\"/>", out);
}

static bool band_ok(const mc_series *s, int k)
{
    return isfinite(s->lo[k]) && isfinite(s->hi[k]) && isfinite(s->x[k]);
}

void mc_svg_series(FILE *out, const mc_plot *p, const mc_series *s)
{
    char cls[32];
    int style = ((s->style % 8) + 8) % 8;
    if (s->lo && s->hi) {
        snprintf(cls, sizeof cls, "band s%d", style);
        for (int i = 0; i < s->n;) {
            if (!band_ok(s, i)) {
                i++;
                continue;
            }
            int j = i;
            while (j < s->n && band_ok(s, j))
                j++;
            band_stretch(out, p, s, i, j, cls);
            i = j;
        }
    }
    if (s->line) {
        snprintf(cls, sizeof cls, "ln s%d", style);
        fputs("<path", out);
        class_attr(out, cls);
        fputs(" d=\"", out);
        bool pen_down = false;
        for (int i = 0; i < s->n; i++) {
            if (!isfinite(s->y[i]) || !isfinite(s->x[i])) {
                pen_down = false;
                continue;
            }
            fprintf(out, "%s%.1f %.1f", pen_down ? "L" : "M", mc_scale_map(&p->x, s->x[i]), mc_scale_map(&p->y, s->y[i]));
            pen_down = true;
        }
        fputs("\"/>", out);
    }
    snprintf(cls, sizeof cls, "mk s%d", style);
    for (int i = 0; i < s->n; i++) {
        if (!isfinite(s->y[i]) || !isfinite(s->x[i]))
            continue;
        if (s->title) {
            fputs("<g><title>", out);
            mc_html_text(out, s->title);
            fputs("</title>", out);
        }
        mc_svg_marker(out, s->mark, mc_scale_map(&p->x, s->x[i]), mc_scale_map(&p->y, s->y[i]),
                      s->marker_r > 0 ? s->marker_r : 3.5, cls);
        if (s->title)
            fputs("</g>", out);
    }
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void mc_svg_ratio_interval(FILE *out, double w, double h, const mc_ratio_plot *rp)
{
    const double pad = 6;
    mc_scale x = mc_scale_make(rp->dmin, rp->dmax, pad, w - pad, true);
    double t = rp->threshold > 0 ? rp->threshold : 0;
    double mid = h / 2;
    char title[160], r[32], lo[32], hi[32];
    mc_fmt_num(r, sizeof r, rp->ratio);
    mc_fmt_num(lo, sizeof lo, rp->lo);
    mc_fmt_num(hi, sizeof hi, rp->hi);
    snprintf(title, sizeof title, "ratio %s, CI %s to %s; the band is +-%.3g%%", r, lo, isfinite(rp->hi) ? hi : "unbounded",
             100 * t);
    mc_svg_open(out, w, h, "ci", title);
    fputs("<title>", out);
    mc_html_text(out, title);
    fputs("</title>", out);
    double b0 = mc_scale_map(&x, 1 / (1 + t)), b1 = mc_scale_map(&x, 1 + t);
    fprintf(out, "<rect class=\"thr\" x=\"%.1f\" y=\"1\" width=\"%.1f\" height=\"%.1f\"/>", b0, b1 - b0, h - 2);
    double one = mc_scale_map(&x, 1);
    fprintf(out, "<line class=\"one\" x1=\"%.1f\" x2=\"%.1f\" y1=\"0\" y2=\"%.0f\"/>", one, one, h);
    bool off_lo = !(rp->lo > rp->dmin), off_hi = !(rp->hi < rp->dmax);
    double xl = off_lo ? pad : mc_scale_map(&x, rp->lo);
    double xh = off_hi ? w - pad : mc_scale_map(&x, rp->hi);
    fputs("<line class=\"bar ", out);
    mc_html_text(out, rp->cls);
    fprintf(out, "\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", xl, xh, mid, mid);
    if (off_lo)
        fprintf(out, "<polygon class=\"arrow\" points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\"/>", 0.0, mid, pad, mid - 4,
                pad, mid + 4);
    if (off_hi)
        fprintf(out, "<polygon class=\"arrow\" points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\"/>", w, mid, w - pad, mid - 4,
                w - pad, mid + 4);
    char cls[48];
    snprintf(cls, sizeof cls, "est %s", rp->cls ? rp->cls : "");
    double xr = clamp(mc_scale_map(&x, rp->ratio), pad, w - pad);
    mc_svg_marker(out, rp->mark, xr, mid, 4.5, cls);
    mc_svg_close(out);
}
