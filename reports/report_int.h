/* reports/report_int.h: the report's internal model (what report_load.c reads from the store)
 * and the section writers that turn it into HTML.
 * SPDX-License-Identifier: MIT */
#ifndef MC_REPORT_INT_H
#define MC_REPORT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/json.h"
#include "db/store.h"
#include "stats/compare.h"
#include "core/result.h"
#include "report.h"

/* Limits that keep a page over a big database small enough to attach; what is left out is
 * counted and said on the page. */
#define RP_MAX_FAILURE_ROWS 200      /* failure rows shown */
#define RP_MAX_CHANGE_ROWS 200       /* slower/faster rows shown (largest first) */
#define RP_MAX_AMBIGUOUS_ROWS 50     /* ambiguous rows shown, and as many "same" rows */
#define RP_MAX_HISTORY_CHARTS 40     /* variants with a history chart */
#define RP_MAX_ROOFLINE_POINTS 2500  /* points on the roofline */
#define RP_MAX_LAYOUT_NAMES 32
#define RP_MAX_NOBASE_ROWS 200       /* "no baseline" rows shown */
#define RP_MAX_PARTS 32              /* runs of one logical run (shards) read; more are left out */
#define RP_MAX_OUTPUT 4096           /* bytes of a failure's captured output shown (its tail) */

/* The timing environment's limits (report_env.c). A load average above the logical CPUs plus a
 * quarter of them plus one means threads waited for a CPU while timed (the run's own worker
 * accounts for up to one per CPU); clocks of one run further apart than 10% mean throttling or
 * power saving moved the timings (turbo steps stay within it). */
#define RP_LOAD_PER_CPU 1.25
#define RP_LOAD_SLACK 1.0
#define RP_CLOCK_SPREAD 0.10

/* Logical runs (report_runs.c). */
typedef struct rp_run_tag {
    uint64_t commit, tier;          /* equal values: the same commit, the same tier */
    int shard_index, shard_count;   /* shard_count 0: not a shard */
} rp_run_tag;

typedef struct rp_run_set {
    int64_t id[RP_MAX_PARTS];       /* oldest first */
    char shard[RP_MAX_PARTS][16];   /* "I/N", or "" for a run that is not a shard */
    int n;
} rp_run_set;

/* A case's flat params object, parsed: {"dtype":"f16","m":5,...}. */
#define RP_MAX_PARAMS MC_JSON_MAX_PARAMS
typedef mc_json_param rp_param;
typedef mc_json_params rp_params;

void rp_params_parse(const char *json, rp_params *out);
const rp_param *rp_param_find(const rp_params *ps, const char *name);

typedef struct rp_failure {
    char *key;                          /* owned */
    char op[32], backend[16], variant[64];
    mc_result res;
    int64_t run_id, case_id, variant_id;
    char *output;                       /* owned: the captured output's tail; NULL when none is stored */
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

/* How a compared item ranks on the page: real regressions first (changed code, slower), then
 * improvements, then what the environment did to unchanged code, then what cannot be told, then
 * no change. */
typedef enum rp_class {
    RP_CLASS_REGRESSION,
    RP_CLASS_IMPROVEMENT,
    RP_CLASS_NOISE,
    RP_CLASS_AMBIGUOUS,
    RP_CLASS_SAME,
    RP_CLASS_COUNT
} rp_class;

rp_class rp_change_class(const rp_change *c);

/* A (case, variant) the candidate timed that the base did not: not compared, never "same". */
typedef struct rp_pair {
    char *key;                          /* owned */
    char op[32], backend[16], variant[64];
} rp_pair;

/* The timing environment of a logical run, from its timings' load averages and clocks. */
typedef struct rp_env {
    int n_timings;
    int n_loaded;                       /* timings taken under a load above the limit */
    double max_load, load_limit;
    double min_mhz, max_mhz;            /* 0 when the clock is unknown */
    int cores;
    bool loaded, clock_varied;          /* the two warnings */
} rp_env;

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

/* A row of scripts/kernel-coverage's TSV: the gate or one CPU variant. */
typedef struct rp_kcov_row {
    char *variant, *status;
    int lines, reached, arcs, arcs_taken;
    char *unreached, *not_taken;        /* "file:line" words, blank-separated */
} rp_kcov_row;

/* A timed result of the candidate run. */
typedef struct rp_timed {
    char *key, *params;                 /* owned */
    char op[32], backend[16], variant[64];
    double median_ns, gflops, gbs;
    double roof_gbs;                    /* the memory roof at its size (stats/peaks_at.c), 0 when none is stored */
} rp_timed;

/* One variant's history. Each logical run's level is the geometric mean over its cases of (median
 * time / that case's median over the commits shown); a commit's point is the median of its runs'
 * levels (so one outlier run cannot move it), and the same for median -+ MAD. */
typedef struct rp_history {
    char op[32], backend[16], variant[64];
    int n_cases;
    double *y, *lo, *hi;                /* per commit; NaN where the variant has no timing */
    double *dot_y;                      /* per logical run: its level */
    int *dot_commit;                    /* per logical run: its commit index */
    int n_dots;
    bool *code_changed;                 /* per commit: the code hash differs from the previous point */
    int cps[16];                        /* commit indices where a new segment starts */
    double cp_ratio[16];                /* level after / level before, per change point */
    int n_cps;
} rp_history;

typedef struct rp_report {
    mc_report_opts opts;
    mc_run_record cand, base;           /* the runs asked for; counts summed and status the worst over
                                           the parts of their logical runs */
    rp_run_set cand_set, base_set;      /* the parts: a run and the shards merged with it */
    bool have_base;
    mc_machine machine;
    bool have_machine;
    int mut_caught, mut_total;
    bool have_mut;

    char selection[1024];               /* the run's case-selection options (--tier, --cases, ...),
                                           shell-quoted, for reproducer lines */
    uint64_t seed;                      /* the run's seed: reproducers re-run with the same inputs */
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
    rp_pair *nobase;                    /* timed by the candidate, not by the base */
    int n_nobase, cap_nobase;
    bool nobase_checked;                /* the base's timings were read (a comparison was possible) */
    rp_env cand_env, base_env;
    bool have_output;                   /* the store keeps failures' captured output */
    rp_kcov_row *kcov;                  /* --kernel-coverage: the gate, then a row a variant */
    int n_kcov, cap_kcov;
    bool have_kcov;

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
/* Orders (case key, backend, variant) triples as the store does. */
/* The caller's record of a variant by name (opts.variants), or NULL when the binary does not know it. */
const mc_report_variant *rp_find_variant(const rp_report *r, const char *name);
int rp_pair_cmp(const char *key_a, const char *backend_a, const char *variant_a, const char *key_b,
                const char *backend_b, const char *variant_b);
/* qsort for the report's lists, which may be empty with a NULL array: qsort(NULL, 0, ...) is
 * undefined (UBSan stops it), so every sort of the report goes through here. */
void rp_sort(void *items, int n, size_t elem, int (*cmp)(const void *, const void *));

/* report_kcov.c: the kernel-coverage section, from scripts/kernel-coverage's TSV. */
mc_status rp_load_kernel_coverage(const char *path, rp_report *r, mc_err *err);
void rp_kcov_row_free(rp_kcov_row *row);
void rp_write_kernel_coverage(FILE *out, const rp_report *r);

/* report_history.c: fills r->commits, r->hist (sorted: largest step first) and r->history_runs. */
mc_status rp_load_history(mc_store *s, rp_report *r, mc_err *err);

/* report_runs.c: logical runs. */
bool rp_shard_parse(const char *shard, int *index, int *count);
/* Gives each run (tags in start order) its logical run, numbered 0, 1, ... by first run; returns
 * the number of logical runs. */
int rp_group_runs(const rp_run_tag *tags, int n, int *group);
/* The parts of run_id's logical run. */
mc_status rp_logical_run(mc_store *s, int64_t run_id, rp_run_set *out, mc_err *err);
/* group[k]: the logical run of history run k (run_ids[k] of commit index run_commit[k]). */
mc_status rp_history_groups(mc_store *s, const rp_report *r, const int64_t *run_ids, const int *run_commit, int n,
                            int *group, mc_err *err);

/* report_baseline.c: the candidate's timed pairs without a base timing (after the changes). */
mc_status rp_load_no_baseline(mc_store *s, rp_report *r, mc_err *err);
void rp_write_no_baseline(FILE *out, const rp_report *r);

/* report_env.c: load average and clock of both runs' timings, and the warning they call for. */
mc_status rp_load_env(mc_store *s, rp_report *r, mc_err *err);
bool rp_env_warns(const rp_env *e);
void rp_write_env_warning(FILE *out, const rp_report *r);

/* report_page.c: banner, failures, coverage. */
void rp_write_banner(FILE *out, const rp_report *r);
void rp_write_failures(FILE *out, const rp_report *r);
void rp_write_coverage(FILE *out, const rp_report *r);
/* report_changes.c: regressions first, improvements, noise, ambiguous, same; the groups. */
void rp_write_changes(FILE *out, const rp_report *r);
int rp_count_verdict(const rp_report *r, mc_verdict v);
int rp_count_class(const rp_report *r, rp_class cls);
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
