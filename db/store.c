/* db/store.c: the results store's schema (its migrations) and the engine-neutral core: which
 * engine a target names, open and migrate, transactions with bounded retries, and the one raw
 * query tools may run. The queries themselves live in store_write.c, store_read.c,
 * store_report.c and store_merge.c, the engines in store_sqlite.c and store_pg.c.
 *
 * Transactions and crash safety (both engines):
 *   1. Every write is one transaction (SQLite: BEGIN IMMEDIATE in WAL mode, so two writers queue
 *      on the busy timeout instead of deadlocking on a lock upgrade; PostgreSQL: READ COMMITTED,
 *      a deadlock or serialization failure re-runs the whole transaction, bounded).
 *   2. A run is inserted as "incomplete" and set to its final status only by mc_store_end_run:
 *      a killed run keeps every committed batch and reads as incomplete (PostgreSQL rolls back
 *      the open transaction of a client that vanished).
 *   3. Migrations run inside one transaction that takes the schema lock and re-reads the version,
 *      so two processes opening a new store at once migrate it exactly once.
 * SPDX-License-Identifier: MIT */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_driver.h"

#define TX_TRIES 12 /* a transaction that hits a deadlock or a lost connection runs at most this often */

/* ---- migrations: index = the schema version it produces (SQLite: PRAGMA user_version;
 * PostgreSQL: the table mc_schema); keep identical to db/schema.sql. SQLite's text is the
 * reference; PostgreSQL runs its mechanical translation (mc_store_pg_dialect) unless a migration
 * gives its own text, plus what it adds (pg_extra). A new migration is one entry here. ---- */

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

/* 4: each timing's timer definition and, for device backends, the device's roof, clocks,
 * temperature and throttling over its batches (issue 16: the timer's definition with every timing) */
static const char schema_v4[] = "ALTER TABLE timing ADD COLUMN timer TEXT NOT NULL DEFAULT '';\n"
                                "ALTER TABLE timing ADD COLUMN device_roof_gbs REAL;\n"
                                "ALTER TABLE timing ADD COLUMN device_ws_roof_gbs REAL;\n"
                                "ALTER TABLE timing ADD COLUMN device_sm_mhz REAL;\n"
                                "ALTER TABLE timing ADD COLUMN device_mem_mhz REAL;\n"
                                "ALTER TABLE timing ADD COLUMN device_temp_c REAL;\n"
                                "ALTER TABLE timing ADD COLUMN device_batches INTEGER;\n"
                                "ALTER TABLE timing ADD COLUMN device_throttled INTEGER;\n"
                                "ALTER TABLE timing ADD COLUMN device_throttle_reasons INTEGER;\n";

/* PostgreSQL only: case parameters also as jsonb (queries by parameter use its index), and the
 * few SQLite functions that report queries use, so their SQL runs on both. */
static const char schema_v1_pg_extra[] =
    "ALTER TABLE test_case ADD COLUMN params_jsonb JSONB GENERATED ALWAYS AS (params::jsonb) STORED;\n"
    "CREATE INDEX test_case_params ON test_case USING gin (params_jsonb);\n"
    "CREATE FUNCTION mc_concat_step(acc text, v text, sep text) RETURNS text LANGUAGE sql IMMUTABLE AS\n"
    "  $$ SELECT CASE WHEN v IS NULL THEN acc WHEN acc IS NULL THEN v ELSE acc || sep || v END $$;\n"
    "CREATE AGGREGATE group_concat(text, text) (SFUNC = mc_concat_step, STYPE = text);\n"
    "CREATE FUNCTION hex(text) RETURNS text LANGUAGE sql IMMUTABLE AS\n"
    "  $$ SELECT upper(encode(convert_to($1, 'UTF8'), 'hex')) $$;\n"
    "CREATE FUNCTION pragma_table_info(text) RETURNS TABLE (name text) LANGUAGE sql STABLE AS\n"
    "  $$ SELECT column_name::text FROM information_schema.columns\n"
    "     WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position $$;\n";

static const mc_migration migrations[] = {
    [1] = {.sql = schema_v1, .pg_extra = schema_v1_pg_extra},
    [2] = {.sql = schema_v2},
    [3] = {.sql = schema_v3},
    [4] = {.sql = schema_v4},
};
_Static_assert(sizeof migrations / sizeof migrations[0] == MC_STORE_VERSION + 1, "one migration per version");


const mc_migration *mc_store_migration(int v)
{
    return v >= 1 && v <= MC_STORE_VERSION ? &migrations[v] : NULL;
}

const char *mc_store_default_path(void)
{
    const char *env = getenv("MC_DB");
    return env && *env ? env : "metallic-check.db";
}

/* ---- which engine ---- */

/* libpq's connection keywords that may start a keyword string ("host=db dbname=mc"). */
static const char *const pg_keywords[] = {
    "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "service", "sslmode", "connect_timeout",
    "application_name", "options", "target_session_attrs", "sslrootcert", "sslcert", "sslkey", "gssencmode",
};

bool mc_store_is_server(const char *target)
{
    if (!target)
        return false;
    if (strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0)
        return true;
    size_t word = strspn(target, "abcdefghijklmnopqrstuvwxyz_");
    size_t eq = word + strspn(target + word, " \t");
    for (size_t i = 0; word && target[eq] == '=' && i < sizeof pg_keywords / sizeof pg_keywords[0]; i++)
        if (strlen(pg_keywords[i]) == word && strncmp(target, pg_keywords[i], word) == 0)
            return true;
    return false;
}

/* Appends n bytes of text to out (bounded). */
static void label_put(char *out, size_t cap, size_t *len, const char *text, size_t n)
{
    while (n-- && *len + 1 < cap)
        out[(*len)++] = *text++;
    out[*len] = '\0';
}

void mc_store_label(const char *target, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    if (!mc_store_is_server(target)) {
        label_put(out, cap, &len, target, strlen(target));
        return;
    }
    const char *p = target;
    const char *scheme = strstr(p, "://");
    if (scheme && (strncmp(p, "postgres", 8) == 0)) { /* URI: user:secret@host -> user:***@host */
        const char *auth = scheme + 3;
        size_t auth_len = strcspn(auth, "/?");
        const char *at = memchr(auth, '@', auth_len);
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon) {
            label_put(out, cap, &len, p, (size_t)(colon + 1 - p));
            label_put(out, cap, &len, "***", 3);
            p = at;
        }
    }
    /* password=secret, in a keyword string or a URI's query: the value up to a space or & */
    for (const char *hit; (hit = strstr(p, "password=")) != NULL;) {
        bool keyword = hit == target || hit[-1] == ' ' || hit[-1] == '\t' || hit[-1] == '?' || hit[-1] == '&';
        label_put(out, cap, &len, p, (size_t)(hit + 9 - p));
        p = hit + 9;
        if (!keyword)
            continue;
        label_put(out, cap, &len, "***", 3);
        if (*p == '\'')
            for (p++; *p && *p != '\''; p++)
                p += *p == '\\' && p[1];
        p += strcspn(p, " \t&");
    }
    label_put(out, cap, &len, p, strlen(p));
}

/* ---- reading values ---- */

int64_t mc_dbv_as_int(const mc_dbv *v)
{
    if (v->null)
        return 0;
    switch (v->type) {
    case MC_DBV_INT: return v->i;
    case MC_DBV_REAL: return (int64_t)v->d;
    case MC_DBV_TEXT: return strtoll(v->s, NULL, 10);
    case MC_DBV_BLOB: return 0;
    }
    return 0;
}

double mc_dbv_as_real(const mc_dbv *v, double if_null)
{
    if (v->null)
        return if_null;
    switch (v->type) {
    case MC_DBV_INT: return (double)v->i;
    case MC_DBV_REAL: return v->d;
    case MC_DBV_TEXT: return strtod(v->s, NULL);
    case MC_DBV_BLOB: return if_null;
    }
    return if_null;
}

const char *mc_dbv_as_text(const mc_dbv *v)
{
    return !v->null && v->type == MC_DBV_TEXT && v->s ? v->s : "";
}

void mc_dbv_copy(const mc_dbv *v, char *out, size_t cap)
{
    char number[32];
    const char *t = mc_dbv_as_text(v);
    if (!v->null && v->type == MC_DBV_INT)
        snprintf(number, sizeof number, "%" PRId64, v->i), t = number;
    else if (!v->null && v->type == MC_DBV_REAL)
        snprintf(number, sizeof number, "%.17g", v->d), t = number;
    size_t n = strnlen(t, cap - 1);
    memcpy(out, t, n);
    out[n] = '\0';
}

/* ---- statements and transactions ---- */

mc_status mc_db_exec(mc_store *s, const char *sql, const mc_dbv *p, int n, int64_t *changes, mc_err *err)
{
    return s->ops->query(s, sql, p, n, NULL, NULL, changes, err);
}

typedef struct first_int {
    int64_t v;
    bool found;
} first_int;

static int take_first_int(const mc_dbv *col, int n_col, void *ctx)
{
    first_int *f = ctx;
    f->v = n_col > 0 ? mc_dbv_as_int(&col[0]) : 0;
    f->found = true;
    return 1;
}

mc_status mc_db_int(mc_store *s, const char *sql, const mc_dbv *p, int n, int64_t *out, bool *found, mc_err *err)
{
    first_int f = {0, false};
    mc_status st = s->ops->query(s, sql, p, n, take_first_int, &f, NULL, err);
    *out = f.v;
    if (found)
        *found = f.found;
    return st;
}

typedef struct joined {
    char *out;
    size_t cap, len;
} joined;

static int join_first(const mc_dbv *col, int n_col, void *ctx)
{
    joined *j = ctx;
    if (n_col > 0)
        j->len += (size_t)snprintf(j->out + j->len, j->len < j->cap ? j->cap - j->len : 0, "%s%s",
                                   j->len ? ", " : "", mc_dbv_as_text(&col[0]));
    return 0;
}

mc_status mc_db_join_column(mc_store *s, const char *sql, const mc_dbv *p, int n, char *out, size_t cap, mc_err *err)
{
    joined j = {out, cap, 0};
    out[0] = '\0';
    mc_status st = s->ops->query(s, sql, p, n, join_first, &j, NULL, err);
    if (!st && j.len >= cap)
        st = mc_err_set(err, MC_ERR_INTERNAL, "%zu bytes do not hold the answer to %.80s", cap, sql);
    return st;
}

mc_status mc_store_in_tx(mc_store *s, mc_tx_body body, void *ctx, mc_err *err)
{
    for (int attempt = 0;; attempt++) {
        mc_status st = s->ops->begin(s, err);
        if (!st)
            st = body(s, ctx, err);
        if (!st)
            st = s->ops->commit(s, err);
        if (!st)
            return MC_OK;
        s->ops->rollback(s);
        if (st != MC_ERR_DB || attempt + 1 >= TX_TRIES || !s->ops->retry(s, attempt))
            return st;
        mc_err_clear(err);
    }
}

/* ---- open, migrate, close ---- */

/* A version this build can migrate from: 0 (new) up to its own. */
static mc_status version_check(const mc_store *s, int v, mc_err *err)
{
    if (v > MC_STORE_VERSION)
        return mc_err_set(err, MC_ERR_DB, "%s has schema version %d; this metallic-check knows up to %d (upgrade it)",
                          s->label, v, MC_STORE_VERSION);
    if (v < 0)
        return mc_err_set(err, MC_ERR_DB, "%s has schema version %d; it is not a metallic-check database", s->label, v);
    return MC_OK;
}

static mc_status migrate_body(mc_store *s, void *ctx, mc_err *err)
{
    (void)ctx;
    int v = 0;
    mc_status st = s->ops->schema_lock(s, err);
    if (!st)
        st = s->ops->version_get(s, &v, err); /* again, under the lock: another process may have won */
    if (!st)
        st = version_check(s, v, err);
    for (int next = v + 1; !st && next <= MC_STORE_VERSION; next++) {
        char *sql = NULL;
        st = s->ops->migration_sql(next, &sql, err);
        if (!st)
            st = s->ops->script(s, sql, err);
        free(sql);
    }
    if (!st && v < MC_STORE_VERSION)
        st = s->ops->version_set(s, MC_STORE_VERSION, err);
    return st;
}

static mc_status migrate(mc_store *s, mc_err *err)
{
    int v = 0;
    mc_status st = s->ops->version_get(s, &v, err);
    if (st || v == MC_STORE_VERSION)
        return st;
    if ((st = version_check(s, v, err)))
        return st;
    return mc_store_in_tx(s, migrate_body, NULL, err);
}

mc_status mc_store_open_mode(const char *target, mc_open_mode mode, mc_store **out, mc_err *err)
{
    *out = NULL;
    if (!target || !*target)
        return mc_err_set(err, MC_ERR_USAGE, "no results database named (--db or MC_DB is empty)");
    mc_store *s = calloc(1, sizeof *s);
    if (!s)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for the store");
    s->ops = mc_store_is_server(target) ? &mc_db_pg_ops : &mc_db_sqlite_ops;
    snprintf(s->target, sizeof s->target, "%s", target);
    mc_store_label(target, s->label, sizeof s->label);
    mc_status st = s->ops->open(s, mode, err);
    int v = 0;
    if (!st && mode != MC_OPEN_CREATE && !(st = s->ops->version_get(s, &v, err)) && v == 0)
        st = mc_err_set(err, MC_ERR_USAGE, "%s is not a metallic-check database (empty, or another program's)",
                        s->label);
    else if (!st && mode != MC_OPEN_CREATE)
        st = version_check(s, v, err);
    if (!st && mode != MC_OPEN_AS_IS)
        st = migrate(s, err);
    if (st) {
        mc_store_close(s);
        return st;
    }
    *out = s;
    return MC_OK;
}

mc_status mc_store_open(const char *path, mc_store **out, mc_err *err)
{
    return mc_store_open_mode(path, MC_OPEN_CREATE, out, err);
}

mc_status mc_store_open_existing(const char *path, bool as_is, mc_store **out, mc_err *err)
{
    return mc_store_open_mode(path, as_is ? MC_OPEN_AS_IS : MC_OPEN_EXISTING, out, err);
}

void mc_store_close(mc_store *s)
{
    if (!s)
        return;
    if (s->ops)
        s->ops->close(s);
    free(s);
}

const char *mc_store_engine(const mc_store *s)
{
    return s->ops->engine;
}

typedef struct first_text {
    char *out;
    size_t cap;
} first_text;

static int take_first_text(const mc_dbv *col, int n_col, void *ctx)
{
    first_text *f = ctx;
    if (n_col > 0)
        mc_dbv_copy(&col[0], f->out, f->cap);
    return 1;
}

mc_status mc_store_query_text(mc_store *s, const char *sql, char *out, size_t cap, mc_err *err)
{
    out[0] = '\0';
    const char *translated = s->ops->translate ? s->ops->translate(sql) : NULL;
    first_text f = {out, cap};
    return s->ops->query(s, translated ? translated : sql, NULL, 0, take_first_text, &f, NULL, err);
}
