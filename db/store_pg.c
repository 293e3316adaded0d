/* db/store_pg.c: the store's PostgreSQL engine, through libpq: one connection per store (never
 * across a fork), parameters typed and sent apart from the SQL (bytea in binary), the schema
 * version in the table mc_schema, migrations under an advisory lock, and bounded retries: a
 * deadlock or serialization failure re-runs the transaction; a lost connection is re-made.
 * Passwords come only from libpq's own places (PGPASSWORD, PGPASSFILE, ~/.pgpass): a target that
 * holds one is refused, and messages show the target with any password as ***.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "store_driver.h"

#define CONNECT_TRIES 4      /* opening: tries before "cannot connect" */
#define RECONNECT_TRIES 5    /* a lost connection: tries to make it again (waits of 0.25 s to 4 s) */
#define BACKOFF_FIRST_MS 250 /* the first wait; each next one doubles, up to BACKOFF_MAX_MS */
#define BACKOFF_MAX_MS 4000
#define MAX_PARAMS 64
#define MAX_COLS 48
#define SCHEMA_LOCK_KEY 0x6d635f7363686dLL /* pg_advisory_xact_lock key of migrations: "mc_schm" */

/* The type oids of PostgreSQL's catalog (pg_type.dat) that the store reads or sends. */
enum pg_oid {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_NUMERIC = 1700,
};

typedef struct pg_conn {
    PGconn *conn;
    bool in_tx;
    char state[6]; /* SQLSTATE of the last failure */
    bool lost;     /* the last failure was a lost connection */
    uint64_t jitter; /* xorshift state of the retry waits: differs between processes, never seeded by tests */
} pg_conn;

static pg_conn *conn_of(mc_store *s)
{
    return s->impl;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static long backoff_ms(int attempt)
{
    long ms = BACKOFF_FIRST_MS;
    for (int i = 0; i < attempt && ms < BACKOFF_MAX_MS; i++)
        ms *= 2;
    return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

/* libpq's message, its trailing newline cut. */
static const char *pq_message(PGconn *conn, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", conn ? PQerrorMessage(conn) : "out of memory");
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return buf;
}

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* A password in the target itself would sit in shell histories, process lists and run records. */
static mc_status refuse_password(mc_store *s, mc_err *err)
{
    char *why = NULL;
    PQconninfoOption *opts = PQconninfoParse(s->target, &why);
    if (!opts) {
        mc_status st = mc_err_set(err, MC_ERR_USAGE, "cannot read the PostgreSQL target %s: %s", s->label,
                                  why ? why : "out of memory");
        PQfreemem(why);
        return st;
    }
    bool has_password = false;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        has_password |= strcmp(o->keyword, "password") == 0 && o->val && *o->val;
    PQconninfoFree(opts);
    if (has_password)
        return mc_err_set(err, MC_ERR_USAGE,
                          "%s holds a password: give it through PGPASSWORD or a PGPASSFILE / ~/.pgpass file instead "
                          "(see docs/store-postgres.md)",
                          s->label);
    return MC_OK;
}

static PGconn *connect_once(const char *target)
{
    const char *const keys[] = {"dbname", "fallback_application_name", NULL};
    const char *const values[] = {target, "metallic-check", NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (conn)
        PQsetNoticeProcessor(conn, ignore_notice, NULL);
    return conn;
}

static mc_status pg_open(mc_store *s, mc_open_mode mode, mc_err *err)
{
    (void)mode;
    mc_status st = refuse_password(s, err);
    if (st)
        return st;
    pg_conn *c = calloc(1, sizeof *c);
    if (!c)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for the store");
    s->impl = c;
    c->jitter = ((uint64_t)getpid() << 32 ^ (uint64_t)time(NULL)) | 1;
    for (int attempt = 0; attempt < CONNECT_TRIES; attempt++) {
        if (attempt)
            sleep_ms(backoff_ms(attempt - 1));
        PQfinish(c->conn);
        c->conn = connect_once(s->target);
        if (c->conn && PQstatus(c->conn) == CONNECTION_OK)
            return MC_OK;
    }
    char msg[512];
    return mc_err_set(err, MC_ERR_DB, "cannot connect to PostgreSQL at %s (%d tries): %s", s->label, CONNECT_TRIES,
                      pq_message(c->conn, msg, sizeof msg));
}

static void pg_close(mc_store *s)
{
    pg_conn *c = s->impl;
    if (!c)
        return;
    PQfinish(c->conn);
    free(c);
    s->impl = NULL;
}

/* sql with SQLite's ?N parameters written as PostgreSQL's $N (outside quotes); malloc'd. */
static char *dollar_params(const char *sql)
{
    char *out = strdup(sql);
    char quote = 0;
    for (char *p = out; p && *p; p++) {
        if (quote)
            quote = *p == quote ? 0 : quote;
        else if (*p == '\'' || *p == '"')
            quote = *p;
        else if (*p == '?' && p[1] >= '0' && p[1] <= '9')
            *p = '$';
    }
    return out;
}

/* Records why a statement failed: its SQLSTATE, and whether the connection is gone. */
static mc_status pg_fail(mc_store *s, PGresult *res, const char *sql, mc_err *err)
{
    pg_conn *c = conn_of(s);
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(c->state, sizeof c->state, "%s", state ? state : "");
    c->lost = PQstatus(c->conn) != CONNECTION_OK;
    char msg[512];
    pq_message(c->conn, msg, sizeof msg);
    if (c->lost)
        return mc_err_set(err, MC_ERR_DB, "lost the connection to PostgreSQL at %s: %s", s->label, msg);
    return mc_err_set(err, MC_ERR_DB, "%s (%s, SQLSTATE %s): %.160s", msg, s->label, c->state, sql);
}

/* A bounded number of tries, each after a growing wait; the open transaction is gone either way. */
static bool reconnect(mc_store *s)
{
    pg_conn *c = conn_of(s);
    c->in_tx = false;
    for (int attempt = 0; attempt < RECONNECT_TRIES; attempt++) {
        sleep_ms(backoff_ms(attempt));
        PQreset(c->conn);
        c->lost = PQstatus(c->conn) != CONNECTION_OK;
        if (!c->lost)
            return true;
    }
    return false;
}

static mc_dbv column(PGresult *res, int row, int i, unsigned char **blob)
{
    mc_dbv v = {.type = MC_DBV_TEXT};
    *blob = NULL;
    if (PQgetisnull(res, row, i)) {
        v.null = true;
        return v;
    }
    const char *text = PQgetvalue(res, row, i);
    switch ((enum pg_oid)PQftype(res, i)) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8: v.type = MC_DBV_INT, v.i = strtoll(text, NULL, 10); break;
    case OID_BOOL: v.type = MC_DBV_INT, v.i = text[0] == 't'; break;
    case OID_FLOAT4:
    case OID_FLOAT8:
    case OID_NUMERIC: v.type = MC_DBV_REAL, v.d = strtod(text, NULL); break;
    case OID_BYTEA: {
        size_t len = 0;
        *blob = PQunescapeBytea((const unsigned char *)text, &len);
        v.type = MC_DBV_BLOB;
        v.b = *blob;
        v.len = (int)len;
        v.null = !*blob;
        break;
    }
    case OID_TEXT:
    default: v.s = text; break;
    }
    return v;
}

static mc_status run_rows(PGresult *res, mc_db_row_fn row_fn, void *ctx)
{
    int n_col = PQnfields(res);
    if (n_col > MAX_COLS)
        n_col = MAX_COLS;
    mc_dbv col[MAX_COLS];
    unsigned char *blobs[MAX_COLS];
    for (int r = 0; row_fn && r < PQntuples(res); r++) {
        for (int i = 0; i < n_col; i++)
            col[i] = column(res, r, i, &blobs[i]);
        int stop = row_fn(col, n_col, ctx);
        for (int i = 0; i < n_col; i++)
            PQfreemem(blobs[i]);
        if (stop)
            break;
    }
    return MC_OK;
}

static mc_status pg_query(mc_store *s, const char *sql, const mc_dbv *params, int n_params, mc_db_row_fn row,
                          void *ctx, int64_t *changes, mc_err *err)
{
    pg_conn *c = conn_of(s);
    if (n_params > MAX_PARAMS)
        return mc_err_set(err, MC_ERR_INTERNAL, "%d parameters: at most %d", n_params, MAX_PARAMS);
    char *pg_sql = dollar_params(sql);
    if (!pg_sql)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for a statement");
    Oid types[MAX_PARAMS];
    const char *values[MAX_PARAMS];
    int lengths[MAX_PARAMS], formats[MAX_PARAMS];
    char numbers[MAX_PARAMS][32];
    for (int i = 0; i < n_params; i++) {
        const mc_dbv *v = &params[i];
        static const Oid oid_of[] = {[MC_DBV_INT] = OID_INT8, [MC_DBV_REAL] = OID_FLOAT8, [MC_DBV_TEXT] = OID_TEXT,
                                     [MC_DBV_BLOB] = OID_BYTEA};
        types[i] = oid_of[v->type];
        lengths[i] = 0;
        formats[i] = 0;
        values[i] = NULL;
        if (v->null)
            continue;
        switch (v->type) {
        case MC_DBV_INT: snprintf(numbers[i], sizeof numbers[i], "%lld", (long long)v->i), values[i] = numbers[i]; break;
        case MC_DBV_REAL: snprintf(numbers[i], sizeof numbers[i], "%.17g", v->d), values[i] = numbers[i]; break;
        case MC_DBV_TEXT: values[i] = v->s; break;
        case MC_DBV_BLOB:
            values[i] = v->len ? (const char *)v->b : "";
            lengths[i] = v->len;
            formats[i] = 1;
            break;
        }
    }
    mc_status st = MC_OK;
    for (int attempt = 0;; attempt++) {
        PGresult *res = PQexecParams(c->conn, pg_sql, n_params, types, values, lengths, formats, 0);
        ExecStatusType rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        if (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK) {
            st = run_rows(res, row, ctx);
            if (changes)
                *changes = strtoll(PQcmdTuples(res), NULL, 10);
            PQclear(res);
            break;
        }
        st = pg_fail(s, res, sql, err);
        PQclear(res);
        /* outside a transaction a read is simply asked again on a new connection */
        if (!c->lost || c->in_tx || attempt > 0 || !reconnect(s))
            break;
        mc_err_clear(err);
    }
    free(pg_sql);
    return st;
}

static mc_status pg_script(mc_store *s, const char *sql, mc_err *err)
{
    PGresult *res = PQexec(conn_of(s)->conn, sql);
    ExecStatusType rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    mc_status st = rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK ? MC_OK : pg_fail(s, res, sql, err);
    PQclear(res);
    return st;
}

static mc_status pg_begin(mc_store *s, mc_err *err)
{
    mc_status st = pg_script(s, "BEGIN", err);
    conn_of(s)->in_tx = !st;
    return st;
}

static mc_status pg_commit(mc_store *s, mc_err *err)
{
    mc_status st = pg_script(s, "COMMIT", err);
    if (!st)
        conn_of(s)->in_tx = false;
    return st;
}

static void pg_rollback(mc_store *s)
{
    pg_conn *c = conn_of(s);
    if (c->in_tx && PQstatus(c->conn) == CONNECTION_OK)
        PQclear(PQexec(c->conn, "ROLLBACK"));
    c->in_tx = false;
}

/* 40001 serialization failure, 40P01 deadlock: the server undid the transaction; run it again. */
static bool pg_retry(mc_store *s, int attempt)
{
    pg_conn *c = conn_of(s);
    if (c->lost)
        return reconnect(s);
    if (strcmp(c->state, "40001") == 0 || strcmp(c->state, "40P01") == 0) {
        /* a random wait that grows with each try, so the writers that collided fall out of step */
        c->jitter ^= c->jitter << 13;
        c->jitter ^= c->jitter >> 7;
        c->jitter ^= c->jitter << 17;
        sleep_ms(5 + (long)(c->jitter % (20UL << (attempt < 6 ? attempt : 6))));
        return true;
    }
    return false;
}

static mc_status pg_version_get(mc_store *s, int *v, mc_err *err)
{
    int64_t got = 0;
    bool exists = false;
    *v = 0;
    mc_status st = mc_db_int(s, "SELECT 1 WHERE to_regclass('mc_schema') IS NOT NULL", NULL, 0, &got, &exists, err);
    if (!st && exists)
        st = mc_db_int(s, "SELECT coalesce(max(version), 0) FROM mc_schema", NULL, 0, &got, NULL, err);
    if (!st)
        *v = (int)got;
    return st;
}

static mc_status pg_version_set(mc_store *s, int v, mc_err *err)
{
    const mc_dbv p[] = {mc_dbv_int(v)};
    mc_status st = mc_db_exec(s, "DELETE FROM mc_schema", NULL, 0, NULL, err);
    return st ? st : mc_db_exec(s, "INSERT INTO mc_schema (version) VALUES (?1)", p, 1, NULL, err);
}

/* Held to the end of the migrating transaction: a second process waits, then finds it done. */
static mc_status pg_schema_lock(mc_store *s, mc_err *err)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%lld)", (long long)SCHEMA_LOCK_KEY);
    mc_status st = pg_script(s, sql, err);
    return st ? st
              : pg_script(s,
                          "CREATE TABLE IF NOT EXISTS mc_schema (version INTEGER NOT NULL); "
                          "COMMENT ON TABLE mc_schema IS 'metallic-check: the schema version (SQLite: user_version)'",
                          err);
}

static mc_status pg_migration_sql(int v, char **sql, mc_err *err)
{
    const mc_migration *m = mc_store_migration(v);
    char *base = m ? (m->pg ? strdup(m->pg) : mc_store_pg_dialect(m->sql)) : NULL;
    const char *extra = m && m->pg_extra ? m->pg_extra : "";
    *sql = base ? malloc(strlen(base) + strlen(extra) + 2) : NULL;
    if (*sql)
        sprintf(*sql, "%s\n%s", base, extra);
    free(base);
    return *sql ? MC_OK : mc_err_set(err, MC_ERR_NOMEM, "no memory for migration %d", v);
}

static mc_status pg_columns(mc_store *s, const char *table, char *out, size_t cap, mc_err *err)
{
    const mc_dbv p[] = {mc_dbv_text(table)};
    return mc_db_join_column(s,
                             "SELECT column_name::text FROM information_schema.columns WHERE table_schema = "
                             "current_schema() AND table_name = ?1 AND is_generated = 'NEVER' "
                             "ORDER BY ordinal_position",
                             p, 1, out, cap, err);
}

/* db check's SQLite PRAGMAs, as what PostgreSQL can say of the same: indexes left invalid (a
 * failed build), and foreign keys not validated (the server checks every other one on write). */
typedef struct pragma_map {
    const char *sqlite, *pg;
} pragma_map;

static const pragma_map pragmas[] = {
    {"PRAGMA integrity_check",
     "SELECT CASE WHEN count(*) = 0 THEN 'ok' ELSE count(*) || ' invalid index(es): ' || "
     "string_agg(i.indexrelid::regclass::text, ', ') END FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
     "WHERE t.relnamespace = current_schema()::regnamespace AND NOT (i.indisvalid AND i.indisready)"},
    {"PRAGMA foreign_key_check",
     "SELECT coalesce(string_agg(conname, ', '), '') FROM pg_constraint WHERE contype = 'f' "
     "AND connamespace = current_schema()::regnamespace AND NOT convalidated"},
};

static const char *pg_translate(const char *sql)
{
    for (size_t i = 0; i < sizeof pragmas / sizeof pragmas[0]; i++)
        if (strcmp(sql, pragmas[i].sqlite) == 0)
            return pragmas[i].pg;
    return NULL;
}

const mc_db_ops mc_db_pg_ops = {
    .engine = "PostgreSQL",
    .open = pg_open,
    .close = pg_close,
    .query = pg_query,
    .script = pg_script,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .retry = pg_retry,
    .version_get = pg_version_get,
    .version_set = pg_version_set,
    .schema_lock = pg_schema_lock,
    .migration_sql = pg_migration_sql,
    .columns = pg_columns,
    .translate = pg_translate,
};
