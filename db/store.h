/* db/store.h: the results store (SQLite file, or a PostgreSQL server through libpq): runs, cases,
 * variants, results, timings, verdicts, machine peaks, tuning rows and mutation scores. All SQL of
 * metallic-check lives in db/.
 * SPDX-License-Identifier: MIT */
#ifndef MC_STORE_H
#define MC_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/case.h"
#include "core/result.h"
#include "core/runinfo.h"
#include "core/status.h"
#include "stats/timing.h"

#define MC_STORE_VERSION 4 /* schema version this build writes (SQLite: PRAGMA user_version) */

typedef struct mc_store mc_store;

/* Where the database lives when --db is not given: $MC_DB when set and not empty, else
 * ./metallic-check.db (in the working directory). */
const char *mc_store_default_path(void);

/* true when a --db / MC_DB value names a PostgreSQL server: a postgresql:// or postgres:// URI or
 * a libpq keyword string (host=... dbname=...); anything else is a SQLite file's path. */
bool mc_store_is_server(const char *target);
/* The target as messages show it: a password in it (user:secret@ or password=secret) as ***. */
void mc_store_label(const char *target, char *out, size_t cap);
/* "SQLite" or "PostgreSQL". */
const char *mc_store_engine(const mc_store *s);

/* Opens a store. A PostgreSQL target connects (a bounded number of tries; a password in the
 * target is refused: libpq reads it from PGPASSWORD or the PGPASSFILE / ~/.pgpass file) and
 * creates or migrates the schema under a lock. A SQLite path:
 * opens (creating and migrating as needed) the database at path: WAL journal, foreign keys on,
 * and a busy timeout so that several processes can write to one file at once. A database from a
 * newer metallic-check (higher user_version) is refused. */
mc_status mc_store_open(const char *path, mc_store **out, mc_err *err);
/* For commands that read a database they were given (report, compare, db check): never creates
 * the file and never writes a schema into one that has none (an empty file, another program's:
 * MC_ERR_USAGE). as_is: no journal change and no migration either (db check looks at the file as
 * it is). */
mc_status mc_store_open_existing(const char *path, bool as_is, mc_store **out, mc_err *err);
void mc_store_close(mc_store *s);

/* ---- runs ---- */

/* Records a run in status "incomplete" (and its machine). info->paired_with, when not 0, must
 * name a run of this store. */
mc_status mc_store_begin_run(mc_store *s, const mc_run_info *info, int64_t *run_id, mc_err *err);

/* Final statuses: passed (all passed), failed (a failure, crash or timeout), nothing (zero cases
 * ran), aborted (the run stopped on an error of its own). A run that never ends keeps
 * "incomplete": that is how a killed run shows. */
mc_status mc_store_end_run(mc_store *s, int64_t run_id, const char *status, mc_err *err);

/* One (case, variant) outcome. The case comes from kase (key, op name and a params JSON object
 * holding every parameter, defaults included), or, when kase is NULL, from the three strings. */
typedef struct mc_result_row {
    const mc_case *kase;
    const char *case_key, *op_name, *params_json; /* used when kase is NULL */
    const char *backend;
    const char *variant_name;
    const char *code_hash;      /* mc_variant_code_hash, "unhashable", or "" when unknown */
    const mc_result *res;
    const char *output;         /* the tail of what the worker printed (NULL: nothing) */
    const mc_timing *timing;    /* NULL in correctness runs */
} mc_result_row;

/* Stores n rows in ONE transaction: after a crash either all of them are there or none. A row
 * for a (case, variant) the run already has replaces it. */
mc_status mc_store_add_results(mc_store *s, int64_t run_id, const mc_result_row *rows, int n, mc_err *err);

/* The params JSON the store keeps for a case: {"dtype":"f16","m":5,...} in schema order. */
mc_status mc_store_params_json(const mc_case *c, char *out, size_t cap, mc_err *err);

/* A run as stored. */
typedef struct mc_run_record {
    int64_t id;
    char uuid[33];
    char commit[MC_SHA_LEN];
    char parent[MC_SHA_LEN];
    char branch[128];
    bool dirty;
    char tier[32];
    char mode[16];
    int64_t paired_with;
    char status[16];
    char started_at[MC_TIME_LEN];
    char ended_at[MC_TIME_LEN];
    char fingerprint[MC_HASH_LEN];
    char tool_version[32];
    int n_results;
    int n_timings;
} mc_run_record;

mc_status mc_store_get_run(mc_store *s, int64_t run_id, mc_run_record *out, mc_err *err);

/* The run's selection as stored when it began; for a run recorded before the store kept it
 * (schema version 3), as its command line says (the one place that parses it back). */
mc_status mc_store_get_run_selection(mc_store *s, int64_t run_id, mc_run_selection *out, mc_err *err);

/* Finds a run. commit_prefix: NULL for any commit, else a commit SHA or a prefix of one (an
 * ambiguous prefix is an error). fingerprint: NULL for any machine. Only runs that finished (not
 * "incomplete", not "aborted") count; with_timings keeps runs that hold at least one timing. exclude_id (0 for
 * none) is skipped. The newest match wins (by start time, then id). MC_ERR_CONFIG when none. */
typedef struct mc_run_query {
    const char *commit_prefix;
    const char *fingerprint;
    bool with_timings;
    int64_t exclude_id;
} mc_run_query;
mc_status mc_store_newest_run(mc_store *s, const mc_run_query *q, int64_t *run_id, mc_err *err);

/* Resolves what a user typed for --base/--cand: "run:N" or "#N" or a number under 7 digits is a
 * run id; "latest" is the newest finished run with timings; anything else is a commit (prefix),
 * whose newest finished timed run is taken. fingerprint (may be NULL) restricts to one machine. */
mc_status mc_store_resolve_run(mc_store *s, const char *spec, const char *fingerprint, int64_t *run_id,
                               mc_err *err);

/* How far base_run_id can serve as the baseline of cand_run_id: *timed is the number of cand's
 * timed (case, backend, variant name) pairs, *covered how many of them base timed too. The code
 * hash does not matter: a timing of other code is still the baseline to compare with. */
mc_status mc_store_base_cover(mc_store *s, int64_t base_run_id, int64_t cand_run_id, int *covered, int *timed,
                              mc_err *err);

/* The baseline for cand_run_id among the runs of commit q->commit_prefix (a full SHA, matched
 * exactly; NULL or "": the runs that started before cand_run_id, of any commit, but never another
 * shard of cand's own sharded commit) on machine q->fingerprint (NULL: any): of those that ended
 * passed or failed (never aborted by a setup error, nothing or incomplete) and, with
 * q->with_timings, hold a timing, the one that timed most of cand's timed pairs; among equals, one
 * of cand's own selection (the same stored selection fields), then the newest. So a complete run of the same selection wins over a newer narrowed one (check --op ...),
 * which is taken only when no run covers more; the caller says how many pairs had a baseline
 * (mc_store_base_cover). MC_ERR_CONFIG when there is none. */
mc_status mc_store_best_base(mc_store *s, const mc_run_query *q, int64_t cand_run_id, int64_t *base_run_id,
                             mc_err *err);

/* Newest runs first; *out is malloc'd (free it). fingerprint may be NULL. */
mc_status mc_store_list_runs(mc_store *s, const char *fingerprint, int limit, mc_run_record **out, int *count,
                             mc_err *err);

/* ---- timings ---- */

typedef struct mc_timing_row {
    int64_t case_id, variant_id;
    char case_key[MC_KEY_LEN];
    char op[32];
    char *params_json;          /* owned */
    char backend[16];
    char variant[64];
    char code_hash[MC_HASH_LEN];
    mc_timing timing;           /* samples owned; summary as stored */
} mc_timing_row;

typedef struct mc_timing_set {
    mc_timing_row *rows;        /* sorted by case key, backend, variant */
    int count;
} mc_timing_set;

/* Every timing of a run, with its samples. */
mc_status mc_store_load_timings(mc_store *s, int64_t run_id, mc_timing_set *out, mc_err *err);
void mc_timing_set_free(mc_timing_set *set);

/* Appends more samples (ns per call, in the order taken) to the stored timing of (run, case key,
 * backend, variant name, code hash), after the ones already there, and recomputes the summary:
 * min, median, MAD and the CI of the median (at 95%), GFLOP/s and GB/s at the new median, whether
 * the 1% CI target is now met, the sample-weighted mean CPU clock and the larger load average.
 * The code hash must match: a measurement of other code is not more of the same data. One
 * transaction; MC_ERR_CONFIG when the run has no such timing. */
mc_status mc_store_append_samples(mc_store *s, int64_t run_id, const char *case_key, const char *backend,
                                  const char *variant, const char *code_hash, const mc_timing *more, mc_err *err);

/* One point of a kernel's history: its median time in one finished run on one machine. */
typedef struct mc_history_point {
    int64_t run_id;
    char commit[MC_SHA_LEN];
    char started_at[MC_TIME_LEN];
    double median_ns;
    char code_hash[MC_HASH_LEN];
} mc_history_point;

/* Oldest first; *out is malloc'd. */
mc_status mc_store_history(mc_store *s, const char *case_key, const char *backend, const char *variant,
                           const char *fingerprint, mc_history_point **out, int *count, mc_err *err);

/* ---- verdicts ---- */

typedef struct mc_verdict_row {
    int64_t base_run_id, cand_run_id;
    int64_t case_id, base_variant_id, cand_variant_id;
    const char *method;    /* "mann-whitney" or "paired" */
    double ratio;          /* candidate time / base time (estimate) */
    double ci_lo, ci_hi;   /* of the ratio; infinite or NaN when unbounded (stored as NULL) */
    double p, q;           /* test p-value, Benjamini-Hochberg q-value */
    double threshold;      /* relative, e.g. 0.03 */
    const char *verdict;   /* faster, slower, same, ambiguous */
    const char *label;     /* regression, noise/environment, improvement, or "" */
    bool same_code;        /* base and candidate code hashes are equal (and real) */
} mc_verdict_row;

/* Stores n verdicts in one transaction; a verdict for the same (base, cand, case, variant)
 * replaces the old one. */
mc_status mc_store_add_verdicts(mc_store *s, const mc_verdict_row *rows, int n, mc_err *err);
/* Number of verdicts stored for a (base, cand) pair. */
mc_status mc_store_count_verdicts(mc_store *s, int64_t base_run_id, int64_t cand_run_id, int *count, mc_err *err);

/* ---- per machine ---- */

/* Machine peaks measured once per machine (e.g. "dram_gbs" in GB/s, "f32_gflops" in GFLOP/s);
 * a new measurement replaces the old. */
mc_status mc_store_set_machine_peak(mc_store *s, const mc_machine *m, const char *name, double value,
                                    const char *unit, mc_err *err);
/* *found is false when that machine has no such peak. */
mc_status mc_store_get_machine_peak(mc_store *s, const char *fingerprint, const char *name, double *value,
                                    bool *found, mc_err *err);

/* A tuning measurement: one configuration of one op at one shape; re-measuring replaces it. */
mc_status mc_store_add_tuning(mc_store *s, const mc_machine *m, int64_t run_id /* 0: none */, const char *op,
                              const char *shape_key, const char *config, double median_ns, double gflops,
                              mc_err *err);
/* The fastest stored configuration; *found false when none. */
mc_status mc_store_best_tuning(mc_store *s, const char *fingerprint, const char *op, const char *shape_key,
                               char *config, size_t config_cap, double *median_ns, bool *found, mc_err *err);

/* The planted-bug suite's score for a run: caught of total mutants failed as they should. */
mc_status mc_store_set_mutation_score(mc_store *s, int64_t run_id, int caught, int total, mc_err *err);

/* ---- merging shard databases ---- */

typedef struct mc_merge_stats {
    int runs_added, runs_present; /* runs new to the target, runs it already had (by uuid) */
    int results_added, timings_added, verdicts_added;
} mc_merge_stats;

/* Copies everything the target lacks from the database at src_path: runs by uuid, cases by
 * canonical key, variants by (backend, name, code hash), results, timings and verdicts by what
 * they belong to. Merging the same file twice adds nothing. A source with an older schema is
 * migrated in place first. */
mc_status mc_store_merge_from(mc_store *s, const char *src_path, mc_merge_stats *stats, mc_err *err);

/* For tests and tools: runs one SQL statement and reads the first column of the first row as
 * text into out ("" when no row). Read-only use only: writing is the store's job. */
mc_status mc_store_query_text(mc_store *s, const char *sql, char *out, size_t cap, mc_err *err);

/* ==== Report queries (read-only: what the report asks of the store) ==== */

/* One stored result of a run, with its case, variant and (perf runs) timing summary. The strings
 * are valid only during the visit call. */
typedef struct mc_stored_result {
    int64_t case_id, variant_id;
    const char *case_key, *op, *params_json;
    const char *backend, *variant, *code_hash;
    mc_result res;          /* case_index and variant_index are -1; NULLs read as NaN */
    bool has_timing;
    int n_samples;
    double min_ns, median_ns, mad_ns;
    double ci_lo_ns, ci_hi_ns; /* -inf / +inf when stored as NULL */
    double gflops, gbs;
} mc_stored_result;

/* Return non-zero to stop the walk early (not an error). */
typedef int (*mc_stored_result_visit)(const mc_stored_result *r, void *user);

/* Walks the results of a run, ordered by case key, backend, variant; failures_only keeps every
 * kind but pass and skip. Samples are not read (they are the bulk of a database). */
mc_status mc_store_each_result(mc_store *s, int64_t run_id, bool failures_only, mc_stored_result_visit visit,
                               void *user, mc_err *err);

/* One stored verdict with its case and both variants' code hashes (valid during the visit). */
typedef struct mc_stored_verdict {
    const char *case_key, *op, *params_json;
    const char *backend, *variant;
    const char *base_hash, *cand_hash;
    const char *method, *verdict, *label;
    double ratio, ci_lo, ci_hi; /* ci_lo 0 and ci_hi +inf when stored as NULL (unbounded) */
    double p, q, threshold;
    bool same_code;
} mc_stored_verdict;

typedef int (*mc_stored_verdict_visit)(const mc_stored_verdict *v, void *user);

/* Walks the verdicts stored for (base, cand), ordered by case key, backend, variant. */
mc_status mc_store_each_verdict(mc_store *s, int64_t base_run_id, int64_t cand_run_id, mc_stored_verdict_visit visit,
                                void *user, mc_err *err);

/* One timing summary of the history of a machine (valid during the visit). */
typedef struct mc_history_timing {
    int64_t run_id, case_id;
    const char *commit, *started_at;
    const char *op, *backend, *variant, *code_hash;
    double median_ns, mad_ns;
} mc_history_timing;

typedef int (*mc_history_timing_visit)(const mc_history_timing *t, void *user);

/* Walks every timing summary of the newest max_runs timed runs of machine `fingerprint` that
 * started no later than run upto_run_id (that run included even while incomplete; other runs only
 * once finished), oldest run first (by start time, then id). */
mc_status mc_store_each_history_timing(mc_store *s, const char *fingerprint, int64_t upto_run_id, int max_runs,
                                       mc_history_timing_visit visit, void *user, mc_err *err);

/* The machine record with this fingerprint; *found false when none. */
mc_status mc_store_get_machine(mc_store *s, const char *fingerprint, mc_machine *out, bool *found, mc_err *err);

/* The run's mutation score; *found false when none was stored. */
mc_status mc_store_get_mutation_score(mc_store *s, int64_t run_id, int *caught, int *total, bool *found,
                                      mc_err *err);

/* ==== end of report queries ==== */

#endif
