/* db/store_extra.c: the store's smaller writes and their reads: samples appended to a stored
 * timing, verdicts, machine peaks, tuning rows and mutation scores.
 * SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_driver.h"
#include "store_samples.h"

/* ---- appended samples ---- */

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

typedef struct append_ctx {
    int64_t run_id;
    const char *case_key, *backend, *variant, *code_hash;
    const mc_timing *more;
    /* the stored timing, as read */
    bool found;
    int64_t result_id;
    mc_timing old;
    mc_status read_status;
    mc_err *err;
} append_ctx;

static int read_old(const mc_dbv *col, int n_col, void *ctx)
{
    append_ctx *a = ctx;
    (void)n_col;
    a->found = true;
    a->result_id = mc_dbv_as_int(&col[0]);
    a->old.n = (int)mc_dbv_as_int(&col[1]);
    a->old.median_ns = mc_dbv_as_real(&col[2], 0);
    a->old.gflops = mc_dbv_as_real(&col[3], 0);
    a->old.gbs = mc_dbv_as_real(&col[4], 0);
    a->old.cpu_mhz = mc_dbv_as_real(&col[5], 0);
    a->old.loadavg = mc_dbv_as_real(&col[6], 0);
    a->read_status = mc_samples_read(&col[7], &a->old, a->err);
    return 1;
}

static mc_status append_body(mc_store *s, void *ctx, mc_err *err)
{
    append_ctx *a = ctx;
    mc_timing_free(&a->old);
    memset(&a->old, 0, sizeof a->old);
    a->found = false;
    a->read_status = MC_OK;
    a->err = err;
    const mc_dbv key[] = {mc_dbv_int(a->run_id), mc_dbv_text(a->case_key), mc_dbv_text(a->backend),
                          mc_dbv_text(a->variant), mc_dbv_text(a->code_hash)};
    mc_status rc = s->ops->query(s,
                                 "SELECT t.result_id, t.n, t.median_ns, t.gflops, t.gbs, t.cpu_mhz, t.loadavg, "
                                 "t.samples FROM result r JOIN timing t ON t.result_id = r.id "
                                 "JOIN test_case c ON c.id = r.case_id JOIN variant v ON v.id = r.variant_id "
                                 "WHERE r.run_id = ?1 AND c.key = ?2 AND v.backend = ?3 AND v.name = ?4 "
                                 "AND v.code_hash = ?5",
                                 key, 5, read_old, a, NULL, err);
    if (!rc)
        rc = a->read_status;
    if (!rc && !a->found)
        rc = mc_err_set(err, MC_ERR_CONFIG, "run %" PRId64 " has no timing of %s [%s %s, code %s] to add to",
                        a->run_id, a->case_key, a->backend, a->variant, a->code_hash);
    mc_timing merged = {0};
    if (!rc)
        rc = merged_timing(&a->old, a->more, &merged, err);
    unsigned char *blob = rc ? NULL : mc_samples_blob(&merged);
    if (!rc && !blob)
        rc = mc_err_set(err, MC_ERR_NOMEM, "no memory for %d samples", merged.n);
    if (!rc) {
        const mc_dbv p[] = {mc_dbv_int(a->result_id),   mc_dbv_int(merged.n),         mc_dbv_real(merged.min_ns),
                            mc_dbv_real(merged.median_ns), mc_dbv_real(merged.mad_ns), mc_dbv_real(merged.ci_lo_ns),
                            mc_dbv_real(merged.ci_hi_ns), mc_dbv_real(merged.gflops),  mc_dbv_real(merged.gbs),
                            mc_dbv_real(merged.cpu_mhz),  mc_dbv_real(merged.loadavg), mc_dbv_int(merged.converged),
                            mc_dbv_blob(blob, merged.n * 8)};
        rc = mc_db_exec(s,
                        "UPDATE timing SET n = ?2, min_ns = ?3, median_ns = ?4, mad_ns = ?5, ci_lo_ns = ?6, "
                        "ci_hi_ns = ?7, gflops = ?8, gbs = ?9, cpu_mhz = ?10, loadavg = ?11, converged = ?12, "
                        "samples = ?13 WHERE result_id = ?1",
                        p, 13, NULL, err);
    }
    free(blob);
    mc_timing_free(&merged);
    return rc;
}

mc_status mc_store_append_samples(mc_store *s, int64_t run_id, const char *case_key, const char *backend,
                                  const char *variant, const char *code_hash, const mc_timing *more, mc_err *err)
{
    if (!more || more->n < 1)
        return MC_OK;
    append_ctx a = {.run_id = run_id, .case_key = case_key, .backend = backend, .variant = variant,
                    .code_hash = code_hash, .more = more};
    mc_status rc = mc_store_in_tx(s, append_body, &a, err);
    mc_timing_free(&a.old);
    return rc;
}

/* ---- verdicts ---- */

typedef struct verdicts_ctx {
    const mc_verdict_row *rows;
    int n;
} verdicts_ctx;

static mc_status verdicts_body(mc_store *s, void *ctx, mc_err *err)
{
    const verdicts_ctx *b = ctx;
    char now[MC_TIME_LEN];
    mc_runinfo_now(now);
    mc_status rc = MC_OK;
    for (int i = 0; !rc && i < b->n; i++) {
        const mc_verdict_row *v = &b->rows[i];
        const mc_dbv p[] = {mc_dbv_int(v->base_run_id), mc_dbv_int(v->cand_run_id),   mc_dbv_int(v->case_id),
                            mc_dbv_int(v->base_variant_id), mc_dbv_int(v->cand_variant_id), mc_dbv_text(v->method),
                            mc_dbv_real(v->ratio),      mc_dbv_real(v->ci_lo),         mc_dbv_real(v->ci_hi),
                            mc_dbv_real(v->p),          mc_dbv_real(v->q),             mc_dbv_real(v->threshold),
                            mc_dbv_text(v->verdict),    mc_dbv_text(v->label),         mc_dbv_int(v->same_code),
                            mc_dbv_text(now)};
        rc = mc_db_exec(s,
                        "INSERT INTO verdict (base_run_id, cand_run_id, case_id, base_variant_id, cand_variant_id, "
                        "method, ratio, ci_lo, ci_hi, p, q, threshold, verdict, label, same_code, created_at) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
                        "ON CONFLICT (base_run_id, cand_run_id, case_id, cand_variant_id) DO UPDATE SET "
                        "base_variant_id = excluded.base_variant_id, method = excluded.method, "
                        "ratio = excluded.ratio, ci_lo = excluded.ci_lo, ci_hi = excluded.ci_hi, p = excluded.p, "
                        "q = excluded.q, threshold = excluded.threshold, verdict = excluded.verdict, "
                        "label = excluded.label, same_code = excluded.same_code, created_at = excluded.created_at",
                        p, 16, NULL, err);
    }
    return rc;
}

mc_status mc_store_add_verdicts(mc_store *s, const mc_verdict_row *rows, int n, mc_err *err)
{
    if (n <= 0)
        return MC_OK;
    verdicts_ctx b = {rows, n};
    return mc_store_in_tx(s, verdicts_body, &b, err);
}

mc_status mc_store_count_verdicts(mc_store *s, int64_t base_run_id, int64_t cand_run_id, int *count, mc_err *err)
{
    const mc_dbv p[] = {mc_dbv_int(base_run_id), mc_dbv_int(cand_run_id)};
    int64_t v = 0;
    mc_status rc = mc_db_int(s, "SELECT count(*) FROM verdict WHERE base_run_id = ?1 AND cand_run_id = ?2", p, 2, &v,
                             NULL, err);
    *count = (int)v;
    return rc;
}

/* ---- per machine: one upsert keyed by the machine's id ---- */

typedef struct machine_row_ctx {
    const mc_machine *m;
    const char *sql;
    mc_dbv p[8]; /* ?1 is the machine's id, filled in the transaction */
    int n;
} machine_row_ctx;

static mc_status machine_row_body(mc_store *s, void *ctx, mc_err *err)
{
    machine_row_ctx *c = ctx;
    char now[MC_TIME_LEN];
    mc_runinfo_now(now);
    int64_t mid = 0;
    mc_status rc = mc_store_machine_id(s, c->m, &mid, err);
    c->p[0] = mc_dbv_int(mid);
    c->p[c->n - 1] = mc_dbv_text(now);
    return rc ? rc : mc_db_exec(s, c->sql, c->p, c->n, NULL, err);
}

mc_status mc_store_set_machine_peak(mc_store *s, const mc_machine *m, const char *name, double value,
                                    const char *unit, mc_err *err)
{
    if (!isfinite(value))
        return mc_err_set(err, MC_ERR_INTERNAL, "machine peak %s is not finite", name);
    machine_row_ctx c = {
        .m = m,
        .sql = "INSERT INTO machine_peak (machine_id, name, value, unit, measured_at) "
               "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (machine_id, name) DO UPDATE SET "
               "value = excluded.value, unit = excluded.unit, measured_at = excluded.measured_at",
        .p = {mc_dbv_int(0), mc_dbv_text(name), mc_dbv_real(value), mc_dbv_text(unit), mc_dbv_text("")},
        .n = 5,
    };
    return mc_store_in_tx(s, machine_row_body, &c, err);
}

mc_status mc_store_add_tuning(mc_store *s, const mc_machine *m, int64_t run_id, const char *op, const char *shape_key,
                              const char *config, double median_ns, double gflops, mc_err *err)
{
    machine_row_ctx c = {
        .m = m,
        .sql = "INSERT INTO tuning (machine_id, run_id, op, shape_key, config, median_ns, gflops, measured_at) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (machine_id, op, shape_key, config) DO UPDATE SET "
               "run_id = excluded.run_id, median_ns = excluded.median_ns, gflops = excluded.gflops, "
               "measured_at = excluded.measured_at",
        .p = {mc_dbv_int(0), mc_dbv_opt_int(run_id), mc_dbv_text(op), mc_dbv_text(shape_key), mc_dbv_text(config),
              mc_dbv_real(median_ns), mc_dbv_real(gflops), mc_dbv_text("")},
        .n = 8,
    };
    return mc_store_in_tx(s, machine_row_body, &c, err);
}

typedef struct real_out {
    double *value;
    bool *found;
} real_out;

static int take_real(const mc_dbv *col, int n_col, void *ctx)
{
    real_out *o = ctx;
    (void)n_col;
    *o->value = mc_dbv_as_real(&col[0], 0);
    *o->found = true;
    return 1;
}

mc_status mc_store_get_machine_peak(mc_store *s, const char *fingerprint, const char *name, double *value,
                                    bool *found, mc_err *err)
{
    *found = false;
    const mc_dbv p[] = {mc_dbv_text(fingerprint), mc_dbv_text(name)};
    real_out o = {value, found};
    return s->ops->query(s,
                         "SELECT p.value FROM machine_peak p JOIN machine m ON m.id = p.machine_id "
                         "WHERE m.fingerprint = ?1 AND p.name = ?2",
                         p, 2, take_real, &o, NULL, err);
}

typedef struct tuning_out {
    char *config;
    size_t cap;
    double *median_ns;
    bool *found;
} tuning_out;

static int take_tuning(const mc_dbv *col, int n_col, void *ctx)
{
    tuning_out *o = ctx;
    (void)n_col;
    mc_dbv_copy(&col[0], o->config, o->cap);
    *o->median_ns = mc_dbv_as_real(&col[1], 0);
    *o->found = true;
    return 1;
}

mc_status mc_store_best_tuning(mc_store *s, const char *fingerprint, const char *op, const char *shape_key,
                               char *config, size_t config_cap, double *median_ns, bool *found, mc_err *err)
{
    *found = false;
    const mc_dbv p[] = {mc_dbv_text(fingerprint), mc_dbv_text(op), mc_dbv_text(shape_key)};
    tuning_out o = {config, config_cap, median_ns, found};
    return s->ops->query(s,
                         "SELECT t.config, t.median_ns FROM tuning t JOIN machine m ON m.id = t.machine_id "
                         "WHERE m.fingerprint = ?1 AND t.op = ?2 AND t.shape_key = ?3 ORDER BY t.median_ns LIMIT 1",
                         p, 3, take_tuning, &o, NULL, err);
}

/* ---- mutation scores ---- */

typedef struct score_ctx {
    mc_dbv p[3];
} score_ctx;

static mc_status score_body(mc_store *s, void *ctx, mc_err *err)
{
    const score_ctx *c = ctx;
    return mc_db_exec(s,
                      "INSERT INTO mutation_score (run_id, caught, total) VALUES (?1, ?2, ?3) "
                      "ON CONFLICT (run_id) DO UPDATE SET caught = excluded.caught, total = excluded.total",
                      c->p, 3, NULL, err);
}

mc_status mc_store_set_mutation_score(mc_store *s, int64_t run_id, int caught, int total, mc_err *err)
{
    if (caught < 0 || total < caught)
        return mc_err_set(err, MC_ERR_INTERNAL, "mutation score %d of %d makes no sense", caught, total);
    score_ctx c = {{mc_dbv_int(run_id), mc_dbv_int(caught), mc_dbv_int(total)}};
    return mc_store_in_tx(s, score_body, &c, err);
}

typedef struct score_out {
    int *caught, *total;
    bool *found;
} score_out;

static int take_score(const mc_dbv *col, int n_col, void *ctx)
{
    score_out *o = ctx;
    (void)n_col;
    *o->caught = (int)mc_dbv_as_int(&col[0]);
    *o->total = (int)mc_dbv_as_int(&col[1]);
    *o->found = true;
    return 1;
}

mc_status mc_store_get_mutation_score(mc_store *s, int64_t run_id, int *caught, int *total, bool *found,
                                      mc_err *err)
{
    *found = false;
    const mc_dbv p[] = {mc_dbv_int(run_id)};
    score_out o = {caught, total, found};
    return s->ops->query(s, "SELECT caught, total FROM mutation_score WHERE run_id = ?1", p, 1, take_score, &o, NULL,
                         err);
}
