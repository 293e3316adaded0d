/* engine/plugin_adapt.c: the adapter between the public plugin ABI and the harness's records: a
 * plugin variant is an mc_variant whose callbacks convert the arguments and call the plugin's, a
 * plugin backend an mc_backend whose context wraps the plugin's.
 *
 * Design notes:
 *   1. The harness's variant callbacks carry no variant, so the runner binds the plugin variant it
 *      is about to call (mc_plugin_bind); a callback with nothing bound fails loudly.
 *   2. The harness's backend probe and init carry no backend either: each backend slot has its own
 *      two trampolines (MC_PLUGIN_MAX_BACKENDS of each); every other call finds the slot through
 *      its context.
 *   3. Nothing here runs in the parent: only in a child that attached the plugins (engine/plugin_load.c).
 * SPDX-License-Identifier: MIT */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "plugin_int.h"

struct mc_backend_ctx {
    int slot;
    void *native; /* what the plugin's init returned */
    double t0;    /* the host-clock timer's start, for a backend with no timer of its own */
};

static const mc_plugin_vslot *bound; /* note 1 */

void mc_plugin_bind(const mc_variant *v)
{
    int i = mc_plugin_vslot_index(v);
    bound = i < 0 ? NULL : &mc_plugin_vslots[i];
}

static void *native_of(const mc_plugin_vslot *s, mc_backend_ctx *ctx)
{
    return s->backend_slot >= 0 && ctx ? ctx->native : NULL;
}

/* ---- arguments ---- */

static mc_plugin_tensor tensor_of(const mc_tensor *t, bool present)
{
    mc_plugin_tensor p;
    memset(&p, 0, sizeof p);
    p.dtype = mc_plugin_dtype_from_harness(t->dtype);
    p.present = present;
    memcpy(p.ne, t->ne, sizeof p.ne);
    memcpy(p.nb, t->nb, sizeof p.nb);
    p.offset = t->offset;
    p.buffer = t->buf ? t->buf->native : NULL;
    p.buffer_bytes = t->buf ? t->buf->bytes : 0;
    return p;
}

static void args_of(const mc_args *a, mc_plugin_args *p)
{
    memset(p, 0, sizeof *p);
    p->size = sizeof *p;
    p->abi = MC_PLUGIN_ABI_VERSION;
    switch (a->op) {
    case MC_OP_GEMM:
        p->op = MC_PLUGIN_OP_GEMM;
        p->u.gemm.a = tensor_of(&a->u.gemm.a, true);
        p->u.gemm.b = tensor_of(&a->u.gemm.b, true);
        p->u.gemm.c = tensor_of(&a->u.gemm.c, true);
        p->u.gemm.bias = tensor_of(&a->u.gemm.bias, a->u.gemm.has_bias);
        p->u.gemm.alpha = a->u.gemm.alpha;
        p->u.gemm.beta = a->u.gemm.beta;
        p->u.gemm.has_bias = a->u.gemm.has_bias;
        break;
    case MC_OP_GEMV:
        p->op = MC_PLUGIN_OP_GEMV;
        p->u.gemv.a = tensor_of(&a->u.gemv.a, true);
        p->u.gemv.x = tensor_of(&a->u.gemv.x, true);
        p->u.gemv.y = tensor_of(&a->u.gemv.y, true);
        p->u.gemv.xq = a->u.gemv.xq == MC_DTYPE_F32 ? 0 : mc_plugin_dtype_from_harness(a->u.gemv.xq);
        p->u.gemv.xq_exact = a->u.gemv.xq_exact;
        break;
    case MC_OP_SOFTMAX:
        p->op = MC_PLUGIN_OP_SOFTMAX;
        p->u.softmax.x = tensor_of(&a->u.softmax.x, true);
        p->u.softmax.y = tensor_of(&a->u.softmax.y, true);
        p->u.softmax.scale = a->u.softmax.scale;
        p->u.softmax.causal = a->u.softmax.causal;
        p->u.softmax.q_offset = a->u.softmax.q_offset;
        break;
    case MC_OP_SDPA:
        p->op = MC_PLUGIN_OP_SDPA;
        p->u.sdpa.q = tensor_of(&a->u.sdpa.q, true);
        p->u.sdpa.k = tensor_of(&a->u.sdpa.k, true);
        p->u.sdpa.v = tensor_of(&a->u.sdpa.v, true);
        p->u.sdpa.o = tensor_of(&a->u.sdpa.o, true);
        p->u.sdpa.scale = a->u.sdpa.scale;
        p->u.sdpa.causal = a->u.sdpa.causal;
        p->u.sdpa.q_offset = a->u.sdpa.q_offset;
        break;
    default:
        break; /* an op the ABI has no number for (a test build's extra op): op stays 0 */
    }
}

/* ---- variant callbacks ---- */

static const char *unbound_reason(void)
{
    return bound ? "the plugin no longer registers this variant here (was the library rebuilt?)"
                 : "internal: a plugin callback was called with no variant bound";
}

static const char *adapt_probe(mc_backend_ctx *ctx)
{
    if (!bound || !bound->bound)
        return unbound_reason();
    return bound->rec.probe ? bound->rec.probe(native_of(bound, ctx)) : NULL;
}

static const char *adapt_supports(const mc_args *args)
{
    if (!bound || !bound->bound)
        return unbound_reason();
    mc_plugin_args p;
    args_of(args, &p);
    if (p.op == 0)
        return "an op the plugin ABI does not cover";
    return bound->rec.supports ? bound->rec.supports(&p) : NULL;
}

static mc_status adapt_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    if (!bound || !bound->bound)
        return mc_err_set(err, MC_ERR_BACKEND, "%s", unbound_reason());
    mc_plugin_args p;
    args_of(args, &p);
    mc_plugin_kernel_ctx pk;
    memset(&pk, 0, sizeof pk);
    pk.size = sizeof pk;
    pk.abi = MC_PLUGIN_ABI_VERSION;
    pk.threads = kc->threads;
    pk.native = native_of(bound, kc->backend);
    pk.user = bound->rec.user;
    snprintf(pk.ran, sizeof pk.ran, "%s", kc->ran);
    int rc = bound->rec.run(&pk, &p);
    pk.ran[sizeof pk.ran - 1] = '\0';
    pk.error[sizeof pk.error - 1] = '\0';
    snprintf(kc->ran, sizeof kc->ran, "%s", pk.ran);
    if (rc != 0)
        return mc_err_set(err, MC_ERR_BACKEND, "%s returned %d: %s", bound->name, rc,
                          pk.error[0] ? pk.error : "(no message)");
    return MC_OK;
}

void mc_plugin_adapt_variant(mc_plugin_vslot *s)
{
    unsigned flags = 0;
    if (s->rec.flags & MC_PLUGIN_DETERMINISTIC)
        flags |= MC_VARIANT_DETERMINISTIC;
    if (s->rec.flags & MC_PLUGIN_THREADED)
        flags |= MC_VARIANT_THREADED;
    s->v = (mc_variant){
        .op = mc_plugin_op_to_harness(s->rec.op),
        .backend = s->backend,
        .name = s->name,
        .probe = adapt_probe,
        .supports = adapt_supports,
        .run = adapt_run,
        .flags = flags,
        .requires = s->requires[0] ? s->requires : NULL,
        .code_hash = s->hash,
    };
}

/* ---- backend callbacks ---- */

static mc_status backend_failed(mc_backend_ctx *ctx, const char *what, int rc, mc_err *err)
{
    return mc_err_set(err, MC_ERR_BACKEND, "plugin backend %s: %s returned %d", mc_plugin_bslots[ctx->slot].name,
                      what, rc);
}

static const mc_plugin_backend *rec_of(mc_backend_ctx *ctx)
{
    return &mc_plugin_bslots[ctx->slot].rec;
}

static mc_status probe_slot(int slot, char *reason, size_t reason_len)
{
    const mc_plugin_bslot *s = &mc_plugin_bslots[slot];
    if (reason_len)
        reason[0] = '\0';
    if (!s->bound) {
        snprintf(reason, reason_len, "plugin %s did not register backend %s here", mc_plugin_paths[s->plugin], s->name);
        return MC_ERR_UNSUPPORTED;
    }
    if (s->rec.probe && s->rec.probe(reason, reason_len) != 0) {
        if (reason_len && !reason[0])
            snprintf(reason, reason_len, "its probe says no (no reason given)");
        return MC_ERR_UNSUPPORTED;
    }
    return MC_OK;
}

static mc_status init_slot(int slot, mc_backend_ctx **out, mc_err *err)
{
    const mc_plugin_bslot *s = &mc_plugin_bslots[slot];
    mc_backend_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return mc_err_set(err, MC_ERR_NOMEM, "out of memory");
    ctx->slot = slot;
    char why[256] = "";
    int rc = s->rec.init(&ctx->native, why, sizeof why);
    if (rc != 0) {
        free(ctx);
        why[sizeof why - 1] = '\0';
        return mc_err_set(err, MC_ERR_BACKEND, "plugin backend %s: init returned %d: %s", s->name, rc,
                          why[0] ? why : "(no message)");
    }
    *out = ctx;
    return MC_OK;
}

/* Note 2: one pair per slot. */
static mc_status probe_0(char *r, size_t n) { return probe_slot(0, r, n); }
static mc_status probe_1(char *r, size_t n) { return probe_slot(1, r, n); }
static mc_status probe_2(char *r, size_t n) { return probe_slot(2, r, n); }
static mc_status probe_3(char *r, size_t n) { return probe_slot(3, r, n); }
static mc_status init_0(mc_backend_ctx **o, mc_err *e) { return init_slot(0, o, e); }
static mc_status init_1(mc_backend_ctx **o, mc_err *e) { return init_slot(1, o, e); }
static mc_status init_2(mc_backend_ctx **o, mc_err *e) { return init_slot(2, o, e); }
static mc_status init_3(mc_backend_ctx **o, mc_err *e) { return init_slot(3, o, e); }
static mc_status (*const probes[])(char *, size_t) = {probe_0, probe_1, probe_2, probe_3};
static mc_status (*const inits[])(mc_backend_ctx **, mc_err *) = {init_0, init_1, init_2, init_3};
static_assert(sizeof probes / sizeof probes[0] == MC_PLUGIN_MAX_BACKENDS, "one probe per backend slot");
static_assert(sizeof inits / sizeof inits[0] == MC_PLUGIN_MAX_BACKENDS, "one init per backend slot");

static void adapt_shutdown(mc_backend_ctx *ctx)
{
    if (!ctx)
        return;
    rec_of(ctx)->shutdown(ctx->native);
    free(ctx);
}

static void adapt_describe(mc_backend_ctx *ctx, char *out, size_t out_len)
{
    if (out_len)
        out[0] = '\0';
    rec_of(ctx)->describe(ctx->native, out, out_len);
    if (out_len)
        out[out_len - 1] = '\0';
}

static mc_status adapt_alloc(mc_backend_ctx *ctx, size_t bytes, struct mc_buf **out, mc_err *err)
{
    struct mc_buf *b = calloc(1, sizeof *b);
    if (!b)
        return mc_err_set(err, MC_ERR_NOMEM, "out of memory");
    int rc = rec_of(ctx)->alloc(ctx->native, bytes, &b->native);
    if (rc != 0 || !b->native) {
        free(b);
        return rc ? backend_failed(ctx, "alloc", rc, err)
                  : mc_err_set(err, MC_ERR_BACKEND, "plugin backend %s: alloc gave no buffer",
                               mc_plugin_bslots[ctx->slot].name);
    }
    b->bytes = bytes;
    b->owner = ctx;
    *out = b;
    return MC_OK;
}

static void adapt_free(mc_backend_ctx *ctx, struct mc_buf *buf)
{
    if (buf)
        rec_of(ctx)->free(ctx->native, buf->native);
    free(buf);
}

static mc_status adapt_upload(mc_backend_ctx *ctx, struct mc_buf *dst, size_t offset, const void *src, size_t bytes,
                              mc_err *err)
{
    int rc = rec_of(ctx)->upload(ctx->native, dst->native, offset, src, bytes);
    return rc ? backend_failed(ctx, "upload", rc, err) : MC_OK;
}

static mc_status adapt_download(mc_backend_ctx *ctx, const struct mc_buf *src, size_t offset, void *dst, size_t bytes,
                                mc_err *err)
{
    int rc = rec_of(ctx)->download(ctx->native, src->native, offset, dst, bytes);
    return rc ? backend_failed(ctx, "download", rc, err) : MC_OK;
}

static mc_status adapt_sync(mc_backend_ctx *ctx, mc_err *err)
{
    int rc = rec_of(ctx)->sync(ctx->native);
    return rc ? backend_failed(ctx, "sync", rc, err) : MC_OK;
}

static mc_status adapt_timer_begin(mc_backend_ctx *ctx, mc_err *err)
{
    if (rec_of(ctx)->timer_begin) {
        int rc = rec_of(ctx)->timer_begin(ctx->native);
        return rc ? backend_failed(ctx, "timer_begin", rc, err) : MC_OK;
    }
    mc_status st = adapt_sync(ctx, err);
    ctx->t0 = mc_now_s();
    return st;
}

static mc_status adapt_timer_end(mc_backend_ctx *ctx, double *elapsed_ns, mc_err *err)
{
    if (rec_of(ctx)->timer_end) {
        int rc = rec_of(ctx)->timer_end(ctx->native, elapsed_ns);
        return rc ? backend_failed(ctx, "timer_end", rc, err) : MC_OK;
    }
    mc_status st = adapt_sync(ctx, err);
    *elapsed_ns = (mc_now_s() - ctx->t0) * 1e9;
    return st;
}

static const char *adapt_program_hash(mc_backend_ctx *ctx, const char *variant)
{
    const mc_plugin_backend *r = rec_of(ctx);
    return r->program_hash ? r->program_hash(ctx->native, variant) : NULL;
}

void mc_plugin_adapt_backend(mc_plugin_bslot *s, int index)
{
    s->be = (mc_backend){
        .name = s->name,
        .probe = probes[index],
        .init = inits[index],
        .shutdown = adapt_shutdown,
        .describe = adapt_describe,
        .alloc = adapt_alloc,
        .free = adapt_free,
        .upload = adapt_upload,
        .download = adapt_download,
        .sync = adapt_sync,
        .timer_begin = adapt_timer_begin,
        .timer_end = adapt_timer_end,
        .program_hash = s->has_program_hash ? adapt_program_hash : NULL,
    };
}
