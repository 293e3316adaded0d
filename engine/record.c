/* engine/record.c: session results into the store, batch by batch.
 *
 * Code identity (issue 12): a variant has ONE code hash per run, whatever ran.
 *   1. Host code: mc_variant_code_hash of the variant, computed once.
 *   2. Device code (a backend with program_hash): the hash its workers report with each result,
 *      declined ones included; the first real one seen is the variant's identity in this run.
 *      Results that carry none (a crash or timeout the parent records) take that identity.
 *   3. A device-code result that arrives before its variant's identity is known waits (it is
 *      written with a later batch, or at the end as "unhashable" when none ever came), so no row
 *      of a variant is stored under a second identity.
 * SPDX-License-Identifier: MIT */
#include "record.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/backend.h"
#include "core/op.h"
#include "perf_table.h"
#include "core/clock.h"

void mc_recorder_init(mc_recorder *r, mc_store *store, int64_t run_id)
{
    memset(r, 0, sizeof *r);
    r->store = store;
    r->run_id = run_id;
    r->last_flush_s = mc_now_s();
}

static bool device_code(const mc_variant *v)
{
    const mc_backend *be = mc_backend_find(v->backend);
    return be && be->program_hash;
}

/* The variant's identity slot for this run (NULL for a pseudo-variant or out of memory). */
static char *hash_slot(mc_recorder *r, const mc_session *s, const mc_result *res)
{
    if (res->variant_index < 0)
        return NULL;
    if (!r->hashes) {
        r->hashes = calloc((size_t)s->n_variants + 1, sizeof *r->hashes);
        r->n_hashes = r->hashes ? s->n_variants : 0;
    }
    return res->variant_index < r->n_hashes ? r->hashes[res->variant_index] : NULL;
}

/* Notes 1 and 2: learns the variant's identity from res; false while a device variant has none. */
static bool identity_known(mc_recorder *r, const mc_session *s, const mc_result *res)
{
    char *h = hash_slot(r, s, res);
    if (!h || h[0])
        return true;
    const mc_variant *v = s->variants[res->variant_index];
    if (!device_code(v)) {
        mc_variant_code_hash(v, h);
        return true;
    }
    if (!mc_code_hash_is_real(res->code_hash))
        return false;
    memcpy(h, res->code_hash, MC_HASH_LEN); /* 16 hex digits and the NUL: checked just above */
    return true;
}

static const char *code_hash_of(mc_recorder *r, const mc_session *s, const mc_result *res)
{
    if (res->variant_index < 0)
        return ""; /* a selected variant that cannot run here: no code of it ran */
    const char *h = identity_known(r, s, res) ? hash_slot(r, s, res) : NULL;
    return h && h[0] ? h : MC_HASH_UNHASHABLE;
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

/* Note 3: keeps items whose variant's identity is still unknown for later; true when kept. */
static bool defer(mc_recorder *r, int item)
{
    if (r->n_deferred == r->cap_deferred) {
        int cap = r->cap_deferred ? 2 * r->cap_deferred : 64;
        int *grown = realloc(r->deferred, (size_t)cap * sizeof *grown);
        if (!grown)
            return false; /* out of memory: write it now, as "unhashable", rather than lose it */
        r->deferred = grown;
        r->cap_deferred = cap;
    }
    r->deferred[r->n_deferred++] = item;
    return true;
}

/* Writes items in batches, holding back (unless final) those that must wait for an identity. */
static void write_ready(mc_recorder *r, const mc_session *s, const int *items, int n, bool final)
{
    int ready[MC_RECORD_BATCH], n_ready = 0;
    for (int i = 0; i < n; i++) {
        if (!final && !identity_known(r, s, &s->results[items[i]]) && defer(r, items[i]))
            continue;
        ready[n_ready++] = items[i];
        if (n_ready == MC_RECORD_BATCH) {
            write_items(r, s, ready, n_ready);
            n_ready = 0;
        }
    }
    if (n_ready)
        write_items(r, s, ready, n_ready);
}

static void flush(mc_recorder *r, const mc_session *s, bool final)
{
    for (int i = 0; i < r->n_pending; i++) /* learn every identity in the batch first */
        identity_known(r, s, &s->results[r->pending[i]]);
    int n_waiting = r->n_deferred;
    int *waiting = r->deferred;
    r->deferred = NULL;
    r->n_deferred = r->cap_deferred = 0;
    write_ready(r, s, waiting, n_waiting, final);
    free(waiting);
    write_ready(r, s, r->pending, r->n_pending, final);
    r->n_pending = 0;
    r->last_flush_s = mc_now_s();
}

void mc_recorder_sink(void *user, const mc_session *s, int item)
{
    mc_recorder *r = user;
    r->pending[r->n_pending++] = item;
    if (r->n_pending == MC_RECORD_BATCH || mc_now_s() - r->last_flush_s > 1.0)
        flush(r, s, false);
}

mc_status mc_recorder_finish(mc_recorder *r, const mc_session *s, mc_err *err)
{
    flush(r, s, true);
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
    free(r->deferred);
    r->hashes = NULL;
    r->deferred = NULL;
    r->n_deferred = r->cap_deferred = 0;
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
