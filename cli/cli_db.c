/* cli/cli_db.c: `metallic-check db`: upkeep of the results database: an integrity check (after
 * a crash, say) and the import of paired A/B rounds from scripts/ab-compare as two paired runs.
 *
 * Paired import:
 *   1. Each round is two databases, the base build's and the candidate's, each written by
 *      `run --perf` (one run per case when the script alternates per case, ABBA).
 *   2. A round's value for a (case key, backend, variant) is that timing's median: one number per
 *      build per round. A round where either side lacks the pair is dropped for that pair, so
 *      base_i and cand_i always come from the same round: the pairing `compare` relies on.
 *   3. Each side must be one commit on one machine, with one code hash per pair in every round;
 *      anything else is refused, since it would not be a paired measurement of two builds.
 *   4. The base run is written first (mode paired), then the candidate (mode paired, paired_with
 *      the base), both ended "passed": `compare --cand run:N` finds the base by itself.
 * SPDX-License-Identifier: MIT */
#include "cli_db.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_outputs.h"
#include "core/sanitize.h"
#include "db/store.h"

static const char db_usage[] =
    "usage: metallic-check db check [--db PATH]\n"
    "       metallic-check db import-paired [--db PATH] BASE_1.db CAND_1.db [BASE_2.db CAND_2.db ...]\n"
    "Upkeep of the results database.\n"
    "\n"
    "  check          PRAGMA integrity_check and foreign_key_check, then the newest runs with their\n"
    "                 status (a killed run shows as incomplete) and result counts\n"
    "  import-paired  the rounds of an A/B measurement (scripts/ab-compare), each a base and a\n"
    "                 candidate database in round order, become two paired runs in PATH: per\n"
    "                 (case, variant), one sample per round, that round's median\n"
    "\n"
    "  --db PATH      results database (default $MC_DB, else ./metallic-check.db)\n"
    "  -h, --help     this text\n"
    "\n"
    "Exit status: 0 sound (check) or imported; 1 the check found damage (SQLite cannot read the file\n"
    "through: truncated, malformed); 2 usage or database error (no file, not a metallic-check database).\n";

enum { BASE = 0, CAND = 1, SIDES = 2 };
static const char *const side_names[SIDES] = {"base", "candidate"};

static int usage_error(const char *what)
{
    return mc_cli_usage_error("db", db_usage, MC_USAGE_FULL, "%s", what);
}

/* ---- db check ---- */

/* Damage found (exit 1) rather than a setup error: the file is a database SQLite cannot read through. */
static int damaged(const char *path, const mc_err *err)
{
    fprintf(stderr, "metallic-check db: %s: damage: ", path);
    mc_sanitize_write(MC_SINK_TERM, stderr, err->msg);
    fputc('\n', stderr);
    mc_cli_outputs_note_error(err);
    return MC_EXIT_FAIL;
}

static int db_check(const char *path)
{
    mc_store *s = NULL;
    mc_err err = {0};
    /* as it is: no journal change, no migration, no schema written into a file that has none */
    mc_status st = mc_store_open_existing(path, true, &s, &err);
    if (st == MC_ERR_DB)
        return damaged(path, &err);
    if (st)
        return mc_cli_report_error("db", &err);
    char integrity[256], fk[256];
    mc_run_record *runs = NULL;
    int n = 0;
    if (mc_store_query_text(s, "PRAGMA integrity_check", integrity, sizeof integrity, &err) != MC_OK ||
        mc_store_query_text(s, "PRAGMA foreign_key_check", fk, sizeof fk, &err) != MC_OK ||
        mc_store_list_runs(s, NULL, 20, &runs, &n, &err) != MC_OK) {
        mc_store_close(s);
        return err.status == MC_ERR_DB ? damaged(path, &err) : mc_cli_report_error("db", &err);
    }
    bool sound = strcmp(integrity, "ok") == 0 && fk[0] == '\0';
    printf("%s: integrity_check %s, foreign keys %s\n", path, integrity, fk[0] ? "broken" : "ok");
    if (n)
        printf("  run  status      results  timings  commit        tier        started\n");
    for (int i = 0; i < n; i++)
        printf("  %-4" PRId64 " %-11s %7d  %7d  %.12s  %-10s  %s\n", runs[i].id, runs[i].status, runs[i].n_results,
               runs[i].n_timings, runs[i].commit, runs[i].tier, runs[i].started_at);
    free(runs);
    mc_store_close(s);
    return sound ? MC_EXIT_OK : MC_EXIT_FAIL;
}

/* ---- db import-paired ---- */

typedef struct series {
    char key[MC_KEY_LEN], op[32], backend[16], variant[64];
    char *params_json;
    char hash[SIDES][MC_HASH_LEN];
    double *median_ns[SIDES];    /* per round; NaN where that round lacks the pair */
    double flops, bytes;         /* per call, from a stored rate times its median */
    double mhz_sum[SIDES];       /* CPU clock over rounds that knew it */
    int mhz_n[SIDES];
    double loadavg_max[SIDES];
    double resolution_ns[SIDES];
} series;

typedef struct importer {
    int rounds;
    series *all;
    int n, cap;
    bool have_run[SIDES];
    mc_run_record run[SIDES];    /* the first run seen per side: commit, branch, machine */
    mc_machine machine[SIDES];
    mc_err err;
} importer;

static series *find_series(importer *im, const mc_timing_row *row)
{
    for (int i = 0; i < im->n; i++)
        if (strcmp(im->all[i].key, row->case_key) == 0 && strcmp(im->all[i].backend, row->backend) == 0 &&
            strcmp(im->all[i].variant, row->variant) == 0)
            return &im->all[i];
    if (im->n == im->cap) {
        int cap = im->cap ? 2 * im->cap : 64;
        series *grown = realloc(im->all, (size_t)cap * sizeof *grown);
        if (!grown)
            return NULL;
        im->all = grown;
        im->cap = cap;
    }
    series *s = &im->all[im->n];
    memset(s, 0, sizeof *s);
    snprintf(s->key, sizeof s->key, "%s", row->case_key);
    snprintf(s->op, sizeof s->op, "%s", row->op);
    snprintf(s->backend, sizeof s->backend, "%s", row->backend);
    snprintf(s->variant, sizeof s->variant, "%s", row->variant);
    s->params_json = strdup(row->params_json ? row->params_json : "{}");
    for (int k = 0; k < SIDES; k++) {
        s->median_ns[k] = malloc((size_t)im->rounds * sizeof *s->median_ns[k]);
        for (int r = 0; s->median_ns[k] && r < im->rounds; r++)
            s->median_ns[k][r] = NAN;
    }
    if (!s->params_json || !s->median_ns[BASE] || !s->median_ns[CAND]) {
        free(s->params_json);
        free(s->median_ns[BASE]);
        free(s->median_ns[CAND]);
        return NULL;
    }
    im->n++;
    return s;
}

static void importer_free(importer *im)
{
    for (int i = 0; i < im->n; i++) {
        free(im->all[i].params_json);
        free(im->all[i].median_ns[BASE]);
        free(im->all[i].median_ns[CAND]);
    }
    free(im->all);
}

/* Note 3: one commit and one machine per side. */
static mc_status check_same_build(importer *im, mc_store *src, int side, const mc_run_record *run, const char *path)
{
    if (!im->have_run[side]) {
        bool found = false;
        im->run[side] = *run;
        im->have_run[side] = true;
        mc_status st = mc_store_get_machine(src, run->fingerprint, &im->machine[side], &found, &im->err);
        if (!st && !found)
            st = mc_err_set(&im->err, MC_ERR_DB, "%s: run %" PRId64 " names a machine it does not hold", path, run->id);
        return st;
    }
    const mc_run_record *first = &im->run[side];
    if (strcmp(first->commit, run->commit) != 0 || strcmp(first->fingerprint, run->fingerprint) != 0)
        return mc_err_set(&im->err, MC_ERR_CONFIG,
                          "%s: the %s side mixes builds (commit %.12s on machine %s, then %.12s on %s)", path,
                          side_names[side], first->commit, first->fingerprint, run->commit, run->fingerprint);
    return MC_OK;
}

static mc_status take_row(importer *im, int side, int round, const mc_timing_row *row, const char *path)
{
    series *s = find_series(im, row);
    if (!s)
        return mc_err_set(&im->err, MC_ERR_NOMEM, "no memory for the paired series");
    if (!isnan(s->median_ns[side][round]))
        return mc_err_set(&im->err, MC_ERR_CONFIG, "%s: %s [%s %s] is timed twice in one round", path, row->case_key,
                          row->backend, row->variant);
    if (s->hash[side][0] && strcmp(s->hash[side], row->code_hash) != 0)
        return mc_err_set(&im->err, MC_ERR_CONFIG, "%s: %s [%s] ran as other code than in an earlier round", path,
                          row->case_key, row->variant);
    const mc_timing *t = &row->timing;
    snprintf(s->hash[side], sizeof s->hash[side], "%s", row->code_hash);
    s->median_ns[side][round] = t->median_ns;
    s->flops = t->gflops * t->median_ns;
    s->bytes = t->gbs * t->median_ns;
    if (t->cpu_mhz > 0) {
        s->mhz_sum[side] += t->cpu_mhz;
        s->mhz_n[side]++;
    }
    s->loadavg_max[side] = fmax(s->loadavg_max[side], t->loadavg);
    s->resolution_ns[side] = t->resolution_ns;
    return MC_OK;
}

/* Every timing of every run in one round's database of one side. */
static mc_status read_round(importer *im, int side, int round, const char *path)
{
    mc_store *src = NULL;
    mc_run_record *runs = NULL;
    int n_runs = 0;
    mc_status st = mc_store_open_existing(path, false, &src, &im->err);
    if (!st)
        st = mc_store_list_runs(src, NULL, 0, &runs, &n_runs, &im->err);
    for (int i = 0; !st && i < n_runs; i++) {
        mc_timing_set set = {0};
        st = check_same_build(im, src, side, &runs[i], path);
        if (!st)
            st = mc_store_load_timings(src, runs[i].id, &set, &im->err);
        for (int j = 0; !st && j < set.count; j++)
            st = take_row(im, side, round, &set.rows[j], path);
        mc_timing_set_free(&set);
    }
    free(runs);
    mc_store_close(src);
    return st;
}

/* The run record of one side, as the import writes it: that side's commit and machine. */
static mc_status side_info(importer *im, int side, int argc, char **argv, int64_t paired_with, mc_run_info *info)
{
    const mc_run_record *r = &im->run[side];
    mc_status st = mc_runinfo_collect(argc, argv, "ab", NULL, im->machine[side].devices, info, &im->err);
    if (st)
        return st;
    snprintf(info->commit, sizeof info->commit, "%s", r->commit);
    snprintf(info->parent, sizeof info->parent, "%s", r->parent);
    snprintf(info->branch, sizeof info->branch, "%s", r->branch);
    snprintf(info->start_time, sizeof info->start_time, "%s", r->started_at);
    info->dirty = r->dirty;
    info->machine = im->machine[side];
    snprintf(info->mode, sizeof info->mode, MC_RUN_PAIRED);
    info->paired_with = paired_with;
    return MC_OK;
}

/* Note 2: the rounds where both sides have the pair, as one timing per side. */
static mc_status paired_timing(const series *s, int side, int rounds, mc_timing *out, mc_err *err)
{
    memset(out, 0, sizeof *out);
    out->samples_ns = malloc((size_t)rounds * sizeof *out->samples_ns);
    if (!out->samples_ns)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for %d rounds", rounds);
    for (int r = 0; r < rounds; r++)
        if (!isnan(s->median_ns[BASE][r]) && !isnan(s->median_ns[CAND][r]))
            out->samples_ns[out->n++] = s->median_ns[side][r];
    if (out->n == 0)
        return MC_OK;
    mc_timing_cfg defaults = mc_timing_defaults();
    mc_status st = mc_timing_finish(out, defaults.conf, err);
    if (st)
        return st;
    out->calls_per_sample = 1; /* each sample is a round's median, itself over batches of calls */
    mc_timing_set_rates(out, s->flops, s->bytes);
    out->converged = out->ci_half_ns < defaults.target_rel_ci * out->median_ns;
    out->cpu_mhz = s->mhz_n[side] ? s->mhz_sum[side] / s->mhz_n[side] : 0;
    out->loadavg = s->loadavg_max[side];
    out->resolution_ns = s->resolution_ns[side];
    return MC_OK;
}

static mc_status write_side(importer *im, mc_store *out, int side, int argc, char **argv, int64_t paired_with,
                            int64_t *run_id, int *n_pairs)
{
    mc_run_info info;
    mc_status st = side_info(im, side, argc, argv, paired_with, &info);
    if (!st)
        st = mc_store_begin_run(out, &info, run_id, &im->err);
    mc_result pass;
    memset(&pass, 0, sizeof pass);
    pass.kind = MC_RESULT_PASS;
    pass.worst_index = -1;
    pass.worst_out = pass.worst_ref = pass.worst_err = pass.worst_bound = pass.max_ratio = pass.nmse = NAN;
    snprintf(pass.message, sizeof pass.message, "paired A/B import: one sample per round, that round's median");
    *n_pairs = 0;
    for (int i = 0; !st && i < im->n; i++) {
        const series *s = &im->all[i];
        mc_timing t;
        st = paired_timing(s, side, im->rounds, &t, &im->err);
        if (!st && t.n > 0) {
            snprintf(pass.ran, sizeof pass.ran, "%s", s->variant);
            mc_result_row row = {.case_key = s->key, .op_name = s->op, .params_json = s->params_json,
                                 .backend = s->backend, .variant_name = s->variant, .code_hash = s->hash[side],
                                 .res = &pass, .timing = &t};
            st = mc_store_add_results(out, *run_id, &row, 1, &im->err);
            (*n_pairs)++;
        }
        mc_timing_free(&t);
    }
    if (!st)
        st = mc_store_end_run(out, *run_id, "passed", &im->err);
    return st;
}

static int db_import_paired(const char *path, int argc, char **argv, int first)
{
    int n_files = argc - first;
    if (n_files < 2 || n_files % 2)
        return usage_error("import-paired wants base and candidate databases in pairs, one pair per round");
    importer im = {.rounds = n_files / 2};
    mc_store *out = NULL;
    int64_t base_id = 0, cand_id = 0;
    int n_base = 0, n_cand = 0;
    mc_status st = MC_OK;
    for (int r = 0; !st && r < im.rounds; r++)
        for (int side = 0; !st && side < SIDES; side++)
            st = read_round(&im, side, r, argv[first + 2 * r + side]);
    if (!st && (!im.have_run[BASE] || !im.have_run[CAND]))
        st = mc_err_set(&im.err, MC_ERR_CONFIG, "the rounds hold no %s run", im.have_run[BASE] ? "candidate" : "base");
    if (!st)
        st = mc_store_open(path, &out, &im.err);
    if (!st)
        st = write_side(&im, out, BASE, argc, argv, 0, &base_id, &n_base);
    if (!st)
        st = write_side(&im, out, CAND, argc, argv, base_id, &cand_id, &n_cand);
    mc_store_close(out);
    importer_free(&im);
    if (st)
        return mc_cli_report_error("db import-paired", &im.err);
    printf("imported %d paired (case, variant) timings over %d rounds: base run %" PRId64 " (%.12s), candidate run "
           "%" PRId64 " (%.12s, paired with %" PRId64 ") in %s\n",
           n_cand, im.rounds, base_id, im.run[BASE].commit, cand_id, im.run[CAND].commit, base_id, path);
    return n_cand ? MC_EXIT_OK : MC_EXIT_NOTHING;
}

int mc_cli_db(int argc, char **argv)
{
    const char *path = NULL;
    int i = 1;
    const char *action = NULL;
    int first_file = argc;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(db_usage, stdout);
            return MC_EXIT_OK;
        }
        if (strcmp(argv[i], "--db") == 0) {
            if (++i >= argc)
                return usage_error("--db needs a value");
            path = argv[i];
        } else if (argv[i][0] == '-') {
            return mc_cli_usage_error("db", db_usage, MC_USAGE_FULL, "unknown option '%s'", argv[i]);
        } else if (!action) {
            action = argv[i];
        } else {
            first_file = i;
            break;
        }
    }
    /* files may not be followed by options: keep the pairs' order plain */
    for (int j = first_file; j < argc; j++)
        if (argv[j][0] == '-')
            return usage_error("options go before the databases");
    if (!path)
        path = mc_store_default_path();
    if (!action)
        return usage_error("which action: check or import-paired?");
    if (strcmp(action, "check") == 0)
        return first_file < argc ? usage_error("check takes no arguments besides --db") : db_check(path);
    if (strcmp(action, "import-paired") == 0)
        return db_import_paired(path, argc, argv, first_file);
    return mc_cli_usage_error("db", db_usage, MC_USAGE_FULL, "unknown action '%s'", action);
}
