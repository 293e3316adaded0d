/* tests/test_stats.c: the statistics behind timing and regression verdicts.
 * Focus: every statistic is pinned to a published or hand-derived value (source cited at each
 * table), and the edge cases (short samples, ties, equal values) stay honest.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "stats/stats.h"

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void assert_close(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("got %.12g, want %.12g (tolerance %g)", got, want, tol);
}

/* Hand-computed: type-7 quantiles of {1,2,3,4}: h = 3p, linear between neighbours. */
static void test_quantiles_and_summary(void **state)
{
    (void)state;
    static const double s[] = {1, 2, 3, 4};
    static const struct {
        double p, want;
    } rows[] = {{0, 1}, {0.25, 1.75}, {0.5, 2.5}, {0.75, 3.25}, {1, 4}, {1.0 / 3, 2}};
    for (int i = 0; i < N_OF(rows); i++)
        assert_close(mc_stats_quantile_sorted(s, 4, rows[i].p), rows[i].want, 1e-15);
    assert_close(mc_stats_median_sorted(s, 3), 2, 0);

    /* {5,1,100,3,2}: median 3; |x - 3| = {2,2,97,0,1}, whose median (the MAD) is 2. */
    static const double x[] = {5, 1, 100, 3, 2};
    mc_summary sum;
    mc_err err = {0};
    assert_int_equal(mc_stats_summary(x, 5, &sum, &err), MC_OK);
    assert_close(sum.median, 3, 0);
    assert_close(sum.mad, 2, 0);
    assert_close(sum.min, 1, 0);
    assert_close(sum.max, 100, 0);
    assert_close(sum.mean, 22.2, 1e-12);
}

/* Published: z(0.975) = 1.959963984540054, z(0.95) = 1.6448536269514722, z(0.5) = 0 (any table of
 * the standard normal, e.g. Abramowitz & Stegun 26.2); the inverse must round-trip. */
static void test_normal(void **state)
{
    (void)state;
    assert_close(mc_normal_quantile(0.975), 1.959963984540054, 1e-13);
    assert_close(mc_normal_quantile(0.95), 1.6448536269514722, 1e-13);
    assert_close(mc_normal_quantile(0.5), 0, 1e-15);
    assert_close(mc_normal_quantile(0.025), -1.959963984540054, 1e-13);
    static const double ps[] = {1e-10, 0.001, 0.02, 0.3, 0.7, 0.99, 1 - 1e-9};
    for (int i = 0; i < N_OF(ps); i++)
        assert_close(mc_normal_cdf(mc_normal_quantile(ps[i])), ps[i], ps[i] * 1e-12 + 1e-15);
}

/* Hand-computed binomial tails: P(Bin(10,1/2) <= 1) = 11/1024, <= 2 is 56/1024.
 * The sign-test interval for the median with n = 10 is therefore (x(2), x(9)) at confidence
 * 1 - 2 * 11/1024 = 0.978515625 (the classic 97.9% interval, e.g. Conover, Practical
 * Nonparametric Statistics, sect. 3.6). n = 5 cannot reach 95%: 1 - 2/32 = 0.9375. */
static void test_median_ci(void **state)
{
    (void)state;
    assert_close(mc_binom_half_cdf(10, 1), 11.0 / 1024, 1e-15);
    assert_close(mc_binom_half_cdf(10, 2), 56.0 / 1024, 1e-15);
    /* symmetry: a half, plus half the mode C(3000,1500) / 2^3000 */
    assert_close(mc_binom_half_cdf(3000, 1500), 0.5 + 0.5 * 0.01456609851579575, 1e-12);
    static const struct {
        int n, k;
    } ranks[] = {{5, 0}, {6, 1}, {10, 2}, {20, 6}, {100, 40}};
    /* n=6: 1/64 <= .025; n=20: P(B<=5) = 0.0207 <= .025 < P(B<=6) = 0.0577; n=100: P(B<=39) = 0.0176,
     * P(B<=40) = 0.0284 (hand-computed with the exact binomial) */
    for (int i = 0; i < N_OF(ranks); i++)
        assert_int_equal(mc_stats_median_ci_rank(ranks[i].n, 0.95), ranks[i].k);

    static const double x[] = {9, 3, 7, 1, 5, 10, 2, 8, 4, 6};
    mc_interval ci;
    mc_err err = {0};
    assert_int_equal(mc_stats_median_ci(x, 10, 0.95, &ci, &err), MC_OK);
    assert_true(ci.bounded);
    assert_close(ci.lo, 2, 0);
    assert_close(ci.hi, 9, 0);
    assert_close(ci.level, 0.978515625, 1e-15);
    assert_int_equal(mc_stats_median_ci(x, 5, 0.95, &ci, &err), MC_OK);
    assert_false(ci.bounded);
    assert_true(isinf(ci.lo) && ci.lo < 0 && isinf(ci.hi) && ci.hi > 0);
}

/* Published: Hollander & Wolfe (1973), p. 69, permeability constants of the human chorioamnion,
 * the example of R's wilcox.test: at term x (10 values) against 12-26 weeks y (5 values).
 * W = U = 35; exact one-sided p (greater) = 0.1272, so two-sided 0.2544. */
static const double hw_x[] = {0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46};
static const double hw_y[] = {1.15, 0.88, 0.90, 0.74, 1.21};

static void test_mann_whitney_exact(void **state)
{
    (void)state;
    mc_mw mw;
    mc_err err = {0};
    assert_int_equal(mc_mann_whitney(hw_x, 10, hw_y, 5, &mw, &err), MC_OK);
    assert_true(mw.exact);
    assert_false(mw.ties);
    assert_close(mw.u, 35, 0);
    assert_close(mw.p, 0.2544, 5e-5);
    assert_close(mw.p, 2 * 0.1272061272061272, 1e-12); /* 1 - P(U <= 34) = 1274/10015 */

    /* Symmetry: swapping the samples mirrors U and keeps p. */
    mc_mw swapped;
    assert_int_equal(mc_mann_whitney(hw_y, 5, hw_x, 10, &swapped, &err), MC_OK);
    assert_close(swapped.u, 50 - 35, 0);
    assert_close(swapped.p, mw.p, 1e-12);

    /* Published: Wikipedia's tortoise-and-hare race (finishing order T H H H H H T T T T T H):
     * U_T = 11, U_H = 25. Our U counts x > y pairs, i.e. tortoises finishing behind hares. */
    static const double tortoise[] = {1, 7, 8, 9, 10, 11}, hare[] = {2, 3, 4, 5, 6, 12};
    assert_int_equal(mc_mann_whitney(tortoise, 6, hare, 6, &mw, &err), MC_OK);
    assert_close(mw.u, 25, 0);
    assert_close(6 * 6 - mw.u, 11, 0);
    assert_true(mw.p > 0.05); /* the race proves nothing */
}

/* Hand-computed normal approximation with ties: x = {1,2,2,3,5}, y = {2,4,5,5,6,7}.
 * Midranks: 1->1, 2->3 (three of them), 3->5, 4->6, 5->8 (three), 6->10, 7->11.
 * R_x = 1+3+3+5+8 = 20, U = 20 - 15 = 5; ties: 2 * (3^3 - 3) = 48.
 * sigma^2 = 5*6/12 * (12 - 48/(11*10)) = 28.909091, sigma = 5.3767175;
 * z = (5 - 15 + 0.5) / sigma = -1.7668773 (continuity correction); p = 2 * Phi(z) = 0.0772488. */
static void test_mann_whitney_ties(void **state)
{
    (void)state;
    static const double x[] = {1, 2, 2, 3, 5}, y[] = {2, 4, 5, 5, 6, 7};
    mc_mw mw;
    mc_err err = {0};
    assert_int_equal(mc_mann_whitney(x, 5, y, 6, &mw, &err), MC_OK);
    assert_false(mw.exact);
    assert_true(mw.ties);
    assert_close(mw.u, 5, 0);
    assert_close(mw.z, -1.7668772866, 1e-9);
    assert_close(mw.p, 0.0772487817, 1e-9);

    /* all values equal: no evidence at all */
    static const double same[] = {3, 3, 3};
    assert_int_equal(mc_mann_whitney(same, 3, same, 3, &mw, &err), MC_OK);
    assert_close(mw.p, 1, 0);
}

/* Large samples use the normal approximation: a clear shift is significant, none is not. */
static void test_mann_whitney_large(void **state)
{
    (void)state;
    double a[60], b[60];
    for (int i = 0; i < 60; i++) {
        a[i] = 100 + (i * 37 % 60) * 0.01;
        b[i] = 101 + (i * 23 % 60) * 0.01;
    }
    mc_mw mw;
    mc_err err = {0};
    assert_int_equal(mc_mann_whitney(a, 60, b, 60, &mw, &err), MC_OK);
    assert_false(mw.exact);
    assert_close(mw.u, 0, 0);
    assert_true(mw.p < 1e-15);
    assert_int_equal(mc_mann_whitney(a, 60, a, 60, &mw, &err), MC_OK);
    assert_close(mw.p, 1, 1e-12);
}

/* Published: Hollander & Wolfe's estimate for the chorioamnion data, Delta-hat = 0.305 (R:
 * "difference in location 0.305"). Moses' exact 95% interval by R's rule: qu = 9, the smallest u
 * with P(U <= u) >= 0.025, so [D(9), D(42)] of the 50 ordered differences = [-0.15, 0.76] with
 * achieved confidence 1 - 2 P(U <= 8) = 0.96004 (checked by enumerating all C(15,5) = 3003
 * arrangements). */
static void test_hodges_lehmann(void **state)
{
    (void)state;
    mc_shift sh;
    mc_err err = {0};
    assert_int_equal(mc_hodges_lehmann(hw_x, 10, hw_y, 5, 0.95, &sh, &err), MC_OK);
    assert_close(sh.estimate, 0.305, 1e-12);
    assert_true(sh.ci.bounded);
    assert_close(sh.ci.lo, -0.15, 1e-12);
    assert_close(sh.ci.hi, 0.76, 1e-12);
    assert_close(sh.ci.level, 0.96003996, 1e-7);

    /* Too few points for 95%: 2 vs 2 has only C(4,2) = 6 arrangements, P(U = 0) = 1/6. */
    static const double a[] = {1, 2}, b[] = {3, 4};
    assert_int_equal(mc_hodges_lehmann(a, 2, b, 2, 0.95, &sh, &err), MC_OK);
    assert_close(sh.estimate, -2, 0);
    assert_false(sh.ci.bounded);

    /* Pure shift, large samples: the estimate is exactly the shift and the CI contains it. */
    double x[80], y[80];
    for (int i = 0; i < 80; i++) {
        y[i] = (i * 29 % 80) * 0.001;
        x[i] = y[i] + 0.05;
    }
    assert_int_equal(mc_hodges_lehmann(x, 80, y, 80, 0.95, &sh, &err), MC_OK);
    assert_close(sh.estimate, 0.05, 1e-12);
    assert_true(sh.ci.bounded && sh.ci.lo <= 0.05 && sh.ci.hi >= 0.05 && sh.ci.level >= 0.95);
}

/* Hand-computed paired case: every candidate is 10% slower, so the median log-ratio is log 1.1,
 * the CI collapses onto it, and the sign test sees 10 of 10 positive: p = 2 / 1024. */
static void test_paired(void **state)
{
    (void)state;
    double base[10], cand[10];
    for (int i = 0; i < 10; i++) {
        base[i] = 1000 + 10 * i;
        cand[i] = base[i] * 1.1;
    }
    mc_paired pr;
    mc_err err = {0};
    assert_int_equal(mc_paired_log_ratio(base, cand, 10, 0.95, &pr, &err), MC_OK);
    assert_close(pr.median_log_ratio, log(1.1), 1e-12);
    assert_close(pr.ci.lo, log(1.1), 1e-12);
    assert_close(pr.ci.hi, log(1.1), 1e-12);
    assert_close(pr.p, 2.0 / 1024, 1e-15);
    assert_int_equal(mc_paired_log_ratio(base, base, 10, 0.95, &pr, &err), MC_OK);
    assert_close(pr.p, 1, 0);
    base[3] = 0;
    assert_int_not_equal(mc_paired_log_ratio(base, cand, 10, 0.95, &pr, &err), MC_OK);
}

/* Published: Benjamini & Hochberg (1995), J. R. Stat. Soc. B 57(1), sect. 4: the 15 p-values of
 * a myocardial infarction study; at q* = 0.05 the procedure rejects the four smallest (Bonferroni
 * only three). The q-values are hand-computed from q_(i) = min_{j >= i} 15 p_(j) / j. */
static void test_bh(void **state)
{
    (void)state;
    static const double p[] = {0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344,
                               0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0000};
    static const double want[] = {0.0015,   0.003,        0.0095,       0.035625,     0.0603,
                                  0.063857142857142857, 0.063857142857142857, 0.0645, 0.0765,
                                  0.486,    0.58118181818181818, 0.714875, 0.75323076923076923,
                                  0.81321428571428571, 1.0};
    double q[15];
    mc_err err = {0};
    /* feed them shuffled: q-values must follow their p-values, not their positions */
    static const int order[] = {14, 3, 0, 9, 7, 1, 12, 5, 10, 2, 6, 13, 4, 11, 8};
    double shuffled[15];
    for (int i = 0; i < 15; i++)
        shuffled[i] = p[order[i]];
    assert_int_equal(mc_bh_qvalues(shuffled, 15, q, &err), MC_OK);
    int rejected = 0;
    for (int i = 0; i < 15; i++) {
        assert_close(q[i], want[order[i]], 1e-12);
        rejected += q[i] <= 0.05;
    }
    assert_int_equal(rejected, 4);
    double bad = 1.5;
    assert_int_not_equal(mc_bh_qvalues(&bad, 1, q, &err), MC_OK);
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 11;
}

/* Synthetic series: steps are found where they were put; pure noise yields none. */
static void test_change_points(void **state)
{
    (void)state;
    double x[45];
    uint64_t seed = 7;
    for (int i = 0; i < 45; i++) {
        double noise = (double)(lcg(&seed) % 1000) / 1000 * 0.02;
        x[i] = (i >= 15 && i < 30 ? 1.5 : 1.0) + noise;
    }
    int idx[8], count = 0;
    mc_err err = {0};
    mc_cp_cfg cfg = mc_cp_defaults();
    assert_int_equal(mc_change_points(x, 45, &cfg, idx, 8, &count, &err), MC_OK);
    assert_int_equal(count, 2);
    assert_int_equal(idx[0], 15);
    assert_int_equal(idx[1], 30);

    assert_int_equal(mc_change_points(x, 30, &cfg, idx, 8, &count, &err), MC_OK);
    assert_int_equal(count, 1);
    assert_int_equal(idx[0], 15);

    double noise[60];
    for (int i = 0; i < 60; i++)
        noise[i] = 1.0 + (double)(lcg(&seed) % 1000) / 1000 * 0.05;
    assert_int_equal(mc_change_points(noise, 60, &cfg, idx, 8, &count, &err), MC_OK);
    assert_int_equal(count, 0);

    static const double flat[] = {2, 2, 2, 2, 2, 2, 2, 2};
    assert_int_equal(mc_change_points(flat, 8, &cfg, idx, 8, &count, &err), MC_OK);
    assert_int_equal(count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantiles_and_summary),
        cmocka_unit_test(test_normal),
        cmocka_unit_test(test_median_ci),
        cmocka_unit_test(test_mann_whitney_exact),
        cmocka_unit_test(test_mann_whitney_ties),
        cmocka_unit_test(test_mann_whitney_large),
        cmocka_unit_test(test_hodges_lehmann),
        cmocka_unit_test(test_paired),
        cmocka_unit_test(test_bh),
        cmocka_unit_test(test_change_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
