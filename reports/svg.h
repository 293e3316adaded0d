/* reports/svg.h: the inline-SVG chart primitives of the report: scales, tick choice, marker
 * shapes (so colour is never the only signal), axes, series with bands, and the ratio interval plot.
 * SPDX-License-Identifier: MIT */
#ifndef MC_REPORT_SVG_H
#define MC_REPORT_SVG_H

#include <stdbool.h>
#include <stdio.h>

/* Maps a data interval [d0, d1] onto pixels [r0, r1], linearly or by log10 (then d0, d1 > 0). */
typedef struct mc_scale {
    double d0, d1;
    double r0, r1;
    bool log;
} mc_scale;

mc_scale mc_scale_make(double d0, double d1, double r0, double r1, bool log);
/* Pixel of v; values outside the domain map outside the range (callers clip). A log scale maps
 * v <= 0 to r0. */
double mc_scale_map(const mc_scale *s, double v);

/* Round tick values inside [lo, hi]: linear steps of 1, 2 or 5 times a power of ten, at most
 * max_ticks of them; log scales take powers of ten, adding 2x and 5x when fewer than three
 * decades show. Returns the count written (at most cap). */
int mc_nice_ticks(double lo, double hi, bool log, int max_ticks, double *out, int cap);

/* Marker shapes, in the order series receive them; each has a text glyph for legends. */
typedef enum mc_marker {
    MC_MARK_CIRCLE,
    MC_MARK_SQUARE,
    MC_MARK_TRIANGLE_UP,
    MC_MARK_DIAMOND,
    MC_MARK_TRIANGLE_DOWN,
    MC_MARK_CROSS,
    MC_MARK_PLUS,
    MC_MARK_STAR,
    MC_MARK_COUNT
} mc_marker;

/* The glyph that shows the same shape in HTML text (legends, tables): "●", "■", "▲", ... */
const char *mc_marker_glyph(mc_marker m);
/* Draws a marker of radius r centred at (x, y); cls is a trusted CSS class name (may be NULL). */
void mc_svg_marker(FILE *out, mc_marker m, double x, double y, double r, const char *cls);

/* <svg> with a viewBox of w x h that scales to its container's width; label (untrusted) becomes
 * its accessible name. */
void mc_svg_open(FILE *out, double w, double h, const char *cls, const char *label);
void mc_svg_close(FILE *out);
/* <text> at (x, y); anchor is start, middle or end; text is escaped. */
void mc_svg_text(FILE *out, double x, double y, const char *anchor, const char *cls, const char *text);

/* A plot area inside an SVG: margins around it and its two scales. */
typedef struct mc_plot {
    double width, height;                 /* the whole SVG */
    double left, right, top, bottom;      /* margins */
    mc_scale x, y;
} mc_plot;

/* Sets the scales so that [x0, x1] x [y0, y1] fills the area inside the margins. */
void mc_plot_layout(mc_plot *p, double x0, double x1, bool xlog, double y0, double y1, bool ylog);

/* Formats a tick value for an axis label. */
typedef void (*mc_tick_format)(char *dst, size_t cap, double v);

/* Grid lines and labels of the y axis at nice ticks, with a rotated title (untrusted text). */
void mc_plot_y_axis(FILE *out, const mc_plot *p, mc_tick_format fmt, const char *title);
/* The same for the x axis (labels below the area). */
void mc_plot_x_axis(FILE *out, const mc_plot *p, mc_tick_format fmt, const char *title);

/* One series: a polyline through (x[i], y[i]) (broken where y is NaN), a marker at each point and,
 * when lo and hi are given, a shaded band between them. style picks CSS class s<style % 8>. */
typedef struct mc_series {
    const double *x, *y;
    const double *lo, *hi; /* band; NULL for none */
    int n;
    mc_marker mark;
    int style;
    bool line;             /* join the points */
    double marker_r;
    const char *title;     /* tooltip of each point (untrusted), may be NULL */
} mc_series;

void mc_svg_series(FILE *out, const mc_plot *p, const mc_series *s);

/* The interval plot of one ratio (candidate time / base time) on a log axis from dmin to dmax:
 * a band for the +-threshold region that counts as "same", a line at 1, the CI as a bar (an
 * arrow where it runs off the axis), and the estimate as the given marker. hi may be +inf and
 * lo 0 (an unbounded CI). Writes a complete <svg> of w x h. */
typedef struct mc_ratio_plot {
    double ratio, lo, hi;
    double threshold; /* relative, e.g. 0.03 */
    double dmin, dmax;
    mc_marker mark;
    const char *cls;  /* CSS class of the estimate and bar, e.g. "slower" */
} mc_ratio_plot;

void mc_svg_ratio_interval(FILE *out, double w, double h, const mc_ratio_plot *rp);

#endif
