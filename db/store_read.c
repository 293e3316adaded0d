/* db/store_read.c: reading runs (one, the newest that matches, a baseline, a list), a run's
 * timings with their samples, and a kernel's history.
 * SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_selection.h"
#include "store_driver.h"
#include "store_samples.h"

/* ---- runs ---- */

#define RUN_COLUMNS                                                                                     \
    "r.id, r.uuid, r.commit_sha, r.parent_sha, r.branch, r.dirty, r.tier, r.mode, r.paired_with, "    \
    "r.status, r.started_at, r.ended_at, m.fingerprint, r.tool_version, "                             \
    "(SELECT count(*) FROM result x WHERE x.run_id = r.id), "                                         \
    "(SELECT count(*) FROM result x JOIN timing t ON t.result_id = x.id WHERE x.run_id = r.id) "

static void read_run(const mc_dbv *col, mc_run_record *r)
{
    memset(r, 0, sizeof *r);
    r->id = mc_dbv_as_int(&col[0]);
    mc_dbv_copy(&col[1], r->uuid, sizeof r->uuid);
    mc_dbv_copy(&col[2], r->commit, sizeof r->commit);
    mc_dbv_copy(&col[3], r->parent, sizeof r->parent);
    mc_dbv_copy(&col[4], r->branch, sizeof r->branch);
    r->dirty = mc_dbv_as_int(&col[5]) != 0;
    mc_dbv_copy(&col[6], r->tier, sizeof r->tier);
    mc_dbv_copy(&col[7], r->mode, sizeof r->mode);
    r->paired_with = mc_dbv_as_int(&col[8]);
    mc_dbv_copy(&col[9], r->status, sizeof r->status);
    mc_dbv_copy(&col[10], r->started_at, sizeof r->started_at);
    mc_dbv_copy(&col[11], r->ended_at, sizeof r->ended_at);
    mc_dbv_copy(&col[12], r->fingerprint, sizeof r->fingerprint);
    mc_dbv_copy(&col[13], r->tool_version, sizeof r->tool_version);
    r->n_results = (int)mc_dbv_as_int(&col[14]);
    r->n_timings = (int)mc_dbv_as_int(&col[15]);
}

/* Rows of RUN_COLUMNS into a growing array. */
typedef struct run_list {
    mc_run_record *rows;
    int count, cap;
    bool nomem;
} run_list;

static int add_run(const mc_dbv *col, int n_col, void *ctx)
{
    run_list *l = ctx;
    (void)n_col;
    if (l->count == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        mc_run_record *grown = realloc(l->rows, (size_t)cap * sizeof *grown);
        if (!grown) {
            l->nomem = true;
            return 1;
        }
        l->rows = grown;
        l->cap = cap;
    }
    read_run(col, &l->rows[l->count++]);
    return 0;
}

mc_status mc_store_get_run(mc_store *s, int64_t run_id, mc_run_record *out, mc_err *err)
{
    const mc_dbv p[] = {mc_dbv_int(run_id)};
    run_list l = {0};
    mc_status st = s->ops->query(s, "SELECT " RUN_COLUMNS "FROM run r JOIN machine m ON m.id = r.machine_id "
                                    "WHERE r.id = ?1",
                                 p, 1, add_run, &l, NULL, err);
    if (!st && l.nomem)
        st = mc_err_set(err, MC_ERR_NOMEM, "no memory for a run");
    else if (!st && l.count == 0)
        st = mc_err_set(err, MC_ERR_CONFIG, "no run %" PRId64 " in %s", run_id, s->label);
    else if (!st)
        *out = l.rows[0];
    free(l.rows);
    return st;
}

typedef struct selection_read {
    mc_run_selection *out;
    bool found;
} selection_read;

static int take_selection(const mc_dbv *col, int n_col, void *ctx)
{
    selection_read *r = ctx;
    mc_run_selection *out = r->out;
    (void)n_col;
    r->found = true;
    if (!mc_dbv_as_int(&col[0])) { /* a run from before migration 3 */
        mc_run_selection_parse(mc_dbv_as_text(&col[1]), out);
        return 1;
    }
    struct {
        char *dst;
        size_t cap;
    } fields[] = {{out->tier, sizeof out->tier},           {out->cases, sizeof out->cases},
                  {out->cases_dir, sizeof out->cases_dir}, {out->backends, sizeof out->backends},
                  {out->op, sizeof out->op},               {out->filter, sizeof out->filter},
                  {out->variants, sizeof out->variants}};
    for (int i = 0; i < (int)(sizeof fields / sizeof fields[0]); i++)
        mc_dbv_copy(&col[3 + i], fields[i].dst, fields[i].cap);
    mc_dbv_copy(&col[2], out->shard, sizeof out->shard);
    return 1;
}

mc_status mc_store_get_run_selection(mc_store *s, int64_t run_id, mc_run_selection *out, mc_err *err)
{
    static const char sql[] = "SELECT sel_tier IS NOT NULL, command_line, shard, sel_tier, sel_cases, sel_cases_dir, "
                              "sel_backends, sel_op, sel_filter, sel_variants FROM run WHERE id = ?1";
    const mc_dbv p[] = {mc_dbv_int(run_id)};
    memset(out, 0, sizeof *out);
    selection_read r = {out, false};
    mc_status st = s->ops->query(s, sql, p, 1, take_selection, &r, NULL, err);
    if (!st && !r.found)
        st = mc_err_set(err, MC_ERR_CONFIG, "no run %" PRId64 " in %s", run_id, s->label);
    return st;
}

static bool is_hex_prefix(const char *s)
{
    size_t n = strlen(s);
    return n >= 4 && n <= 40 && strspn(s, "0123456789abcdefABCDEF") == n;
}

typedef struct newest_walk {
    const char *prefix;
    int64_t *run_id;
    char first_commit[MC_SHA_LEN];
    char other_commit[MC_SHA_LEN];
    bool found, ambiguous;
} newest_walk;

static int visit_newest(const mc_dbv *col, int n_col, void *ctx)
{
    newest_walk *w = ctx;
    (void)n_col;
    char commit[MC_SHA_LEN];
    mc_dbv_copy(&col[1], commit, sizeof commit);
    if (!w->found) {
        *w->run_id = mc_dbv_as_int(&col[0]);
        snprintf(w->first_commit, sizeof w->first_commit, "%s", commit);
        w->found = true;
        return !w->prefix; /* without a prefix the first row is the answer */
    }
    if (strcmp(commit, w->first_commit) != 0) {
        snprintf(w->other_commit, sizeof w->other_commit, "%s", commit);
        w->ambiguous = true;
        return 1;
    }
    return 0;
}

mc_status mc_store_newest_run(mc_store *s, const mc_run_query *q, int64_t *run_id, mc_err *err)
{
    const char *prefix = q->commit_prefix;
    if (prefix && !is_hex_prefix(prefix) && strcmp(prefix, "unknown") != 0)
        return mc_err_set(err, MC_ERR_USAGE,
                          "'%s' is neither a run nor a commit (4 to 40 hex digits, or a revision git knows)", prefix);
    /* the commits that match, to catch an ambiguous prefix */
    static const char sql[] =
        "SELECT r.id, r.commit_sha FROM run r JOIN machine m ON m.id = r.machine_id "
        "WHERE r.status NOT IN ('incomplete', 'aborted') AND (?1 IS NULL OR r.commit_sha = ?1 OR "
        "      (length(?1) < 40 AND substr(r.commit_sha, 1, length(?1)) = lower(?1))) "
        "AND (?2 IS NULL OR m.fingerprint = ?2) AND r.id <> ?3 "
        "AND (?4 = 0 OR EXISTS (SELECT 1 FROM result x JOIN timing t ON t.result_id = x.id WHERE x.run_id = r.id)) "
        "ORDER BY r.started_at DESC, r.id DESC";
    const mc_dbv p[] = {mc_dbv_opt_text(prefix), mc_dbv_opt_text(q->fingerprint), mc_dbv_int(q->exclude_id),
                        mc_dbv_int(q->with_timings)};
    newest_walk w = {.prefix = prefix, .run_id = run_id};
    mc_status status = s->ops->query(s, sql, p, 4, visit_newest, &w, NULL, err);
    if (!status && w.ambiguous)
        status = mc_err_set(err, MC_ERR_USAGE, "commit prefix '%s' is ambiguous (%.12s..., %.12s...)", prefix,
                            w.first_commit, w.other_commit);
    if (!status && !w.found)
        status = mc_err_set(err, MC_ERR_CONFIG, "no finished%s run%s%s%s in %s", q->with_timings ? " timed" : "",
                            prefix ? " of commit " : "", prefix ? prefix : "",
                            q->fingerprint ? " on this machine" : "", s->label);
    return status;
}

/* A run's timed pairs, one row per (case, backend, variant name): the unit of a baseline. */
#define TIMED_PAIRS(run)                                                                                             \
    "SELECT DISTINCT x.case_id, v.backend, v.name FROM result x JOIN timing t ON t.result_id = x.id "               \
    "JOIN variant v ON v.id = x.variant_id WHERE x.run_id = " run

typedef struct two_ints {
    int64_t a, b;
    bool found;
} two_ints;

static int take_two_ints(const mc_dbv *col, int n_col, void *ctx)
{
    two_ints *t = ctx;
    (void)n_col;
    t->a = mc_dbv_as_int(&col[0]);
    t->b = mc_dbv_as_int(&col[1]);
    t->found = true;
    return 1;
}

mc_status mc_store_base_cover(mc_store *s, int64_t base_run_id, int64_t cand_run_id, int *covered, int *timed,
                              mc_err *err)
{
    static const char sql[] = "WITH cand AS (" TIMED_PAIRS("?2") "), base AS (" TIMED_PAIRS("?1") ") "
                              "SELECT (SELECT count(*) FROM cand), "
                              "(SELECT count(*) FROM cand JOIN base USING (case_id, backend, name))";
    const mc_dbv p[] = {mc_dbv_int(base_run_id), mc_dbv_int(cand_run_id)};
    two_ints t = {0};
    mc_status st = s->ops->query(s, sql, p, 2, take_two_ints, &t, NULL, err);
    if (!st && !t.found)
        st = mc_err_set(err, MC_ERR_DB, "counting a baseline's pairs: no answer (%s)", s->label);
    *timed = (int)t.a;
    *covered = (int)t.b;
    return st;
}

mc_status mc_store_best_base(mc_store *s, const mc_run_query *q, int64_t cand_run_id, int64_t *base_run_id,
                             mc_err *err)
{
    static const char sql[] =
        "WITH cand AS (" TIMED_PAIRS("?3") "), "
        "me AS (SELECT * FROM run WHERE id = ?3) "
        "SELECT r.id, (SELECT count(*) FROM cand c WHERE EXISTS (SELECT 1 FROM result y "
        "    JOIN timing u ON u.result_id = y.id JOIN variant w ON w.id = y.variant_id "
        "    WHERE y.run_id = r.id AND y.case_id = c.case_id AND w.backend = c.backend AND w.name = c.name)) "
        "AS covered "
        "FROM run r JOIN machine m ON m.id = r.machine_id, me "
        "WHERE (?2 IS NULL OR m.fingerprint = ?2) AND r.id <> ?3 AND r.status IN ('passed', 'failed') "
        "AND (?4 = 0 OR EXISTS (SELECT 1 FROM result x JOIN timing t ON t.result_id = x.id WHERE x.run_id = r.id)) "
        "AND CASE WHEN ?1 IS NOT NULL THEN r.commit_sha = ?1 "
        "    ELSE (r.started_at, r.id) < (me.started_at, me.id) "
        "         AND NOT (r.commit_sha = me.commit_sha AND r.shard <> '' AND me.shard <> '') END "
        "ORDER BY covered DESC, (r.sel_tier IS NOT DISTINCT FROM me.sel_tier "
        "    AND r.sel_cases IS NOT DISTINCT FROM me.sel_cases AND r.sel_cases_dir IS NOT DISTINCT FROM me.sel_cases_dir "
        "    AND r.sel_backends IS NOT DISTINCT FROM me.sel_backends AND r.sel_op IS NOT DISTINCT FROM me.sel_op "
        "    AND r.sel_filter IS NOT DISTINCT FROM me.sel_filter "
        "    AND r.sel_variants IS NOT DISTINCT FROM me.sel_variants) DESC, "
        "r.started_at DESC, r.id DESC LIMIT 1";
    bool any_commit = !q->commit_prefix || !q->commit_prefix[0];
    const mc_dbv p[] = {mc_dbv_opt_text(any_commit ? NULL : q->commit_prefix), mc_dbv_opt_text(q->fingerprint),
                        mc_dbv_int(cand_run_id), mc_dbv_int(q->with_timings)};
    bool found = false;
    mc_status st = mc_db_int(s, sql, p, 4, base_run_id, &found, err);
    if (!st && !found && any_commit)
        st = mc_err_set(err, MC_ERR_CONFIG, "no earlier%s run%s that ended passed or failed in %s",
                        q->with_timings ? " timed" : "", q->fingerprint ? " on this machine" : "", s->label);
    else if (!st && !found)
        st = mc_err_set(err, MC_ERR_CONFIG, "no%s run of commit %.12s%s that ended passed or failed in %s",
                        q->with_timings ? " timed" : "", q->commit_prefix, q->fingerprint ? " on this machine" : "",
                        s->label);
    return st;
}

mc_status mc_store_resolve_run(mc_store *s, const char *spec, const char *fingerprint, int64_t *run_id, mc_err *err)
{
    const char *digits = NULL;
    if (strncmp(spec, "run:", 4) == 0)
        digits = spec + 4;
    else if (spec[0] == '#')
        digits = spec + 1;
    else if (strlen(spec) < 7 && strspn(spec, "0123456789") == strlen(spec) && *spec)
        digits = spec;
    if (digits) {
        char *end = NULL;
        long long id = strtoll(digits, &end, 10);
        if (!*digits || *end || id <= 0)
            return mc_err_set(err, MC_ERR_USAGE, "'%s' is not a run id", spec);
        mc_run_record r;
        mc_status st = mc_store_get_run(s, id, &r, err);
        if (!st)
            *run_id = id;
        return st;
    }
    mc_run_query q = {.fingerprint = fingerprint, .with_timings = true};
    if (strcmp(spec, "latest") != 0)
        q.commit_prefix = spec;
    return mc_store_newest_run(s, &q, run_id, err);
}

mc_status mc_store_list_runs(mc_store *s, const char *fingerprint, int limit, mc_run_record **out, int *count,
                             mc_err *err)
{
    const mc_dbv p[] = {mc_dbv_opt_text(fingerprint), mc_dbv_int(limit > 0 ? limit : INT_MAX)};
    run_list l = {0};
    mc_status st = s->ops->query(s,
                                 "SELECT " RUN_COLUMNS "FROM run r JOIN machine m ON m.id = r.machine_id "
                                 "WHERE ?1 IS NULL OR m.fingerprint = ?1 ORDER BY r.started_at DESC, r.id DESC "
                                 "LIMIT ?2",
                                 p, 2, add_run, &l, NULL, err);
    if (!st && l.nomem)
        st = mc_err_set(err, MC_ERR_NOMEM, "no memory for %d runs", l.cap * 2);
    if (st) {
        free(l.rows);
        l.rows = NULL;
        l.count = 0;
    }
    *out = l.rows;
    *count = l.count;
    return st;
}

/* ---- timings ---- */

typedef struct timing_walk {
    mc_timing_set *out;
    int cap;
    mc_status status;
    mc_err *err;
} timing_walk;

static int add_timing(const mc_dbv *col, int n_col, void *ctx)
{
    timing_walk *w = ctx;
    mc_timing_set *out = w->out;
    (void)n_col;
    if (out->count == w->cap) {
        int cap = w->cap ? 2 * w->cap : 64;
        mc_timing_row *grown = realloc(out->rows, (size_t)cap * sizeof *grown);
        if (!grown) {
            w->status = mc_err_set(w->err, MC_ERR_NOMEM, "no memory for %d timings", cap);
            return 1;
        }
        out->rows = grown;
        w->cap = cap;
    }
    mc_timing_row *row = &out->rows[out->count++];
    memset(row, 0, sizeof *row);
    row->case_id = mc_dbv_as_int(&col[0]);
    row->variant_id = mc_dbv_as_int(&col[1]);
    mc_dbv_copy(&col[2], row->case_key, sizeof row->case_key);
    mc_dbv_copy(&col[3], row->op, sizeof row->op);
    row->params_json = strdup(col[4].null ? "{}" : mc_dbv_as_text(&col[4]));
    mc_dbv_copy(&col[5], row->backend, sizeof row->backend);
    mc_dbv_copy(&col[6], row->variant, sizeof row->variant);
    mc_dbv_copy(&col[7], row->code_hash, sizeof row->code_hash);
    mc_timing *t = &row->timing;
    t->n = (int)mc_dbv_as_int(&col[8]);
    t->calls_per_sample = mc_dbv_as_int(&col[9]);
    t->min_ns = mc_dbv_as_real(&col[10], 0);
    t->median_ns = mc_dbv_as_real(&col[11], 0);
    t->mad_ns = mc_dbv_as_real(&col[12], 0);
    t->ci_lo_ns = mc_dbv_as_real(&col[13], -INFINITY);
    t->ci_hi_ns = mc_dbv_as_real(&col[14], INFINITY);
    t->ci_half_ns = (t->ci_hi_ns - t->ci_lo_ns) / 2;
    t->gflops = mc_dbv_as_real(&col[15], 0);
    t->gbs = mc_dbv_as_real(&col[16], 0);
    t->cpu_mhz = mc_dbv_as_real(&col[17], 0);
    t->loadavg = mc_dbv_as_real(&col[18], 0);
    t->resolution_ns = mc_dbv_as_real(&col[19], 0);
    t->converged = mc_dbv_as_int(&col[20]) != 0;
    mc_dbv_copy(&col[22], t->timer, sizeof t->timer);
    t->device_roof_gbs = mc_dbv_as_real(&col[23], 0);
    t->device_ws_roof_gbs = mc_dbv_as_real(&col[24], 0);
    t->device_mhz = mc_dbv_as_real(&col[25], 0);
    t->device_mem_mhz = mc_dbv_as_real(&col[26], 0);
    t->device_temp_c = mc_dbv_as_real(&col[27], 0);
    t->device_batches = (double)mc_dbv_as_int(&col[28]);
    t->device_throttled = (double)mc_dbv_as_int(&col[29]);
    t->device_reasons = (double)mc_dbv_as_int(&col[30]);
    if (!row->params_json)
        w->status = mc_err_set(w->err, MC_ERR_NOMEM, "no memory for case params");
    if (!w->status)
        w->status = mc_samples_read(&col[21], t, w->err);
    return w->status != MC_OK;
}

mc_status mc_store_load_timings(mc_store *s, int64_t run_id, mc_timing_set *out, mc_err *err)
{
    memset(out, 0, sizeof *out);
    static const char sql[] =
        "SELECT c.id, v.id, c.key, c.op, c.params, v.backend, v.name, v.code_hash, t.n, t.calls_per_sample, "
        "t.min_ns, t.median_ns, t.mad_ns, t.ci_lo_ns, t.ci_hi_ns, t.gflops, t.gbs, t.cpu_mhz, t.loadavg, "
        "t.resolution_ns, t.converged, t.samples, t.timer, t.device_roof_gbs, t.device_ws_roof_gbs, t.device_sm_mhz, "
        "t.device_mem_mhz, "
        "t.device_temp_c, t.device_batches, t.device_throttled, t.device_throttle_reasons "
        "FROM result r JOIN timing t ON t.result_id = r.id JOIN test_case c ON c.id = r.case_id "
        "JOIN variant v ON v.id = r.variant_id WHERE r.run_id = ?1 ORDER BY c.key, v.backend, v.name";
    const mc_dbv p[] = {mc_dbv_int(run_id)};
    timing_walk w = {.out = out, .err = err};
    mc_status st = s->ops->query(s, sql, p, 1, add_timing, &w, NULL, err);
    if (!st)
        st = w.status;
    if (st)
        mc_timing_set_free(out);
    return st;
}

void mc_timing_set_free(mc_timing_set *set)
{
    for (int i = 0; i < set->count; i++) {
        free(set->rows[i].params_json);
        mc_timing_free(&set->rows[i].timing);
    }
    free(set->rows);
    set->rows = NULL;
    set->count = 0;
}

typedef struct history_list {
    mc_history_point *rows;
    int count, cap;
    bool nomem;
} history_list;

static int add_point(const mc_dbv *col, int n_col, void *ctx)
{
    history_list *l = ctx;
    (void)n_col;
    if (l->count == l->cap) {
        int cap = l->cap ? 2 * l->cap : 32;
        mc_history_point *grown = realloc(l->rows, (size_t)cap * sizeof *grown);
        if (!grown) {
            l->nomem = true;
            return 1;
        }
        l->rows = grown;
        l->cap = cap;
    }
    mc_history_point *p = &l->rows[l->count++];
    p->run_id = mc_dbv_as_int(&col[0]);
    mc_dbv_copy(&col[1], p->commit, sizeof p->commit);
    mc_dbv_copy(&col[2], p->started_at, sizeof p->started_at);
    p->median_ns = mc_dbv_as_real(&col[3], 0);
    mc_dbv_copy(&col[4], p->code_hash, sizeof p->code_hash);
    return 0;
}

mc_status mc_store_history(mc_store *s, const char *case_key, const char *backend, const char *variant,
                           const char *fingerprint, mc_history_point **out, int *count, mc_err *err)
{
    static const char sql[] =
        "SELECT r.id, r.commit_sha, r.started_at, t.median_ns, v.code_hash "
        "FROM result x JOIN timing t ON t.result_id = x.id JOIN run r ON r.id = x.run_id "
        "JOIN machine m ON m.id = r.machine_id JOIN test_case c ON c.id = x.case_id "
        "JOIN variant v ON v.id = x.variant_id "
        "WHERE c.key = ?1 AND v.backend = ?2 AND v.name = ?3 AND (?4 IS NULL OR m.fingerprint = ?4) "
        "AND r.status <> 'incomplete' ORDER BY r.started_at, r.id";
    const mc_dbv p[] = {mc_dbv_text(case_key), mc_dbv_text(backend), mc_dbv_text(variant),
                        mc_dbv_opt_text(fingerprint)};
    history_list l = {0};
    mc_status st = s->ops->query(s, sql, p, 4, add_point, &l, NULL, err);
    if (!st && l.nomem)
        st = mc_err_set(err, MC_ERR_NOMEM, "no memory for %d history points", l.cap * 2);
    if (st) {
        free(l.rows);
        l.rows = NULL;
        l.count = 0;
    }
    *out = l.rows;
    *count = l.count;
    return st;
}
