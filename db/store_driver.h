/* db/store_driver.h: inside db/ only: the seam between the store's queries (written once, in SQL
 * both dialects read, with ?N parameters) and the two engines that run them: SQLite
 * (db/store_sqlite.c) and PostgreSQL through libpq (db/store_pg.c), as one ops table each.
 * SPDX-License-Identifier: MIT */
#ifndef MC_STORE_DRIVER_H
#define MC_STORE_DRIVER_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* One parameter or one column value. A NULL keeps the type it would have had: PostgreSQL must
 * know a parameter's type even when it is NULL. */
typedef enum mc_dbv_type { MC_DBV_INT, MC_DBV_REAL, MC_DBV_TEXT, MC_DBV_BLOB } mc_dbv_type;

typedef struct mc_dbv {
    mc_dbv_type type;
    bool null;
    int64_t i;
    double d;
    const char *s;          /* TEXT: NUL-terminated */
    const unsigned char *b; /* BLOB */
    int len;                /* BLOB bytes */
} mc_dbv;

static inline mc_dbv mc_dbv_int(int64_t v) { return (mc_dbv){.type = MC_DBV_INT, .i = v}; }
/* Finite values as they are; NaN and infinities as NULL (SQLite has no NaN). */
static inline mc_dbv mc_dbv_real(double v) { return (mc_dbv){.type = MC_DBV_REAL, .d = v, .null = !isfinite(v)}; }
static inline mc_dbv mc_dbv_text(const char *v) { return (mc_dbv){.type = MC_DBV_TEXT, .s = v ? v : ""}; }
/* NULL stays NULL (a query's "?1 IS NULL OR ..." means "any"). */
static inline mc_dbv mc_dbv_opt_text(const char *v) { return (mc_dbv){.type = MC_DBV_TEXT, .s = v, .null = !v}; }
/* 0 as NULL: an optional reference to another row. */
static inline mc_dbv mc_dbv_opt_int(int64_t v) { return (mc_dbv){.type = MC_DBV_INT, .i = v, .null = v == 0}; }
static inline mc_dbv mc_dbv_blob(const unsigned char *b, int len)
{
    return (mc_dbv){.type = MC_DBV_BLOB, .b = b, .len = len};
}

/* Reading a column whatever type the engine gave it. */
int64_t mc_dbv_as_int(const mc_dbv *v);
double mc_dbv_as_real(const mc_dbv *v, double if_null);
const char *mc_dbv_as_text(const mc_dbv *v); /* "" for NULL and BLOB */
void mc_dbv_copy(const mc_dbv *v, char *out, size_t cap);

/* Called once per row; non-zero stops the walk (not an error). */
typedef int (*mc_db_row_fn)(const mc_dbv *col, int n_col, void *ctx);

/* How a store is opened: create and migrate; or an existing one, migrated or as it is. */
typedef enum mc_open_mode { MC_OPEN_CREATE, MC_OPEN_EXISTING, MC_OPEN_AS_IS } mc_open_mode;

typedef struct mc_db_ops {
    const char *engine; /* "SQLite", "PostgreSQL" */
    /* Connects (s->target, s->label are set) and applies per-connection settings; no schema. */
    mc_status (*open)(mc_store *s, mc_open_mode mode, mc_err *err);
    void (*close)(mc_store *s);
    /* One statement; row (may be NULL) sees each row; *changes (may be NULL) the rows written. */
    mc_status (*query)(mc_store *s, const char *sql, const mc_dbv *params, int n_params, mc_db_row_fn row,
                       void *ctx, int64_t *changes, mc_err *err);
    /* Several statements without parameters (migrations). */
    mc_status (*script)(mc_store *s, const char *sql, mc_err *err);
    /* A write transaction: SQLite takes the write lock up front (BEGIN IMMEDIATE). */
    mc_status (*begin)(mc_store *s, mc_err *err);
    mc_status (*commit)(mc_store *s, mc_err *err);
    void (*rollback)(mc_store *s);
    /* After a failed transaction (rolled back): true when running it again may succeed
     * (PostgreSQL: serialization failure, deadlock, a connection lost then re-made); waits first. */
    bool (*retry)(mc_store *s, int attempt);
    /* The schema version, 0 for an empty store; the schema lock is taken inside a transaction. */
    mc_status (*version_get)(mc_store *s, int *v, mc_err *err);
    mc_status (*version_set)(mc_store *s, int v, mc_err *err);
    mc_status (*schema_lock)(mc_store *s, mc_err *err);
    /* The migration text this engine runs for migrations[v]. */
    mc_status (*migration_sql)(int v, char **sql, mc_err *err);
    /* Non-generated columns of one table, in order, as "a, b, c" (for copying between stores). */
    mc_status (*columns)(mc_store *s, const char *table, char *out, size_t cap, mc_err *err);
    /* Turns a query written for SQLite's shell (db check's PRAGMAs) into this engine's, or NULL. */
    const char *(*translate)(const char *sql);
} mc_db_ops;

struct mc_store {
    const mc_db_ops *ops;
    char target[1024]; /* the path or connection string, as given */
    char label[1024];  /* the same for messages: a password in it shown as *** */
    void *impl;        /* the engine's connection state */
};

extern const mc_db_ops mc_db_sqlite_ops;
extern const mc_db_ops mc_db_pg_ops;

/* One migration: the SQL (SQLite's dialect, the reference), and for PostgreSQL either its own
 * text or NULL when the mechanical translation (mc_store_pg_dialect) is all it needs; pg_extra
 * is what PostgreSQL adds beside it (NULL: nothing). */
typedef struct mc_migration {
    const char *sql;
    const char *pg;
    const char *pg_extra;
} mc_migration;

/* migrations[v] produces schema version v (db/store.c). */
const mc_migration *mc_store_migration(int v);

/* SQLite DDL into PostgreSQL's: INTEGER PRIMARY KEY -> identity (BIGINT PRIMARY KEY when it is a
 * reference), INTEGER -> BIGINT, REAL -> DOUBLE PRECISION, BLOB -> BYTEA. malloc'd. */
char *mc_store_pg_dialect(const char *sqlite_sql);

/* A transaction body, run again (bounded) when the engine says a retry may succeed. */
typedef mc_status (*mc_tx_body)(mc_store *s, void *ctx, mc_err *err);
mc_status mc_store_in_tx(mc_store *s, mc_tx_body body, void *ctx, mc_err *err);

/* Shortcuts over ops->query. */
mc_status mc_db_exec(mc_store *s, const char *sql, const mc_dbv *p, int n, int64_t *changes, mc_err *err);
/* The first column of the first row as an integer; *found false when there is no row. */
mc_status mc_db_int(mc_store *s, const char *sql, const mc_dbv *p, int n, int64_t *out, bool *found, mc_err *err);

/* The id of machine m, recorded first when new (inside a transaction). */
mc_status mc_store_machine_id(mc_store *s, const mc_machine *m, int64_t *id, mc_err *err);

/* The first column of every row, joined with ", " into out (MC_ERR_INTERNAL when it does not fit). */
mc_status mc_db_join_column(mc_store *s, const char *sql, const mc_dbv *p, int n, char *out, size_t cap, mc_err *err);

/* Opens a store of either engine (the target decides) in a mode. */
mc_status mc_store_open_mode(const char *target, mc_open_mode mode, mc_store **out, mc_err *err);

/* Copies every row of the schema's tables from src into dst (ids kept), tables named
 * "<prefix>table" there (prefix "" or e.g. "pg_temp."); one transaction of dst's, the caller's. */
mc_status mc_store_copy_rows(mc_store *src, mc_store *dst, const char *prefix, mc_err *err);

/* The SQL merge of an attached source (tables "src.*") into "main.*"; engine-neutral text. */
typedef struct mc_merge_step {
    const char *what;
    const char *sql;
    int adds_to; /* mc_merge_stat */
} mc_merge_step;
typedef enum mc_merge_stat { MC_COUNT_NONE, MC_COUNT_RUNS, MC_COUNT_RESULTS, MC_COUNT_TIMINGS, MC_COUNT_VERDICTS } mc_merge_stat;
extern const mc_merge_step mc_merge_steps[];
extern const int mc_merge_step_count;
/* The tables in the order rows can be copied (each after those it references). */
extern const char *const mc_store_tables[];
extern const int mc_store_table_count;

/* The file behind a SQLite store ("" for another engine). */
const char *mc_store_sqlite_file(mc_store *s);

/* Engine-specific halves of mc_store_merge_from. */
mc_status mc_store_sqlite_merge(mc_store *s, const char *src_target, mc_merge_stats *stats, mc_err *err);
mc_status mc_store_pg_merge(mc_store *s, const char *src_target, mc_merge_stats *stats, mc_err *err);

#endif
