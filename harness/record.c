/* harness/record.c: session results into the store, batch by batch.
 * SPDX-License-Identifier: MIT */
#include "record.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "op.h"
#include "perf_table.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void mc_recorder_init(mc_recorder *r, mc_store *store, int64_t run_id)
{
    memset(r, 0, sizeof *r);
    r->store = store;
    r->run_id = run_id;
    r->last_flush_s = now_s();
}

static const char *code_hash_of(mc_recorder *r, const mc_session *s, const mc_result *res)
{
    if (res->code_hash[0])
        return res->code_hash; /* device code: the backend hashed the program binary */
    if (res->variant_index < 0)
        return "";
    if (!r->hashes) {
        r->hashes = calloc((size_t)s->n_variants + 1, sizeof *r->hashes);
        r->n_hashes = r->hashes ? s->n_variants : 0;
    }
    if (res->variant_index >= r->n_hashes)
        return "";
    char *h = r->hashes[res->variant_index];
    if (!h[0])
        mc_variant_code_hash(s->variants[res->variant_index], h);
    return h;
}

static void fill_row(mc_recorder *r, const mc_session *s, const mc_result *res, const char *output,
                     const mc_timing *t, mc_result_row *row)
{
    const mc_variant *v = mc_session_variant_of(s, res);
    memset(row, 0, sizeof *row);
    if (res->case_index >= 0) {
        row->kase = &s->cases.items[res->case_index];
    } else {
        /* a whole-tier verdict: one pseudo-case per op, which no real key can equal */
        snprintf(r->coverage_key, sizeof r->coverage_key, "(coverage of %s)", mc_op_get(v->op)->name);
        row->case_key = r->coverage_key;
        row->op_name = mc_op_get(v->op)->name;
        row->params_json = "{}";
    }
    row->backend = v->backend;
    row->variant_name = v->name;
    row->code_hash = code_hash_of(r, s, res);
    row->res = res;
    row->output = output;
    row->timing = t;
}

static void write_items(mc_recorder *r, const mc_session *s, const int *items, int n)
{
    mc_result_row rows[MC_RECORD_BATCH];
    mc_timing timings[MC_RECORD_BATCH];
    int have[MC_RECORD_BATCH];
    for (int i = 0; i < n; i++) {
        have[i] = mc_perf_timing_of(s, items[i], &timings[i]);
        fill_row(r, s, &s->results[items[i]], s->outputs[items[i]], have[i] ? &timings[i] : NULL, &rows[i]);
    }
    if (r->status == MC_OK)
        r->status = mc_store_add_results(r->store, r->run_id, rows, n, &r->err);
    for (int i = 0; i < n; i++)
        if (have[i])
            mc_timing_free(&timings[i]);
}

static void flush(mc_recorder *r, const mc_session *s)
{
    if (r->n_pending)
        write_items(r, s, r->pending, r->n_pending);
    r->n_pending = 0;
    r->last_flush_s = now_s();
}

void mc_recorder_sink(void *user, const mc_session *s, int item)
{
    mc_recorder *r = user;
    r->pending[r->n_pending++] = item;
    if (r->n_pending == MC_RECORD_BATCH || now_s() - r->last_flush_s > 1.0)
        flush(r, s);
}

mc_status mc_recorder_finish(mc_recorder *r, const mc_session *s, mc_err *err)
{
    flush(r, s);
    for (int i = 0; i < s->n_coverage && r->status == MC_OK; i++) {
        mc_result_row row;
        fill_row(r, s, &s->coverage[i], NULL, NULL, &row);
        r->status = mc_store_add_results(r->store, r->run_id, &row, 1, &r->err);
    }
    if (r->status && err)
        *err = r->err;
    return r->status;
}

void mc_recorder_free(mc_recorder *r)
{
    free(r->hashes);
    r->hashes = NULL;
}

const char *mc_record_run_status(const mc_session *s)
{
    switch (mc_session_exit_code(s)) {
    case 0:
        return "passed";
    case 4:
        return "nothing";
    default:
        return "failed";
    }
}
