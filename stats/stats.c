/* stats/stats.c: robust, distribution-free statistics for timing samples.
 *
 * Design notes:
 *   1. Timings are skewed and heavy-tailed (interrupts, frequency steps), so everything here is
 *      rank- or order-statistic based: medians, the sign-test CI of a median, Mann-Whitney U and
 *      the Hodges-Lehmann shift with Moses' interval. None assumes normality.
 *   2. Exact null distributions are used where they are cheap and valid (Mann-Whitney without
 *      ties below MC_MW_EXACT_MAX per side, the binomial of the sign test always); otherwise the
 *      normal approximation with tie and continuity correction, as R's wilcox.test does.
 *   3. Distribution-free intervals take discrete levels: each reports the level it achieved, and
 *      one that cannot reach the requested level at all is unbounded (-inf, +inf), so a caller
 *      deciding "the whole CI lies beyond the threshold" can never be fooled by a short sample.
 * SPDX-License-Identifier: MIT */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void mc_stats_sort(double *x, int n)
{
    if (n > 1)
        qsort(x, (size_t)n, sizeof *x, compare_doubles);
}

double mc_stats_quantile_sorted(const double *s, int n, double p)
{
    if (n == 1 || p <= 0)
        return s[0];
    if (p >= 1)
        return s[n - 1];
    double h = (n - 1) * p;
    int lo = (int)floor(h);
    if (lo >= n - 1)
        return s[n - 1];
    return s[lo] + (h - lo) * (s[lo + 1] - s[lo]);
}

double mc_stats_median_sorted(const double *s, int n)
{
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

static mc_status copy_sorted(const double *x, int n, double **out, mc_err *err)
{
    if (n < 1)
        return mc_err_set(err, MC_ERR_INTERNAL, "statistics of an empty sample");
    double *s = malloc((size_t)n * sizeof *s);
    if (!s)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for %d samples", n);
    memcpy(s, x, (size_t)n * sizeof *s);
    mc_stats_sort(s, n);
    *out = s;
    return MC_OK;
}

mc_status mc_stats_summary(const double *x, int n, mc_summary *out, mc_err *err)
{
    double *s = NULL;
    mc_status st = copy_sorted(x, n, &s, err);
    if (st)
        return st;
    memset(out, 0, sizeof *out);
    out->n = n;
    out->min = s[0];
    out->max = s[n - 1];
    out->q1 = mc_stats_quantile_sorted(s, n, 0.25);
    out->median = mc_stats_median_sorted(s, n);
    out->q3 = mc_stats_quantile_sorted(s, n, 0.75);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += s[i];
    out->mean = sum / n;
    for (int i = 0; i < n; i++)
        s[i] = fabs(s[i] - out->median);
    mc_stats_sort(s, n);
    out->mad = mc_stats_median_sorted(s, n);
    free(s);
    return MC_OK;
}

/* ---- distributions ---- */

double mc_normal_cdf(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

/* Acklam's rational approximation (relative error 1.15e-9), then one Halley step against erfc,
 * which brings it to full double precision. */
double mc_normal_quantile(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                               1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                               6.680131188771972e+01,  -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                               -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    if (p <= 0)
        return -INFINITY;
    if (p >= 1)
        return INFINITY;
    double x;
    if (p < 0.02425) {
        double q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p <= 1 - 0.02425) {
        double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    } else {
        double q = sqrt(-2 * log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    double e = mc_normal_cdf(x) - p;
    double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

/* Summed in log space term by term, so n in the thousands neither overflows nor underflows the
 * terms that matter. */
double mc_binom_half_cdf(int n, int k)
{
    if (k < 0)
        return 0;
    if (k >= n)
        return 1;
    double log_pmf = -n * log(2.0), cdf = 0;
    for (int i = 0; i <= k; i++) {
        cdf += exp(log_pmf);
        log_pmf += log((double)(n - i) / (i + 1));
    }
    return cdf < 1 ? cdf : 1;
}

int mc_stats_median_ci_rank(int n, double conf)
{
    double tail = (1 - conf) / 2;
    double log_pmf = -n * log(2.0), cdf = 0;
    int k = 0;
    /* k is admissible when P(B <= k-1) <= tail; P(B <= i) grows with i, so walk up. */
    for (int i = 0; 2 * (i + 1) <= n + 1; i++) {
        cdf += exp(log_pmf);
        if (cdf > tail)
            break;
        k = i + 1;
        log_pmf += log((double)(n - i) / (i + 1));
    }
    return k;
}

void mc_stats_median_ci_sorted(const double *s, int n, double conf, mc_interval *out)
{
    int k = n > 0 ? mc_stats_median_ci_rank(n, conf) : 0;
    if (k < 1) {
        *out = (mc_interval){.lo = -INFINITY, .hi = INFINITY, .level = 1, .bounded = false};
        return;
    }
    out->lo = s[k - 1];
    out->hi = s[n - k];
    out->level = 1 - 2 * mc_binom_half_cdf(n, k - 1);
    out->bounded = true;
}

mc_status mc_stats_median_ci(const double *x, int n, double conf, mc_interval *out, mc_err *err)
{
    double *s = NULL;
    mc_status st = copy_sorted(x, n, &s, err);
    if (st)
        return st;
    mc_stats_median_ci_sorted(s, n, conf, out);
    free(s);
    return MC_OK;
}

/* ---- Mann-Whitney ---- */

/* CDF of U under the null for sample sizes m and n without ties: counts of arrangements by the
 * recurrence c(u; i, j) = c(u - j; i - 1, j) + c(u; i, j - 1) (the largest value belongs to x,
 * beating all j values of y, or to y, beating none). Additions only, so no cancellation. */
static mc_status mw_exact_cdf(int m, int n, double **out, mc_err *err)
{
    int width = m * n + 1;
    double *prev = calloc((size_t)(m + 1) * (size_t)width, sizeof *prev);
    double *cur = calloc((size_t)(m + 1) * (size_t)width, sizeof *cur);
    double *cdf = malloc((size_t)width * sizeof *cdf);
    mc_status st = MC_OK;
    if (!prev || !cur || !cdf) {
        st = mc_err_set(err, MC_ERR_NOMEM, "no memory for the exact U distribution (%d x %d)", m, n);
        goto done;
    }
    for (int i = 0; i <= m; i++)
        prev[(size_t)i * (size_t)width] = 1; /* j = 0: U is 0 in the one arrangement */
    for (int j = 1; j <= n; j++) {
        memset(cur, 0, (size_t)(m + 1) * (size_t)width * sizeof *cur);
        cur[0] = 1;
        for (int i = 1; i <= m; i++) {
            double *row = cur + (size_t)i * (size_t)width;
            const double *left = cur + (size_t)(i - 1) * (size_t)width, *up = prev + (size_t)i * (size_t)width;
            for (int u = 0; u <= i * j; u++)
                row[u] = (u >= j ? left[u - j] : 0) + up[u];
        }
        double *t = prev;
        prev = cur;
        cur = t;
    }
    const double *counts = prev + (size_t)m * (size_t)width;
    double total = 0;
    for (int u = 0; u < width; u++)
        total += counts[u];
    double run = 0;
    for (int u = 0; u < width; u++) {
        run += counts[u];
        cdf[u] = run / total;
    }
    *out = cdf;
    cdf = NULL;
done:
    free(prev);
    free(cur);
    free(cdf);
    return st;
}

typedef struct tagged {
    double v;
    int from_x;
} tagged;

static int compare_tagged(const void *a, const void *b)
{
    return compare_doubles(&((const tagged *)a)->v, &((const tagged *)b)->v);
}

/* U of x, whether any value is tied, and the tie term sum(t^3 - t) over tie groups. */
static mc_status mw_rank(const double *x, int nx, const double *y, int ny, double *u, double *tie_term,
                         mc_err *err)
{
    int n = nx + ny;
    tagged *all = malloc((size_t)n * sizeof *all);
    if (!all)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory to rank %d samples", n);
    for (int i = 0; i < nx; i++)
        all[i] = (tagged){x[i], 1};
    for (int j = 0; j < ny; j++)
        all[nx + j] = (tagged){y[j], 0};
    qsort(all, (size_t)n, sizeof *all, compare_tagged);
    double rank_sum_x = 0, ties = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && all[j + 1].v == all[i].v)
            j++;
        double midrank = 0.5 * (i + j) + 1, t = j - i + 1;
        for (int k = i; k <= j; k++)
            if (all[k].from_x)
                rank_sum_x += midrank;
        ties += t * t * t - t;
        i = j + 1;
    }
    free(all);
    *u = rank_sum_x - 0.5 * nx * (nx + 1.0);
    *tie_term = ties;
    return MC_OK;
}

static double mw_sigma(int nx, int ny, double tie_term)
{
    double n = nx + ny;
    return sqrt((double)nx * ny / 12.0 * ((n + 1) - tie_term / (n * (n - 1))));
}

mc_status mc_mann_whitney(const double *x, int nx, const double *y, int ny, mc_mw *out, mc_err *err)
{
    memset(out, 0, sizeof *out);
    if (nx < 1 || ny < 1)
        return mc_err_set(err, MC_ERR_INTERNAL, "Mann-Whitney needs two non-empty samples");
    double tie_term = 0;
    mc_status st = mw_rank(x, nx, y, ny, &out->u, &tie_term, err);
    if (st)
        return st;
    out->ties = tie_term > 0;
    if (!out->ties && nx < MC_MW_EXACT_MAX && ny < MC_MW_EXACT_MAX) {
        double *cdf = NULL;
        st = mw_exact_cdf(nx, ny, &cdf, err);
        if (st)
            return st;
        int u = (int)out->u;
        /* the null distribution is symmetric: P(U >= u) = P(U <= mn - u), exact without 1 - cdf */
        double lower = cdf[u], upper = cdf[nx * ny - u];
        out->p = fmin(1, 2 * fmin(lower, upper));
        out->exact = true;
        free(cdf);
        return MC_OK;
    }
    double mu = 0.5 * nx * ny, sigma = mw_sigma(nx, ny, tie_term), diff = out->u - mu;
    if (sigma <= 0) {
        out->p = 1; /* every value equal: no evidence either way */
        return MC_OK;
    }
    double correction = diff > 0 ? 0.5 : diff < 0 ? -0.5 : 0;
    out->z = (diff - correction) / sigma;
    out->p = fmin(1, 2 * fmin(mc_normal_cdf(out->z), mc_normal_cdf(-out->z)));
    return MC_OK;
}

/* ---- Hodges-Lehmann ---- */

/* The rank k of Moses' interval [D(k), D(mn+1-k)]. Exact: R's rule, k = the smallest u with
 * P(U <= u) >= alpha/2 (at least 1). Approximate: k = mn/2 - z sigma, rounded (Hollander & Wolfe). */
static mc_status moses_rank(int nx, int ny, double conf, bool exact, double tie_term, int *k, double *level,
                            mc_err *err)
{
    double tail = (1 - conf) / 2;
    int mn = nx * ny;
    if (exact) {
        double *cdf = NULL;
        mc_status st = mw_exact_cdf(nx, ny, &cdf, err);
        if (st)
            return st;
        int u = 0;
        while (u < mn && cdf[u] < tail)
            u++;
        *k = u < 1 ? 1 : u;
        *level = 1 - 2 * cdf[*k - 1];
        free(cdf);
        return MC_OK;
    }
    double sigma = mw_sigma(nx, ny, tie_term);
    if (sigma <= 0) {
        /* every value is the same: every pairwise difference is 0, and so is any interval of them */
        *k = 1;
        *level = 1;
        return MC_OK;
    }
    *k = (int)floor(0.5 * mn - mc_normal_quantile(1 - tail) * sigma + 0.5);
    if (*k < 1)
        *k = 1;
    *level = 1 - 2 * mc_normal_cdf((*k - 0.5 - 0.5 * mn) / sigma);
    return MC_OK;
}

mc_status mc_hodges_lehmann(const double *x, int nx, const double *y, int ny, double conf, mc_shift *out,
                            mc_err *err)
{
    memset(out, 0, sizeof *out);
    if (nx < 1 || ny < 1)
        return mc_err_set(err, MC_ERR_INTERNAL, "Hodges-Lehmann needs two non-empty samples");
    size_t mn = (size_t)nx * (size_t)ny;
    double *d = malloc(mn * sizeof *d);
    if (!d)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for %zu pairwise differences", mn);
    for (int i = 0; i < nx; i++)
        for (int j = 0; j < ny; j++)
            d[(size_t)i * (size_t)ny + (size_t)j] = x[i] - y[j];
    mc_stats_sort(d, (int)mn);
    out->estimate = mc_stats_median_sorted(d, (int)mn);

    double u = 0, tie_term = 0;
    mc_status st = mw_rank(x, nx, y, ny, &u, &tie_term, err);
    int k = 0;
    double level = 0;
    if (!st)
        st = moses_rank(nx, ny, conf, tie_term == 0 && nx < MC_MW_EXACT_MAX && ny < MC_MW_EXACT_MAX, tie_term,
                        &k, &level, err);
    if (!st) {
        if (level + 1e-12 < conf || 2 * (size_t)k > mn + 1) {
            out->ci = (mc_interval){.lo = -INFINITY, .hi = INFINITY, .level = level, .bounded = false};
        } else {
            out->ci = (mc_interval){.lo = d[k - 1], .hi = d[mn - (size_t)k], .level = level, .bounded = true};
        }
    }
    free(d);
    return st;
}

/* ---- paired log-ratios ---- */

mc_status mc_paired_log_ratio(const double *base, const double *cand, int n, double conf, mc_paired *out,
                              mc_err *err)
{
    memset(out, 0, sizeof *out);
    if (n < 1)
        return mc_err_set(err, MC_ERR_INTERNAL, "a paired comparison needs at least one pair");
    double *d = malloc((size_t)n * sizeof *d);
    if (!d)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for %d paired ratios", n);
    int positive = 0, nonzero = 0;
    for (int i = 0; i < n; i++) {
        if (!(base[i] > 0) || !(cand[i] > 0)) {
            free(d);
            return mc_err_set(err, MC_ERR_INTERNAL, "pair %d has a non-positive time (%g, %g)", i, base[i], cand[i]);
        }
        d[i] = log(cand[i] / base[i]);
        positive += d[i] > 0;
        nonzero += d[i] != 0;
    }
    mc_stats_sort(d, n);
    out->n = n;
    out->median_log_ratio = mc_stats_median_sorted(d, n);
    mc_stats_median_ci_sorted(d, n, conf, &out->ci);
    /* exact sign test: under the null the number of positive log-ratios is Bin(nonzero, 1/2) */
    double lower = mc_binom_half_cdf(nonzero, positive);
    double upper = mc_binom_half_cdf(nonzero, nonzero - positive); /* P(B >= s) = P(B <= n - s) at 1/2 */
    out->p = nonzero ? fmin(1, 2 * fmin(lower, upper)) : 1;
    free(d);
    return MC_OK;
}

/* ---- Benjamini-Hochberg ---- */

typedef struct indexed {
    double p;
    int i;
} indexed;

static int compare_indexed(const void *a, const void *b)
{
    const indexed *x = a, *y = b;
    if (x->p != y->p)
        return (x->p > y->p) - (x->p < y->p);
    return (x->i > y->i) - (x->i < y->i);
}

mc_status mc_bh_qvalues(const double *p, int n, double *q, mc_err *err)
{
    if (n < 1)
        return MC_OK;
    indexed *s = malloc((size_t)n * sizeof *s);
    if (!s)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for %d p-values", n);
    for (int i = 0; i < n; i++) {
        if (!(p[i] >= 0 && p[i] <= 1)) {
            free(s);
            return mc_err_set(err, MC_ERR_INTERNAL, "p-value %d is %g, outside [0, 1]", i, p[i]);
        }
        s[i] = (indexed){p[i], i};
    }
    qsort(s, (size_t)n, sizeof *s, compare_indexed);
    double running = 1;
    for (int r = n; r >= 1; r--) {
        double v = s[r - 1].p * n / r;
        if (v < running)
            running = v;
        q[s[r - 1].i] = running;
    }
    free(s);
    return MC_OK;
}

/* ---- change points ---- */

mc_cp_cfg mc_cp_defaults(void)
{
    return (mc_cp_cfg){.min_segment = 3, .alpha = 0.01, .permutations = 999, .seed = 1};
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Circular scan: the max over segments [i, j) of |rank sum inside - m(n+1)/2| /
 * sqrt(m(n-m)(n+1)/12), m = j - i, with at least min_segment points inside and outside, or outside
 * made of one side only when the segment touches an end (then it is a plain split). Comparing a
 * segment with the rest, not only left with right, finds a step that goes up and comes back down
 * (Olshen et al. 2004, circular binary segmentation), which a single split misses. */
static double rank_scan(const double *prefix, int n, int min_segment, int *best_i, int *best_j)
{
    double best = -1;
    for (int i = 0; i < n; i++) {
        for (int j = i + min_segment; j <= n; j++) {
            int m = j - i, rest_left = i, rest_right = n - j;
            if (n - m < min_segment || (rest_left && rest_left < min_segment) ||
                (rest_right && rest_right < min_segment))
                continue;
            double inside = prefix[j] - prefix[i], expect = m * (n + 1) / 2.0;
            double z = fabs(inside - expect) / sqrt((double)m * (n - m) * (n + 1) / 12.0);
            if (z > best + 1e-12) {
                best = z;
                *best_i = i;
                *best_j = j;
            }
        }
    }
    return best;
}

static void prefix_sums(const double *x, int n, double *prefix)
{
    prefix[0] = 0;
    for (int i = 0; i < n; i++)
        prefix[i + 1] = prefix[i] + x[i];
}

/* midranks of x[0..n) into ranks */
static mc_status midranks(const double *x, int n, double *ranks, mc_err *err)
{
    tagged *t = malloc((size_t)n * sizeof *t);
    if (!t)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory to rank %d points", n);
    for (int i = 0; i < n; i++)
        t[i] = (tagged){x[i], i}; /* from_x carries the position here */
    qsort(t, (size_t)n, sizeof *t, compare_tagged);
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && t[j + 1].v == t[i].v)
            j++;
        for (int k = i; k <= j; k++)
            ranks[t[k].from_x] = 0.5 * (i + j) + 1;
        i = j + 1;
    }
    free(t);
    return MC_OK;
}

typedef struct cp_state {
    const mc_cp_cfg *cfg;
    double *ranks, *shuffled, *prefix;
    uint64_t rng;
    int *idx, cap, count;
} cp_state;

static void add_point(cp_state *cs, int at)
{
    if (cs->count < cs->cap)
        cs->idx[cs->count] = at;
    cs->count++;
}

/* Permutation p-value of the observed scan statistic; stops early once the exceedances alone
 * rule out p < alpha (no need to draw the rest). */
static double scan_p_value(cp_state *cs, int n, double observed)
{
    int at_least = 0, draws = 0, unused_i = 0, unused_j = 0;
    int give_up = (int)ceil(cs->cfg->alpha * (cs->cfg->permutations + 1));
    memcpy(cs->shuffled, cs->ranks, (size_t)n * sizeof *cs->shuffled);
    for (; draws < cs->cfg->permutations && at_least < give_up; draws++) {
        for (int i = n - 1; i > 0; i--) {
            int j = (int)(splitmix64(&cs->rng) % (uint64_t)(i + 1));
            double t = cs->shuffled[i];
            cs->shuffled[i] = cs->shuffled[j];
            cs->shuffled[j] = t;
        }
        prefix_sums(cs->shuffled, n, cs->prefix);
        at_least += rank_scan(cs->prefix, n, cs->cfg->min_segment, &unused_i, &unused_j) >= observed - 1e-9;
    }
    if (at_least >= give_up)
        return 1; /* not significant; the exact value does not matter */
    return (1.0 + at_least) / (1.0 + draws);
}

static mc_status segment(cp_state *cs, const double *x, int lo, int hi, mc_err *err)
{
    int n = hi - lo, i = 0, j = 0;
    if (n < 2 * cs->cfg->min_segment)
        return MC_OK;
    mc_status st = midranks(x + lo, n, cs->ranks, err);
    if (st)
        return st;
    prefix_sums(cs->ranks, n, cs->prefix);
    double observed = rank_scan(cs->prefix, n, cs->cfg->min_segment, &i, &j);
    if (observed <= 0 || scan_p_value(cs, n, observed) >= cs->cfg->alpha)
        return MC_OK; /* flat, or no evidence of a change */
    /* the segment [i, j) differs from the rest: its ends that are not series ends are changes */
    int cuts[2], n_cuts = 0;
    if (i > 0)
        cuts[n_cuts++] = lo + i;
    if (j < n)
        cuts[n_cuts++] = lo + j;
    int from = lo;
    for (int c = 0; c < n_cuts && !st; c++) {
        st = segment(cs, x, from, cuts[c], err);
        add_point(cs, cuts[c]);
        from = cuts[c];
    }
    if (!st)
        st = segment(cs, x, from, hi, err);
    return st;
}

mc_status mc_change_points(const double *x, int n, const mc_cp_cfg *cfg, int *idx, int cap, int *count,
                           mc_err *err)
{
    mc_cp_cfg def = mc_cp_defaults();
    if (!cfg)
        cfg = &def;
    *count = 0;
    if (cfg->min_segment < 2 || cfg->permutations < 1 || !(cfg->alpha > 0))
        return mc_err_set(err, MC_ERR_CONFIG, "change points: min_segment >= 2, permutations >= 1, alpha > 0");
    if (n < 2 * cfg->min_segment)
        return MC_OK;
    cp_state cs = {.cfg = cfg, .rng = cfg->seed, .idx = idx, .cap = cap};
    cs.ranks = malloc((size_t)n * sizeof *cs.ranks);
    cs.shuffled = malloc((size_t)n * sizeof *cs.shuffled);
    cs.prefix = malloc((size_t)(n + 1) * sizeof *cs.prefix);
    mc_status st = MC_OK;
    if (!cs.ranks || !cs.shuffled || !cs.prefix)
        st = mc_err_set(err, MC_ERR_NOMEM, "no memory for a series of %d points", n);
    if (!st)
        st = segment(&cs, x, 0, n, err);
    *count = cs.count < cap ? cs.count : cap;
    free(cs.ranks);
    free(cs.shuffled);
    free(cs.prefix);
    return st;
}
