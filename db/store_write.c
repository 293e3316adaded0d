/* db/store_write.c: what the store writes: runs (begun and ended), batches of results with their
 * timings, appended samples, verdicts, machine peaks, tuning rows and mutation scores. Each write
 * is one transaction through mc_store_in_tx, so a retried one (PostgreSQL: deadlock, lost
 * connection) runs whole again; every statement is idempotent under a retry (a run by its uuid, a
 * result by its run, case and variant), so nothing is stored twice.
 * SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/op.h"
#include "store_driver.h"
#include "store_samples.h"

/* ---- machines and runs ---- */

mc_status mc_store_machine_id(mc_store *s, const mc_machine *m, int64_t *id, mc_err *err)
{
    char now[MC_TIME_LEN];
    mc_runinfo_now(now);
    const mc_dbv p[] = {mc_dbv_text(m->fingerprint), mc_dbv_text(m->cpu_model), mc_dbv_text(m->cpu_flags),
                        mc_dbv_int(m->cores),         mc_dbv_text(m->os),        mc_dbv_text(m->compiler),
                        mc_dbv_text(m->cflags),       mc_dbv_text(m->devices),   mc_dbv_text(now)};
    mc_status rc = mc_db_exec(s,
                              "INSERT INTO machine (fingerprint, cpu_model, cpu_flags, cores, os, compiler, cflags, "
                              "devices, first_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                              "ON CONFLICT (fingerprint) DO NOTHING",
                              p, 9, NULL, err);
    bool found = false;
    if (!rc)
        rc = mc_db_int(s, "SELECT id FROM machine WHERE fingerprint = ?1", p, 1, id, &found, err);
    if (!rc && !found)
        rc = mc_err_set(err, MC_ERR_INTERNAL, "machine %s vanished after insertion", m->fingerprint);
    return rc;
}

typedef struct begin_ctx {
    const mc_run_info *info;
    int64_t *run_id;
} begin_ctx;

static mc_status begin_body(mc_store *s, void *ctx, mc_err *err)
{
    const begin_ctx *b = ctx;
    const mc_run_info *info = b->info;
    const mc_run_selection *sel = &info->sel;
    int64_t mid = 0;
    mc_status rc = mc_store_machine_id(s, &info->machine, &mid, err);
    if (rc)
        return rc;
    const mc_dbv p[] = {mc_dbv_text(info->uuid),
                        mc_dbv_int(mid),
                        mc_dbv_text(info->commit[0] ? info->commit : "unknown"),
                        mc_dbv_int(info->dirty),
                        mc_dbv_text(info->branch),
                        mc_dbv_text(info->parent),
                        mc_dbv_text(info->tier),
                        mc_dbv_text(info->command_line),
                        mc_dbv_text(info->tool_version),
                        mc_dbv_int((int64_t)info->seed),
                        mc_dbv_text(info->mode[0] ? info->mode : MC_RUN_INDEPENDENT),
                        mc_dbv_opt_int(info->paired_with),
                        mc_dbv_text(info->shard),
                        mc_dbv_text(info->start_time),
                        mc_dbv_text(sel->tier),
                        mc_dbv_text(sel->cases),
                        mc_dbv_text(sel->cases_dir),
                        mc_dbv_text(sel->backends),
                        mc_dbv_text(sel->op),
                        mc_dbv_text(sel->filter),
                        mc_dbv_text(sel->variants)};
    /* a begin retried after a commit whose answer was lost finds its run by uuid */
    int64_t added = 0;
    rc = mc_db_exec(s,
                    "INSERT INTO run (uuid, machine_id, commit_sha, dirty, branch, parent_sha, tier, command_line, "
                    "tool_version, seed, mode, paired_with, shard, started_at, sel_tier, sel_cases, sel_cases_dir, "
                    "sel_backends, sel_op, sel_filter, sel_variants) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
                    "?20, ?21) ON CONFLICT (uuid) DO NOTHING",
                    p, 21, &added, err);
    bool found = false;
    if (!rc)
        rc = mc_db_int(s, "SELECT id FROM run WHERE uuid = ?1 AND machine_id = ?2 AND started_at = ?14", p, 14,
                       b->run_id, &found, err);
    if (!rc && !found)
        rc = mc_err_set(err, MC_ERR_DB, "run uuid %s is already in %s for another run", info->uuid, s->label);
    return rc;
}

mc_status mc_store_begin_run(mc_store *s, const mc_run_info *info, int64_t *run_id, mc_err *err)
{
    begin_ctx b = {info, run_id};
    return mc_store_in_tx(s, begin_body, &b, err);
}

static const char *const final_statuses[] = {"passed", "failed", "nothing", "aborted", NULL};

typedef struct end_ctx {
    int64_t run_id;
    const char *status;
} end_ctx;

static mc_status end_body(mc_store *s, void *ctx, mc_err *err)
{
    const end_ctx *e = ctx;
    char now[MC_TIME_LEN];
    mc_runinfo_now(now);
    const mc_dbv p[] = {mc_dbv_int(e->run_id), mc_dbv_text(e->status), mc_dbv_text(now)};
    int64_t changed = 0;
    mc_status rc = mc_db_exec(s, "UPDATE run SET status = ?2, ended_at = ?3 WHERE id = ?1", p, 3, &changed, err);
    if (!rc && changed != 1)
        rc = mc_err_set(err, MC_ERR_DB, "no run %" PRId64 " in %s", e->run_id, s->label);
    return rc;
}

mc_status mc_store_end_run(mc_store *s, int64_t run_id, const char *status, mc_err *err)
{
    bool known = false;
    for (const char *const *f = final_statuses; *f; f++)
        known |= status && strcmp(status, *f) == 0;
    if (!known)
        return mc_err_set(err, MC_ERR_INTERNAL, "'%s' is not a final run status", status ? status : "(null)");
    end_ctx e = {run_id, status};
    return mc_store_in_tx(s, end_body, &e, err);
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
    const mc_dbv p[] = {mc_dbv_text(key), mc_dbv_text(op), mc_dbv_text(params)};
    mc_status rc = mc_db_exec(s,
                              "INSERT INTO test_case (key, op, params) VALUES (?1, ?2, ?3) ON CONFLICT (key) "
                              "DO UPDATE SET params = excluded.params WHERE test_case.params <> excluded.params",
                              p, 3, NULL, err);
    bool found = false;
    if (!rc)
        rc = mc_db_int(s, "SELECT id FROM test_case WHERE key = ?1", p, 1, id, &found, err);
    if (!rc && !found)
        rc = mc_err_set(err, MC_ERR_INTERNAL, "case %s vanished after insertion", key);
    return rc;
}

static mc_status variant_id(mc_store *s, const char *backend, const char *name, const char *hash, int64_t *id,
                            mc_err *err)
{
    const mc_dbv p[] = {mc_dbv_text(backend), mc_dbv_text(name), mc_dbv_text(hash)};
    mc_status rc = mc_db_exec(s,
                              "INSERT INTO variant (backend, name, code_hash) VALUES (?1, ?2, ?3) "
                              "ON CONFLICT (backend, name, code_hash) DO NOTHING",
                              p, 3, NULL, err);
    bool found = false;
    if (!rc)
        rc = mc_db_int(s, "SELECT id FROM variant WHERE backend = ?1 AND name = ?2 AND code_hash = ?3", p, 3, id,
                       &found, err);
    if (!rc && !found)
        rc = mc_err_set(err, MC_ERR_INTERNAL, "variant %s vanished after insertion", name);
    return rc;
}

/* A device reading of a timing: NULL for host timings (no device batch) and unknown values (0). */
static mc_dbv device_real(const mc_timing *t, double v)
{
    mc_dbv d = mc_dbv_real(v);
    d.null = d.null || t->device_batches <= 0 || v <= 0;
    return d;
}

static mc_dbv device_int(const mc_timing *t, double v)
{
    mc_dbv d = mc_dbv_int((int64_t)v);
    d.null = t->device_batches <= 0;
    return d;
}

static mc_status insert_timing(mc_store *s, int64_t result_id, const mc_timing *t, mc_err *err)
{
    unsigned char *blob = mc_samples_blob(t);
    if (!blob)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for %d samples", t->n);
    const mc_dbv p[] = {mc_dbv_int(result_id),       mc_dbv_int(t->n),           mc_dbv_int(t->calls_per_sample),
                        mc_dbv_real(t->min_ns),      mc_dbv_real(t->median_ns),  mc_dbv_real(t->mad_ns),
                        mc_dbv_real(t->ci_lo_ns),    mc_dbv_real(t->ci_hi_ns),   mc_dbv_real(t->gflops),
                        mc_dbv_real(t->gbs),         mc_dbv_real(t->cpu_mhz),    mc_dbv_real(t->loadavg),
                        mc_dbv_real(t->resolution_ns), mc_dbv_int(t->converged), mc_dbv_blob(blob, t->n * 8),
                        mc_dbv_text(t->timer),       device_real(t, t->device_roof_gbs),
                        device_real(t, t->device_ws_roof_gbs),
                        device_real(t, t->device_mhz), device_real(t, t->device_mem_mhz),
                        device_real(t, t->device_temp_c), device_int(t, t->device_batches),
                        device_int(t, t->device_throttled), device_int(t, t->device_reasons)};
    mc_status rc = mc_db_exec(s,
                              "INSERT INTO timing (result_id, n, calls_per_sample, min_ns, median_ns, mad_ns, "
                              "ci_lo_ns, ci_hi_ns, gflops, gbs, cpu_mhz, loadavg, resolution_ns, converged, samples, "
                              "timer, device_roof_gbs, device_ws_roof_gbs, device_sm_mhz, device_mem_mhz, "
                              "device_temp_c, device_batches, device_throttled, device_throttle_reasons) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
                              "?18, ?19, ?20, ?21, ?22, ?23, ?24)",
                              p, 24, NULL, err);
    free(blob);
    return rc;
}

/* The variants a batch has resolved, inside its transaction only (a retry starts empty): a batch
 * holds many rows of few variants, and each lookup is two statements (a round trip each on a
 * server). */
#define BATCH_VARIANTS 16

typedef struct variant_memo {
    const char *backend, *name, *hash; /* the row's own strings, alive for the whole call */
    int64_t id;
} variant_memo;

typedef struct batch_variants {
    variant_memo memo[BATCH_VARIANTS];
    int n;
} batch_variants;

static mc_status batch_variant_id(mc_store *s, batch_variants *known, const mc_result_row *row, int64_t *id,
                                  mc_err *err)
{
    const char *hash = row->code_hash ? row->code_hash : "";
    for (int i = 0; i < known->n; i++) {
        const variant_memo *m = &known->memo[i];
        if (strcmp(m->backend, row->backend) == 0 && strcmp(m->name, row->variant_name) == 0 &&
            strcmp(m->hash, hash) == 0) {
            *id = m->id;
            return MC_OK;
        }
    }
    mc_status rc = variant_id(s, row->backend, row->variant_name, hash, id, err);
    if (!rc && known->n < BATCH_VARIANTS)
        known->memo[known->n++] = (variant_memo){row->backend, row->variant_name, hash, *id};
    return rc;
}

static mc_status insert_row(mc_store *s, int64_t run_id, const mc_result_row *row, batch_variants *known,
                            mc_err *err)
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
        rc = batch_variant_id(s, known, row, &vid, err);
    const mc_dbv ids[] = {mc_dbv_int(run_id), mc_dbv_int(cid), mc_dbv_int(vid)};
    if (!rc) /* a row the run already has is replaced: a retried batch never stores one twice */
        rc = mc_db_exec(s, "DELETE FROM result WHERE run_id = ?1 AND case_id = ?2 AND variant_id = ?3", ids, 3, NULL,
                        err);
    if (rc)
        return rc;
    const mc_result *r = row->res;
    const mc_dbv p[] = {mc_dbv_int(run_id),         mc_dbv_int(cid),
                        mc_dbv_int(vid),            mc_dbv_text(mc_result_kind_name(r->kind)),
                        mc_dbv_text(r->ran),        mc_dbv_int(r->n_checked),
                        mc_dbv_int(r->n_bad),       mc_dbv_int(r->worst_index),
                        mc_dbv_real(r->worst_out),  mc_dbv_real(r->worst_ref),
                        mc_dbv_real(r->worst_err),  mc_dbv_real(r->worst_bound),
                        mc_dbv_real(r->max_ratio),  mc_dbv_real(r->nmse),
                        mc_dbv_int(r->signal),      mc_dbv_real(r->elapsed_ms),
                        mc_dbv_text(r->message),    mc_dbv_text(row->output ? row->output : "")};
    int64_t result_id = 0;
    bool found = false;
    rc = mc_db_int(s,
                   "INSERT INTO result (run_id, case_id, variant_id, kind, ran, n_checked, n_bad, worst_index, "
                   "worst_out, worst_ref, worst_err, worst_bound, max_ratio, nmse, signal, elapsed_ms, message, output) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) "
                   "RETURNING id",
                   p, 18, &result_id, &found, err);
    if (!rc && !found)
        rc = mc_err_set(err, MC_ERR_INTERNAL, "result of %s vanished after insertion", key);
    if (!rc && row->timing)
        rc = insert_timing(s, result_id, row->timing, err);
    return rc;
}

typedef struct results_ctx {
    int64_t run_id;
    const mc_result_row *rows;
    int n;
} results_ctx;

static mc_status results_body(mc_store *s, void *ctx, mc_err *err)
{
    const results_ctx *b = ctx;
    batch_variants known = {.n = 0};
    mc_status rc = MC_OK;
    for (int i = 0; !rc && i < b->n; i++)
        rc = insert_row(s, b->run_id, &b->rows[i], &known, err);
    return rc;
}

mc_status mc_store_add_results(mc_store *s, int64_t run_id, const mc_result_row *rows, int n, mc_err *err)
{
    if (n <= 0)
        return MC_OK;
    results_ctx b = {run_id, rows, n};
    mc_status rc = mc_store_in_tx(s, results_body, &b, err);
    if (rc == MC_ERR_DB && mc_store_is_server(s->target)) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        mc_err_set(err, MC_ERR_DB,
                   "%.500s; kept: run %" PRId64 " and every batch of it committed before (it stays incomplete), "
                   "lost: this batch of %d result%s",
                   why, run_id, n, n == 1 ? "" : "s");
    }
    return rc;
}
