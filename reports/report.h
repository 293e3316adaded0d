/* reports/report.h: the HTML regression report: one self-contained page (inline CSS and SVG, no
 * external assets) built from the results store for a candidate run and, optionally, a base run.
 * SPDX-License-Identifier: MIT */
#ifndef MC_REPORT_H
#define MC_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "db/store.h"
#include "stats/compare.h"
#include "core/op.h"
#include "core/status.h"

/* A variant this binary has, as the report needs it (the caller fills these from the registry:
 * the report reads no registry): the coverage matrix lists the visible ones that never ran, a
 * coverage failure names the variant's own op, and a hidden one's reproducer adds --include-hidden. */
typedef struct mc_report_variant {
    const char *backend, *name;
    mc_op_id op;
    bool hidden;        /* test-only or mutant: runs only with --include-hidden */
    const char *plugin; /* the plugin's path when a plugin registered it, else NULL */
} mc_report_variant;

typedef struct mc_report_opts {
    int64_t cand_run;       /* the run the page is about */
    int64_t base_run;       /* the run it is compared with; 0: none */
    const char *out_path;   /* written atomically (a temporary file renamed into place) */
    int history_runs;       /* newest timed runs of the machine the history reads (0: 100) */
    mc_compare_cfg compare; /* when the store holds no verdicts for (base, cand); zero: defaults */
    bool measure_peaks;     /* measure and store the machine's bandwidth when the store lacks it and
                               this process runs on that machine (a second or two) */
    const char *kernel_coverage; /* scripts/kernel-coverage's TSV for the kernel-coverage section; NULL: none */
    const mc_report_variant *variants; /* the binary's variants; NULL: only what the store holds */
    int n_variants;
} mc_report_opts;

/* What a written report holds, for the caller's summary line and for tests. */
typedef struct mc_report_stats {
    long bytes;             /* size of the HTML file */
    int n_results, n_failures;
    int n_compared, n_slower, n_faster, n_regressions;
    int n_no_baseline;      /* timed pairs of the candidate with no verdict and no base timing */
    bool timings_unreliable; /* a load or clock warning for the candidate's or the base's timings */
    int n_cand_runs, n_base_runs; /* stored runs read as one (a run and the shards merged with it) */
    bool verdicts_stored;   /* false: computed by the report from the two runs' samples */
    int n_history_series, n_history_commits;
    int n_sweeps, n_roofline_points;
    bool peaks_measured;    /* measured (and stored) by this call */
    double seconds;         /* wall time to build and write the page */
} mc_report_stats;

/* Writes the report. stats may be NULL. */
mc_status mc_report_write_opts(mc_store *s, const mc_report_opts *opts, mc_report_stats *stats, mc_err *err);

/* The call for `check`: defaults, measure_peaks on, the binary's variants as given. base_run 0: no
 * comparison. stats may be NULL. */
mc_status mc_report_write(mc_store *s, int64_t base_run, int64_t cand_run, const char *out_path,
                          const mc_report_variant *variants, int n_variants, mc_report_stats *stats, mc_err *err);

/* The runs that make up run_id's logical run, oldest first: the run itself and, when it ran as a
 * shard (--shard I/N), the other shards of the same commit, tier and machine that complete it
 * (reports/report_runs.c says how repeated sharded runs are told apart). At most cap ids. */
mc_status mc_report_logical_run(mc_store *s, int64_t run_id, int64_t *ids, int cap, int *count, mc_err *err);

#endif
