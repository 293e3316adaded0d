/* stats/compare.h: regression verdicts between two sets of timings: per (case, variant) a
 * ratio with its CI, a p-value, Benjamini-Hochberg q-values across cases, a verdict, a label, and
 * regressions grouped by the parameters they share.
 * SPDX-License-Identifier: MIT */
#ifndef MC_COMPARE_H
#define MC_COMPARE_H

#include <stdbool.h>

#include "core/status.h"

typedef struct mc_compare_cfg {
    double threshold; /* relative change that matters (0.03 = 3%) */
    double fdr;       /* Benjamini-Hochberg level for slower/faster (0.05) */
    double conf;      /* confidence of each ratio's CI (0.95) */
} mc_compare_cfg;

mc_compare_cfg mc_compare_defaults(void);

typedef enum mc_verdict {
    MC_VERDICT_SAME,      /* the whole CI lies within +-threshold */
    MC_VERDICT_FASTER,    /* the whole CI lies below -threshold and q < fdr */
    MC_VERDICT_SLOWER,    /* the whole CI lies above +threshold and q < fdr */
    MC_VERDICT_AMBIGUOUS, /* anything else: the data cannot tell */
    MC_VERDICT_COUNT
} mc_verdict;

const char *mc_verdict_name(mc_verdict v);

/* Labels: a changed-code slower verdict is a regression; any slower or faster verdict on
 * byte-identical code is noise or the environment, never that commit's doing. */
#define MC_LABEL_REGRESSION "regression"
#define MC_LABEL_IMPROVEMENT "improvement"
#define MC_LABEL_NOISE "noise/environment"
#define MC_LABEL_INVALID "invalid timing" /* a side without samples, or a sample <= 0 or not finite */

typedef struct mc_compare_item {
    /* in */
    const char *case_key, *op, *params_json; /* params: the flat JSON object the store keeps */
    const char *backend, *variant;
    const char *base_hash, *cand_hash;       /* code hashes ("unhashable" never counts as equal) */
    const double *base, *cand;               /* ns per call */
    int n_base, n_cand;
    bool paired;                             /* base[i] and cand[i] were measured as a pair (ABBA) */
    /* out */
    double ratio;        /* candidate time / base time: exp(Hodges-Lehmann shift of the log-times),
                            or exp(median paired log-ratio) */
    double ci_lo, ci_hi; /* of the ratio; 0 and +inf when too few samples for any interval */
    bool ci_bounded;
    double p;            /* Mann-Whitney (independent) or sign test (paired), two-sided */
    double q;            /* Benjamini-Hochberg over all items */
    mc_verdict verdict;
    bool same_code;
    const char *label;   /* MC_LABEL_* or "" */
} mc_compare_item;

/* Fills the outputs of every item. An item without usable samples on a side (none, or one <= 0
 * or not finite) is ambiguous with ratio NaN and label MC_LABEL_INVALID: it cannot sink the rest. */
mc_status mc_compare_items(const mc_compare_cfg *cfg, mc_compare_item *items, int n, mc_err *err);

/* True when any item is labelled a regression (the compare command then exits 3). */
bool mc_compare_any_regression(const mc_compare_item *items, int n);

/* Regressions of one (op, backend, variant), described by the parameters they share. */
typedef struct mc_compare_group {
    char op[32], backend[16], variant[64];
    int n_regressed;  /* regressions in this group */
    int n_compared;   /* items compared in this group */
    bool exact;       /* the description selects exactly the regressed items */
    char description[512]; /* "slower only for dtype=f16, n>=4096" */
} mc_compare_group;

/* *groups is malloc'd (free it); one entry per (op, backend, variant) with a regression. */
mc_status mc_compare_group_regressions(const mc_compare_item *items, int n, mc_compare_group **groups,
                                       int *count, mc_err *err);

#endif
