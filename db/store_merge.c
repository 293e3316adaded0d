/* db/store_merge.c: merging one store into another, either engine on either side: runs by uuid,
 * cases by canonical key, variants by (backend, name, code hash), and what belongs to them. The
 * merge is one set of SQL steps over a source attached as "src" beside the target "main": SQLite
 * attaches a file; PostgreSQL copies the source's rows into temporary tables first. A PostgreSQL
 * source merged into a SQLite file is first copied into a temporary SQLite file.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_driver.h"

/* Each step copies what the target lacks, matching rows by identity (run uuid, case key, variant
 * triple, machine fingerprint), never by local id; `adds_to` names the statistic its changes
 * count towards. */
/* Joins from a source row x to the target's run, case and variant (shared by several steps). */
#define RUN_MAP "JOIN src.run sr ON sr.id = x.run_id JOIN main.run mr ON mr.uuid = sr.uuid "
#define CASE_MAP "JOIN src.test_case sc ON sc.id = x.case_id JOIN main.test_case mc ON mc.key = sc.key "
#define VARIANT_MAP                                                                                  \
    "JOIN src.variant sv ON sv.id = x.variant_id JOIN main.variant mv ON mv.backend = sv.backend "  \
    "AND mv.name = sv.name AND mv.code_hash = sv.code_hash "

const mc_merge_step mc_merge_steps[] = {
    {"machines",
     "INSERT INTO main.machine (fingerprint, cpu_model, cpu_flags, cores, os, compiler, cflags, devices, first_seen) "
     "SELECT fingerprint, cpu_model, cpu_flags, cores, os, compiler, cflags, devices, first_seen FROM src.machine "
     "WHERE true ON CONFLICT (fingerprint) DO NOTHING",
     MC_COUNT_NONE},
    {"cases",
     "INSERT INTO main.test_case (key, op, params) SELECT key, op, params FROM src.test_case WHERE true "
     "ON CONFLICT (key) DO NOTHING",
     MC_COUNT_NONE},
    {"variants",
     "INSERT INTO main.variant (backend, name, code_hash) SELECT backend, name, code_hash FROM src.variant "
     "WHERE true ON CONFLICT (backend, name, code_hash) DO NOTHING",
     MC_COUNT_NONE},
    {"runs",
     "INSERT INTO main.run (uuid, machine_id, commit_sha, dirty, branch, parent_sha, tier, command_line, "
     "tool_version, seed, mode, shard, started_at, ended_at, status, sel_tier, sel_cases, sel_cases_dir, "
     "sel_backends, sel_op, sel_filter, sel_variants) "
     "SELECT r.uuid, mm.id, r.commit_sha, r.dirty, r.branch, r.parent_sha, r.tier, r.command_line, r.tool_version, "
     "r.seed, r.mode, r.shard, r.started_at, r.ended_at, r.status, r.sel_tier, r.sel_cases, r.sel_cases_dir, "
     "r.sel_backends, r.sel_op, r.sel_filter, r.sel_variants FROM src.run r "
     "JOIN src.machine sm ON sm.id = r.machine_id JOIN main.machine mm ON mm.fingerprint = sm.fingerprint "
     "WHERE r.uuid NOT IN (SELECT uuid FROM main.run) ORDER BY r.id",
     MC_COUNT_RUNS},
    {"run pairings",
     "UPDATE main.run SET paired_with = (SELECT mb.id FROM src.run sr JOIN src.run sb ON sb.id = sr.paired_with "
     "JOIN main.run mb ON mb.uuid = sb.uuid WHERE sr.uuid = main.run.uuid) "
     "WHERE paired_with IS NULL AND uuid IN (SELECT uuid FROM src.run WHERE paired_with IS NOT NULL)",
     MC_COUNT_NONE},
    {"run statuses", /* a shard merged while running, merged again once finished */
     "UPDATE main.run SET status = (SELECT status FROM src.run sr WHERE sr.uuid = main.run.uuid), "
     "ended_at = (SELECT ended_at FROM src.run sr WHERE sr.uuid = main.run.uuid) "
     "WHERE status = 'incomplete' AND uuid IN (SELECT uuid FROM src.run WHERE status <> 'incomplete')",
     MC_COUNT_NONE},
    {"results",
     "INSERT INTO main.result (run_id, case_id, variant_id, kind, ran, n_checked, n_bad, worst_index, worst_out, "
     "worst_ref, worst_err, worst_bound, max_ratio, nmse, signal, elapsed_ms, message, output) "
     "SELECT mr.id, mc.id, mv.id, x.kind, x.ran, x.n_checked, x.n_bad, x.worst_index, x.worst_out, x.worst_ref, "
     "x.worst_err, x.worst_bound, x.max_ratio, x.nmse, x.signal, x.elapsed_ms, x.message, x.output FROM src.result x " RUN_MAP
     CASE_MAP VARIANT_MAP "WHERE true ON CONFLICT (run_id, case_id, variant_id) DO NOTHING",
     MC_COUNT_RESULTS},
    {"timings",
     "INSERT INTO main.timing (result_id, n, calls_per_sample, min_ns, median_ns, mad_ns, ci_lo_ns, ci_hi_ns, "
     "gflops, gbs, cpu_mhz, loadavg, resolution_ns, converged, samples, timer, device_roof_gbs, device_ws_roof_gbs, "
     "device_sm_mhz, "
     "device_mem_mhz, device_temp_c, device_batches, device_throttled, device_throttle_reasons) "
     "SELECT mres.id, t.n, t.calls_per_sample, t.min_ns, t.median_ns, t.mad_ns, t.ci_lo_ns, t.ci_hi_ns, t.gflops, "
     "t.gbs, t.cpu_mhz, t.loadavg, t.resolution_ns, t.converged, t.samples, t.timer, t.device_roof_gbs, "
     "t.device_ws_roof_gbs, "
     "t.device_sm_mhz, t.device_mem_mhz, t.device_temp_c, t.device_batches, t.device_throttled, "
     "t.device_throttle_reasons FROM src.timing t "
     "JOIN src.result x ON x.id = t.result_id " RUN_MAP CASE_MAP VARIANT_MAP
     "JOIN main.result mres ON mres.run_id = mr.id AND mres.case_id = mc.id AND mres.variant_id = mv.id "
     "WHERE true ON CONFLICT (result_id) DO NOTHING",
     MC_COUNT_TIMINGS},
    {"verdicts",
     "INSERT INTO main.verdict (base_run_id, cand_run_id, case_id, base_variant_id, cand_variant_id, method, ratio, "
     "ci_lo, ci_hi, p, q, threshold, verdict, label, same_code, created_at) "
     "SELECT mb.id, mcand.id, mc.id, mbv.id, mcv.id, x.method, x.ratio, x.ci_lo, x.ci_hi, x.p, x.q, x.threshold, "
     "x.verdict, x.label, x.same_code, x.created_at FROM src.verdict x "
     "JOIN src.run sb ON sb.id = x.base_run_id JOIN main.run mb ON mb.uuid = sb.uuid "
     "JOIN src.run scand ON scand.id = x.cand_run_id JOIN main.run mcand ON mcand.uuid = scand.uuid " CASE_MAP
     "JOIN src.variant sbv ON sbv.id = x.base_variant_id JOIN main.variant mbv ON mbv.backend = sbv.backend "
     "AND mbv.name = sbv.name AND mbv.code_hash = sbv.code_hash "
     "JOIN src.variant scv ON scv.id = x.cand_variant_id JOIN main.variant mcv ON mcv.backend = scv.backend "
     "AND mcv.name = scv.name AND mcv.code_hash = scv.code_hash "
     "WHERE true ON CONFLICT (base_run_id, cand_run_id, case_id, cand_variant_id) DO NOTHING",
     MC_COUNT_VERDICTS},
    {"machine peaks",
     "INSERT INTO main.machine_peak (machine_id, name, value, unit, measured_at) "
     "SELECT mm.id, p.name, p.value, p.unit, p.measured_at FROM src.machine_peak p "
     "JOIN src.machine sm ON sm.id = p.machine_id JOIN main.machine mm ON mm.fingerprint = sm.fingerprint "
     "WHERE true ON CONFLICT (machine_id, name) DO UPDATE SET value = excluded.value, unit = excluded.unit, "
     "measured_at = excluded.measured_at WHERE excluded.measured_at > machine_peak.measured_at",
     MC_COUNT_NONE},
    {"tuning rows",
     "INSERT INTO main.tuning (machine_id, run_id, op, shape_key, config, median_ns, gflops, measured_at) "
     "SELECT mm.id, mr.id, t.op, t.shape_key, t.config, t.median_ns, t.gflops, t.measured_at FROM src.tuning t "
     "JOIN src.machine sm ON sm.id = t.machine_id JOIN main.machine mm ON mm.fingerprint = sm.fingerprint "
     "LEFT JOIN src.run sr ON sr.id = t.run_id LEFT JOIN main.run mr ON mr.uuid = sr.uuid "
     "WHERE true ON CONFLICT (machine_id, op, shape_key, config) DO UPDATE SET run_id = excluded.run_id, "
     "median_ns = excluded.median_ns, gflops = excluded.gflops, measured_at = excluded.measured_at "
     "WHERE excluded.measured_at > tuning.measured_at",
     MC_COUNT_NONE},
    {"mutation scores",
     "INSERT INTO main.mutation_score (run_id, caught, total) SELECT mr.id, x.caught, x.total "
     "FROM src.mutation_score x " RUN_MAP "WHERE true ON CONFLICT (run_id) DO NOTHING",
     MC_COUNT_NONE},
};
const int mc_merge_step_count = (int)(sizeof mc_merge_steps / sizeof mc_merge_steps[0]);

const char *const mc_store_tables[] = {"machine", "run",   "test_case",    "variant", "result",
                                       "timing",  "verdict", "machine_peak", "tuning",  "mutation_score"};
const int mc_store_table_count = (int)(sizeof mc_store_tables / sizeof mc_store_tables[0]);

/* ---- copying rows between stores (ids kept) ---- */

typedef struct copy_walk {
    mc_store *dst;
    const char *insert_head; /* INSERT INTO t (a, b) VALUES ( */
    mc_status status;
    mc_err *err;
} copy_walk;

/* One row: NULLs as the literal NULL (a NULL parameter needs a type the source cannot tell). */
static int copy_row(const mc_dbv *col, int n_col, void *ctx)
{
    copy_walk *w = ctx;
    char sql[2048];
    mc_dbv params[64];
    int n = 0;
    size_t len = (size_t)snprintf(sql, sizeof sql, "%s", w->insert_head);
    for (int i = 0; i < n_col && i < 64 && len < sizeof sql; i++) {
        if (col[i].null) {
            len += (size_t)snprintf(sql + len, sizeof sql - len, "%sNULL", i ? ", " : "");
            continue;
        }
        params[n++] = col[i];
        len += (size_t)snprintf(sql + len, sizeof sql - len, "%s?%d", i ? ", " : "", n);
    }
    if (len + 2 >= sizeof sql || n_col > 64) {
        w->status = mc_err_set(w->err, MC_ERR_INTERNAL, "a row to copy has too many columns (%d)", n_col);
        return 1;
    }
    snprintf(sql + len, sizeof sql - len, ")");
    w->status = mc_db_exec(w->dst, sql, params, n, NULL, w->err);
    return w->status != MC_OK;
}

mc_status mc_store_copy_rows(mc_store *src, mc_store *dst, const char *prefix, mc_err *err)
{
    mc_status st = MC_OK;
    for (int t = 0; !st && t < mc_store_table_count; t++) {
        char cols[1024], select[1400], head[1400];
        st = dst->ops->columns(dst, mc_store_tables[t], cols, sizeof cols, err);
        if (st)
            break;
        snprintf(select, sizeof select, "SELECT %s FROM %s ORDER BY 1", cols, mc_store_tables[t]);
        snprintf(head, sizeof head, "INSERT INTO %s%s (%s) VALUES (", prefix, mc_store_tables[t], cols);
        copy_walk w = {dst, head, MC_OK, err};
        st = src->ops->query(src, select, NULL, 0, copy_row, &w, NULL, err);
        if (!st)
            st = w.status;
    }
    return st;
}

/* ---- the merge steps ---- */

typedef struct steps_ctx {
    const char *main_schema, *src_schema; /* what "main." and "src." become ("main", "src" on SQLite) */
    mc_store *src;                        /* PostgreSQL: copied into temporary tables first */
    const char *src_label;
    mc_merge_stats *stats;
} steps_ctx;

/* sql with every "main." and "src." prefix (after a non-identifier byte) renamed; malloc'd. */
static char *rename_schemas(const char *sql, const char *main_schema, const char *src_schema)
{
    size_t cap = strlen(sql) * 4 + 64, len = 0;
    char *out = malloc(cap);
    for (const char *p = sql; out && *p;) {
        bool boundary = p == sql || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= '0' && p[-1] <= '9'));
        const char *to = NULL;
        size_t skip = 0;
        if (boundary && strncmp(p, "main.", 5) == 0)
            to = main_schema, skip = 4;
        else if (boundary && strncmp(p, "src.", 4) == 0)
            to = src_schema, skip = 3;
        if (to) {
            len += (size_t)snprintf(out + len, cap - len, "%s", to);
            p += skip;
        } else {
            out[len++] = *p++;
        }
    }
    if (out)
        out[len] = '\0';
    return out;
}

static mc_status create_temp_tables(mc_store *s, const char *schema, mc_err *err)
{
    mc_status st = MC_OK;
    for (int t = 0; !st && t < mc_store_table_count; t++) {
        char sql[256];
        snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS pg_temp.%s; CREATE TEMP TABLE %s (LIKE %s.%s)",
                 mc_store_tables[t], mc_store_tables[t], schema, mc_store_tables[t]);
        st = s->ops->script(s, sql, err);
    }
    return st;
}

static mc_status steps_body(mc_store *s, void *ctx, mc_err *err)
{
    steps_ctx *c = ctx;
    memset(c->stats, 0, sizeof *c->stats);
    mc_status st = MC_OK;
    if (c->src) {
        st = create_temp_tables(s, c->main_schema, err);
        if (!st)
            st = mc_store_copy_rows(c->src, s, "pg_temp.", err);
    }
    char *count_sql = rename_schemas("SELECT count(*) FROM src.run WHERE uuid IN (SELECT uuid FROM main.run)",
                                     c->main_schema, c->src_schema);
    int64_t present = 0;
    if (!st)
        st = count_sql ? mc_db_int(s, count_sql, NULL, 0, &present, NULL, err)
                       : mc_err_set(err, MC_ERR_NOMEM, "no memory to merge");
    free(count_sql);
    c->stats->runs_present = (int)present;
    for (int i = 0; !st && i < mc_merge_step_count; i++) {
        char *sql = rename_schemas(mc_merge_steps[i].sql, c->main_schema, c->src_schema);
        int64_t changed = 0;
        st = sql ? mc_db_exec(s, sql, NULL, 0, &changed, err) : mc_err_set(err, MC_ERR_NOMEM, "no memory to merge");
        free(sql);
        if (st) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            st = mc_err_set(err, st, "merging %s from %s: %.600s", mc_merge_steps[i].what, c->src_label, why);
            break;
        }
        switch ((mc_merge_stat)mc_merge_steps[i].adds_to) {
        case MC_COUNT_RUNS: c->stats->runs_added += (int)changed; break;
        case MC_COUNT_RESULTS: c->stats->results_added += (int)changed; break;
        case MC_COUNT_TIMINGS: c->stats->timings_added += (int)changed; break;
        case MC_COUNT_VERDICTS: c->stats->verdicts_added += (int)changed; break;
        case MC_COUNT_NONE: break;
        }
    }
    for (int t = 0; !st && c->src && t < mc_store_table_count; t++) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP TABLE pg_temp.%s", mc_store_tables[t]);
        st = s->ops->script(s, sql, err);
    }
    return st;
}

/* A SQLite target: the source file attached as "src". */
static mc_status merge_into_sqlite(mc_store *s, const char *src_path, const char *src_label, mc_merge_stats *stats,
                                   mc_err *err)
{
    const mc_dbv p[] = {mc_dbv_text(src_path)};
    mc_status rc = mc_db_exec(s, "ATTACH DATABASE ?1 AS src", p, 1, NULL, err);
    if (rc)
        return rc;
    steps_ctx c = {"main", "src", NULL, src_label, stats};
    rc = mc_store_in_tx(s, steps_body, &c, err);
    mc_err ignored = {0};
    mc_db_exec(s, "DETACH DATABASE src", NULL, 0, NULL, &ignored);
    return rc;
}

/* A PostgreSQL source for a SQLite target: its rows into a temporary SQLite file first. */
static mc_status merge_server_into_sqlite(mc_store *s, mc_store *src, mc_merge_stats *stats, mc_err *err)
{
    const char *tmp = getenv("TMPDIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/mc-merge-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return mc_err_set(err, MC_ERR_IO, "cannot create a temporary file in %s to merge through", tmp ? tmp : "/tmp");
    close(fd);
    mc_store *copy = NULL;
    mc_status rc = mc_store_open(path, &copy, err);
    if (!rc)
        rc = copy->ops->begin(copy, err);
    if (!rc)
        rc = mc_store_copy_rows(src, copy, "", err);
    if (!rc)
        rc = copy->ops->commit(copy, err);
    mc_store_close(copy);
    if (!rc)
        rc = merge_into_sqlite(s, path, src->label, stats, err);
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char f[1100];
        snprintf(f, sizeof f, "%s%s", path, suffixes[i]);
        unlink(f);
    }
    return rc;
}

typedef struct schema_out {
    char *name;
    size_t cap;
} schema_out;

static int take_schema(const mc_dbv *col, int n_col, void *ctx)
{
    schema_out *o = ctx;
    (void)n_col;
    mc_dbv_copy(&col[0], o->name, o->cap);
    return 1;
}

mc_status mc_store_merge_from(mc_store *s, const char *src_path, mc_merge_stats *stats, mc_err *err)
{
    memset(stats, 0, sizeof *stats);
    /* open it through the store once: that checks and migrates its schema */
    mc_store *src = NULL;
    mc_status rc = mc_store_open(src_path, &src, err);
    if (rc)
        return rc;
    bool same = src->ops == s->ops && (src->ops == &mc_db_sqlite_ops
                                           ? strcmp(mc_store_sqlite_file(src), mc_store_sqlite_file(s)) == 0
                                           : strcmp(src->target, s->target) == 0);
    if (same) {
        rc = mc_err_set(err, MC_ERR_USAGE, "cannot merge %s into itself", src->label);
    } else if (s->ops == &mc_db_sqlite_ops && src->ops == &mc_db_sqlite_ops) {
        char label[sizeof src->label];
        snprintf(label, sizeof label, "%s", src->label);
        mc_store_close(src);
        src = NULL;
        rc = merge_into_sqlite(s, src_path, label, stats, err);
    } else if (s->ops == &mc_db_sqlite_ops) {
        rc = merge_server_into_sqlite(s, src, stats, err);
    } else {
        char schema[128] = "";
        schema_out o = {schema, sizeof schema};
        rc = s->ops->query(s, "SELECT current_schema()", NULL, 0, take_schema, &o, NULL, err);
        if (!rc && !schema[0])
            rc = mc_err_set(err, MC_ERR_DB, "%s has no current schema to merge into", s->label);
        steps_ctx c = {schema, "pg_temp", src, src->label, stats};
        if (!rc)
            rc = mc_store_in_tx(s, steps_body, &c, err);
    }
    mc_store_close(src);
    return rc;
}
