/* engine/runner.c: one (case, variant) run, start to verdict.
 *
 * The life of a run:
 *   1. The case is prepared once for all its variants: tensors described, placed in guarded host
 *      images, inputs generated from the case seed, the fp64 reference and bounds computed.
 *   2. The variant's probe and supports() may decline (a skip with a reason).
 *   3. Device buffers are allocated and the whole images, guards included, uploaded.
 *   4. The kernel runs; everything is downloaded and checked (check.c).
 *   5. What ran must be what was asked for (dispatchers report their choice).
 *   6. A deterministic variant runs again on fresh sentinels and must give the same bits.
 * SPDX-License-Identifier: MIT */
#include "runner.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "generate.h"
#include "core/op.h"
#include "place.h"
#include "plugin.h"
#include "registry.h"
#include "core/rng.h"
#include "runparams.h"

#define MC_RUNNER_MAX_BACKENDS 8

typedef struct live_backend {
    const mc_backend *be;
    mc_backend_ctx *ctx;
    mc_status init_status;
    char reason[256];
} live_backend;

typedef struct prepared_case {
    char key[MC_KEY_LEN];
    mc_placed placed[MC_MAX_TENSORS];
    int n, out_index;
    mc_ref_out ref;
    bool ready;
} prepared_case;

struct mc_runner {
    mc_runner_cfg cfg;
    live_backend backends[MC_RUNNER_MAX_BACKENDS];
    int n_backends;
    prepared_case prep;
    /* the call in flight, for timing hooks */
    const mc_variant *cur_variant;
    const char *cur_forced;  /* the kernel the case forces a dispatcher to (kernel=), or NULL */
    mc_kernel_ctx cur_kc;
    mc_args cur_args;
    const mc_backend *cur_be;
    mc_runner_after_fn after;
    void *after_user;
};

mc_status mc_runner_init(mc_runner **out, const mc_runner_cfg *cfg, mc_err *err)
{
    mc_status st = mc_plugins_attach(err); /* only children run kernels: the plugins load here */
    if (st)
        return st;
    mc_runner *r = calloc(1, sizeof *r);
    if (!r)
        return mc_err_set(err, MC_ERR_NOMEM, "out of memory creating the runner");
    r->cfg = *cfg;
    *out = r;
    return MC_OK;
}

static void prepared_free(prepared_case *p)
{
    for (int i = 0; i < p->n; i++)
        mc_place_free(&p->placed[i]);
    free(p->ref.expected);
    free(p->ref.bound);
    memset(p, 0, sizeof *p);
}

void mc_runner_free(mc_runner *r)
{
    if (!r)
        return;
    prepared_free(&r->prep);
    for (int i = 0; i < r->n_backends; i++)
        if (r->backends[i].ctx)
            r->backends[i].be->shutdown(r->backends[i].ctx);
    free(r);
}

void mc_runner_set_after(mc_runner *r, mc_runner_after_fn fn, void *user)
{
    r->after = fn;
    r->after_user = user;
}

static live_backend *backend_slot(mc_runner *r, const char *name)
{
    for (int i = 0; i < r->n_backends; i++)
        if (strcmp(r->backends[i].be->name, name) == 0)
            return &r->backends[i];
    const mc_backend *be = mc_backend_find(name);
    if (!be || r->n_backends == MC_RUNNER_MAX_BACKENDS)
        return NULL;
    live_backend *lb = &r->backends[r->n_backends++];
    lb->be = be;
    lb->init_status = be->probe(lb->reason, sizeof lb->reason);
    if (lb->init_status == MC_OK) {
        mc_err e = {0};
        lb->init_status = be->init(&lb->ctx, &e);
        if (lb->init_status)
            snprintf(lb->reason, sizeof lb->reason, "%.200s", e.msg);
    }
    return lb;
}

mc_status mc_runner_backend(mc_runner *r, const char *name, mc_backend_ctx **ctx, const mc_backend **be,
                            mc_err *err)
{
    live_backend *lb = backend_slot(r, name);
    if (!lb)
        return mc_err_set(err, MC_ERR_CONFIG, "unknown backend '%s'", name);
    if (lb->init_status)
        return mc_err_set(err, MC_ERR_UNSUPPORTED, "%s", lb->reason);
    *ctx = lb->ctx;
    *be = lb->be;
    return MC_OK;
}

const char *mc_runner_probe(mc_runner *r, const mc_variant *v)
{
    live_backend *lb = backend_slot(r, v->backend);
    if (!lb)
        return "backend not compiled in";
    if (lb->init_status)
        return lb->reason[0] ? lb->reason : "backend unavailable";
    mc_plugin_bind(v);
    return v->probe ? v->probe(lb->ctx) : NULL;
}

static mc_status prepare_case(mc_runner *r, const mc_case *c, mc_err *err)
{
    prepared_case *p = &r->prep;
    if (p->ready && strcmp(p->key, c->key) == 0)
        return MC_OK;
    prepared_free(p);
    mc_tensor_spec specs[MC_MAX_TENSORS];
    mc_status st = c->op->tensors(c, specs, &p->n, &p->out_index, err);
    for (int i = 0; !st && i < p->n; i++)
        st = mc_place_init(&p->placed[i], &specs[i], r->cfg.guard_bytes, err);
    uint64_t seed = mc_generate_case_seed(c, r->cfg.seed);
    for (int i = 0; !st && i < p->n; i++)
        st = mc_generate_fill(&p->placed[i], mc_rng_mix(seed, (uint64_t)i + 1), err);
    if (st)
        goto done;
    int64_t n_out = mc_tensor_nelems(&p->placed[p->out_index].spec.t);
    p->ref.expected = calloc((size_t)n_out, sizeof(double));
    p->ref.bound = calloc((size_t)n_out, sizeof(double));
    if (!p->ref.expected || !p->ref.bound) {
        st = mc_err_set(err, MC_ERR_NOMEM, "cannot allocate the reference of %lld elements", (long long)n_out);
        goto done;
    }
    mc_tensor_spec placed_specs[MC_MAX_TENSORS];
    const uint8_t *hosts[MC_MAX_TENSORS];
    for (int i = 0; i < p->n; i++) {
        placed_specs[i] = p->placed[i].spec;
        hosts[i] = p->placed[i].image;
    }
    st = c->op->reference(c, placed_specs, hosts, &p->ref, err);
done:
    if (st) {
        prepared_free(p);
        return st;
    }
    snprintf(p->key, sizeof p->key, "%s", c->key);
    p->ready = true;
    return MC_OK;
}

/* Device buffers of one run, freed together. */
typedef struct device_set {
    const mc_backend *be;
    mc_backend_ctx *ctx;
    struct mc_buf *bufs[MC_MAX_TENSORS];
    uint8_t *after[MC_MAX_TENSORS];
    int n;
} device_set;

static void device_set_free(device_set *d)
{
    for (int i = 0; i < d->n; i++) {
        if (d->bufs[i])
            d->be->free(d->ctx, d->bufs[i]);
        free(d->after[i]);
    }
    memset(d, 0, sizeof *d);
}

static mc_status upload_one(device_set *d, const mc_placed *p, int i, mc_err *err)
{
    return d->be->upload(d->ctx, d->bufs[i], 0, p->image, p->total_bytes, err);
}

static mc_status device_set_upload(device_set *d, const prepared_case *p, mc_err *err)
{
    d->n = p->n;
    for (int i = 0; i < p->n; i++) {
        mc_status st = d->be->alloc(d->ctx, p->placed[i].total_bytes, &d->bufs[i], err);
        if (!st)
            st = upload_one(d, &p->placed[i], i, err);
        d->after[i] = st ? NULL : malloc(p->placed[i].total_bytes);
        if (!st && !d->after[i])
            st = mc_err_set(err, MC_ERR_NOMEM, "cannot allocate a download image");
        if (st)
            return st;
    }
    return MC_OK;
}

static mc_status device_set_download(device_set *d, const prepared_case *p, int only, mc_err *err)
{
    mc_status st = d->be->sync(d->ctx, err);
    for (int i = 0; !st && i < p->n; i++)
        if (only < 0 || i == only)
            st = d->be->download(d->ctx, d->bufs[i], 0, d->after[i], p->placed[i].total_bytes, err);
    return st;
}

static void build_args(const mc_case *c, const prepared_case *p, const device_set *d, mc_args *args)
{
    mc_tensor views[MC_MAX_TENSORS];
    for (int i = 0; i < p->n; i++) {
        views[i] = p->placed[i].spec.t;
        views[i].buf = d ? d->bufs[i] : NULL;
    }
    memset(args, 0, sizeof *args);
    args->op = c->op->id;
    c->op->args(c, views, args);
}

/* The override variable of v's op: MC_GEMM_KERNEL=name asks a dispatcher for one kernel by name. */
static void override_variable(const mc_variant *v, char env[64])
{
    snprintf(env, 64, "MC_%s_KERNEL", mc_op_get(v->op)->name);
    for (char *s = env; *s; s++)
        *s = (char)toupper((unsigned char)*s);
}

/* The kernel a dispatcher is asked for: the case's kernel= when it says, else $MC_<OP>_KERNEL. */
static const char *dispatch_override(const mc_runner *r)
{
    char env[64];
    override_variable(r->cur_variant, env);
    return r->cur_forced ? r->cur_forced : getenv(env);
}

#define MC_UNKNOWN_KERNEL "mc_no_such_kernel" /* a name no variant has */

static mc_status call_kernel_as(mc_runner *r, const char *forced, mc_err *err);

/* A dispatcher asked for a kernel nobody recognises must fail, never fall back silently. Checked on
 * every case unless the user set the override themselves. */
static void check_unknown_override(mc_runner *r, mc_result *res)
{
    const mc_variant *v = r->cur_variant;
    char env[64];
    override_variable(v, env);
    if (!(v->flags & MC_VARIANT_DISPATCHER) || getenv(env))
        return;
    mc_err kerr = {0};
    if (call_kernel_as(r, MC_UNKNOWN_KERNEL, &kerr) != MC_OK)
        return;
    res->kind = MC_RESULT_FAIL_DISPATCH;
    snprintf(res->message, sizeof res->message, "dispatcher %s accepted %s=%s (no such kernel) and ran %s", v->name,
             env, MC_UNKNOWN_KERNEL, r->cur_kc.ran);
}

static void check_dispatch(const mc_runner *r, const mc_args *args, mc_result *res)
{
    const mc_variant *v = r->cur_variant;
    const mc_kernel_ctx *kc = &r->cur_kc;
    snprintf(res->ran, sizeof res->ran, "%s", kc->ran);
    if (!(v->flags & MC_VARIANT_DISPATCHER)) {
        if (strcmp(kc->ran, v->name) != 0)
            snprintf(res->message, sizeof res->message, "asked for %s but %s ran", v->name, kc->ran);
        else
            return;
    } else {
        const mc_variant *chosen = mc_registry_find(kc->ran);
        const char *want = dispatch_override(r);
        mc_plugin_bind(chosen);
        if (!chosen || chosen == v || chosen->op != v->op)
            snprintf(res->message, sizeof res->message, "dispatcher %s reported '%s', which is no %s variant",
                     v->name, kc->ran, mc_op_get(v->op)->name);
        else if (want && strcmp(want, kc->ran) != 0)
            snprintf(res->message, sizeof res->message, "dispatcher %s was asked for %s but ran %s", v->name,
                     want, kc->ran);
        else if (chosen->supports && chosen->supports(args))
            snprintf(res->message, sizeof res->message, "dispatcher %s chose %s, which declines this case: %s",
                     v->name, kc->ran, chosen->supports(args));
        else
            return;
    }
    res->kind = MC_RESULT_FAIL_DISPATCH;
}

/* Runs the current variant; a dispatcher with `forced` set runs with $MC_<OP>_KERNEL=forced for
 * this call only (the user's own setting, if any, comes back after). */
static mc_status call_kernel_as(mc_runner *r, const char *forced, mc_err *err)
{
    snprintf(r->cur_kc.ran, sizeof r->cur_kc.ran, "%s", r->cur_variant->name);
    mc_plugin_bind(r->cur_variant);
    if (!forced || !(r->cur_variant->flags & MC_VARIANT_DISPATCHER))
        return r->cur_variant->run(&r->cur_kc, &r->cur_args, err);
    char env[64], saved[256];
    override_variable(r->cur_variant, env);
    const char *user = getenv(env);
    if (user)
        snprintf(saved, sizeof saved, "%s", user);
    setenv(env, forced, 1);
    mc_status st = r->cur_variant->run(&r->cur_kc, &r->cur_args, err);
    if (user)
        setenv(env, saved, 1);
    else
        unsetenv(env);
    return st;
}

static mc_status call_kernel(mc_runner *r, mc_err *err)
{
    return call_kernel_as(r, r->cur_forced, err);
}

mc_status mc_runner_call_again(mc_runner *r, mc_err *err)
{
    return call_kernel(r, err);
}

mc_backend_ctx *mc_runner_current_backend(mc_runner *r, const mc_backend **be)
{
    *be = r->cur_be;
    return r->cur_kc.backend;
}

/* Second run on fresh sentinels: a deterministic kernel must give the same output bytes. */
static mc_status repeat_and_compare(mc_runner *r, device_set *d, mc_result *res, mc_err *err)
{
    const prepared_case *p = &r->prep;
    const int o = p->out_index;
    const size_t bytes = p->placed[o].total_bytes;
    uint8_t *first = malloc(bytes);
    if (!first)
        return mc_err_set(err, MC_ERR_NOMEM, "cannot allocate a repeat image");
    memcpy(first, d->after[o], bytes);
    mc_err kerr = {0};
    mc_status st = upload_one(d, &p->placed[o], o, err);
    if (!st && call_kernel(r, &kerr) == MC_OK)
        st = device_set_download(d, p, o, err);
    if (!st && memcmp(first, d->after[o], bytes) != 0) {
        res->kind = MC_RESULT_FAIL_NONDETERMINISM;
        snprintf(res->message, sizeof res->message,
                 "a second run on the same inputs gave different output bits (the variant claims determinism)");
    }
    free(first);
    return st;
}

static void result_error(mc_result *res, mc_result_kind kind, const char *what, const mc_err *e)
{
    res->kind = kind;
    snprintf(res->message, sizeof res->message, "%s%.200s", what, e ? e->msg : "");
}

static mc_status run_on_device(mc_runner *r, const mc_case *c, device_set *d, mc_result *res, mc_err *err)
{
    prepared_case *p = &r->prep;
    mc_status st = device_set_upload(d, p, err);
    if (st)
        return st;
    build_args(c, p, d, &r->cur_args);
    mc_err kerr = {0};
    if (call_kernel(r, &kerr) != MC_OK) {
        result_error(res, MC_RESULT_ERROR, "kernel returned an error: ", &kerr);
        return MC_OK;
    }
    st = device_set_download(d, p, -1, err);
    if (st)
        return st;
    mc_check_input in = {.op = c->op, .placed = p->placed, .after = (const uint8_t *const *)d->after,
                         .n = p->n, .out_index = p->out_index, .ref = &p->ref};
    mc_check_run(&in, res);
    if (res->kind == MC_RESULT_PASS)
        check_dispatch(r, &r->cur_args, res);
    if (res->kind == MC_RESULT_PASS)
        check_unknown_override(r, res);
    if (res->kind == MC_RESULT_PASS && r->cfg.repeat_check && (r->cur_variant->flags & MC_VARIANT_DETERMINISTIC))
        st = repeat_and_compare(r, d, res, err);
    if (!st && res->kind == MC_RESULT_PASS && r->after)
        st = r->after(r->after_user, r, c, r->cur_variant, err);
    return st;
}

/* Device code's identity goes with every result of a variant its probe lets run, declined and
 * failed cases included, so the variant has one identity per run whatever ran (issue 12). */
static void note_code_hash(mc_runner *r, const mc_variant *v, mc_result *res)
{
    mc_backend_ctx *ctx;
    const mc_backend *be;
    mc_err ignored = {0};
    const char *hash = mc_runner_backend(r, v->backend, &ctx, &be, &ignored) == MC_OK && be->program_hash
                           ? be->program_hash(ctx, v->name)
                           : NULL;
    if (hash)
        snprintf(res->code_hash, sizeof res->code_hash, "%s", hash);
}

mc_status mc_runner_run(mc_runner *r, const mc_case *c, const mc_variant *v, mc_result *res, mc_err *err)
{
    snprintf(res->ran, sizeof res->ran, "%s", v->name);
    res->worst_index = -1;
    const char *why = mc_runner_probe(r, v);
    if (why) {
        res->kind = MC_RESULT_SKIP;
        snprintf(res->message, sizeof res->message, "unavailable: %s", why);
        return MC_OK;
    }
    note_code_hash(r, v, res);
    mc_err perr = {0};
    if (prepare_case(r, c, &perr) != MC_OK) {
        result_error(res, MC_RESULT_ERROR, "cannot prepare the case: ", &perr);
        return perr.status == MC_ERR_NOMEM ? mc_err_set(err, MC_ERR_NOMEM, "%s", perr.msg) : MC_OK;
    }
    build_args(c, &r->prep, NULL, &r->cur_args);
    mc_plugin_bind(v);
    if (v->supports && (why = v->supports(&r->cur_args)) != NULL) {
        res->kind = MC_RESULT_SKIP;
        snprintf(res->message, sizeof res->message, "declined: %s", why);
        return MC_OK;
    }
    const char *forced = mc_runparams_kernel(c);
    const mc_variant *fv = forced ? mc_registry_find(forced) : NULL;
    if (fv && (why = mc_runner_probe(r, fv)) != NULL) {
        res->kind = MC_RESULT_SKIP;
        snprintf(res->message, sizeof res->message, "unavailable: forced kernel %s: %s", forced, why);
        return MC_OK;
    }
    mc_plugin_bind(fv);
    if (fv && fv->supports && (why = fv->supports(&r->cur_args)) != NULL) {
        res->kind = MC_RESULT_SKIP;
        snprintf(res->message, sizeof res->message, "declined: forced kernel %s: %s", forced, why);
        return MC_OK;
    }
    device_set d = {0};
    mc_status st = mc_runner_backend(r, v->backend, &d.ctx, &d.be, err);
    if (st)
        return st;
    r->cur_variant = v;
    r->cur_forced = forced;
    r->cur_be = d.be;
    r->cur_kc = (mc_kernel_ctx){.backend = d.ctx, .threads = mc_runparams_threads(c, r->cfg.threads)};
    st = run_on_device(r, c, &d, res, err);
    device_set_free(&d);
    r->cur_variant = NULL;
    r->cur_forced = NULL;
    return st;
}
