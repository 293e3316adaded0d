/* reports/report_int.h: the report's internal model (what report_load.c reads from the store)
 * and the section writers that turn it into HTML.
 * SPDX-License-Identifier: MIT */
#ifndef MC_REPORT_INT_H
#define MC_REPORT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "db/store.h"
#include "harness/compare.h"
#include "harness/result.h"
#include "report.h"

/* Limits that keep a page over a big database small enough to attach; what is left out is
 * counted and said on the page. */
#define RP_MAX_FAILURE_ROWS 200      /* failure rows shown */
#define RP_MAX_CHANGE_ROWS 200       /* slower/faster rows shown (largest first) */
#define RP_MAX_AMBIGUOUS_ROWS 50     /* ambiguous rows shown */
#define RP_MAX_HISTORY_CHARTS 40     /* variants with a history chart */
#define RP_MAX_ROOFLINE_POINTS 2500  /* points on the roofline */
#define RP_MAX_LAYOUT_NAMES 32

/* A case's flat params object, parsed: {"dtype":"f16","m":5,...}. */
#define RP_MAX_PARAMS 32
typedef struct rp_param {
    char name[32];
    char text[64];  /* the value as written (strings without quotes) */
    bool is_num;
    double num;
} rp_param;

typedef struct rp_params {
    rp_param p[RP_MAX_PARAMS];
    int n;
} rp_params;

void rp_params_parse(const char *json, rp_params *out);
const rp_param *rp_param_find(const rp_params *ps, const char *name);

typedef struct rp_failure {
    char *key;                          /* owned */
    char op[32], backend[16], variant[64];
    mc_result res;
} rp_failure;

/* One (case, variant) compared between the base and the candidate. */
typedef struct rp_change {
    char *key, *params;                 /* owned */
    char op[32], backend[16], variant[64];
    char base_hash[MC_HASH_LEN], cand_hash[MC_HASH_LEN];
    double ratio, lo, hi;               /* lo 0 / hi +inf when unbounded */
    double p, q, threshold;
    bool bounded, same_code;
    mc_verdict verdict;
    char label[24];
} rp_change;

/* Coverage counts of one (op, variant, dtype, layout, align). */
typedef struct rp_cov {
    char op[32], backend[16], variant[64];
    char dtype[24], layout[96], align[16];
    unsigned layout_bits;               /* the layout names (rp_report.layouts) the cases use */
    int pass, fail, skip;
} rp_cov;

/* A variant whose probe says it can run here but that ran zero cases (a coverage failure): it
 * belongs to no case, so it shows in its op's coverage table instead of in a cell. */
typedef struct rp_gated {
    char op[32], backend[16], variant[64];
    char message[256];
} rp_gated;

/* A timed result of the candidate run. */
typedef struct rp_timed {
    char *key, *params;                 /* owned */
    char op[32], backend[16], variant[64];
    double median_ns, gflops, gbs;
} rp_timed;

/* One variant's history: per commit the geometric mean over its cases of (median time / that
 * case's median over the commits shown), and the same for median -+ MAD. */
typedef struct rp_history {
    char op[32], backend[16], variant[64];
    int n_cases;
    double *y, *lo, *hi;                /* per commit; NaN where the variant has no timing */
    bool *code_changed;                 /* per commit: the code hash differs from the previous point */
    int cps[16];                        /* commit indices where a new segment starts */
    double cp_ratio[16];                /* level after / level before, per change point */
    int n_cps;
} rp_history;

typedef struct rp_report {
    mc_report_opts opts;
    mc_run_record cand, base;
    bool have_base;
    mc_machine machine;
    bool have_machine;
    int mut_caught, mut_total;
    bool have_mut;

    char selection[1024];               /* the run's case-selection options (--tier, --cases, ...),
                                           shell-quoted, for reproducer lines */
    int kind_count[MC_RESULT_COUNT];
    int n_results;
    rp_failure *failures;               /* the first RP_MAX_FAILURE_ROWS by kind order */
    int n_failures, cap_failures, n_failures_total;

    rp_change *changes;                 /* every compared item */
    int n_changes, cap_changes;
    bool verdicts_stored;
    bool same_machine;                  /* base and candidate share the fingerprint */
    char compare_note[256];             /* why nothing was compared, or "" */
    mc_compare_group *groups;
    int n_groups;

    rp_cov *cov;
    int n_cov, cap_cov;
    char layouts[RP_MAX_LAYOUT_NAMES][24];
    int n_layouts;
    rp_gated *gated;
    int n_gated, cap_gated;

    rp_timed *timed;
    int n_timed, cap_timed;

    char (*commits)[MC_SHA_LEN];        /* history commits, oldest first */
    int n_commits;
    int cand_commit;                    /* index of the candidate's commit, -1 if none */
    rp_history *hist;
    int n_hist;
    int history_runs;                   /* runs the history read */

    double read_gbs, copy_gbs;          /* 0 when unknown */
    double peak_gflops;                 /* compute roof, 0 when unknown */
    char peak_gflops_source[160];
    bool peaks_measured;
} rp_report;

/* report_load.c */
mc_status rp_load(mc_store *s, const mc_report_opts *opts, rp_report *r, mc_err *err);
void rp_free(rp_report *r);
/* Grows *items to hold need elements of size elem; false when out of memory. */
bool rp_grow(void **items, int *cap, int need, size_t elem);
char *rp_strdup(const char *s);
/* Copies src, cut at cap - 1 bytes. */
void rp_copy(char *dst, size_t cap, const char *src);
/* qsort for the report's lists, which may be empty with a NULL array: qsort(NULL, 0, ...) is
 * undefined (UBSan stops it), so every sort of the report goes through here. */
void rp_sort(void *items, int n, size_t elem, int (*cmp)(const void *, const void *));

/* report_history.c: fills r->commits, r->hist (sorted: largest step first) and r->history_runs. */
mc_status rp_load_history(mc_store *s, rp_report *r, mc_err *err);

/* report_page.c: banner, failures, changes, coverage. */
void rp_write_banner(FILE *out, const rp_report *r);
void rp_write_failures(FILE *out, const rp_report *r);
void rp_write_changes(FILE *out, const rp_report *r);
void rp_write_coverage(FILE *out, const rp_report *r);
/* The verdict word of the whole page: "failed", "regressed", "nothing ran", "passed". */
const char *rp_overall(const rp_report *r);

/* report_charts.c: history, variant sweeps, roofline. Each returns what it drew. */
int rp_write_history(FILE *out, const rp_report *r);
int rp_write_sweeps(FILE *out, const rp_report *r);
int rp_write_roofline(FILE *out, const rp_report *r);

/* report_style.c: the page's CSS and its optional script (sorting and filtering only). */
extern const char rp_css[];
extern const char rp_script[];

#endif
