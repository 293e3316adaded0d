/* db/store_sqlite.c: the store's SQLite engine (the embedded default): WAL journal, foreign keys
 * on, a busy timeout for concurrent writers, PRAGMA user_version as the schema version, and a
 * small cache of prepared statements.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store_driver.h"

#define BUSY_TIMEOUT_MS 60000 /* a writer waits this long for another run's batch to commit */
#define STMT_CACHE 32         /* prepared statements kept per connection */
#define MAX_COLS 48

typedef struct cached_stmt {
    char *sql;
    sqlite3_stmt *st;
} cached_stmt;

typedef struct sqlite_conn {
    sqlite3 *db;
    cached_stmt cache[STMT_CACHE];
    int next_slot;
} sqlite_conn;

static sqlite3 *db_of(mc_store *s)
{
    return ((sqlite_conn *)s->impl)->db;
}

static mc_status db_fail(mc_store *s, mc_err *err, const char *what)
{
    return mc_err_set(err, MC_ERR_DB, "%s: %s (%s)", what, sqlite3_errmsg(db_of(s)), s->label);
}

static mc_status sq_script(mc_store *s, const char *sql, mc_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db_of(s), sql, NULL, NULL, &msg) == SQLITE_OK)
        return MC_OK;
    mc_status st = mc_err_set(err, MC_ERR_DB, "%s (%s): %.120s", msg ? msg : "sqlite error", s->label, sql);
    sqlite3_free(msg);
    return st;
}

/* A prepared statement for sql, from the cache when it was prepared before and is not in use (a
 * row callback may run another query, even the same one): *owned says the caller finalizes it. */
static mc_status prepare(mc_store *s, const char *sql, sqlite3_stmt **out, bool *owned, mc_err *err)
{
    sqlite_conn *c = s->impl;
    *owned = false;
    bool cached = false;
    for (int i = 0; i < STMT_CACHE; i++)
        if (c->cache[i].sql && strcmp(c->cache[i].sql, sql) == 0) {
            if (!sqlite3_stmt_busy(c->cache[i].st)) {
                *out = c->cache[i].st;
                return MC_OK;
            }
            cached = true;
        }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        return mc_err_set(err, MC_ERR_DB, "preparing a statement: %s (%s): %.160s", sqlite3_errmsg(c->db), s->label,
                          sql);
    *out = st;
    cached_stmt *slot = NULL;
    for (int k = 0; !cached && !slot && k < STMT_CACHE; k++) { /* never evict a statement in use */
        cached_stmt *next = &c->cache[(c->next_slot + k) % STMT_CACHE];
        if (!next->st || !sqlite3_stmt_busy(next->st)) {
            slot = next;
            c->next_slot = (c->next_slot + k + 1) % STMT_CACHE;
        }
    }
    char *copy = slot ? strdup(sql) : NULL;
    if (!copy) {
        *owned = true;
        return MC_OK;
    }
    free(slot->sql);
    sqlite3_finalize(slot->st);
    slot->sql = copy;
    slot->st = st;
    return MC_OK;
}

static void bind(sqlite3_stmt *st, int i, const mc_dbv *v)
{
    if (v->null) {
        sqlite3_bind_null(st, i);
        return;
    }
    switch (v->type) {
    case MC_DBV_INT: sqlite3_bind_int64(st, i, v->i); break;
    case MC_DBV_REAL: sqlite3_bind_double(st, i, v->d); break;
    case MC_DBV_TEXT: sqlite3_bind_text(st, i, v->s, -1, SQLITE_TRANSIENT); break;
    case MC_DBV_BLOB: sqlite3_bind_blob(st, i, v->b, v->len, SQLITE_TRANSIENT); break;
    }
}

static void column(sqlite3_stmt *st, int i, mc_dbv *v)
{
    memset(v, 0, sizeof *v);
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: v->type = MC_DBV_INT, v->i = sqlite3_column_int64(st, i); break;
    case SQLITE_FLOAT: v->type = MC_DBV_REAL, v->d = sqlite3_column_double(st, i); break;
    case SQLITE_BLOB:
        v->type = MC_DBV_BLOB;
        v->b = sqlite3_column_blob(st, i);
        v->len = sqlite3_column_bytes(st, i);
        break;
    case SQLITE_NULL: v->type = MC_DBV_TEXT, v->null = true; break;
    default: v->type = MC_DBV_TEXT, v->s = (const char *)sqlite3_column_text(st, i); break;
    }
}

static mc_status sq_query(mc_store *s, const char *sql, const mc_dbv *params, int n_params, mc_db_row_fn row,
                          void *ctx, int64_t *changes, mc_err *err)
{
    sqlite3_stmt *st = NULL;
    bool owned = false;
    mc_status status = prepare(s, sql, &st, &owned, err);
    if (status)
        return status;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    for (int i = 0; i < n_params; i++)
        bind(st, i + 1, &params[i]);
    int n_col = sqlite3_column_count(st), rc;
    if (n_col > MAX_COLS)
        n_col = MAX_COLS;
    mc_dbv col[MAX_COLS];
    bool stopped = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!row || stopped)
            continue;
        for (int i = 0; i < n_col; i++)
            column(st, i, &col[i]);
        if (row(col, n_col, ctx)) {
            stopped = true;
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        status = mc_err_set(err, MC_ERR_DB, "%s (%s): %.160s", sqlite3_errmsg(db_of(s)), s->label, sql);
    else if (changes)
        *changes = sqlite3_changes64(db_of(s));
    if (owned)
        sqlite3_finalize(st);
    else
        sqlite3_reset(st);
    return status;
}

static mc_status sq_begin(mc_store *s, mc_err *err)
{
    return sq_script(s, "BEGIN IMMEDIATE", err);
}

static mc_status sq_commit(mc_store *s, mc_err *err)
{
    return sq_script(s, "COMMIT", err);
}

static void sq_rollback(mc_store *s)
{
    if (!sqlite3_get_autocommit(db_of(s)))
        sqlite3_exec(db_of(s), "ROLLBACK", NULL, NULL, NULL);
}

/* The busy timeout already waited for the other writer: nothing more to try. */
static bool sq_retry(mc_store *s, int attempt)
{
    (void)s;
    (void)attempt;
    return false;
}

static mc_status sq_version_get(mc_store *s, int *v, mc_err *err)
{
    int64_t got = 0;
    mc_status st = mc_db_int(s, "PRAGMA user_version", NULL, 0, &got, NULL, err);
    *v = (int)got;
    return st;
}

static mc_status sq_version_set(mc_store *s, int v, mc_err *err)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
    return sq_script(s, sql, err);
}

/* BEGIN IMMEDIATE already holds the write lock. */
static mc_status sq_schema_lock(mc_store *s, mc_err *err)
{
    (void)s;
    (void)err;
    return MC_OK;
}

static mc_status sq_migration_sql(int v, char **sql, mc_err *err)
{
    const mc_migration *m = mc_store_migration(v);
    *sql = m ? strdup(m->sql) : NULL;
    return *sql ? MC_OK : mc_err_set(err, MC_ERR_NOMEM, "no memory for migration %d", v);
}

static mc_status sq_columns(mc_store *s, const char *table, char *out, size_t cap, mc_err *err)
{
    const mc_dbv p[] = {mc_dbv_text(table)};
    return mc_db_join_column(s, "SELECT name FROM pragma_table_info(?1) ORDER BY cid", p, 1, out, cap, err);
}

/* journal_mode needs a moment of exclusive access; a concurrent opener may hold the file. */
static mc_status set_wal(mc_store *s, mc_err *err)
{
    for (int attempt = 0; attempt < 200; attempt++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db_of(s), "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK)
            return db_fail(s, err, "setting the WAL journal");
        int rc = sqlite3_step(st);
        const unsigned char *mode = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
        bool wal = mode && strcmp((const char *)mode, "wal") == 0;
        sqlite3_finalize(st);
        if (wal)
            return MC_OK;
        if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED && rc != SQLITE_ROW)
            return db_fail(s, err, "setting the WAL journal");
        sqlite3_sleep(50);
    }
    return mc_err_set(err, MC_ERR_DB, "%s: could not switch to the WAL journal (is it on a network file system?)",
                      s->label);
}

static mc_status sq_open(mc_store *s, mc_open_mode mode, mc_err *err)
{
    if (mode != MC_OPEN_CREATE && access(s->target, F_OK) != 0)
        return mc_err_set(err, MC_ERR_USAGE, "no results database at %s", s->label);
    sqlite_conn *c = calloc(1, sizeof *c);
    if (!c)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for the store");
    s->impl = c;
    int flags = SQLITE_OPEN_READWRITE | (mode == MC_OPEN_CREATE ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(s->target, &c->db, flags, NULL) != SQLITE_OK)
        return c->db ? db_fail(s, err, "opening the database")
                     : mc_err_set(err, MC_ERR_DB, "cannot open %s: out of memory", s->label);
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(c->db, 1);
    mc_status st = sq_script(s, "PRAGMA foreign_keys = ON", err);
    if (st || mode == MC_OPEN_AS_IS) /* db check looks at the file as it is: no journal change */
        return st;
    if (mode == MC_OPEN_EXISTING) {
        int v = 0;
        if ((st = sq_version_get(s, &v, err)) || v <= 0 || v > MC_STORE_VERSION)
            return st; /* the caller refuses it before anything changes the file */
    }
    st = set_wal(s, err);
    /* NORMAL is durable against a killed process in WAL mode; only a power cut may lose the last
     * commits, never consistency */
    if (!st)
        st = sq_script(s, "PRAGMA synchronous = NORMAL", err);
    return st;
}

static void sq_close(mc_store *s)
{
    sqlite_conn *c = s->impl;
    if (!c)
        return;
    for (int i = 0; i < STMT_CACHE; i++) {
        sqlite3_finalize(c->cache[i].st);
        free(c->cache[i].sql);
    }
    sqlite3_close(c->db);
    free(c);
    s->impl = NULL;
}

const mc_db_ops mc_db_sqlite_ops = {
    .engine = "SQLite",
    .open = sq_open,
    .close = sq_close,
    .query = sq_query,
    .script = sq_script,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .retry = sq_retry,
    .version_get = sq_version_get,
    .version_set = sq_version_set,
    .schema_lock = sq_schema_lock,
    .migration_sql = sq_migration_sql,
    .columns = sq_columns,
    .translate = NULL,
};

/* The file behind a SQLite store ("" for another engine): merging a file into itself is refused. */
const char *mc_store_sqlite_file(mc_store *s)
{
    if (s->ops != &mc_db_sqlite_ops)
        return "";
    const char *f = sqlite3_db_filename(db_of(s), "main");
    return f ? f : "";
}
