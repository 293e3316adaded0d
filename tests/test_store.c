/* tests/test_store.c: the results store, on SQLite and then on PostgreSQL (the same test table
 * twice; the PostgreSQL half needs a server at $MC_TEST_PG_URI, e.g. scripts/pg-test-server, and
 * exits 77 without one). Each "database" is a file on SQLite and a fresh schema on PostgreSQL.
 * Focus: migrations from an empty file, WAL and foreign keys on, batches that round-trip, a
 * SIGKILL in the middle of a batch that leaves a sound database with every committed batch and
 * the run "incomplete", two processes writing one file at once, merges without duplicates, and
 * re-measured samples appended to a stored timing with its summary recomputed, and the baseline
 * run a check picks (the one covering most of the candidate's timed pairs, never an aborted one).
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "db/compare_runs.h"
#include "db/store.h"
#include "db/store_driver.h"
#include "core/op.h"

static char tmpdir[64];
static bool on_pg;         /* the group running: SQLite files or PostgreSQL schemas */
static const char *pg_uri; /* $MC_TEST_PG_URI: a postgresql:// URI without a query part */

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Runs SQL on the server directly (libpq, not the store); target may name a schema. The first
 * value of the answer goes to out (may be NULL). */
static void pg_raw_text(const char *target, const char *sql, char *out, size_t cap)
{
    PGconn *c = PQconnectdb(target);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connecting to %s: %s", target, PQerrorMessage(c));
    PQsetNoticeProcessor(c, quiet, NULL);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    if (out)
        snprintf(out, cap, "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    PQfinish(c);
}

static void pg_raw(const char *target, const char *sql)
{
    pg_raw_text(target, sql, NULL, 0);
}

/* This process's schemas, one per "database" name. */
static void pg_schema_name(char *out, size_t cap, const char *name)
{
    size_t n = (size_t)snprintf(out, cap, "mcs_%ld_", (long)getpid());
    for (const char *p = name; *p && n + 1 < cap; p++)
        out[n++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ? *p : '_');
    out[n] = '\0';
}

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mc_store_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A new, empty database: a file name (SQLite) or a target naming a fresh schema (PostgreSQL). */
static void db_path(char *out, size_t cap, const char *name)
{
    if (!on_pg) {
        snprintf(out, cap, "%s/%s", tmpdir, name);
        return;
    }
    char schema[96], sql[256];
    pg_schema_name(schema, sizeof schema, name);
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema, schema);
    pg_raw(pg_uri, sql);
    snprintf(out, cap, "%s?options=-csearch_path%%3D%s&application_name=%s", pg_uri, schema, schema);
}

/* Sets a database's schema version behind the store's back (a newer or a foreign one). */
static void set_raw_version(const char *path, int v)
{
    char sql[160];
    if (on_pg) {
        snprintf(sql, sizeof sql, "CREATE TABLE mc_schema (version integer); INSERT INTO mc_schema VALUES (%d)", v);
        pg_raw(path, sql);
        return;
    }
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static mc_store *open_ok(const char *path)
{
    mc_store *s = NULL;
    mc_err err = {0};
    if (mc_store_open(path, &s, &err) != MC_OK)
        fail_msg("open %s: %s", path, err.msg);
    return s;
}

static void query(mc_store *s, const char *sql, char *out, size_t cap)
{
    mc_err err = {0};
    if (mc_store_query_text(s, sql, out, cap, &err) != MC_OK)
        fail_msg("%s: %s", sql, err.msg);
}

static long query_long(mc_store *s, const char *sql)
{
    char out[64];
    query(s, sql, out, sizeof out);
    return strtol(out, NULL, 10);
}

static void fake_info(mc_run_info *info, const char *uuid, const char *commit, const char *devices)
{
    memset(info, 0, sizeof *info);
    snprintf(info->uuid, sizeof info->uuid, "%s", uuid);
    snprintf(info->commit, sizeof info->commit, "%s", commit);
    snprintf(info->parent, sizeof info->parent, "%s", "0000000000000000000000000000000000000000");
    snprintf(info->branch, sizeof info->branch, "main");
    snprintf(info->tier, sizeof info->tier, "perf");
    snprintf(info->command_line, sizeof info->command_line, "metallic-check run --tier perf");
    snprintf(info->tool_version, sizeof info->tool_version, "0.1.0");
    mc_runinfo_now(info->start_time);
    snprintf(info->mode, sizeof info->mode, MC_RUN_INDEPENDENT);
    snprintf(info->machine.cpu_model, sizeof info->machine.cpu_model, "Test CPU");
    snprintf(info->machine.os, sizeof info->machine.os, "Linux test x86_64");
    snprintf(info->machine.devices, sizeof info->machine.devices, "%s", devices);
    info->machine.cores = 2;
    mc_machine_fingerprint(&info->machine);
}

static mc_result pass_result(void)
{
    mc_result r;
    memset(&r, 0, sizeof r);
    r.kind = MC_RESULT_PASS;
    snprintf(r.ran, sizeof r.ran, "gemm_scalar");
    r.n_checked = 35;
    r.worst_index = 3;
    r.worst_err = 1e-7;
    r.worst_bound = 1e-5;
    r.max_ratio = 0.01;
    r.nmse = NAN; /* stored as NULL */
    r.elapsed_ms = 1.5;
    return r;
}

/* n rows over cases "toy(m=<first + i>)" for one variant. keys must hold n * 32 bytes. */
static void make_rows(mc_result_row *rows, char *keys, int first, int n, const mc_result *res, const char *variant)
{
    for (int i = 0; i < n; i++) {
        char *key = keys + 32 * i;
        snprintf(key, 32, "toy(m=%d)", first + i);
        rows[i] = (mc_result_row){.case_key = key, .op_name = "toy", .params_json = "{\"m\":1}",
                                  .backend = "cpu", .variant_name = variant, .code_hash = "0123456789abcdef",
                                  .res = res};
    }
}

static void test_migrate_empty(void **state)
{
    (void)state;
    char path[256], text[64];
    db_path(path, sizeof path, "fresh.db");
    mc_store *s = open_ok(path);
    const char *version_sql = on_pg ? "SELECT version FROM mc_schema" : "PRAGMA user_version";
    query(s, version_sql, text, sizeof text);
    assert_int_equal(atoi(text), MC_STORE_VERSION);
    if (!on_pg) {
        query(s, "PRAGMA journal_mode", text, sizeof text);
        assert_string_equal(text, "wal");
        query(s, "PRAGMA foreign_keys", text, sizeof text);
        assert_string_equal(text, "1");
    }
    const char *table_sql = on_pg ? "SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                                    "current_schema() AND table_name = '%s'"
                                  : "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'";
    static const char *const tables[] = {"machine", "run", "test_case", "variant", "result", "timing", "verdict",
                                         "machine_peak", "tuning", "mutation_score"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[192];
        snprintf(sql, sizeof sql, table_sql, tables[i]);
        assert_int_equal(query_long(s, sql), 1);
    }
    mc_store_close(s);
    s = open_ok(path); /* reopening migrates nothing and keeps the version */
    assert_int_equal(query_long(s, version_sql), MC_STORE_VERSION);
    mc_store_close(s);

    /* an existing empty file (an empty schema) is migrated too */
    db_path(path, sizeof path, "empty.db");
    if (!on_pg) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fclose(f);
    }
    mc_err err = {0};
    assert_int_equal(mc_store_open_existing(path, false, &s, &err), MC_ERR_USAGE); /* a reader writes no schema */
    assert_null(s);
    s = open_ok(path);
    char sql[192];
    snprintf(sql, sizeof sql, table_sql, "timing");
    assert_int_equal(query_long(s, sql), 1);
    mc_store_close(s);

    /* a newer schema is refused, not scribbled on */
    db_path(path, sizeof path, "newer.db");
    set_raw_version(path, 99);
    assert_int_equal(mc_store_open(path, &s, &err), MC_ERR_DB);
    assert_non_null(strstr(err.msg, "99"));
    assert_null(s);

    /* a negative version (found by fuzzing db import) is another program's file, not migration -16776960 */
    db_path(path, sizeof path, "negative.db");
    set_raw_version(path, -16776960);
    err = (mc_err){0};
    assert_int_equal(mc_store_open(path, &s, &err), MC_ERR_DB);
    assert_non_null(strstr(err.msg, "-16776960"));
    assert_null(s);
    err = (mc_err){0};
    assert_int_equal(mc_store_open_existing(path, false, &s, &err), MC_ERR_DB);
    assert_null(s);
}

/* PostgreSQL's half of one schema: the translated migrations hold no SQLite-only type, and the
 * server's columns have the types the store relies on. */
static void check_pg_schema(void)
{
    for (int v = 1; v <= MC_STORE_VERSION; v++) {
        const mc_migration *m = mc_store_migration(v);
        assert_non_null(m);
        char *pg = mc_store_pg_dialect(m->sql);
        assert_non_null(pg);
        assert_null(strstr(pg, " REAL"));
        assert_null(strstr(pg, " BLOB"));
        assert_null(strstr(pg, "INTEGER"));
        free(pg);
    }
    char path[256], text[64], sql[256];
    db_path(path, sizeof path, "types.db");
    mc_store *s = open_ok(path);
    static const char *const expect[][3] = {
        {"timing", "samples", "bytea"},         {"timing", "median_ns", "double precision"},
        {"test_case", "params", "text"},        {"test_case", "params_jsonb", "jsonb"},
        {"run", "seed", "bigint"},              {"result", "output", "text"},
    };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        snprintf(sql, sizeof sql, "SELECT data_type FROM information_schema.columns WHERE table_schema = "
                 "current_schema() AND table_name = '%s' AND column_name = '%s'", expect[i][0], expect[i][1]);
        query(s, sql, text, sizeof text);
        assert_string_equal(text, expect[i][2]);
    }
    query(s, "SELECT is_identity FROM information_schema.columns WHERE table_schema = current_schema() "
             "AND table_name = 'run' AND column_name = 'id'", text, sizeof text);
    assert_string_equal(text, "YES");
    query(s, "SELECT is_identity FROM information_schema.columns WHERE table_schema = current_schema() "
             "AND table_name = 'timing' AND column_name = 'result_id'", text, sizeof text);
    assert_string_equal(text, "NO");
    mc_store_close(s);
}

/* db/schema.sql, run by the sqlite3 library alone, gives exactly the schema the store creates
 * (SQLite); PostgreSQL: check_pg_schema. */
static void test_schema_file_matches(void **state)
{
    (void)state;
    if (on_pg) {
        check_pg_schema();
        return;
    }
    char path[256], file_db[128], sql_path[512];
    db_path(path, sizeof path, "by_store.db");
    db_path(file_db, sizeof file_db, "by_file.db");
    mc_store *s = open_ok(path);
    mc_store_close(s);
    const char *src = getenv("MC_SOURCE_DIR") ? getenv("MC_SOURCE_DIR") : MC_SOURCE_DIR;
    snprintf(sql_path, sizeof sql_path, "%s/db/schema.sql", src);
    FILE *f = fopen(sql_path, "rb");
    assert_non_null(f);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    sqlite3 *a = NULL, *b = NULL;
    assert_int_equal(sqlite3_open(file_db, &b), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(b, text, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("schema.sql: %s", msg);
    assert_int_equal(sqlite3_open(path, &a), SQLITE_OK);
    static const char q[] = "SELECT group_concat(type || ' ' || name || ': ' || coalesce(sql, ''), '\n') FROM "
                            "(SELECT * FROM sqlite_master ORDER BY name)";
    sqlite3_stmt *sa = NULL, *sb = NULL;
    assert_int_equal(sqlite3_prepare_v2(a, q, -1, &sa, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(b, q, -1, &sb, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(sa), SQLITE_ROW);
    assert_int_equal(sqlite3_step(sb), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(sa, 0), (const char *)sqlite3_column_text(sb, 0));
    sqlite3_finalize(sa);
    sqlite3_finalize(sb);
    assert_int_equal(sqlite3_prepare_v2(b, "PRAGMA user_version", -1, &sb, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(sb), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(sb, 0), MC_STORE_VERSION);
    sqlite3_finalize(sb);
    sqlite3_close(a);
    sqlite3_close(b);
}

static const mc_param_def toy_params[] = {
    {"dtype", MC_PARAM_STR, "f32", "element type"},
    {"m", MC_PARAM_INT, "1", "rows"},
    {"alpha", MC_PARAM_NUM, "1", "scale"},
};
static const mc_op toy_op = {.name = "toy", .params = toy_params, .n_params = 3};

static void test_round_trip(void **state)
{
    (void)state;
    char path[256];
    db_path(path, sizeof path, "round.db");
    mc_store *s = open_ok(path);
    mc_err err = {0};
    mc_run_info info;
    fake_info(&info, "00000000000000000000000000000001", "abcdef0123456789abcdef0123456789abcdef01", "cpu: test");
    int64_t run = 0;
    assert_int_equal(mc_store_begin_run(s, &info, &run, &err), MC_OK);

    /* a case given as mc_case: params JSON holds every parameter, defaults too */
    mc_case c;
    assert_int_equal(mc_case_init(&c, &toy_op, &err), MC_OK);
    assert_int_equal(mc_case_set(&c, "dtype", "f16", &err), MC_OK);
    assert_int_equal(mc_case_set(&c, "alpha", "0.1", &err), MC_OK);
    assert_int_equal(mc_case_finish(&c, &err), MC_OK);
    char json[256];
    assert_int_equal(mc_store_params_json(&c, json, sizeof json, &err), MC_OK);
    assert_string_equal(json, "{\"dtype\":\"f16\",\"m\":1,\"alpha\":0.1}");

    double samples[5] = {100.5, 101.25, 99.75, 1e300, 4.9e-324}; /* extremes survive the BLOB */
    mc_timing t = {.n = 5, .samples_ns = samples, .calls_per_sample = 64, .min_ns = 4.9e-324, .median_ns = 100.5,
                   .mad_ns = 0.75, .ci_lo_ns = -INFINITY, .ci_hi_ns = INFINITY, .gflops = 2.5, .gbs = 7.5,
                   .cpu_mhz = 2400, .loadavg = 0.5, .resolution_ns = 1, .converged = false};
    mc_result res = pass_result(), fail = pass_result();
    fail.kind = MC_RESULT_FAIL_BOUND;
    snprintf(fail.message, sizeof fail.message, "element 3: |err| 2e-3 > bound 1e-5 \"quoted\"");
    mc_result_row rows[3] = {
        {.kase = &c, .backend = "cpu", .variant_name = "toy_scalar", .code_hash = "0123456789abcdef", .res = &res,
         .timing = &t},
        {.case_key = "toy(m=7)", .op_name = "toy", .params_json = "{\"dtype\":\"f32\",\"m\":7,\"alpha\":1}",
         .backend = "cpu", .variant_name = "toy_scalar", .code_hash = "0123456789abcdef", .res = &fail},
        {.case_key = "toy(m=7)", .op_name = "toy", .params_json = "{\"dtype\":\"f32\",\"m\":7,\"alpha\":1}",
         .backend = "cpu", .variant_name = "toy_avx2", .code_hash = "unhashable", .res = &res},
    };
    assert_int_equal(mc_store_add_results(s, run, rows, 3, &err), MC_OK);
    assert_int_equal(mc_store_add_results(s, run, rows + 1, 1, &err), MC_OK); /* replaces, not duplicates */
    assert_int_equal(query_long(s, "SELECT count(*) FROM result"), 3);
    assert_int_equal(query_long(s, "SELECT count(*) FROM test_case"), 2);
    assert_int_equal(query_long(s, "SELECT count(*) FROM variant"), 2);
    assert_int_equal(query_long(s, "SELECT count(*) FROM result WHERE nmse IS NULL"), 3);
    char text[300];
    query(s, "SELECT message FROM result WHERE kind = 'bound'", text, sizeof text);
    assert_string_equal(text, fail.message);
    query(s, "SELECT params FROM test_case WHERE key = 'toy(dtype=f16,alpha=0.1)'", text, sizeof text);
    assert_string_equal(text, json);

    mc_run_record rec;
    assert_int_equal(mc_store_get_run(s, run, &rec, &err), MC_OK);
    assert_string_equal(rec.status, "incomplete");
    assert_string_equal(rec.commit, info.commit);
    assert_string_equal(rec.fingerprint, info.machine.fingerprint);
    assert_int_equal(rec.n_results, 3);
    assert_int_equal(rec.n_timings, 1);
    assert_int_equal(mc_store_end_run(s, run, "finished-ish", &err), MC_ERR_INTERNAL);
    assert_int_equal(mc_store_end_run(s, run, "passed", &err), MC_OK);
    assert_int_equal(mc_store_get_run(s, run, &rec, &err), MC_OK);
    assert_string_equal(rec.status, "passed");
    assert_true(rec.ended_at[0] != '\0');

    mc_timing_set set;
    assert_int_equal(mc_store_load_timings(s, run, &set, &err), MC_OK);
    assert_int_equal(set.count, 1);
    assert_string_equal(set.rows[0].case_key, "toy(dtype=f16,alpha=0.1)");
    assert_string_equal(set.rows[0].variant, "toy_scalar");
    assert_string_equal(set.rows[0].code_hash, "0123456789abcdef");
    assert_int_equal(set.rows[0].timing.n, 5);
    assert_memory_equal(set.rows[0].timing.samples_ns, samples, sizeof samples);
    assert_true(set.rows[0].timing.calls_per_sample == 64);
    assert_true(isinf(set.rows[0].timing.ci_lo_ns) && isinf(set.rows[0].timing.ci_hi_ns));
    assert_true(set.rows[0].timing.gflops == 2.5);
    mc_timing_set_free(&set);

    /* finding it again: by run id, by (short) commit, as the latest */
    int64_t found = 0;
    assert_int_equal(mc_store_resolve_run(s, "abcdef01", NULL, &found, &err), MC_OK);
    assert_true(found == run);
    assert_int_equal(mc_store_resolve_run(s, "latest", info.machine.fingerprint, &found, &err), MC_OK);
    assert_true(found == run);
    static const char *const by_id[] = {"1", "#1", "run:1"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(mc_store_resolve_run(s, by_id[i], NULL, &found, &err), MC_OK);
        assert_true(found == run);
    }
    assert_int_equal(mc_store_resolve_run(s, "run:2", NULL, &found, &err), MC_ERR_CONFIG);
    assert_int_equal(mc_store_resolve_run(s, "feedbeef", NULL, &found, &err), MC_ERR_CONFIG);
    assert_int_equal(mc_store_resolve_run(s, "latest", "ffffffffffffffff", &found, &err), MC_ERR_CONFIG);
    assert_int_equal(mc_store_resolve_run(s, "no such thing", NULL, &found, &err), MC_ERR_USAGE);

    /* a second commit sharing the prefix makes it ambiguous */
    mc_run_info other;
    fake_info(&other, "00000000000000000000000000000002", "abcdef0199999999999999999999999999999999", "cpu: test");
    int64_t run2 = 0;
    assert_int_equal(mc_store_begin_run(s, &other, &run2, &err), MC_OK);
    assert_int_equal(mc_store_add_results(s, run2, rows, 1, &err), MC_OK);
    assert_int_equal(mc_store_end_run(s, run2, "passed", &err), MC_OK);
    assert_int_equal(mc_store_resolve_run(s, "abcdef01", NULL, &found, &err), MC_ERR_USAGE);
    assert_non_null(strstr(err.msg, "ambiguous"));
    assert_int_equal(mc_store_resolve_run(s, "abcdef019", NULL, &found, &err), MC_OK);
    assert_true(found == run2);

    mc_history_point *hist = NULL;
    int n_hist = 0;
    assert_int_equal(mc_store_history(s, c.key, "cpu", "toy_scalar", info.machine.fingerprint, &hist, &n_hist, &err),
                     MC_OK);
    assert_int_equal(n_hist, 2);
    assert_true(hist[0].run_id == run && hist[1].run_id == run2);
    free(hist);
    mc_run_record *list = NULL;
    int n_list = 0;
    assert_int_equal(mc_store_list_runs(s, NULL, 10, &list, &n_list, &err), MC_OK);
    assert_int_equal(n_list, 2);
    free(list);
    mc_store_close(s);
}

/* Re-measured samples go after the stored ones, and the summary is of all of them. */
/* Issue 16: every timing is stored with its timer's definition, and a device timing with the
 * device's roof, clocks, temperature and throttling (NULL for a host timing); both read back. */
static void test_timing_device_fields(void **state)
{
    (void)state;
    char path[256];
    db_path(path, sizeof path, "device.db");
    mc_store *s = open_ok(path);
    mc_err err = {0};
    mc_run_info info;
    fake_info(&info, "00000000000000000000000000000051", "abcdef0123456789abcdef0123456789abcdef01", "cuda: test");
    int64_t run = 0;
    assert_int_equal(mc_store_begin_run(s, &info, &run, &err), MC_OK);
    double samples[3] = {10, 11, 12};
    mc_timing dev = {.n = 3, .samples_ns = samples, .calls_per_sample = 4, .min_ns = 10, .median_ns = 11,
                     .mad_ns = 1, .ci_lo_ns = 10, .ci_hi_ns = 12, .gflops = 1, .gbs = 3000, .resolution_ns = 1,
                     .device_roof_gbs = 4200.5, .device_ws_roof_gbs = 1500.25, .device_mhz = 1980, .device_mem_mhz = 3201, .device_temp_c = 41,
                     .device_batches = 12, .device_throttled = 2, .device_reasons = 36};
    snprintf(dev.timer, sizeof dev.timer, "cuda-events-batch: events around a batch");
    mc_timing host = dev;
    memset(&host.device_roof_gbs, 0, sizeof host - offsetof(mc_timing, device_roof_gbs));
    snprintf(host.timer, sizeof host.timer, "host-monotonic-batch: CLOCK_MONOTONIC");
    mc_result res = pass_result();
    mc_result_row rows[2] = {
        {.case_key = "toy(m=7)", .op_name = "toy", .params_json = "{\"dtype\":\"f32\",\"m\":7,\"alpha\":1}",
         .backend = "cuda", .variant_name = "toy_cuda", .code_hash = "0123456789abcdef", .res = &res, .timing = &dev},
        {.case_key = "toy(m=7)", .op_name = "toy", .params_json = "{\"dtype\":\"f32\",\"m\":7,\"alpha\":1}",
         .backend = "cpu", .variant_name = "toy_scalar", .code_hash = "0123456789abcdef", .res = &res,
         .timing = &host},
    };
    assert_int_equal(mc_store_add_results(s, run, rows, 2, &err), MC_OK);
    char text[200];
    query(s, "SELECT timer FROM timing WHERE device_batches IS NULL", text, sizeof text);
    assert_string_equal(text, host.timer);
    assert_int_equal(query_long(s, "SELECT count(*) FROM timing WHERE device_roof_gbs IS NULL AND device_sm_mhz IS "
                                   "NULL AND device_throttled IS NULL AND device_throttle_reasons IS NULL"),
                     1);
    assert_int_equal(query_long(s, "SELECT device_throttle_reasons FROM timing WHERE device_batches = 12"), 36);
    assert_int_equal(query_long(s, "SELECT device_mem_mhz FROM timing WHERE device_throttled = 2"), 3201);
    mc_timing_set set;
    assert_int_equal(mc_store_load_timings(s, run, &set, &err), MC_OK);
    assert_int_equal(set.count, 2);
    const mc_timing *d = strcmp(set.rows[0].backend, "cuda") == 0 ? &set.rows[0].timing : &set.rows[1].timing;
    const mc_timing *h = d == &set.rows[0].timing ? &set.rows[1].timing : &set.rows[0].timing;
    assert_string_equal(d->timer, dev.timer);
    assert_true(d->device_ws_roof_gbs == 1500.25);
    assert_true(d->device_roof_gbs == 4200.5 && d->device_mhz == 1980 && d->device_mem_mhz == 3201);
    assert_true(d->device_temp_c == 41 && d->device_batches == 12 && d->device_throttled == 2);
    assert_true(d->device_reasons == 36);
    assert_string_equal(h->timer, host.timer);
    assert_true(h->device_roof_gbs == 0 && h->device_batches == 0 && h->device_reasons == 0);
    mc_timing_set_free(&set);
    mc_store_close(s);
}

static void test_append_samples(void **state)
{
    (void)state;
    char path[256];
    db_path(path, sizeof path, "append.db");
    mc_store *s = open_ok(path);
    mc_err err = {0};
    mc_run_info info;
    fake_info(&info, "00000000000000000000000000000003", "abcdef0123456789abcdef0123456789abcdef01", "cpu: test");
    int64_t run = 0;
    assert_int_equal(mc_store_begin_run(s, &info, &run, &err), MC_OK);
    double first[5] = {10, 12, 11, 13, 14};
    mc_timing t = {.n = 5, .samples_ns = first, .calls_per_sample = 8, .min_ns = 10, .median_ns = 12, .mad_ns = 1,
                   .ci_lo_ns = -INFINITY, .ci_hi_ns = INFINITY, .gflops = 5, .gbs = 1, .cpu_mhz = 2000,
                   .loadavg = 0.5, .resolution_ns = 1};
    mc_result res = pass_result();
    mc_result_row row = {.case_key = "toy(m=1)", .op_name = "toy", .params_json = "{\"m\":1}", .backend = "cpu",
                         .variant_name = "toy_scalar", .code_hash = "0123456789abcdef", .res = &res, .timing = &t};
    assert_int_equal(mc_store_add_results(s, run, &row, 1, &err), MC_OK);

    double second[6] = {20, 15, 16, 17, 18, 19};
    mc_timing more = {.n = 6, .samples_ns = second, .cpu_mhz = 3000, .loadavg = 1.5};
    assert_int_equal(mc_store_append_samples(s, run, "toy(m=1)", "cpu", "toy_scalar", "0123456789abcdef", &more, &err),
                     MC_OK);
    mc_timing_set set;
    assert_int_equal(mc_store_load_timings(s, run, &set, &err), MC_OK);
    assert_int_equal(set.count, 1);
    const mc_timing *m = &set.rows[0].timing;
    static const double all[11] = {10, 12, 11, 13, 14, 20, 15, 16, 17, 18, 19};
    assert_int_equal(m->n, 11);
    assert_memory_equal(m->samples_ns, all, sizeof all);
    assert_true(m->min_ns == 10);
    assert_true(m->median_ns == 15);                  /* 10..20: the sixth of eleven */
    assert_true(m->mad_ns == 3);                      /* |x - 15|: 0 1 1 2 2 3 3 4 4 5 5 */
    assert_true(m->ci_lo_ns == 11 && m->ci_hi_ns == 19); /* n = 11: x(2) .. x(10), 98.8% */
    assert_true(fabs(m->gflops - 5 * 12.0 / 15) < 1e-12); /* same flops per call, new median */
    assert_true(fabs(m->cpu_mhz - (2000 * 5 + 3000 * 6) / 11.0) < 1e-9);
    assert_true(m->loadavg == 1.5);
    assert_false(m->converged);
    assert_true(m->calls_per_sample == 8);
    mc_timing_set_free(&set);

    /* other code, or a pair the run never timed: nothing to add to */
    assert_int_equal(mc_store_append_samples(s, run, "toy(m=1)", "cpu", "toy_scalar", "fedcba9876543210", &more, &err),
                     MC_ERR_CONFIG);
    assert_int_equal(mc_store_append_samples(s, run, "toy(m=2)", "cpu", "toy_scalar", "0123456789abcdef", &more, &err),
                     MC_ERR_CONFIG);
    assert_int_equal(query_long(s, "SELECT n FROM timing"), 11);
    mc_store_close(s);
}

/* Times toy(m=first .. first + n - 1) [cpu toy_scalar] in run, under code hash `hash`. */
static void add_timed(mc_store *s, int64_t run, int first, int n, const char *hash)
{
    mc_err err = {0};
    double samples[3] = {10, 11, 12};
    mc_timing t = {.n = 3, .samples_ns = samples, .calls_per_sample = 1, .min_ns = 10, .median_ns = 11,
                   .mad_ns = 1, .ci_lo_ns = -INFINITY, .ci_hi_ns = INFINITY, .resolution_ns = 1};
    mc_result res = pass_result();
    for (int i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "toy(m=%d)", first + i);
        mc_result_row row = {.case_key = key, .op_name = "toy", .params_json = "{\"m\":1}", .backend = "cpu",
                             .variant_name = "toy_scalar", .code_hash = hash, .res = &res, .timing = &t};
        if (mc_store_add_results(s, run, &row, 1, &err) != MC_OK)
            fail_msg("add %s: %s", key, err.msg);
    }
}

static int64_t begin_ended(mc_store *s, const char *uuid, const char *commit, const char *status)
{
    mc_err err = {0};
    mc_run_info info;
    fake_info(&info, uuid, commit, "cpu: test");
    int64_t run = 0;
    if (mc_store_begin_run(s, &info, &run, &err) != MC_OK)
        fail_msg("begin: %s", err.msg);
    if (status && mc_store_end_run(s, run, status, &err) != MC_OK)
        fail_msg("end: %s", err.msg);
    return run;
}

/* The baseline of a check (issue 12, item 3): the parent's run that timed most of the candidate's
 * pairs, newest among equals; never one aborted by a setup error, nor an unfinished one; a newer
 * narrowed run loses to an older complete one; the code hash does not matter for coverage. */
static void test_best_base(void **state)
{
    (void)state;
    static const char parent[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    static const char child[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    char path[256];
    db_path(path, sizeof path, "base.db");
    mc_store *s = open_ok(path);
    mc_err err = {0};
    int64_t full = begin_ended(s, "00000000000000000000000000000011", parent, NULL);
    add_timed(s, full, 1, 3, "0123456789abcdef");
    assert_int_equal(mc_store_end_run(s, full, "passed", &err), MC_OK);
    int64_t narrow = begin_ended(s, "00000000000000000000000000000012", parent, NULL);
    add_timed(s, narrow, 1, 1, "fedcba9876543210");
    assert_int_equal(mc_store_end_run(s, narrow, "passed", &err), MC_OK);
    int64_t aborted = begin_ended(s, "00000000000000000000000000000013", parent, NULL);
    add_timed(s, aborted, 1, 3, "0123456789abcdef");
    assert_int_equal(mc_store_end_run(s, aborted, "aborted", &err), MC_OK);
    int64_t unfinished = begin_ended(s, "00000000000000000000000000000014", parent, NULL);
    add_timed(s, unfinished, 1, 3, "0123456789abcdef");
    int64_t cand = begin_ended(s, "00000000000000000000000000000015", child, NULL);
    add_timed(s, cand, 1, 3, "0123456789abcdef");

    mc_run_record rec;
    assert_int_equal(mc_store_get_run(s, cand, &rec, &err), MC_OK);
    mc_run_query q = {.commit_prefix = parent, .fingerprint = rec.fingerprint, .with_timings = true};
    int64_t base = 0;
    assert_int_equal(mc_store_best_base(s, &q, cand, &base, &err), MC_OK);
    assert_int_equal(base, full);

    const struct {
        int64_t base;
        int covered;
    } cover[] = {{full, 3}, {narrow, 1}, {aborted, 3}, {0, 0}};
    for (size_t i = 0; i < sizeof cover / sizeof cover[0]; i++) {
        int covered = -1, timed = -1;
        assert_int_equal(mc_store_base_cover(s, cover[i].base, cand, &covered, &timed, &err), MC_OK);
        assert_int_equal(timed, 3);
        assert_int_equal(covered, cover[i].covered);
    }

    /* with the complete run gone bad, the narrowed one is all there is: taken, and its cover says so */
    assert_int_equal(mc_store_end_run(s, full, "aborted", &err), MC_OK);
    assert_int_equal(mc_store_best_base(s, &q, cand, &base, &err), MC_OK);
    assert_int_equal(base, narrow);
    assert_int_equal(mc_store_end_run(s, narrow, "nothing", &err), MC_OK);
    assert_int_equal(mc_store_best_base(s, &q, cand, &base, &err), MC_ERR_CONFIG);
    q.fingerprint = "ffffffffffffffff"; /* another machine's runs are never a baseline */
    assert_int_equal(mc_store_end_run(s, full, "passed", &err), MC_OK);
    assert_int_equal(mc_store_best_base(s, &q, cand, &base, &err), MC_ERR_CONFIG);
    mc_store_close(s);
}

static int64_t begin_child(mc_store *s, const char *uuid, const char *commit, const char *parent,
                           const char *devices)
{
    mc_err err = {0};
    mc_run_info info;
    fake_info(&info, uuid, commit, devices);
    snprintf(info.parent, sizeof info.parent, "%s", parent);
    int64_t run = 0;
    if (mc_store_begin_run(s, &info, &run, &err) != MC_OK)
        fail_msg("begin: %s", err.msg);
    return run;
}

/* One default base for compare, check and report (issue 14): the parent's run that timed most of
 * the candidate's pairs (an older complete run beats a newer narrowed one, which the report used to
 * take), the paired run first, none without a parent; untimed candidates take untimed runs too. */
static void test_default_base(void **state)
{
    (void)state;
    static const char parent[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    static const char child[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    char path[256];
    db_path(path, sizeof path, "default_base.db");
    mc_store *s = open_ok(path);
    mc_err err = {0};
    int64_t full = begin_ended(s, "00000000000000000000000000000021", parent, NULL);
    add_timed(s, full, 1, 3, "0123456789abcdef");
    assert_int_equal(mc_store_end_run(s, full, "passed", &err), MC_OK);
    int64_t narrow = begin_ended(s, "00000000000000000000000000000022", parent, NULL);
    add_timed(s, narrow, 1, 1, "0123456789abcdef");
    assert_int_equal(mc_store_end_run(s, narrow, "passed", &err), MC_OK);
    int64_t cand = begin_child(s, "00000000000000000000000000000023", child, parent, "cpu: test");
    add_timed(s, cand, 1, 3, "0123456789abcdef");
    int64_t base = -1;
    assert_int_equal(mc_compare_default_base(s, cand, false, &base, &err), MC_OK);
    assert_int_equal(base, full);
    int64_t untimed = begin_child(s, "00000000000000000000000000000024", child, parent, "cpu: test");
    assert_int_equal(mc_compare_default_base(s, untimed, false, &base, &err), MC_OK);
    assert_int_equal(base, narrow); /* no pairs to cover: the newest run that ended passed or failed */
    int64_t orphan = begin_child(s, "00000000000000000000000000000025", parent, "", "cpu: test");
    assert_int_equal(mc_compare_default_base(s, orphan, false, &base, &err), MC_OK);
    assert_int_equal(base, narrow); /* no parent on record: the newest earlier run that ended passed or failed */
    assert_int_equal(mc_store_end_run(s, full, "aborted", &err), MC_OK);
    assert_int_equal(mc_store_end_run(s, narrow, "nothing", &err), MC_OK);
    assert_int_equal(mc_compare_default_base(s, orphan, false, &base, &err), MC_OK);
    assert_int_equal(base, 0); /* none: not an error */
    assert_int_equal(mc_store_end_run(s, full, "passed", &err), MC_OK);
    int64_t elsewhere = begin_child(s, "00000000000000000000000000000026", child, parent, "cpu: other");
    add_timed(s, elsewhere, 1, 3, "0123456789abcdef");
    assert_int_equal(mc_compare_default_base(s, elsewhere, false, &base, &err), MC_OK);
    assert_int_equal(base, 0); /* another machine's runs are no baseline ... */
    assert_int_equal(mc_compare_default_base(s, elsewhere, true, &base, &err), MC_OK);
    assert_int_equal(base, full); /* ... unless forced */

    /* equal cover: the run of the candidate's own selection wins over a newer one of another */
    static const char parent2[] = "cccccccccccccccccccccccccccccccccccccccc";
    mc_run_info info;
    int64_t runs[3];
    static const char *const ops[] = {"gemm", "gemv", "gemm"};
    for (int i = 0; i < 3; i++) {
        char uuid[33];
        snprintf(uuid, sizeof uuid, "000000000000000000000000000000%02d", 50 + i);
        fake_info(&info, uuid, i < 2 ? parent2 : "dddddddddddddddddddddddddddddddddddddddd", "cpu: test");
        if (i == 2)
            snprintf(info.parent, sizeof info.parent, "%s", parent2);
        snprintf(info.sel.op, sizeof info.sel.op, "%s", ops[i]);
        assert_int_equal(mc_store_begin_run(s, &info, &runs[i], &err), MC_OK);
        add_timed(s, runs[i], 1, 2, "0123456789abcdef");
        if (i < 2)
            assert_int_equal(mc_store_end_run(s, runs[i], "passed", &err), MC_OK);
    }
    assert_int_equal(mc_compare_default_base(s, runs[2], false, &base, &err), MC_OK);
    assert_int_equal(base, runs[0]);
    mc_store_close(s);
}

/* mc_compare_runs, the library call of compare and check: matched pairs judged and stored, the
 * pairs the base lacks listed, the same run twice and another machine refused. */
static void test_compare_runs(void **state)
{
    (void)state;
    static const char parent[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    static const char child[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    char path[256];
    db_path(path, sizeof path, "compare_runs.db");
    mc_store *s = open_ok(path);
    mc_err err = {0};
    int64_t base = begin_ended(s, "00000000000000000000000000000031", parent, NULL);
    add_timed(s, base, 1, 2, "0123456789abcdef");
    assert_int_equal(mc_store_end_run(s, base, "passed", &err), MC_OK);
    int64_t cand = begin_child(s, "00000000000000000000000000000032", child, parent, "cpu: test");
    add_timed(s, cand, 1, 3, "0123456789abcdef");
    mc_compare_runs_opts opts = {.cfg = mc_compare_defaults()};
    mc_compare_outcome out;
    assert_int_equal(mc_compare_runs(s, base, cand, &opts, &out, &err), MC_OK);
    assert_int_equal(out.m.n, 2);
    assert_int_equal(out.m.n_no_baseline, 1);
    assert_string_equal(out.m.no_baseline[0]->case_key, "toy(m=3)");
    assert_true(out.m.items[0].same_code);
    assert_false(out.regression);
    mc_compare_outcome_free(&out);
    int n = 0;
    assert_int_equal(mc_store_count_verdicts(s, base, cand, &n, &err), MC_OK);
    assert_int_equal(n, 2);
    assert_int_equal(mc_compare_runs(s, cand, cand, &opts, &out, &err), MC_ERR_USAGE);
    mc_compare_outcome_free(&out);
    int64_t elsewhere = begin_child(s, "00000000000000000000000000000033", child, parent, "cpu: other");
    add_timed(s, elsewhere, 1, 3, "0123456789abcdef");
    assert_int_equal(mc_compare_runs(s, base, elsewhere, &opts, &out, &err), MC_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "different machines"));
    mc_compare_outcome_free(&out);
    opts.force = true;
    assert_int_equal(mc_compare_runs(s, base, elsewhere, &opts, &out, &err), MC_OK);
    assert_int_equal(out.m.n, 2);
    mc_compare_outcome_free(&out);
    mc_store_close(s);
}

/* A version-2 database with one run of the given command line, made behind the store's back:
 * SQLite: db/schema.sql up to migration 3; PostgreSQL: the server's migrations 1 and 2. */
static void make_v2_store(const char *path, const char *command_line)
{
    char rows[1024];
    snprintf(rows, sizeof rows,
             "INSERT INTO machine (fingerprint, cpu_model, cpu_flags, cores, os, compiler, cflags, devices, "
             "first_seen) VALUES ('ffff', 'cpu', '', 1, 'os', 'cc', '', '', '2026-01-01');"
             "INSERT INTO run (uuid, machine_id, commit_sha, dirty, branch, parent_sha, tier, command_line, "
             "tool_version, seed, mode, shard, started_at) VALUES ('u1', (SELECT id FROM machine), 'abc', 0, '', "
             "'', 'precommit', '%s', '0', 0, 'independent', '1/2', '2026-01-01T00:00:00Z')",
             command_line);
    if (on_pg) {
        for (int v = 1; v <= 2; v++) {
            char *sql = NULL;
            mc_err err = {0};
            assert_int_equal(mc_db_pg_ops.migration_sql(v, &sql, &err), MC_OK);
            pg_raw(path, sql);
            free(sql);
        }
        set_raw_version(path, 2);
        pg_raw(path, rows);
        return;
    }
    char sql_path[512];
    const char *src = getenv("MC_SOURCE_DIR") ? getenv("MC_SOURCE_DIR") : MC_SOURCE_DIR;
    snprintf(sql_path, sizeof sql_path, "%s/db/schema.sql", src);
    FILE *f = fopen(sql_path, "rb");
    assert_non_null(f);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *v3 = strstr(text, "-- migration 3");
    assert_non_null(v3);
    *v3 = '\0';
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, text, NULL, NULL, &msg) != SQLITE_OK || sqlite3_exec(db, rows, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("a version-2 database: %s", msg);
    sqlite3_close(db);
    set_raw_version(path, 2);
}

/* A version-2 database is migrated: its runs' selection, which it never stored, is read from their
 * command line; a run begun now stores its fields as given. */
static void test_migrate_selection(void **state)
{
    (void)state;
    char path[256];
    db_path(path, sizeof path, "v2.db");
    make_v2_store(path, "metallic-check run --tier precommit --cases ''/tmp/my cases.lua'' --backend=cpu "
                        "--variant a --variant ''b*'' --filter dtype=f16 --shard 1/2");
    mc_store *s = open_ok(path);
    assert_int_equal(query_long(s, on_pg ? "SELECT version FROM mc_schema" : "PRAGMA user_version"),
                     MC_STORE_VERSION);
    int64_t old = query_long(s, "SELECT id FROM run WHERE uuid = 'u1'");
    mc_run_selection sel;
    mc_err err = {0};
    assert_int_equal(mc_store_get_run_selection(s, old, &sel, &err), MC_OK);
    assert_string_equal(sel.tier, "precommit");
    assert_string_equal(sel.cases, "/tmp/my cases.lua");
    assert_string_equal(sel.backends, "cpu");
    assert_string_equal(sel.variants, "a,b*");
    assert_string_equal(sel.filter, "dtype=f16");
    assert_string_equal(sel.shard, "1/2");
    assert_string_equal(sel.op, "");

    mc_run_info info;
    fake_info(&info, "00000000000000000000000000000041", "abcd", "cpu: test");
    snprintf(info.sel.cases, sizeof info.sel.cases, "a.lua\nb.lua");
    snprintf(info.sel.op, sizeof info.sel.op, "gemm");
    int64_t run = 0;
    assert_int_equal(mc_store_begin_run(s, &info, &run, &err), MC_OK);
    assert_int_equal(mc_store_get_run_selection(s, run, &sel, &err), MC_OK);
    assert_string_equal(sel.tier, ""); /* as given: the command line's --tier perf is not read back */
    assert_string_equal(sel.cases, "a.lua\nb.lua");
    assert_string_equal(sel.op, "gemm");
    assert_int_equal(mc_store_get_run_selection(s, 999, &sel, &err), MC_ERR_CONFIG);
    mc_store_close(s);
}

static void test_peaks_tuning_mutation(void **state)
{
    (void)state;
    char path[256];
    db_path(path, sizeof path, "machine.db");
    mc_store *s = open_ok(path);
    mc_err err = {0};
    mc_run_info info;
    fake_info(&info, "00000000000000000000000000000003", "1111111111111111111111111111111111111111", "cpu: test");
    double v = 0;
    bool found = true;
    assert_int_equal(mc_store_get_machine_peak(s, info.machine.fingerprint, "dram_gbs", &v, &found, &err), MC_OK);
    assert_false(found);
    assert_int_equal(mc_store_set_machine_peak(s, &info.machine, "dram_gbs", 20.5, "GB/s", &err), MC_OK);
    assert_int_equal(mc_store_set_machine_peak(s, &info.machine, "dram_gbs", 21.0, "GB/s", &err), MC_OK);
    assert_int_equal(mc_store_get_machine_peak(s, info.machine.fingerprint, "dram_gbs", &v, &found, &err), MC_OK);
    assert_true(found && v == 21.0);
    assert_int_equal(mc_store_set_machine_peak(s, &info.machine, "f32_gflops", NAN, "GFLOP/s", &err), MC_ERR_INTERNAL);

    const char *shape = "m=512,n=512,k=512";
    assert_int_equal(mc_store_add_tuning(s, &info.machine, 0, "gemm", shape, "6x16", 9e5, 298, &err), MC_OK);
    assert_int_equal(mc_store_add_tuning(s, &info.machine, 0, "gemm", shape, "8x8", 7e5, 383, &err), MC_OK);
    assert_int_equal(mc_store_add_tuning(s, &info.machine, 0, "gemm", shape, "6x16", 6e5, 447, &err), MC_OK);
    char config[32];
    assert_int_equal(
        mc_store_best_tuning(s, info.machine.fingerprint, "gemm", shape, config, sizeof config, &v, &found, &err),
        MC_OK);
    assert_true(found);
    assert_string_equal(config, "6x16"); /* the re-measurement replaced the slower row */
    assert_true(v == 6e5);
    assert_int_equal(query_long(s, "SELECT count(*) FROM tuning"), 2);

    int64_t run = 0;
    assert_int_equal(mc_store_begin_run(s, &info, &run, &err), MC_OK);
    assert_int_equal(mc_store_set_mutation_score(s, run, 7, 9, &err), MC_OK);
    assert_int_equal(mc_store_set_mutation_score(s, run, 10, 9, &err), MC_ERR_INTERNAL);
    assert_int_equal(query_long(s, "SELECT caught FROM mutation_score"), 7);
    mc_store_close(s);
}

/* The child commits `batches` batches of 10 rows, reporting each on the pipe, then announces a
 * batch far too big to finish and starts it. The parent kills it mid-transaction. */
static void killed_child(const char *path, int fd, int batches)
{
    mc_store *s = NULL;
    mc_err err = {0};
    if (mc_store_open(path, &s, &err))
        _exit(10);
    mc_run_info info;
    fake_info(&info, "0000000000000000000000000000000b", "2222222222222222222222222222222222222222", "cpu: test");
    int64_t run = 0;
    if (mc_store_begin_run(s, &info, &run, &err))
        _exit(11);
    mc_result res = pass_result();
    enum { BIG = 200000 };
    mc_result_row *rows = calloc(BIG, sizeof *rows);
    char *keys = calloc(BIG, 32);
    if (!rows || !keys)
        _exit(12);
    for (int b = 0; b < batches; b++) {
        make_rows(rows, keys, 10 * b, 10, &res, "toy_scalar");
        if (mc_store_add_results(s, run, rows, 10, &err))
            _exit(13);
        if (write(fd, "c", 1) != 1)
            _exit(14);
    }
    make_rows(rows, keys, 1000000, BIG, &res, "toy_scalar");
    if (write(fd, "B", 1) != 1)
        _exit(14);
    mc_store_add_results(s, run, rows, BIG, &err);
    _exit(0); /* not reached in time */
}

static void test_kill_mid_batch(void **state)
{
    (void)state;
    char path[256];
    db_path(path, sizeof path, "killed.db");
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        killed_child(path, fds[1], 5);
    }
    close(fds[1]);
    char c = 0;
    int committed = 0;
    while (read(fds[0], &c, 1) == 1 && c == 'c')
        committed++;
    assert_int_equal(c, 'B');
    usleep(30000); /* well inside a 200000-row transaction */
    kill(pid, SIGKILL);
    int wstatus = 0;
    assert_int_equal(waitpid(pid, &wstatus, 0), pid);
    close(fds[0]);
    assert_true(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL);
    assert_int_equal(committed, 5);

    mc_store *s = open_ok(path);
    char text[64];
    query(s, "PRAGMA integrity_check", text, sizeof text);
    assert_string_equal(text, "ok");
    query(s, "PRAGMA foreign_key_check", text, sizeof text);
    assert_string_equal(text, "");
    assert_int_equal(query_long(s, "SELECT count(*) FROM result"), 50); /* every committed batch, no more */
    query(s, "SELECT status FROM run", text, sizeof text);
    assert_string_equal(text, "incomplete");
    mc_run_query q = {.commit_prefix = "2222222222222222222222222222222222222222"};
    int64_t found = 0;
    mc_err err = {0};
    assert_int_equal(mc_store_newest_run(s, &q, &found, &err), MC_ERR_CONFIG); /* incomplete runs are not bases */
    mc_store_close(s);
}

static int writer_child(const char *path, int id)
{
    mc_store *s = NULL;
    mc_err err = {0};
    if (mc_store_open(path, &s, &err))
        return 20;
    mc_run_info info;
    char uuid[33];
    snprintf(uuid, sizeof uuid, "%032d", 100 + id);
    fake_info(&info, uuid, "3333333333333333333333333333333333333333", "cpu: test");
    int64_t run = 0;
    if (mc_store_begin_run(s, &info, &run, &err))
        return 21;
    mc_result res = pass_result();
    mc_result_row rows[25];
    char keys[25 * 32];
    for (int b = 0; b < 40; b++) {
        make_rows(rows, keys, 25 * b, 25, &res, "toy_scalar"); /* both writers share the cases */
        if (mc_store_add_results(s, run, rows, 25, &err))
            return 22;
    }
    if (mc_store_end_run(s, run, "passed", &err))
        return 23;
    mc_store_close(s);
    return 0;
}

static void test_two_writers(void **state)
{
    (void)state;
    char path[256];
    db_path(path, sizeof path, "shared.db"); /* not created yet: both race to create and migrate it */
    pid_t pids[2];
    for (int i = 0; i < 2; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0)
            _exit(writer_child(path, i));
    }
    for (int i = 0; i < 2; i++) {
        int wstatus = 0;
        assert_int_equal(waitpid(pids[i], &wstatus, 0), pids[i]);
        assert_true(WIFEXITED(wstatus));
        assert_int_equal(WEXITSTATUS(wstatus), 0);
    }
    mc_store *s = open_ok(path);
    assert_int_equal(query_long(s, "SELECT count(*) FROM run WHERE status = 'passed'"), 2);
    assert_int_equal(query_long(s, "SELECT count(*) FROM result"), 2000);
    assert_int_equal(query_long(s, "SELECT count(*) FROM test_case"), 1000);
    assert_int_equal(query_long(s, "SELECT count(*) FROM machine"), 1);
    mc_store_close(s);
}

/* Builds a shard: one finished run with `n` timed results starting at case `first`. */
static int64_t build_shard(const char *path, const char *uuid, const char *commit, int first, int n)
{
    mc_store *s = open_ok(path);
    mc_err err = {0};
    mc_run_info info;
    fake_info(&info, uuid, commit, "cpu: test");
    int64_t run = 0;
    assert_int_equal(mc_store_begin_run(s, &info, &run, &err), MC_OK);
    mc_result res = pass_result();
    mc_result_row rows[16];
    char keys[16 * 32];
    double samples[3] = {10, 11, 12};
    mc_timing t = {.n = 3, .samples_ns = samples, .calls_per_sample = 1, .median_ns = 11, .ci_lo_ns = -INFINITY,
                   .ci_hi_ns = INFINITY};
    make_rows(rows, keys, first, n, &res, "toy_scalar");
    for (int i = 0; i < n; i++)
        rows[i].timing = &t;
    assert_int_equal(mc_store_add_results(s, run, rows, n, &err), MC_OK);
    assert_int_equal(mc_store_end_run(s, run, "passed", &err), MC_OK);
    assert_int_equal(mc_store_set_machine_peak(s, &info.machine, "dram_gbs", 20 + first, "GB/s", &err), MC_OK);
    mc_store_close(s);
    return run;
}

static void test_merge(void **state)
{
    (void)state;
    char a[256], b[256], out[256];
    db_path(a, sizeof a, "shard_a.db");
    db_path(b, sizeof b, "shard_b.db");
    db_path(out, sizeof out, "merged.db");
    /* shards of one suite: cases 0..9 on A, 5..14 on B (overlap in cases, not in runs) */
    const char *commit = "4444444444444444444444444444444444444444";
    int64_t run_a = build_shard(a, "000000000000000000000000000000a1", commit, 0, 10);
    build_shard(b, "000000000000000000000000000000b1", commit, 5, 10);

    /* a verdict between the two runs, stored in A (B's run is copied into A first) */
    mc_store *sa = open_ok(a);
    mc_err err = {0};
    mc_merge_stats st;
    assert_int_equal(mc_store_merge_from(sa, b, &st, &err), MC_OK);
    assert_int_equal(st.runs_added, 1);
    int64_t run_b_in_a = query_long(sa, "SELECT id FROM run WHERE uuid = '000000000000000000000000000000b1'");
    int64_t case5 = query_long(sa, "SELECT id FROM test_case WHERE key = 'toy(m=5)'");
    int64_t var = query_long(sa, "SELECT id FROM variant");
    mc_verdict_row v = {.base_run_id = run_a, .cand_run_id = run_b_in_a, .case_id = case5, .base_variant_id = var,
                        .cand_variant_id = var, .method = "mann-whitney", .ratio = 1.0, .ci_lo = 0.99, .ci_hi = NAN,
                        .p = 0.5, .q = 0.5, .threshold = 0.03, .verdict = "same", .label = "", .same_code = true};
    assert_int_equal(mc_store_add_verdicts(sa, &v, 1, &err), MC_OK);
    assert_int_equal(mc_store_add_verdicts(sa, &v, 1, &err), MC_OK); /* replaced, not doubled */
    int nv = 0;
    assert_int_equal(mc_store_count_verdicts(sa, run_a, run_b_in_a, &nv, &err), MC_OK);
    assert_int_equal(nv, 1);
    assert_int_equal(mc_store_merge_from(sa, a, &st, &err), MC_ERR_USAGE); /* into itself */
    mc_store_close(sa);

    mc_store *s = open_ok(out);
    assert_int_equal(mc_store_merge_from(s, b, &st, &err), MC_OK);
    assert_int_equal(st.runs_added, 1);
    assert_int_equal(st.results_added, 10);
    assert_int_equal(st.timings_added, 10);
    assert_int_equal(mc_store_merge_from(s, a, &st, &err), MC_OK); /* A now holds both runs */
    assert_int_equal(st.runs_added, 1);
    assert_int_equal(st.runs_present, 1);
    assert_int_equal(st.results_added, 10);
    assert_int_equal(st.verdicts_added, 1);
    for (int again = 0; again < 2; again++) { /* merging the same shards again adds nothing */
        assert_int_equal(mc_store_merge_from(s, again ? a : b, &st, &err), MC_OK);
        assert_int_equal(st.runs_added + st.results_added + st.timings_added + st.verdicts_added, 0);
    }
    assert_int_equal(query_long(s, "SELECT count(*) FROM run"), 2);
    assert_int_equal(query_long(s, "SELECT count(*) FROM result"), 20);
    assert_int_equal(query_long(s, "SELECT count(*) FROM timing"), 20);
    assert_int_equal(query_long(s, "SELECT count(*) FROM test_case"), 15);
    assert_int_equal(query_long(s, "SELECT count(*) FROM variant"), 1);
    assert_int_equal(query_long(s, "SELECT count(*) FROM machine"), 1);
    assert_int_equal(query_long(s, "SELECT count(*) FROM verdict WHERE ci_hi IS NULL AND ci_lo = 0.99"), 1);
    assert_int_equal(query_long(s, "SELECT count(*) FROM machine_peak"), 1);
    char text[64];
    query(s, "PRAGMA integrity_check", text, sizeof text);
    assert_string_equal(text, "ok");
    query(s, "PRAGMA foreign_key_check", text, sizeof text);
    assert_string_equal(text, "");
    /* the samples came through intact */
    mc_timing_set set;
    int64_t merged_run = query_long(s, "SELECT id FROM run WHERE uuid = '000000000000000000000000000000a1'");
    assert_int_equal(mc_store_load_timings(s, merged_run, &set, &err), MC_OK);
    assert_int_equal(set.count, 10);
    assert_true(set.rows[0].timing.samples_ns[2] == 12);
    mc_timing_set_free(&set);
    mc_store_close(s);
}

static void test_default_path(void **state)
{
    (void)state;
    char *saved = getenv("MC_DB") ? strdup(getenv("MC_DB")) : NULL;
    unsetenv("MC_DB");
    assert_string_equal(mc_store_default_path(), "metallic-check.db");
    setenv("MC_DB", "", 1);
    assert_string_equal(mc_store_default_path(), "metallic-check.db");
    setenv("MC_DB", "/tmp/elsewhere.db", 1);
    assert_string_equal(mc_store_default_path(), "/tmp/elsewhere.db");
    if (saved)
        setenv("MC_DB", saved, 1);
    else
        unsetenv("MC_DB");
    free(saved);
}

/* A SQLite history merged into this group's store and back into a new SQLite file: the same runs,
 * results, timings (samples bit for bit) and verdicts each way, and merging again adds nothing. */
static void test_merge_across_engines(void **state)
{
    (void)state;
    char shard[256], mid[256], back[256];
    snprintf(shard, sizeof shard, "%s/across_shard.db", tmpdir);
    snprintf(back, sizeof back, "%s/across_back.db", tmpdir);
    db_path(mid, sizeof mid, "across_mid.db");
    const char *commit = "5555555555555555555555555555555555555555";
    build_shard(shard, "000000000000000000000000000000c1", commit, 0, 12);
    mc_store *m = open_ok(mid);
    mc_err err = {0};
    mc_merge_stats st;
    assert_int_equal(mc_store_merge_from(m, shard, &st, &err), MC_OK);
    assert_int_equal(st.runs_added, 1);
    assert_int_equal(st.results_added, 12);
    assert_int_equal(st.timings_added, 12);
    assert_int_equal(mc_store_merge_from(m, shard, &st, &err), MC_OK);
    assert_int_equal(st.runs_added + st.results_added + st.timings_added, 0);
    assert_int_equal(st.runs_present, 1);
    mc_store_close(m);

    mc_store *b = open_ok(back);
    assert_int_equal(mc_store_merge_from(b, mid, &st, &err), MC_OK);
    assert_int_equal(st.runs_added, 1);
    assert_int_equal(st.results_added, 12);
    assert_int_equal(mc_store_merge_from(b, mid, &st, &err), MC_OK);
    assert_int_equal(st.runs_added + st.results_added + st.timings_added, 0);
    mc_timing_set set;
    int64_t run = query_long(b, "SELECT id FROM run WHERE uuid = '000000000000000000000000000000c1'");
    assert_int_equal(mc_store_load_timings(b, run, &set, &err), MC_OK);
    assert_int_equal(set.count, 12);
    static const double samples[3] = {10, 11, 12};
    assert_memory_equal(set.rows[5].timing.samples_ns, samples, sizeof samples);
    mc_timing_set_free(&set);
    assert_int_equal(query_long(b, "SELECT count(*) FROM machine_peak"), 1);
    mc_store_close(b);
}

/* Which targets are servers, how messages show them, and that a password in one is refused. */
static void test_targets(void **state)
{
    (void)state;
    assert_true(mc_store_is_server("postgresql://ci@db.example/mc"));
    assert_true(mc_store_is_server("postgres://db/mc"));
    assert_true(mc_store_is_server("host=db dbname=mc"));
    assert_true(mc_store_is_server("dbname = mc"));
    assert_false(mc_store_is_server("metallic-check.db"));
    assert_false(mc_store_is_server("./host=db.sqlite"));
    assert_false(mc_store_is_server("/tmp/postgresql:/x.db"));
    static const char *const cases[][2] = {
        {"postgresql://ci:s3cret@db:5432/mc", "postgresql://ci:***@db:5432/mc"},
        {"postgres://ci@db/mc?password=s3cret&sslmode=require", "postgres://ci@db/mc?password=***&sslmode=require"},
        {"host=db password='s3 cret' dbname=mc", "host=db password=*** dbname=mc"},
        {"host=db password=s3cret", "host=db password=***"},
        {"postgresql://ci@db/mc", "postgresql://ci@db/mc"},
        {"runs.db", "runs.db"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char label[256];
        mc_store_label(cases[i][0], label, sizeof label);
        assert_string_equal(label, cases[i][1]);
    }
    mc_store *s = NULL;
    mc_err err = {0};
    assert_int_equal(mc_store_open("postgresql://ci:s3cret@127.0.0.1:1/mc", &s, &err), MC_ERR_USAGE);
    assert_null(s);
    assert_null(strstr(err.msg, "s3cret"));
    assert_non_null(strstr(err.msg, "PGPASSFILE"));
    /* nothing listens on port 1: a bounded number of tries, then a database error (exit 2) */
    err = (mc_err){0};
    assert_int_equal(mc_store_open("postgresql://ci@127.0.0.1:1/mc?connect_timeout=2", &s, &err), MC_ERR_DB);
    assert_null(s);
    assert_non_null(strstr(err.msg, "cannot connect to PostgreSQL at postgresql://ci@127.0.0.1:1/mc"));
}

/* PostgreSQL only: the server drops the store's connection between two batches (as a restart
 * or a network cut would): the next batch reconnects and is stored once, the run goes on. */
static void test_pg_lost_connection(void **state)
{
    (void)state;
    char path[256], schema[96], sql[256];
    db_path(path, sizeof path, "lost.db");
    pg_schema_name(schema, sizeof schema, "lost.db");
    mc_store *s = open_ok(path);
    mc_err err = {0};
    mc_run_info info;
    fake_info(&info, "000000000000000000000000000000d1", "6666666666666666666666666666666666666666", "cpu: test");
    int64_t run = 0;
    assert_int_equal(mc_store_begin_run(s, &info, &run, &err), MC_OK);
    mc_result res = pass_result();
    mc_result_row rows[10];
    char keys[10 * 32];
    make_rows(rows, keys, 0, 10, &res, "toy_scalar");
    assert_int_equal(mc_store_add_results(s, run, rows, 10, &err), MC_OK);
    snprintf(sql, sizeof sql, "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
             "WHERE application_name = '%s'", schema);
    char killed[16];
    pg_raw_text(pg_uri, sql, killed, sizeof killed);
    assert_string_equal(killed, "1");
    make_rows(rows, keys, 10, 10, &res, "toy_scalar");
    if (mc_store_add_results(s, run, rows, 10, &err) != MC_OK)
        fail_msg("after a lost connection: %s", err.msg);
    assert_int_equal(mc_store_end_run(s, run, "passed", &err), MC_OK);
    assert_int_equal(query_long(s, "SELECT count(*) FROM result"), 20);
    mc_store_close(s);
}

/* PostgreSQL only: writers whose transactions are SERIALIZABLE (set through the target, as a
 * server's default may be) conflict on the cases they share; the server aborts some with
 * SQLSTATE 40001 and the store runs them again, so every writer finishes and nothing is doubled. */
static void test_pg_serializable_writers(void **state)
{
    (void)state;
    char path[320];
    db_path(path, sizeof path, "serial.db");
    strncat(path, "%20-cdefault_transaction_isolation%3Dserializable", sizeof path - strlen(path) - 1);
    char *amp = strchr(path, '&'); /* the options end where application_name starts: move it last */
    char app[96];
    snprintf(app, sizeof app, "%.*s", (int)(strstr(path, "%20-c") - amp), amp);
    memmove(amp, amp + strlen(app), strlen(amp + strlen(app)) + 1);
    strncat(path, app, sizeof path - strlen(path) - 1);
    mc_store *s = open_ok(path); /* migrated once, before the writers race */
    char text[32];
    query(s, "SHOW transaction_isolation", text, sizeof text);
    assert_string_equal(text, "serializable");
    mc_store_close(s);
    enum { WRITERS = 4 };
    pid_t pids[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0)
            _exit(writer_child(path, i));
    }
    for (int i = 0; i < WRITERS; i++) {
        int wstatus = 0;
        assert_int_equal(waitpid(pids[i], &wstatus, 0), pids[i]);
        assert_true(WIFEXITED(wstatus));
        assert_int_equal(WEXITSTATUS(wstatus), 0);
    }
    s = open_ok(path);
    assert_int_equal(query_long(s, "SELECT count(*) FROM run WHERE status = 'passed'"), WRITERS);
    assert_int_equal(query_long(s, "SELECT count(*) FROM result"), WRITERS * 1000);
    assert_int_equal(query_long(s, "SELECT count(*) FROM test_case"), 1000);
    mc_store_close(s);
}

static int setup_sqlite(void **state)
{
    on_pg = false;
    return make_tmpdir(state);
}

static int setup_pg(void **state)
{
    on_pg = true;
    return make_tmpdir(state);
}

/* Drops the schemas this process made. */
static int teardown_pg(void **state)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "DO $$ DECLARE n text; BEGIN FOR n IN SELECT nspname FROM pg_namespace WHERE nspname LIKE "
             "'mcs\\_%ld\\_%%' LOOP EXECUTE 'DROP SCHEMA ' || quote_ident(n) || ' CASCADE'; END LOOP; END $$",
             (long)getpid());
    pg_raw(pg_uri, sql);
    return remove_tmpdir(state);
}

int main(void)
{
    /* the same table for both engines */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrate_empty),   cmocka_unit_test(test_schema_file_matches),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_timing_device_fields),      cmocka_unit_test(test_peaks_tuning_mutation),
        cmocka_unit_test(test_kill_mid_batch),  cmocka_unit_test(test_two_writers),
        cmocka_unit_test(test_merge),           cmocka_unit_test(test_default_path),
        cmocka_unit_test(test_append_samples),  cmocka_unit_test(test_best_base),
        cmocka_unit_test(test_default_base),    cmocka_unit_test(test_migrate_selection),
        cmocka_unit_test(test_compare_runs),    cmocka_unit_test(test_merge_across_engines),
        cmocka_unit_test(test_targets),
    };
    const struct CMUnitTest pg_only[] = {
        cmocka_unit_test(test_pg_lost_connection),
        cmocka_unit_test(test_pg_serializable_writers),
    };
    int failed = cmocka_run_group_tests_name("sqlite", tests, setup_sqlite, remove_tmpdir);
    pg_uri = getenv("MC_TEST_PG_URI");
    if (!pg_uri || !*pg_uri) {
        if (failed)
            return failed;
        printf("skipped: no PostgreSQL server (MC_TEST_PG_URI unset)\n");
        return 77;
    }
    failed += cmocka_run_group_tests_name("postgresql", tests, setup_pg, teardown_pg);
    failed += cmocka_run_group_tests_name("postgresql only", pg_only, setup_pg, teardown_pg);
    return failed;
}
