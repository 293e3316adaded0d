/* db/store.c: the results store: every SQL statement of metallic-check.
 *
 * Transactions and crash safety:
 *   1. The journal is WAL: readers never block the writer, and a process killed at any point
 *      leaves a database that the next open recovers to its last commit.
 *   2. Every write is one BEGIN IMMEDIATE ... COMMIT: the write lock is taken up front, so two
 *      writers queue on the busy timeout instead of deadlocking on a lock upgrade.
 *   3. A run is inserted as "incomplete" and set to its final status only by mc_store_end_run:
 *      a killed run keeps every committed batch and reads as incomplete.
 *   4. Migrations run inside one IMMEDIATE transaction that re-reads user_version, so two
 *      processes opening a new file at once migrate it exactly once.
 * SPDX-License-Identifier: MIT */
#include "store.h"

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/json.h"
#include "core/op.h"
#include "run_selection.h"

#define BUSY_TIMEOUT_MS 60000 /* a writer waits this long for another run's batch to commit */

/* ---- migrations: index = the user_version it produces; keep identical to db/schema.sql ---- */

static const char schema_v1[] =
    "CREATE TABLE machine (\n"
    "    id          INTEGER PRIMARY KEY,\n"
    "    fingerprint TEXT NOT NULL UNIQUE,\n"
    "    cpu_model   TEXT NOT NULL,\n"
    "    cpu_flags   TEXT NOT NULL,\n"
    "    cores       INTEGER NOT NULL,\n"
    "    os          TEXT NOT NULL,\n"
    "    compiler    TEXT NOT NULL,\n"
    "    cflags      TEXT NOT NULL,\n"
    "    devices     TEXT NOT NULL,\n"
    "    first_seen  TEXT NOT NULL\n"
    ");\n"
    "CREATE TABLE run (\n"
    "    id           INTEGER PRIMARY KEY,\n"
    "    uuid         TEXT NOT NULL UNIQUE,\n"
    "    machine_id   INTEGER NOT NULL REFERENCES machine(id),\n"
    "    commit_sha   TEXT NOT NULL,\n"
    "    dirty        INTEGER NOT NULL,\n"
    "    branch       TEXT NOT NULL,\n"
    "    parent_sha   TEXT NOT NULL,\n"
    "    tier         TEXT NOT NULL,\n"
    "    command_line TEXT NOT NULL,\n"
    "    tool_version TEXT NOT NULL,\n"
    "    seed         INTEGER NOT NULL,\n"
    "    mode         TEXT NOT NULL CHECK (mode IN ('independent', 'paired')),\n"
    "    paired_with  INTEGER REFERENCES run(id) ON DELETE SET NULL,\n"
    "    shard        TEXT NOT NULL,\n"
    "    started_at   TEXT NOT NULL,\n"
    "    ended_at     TEXT,\n"
    "    status       TEXT NOT NULL DEFAULT 'incomplete'\n"
    "                 CHECK (status IN ('incomplete', 'passed', 'failed', 'nothing', 'aborted'))\n"
    ");\n"
    "CREATE INDEX run_commit ON run(commit_sha);\n"
    "CREATE INDEX run_machine ON run(machine_id, started_at);\n"
    "CREATE TABLE test_case (\n"
    "    id     INTEGER PRIMARY KEY,\n"
    "    key    TEXT NOT NULL UNIQUE,\n"
    "    op     TEXT NOT NULL,\n"
    "    params TEXT NOT NULL\n"
    ");\n"
    "CREATE TABLE variant (\n"
    "    id        INTEGER PRIMARY KEY,\n"
    "    backend   TEXT NOT NULL,\n"
    "    name      TEXT NOT NULL,\n"
    "    code_hash TEXT NOT NULL,\n"
    "    UNIQUE (backend, name, code_hash)\n"
    ");\n"
    "CREATE TABLE result (\n"
    "    id          INTEGER PRIMARY KEY,\n"
    "    run_id      INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,\n"
    "    case_id     INTEGER NOT NULL REFERENCES test_case(id),\n"
    "    variant_id  INTEGER NOT NULL REFERENCES variant(id),\n"
    "    kind        TEXT NOT NULL,\n"
    "    ran         TEXT NOT NULL,\n"
    "    n_checked   INTEGER NOT NULL,\n"
    "    n_bad       INTEGER NOT NULL,\n"
    "    worst_index INTEGER NOT NULL,\n"
    "    worst_out   REAL,\n"
    "    worst_ref   REAL,\n"
    "    worst_err   REAL,\n"
    "    worst_bound REAL,\n"
    "    max_ratio   REAL,\n"
    "    nmse        REAL,\n"
    "    signal      INTEGER NOT NULL,\n"
    "    elapsed_ms  REAL NOT NULL,\n"
    "    message     TEXT NOT NULL,\n"
    "    UNIQUE (run_id, case_id, variant_id)\n"
    ");\n"
    "CREATE INDEX result_case ON result(case_id, variant_id);\n"
    "CREATE TABLE timing (\n"
    "    result_id        INTEGER PRIMARY KEY REFERENCES result(id) ON DELETE CASCADE,\n"
    "    n                INTEGER NOT NULL,\n"
    "    calls_per_sample INTEGER NOT NULL,\n"
    "    min_ns           REAL NOT NULL,\n"
    "    median_ns        REAL NOT NULL,\n"
    "    mad_ns           REAL NOT NULL,\n"
    "    ci_lo_ns         REAL,\n"
    "    ci_hi_ns         REAL,\n"
    "    gflops           REAL NOT NULL,\n"
    "    gbs              REAL NOT NULL,\n"
    "    cpu_mhz          REAL NOT NULL,\n"
    "    loadavg          REAL NOT NULL,\n"
    "    resolution_ns    REAL NOT NULL,\n"
    "    converged        INTEGER NOT NULL,\n"
    "    samples          BLOB NOT NULL CHECK (length(samples) = 8 * n)\n"
    ");\n"
    "CREATE TABLE verdict (\n"
    "    id              INTEGER PRIMARY KEY,\n"
    "    base_run_id     INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,\n"
    "    cand_run_id     INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,\n"
    "    case_id         INTEGER NOT NULL REFERENCES test_case(id),\n"
    "    base_variant_id INTEGER NOT NULL REFERENCES variant(id),\n"
    "    cand_variant_id INTEGER NOT NULL REFERENCES variant(id),\n"
    "    method          TEXT NOT NULL CHECK (method IN ('mann-whitney', 'paired')),\n"
    "    ratio           REAL NOT NULL,\n"
    "    ci_lo           REAL,\n"
    "    ci_hi           REAL,\n"
    "    p               REAL NOT NULL,\n"
    "    q               REAL NOT NULL,\n"
    "    threshold       REAL NOT NULL,\n"
    "    verdict         TEXT NOT NULL CHECK (verdict IN ('faster', 'slower', 'same', 'ambiguous')),\n"
    "    label           TEXT NOT NULL,\n"
    "    same_code       INTEGER NOT NULL,\n"
    "    created_at      TEXT NOT NULL,\n"
    "    UNIQUE (base_run_id, cand_run_id, case_id, cand_variant_id)\n"
    ");\n"
    "CREATE TABLE machine_peak (\n"
    "    machine_id  INTEGER NOT NULL REFERENCES machine(id),\n"
    "    name        TEXT NOT NULL,\n"
    "    value       REAL NOT NULL,\n"
    "    unit        TEXT NOT NULL,\n"
    "    measured_at TEXT NOT NULL,\n"
    "    PRIMARY KEY (machine_id, name)\n"
    ");\n"
    "CREATE TABLE tuning (\n"
    "    id          INTEGER PRIMARY KEY,\n"
    "    machine_id  INTEGER NOT NULL REFERENCES machine(id),\n"
    "    run_id      INTEGER REFERENCES run(id) ON DELETE SET NULL,\n"
    "    op          TEXT NOT NULL,\n"
    "    shape_key   TEXT NOT NULL,\n"
    "    config      TEXT NOT NULL,\n"
    "    median_ns   REAL NOT NULL,\n"
    "    gflops      REAL NOT NULL,\n"
    "    measured_at TEXT NOT NULL,\n"
    "    UNIQUE (machine_id, op, shape_key, config)\n"
    ");\n"
    "CREATE TABLE mutation_score (\n"
    "    run_id INTEGER PRIMARY KEY REFERENCES run(id) ON DELETE CASCADE,\n"
    "    caught INTEGER NOT NULL,\n"
    "    total  INTEGER NOT NULL,\n"
    "    CHECK (caught >= 0 AND caught <= total)\n"
    ");\n";

/* 2: the tail of what the worker printed during the case (issue 13: kernel output is captured) */
static const char schema_v2[] = "ALTER TABLE result ADD COLUMN output TEXT NOT NULL DEFAULT '';\n";

/* 3: the run's selection as fields (issue 14): NULL in rows of older runs, whose selection is read
 * from their command line once, by mc_store_get_run_selection */
static const char schema_v3[] = "ALTER TABLE run ADD COLUMN sel_tier TEXT;\n"
                                "ALTER TABLE run ADD COLUMN sel_cases TEXT;\n"
                                "ALTER TABLE run ADD COLUMN sel_cases_dir TEXT;\n"
                                "ALTER TABLE run ADD COLUMN sel_backends TEXT;\n"
                                "ALTER TABLE run ADD COLUMN sel_op TEXT;\n"
                                "ALTER TABLE run ADD COLUMN sel_filter TEXT;\n"
                                "ALTER TABLE run ADD COLUMN sel_variants TEXT;\n";

static const char *const migrations[] = {
    [1] = schema_v1,
    [2] = schema_v2,
    [3] = schema_v3,
};
_Static_assert(sizeof migrations / sizeof migrations[0] == MC_STORE_VERSION + 1, "one migration per version");

/* ---- prepared statements, as a table ---- */

typedef enum stmt_id {
    ST_MACHINE_UPSERT,
    ST_MACHINE_ID,
    ST_RUN_INSERT,
    ST_RUN_END,
    ST_CASE_UPSERT,
    ST_CASE_ID,
    ST_VARIANT_UPSERT,
    ST_VARIANT_ID,
    ST_RESULT_DELETE,
    ST_RESULT_INSERT,
    ST_TIMING_INSERT,
    ST_VERDICT_UPSERT,
    ST_COUNT
} stmt_id;

static const char *const stmt_sql[ST_COUNT] = {
    [ST_MACHINE_UPSERT] =
        "INSERT INTO machine (fingerprint, cpu_model, cpu_flags, cores, os, compiler, cflags, devices, first_seen) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (fingerprint) DO NOTHING",
    [ST_MACHINE_ID] = "SELECT id FROM machine WHERE fingerprint = ?1",
    [ST_RUN_INSERT] =
        "INSERT INTO run (uuid, machine_id, commit_sha, dirty, branch, parent_sha, tier, command_line, tool_version, "
        "seed, mode, paired_with, shard, started_at, sel_tier, sel_cases, sel_cases_dir, sel_backends, sel_op, "
        "sel_filter, sel_variants) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
    [ST_RUN_END] = "UPDATE run SET status = ?2, ended_at = ?3 WHERE id = ?1",
    [ST_CASE_UPSERT] = "INSERT INTO test_case (key, op, params) VALUES (?1, ?2, ?3) "
                       "ON CONFLICT (key) DO UPDATE SET params = excluded.params WHERE params <> excluded.params",
    [ST_CASE_ID] = "SELECT id FROM test_case WHERE key = ?1",
    [ST_VARIANT_UPSERT] = "INSERT INTO variant (backend, name, code_hash) VALUES (?1, ?2, ?3) "
                          "ON CONFLICT (backend, name, code_hash) DO NOTHING",
    [ST_VARIANT_ID] = "SELECT id FROM variant WHERE backend = ?1 AND name = ?2 AND code_hash = ?3",
    [ST_RESULT_DELETE] = "DELETE FROM result WHERE run_id = ?1 AND case_id = ?2 AND variant_id = ?3",
    [ST_RESULT_INSERT] =
        "INSERT INTO result (run_id, case_id, variant_id, kind, ran, n_checked, n_bad, worst_index, worst_out, "
        "worst_ref, worst_err, worst_bound, max_ratio, nmse, signal, elapsed_ms, message, output) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    [ST_TIMING_INSERT] =
        "INSERT INTO timing (result_id, n, calls_per_sample, min_ns, median_ns, mad_ns, ci_lo_ns, ci_hi_ns, gflops, "
        "gbs, cpu_mhz, loadavg, resolution_ns, converged, samples) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    [ST_VERDICT_UPSERT] =
        "INSERT INTO verdict (base_run_id, cand_run_id, case_id, base_variant_id, cand_variant_id, method, ratio, "
        "ci_lo, ci_hi, p, q, threshold, verdict, label, same_code, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
        "ON CONFLICT (base_run_id, cand_run_id, case_id, cand_variant_id) DO UPDATE SET "
        "base_variant_id = excluded.base_variant_id, method = excluded.method, ratio = excluded.ratio, "
        "ci_lo = excluded.ci_lo, ci_hi = excluded.ci_hi, p = excluded.p, q = excluded.q, "
        "threshold = excluded.threshold, verdict = excluded.verdict, label = excluded.label, "
        "same_code = excluded.same_code, created_at = excluded.created_at",
};

struct mc_store {
    sqlite3 *db;
    char path[1024];
    sqlite3_stmt *stmts[ST_COUNT];
};

const char *mc_store_default_path(void)
{
    const char *env = getenv("MC_DB");
    return env && *env ? env : "metallic-check.db";
}

static mc_status db_fail(mc_store *s, mc_err *err, const char *what)
{
    return mc_err_set(err, MC_ERR_DB, "%s: %s (%s)", what, sqlite3_errmsg(s->db), s->path);
}

static mc_status exec_sql(mc_store *s, const char *sql, mc_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return MC_OK;
    mc_status st = mc_err_set(err, MC_ERR_DB, "%s (%s): %.120s", msg ? msg : "sqlite error", s->path, sql);
    sqlite3_free(msg);
    return st;
}

/* A cached statement, reset and with its bindings cleared. */
static mc_status stmt(mc_store *s, stmt_id id, sqlite3_stmt **out, mc_err *err)
{
    if (!s->stmts[id] && sqlite3_prepare_v2(s->db, stmt_sql[id], -1, &s->stmts[id], NULL) != SQLITE_OK)
        return db_fail(s, err, "preparing a statement");
    sqlite3_reset(s->stmts[id]);
    sqlite3_clear_bindings(s->stmts[id]);
    *out = s->stmts[id];
    return MC_OK;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_TRANSIENT);
}

/* Finite values as REAL, NaN and infinities as NULL (SQLite has no NaN). */
static void bind_real_or_null(sqlite3_stmt *st, int i, double v)
{
    if (isfinite(v))
        sqlite3_bind_double(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static double column_real_or(sqlite3_stmt *st, int i, double if_null)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? if_null : sqlite3_column_double(st, i);
}

static void column_copy(sqlite3_stmt *st, int i, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    size_t n = t ? strnlen((const char *)t, cap - 1) : 0;
    memcpy(out, t ? (const char *)t : "", n);
    out[n] = '\0';
}

/* Runs a statement that returns no rows (or whose rows do not matter). */
static mc_status step_done(mc_store *s, sqlite3_stmt *st, const char *what, mc_err *err)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE)
        return db_fail(s, err, what);
    return MC_OK;
}

/* Runs a statement that returns one integer. */
static mc_status step_int(mc_store *s, sqlite3_stmt *st, int64_t *out, bool *found, const char *what, mc_err *err)
{
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE)
        return db_fail(s, err, what);
    sqlite3_reset(st);
    return MC_OK;
}

static mc_status begin(mc_store *s, mc_err *err)
{
    return exec_sql(s, "BEGIN IMMEDIATE", err);
}

/* Commits on success; rolls back on failure and keeps the first error. */
static mc_status finish(mc_store *s, mc_status st, mc_err *err)
{
    if (st) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return st;
    }
    return exec_sql(s, "COMMIT", err);
}

/* ---- open, migrate, close ---- */

static mc_status user_version(mc_store *s, int *v, mc_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "reading the schema version");
    int rc = sqlite3_step(st);
    *v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return db_fail(s, err, "reading the schema version");
    return MC_OK;
}

/* A version this build can migrate from: 0 (new) up to its own. user_version is any 32-bit value. */
static mc_status version_check(const mc_store *s, int v, mc_err *err)
{
    if (v > MC_STORE_VERSION)
        return mc_err_set(err, MC_ERR_DB, "%s has schema version %d; this metallic-check knows up to %d (upgrade it)",
                          s->path, v, MC_STORE_VERSION);
    if (v < 0)
        return mc_err_set(err, MC_ERR_DB, "%s has schema version %d; it is not a metallic-check database", s->path, v);
    return MC_OK;
}

static mc_status migrate(mc_store *s, mc_err *err)
{
    int v = 0;
    mc_status st = user_version(s, &v, err);
    if (st || v == MC_STORE_VERSION)
        return st;
    if ((st = version_check(s, v, err)))
        return st;
    st = begin(s, err);
    if (st)
        return st;
    st = user_version(s, &v, err); /* again, under the write lock: another process may have won */
    if (!st)
        st = version_check(s, v, err);
    for (int next = v + 1; !st && next <= MC_STORE_VERSION; next++)
        st = exec_sql(s, migrations[next], err);
    if (!st && v < MC_STORE_VERSION) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", MC_STORE_VERSION);
        st = exec_sql(s, sql, err);
    }
    return finish(s, st, err);
}

/* journal_mode needs a moment of exclusive access; a concurrent opener may hold the file. */
static mc_status set_wal(mc_store *s, mc_err *err)
{
    for (int attempt = 0; attempt < 200; attempt++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK)
            return db_fail(s, err, "setting the WAL journal");
        int rc = sqlite3_step(st);
        char mode[16] = "";
        if (rc == SQLITE_ROW)
            column_copy(st, 0, mode, sizeof mode);
        sqlite3_finalize(st);
        if (rc == SQLITE_ROW && strcmp(mode, "wal") == 0)
            return MC_OK;
        if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED && rc != SQLITE_ROW)
            return db_fail(s, err, "setting the WAL journal");
        sqlite3_sleep(50);
    }
    return mc_err_set(err, MC_ERR_DB, "%s: could not switch to the WAL journal (is it on a network file system?)",
                      s->path);
}

/* Foreign keys, WAL, synchronous, schema: what every writer's connection needs. */
static mc_status configure(mc_store *s, mc_err *err)
{
    mc_status st = exec_sql(s, "PRAGMA foreign_keys = ON", err);
    if (!st)
        st = set_wal(s, err);
    /* NORMAL is durable against a killed process in WAL mode; only a power cut may lose the last
     * commits, never consistency */
    if (!st)
        st = exec_sql(s, "PRAGMA synchronous = NORMAL", err);
    if (!st)
        st = migrate(s, err);
    return st;
}

static mc_status open_with(const char *path, int flags, bool existing, bool as_is, mc_store **out, mc_err *err)
{
    *out = NULL;
    mc_store *s = calloc(1, sizeof *s);
    if (!s)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for the store");
    snprintf(s->path, sizeof s->path, "%s", path);
    mc_status st = MC_OK;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        st = s->db ? db_fail(s, err, "opening the database")
                   : mc_err_set(err, MC_ERR_DB, "cannot open %s: out of memory", path);
        goto done;
    }
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(s->db, 1);
    int v = 0;
    if (existing && !(st = user_version(s, &v, err)) && v == 0)
        st = mc_err_set(err, MC_ERR_USAGE, "%s is not a metallic-check database (empty, or another program's file)",
                        path);
    else if (existing && !st)
        st = version_check(s, v, err);
    if (!st)
        st = as_is ? exec_sql(s, "PRAGMA foreign_keys = ON", err) : configure(s, err);
done:
    if (st) {
        mc_store_close(s);
        return st;
    }
    *out = s;
    return MC_OK;
}

mc_status mc_store_open(const char *path, mc_store **out, mc_err *err)
{
    return open_with(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, false, false, out, err);
}

mc_status mc_store_open_existing(const char *path, bool as_is, mc_store **out, mc_err *err)
{
    if (access(path, F_OK) != 0)
        return mc_err_set(err, MC_ERR_USAGE, "no results database at %s", path);
    return open_with(path, SQLITE_OPEN_READWRITE, true, as_is, out, err);
}

void mc_store_close(mc_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->stmts[i]);
    sqlite3_close(s->db);
    free(s);
}

/* ---- machines and runs ---- */

static mc_status machine_id(mc_store *s, const mc_machine *m, int64_t *id, mc_err *err)
{
    sqlite3_stmt *st = NULL;
    char now[MC_TIME_LEN];
    mc_runinfo_now(now);
    mc_status rc = stmt(s, ST_MACHINE_UPSERT, &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, m->fingerprint);
    bind_text(st, 2, m->cpu_model);
    bind_text(st, 3, m->cpu_flags);
    sqlite3_bind_int(st, 4, m->cores);
    bind_text(st, 5, m->os);
    bind_text(st, 6, m->compiler);
    bind_text(st, 7, m->cflags);
    bind_text(st, 8, m->devices);
    bind_text(st, 9, now);
    rc = step_done(s, st, "recording the machine", err);
    if (!rc)
        rc = stmt(s, ST_MACHINE_ID, &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, m->fingerprint);
    bool found = false;
    rc = step_int(s, st, id, &found, "finding the machine", err);
    if (!rc && !found)
        rc = mc_err_set(err, MC_ERR_INTERNAL, "machine %s vanished after insertion", m->fingerprint);
    return rc;
}

mc_status mc_store_begin_run(mc_store *s, const mc_run_info *info, int64_t *run_id, mc_err *err)
{
    mc_status rc = begin(s, err);
    if (rc)
        return rc;
    int64_t mid = 0;
    sqlite3_stmt *st = NULL;
    rc = machine_id(s, &info->machine, &mid, err);
    if (!rc)
        rc = stmt(s, ST_RUN_INSERT, &st, err);
    if (!rc) {
        bind_text(st, 1, info->uuid);
        sqlite3_bind_int64(st, 2, mid);
        bind_text(st, 3, info->commit[0] ? info->commit : "unknown");
        sqlite3_bind_int(st, 4, info->dirty);
        bind_text(st, 5, info->branch);
        bind_text(st, 6, info->parent);
        bind_text(st, 7, info->tier);
        bind_text(st, 8, info->command_line);
        bind_text(st, 9, info->tool_version);
        sqlite3_bind_int64(st, 10, (sqlite3_int64)info->seed);
        bind_text(st, 11, info->mode[0] ? info->mode : MC_RUN_INDEPENDENT);
        if (info->paired_with)
            sqlite3_bind_int64(st, 12, info->paired_with);
        bind_text(st, 13, info->shard);
        bind_text(st, 14, info->start_time);
        const mc_run_selection *sel = &info->sel;
        const char *fields[] = {sel->tier, sel->cases, sel->cases_dir, sel->backends, sel->op, sel->filter,
                                sel->variants};
        for (int i = 0; i < (int)(sizeof fields / sizeof fields[0]); i++)
            bind_text(st, 15 + i, fields[i]);
        rc = step_done(s, st, "recording the run", err);
    }
    if (!rc)
        *run_id = sqlite3_last_insert_rowid(s->db);
    return finish(s, rc, err);
}

static const char *const final_statuses[] = {"passed", "failed", "nothing", "aborted", NULL};

mc_status mc_store_end_run(mc_store *s, int64_t run_id, const char *status, mc_err *err)
{
    bool known = false;
    for (const char *const *f = final_statuses; *f; f++)
        known |= status && strcmp(status, *f) == 0;
    if (!known)
        return mc_err_set(err, MC_ERR_INTERNAL, "'%s' is not a final run status", status ? status : "(null)");
    char now[MC_TIME_LEN];
    mc_runinfo_now(now);
    mc_status rc = begin(s, err);
    sqlite3_stmt *st = NULL;
    if (!rc)
        rc = stmt(s, ST_RUN_END, &st, err);
    if (!rc) {
        sqlite3_bind_int64(st, 1, run_id);
        bind_text(st, 2, status);
        bind_text(st, 3, now);
        rc = step_done(s, st, "ending the run", err);
    }
    if (!rc && sqlite3_changes(s->db) != 1)
        rc = mc_err_set(err, MC_ERR_DB, "no run %" PRId64 " in %s", run_id, s->path);
    return finish(s, rc, err);
}

/* ---- results ---- */

static bool json_append(char *out, size_t cap, size_t *len, const char *text)
{
    size_t n = strlen(text);
    if (*len + n + 1 > cap)
        return false;
    memcpy(out + *len, text, n + 1);
    *len += n;
    return true;
}

static bool json_append_string(char *out, size_t cap, size_t *len, const char *s)
{
    size_t n = mc_json_quote(out + *len, cap - *len, s);
    if (n >= cap - *len)
        return false;
    *len += n;
    return true;
}

mc_status mc_store_params_json(const mc_case *c, char *out, size_t cap, mc_err *err)
{
    size_t len = 0;
    bool ok = cap > 0 && json_append(out, cap, &len, "{");
    for (int i = 0; ok && i < c->op->n_params; i++) {
        const mc_param_def *def = &c->op->params[i];
        char value[64];
        ok = json_append(out, cap, &len, i ? "," : "") && json_append_string(out, cap, &len, def->name) &&
             json_append(out, cap, &len, ":");
        if (!ok)
            break;
        if (def->type == MC_PARAM_STR) {
            ok = json_append_string(out, cap, &len, c->v[i].s);
            continue;
        }
        if (def->type == MC_PARAM_INT)
            snprintf(value, sizeof value, "%" PRId64, c->v[i].i);
        else
            for (int prec = 1; prec <= 17; prec++) { /* shortest text that reads back exactly */
                snprintf(value, sizeof value, "%.*g", prec, c->v[i].d);
                if (strtod(value, NULL) == c->v[i].d)
                    break;
            }
        ok = json_append(out, cap, &len, value);
    }
    ok = ok && json_append(out, cap, &len, "}");
    if (!ok)
        return mc_err_set(err, MC_ERR_INTERNAL, "params of case %s do not fit in %zu bytes", c->key, cap);
    return MC_OK;
}

static mc_status case_id(mc_store *s, const char *key, const char *op, const char *params, int64_t *id, mc_err *err)
{
    sqlite3_stmt *st = NULL;
    mc_status rc = stmt(s, ST_CASE_UPSERT, &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, key);
    bind_text(st, 2, op);
    bind_text(st, 3, params);
    rc = step_done(s, st, "recording a case", err);
    if (!rc)
        rc = stmt(s, ST_CASE_ID, &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, key);
    bool found = false;
    rc = step_int(s, st, id, &found, "finding a case", err);
    if (!rc && !found)
        rc = mc_err_set(err, MC_ERR_INTERNAL, "case %s vanished after insertion", key);
    return rc;
}

static mc_status variant_id(mc_store *s, const char *backend, const char *name, const char *hash, int64_t *id,
                            mc_err *err)
{
    sqlite3_stmt *st = NULL;
    mc_status rc = stmt(s, ST_VARIANT_UPSERT, &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, backend);
    bind_text(st, 2, name);
    bind_text(st, 3, hash);
    rc = step_done(s, st, "recording a variant", err);
    if (!rc)
        rc = stmt(s, ST_VARIANT_ID, &st, err);
    if (rc)
        return rc;
    bind_text(st, 1, backend);
    bind_text(st, 2, name);
    bind_text(st, 3, hash);
    bool found = false;
    rc = step_int(s, st, id, &found, "finding a variant", err);
    if (!rc && !found)
        rc = mc_err_set(err, MC_ERR_INTERNAL, "variant %s vanished after insertion", name);
    return rc;
}

/* Samples as little-endian binary64, whatever the host order. */
static unsigned char *samples_blob(const mc_timing *t)
{
    unsigned char *b = malloc((size_t)(t->n ? t->n : 1) * 8);
    for (int i = 0; b && i < t->n; i++) {
        uint64_t bits;
        memcpy(&bits, &t->samples_ns[i], 8);
        for (int k = 0; k < 8; k++)
            b[8 * i + k] = (unsigned char)(bits >> (8 * k));
    }
    return b;
}

static mc_status insert_timing(mc_store *s, int64_t result_id, const mc_timing *t, mc_err *err)
{
    sqlite3_stmt *st = NULL;
    mc_status rc = stmt(s, ST_TIMING_INSERT, &st, err);
    if (rc)
        return rc;
    unsigned char *blob = samples_blob(t);
    if (!blob)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for %d samples", t->n);
    sqlite3_bind_int64(st, 1, result_id);
    sqlite3_bind_int(st, 2, t->n);
    sqlite3_bind_int64(st, 3, t->calls_per_sample);
    sqlite3_bind_double(st, 4, t->min_ns);
    sqlite3_bind_double(st, 5, t->median_ns);
    sqlite3_bind_double(st, 6, t->mad_ns);
    bind_real_or_null(st, 7, t->ci_lo_ns);
    bind_real_or_null(st, 8, t->ci_hi_ns);
    sqlite3_bind_double(st, 9, t->gflops);
    sqlite3_bind_double(st, 10, t->gbs);
    sqlite3_bind_double(st, 11, t->cpu_mhz);
    sqlite3_bind_double(st, 12, t->loadavg);
    sqlite3_bind_double(st, 13, t->resolution_ns);
    sqlite3_bind_int(st, 14, t->converged);
    sqlite3_bind_blob(st, 15, blob, t->n * 8, free);
    return step_done(s, st, "storing a timing", err);
}

static mc_status insert_row(mc_store *s, int64_t run_id, const mc_result_row *row, mc_err *err)
{
    char key[MC_KEY_LEN], op[64], params[4096];
    if (row->kase) {
        snprintf(key, sizeof key, "%s", row->kase->key);
        snprintf(op, sizeof op, "%s", row->kase->op->name);
        mc_status rc = mc_store_params_json(row->kase, params, sizeof params, err);
        if (rc)
            return rc;
    } else {
        if (!row->case_key || !row->op_name)
            return mc_err_set(err, MC_ERR_INTERNAL, "a result row without a case");
        snprintf(key, sizeof key, "%s", row->case_key);
        snprintf(op, sizeof op, "%s", row->op_name);
        snprintf(params, sizeof params, "%s", row->params_json ? row->params_json : "{}");
    }
    if (!row->res || !row->variant_name || !row->backend)
        return mc_err_set(err, MC_ERR_INTERNAL, "result row for %s lacks its result or variant", key);
    int64_t cid = 0, vid = 0;
    mc_status rc = case_id(s, key, op, params, &cid, err);
    if (!rc)
        rc = variant_id(s, row->backend, row->variant_name, row->code_hash ? row->code_hash : "", &vid, err);
    sqlite3_stmt *st = NULL;
    if (!rc)
        rc = stmt(s, ST_RESULT_DELETE, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, cid);
    sqlite3_bind_int64(st, 3, vid);
    rc = step_done(s, st, "replacing a result", err);
    if (!rc)
        rc = stmt(s, ST_RESULT_INSERT, &st, err);
    if (rc)
        return rc;
    const mc_result *r = row->res;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, cid);
    sqlite3_bind_int64(st, 3, vid);
    bind_text(st, 4, mc_result_kind_name(r->kind));
    bind_text(st, 5, r->ran);
    sqlite3_bind_int64(st, 6, r->n_checked);
    sqlite3_bind_int64(st, 7, r->n_bad);
    sqlite3_bind_int64(st, 8, r->worst_index);
    bind_real_or_null(st, 9, r->worst_out);
    bind_real_or_null(st, 10, r->worst_ref);
    bind_real_or_null(st, 11, r->worst_err);
    bind_real_or_null(st, 12, r->worst_bound);
    bind_real_or_null(st, 13, r->max_ratio);
    bind_real_or_null(st, 14, r->nmse);
    sqlite3_bind_int(st, 15, r->signal);
    sqlite3_bind_double(st, 16, r->elapsed_ms);
    bind_text(st, 17, r->message);
    bind_text(st, 18, row->output ? row->output : "");
    rc = step_done(s, st, "storing a result", err);
    if (!rc && row->timing)
        rc = insert_timing(s, sqlite3_last_insert_rowid(s->db), row->timing, err);
    return rc;
}

mc_status mc_store_add_results(mc_store *s, int64_t run_id, const mc_result_row *rows, int n, mc_err *err)
{
    if (n <= 0)
        return MC_OK;
    mc_status rc = begin(s, err);
    for (int i = 0; !rc && i < n; i++)
        rc = insert_row(s, run_id, &rows[i], err);
    return finish(s, rc, err);
}

/* ---- reading runs ---- */

#define RUN_COLUMNS                                                                                     \
    "r.id, r.uuid, r.commit_sha, r.parent_sha, r.branch, r.dirty, r.tier, r.mode, r.paired_with, "    \
    "r.status, r.started_at, r.ended_at, m.fingerprint, r.tool_version, "                             \
    "(SELECT count(*) FROM result x WHERE x.run_id = r.id), "                                         \
    "(SELECT count(*) FROM result x JOIN timing t ON t.result_id = x.id WHERE x.run_id = r.id) "

static void read_run(sqlite3_stmt *st, mc_run_record *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    column_copy(st, 1, r->uuid, sizeof r->uuid);
    column_copy(st, 2, r->commit, sizeof r->commit);
    column_copy(st, 3, r->parent, sizeof r->parent);
    column_copy(st, 4, r->branch, sizeof r->branch);
    r->dirty = sqlite3_column_int(st, 5) != 0;
    column_copy(st, 6, r->tier, sizeof r->tier);
    column_copy(st, 7, r->mode, sizeof r->mode);
    r->paired_with = sqlite3_column_int64(st, 8);
    column_copy(st, 9, r->status, sizeof r->status);
    column_copy(st, 10, r->started_at, sizeof r->started_at);
    column_copy(st, 11, r->ended_at, sizeof r->ended_at);
    column_copy(st, 12, r->fingerprint, sizeof r->fingerprint);
    column_copy(st, 13, r->tool_version, sizeof r->tool_version);
    r->n_results = sqlite3_column_int(st, 14);
    r->n_timings = sqlite3_column_int(st, 15);
}

mc_status mc_store_get_run(mc_store *s, int64_t run_id, mc_run_record *out, mc_err *err)
{
    sqlite3_stmt *st = NULL;
    static const char sql[] = "SELECT " RUN_COLUMNS "FROM run r JOIN machine m ON m.id = r.machine_id WHERE r.id = ?1";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "reading a run");
    sqlite3_bind_int64(st, 1, run_id);
    int rc = sqlite3_step(st);
    mc_status status = MC_OK;
    if (rc == SQLITE_ROW)
        read_run(st, out);
    else if (rc == SQLITE_DONE)
        status = mc_err_set(err, MC_ERR_CONFIG, "no run %" PRId64 " in %s", run_id, s->path);
    else
        status = db_fail(s, err, "reading a run");
    sqlite3_finalize(st);
    return status;
}

mc_status mc_store_get_run_selection(mc_store *s, int64_t run_id, mc_run_selection *out, mc_err *err)
{
    static const char sql[] = "SELECT sel_tier IS NOT NULL, command_line, shard, sel_tier, sel_cases, sel_cases_dir, "
                              "sel_backends, sel_op, sel_filter, sel_variants FROM run WHERE id = ?1";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "reading a run's selection");
    sqlite3_bind_int64(st, 1, run_id);
    mc_status status = MC_OK;
    int rc = sqlite3_step(st);
    memset(out, 0, sizeof *out);
    if (rc == SQLITE_ROW && !sqlite3_column_int(st, 0)) {
        mc_run_selection_parse((const char *)sqlite3_column_text(st, 1), out); /* a run from before migration 3 */
    } else if (rc == SQLITE_ROW) {
        struct {
            char *dst;
            size_t cap;
        } fields[] = {{out->tier, sizeof out->tier},           {out->cases, sizeof out->cases},
                      {out->cases_dir, sizeof out->cases_dir}, {out->backends, sizeof out->backends},
                      {out->op, sizeof out->op},               {out->filter, sizeof out->filter},
                      {out->variants, sizeof out->variants}};
        for (int i = 0; i < (int)(sizeof fields / sizeof fields[0]); i++)
            column_copy(st, 3 + i, fields[i].dst, fields[i].cap);
        column_copy(st, 2, out->shard, sizeof out->shard);
    } else if (rc == SQLITE_DONE) {
        status = mc_err_set(err, MC_ERR_CONFIG, "no run %" PRId64 " in %s", run_id, s->path);
    } else {
        status = db_fail(s, err, "reading a run's selection");
    }
    sqlite3_finalize(st);
    return status;
}

static bool is_hex_prefix(const char *s)
{
    size_t n = strlen(s);
    return n >= 4 && n <= 40 && strspn(s, "0123456789abcdefABCDEF") == n;
}

mc_status mc_store_newest_run(mc_store *s, const mc_run_query *q, int64_t *run_id, mc_err *err)
{
    const char *prefix = q->commit_prefix;
    if (prefix && !is_hex_prefix(prefix) && strcmp(prefix, "unknown") != 0)
        return mc_err_set(err, MC_ERR_USAGE, "'%s' is neither a run nor a commit (4 to 40 hex digits, or a revision git knows)", prefix);
    /* the commits that match, to catch an ambiguous prefix */
    static const char sql[] =
        "SELECT r.id, r.commit_sha FROM run r JOIN machine m ON m.id = r.machine_id "
        "WHERE r.status NOT IN ('incomplete', 'aborted') AND (?1 IS NULL OR r.commit_sha = ?1 OR "
        "      (length(?1) < 40 AND substr(r.commit_sha, 1, length(?1)) = lower(?1))) "
        "AND (?2 IS NULL OR m.fingerprint = ?2) AND r.id <> ?3 "
        "AND (?4 = 0 OR EXISTS (SELECT 1 FROM result x JOIN timing t ON t.result_id = x.id WHERE x.run_id = r.id)) "
        "ORDER BY r.started_at DESC, r.id DESC";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "finding a run");
    if (prefix)
        bind_text(st, 1, prefix);
    if (q->fingerprint)
        bind_text(st, 2, q->fingerprint);
    sqlite3_bind_int64(st, 3, q->exclude_id);
    sqlite3_bind_int(st, 4, q->with_timings);
    mc_status status = MC_OK;
    char first_commit[MC_SHA_LEN] = "";
    bool found = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char commit[MC_SHA_LEN];
        column_copy(st, 1, commit, sizeof commit);
        if (!found) {
            *run_id = sqlite3_column_int64(st, 0);
            snprintf(first_commit, sizeof first_commit, "%s", commit);
            found = true;
        } else if (prefix && strcmp(commit, first_commit) != 0) {
            status = mc_err_set(err, MC_ERR_USAGE, "commit prefix '%s' is ambiguous (%.12s..., %.12s...)", prefix,
                                first_commit, commit);
            break;
        }
        if (!prefix)
            break;
    }
    if (!status && rc != SQLITE_ROW && rc != SQLITE_DONE)
        status = db_fail(s, err, "finding a run");
    if (!status && !found)
        status = mc_err_set(err, MC_ERR_CONFIG, "no finished%s run%s%s%s in %s", q->with_timings ? " timed" : "",
                            prefix ? " of commit " : "", prefix ? prefix : "",
                            q->fingerprint ? " on this machine" : "", s->path);
    sqlite3_finalize(st);
    return status;
}

/* A run's timed pairs, one row per (case, backend, variant name): the unit of a baseline. */
#define TIMED_PAIRS(run)                                                                                             \
    "SELECT DISTINCT x.case_id, v.backend, v.name FROM result x JOIN timing t ON t.result_id = x.id "               \
    "JOIN variant v ON v.id = x.variant_id WHERE x.run_id = " run

mc_status mc_store_base_cover(mc_store *s, int64_t base_run_id, int64_t cand_run_id, int *covered, int *timed,
                              mc_err *err)
{
    static const char sql[] = "WITH cand AS (" TIMED_PAIRS("?2") "), base AS (" TIMED_PAIRS("?1") ") "
                              "SELECT (SELECT count(*) FROM cand), "
                              "(SELECT count(*) FROM cand JOIN base USING (case_id, backend, name))";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "counting a baseline's pairs");
    sqlite3_bind_int64(st, 1, base_run_id);
    sqlite3_bind_int64(st, 2, cand_run_id);
    mc_status status = MC_OK;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *timed = sqlite3_column_int(st, 0);
        *covered = sqlite3_column_int(st, 1);
    } else {
        status = db_fail(s, err, "counting a baseline's pairs");
    }
    sqlite3_finalize(st);
    return status;
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
        "ORDER BY covered DESC, (r.sel_tier IS me.sel_tier AND r.sel_cases IS me.sel_cases "
        "    AND r.sel_cases_dir IS me.sel_cases_dir AND r.sel_backends IS me.sel_backends AND r.sel_op IS me.sel_op "
        "    AND r.sel_filter IS me.sel_filter AND r.sel_variants IS me.sel_variants) DESC, "
        "r.started_at DESC, r.id DESC LIMIT 1";
    sqlite3_stmt *st = NULL;
    bool any_commit = !q->commit_prefix || !q->commit_prefix[0];
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "finding a baseline run");
    if (!any_commit)
        bind_text(st, 1, q->commit_prefix);
    if (q->fingerprint)
        bind_text(st, 2, q->fingerprint);
    sqlite3_bind_int64(st, 3, cand_run_id);
    sqlite3_bind_int(st, 4, q->with_timings);
    mc_status status = MC_OK;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *base_run_id = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE && any_commit)
        status = mc_err_set(err, MC_ERR_CONFIG, "no earlier%s run%s that ended passed or failed in %s",
                            q->with_timings ? " timed" : "", q->fingerprint ? " on this machine" : "", s->path);
    else if (rc == SQLITE_DONE)
        status = mc_err_set(err, MC_ERR_CONFIG, "no%s run of commit %.12s%s that ended passed or failed in %s",
                            q->with_timings ? " timed" : "", q->commit_prefix, q->fingerprint ? " on this machine" : "",
                            s->path);
    else
        status = db_fail(s, err, "finding a baseline run");
    sqlite3_finalize(st);
    return status;
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
    *out = NULL;
    *count = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT " RUN_COLUMNS "FROM run r JOIN machine m ON m.id = r.machine_id "
                           "WHERE ?1 IS NULL OR m.fingerprint = ?1 ORDER BY r.started_at DESC, r.id DESC LIMIT ?2",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "listing runs");
    if (fingerprint)
        bind_text(st, 1, fingerprint);
    sqlite3_bind_int(st, 2, limit > 0 ? limit : INT_MAX);
    mc_status status = MC_OK;
    int cap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*count == cap) {
            cap = cap ? 2 * cap : 16;
            mc_run_record *grown = realloc(*out, (size_t)cap * sizeof **out);
            if (!grown) {
                status = mc_err_set(err, MC_ERR_NOMEM, "no memory for %d runs", cap);
                break;
            }
            *out = grown;
        }
        read_run(st, &(*out)[(*count)++]);
    }
    if (!status && rc != SQLITE_DONE)
        status = db_fail(s, err, "listing runs");
    sqlite3_finalize(st);
    if (status) {
        free(*out);
        *out = NULL;
        *count = 0;
    }
    return status;
}

/* ---- reading timings ---- */

static mc_status read_samples(sqlite3_stmt *st, int col, mc_timing *t, mc_err *err)
{
    const unsigned char *b = sqlite3_column_blob(st, col);
    int bytes = sqlite3_column_bytes(st, col);
    if (bytes != 8 * t->n)
        return mc_err_set(err, MC_ERR_DB, "a timing claims %d samples but holds %d bytes", t->n, bytes);
    t->samples_ns = malloc((size_t)(t->n ? t->n : 1) * sizeof *t->samples_ns);
    if (!t->samples_ns)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for %d samples", t->n);
    for (int i = 0; i < t->n; i++) {
        uint64_t bits = 0;
        for (int k = 0; k < 8; k++)
            bits |= (uint64_t)b[8 * i + k] << (8 * k);
        memcpy(&t->samples_ns[i], &bits, 8);
    }
    return MC_OK;
}

mc_status mc_store_load_timings(mc_store *s, int64_t run_id, mc_timing_set *out, mc_err *err)
{
    memset(out, 0, sizeof *out);
    static const char sql[] =
        "SELECT c.id, v.id, c.key, c.op, c.params, v.backend, v.name, v.code_hash, t.n, t.calls_per_sample, "
        "t.min_ns, t.median_ns, t.mad_ns, t.ci_lo_ns, t.ci_hi_ns, t.gflops, t.gbs, t.cpu_mhz, t.loadavg, "
        "t.resolution_ns, t.converged, t.samples "
        "FROM result r JOIN timing t ON t.result_id = r.id JOIN test_case c ON c.id = r.case_id "
        "JOIN variant v ON v.id = r.variant_id WHERE r.run_id = ?1 ORDER BY c.key, v.backend, v.name";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "loading timings");
    sqlite3_bind_int64(st, 1, run_id);
    mc_status status = MC_OK;
    int cap = 0, rc;
    while (!status && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->count == cap) {
            cap = cap ? 2 * cap : 64;
            mc_timing_row *grown = realloc(out->rows, (size_t)cap * sizeof *grown);
            if (!grown) {
                status = mc_err_set(err, MC_ERR_NOMEM, "no memory for %d timings", cap);
                break;
            }
            out->rows = grown;
        }
        mc_timing_row *row = &out->rows[out->count];
        memset(row, 0, sizeof *row);
        row->case_id = sqlite3_column_int64(st, 0);
        row->variant_id = sqlite3_column_int64(st, 1);
        column_copy(st, 2, row->case_key, sizeof row->case_key);
        column_copy(st, 3, row->op, sizeof row->op);
        const unsigned char *params = sqlite3_column_text(st, 4);
        row->params_json = strdup(params ? (const char *)params : "{}");
        column_copy(st, 5, row->backend, sizeof row->backend);
        column_copy(st, 6, row->variant, sizeof row->variant);
        column_copy(st, 7, row->code_hash, sizeof row->code_hash);
        mc_timing *t = &row->timing;
        t->n = sqlite3_column_int(st, 8);
        t->calls_per_sample = sqlite3_column_int64(st, 9);
        t->min_ns = sqlite3_column_double(st, 10);
        t->median_ns = sqlite3_column_double(st, 11);
        t->mad_ns = sqlite3_column_double(st, 12);
        t->ci_lo_ns = column_real_or(st, 13, -INFINITY);
        t->ci_hi_ns = column_real_or(st, 14, INFINITY);
        t->ci_half_ns = (t->ci_hi_ns - t->ci_lo_ns) / 2;
        t->gflops = sqlite3_column_double(st, 15);
        t->gbs = sqlite3_column_double(st, 16);
        t->cpu_mhz = sqlite3_column_double(st, 17);
        t->loadavg = sqlite3_column_double(st, 18);
        t->resolution_ns = sqlite3_column_double(st, 19);
        t->converged = sqlite3_column_int(st, 20) != 0;
        out->count++;
        if (!row->params_json)
            status = mc_err_set(err, MC_ERR_NOMEM, "no memory for case params");
        if (!status)
            status = read_samples(st, 21, t, err);
    }
    if (!status && rc != SQLITE_DONE)
        status = db_fail(s, err, "loading timings");
    sqlite3_finalize(st);
    if (status)
        mc_timing_set_free(out);
    return status;
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

/* The summary of old ++ more: what mc_store_append_samples writes back. */
static mc_status merged_timing(const mc_timing *old, const mc_timing *more, mc_timing *out, mc_err *err)
{
    *out = *old;
    out->n = old->n + more->n;
    out->samples_ns = malloc((size_t)out->n * sizeof *out->samples_ns);
    if (!out->samples_ns)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for %d samples", out->n);
    memcpy(out->samples_ns, old->samples_ns, (size_t)old->n * sizeof *old->samples_ns);
    memcpy(out->samples_ns + old->n, more->samples_ns, (size_t)more->n * sizeof *more->samples_ns);
    mc_timing_cfg defaults = mc_timing_defaults();
    mc_status st = mc_timing_finish(out, defaults.conf, err);
    if (st)
        return st;
    /* flops and bytes per call are the op's: recover them from the old rate and median */
    mc_timing_set_rates(out, old->gflops * old->median_ns, old->gbs * old->median_ns);
    out->converged = out->ci_half_ns < defaults.target_rel_ci * out->median_ns;
    out->cpu_mhz = old->cpu_mhz > 0 && more->cpu_mhz > 0
                       ? (old->cpu_mhz * old->n + more->cpu_mhz * more->n) / out->n
                       : fmax(old->cpu_mhz, more->cpu_mhz);
    out->loadavg = fmax(old->loadavg, more->loadavg);
    return MC_OK;
}

mc_status mc_store_append_samples(mc_store *s, int64_t run_id, const char *case_key, const char *backend,
                                  const char *variant, const char *code_hash, const mc_timing *more, mc_err *err)
{
    static const char find_sql[] =
        "SELECT t.result_id, t.n, t.median_ns, t.gflops, t.gbs, t.cpu_mhz, t.loadavg, t.samples "
        "FROM result r JOIN timing t ON t.result_id = r.id JOIN test_case c ON c.id = r.case_id "
        "JOIN variant v ON v.id = r.variant_id "
        "WHERE r.run_id = ?1 AND c.key = ?2 AND v.backend = ?3 AND v.name = ?4 AND v.code_hash = ?5";
    static const char update_sql[] =
        "UPDATE timing SET n = ?2, min_ns = ?3, median_ns = ?4, mad_ns = ?5, ci_lo_ns = ?6, ci_hi_ns = ?7, "
        "gflops = ?8, gbs = ?9, cpu_mhz = ?10, loadavg = ?11, converged = ?12, samples = ?13 WHERE result_id = ?1";
    if (!more || more->n < 1)
        return MC_OK;
    sqlite3_stmt *find = NULL, *update = NULL;
    mc_timing old = {0}, merged = {0};
    int64_t result_id = 0;
    mc_status rc = begin(s, err);
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(s->db, find_sql, -1, &find, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, update_sql, -1, &update, NULL) != SQLITE_OK) {
        rc = db_fail(s, err, "preparing to append samples");
        goto done;
    }
    sqlite3_bind_int64(find, 1, run_id);
    bind_text(find, 2, case_key);
    bind_text(find, 3, backend);
    bind_text(find, 4, variant);
    bind_text(find, 5, code_hash);
    int step = sqlite3_step(find);
    if (step != SQLITE_ROW) {
        rc = step == SQLITE_DONE ? mc_err_set(err, MC_ERR_CONFIG,
                                              "run %" PRId64 " has no timing of %s [%s %s, code %s] to add to", run_id,
                                              case_key, backend, variant, code_hash)
                                 : db_fail(s, err, "finding a timing");
        goto done;
    }
    result_id = sqlite3_column_int64(find, 0);
    old.n = sqlite3_column_int(find, 1);
    old.median_ns = sqlite3_column_double(find, 2);
    old.gflops = sqlite3_column_double(find, 3);
    old.gbs = sqlite3_column_double(find, 4);
    old.cpu_mhz = sqlite3_column_double(find, 5);
    old.loadavg = sqlite3_column_double(find, 6);
    rc = read_samples(find, 7, &old, err);
    if (!rc)
        rc = merged_timing(&old, more, &merged, err);
    if (rc)
        goto done;
    unsigned char *blob = samples_blob(&merged);
    if (!blob) {
        rc = mc_err_set(err, MC_ERR_NOMEM, "no memory for %d samples", merged.n);
        goto done;
    }
    sqlite3_bind_int64(update, 1, result_id);
    sqlite3_bind_int(update, 2, merged.n);
    sqlite3_bind_double(update, 3, merged.min_ns);
    sqlite3_bind_double(update, 4, merged.median_ns);
    sqlite3_bind_double(update, 5, merged.mad_ns);
    bind_real_or_null(update, 6, merged.ci_lo_ns);
    bind_real_or_null(update, 7, merged.ci_hi_ns);
    sqlite3_bind_double(update, 8, merged.gflops);
    sqlite3_bind_double(update, 9, merged.gbs);
    sqlite3_bind_double(update, 10, merged.cpu_mhz);
    sqlite3_bind_double(update, 11, merged.loadavg);
    sqlite3_bind_int(update, 12, merged.converged);
    sqlite3_bind_blob(update, 13, blob, merged.n * 8, free);
    rc = step_done(s, update, "appending samples", err);
done:
    sqlite3_finalize(find);
    sqlite3_finalize(update);
    mc_timing_free(&old);
    mc_timing_free(&merged);
    return finish(s, rc, err);
}

mc_status mc_store_history(mc_store *s, const char *case_key, const char *backend, const char *variant,
                           const char *fingerprint, mc_history_point **out, int *count, mc_err *err)
{
    *out = NULL;
    *count = 0;
    static const char sql[] =
        "SELECT r.id, r.commit_sha, r.started_at, t.median_ns, v.code_hash "
        "FROM result x JOIN timing t ON t.result_id = x.id JOIN run r ON r.id = x.run_id "
        "JOIN machine m ON m.id = r.machine_id JOIN test_case c ON c.id = x.case_id "
        "JOIN variant v ON v.id = x.variant_id "
        "WHERE c.key = ?1 AND v.backend = ?2 AND v.name = ?3 AND (?4 IS NULL OR m.fingerprint = ?4) "
        "AND r.status <> 'incomplete' ORDER BY r.started_at, r.id";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "reading history");
    bind_text(st, 1, case_key);
    bind_text(st, 2, backend);
    bind_text(st, 3, variant);
    if (fingerprint)
        bind_text(st, 4, fingerprint);
    mc_status status = MC_OK;
    int cap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*count == cap) {
            cap = cap ? 2 * cap : 32;
            mc_history_point *grown = realloc(*out, (size_t)cap * sizeof *grown);
            if (!grown) {
                status = mc_err_set(err, MC_ERR_NOMEM, "no memory for %d history points", cap);
                break;
            }
            *out = grown;
        }
        mc_history_point *p = &(*out)[(*count)++];
        p->run_id = sqlite3_column_int64(st, 0);
        column_copy(st, 1, p->commit, sizeof p->commit);
        column_copy(st, 2, p->started_at, sizeof p->started_at);
        p->median_ns = sqlite3_column_double(st, 3);
        column_copy(st, 4, p->code_hash, sizeof p->code_hash);
    }
    if (!status && rc != SQLITE_DONE)
        status = db_fail(s, err, "reading history");
    sqlite3_finalize(st);
    if (status) {
        free(*out);
        *out = NULL;
        *count = 0;
    }
    return status;
}

/* ---- verdicts ---- */

mc_status mc_store_add_verdicts(mc_store *s, const mc_verdict_row *rows, int n, mc_err *err)
{
    if (n <= 0)
        return MC_OK;
    char now[MC_TIME_LEN];
    mc_runinfo_now(now);
    mc_status rc = begin(s, err);
    for (int i = 0; !rc && i < n; i++) {
        const mc_verdict_row *v = &rows[i];
        sqlite3_stmt *st = NULL;
        rc = stmt(s, ST_VERDICT_UPSERT, &st, err);
        if (rc)
            break;
        sqlite3_bind_int64(st, 1, v->base_run_id);
        sqlite3_bind_int64(st, 2, v->cand_run_id);
        sqlite3_bind_int64(st, 3, v->case_id);
        sqlite3_bind_int64(st, 4, v->base_variant_id);
        sqlite3_bind_int64(st, 5, v->cand_variant_id);
        bind_text(st, 6, v->method);
        sqlite3_bind_double(st, 7, v->ratio);
        bind_real_or_null(st, 8, v->ci_lo);
        bind_real_or_null(st, 9, v->ci_hi);
        sqlite3_bind_double(st, 10, v->p);
        sqlite3_bind_double(st, 11, v->q);
        sqlite3_bind_double(st, 12, v->threshold);
        bind_text(st, 13, v->verdict);
        bind_text(st, 14, v->label);
        sqlite3_bind_int(st, 15, v->same_code);
        bind_text(st, 16, now);
        rc = step_done(s, st, "storing a verdict", err);
    }
    return finish(s, rc, err);
}

mc_status mc_store_count_verdicts(mc_store *s, int64_t base_run_id, int64_t cand_run_id, int *count, mc_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM verdict WHERE base_run_id = ?1 AND cand_run_id = ?2", -1, &st,
                           NULL) != SQLITE_OK)
        return db_fail(s, err, "counting verdicts");
    sqlite3_bind_int64(st, 1, base_run_id);
    sqlite3_bind_int64(st, 2, cand_run_id);
    int64_t v = 0;
    bool found = false;
    mc_status rc = step_int(s, st, &v, &found, "counting verdicts", err);
    sqlite3_finalize(st);
    *count = (int)v;
    return rc;
}

/* ---- per machine ---- */

mc_status mc_store_set_machine_peak(mc_store *s, const mc_machine *m, const char *name, double value,
                                    const char *unit, mc_err *err)
{
    if (!isfinite(value))
        return mc_err_set(err, MC_ERR_INTERNAL, "machine peak %s is not finite", name);
    char now[MC_TIME_LEN];
    mc_runinfo_now(now);
    int64_t mid = 0;
    mc_status rc = begin(s, err);
    if (!rc)
        rc = machine_id(s, m, &mid, err);
    sqlite3_stmt *st = NULL;
    if (!rc && sqlite3_prepare_v2(s->db,
                                  "INSERT INTO machine_peak (machine_id, name, value, unit, measured_at) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (machine_id, name) DO UPDATE SET "
                                  "value = excluded.value, unit = excluded.unit, measured_at = excluded.measured_at",
                                  -1, &st, NULL) != SQLITE_OK)
        rc = db_fail(s, err, "storing a machine peak");
    if (!rc) {
        sqlite3_bind_int64(st, 1, mid);
        bind_text(st, 2, name);
        sqlite3_bind_double(st, 3, value);
        bind_text(st, 4, unit);
        bind_text(st, 5, now);
        rc = step_done(s, st, "storing a machine peak", err);
    }
    sqlite3_finalize(st);
    return finish(s, rc, err);
}

mc_status mc_store_get_machine_peak(mc_store *s, const char *fingerprint, const char *name, double *value,
                                    bool *found, mc_err *err)
{
    sqlite3_stmt *st = NULL;
    *found = false;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT p.value FROM machine_peak p JOIN machine m ON m.id = p.machine_id "
                           "WHERE m.fingerprint = ?1 AND p.name = ?2",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "reading a machine peak");
    bind_text(st, 1, fingerprint);
    bind_text(st, 2, name);
    int rc = sqlite3_step(st);
    mc_status status = MC_OK;
    if (rc == SQLITE_ROW) {
        *value = sqlite3_column_double(st, 0);
        *found = true;
    } else if (rc != SQLITE_DONE) {
        status = db_fail(s, err, "reading a machine peak");
    }
    sqlite3_finalize(st);
    return status;
}

mc_status mc_store_add_tuning(mc_store *s, const mc_machine *m, int64_t run_id, const char *op, const char *shape_key,
                              const char *config, double median_ns, double gflops, mc_err *err)
{
    char now[MC_TIME_LEN];
    mc_runinfo_now(now);
    int64_t mid = 0;
    mc_status rc = begin(s, err);
    if (!rc)
        rc = machine_id(s, m, &mid, err);
    sqlite3_stmt *st = NULL;
    if (!rc && sqlite3_prepare_v2(s->db,
                                  "INSERT INTO tuning (machine_id, run_id, op, shape_key, config, median_ns, gflops, "
                                  "measured_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                                  "ON CONFLICT (machine_id, op, shape_key, config) DO UPDATE SET "
                                  "run_id = excluded.run_id, median_ns = excluded.median_ns, "
                                  "gflops = excluded.gflops, measured_at = excluded.measured_at",
                                  -1, &st, NULL) != SQLITE_OK)
        rc = db_fail(s, err, "storing a tuning row");
    if (!rc) {
        sqlite3_bind_int64(st, 1, mid);
        if (run_id)
            sqlite3_bind_int64(st, 2, run_id);
        bind_text(st, 3, op);
        bind_text(st, 4, shape_key);
        bind_text(st, 5, config);
        sqlite3_bind_double(st, 6, median_ns);
        sqlite3_bind_double(st, 7, gflops);
        bind_text(st, 8, now);
        rc = step_done(s, st, "storing a tuning row", err);
    }
    sqlite3_finalize(st);
    return finish(s, rc, err);
}

mc_status mc_store_best_tuning(mc_store *s, const char *fingerprint, const char *op, const char *shape_key,
                               char *config, size_t config_cap, double *median_ns, bool *found, mc_err *err)
{
    sqlite3_stmt *st = NULL;
    *found = false;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT t.config, t.median_ns FROM tuning t JOIN machine m ON m.id = t.machine_id "
                           "WHERE m.fingerprint = ?1 AND t.op = ?2 AND t.shape_key = ?3 ORDER BY t.median_ns LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "reading tuning rows");
    bind_text(st, 1, fingerprint);
    bind_text(st, 2, op);
    bind_text(st, 3, shape_key);
    int rc = sqlite3_step(st);
    mc_status status = MC_OK;
    if (rc == SQLITE_ROW) {
        column_copy(st, 0, config, config_cap);
        *median_ns = sqlite3_column_double(st, 1);
        *found = true;
    } else if (rc != SQLITE_DONE) {
        status = db_fail(s, err, "reading tuning rows");
    }
    sqlite3_finalize(st);
    return status;
}

mc_status mc_store_set_mutation_score(mc_store *s, int64_t run_id, int caught, int total, mc_err *err)
{
    if (caught < 0 || total < caught)
        return mc_err_set(err, MC_ERR_INTERNAL, "mutation score %d of %d makes no sense", caught, total);
    mc_status rc = begin(s, err);
    sqlite3_stmt *st = NULL;
    if (!rc && sqlite3_prepare_v2(s->db,
                                  "INSERT INTO mutation_score (run_id, caught, total) VALUES (?1, ?2, ?3) "
                                  "ON CONFLICT (run_id) DO UPDATE SET caught = excluded.caught, total = excluded.total",
                                  -1, &st, NULL) != SQLITE_OK)
        rc = db_fail(s, err, "storing a mutation score");
    if (!rc) {
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int(st, 2, caught);
        sqlite3_bind_int(st, 3, total);
        rc = step_done(s, st, "storing a mutation score", err);
    }
    sqlite3_finalize(st);
    return finish(s, rc, err);
}

/* ---- merging ---- */

/* Each step copies what the target lacks, matching rows by identity (run uuid, case key, variant
 * triple, machine fingerprint), never by local id; `adds_to` names the statistic its changes
 * count towards. */
typedef enum merge_stat { COUNT_NONE, COUNT_RUNS, COUNT_RESULTS, COUNT_TIMINGS, COUNT_VERDICTS } merge_stat;

typedef struct merge_step {
    const char *what;
    const char *sql;
    merge_stat adds_to;
} merge_step;

/* Joins from a source row x to the target's run, case and variant (shared by several steps). */
#define RUN_MAP "JOIN src.run sr ON sr.id = x.run_id JOIN main.run mr ON mr.uuid = sr.uuid "
#define CASE_MAP "JOIN src.test_case sc ON sc.id = x.case_id JOIN main.test_case mc ON mc.key = sc.key "
#define VARIANT_MAP                                                                                  \
    "JOIN src.variant sv ON sv.id = x.variant_id JOIN main.variant mv ON mv.backend = sv.backend "  \
    "AND mv.name = sv.name AND mv.code_hash = sv.code_hash "

static const merge_step merge_steps[] = {
    {"machines",
     "INSERT INTO main.machine (fingerprint, cpu_model, cpu_flags, cores, os, compiler, cflags, devices, first_seen) "
     "SELECT fingerprint, cpu_model, cpu_flags, cores, os, compiler, cflags, devices, first_seen FROM src.machine "
     "WHERE true ON CONFLICT (fingerprint) DO NOTHING",
     COUNT_NONE},
    {"cases",
     "INSERT INTO main.test_case (key, op, params) SELECT key, op, params FROM src.test_case WHERE true "
     "ON CONFLICT (key) DO NOTHING",
     COUNT_NONE},
    {"variants",
     "INSERT INTO main.variant (backend, name, code_hash) SELECT backend, name, code_hash FROM src.variant "
     "WHERE true ON CONFLICT (backend, name, code_hash) DO NOTHING",
     COUNT_NONE},
    {"runs",
     "INSERT INTO main.run (uuid, machine_id, commit_sha, dirty, branch, parent_sha, tier, command_line, "
     "tool_version, seed, mode, shard, started_at, ended_at, status, sel_tier, sel_cases, sel_cases_dir, "
     "sel_backends, sel_op, sel_filter, sel_variants) "
     "SELECT r.uuid, mm.id, r.commit_sha, r.dirty, r.branch, r.parent_sha, r.tier, r.command_line, r.tool_version, "
     "r.seed, r.mode, r.shard, r.started_at, r.ended_at, r.status, r.sel_tier, r.sel_cases, r.sel_cases_dir, "
     "r.sel_backends, r.sel_op, r.sel_filter, r.sel_variants FROM src.run r "
     "JOIN src.machine sm ON sm.id = r.machine_id JOIN main.machine mm ON mm.fingerprint = sm.fingerprint "
     "WHERE r.uuid NOT IN (SELECT uuid FROM main.run) ORDER BY r.id",
     COUNT_RUNS},
    {"run pairings",
     "UPDATE main.run SET paired_with = (SELECT mb.id FROM src.run sr JOIN src.run sb ON sb.id = sr.paired_with "
     "JOIN main.run mb ON mb.uuid = sb.uuid WHERE sr.uuid = main.run.uuid) "
     "WHERE paired_with IS NULL AND uuid IN (SELECT uuid FROM src.run WHERE paired_with IS NOT NULL)",
     COUNT_NONE},
    {"run statuses", /* a shard merged while running, merged again once finished */
     "UPDATE main.run SET status = (SELECT status FROM src.run sr WHERE sr.uuid = main.run.uuid), "
     "ended_at = (SELECT ended_at FROM src.run sr WHERE sr.uuid = main.run.uuid) "
     "WHERE status = 'incomplete' AND uuid IN (SELECT uuid FROM src.run WHERE status <> 'incomplete')",
     COUNT_NONE},
    {"results",
     "INSERT INTO main.result (run_id, case_id, variant_id, kind, ran, n_checked, n_bad, worst_index, worst_out, "
     "worst_ref, worst_err, worst_bound, max_ratio, nmse, signal, elapsed_ms, message, output) "
     "SELECT mr.id, mc.id, mv.id, x.kind, x.ran, x.n_checked, x.n_bad, x.worst_index, x.worst_out, x.worst_ref, "
     "x.worst_err, x.worst_bound, x.max_ratio, x.nmse, x.signal, x.elapsed_ms, x.message, x.output FROM src.result x " RUN_MAP
     CASE_MAP VARIANT_MAP "WHERE true ON CONFLICT (run_id, case_id, variant_id) DO NOTHING",
     COUNT_RESULTS},
    {"timings",
     "INSERT INTO main.timing (result_id, n, calls_per_sample, min_ns, median_ns, mad_ns, ci_lo_ns, ci_hi_ns, "
     "gflops, gbs, cpu_mhz, loadavg, resolution_ns, converged, samples) "
     "SELECT mres.id, t.n, t.calls_per_sample, t.min_ns, t.median_ns, t.mad_ns, t.ci_lo_ns, t.ci_hi_ns, t.gflops, "
     "t.gbs, t.cpu_mhz, t.loadavg, t.resolution_ns, t.converged, t.samples FROM src.timing t "
     "JOIN src.result x ON x.id = t.result_id " RUN_MAP CASE_MAP VARIANT_MAP
     "JOIN main.result mres ON mres.run_id = mr.id AND mres.case_id = mc.id AND mres.variant_id = mv.id "
     "WHERE true ON CONFLICT (result_id) DO NOTHING",
     COUNT_TIMINGS},
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
     COUNT_VERDICTS},
    {"machine peaks",
     "INSERT INTO main.machine_peak (machine_id, name, value, unit, measured_at) "
     "SELECT mm.id, p.name, p.value, p.unit, p.measured_at FROM src.machine_peak p "
     "JOIN src.machine sm ON sm.id = p.machine_id JOIN main.machine mm ON mm.fingerprint = sm.fingerprint "
     "WHERE true ON CONFLICT (machine_id, name) DO UPDATE SET value = excluded.value, unit = excluded.unit, "
     "measured_at = excluded.measured_at WHERE excluded.measured_at > machine_peak.measured_at",
     COUNT_NONE},
    {"tuning rows",
     "INSERT INTO main.tuning (machine_id, run_id, op, shape_key, config, median_ns, gflops, measured_at) "
     "SELECT mm.id, mr.id, t.op, t.shape_key, t.config, t.median_ns, t.gflops, t.measured_at FROM src.tuning t "
     "JOIN src.machine sm ON sm.id = t.machine_id JOIN main.machine mm ON mm.fingerprint = sm.fingerprint "
     "LEFT JOIN src.run sr ON sr.id = t.run_id LEFT JOIN main.run mr ON mr.uuid = sr.uuid "
     "WHERE true ON CONFLICT (machine_id, op, shape_key, config) DO UPDATE SET run_id = excluded.run_id, "
     "median_ns = excluded.median_ns, gflops = excluded.gflops, measured_at = excluded.measured_at "
     "WHERE excluded.measured_at > tuning.measured_at",
     COUNT_NONE},
    {"mutation scores",
     "INSERT INTO main.mutation_score (run_id, caught, total) SELECT mr.id, x.caught, x.total "
     "FROM src.mutation_score x " RUN_MAP "WHERE true ON CONFLICT (run_id) DO NOTHING",
     COUNT_NONE},
};

static mc_status count_src_runs_present(mc_store *s, int *present, mc_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM src.run WHERE uuid IN (SELECT uuid FROM main.run)", -1, &st,
                           NULL) != SQLITE_OK)
        return db_fail(s, err, "merging");
    int64_t v = 0;
    bool found = false;
    mc_status rc = step_int(s, st, &v, &found, "merging", err);
    sqlite3_finalize(st);
    *present = (int)v;
    return rc;
}

mc_status mc_store_merge_from(mc_store *s, const char *src_path, mc_merge_stats *stats, mc_err *err)
{
    memset(stats, 0, sizeof *stats);
    /* open it through the store once: that checks and migrates its schema */
    mc_store *src = NULL;
    mc_status rc = mc_store_open(src_path, &src, err);
    if (rc)
        return rc;
    const char *src_file = sqlite3_db_filename(src->db, "main");
    const char *dst_file = sqlite3_db_filename(s->db, "main");
    bool same = src_file && dst_file && strcmp(src_file, dst_file) == 0;
    mc_store_close(src);
    if (same)
        return mc_err_set(err, MC_ERR_USAGE, "cannot merge %s into itself", src_path);

    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "ATTACH DATABASE ?1 AS src", -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "attaching a database to merge");
    bind_text(st, 1, src_path);
    rc = step_done(s, st, "attaching a database to merge", err);
    sqlite3_finalize(st);
    if (rc)
        return rc;
    rc = begin(s, err);
    if (!rc)
        rc = count_src_runs_present(s, &stats->runs_present, err);
    for (size_t i = 0; !rc && i < sizeof merge_steps / sizeof merge_steps[0]; i++) {
        char *msg = NULL;
        if (sqlite3_exec(s->db, merge_steps[i].sql, NULL, NULL, &msg) != SQLITE_OK) {
            rc = mc_err_set(err, MC_ERR_DB, "merging %s from %s: %s", merge_steps[i].what, src_path,
                            msg ? msg : "sqlite error");
            sqlite3_free(msg);
            break;
        }
        int changed = sqlite3_changes(s->db);
        switch (merge_steps[i].adds_to) {
        case COUNT_RUNS: stats->runs_added += changed; break;
        case COUNT_RESULTS: stats->results_added += changed; break;
        case COUNT_TIMINGS: stats->timings_added += changed; break;
        case COUNT_VERDICTS: stats->verdicts_added += changed; break;
        case COUNT_NONE: break;
        }
    }
    rc = finish(s, rc, err);
    sqlite3_exec(s->db, "DETACH DATABASE src", NULL, NULL, NULL);
    return rc;
}

mc_status mc_store_query_text(mc_store *s, const char *sql, char *out, size_t cap, mc_err *err)
{
    sqlite3_stmt *st = NULL;
    out[0] = '\0';
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "query");
    int rc = sqlite3_step(st);
    mc_status status = MC_OK;
    if (rc == SQLITE_ROW)
        column_copy(st, 0, out, cap);
    else if (rc != SQLITE_DONE)
        status = db_fail(s, err, "query");
    sqlite3_finalize(st);
    return status;
}

/* ==== Report queries (added by the report helper; read-only; keep this block together) ==== */

static const char *column_text_or_empty(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* Steps a prepared query to its end, calling visit_row for each row until it returns non-zero. */
/* A report walk: the caller's visit function and its user pointer. */
typedef struct row_walk {
    union {
        mc_stored_result_visit result;
        mc_stored_verdict_visit verdict;
        mc_history_timing_visit history;
    } visit;
    void *user;
} row_walk;

/* st prepared, or NULL when preparing failed. */
static sqlite3_stmt *prepare_walk(mc_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    return sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK ? st : NULL;
}

/* Every row of st (prepare_walk's, bound) to visit_row until it returns non-zero; st is finalized. */
static mc_status walk_rows(mc_store *s, sqlite3_stmt *st, int (*visit_row)(sqlite3_stmt *st, const row_walk *w),
                           const row_walk *w, const char *what, mc_err *err)
{
    if (!st)
        return db_fail(s, err, what);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && !visit_row(st, w))
        ;
    mc_status status = rc == SQLITE_ROW || rc == SQLITE_DONE ? MC_OK : db_fail(s, err, what);
    sqlite3_finalize(st);
    return status;
}

/* A walk whose statement takes two integers, ?1 and ?2. */
static mc_status walk_two_ints(mc_store *s, const char *sql, int64_t a, int64_t b,
                               int (*visit_row)(sqlite3_stmt *st, const row_walk *w), const row_walk *w,
                               const char *what, mc_err *err)
{
    sqlite3_stmt *st = prepare_walk(s, sql);
    if (st) {
        sqlite3_bind_int64(st, 1, a);
        sqlite3_bind_int64(st, 2, b);
    }
    return walk_rows(s, st, visit_row, w, what, err);
}

static int visit_result_row(sqlite3_stmt *st, const row_walk *w)
{
    mc_stored_result r;
    memset(&r, 0, sizeof r);
    r.case_id = sqlite3_column_int64(st, 0);
    r.variant_id = sqlite3_column_int64(st, 1);
    r.case_key = column_text_or_empty(st, 2);
    r.op = column_text_or_empty(st, 3);
    r.params_json = column_text_or_empty(st, 4);
    r.backend = column_text_or_empty(st, 5);
    r.variant = column_text_or_empty(st, 6);
    r.code_hash = column_text_or_empty(st, 7);
    int kind = mc_result_kind_parse(column_text_or_empty(st, 8));
    r.res.kind = kind < 0 ? MC_RESULT_ERROR : (mc_result_kind)kind;
    r.res.case_index = -1;
    r.res.variant_index = -1;
    column_copy(st, 9, r.res.ran, sizeof r.res.ran);
    r.res.n_checked = sqlite3_column_int64(st, 10);
    r.res.n_bad = sqlite3_column_int64(st, 11);
    r.res.worst_index = sqlite3_column_int64(st, 12);
    r.res.worst_out = column_real_or(st, 13, NAN);
    r.res.worst_ref = column_real_or(st, 14, NAN);
    r.res.worst_err = column_real_or(st, 15, NAN);
    r.res.worst_bound = column_real_or(st, 16, NAN);
    r.res.max_ratio = column_real_or(st, 17, NAN);
    r.res.nmse = column_real_or(st, 18, NAN);
    r.res.signal = sqlite3_column_int(st, 19);
    r.res.elapsed_ms = sqlite3_column_double(st, 20);
    column_copy(st, 21, r.res.message, sizeof r.res.message);
    r.has_timing = sqlite3_column_type(st, 22) != SQLITE_NULL;
    if (r.has_timing) {
        r.n_samples = sqlite3_column_int(st, 22);
        r.min_ns = sqlite3_column_double(st, 23);
        r.median_ns = sqlite3_column_double(st, 24);
        r.mad_ns = sqlite3_column_double(st, 25);
        r.ci_lo_ns = column_real_or(st, 26, -INFINITY);
        r.ci_hi_ns = column_real_or(st, 27, INFINITY);
        r.gflops = sqlite3_column_double(st, 28);
        r.gbs = sqlite3_column_double(st, 29);
    }
    return w->visit.result(&r, w->user);
}

mc_status mc_store_each_result(mc_store *s, int64_t run_id, bool failures_only, mc_stored_result_visit visit,
                               void *user, mc_err *err)
{
    static const char sql[] =
        "SELECT c.id, v.id, c.key, c.op, c.params, v.backend, v.name, v.code_hash, x.kind, x.ran, x.n_checked, "
        "x.n_bad, x.worst_index, x.worst_out, x.worst_ref, x.worst_err, x.worst_bound, x.max_ratio, x.nmse, "
        "x.signal, x.elapsed_ms, x.message, t.n, t.min_ns, t.median_ns, t.mad_ns, t.ci_lo_ns, t.ci_hi_ns, "
        "t.gflops, t.gbs "
        "FROM result x JOIN test_case c ON c.id = x.case_id JOIN variant v ON v.id = x.variant_id "
        "LEFT JOIN timing t ON t.result_id = x.id "
        "WHERE x.run_id = ?1 AND (?2 = 0 OR x.kind NOT IN ('pass', 'skip')) ORDER BY c.key, v.backend, v.name";
    row_walk w = {.visit.result = visit, .user = user};
    return walk_two_ints(s, sql, run_id, failures_only, visit_result_row, &w, "reading results", err);
}

static int visit_verdict_row(sqlite3_stmt *st, const row_walk *w)
{
    mc_stored_verdict v = {
        .case_key = column_text_or_empty(st, 0),
        .op = column_text_or_empty(st, 1),
        .params_json = column_text_or_empty(st, 2),
        .backend = column_text_or_empty(st, 3),
        .variant = column_text_or_empty(st, 4),
        .base_hash = column_text_or_empty(st, 5),
        .cand_hash = column_text_or_empty(st, 6),
        .method = column_text_or_empty(st, 7),
        .ratio = sqlite3_column_double(st, 8),
        .ci_lo = column_real_or(st, 9, 0),
        .ci_hi = column_real_or(st, 10, INFINITY),
        .p = sqlite3_column_double(st, 11),
        .q = sqlite3_column_double(st, 12),
        .threshold = sqlite3_column_double(st, 13),
        .verdict = column_text_or_empty(st, 14),
        .label = column_text_or_empty(st, 15),
        .same_code = sqlite3_column_int(st, 16) != 0,
    };
    return w->visit.verdict(&v, w->user);
}

mc_status mc_store_each_verdict(mc_store *s, int64_t base_run_id, int64_t cand_run_id, mc_stored_verdict_visit visit,
                                void *user, mc_err *err)
{
    static const char sql[] =
        "SELECT c.key, c.op, c.params, cv.backend, cv.name, bv.code_hash, cv.code_hash, x.method, x.ratio, x.ci_lo, "
        "x.ci_hi, x.p, x.q, x.threshold, x.verdict, x.label, x.same_code "
        "FROM verdict x JOIN test_case c ON c.id = x.case_id JOIN variant cv ON cv.id = x.cand_variant_id "
        "JOIN variant bv ON bv.id = x.base_variant_id "
        "WHERE x.base_run_id = ?1 AND x.cand_run_id = ?2 ORDER BY c.key, cv.backend, cv.name";
    row_walk w = {.visit.verdict = visit, .user = user};
    return walk_two_ints(s, sql, base_run_id, cand_run_id, visit_verdict_row, &w, "reading verdicts", err);
}

static int visit_history_row(sqlite3_stmt *st, const row_walk *w)
{
    mc_history_timing t = {
        .run_id = sqlite3_column_int64(st, 0),
        .case_id = sqlite3_column_int64(st, 1),
        .commit = column_text_or_empty(st, 2),
        .started_at = column_text_or_empty(st, 3),
        .op = column_text_or_empty(st, 4),
        .backend = column_text_or_empty(st, 5),
        .variant = column_text_or_empty(st, 6),
        .code_hash = column_text_or_empty(st, 7),
        .median_ns = sqlite3_column_double(st, 8),
        .mad_ns = sqlite3_column_double(st, 9),
    };
    return w->visit.history(&t, w->user);
}

mc_status mc_store_each_history_timing(mc_store *s, const char *fingerprint, int64_t upto_run_id, int max_runs,
                                       mc_history_timing_visit visit, void *user, mc_err *err)
{
    static const char sql[] =
        "WITH upto AS (SELECT started_at, id FROM run WHERE id = ?2), "
        "picked AS (SELECT r.id, r.started_at FROM run r JOIN machine m ON m.id = r.machine_id, upto u "
        "  WHERE m.fingerprint = ?1 AND (r.status <> 'incomplete' OR r.id = u.id) "
        "  AND (r.started_at < u.started_at OR (r.started_at = u.started_at AND r.id <= u.id)) "
        "  AND EXISTS (SELECT 1 FROM result x JOIN timing t ON t.result_id = x.id WHERE x.run_id = r.id) "
        "  ORDER BY r.started_at DESC, r.id DESC LIMIT ?3) "
        "SELECT r.id, x.case_id, r.commit_sha, r.started_at, c.op, v.backend, v.name, v.code_hash, t.median_ns, "
        "t.mad_ns FROM picked p JOIN run r ON r.id = p.id JOIN result x ON x.run_id = r.id "
        "JOIN timing t ON t.result_id = x.id JOIN test_case c ON c.id = x.case_id "
        "JOIN variant v ON v.id = x.variant_id ORDER BY p.started_at, p.id";
    sqlite3_stmt *st = prepare_walk(s, sql);
    if (st) {
        bind_text(st, 1, fingerprint);
        sqlite3_bind_int64(st, 2, upto_run_id);
        sqlite3_bind_int(st, 3, max_runs > 0 ? max_runs : INT_MAX);
    }
    row_walk w = {.visit.history = visit, .user = user};
    return walk_rows(s, st, visit_history_row, &w, "reading history", err);
}

mc_status mc_store_get_machine(mc_store *s, const char *fingerprint, mc_machine *out, bool *found, mc_err *err)
{
    static const char sql[] = "SELECT fingerprint, cpu_model, cpu_flags, cores, os, compiler, cflags, devices "
                              "FROM machine WHERE fingerprint = ?1";
    sqlite3_stmt *st = NULL;
    *found = false;
    memset(out, 0, sizeof *out);
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, err, "reading a machine");
    bind_text(st, 1, fingerprint);
    int rc = sqlite3_step(st);
    mc_status status = MC_OK;
    if (rc == SQLITE_ROW) {
        column_copy(st, 0, out->fingerprint, sizeof out->fingerprint);
        column_copy(st, 1, out->cpu_model, sizeof out->cpu_model);
        column_copy(st, 2, out->cpu_flags, sizeof out->cpu_flags);
        out->cores = sqlite3_column_int(st, 3);
        column_copy(st, 4, out->os, sizeof out->os);
        column_copy(st, 5, out->compiler, sizeof out->compiler);
        column_copy(st, 6, out->cflags, sizeof out->cflags);
        column_copy(st, 7, out->devices, sizeof out->devices);
        *found = true;
    } else if (rc != SQLITE_DONE) {
        status = db_fail(s, err, "reading a machine");
    }
    sqlite3_finalize(st);
    return status;
}

mc_status mc_store_get_mutation_score(mc_store *s, int64_t run_id, int *caught, int *total, bool *found,
                                      mc_err *err)
{
    sqlite3_stmt *st = NULL;
    *found = false;
    if (sqlite3_prepare_v2(s->db, "SELECT caught, total FROM mutation_score WHERE run_id = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return db_fail(s, err, "reading a mutation score");
    sqlite3_bind_int64(st, 1, run_id);
    int rc = sqlite3_step(st);
    mc_status status = MC_OK;
    if (rc == SQLITE_ROW) {
        *caught = sqlite3_column_int(st, 0);
        *total = sqlite3_column_int(st, 1);
        *found = true;
    } else if (rc != SQLITE_DONE) {
        status = db_fail(s, err, "reading a mutation score");
    }
    sqlite3_finalize(st);
    return status;
}

/* ==== end of report queries ==== */
