/* db/store_report.c: the read-only walks the report makes: a run's results, a pair's verdicts,
 * a machine's timing history, a machine record.
 * SPDX-License-Identifier: MIT */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "store_driver.h"

typedef struct result_walk {
    mc_stored_result_visit visit;
    void *user;
} result_walk;

static int visit_result_row(const mc_dbv *col, int n_col, void *ctx)
{
    const result_walk *w = ctx;
    (void)n_col;
    mc_stored_result r;
    memset(&r, 0, sizeof r);
    r.case_id = mc_dbv_as_int(&col[0]);
    r.variant_id = mc_dbv_as_int(&col[1]);
    r.case_key = mc_dbv_as_text(&col[2]);
    r.op = mc_dbv_as_text(&col[3]);
    r.params_json = mc_dbv_as_text(&col[4]);
    r.backend = mc_dbv_as_text(&col[5]);
    r.variant = mc_dbv_as_text(&col[6]);
    r.code_hash = mc_dbv_as_text(&col[7]);
    int kind = mc_result_kind_parse(mc_dbv_as_text(&col[8]));
    r.res.kind = kind < 0 ? MC_RESULT_ERROR : (mc_result_kind)kind;
    r.res.case_index = -1;
    r.res.variant_index = -1;
    mc_dbv_copy(&col[9], r.res.ran, sizeof r.res.ran);
    r.res.n_checked = mc_dbv_as_int(&col[10]);
    r.res.n_bad = mc_dbv_as_int(&col[11]);
    r.res.worst_index = mc_dbv_as_int(&col[12]);
    r.res.worst_out = mc_dbv_as_real(&col[13], NAN);
    r.res.worst_ref = mc_dbv_as_real(&col[14], NAN);
    r.res.worst_err = mc_dbv_as_real(&col[15], NAN);
    r.res.worst_bound = mc_dbv_as_real(&col[16], NAN);
    r.res.max_ratio = mc_dbv_as_real(&col[17], NAN);
    r.res.nmse = mc_dbv_as_real(&col[18], NAN);
    r.res.signal = (int)mc_dbv_as_int(&col[19]);
    r.res.elapsed_ms = mc_dbv_as_real(&col[20], 0);
    mc_dbv_copy(&col[21], r.res.message, sizeof r.res.message);
    r.has_timing = !col[22].null;
    if (r.has_timing) {
        r.n_samples = (int)mc_dbv_as_int(&col[22]);
        r.min_ns = mc_dbv_as_real(&col[23], 0);
        r.median_ns = mc_dbv_as_real(&col[24], 0);
        r.mad_ns = mc_dbv_as_real(&col[25], 0);
        r.ci_lo_ns = mc_dbv_as_real(&col[26], -INFINITY);
        r.ci_hi_ns = mc_dbv_as_real(&col[27], INFINITY);
        r.gflops = mc_dbv_as_real(&col[28], 0);
        r.gbs = mc_dbv_as_real(&col[29], 0);
    }
    return w->visit(&r, w->user);
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
    const mc_dbv p[] = {mc_dbv_int(run_id), mc_dbv_int(failures_only)};
    result_walk w = {visit, user};
    return s->ops->query(s, sql, p, 2, visit_result_row, &w, NULL, err);
}

typedef struct verdict_walk {
    mc_stored_verdict_visit visit;
    void *user;
} verdict_walk;

static int visit_verdict_row(const mc_dbv *col, int n_col, void *ctx)
{
    const verdict_walk *w = ctx;
    (void)n_col;
    mc_stored_verdict v = {
        .case_key = mc_dbv_as_text(&col[0]),
        .op = mc_dbv_as_text(&col[1]),
        .params_json = mc_dbv_as_text(&col[2]),
        .backend = mc_dbv_as_text(&col[3]),
        .variant = mc_dbv_as_text(&col[4]),
        .base_hash = mc_dbv_as_text(&col[5]),
        .cand_hash = mc_dbv_as_text(&col[6]),
        .method = mc_dbv_as_text(&col[7]),
        .ratio = mc_dbv_as_real(&col[8], 0),
        .ci_lo = mc_dbv_as_real(&col[9], 0),
        .ci_hi = mc_dbv_as_real(&col[10], INFINITY),
        .p = mc_dbv_as_real(&col[11], 0),
        .q = mc_dbv_as_real(&col[12], 0),
        .threshold = mc_dbv_as_real(&col[13], 0),
        .verdict = mc_dbv_as_text(&col[14]),
        .label = mc_dbv_as_text(&col[15]),
        .same_code = mc_dbv_as_int(&col[16]) != 0,
    };
    return w->visit(&v, w->user);
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
    const mc_dbv p[] = {mc_dbv_int(base_run_id), mc_dbv_int(cand_run_id)};
    verdict_walk w = {visit, user};
    return s->ops->query(s, sql, p, 2, visit_verdict_row, &w, NULL, err);
}

typedef struct history_walk {
    mc_history_timing_visit visit;
    void *user;
} history_walk;

static int visit_history_row(const mc_dbv *col, int n_col, void *ctx)
{
    const history_walk *w = ctx;
    (void)n_col;
    mc_history_timing t = {
        .run_id = mc_dbv_as_int(&col[0]),
        .case_id = mc_dbv_as_int(&col[1]),
        .commit = mc_dbv_as_text(&col[2]),
        .started_at = mc_dbv_as_text(&col[3]),
        .op = mc_dbv_as_text(&col[4]),
        .backend = mc_dbv_as_text(&col[5]),
        .variant = mc_dbv_as_text(&col[6]),
        .code_hash = mc_dbv_as_text(&col[7]),
        .median_ns = mc_dbv_as_real(&col[8], 0),
        .mad_ns = mc_dbv_as_real(&col[9], 0),
    };
    return w->visit(&t, w->user);
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
    const mc_dbv p[] = {mc_dbv_text(fingerprint), mc_dbv_int(upto_run_id), mc_dbv_int(max_runs > 0 ? max_runs : INT_MAX)};
    history_walk w = {visit, user};
    return s->ops->query(s, sql, p, 3, visit_history_row, &w, NULL, err);
}

typedef struct machine_out {
    mc_machine *m;
    bool *found;
} machine_out;

static int take_machine(const mc_dbv *col, int n_col, void *ctx)
{
    machine_out *o = ctx;
    mc_machine *m = o->m;
    (void)n_col;
    mc_dbv_copy(&col[0], m->fingerprint, sizeof m->fingerprint);
    mc_dbv_copy(&col[1], m->cpu_model, sizeof m->cpu_model);
    mc_dbv_copy(&col[2], m->cpu_flags, sizeof m->cpu_flags);
    m->cores = (int)mc_dbv_as_int(&col[3]);
    mc_dbv_copy(&col[4], m->os, sizeof m->os);
    mc_dbv_copy(&col[5], m->compiler, sizeof m->compiler);
    mc_dbv_copy(&col[6], m->cflags, sizeof m->cflags);
    mc_dbv_copy(&col[7], m->devices, sizeof m->devices);
    *o->found = true;
    return 1;
}

mc_status mc_store_get_machine(mc_store *s, const char *fingerprint, mc_machine *out, bool *found, mc_err *err)
{
    *found = false;
    memset(out, 0, sizeof *out);
    const mc_dbv p[] = {mc_dbv_text(fingerprint)};
    machine_out o = {out, found};
    return s->ops->query(s,
                         "SELECT fingerprint, cpu_model, cpu_flags, cores, os, compiler, cflags, devices "
                         "FROM machine WHERE fingerprint = ?1",
                         p, 1, take_machine, &o, NULL, err);
}
