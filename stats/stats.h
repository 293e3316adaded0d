/* stats/stats.h: robust statistics for timings: medians and quantiles, distribution-free
 * confidence intervals, Mann-Whitney U, Hodges-Lehmann shifts, FDR q-values and change points.
 * SPDX-License-Identifier: MIT */
#ifndef MC_STATS_H
#define MC_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"

/* Sorts x ascending in place (NaNs are not allowed: callers filter them). */
void mc_stats_sort(double *x, int n);
/* Quantile p in [0, 1] of sorted data, Hyndman-Fan type 7 (R's default: linear between order
 * statistics). n >= 1. */
double mc_stats_quantile_sorted(const double *s, int n, double p);
/* Median of sorted data (mean of the middle two for even n). n >= 1. */
double mc_stats_median_sorted(const double *s, int n);

/* Summary of one sample. MAD is the raw median absolute deviation from the median (not scaled
 * by 1.4826), in the data's units. */
typedef struct mc_summary {
    int n;
    double min, q1, median, q3, max;
    double mean;
    double mad;
} mc_summary;

mc_status mc_stats_summary(const double *x, int n, mc_summary *out, mc_err *err);

/* A two-sided interval and the confidence it really has (distribution-free intervals can only
 * take discrete levels, at or above the level asked for). */
typedef struct mc_interval {
    double lo, hi;
    double level; /* achieved confidence, e.g. 0.9785 for a 95% request with n = 10 */
    bool bounded; /* false when n is too small for any interval at that level: lo = -inf, hi = +inf */
} mc_interval;

/* The rank k (1-based) of the order-statistic interval [x(k), x(n+1-k)] for the median with at
 * least `conf` coverage (sign-test inversion: the largest k with P(Bin(n, 1/2) <= k-1) <= (1-conf)/2).
 * Returns 0 when no such k exists (n too small). */
int mc_stats_median_ci_rank(int n, double conf);
/* Distribution-free CI of the median of sorted data. */
void mc_stats_median_ci_sorted(const double *s, int n, double conf, mc_interval *out);
/* The same for unsorted data (copies it). */
mc_status mc_stats_median_ci(const double *x, int n, double conf, mc_interval *out, mc_err *err);

/* Standard normal CDF and its inverse (p in (0, 1)). */
double mc_normal_cdf(double z);
double mc_normal_quantile(double p);
/* P(Bin(n, 1/2) <= k), exact. */
double mc_binom_half_cdf(int n, int k);

/* Mann-Whitney U test of x against y, two-sided. */
typedef struct mc_mw {
    double u;      /* U of x: pairs with x > y, plus half the ties (R's W) */
    double z;      /* normal score of u (with continuity and tie correction), 0 when exact */
    double p;      /* two-sided p-value */
    bool exact;    /* exact null distribution (no ties and both samples under MC_MW_EXACT_MAX) */
    bool ties;     /* some value occurs in both or within one sample */
} mc_mw;

/* Sizes below which the exact distribution is used when there are no ties (as R does). */
#define MC_MW_EXACT_MAX 50

mc_status mc_mann_whitney(const double *x, int nx, const double *y, int ny, mc_mw *out, mc_err *err);

/* Hodges-Lehmann shift of x relative to y: the median of all x_i - y_j, with Moses'
 * distribution-free CI from the same differences. */
typedef struct mc_shift {
    double estimate;
    mc_interval ci;
} mc_shift;

mc_status mc_hodges_lehmann(const double *x, int nx, const double *y, int ny, double conf, mc_shift *out,
                            mc_err *err);

/* Paired comparison: the median of log(cand_i / base_i) with its order-statistic CI, and the
 * exact two-sided sign-test p-value of "median log-ratio = 0" (zero differences dropped). */
typedef struct mc_paired {
    int n;
    double median_log_ratio;
    mc_interval ci; /* of the median log-ratio */
    double p;
} mc_paired;

mc_status mc_paired_log_ratio(const double *base, const double *cand, int n, double conf, mc_paired *out,
                              mc_err *err);

/* Benjamini-Hochberg (1995) adjusted p-values: q_(i) = min over j >= i of min(1, m p_(j) / j).
 * Rejecting every hypothesis with q <= alpha controls the false discovery rate at alpha. */
mc_status mc_bh_qvalues(const double *p, int n, double *q /* out, n */, mc_err *err);

/* Change points of a series by circular binary segmentation on ranks: the segment that differs
 * most from the rest (standardised rank-sum difference, a Mann-Whitney scan over all segments) is
 * kept when a permutation test says p < alpha; its inner ends become change points, and every
 * piece is searched again. Rank-based, so a single outlier cannot make a change. O(n^2) per
 * permutation: meant for histories of hundreds of commits, not millions of points. */
typedef struct mc_cp_cfg {
    int min_segment;  /* fewest points on either side of a change (>= 2) */
    double alpha;     /* per-split significance level */
    int permutations; /* permutation draws per split test */
    uint64_t seed;    /* the permutations are pseudo-random but reproducible */
} mc_cp_cfg;

/* Defaults: min_segment 3, alpha 0.01, 999 permutations, seed 1. */
mc_cp_cfg mc_cp_defaults(void);

/* Writes the indices where a new segment starts (ascending) to idx (at most cap of them). */
mc_status mc_change_points(const double *x, int n, const mc_cp_cfg *cfg, int *idx, int cap, int *count,
                           mc_err *err);

#endif
