/* engine/session.c: a run from case files to results.
 * SPDX-License-Identifier: MIT */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cases_lua.h"
#include "cpu_features.h"
#include "core/op.h"
#include "progress.h"
#include "runparams.h"
#include "core/clock.h"

static mc_status load_cases(const mc_session_cfg *cfg, mc_session *s, mc_err *err)
{
    s->cases.max_count = cfg->max_cases;
    if (cfg->single_key) {
        mc_case c;
        mc_status st = mc_case_from_key(&c, cfg->single_key, mc_op_find, err);
        return st ? st : mc_case_list_add(&s->cases, &c, err);
    }
    char dir[1024];
    mc_status st = mc_cases_dir(cfg->cases_dir, dir, sizeof dir, err);
    if (st)
        return st;
    if (cfg->n_case_files == 0)
        return mc_cases_load_tier(cfg->tier ? cfg->tier : "quick", dir, &s->cases, err);
    char lib[1100];
    snprintf(lib, sizeof lib, "%s/lib", dir);
    for (int i = 0; i < cfg->n_case_files && !st; i++)
        st = mc_cases_load_file(cfg->case_files[i], lib, &s->cases, err);
    return st;
}

/* Every backend named with --backend must be usable here: a missing one is an error, not a pass. */
static mc_status check_named_backends(const mc_session_cfg *cfg, const mc_session *s, mc_err *err)
{
    if (!cfg->sel.backends)
        return MC_OK;
    char copy[256];
    snprintf(copy, sizeof copy, "%s", cfg->sel.backends);
    char *save = NULL;
    for (char *b = strtok_r(copy, ",", &save); b; b = strtok_r(NULL, ",", &save)) {
        const mc_backend_probe *p = mc_probe_backend(&s->probe, b);
        if (!p || !p->available)
            return mc_err_set(err, MC_ERR_CONFIG, "--backend %s: unavailable: %s", b, p ? p->info : "unknown backend");
    }
    return MC_OK;
}

/* Keeps only the variants whose probe says yes; the rest are counted as unavailable. */
static mc_status runnable_variants(mc_session *s, const mc_variant ***out, int *n)
{
    const mc_variant **ok = calloc((size_t)s->n_selected + 1, sizeof *ok);
    if (!ok)
        return MC_ERR_NOMEM;
    int k = 0;
    for (int i = 0; i < s->n_selected; i++) {
        if (s->probe.reason[i][0])
            s->n_unavailable++;
        else
            ok[k++] = s->selected[i];
    }
    *out = ok;
    *n = k;
    return MC_OK;
}

static bool listed(const mc_variant *const *list, int n, const mc_variant *v)
{
    for (int i = 0; i < n; i++)
        if (list[i] == v)
            return true;
    return false;
}

/* What to probe: the selected variants, then every kernel a selected dispatcher accepts that is
 * not selected itself (dispatch coverage asks which of them can run here). */
static mc_status probe_list(mc_session *s)
{
    int cap = s->n_selected + 1;
    for (int i = 0; i < s->n_selected; i++) {
        int n = 0;
        if (s->selected[i]->dispatch)
            s->selected[i]->dispatch->accepts(&n);
        cap += n;
    }
    s->probed = calloc((size_t)cap, sizeof *s->probed);
    if (!s->probed)
        return MC_ERR_NOMEM;
    memcpy(s->probed, s->selected, (size_t)s->n_selected * sizeof *s->probed);
    s->n_probed = s->n_selected;
    for (int i = 0; i < s->n_selected; i++) {
        int n = 0;
        const mc_variant *const *acc = s->selected[i]->dispatch ? s->selected[i]->dispatch->accepts(&n) : NULL;
        for (int j = 0; j < n; j++)
            if (!listed(s->probed, s->n_probed, acc[j]))
                s->probed[s->n_probed++] = acc[j];
    }
    return MC_OK;
}

/* Drops the runnable variants that no case was offered to, renumbering the work list: in a
 * user's case file, a variant of an op it does not test is simply not selected. */
static mc_status drop_unoffered(mc_session *s)
{
    int *renumber = calloc((size_t)s->n_variants + 1, sizeof *renumber);
    if (!renumber)
        return MC_ERR_NOMEM;
    for (int i = 0; i < s->n_items; i++)
        renumber[s->items[i].variant_index] = 1;
    int k = 0;
    for (int v = 0; v < s->n_variants; v++) {
        int offered = renumber[v];
        renumber[v] = k;
        if (offered)
            s->variants[k++] = s->variants[v];
    }
    for (int i = 0; i < s->n_items; i++)
        s->items[i].variant_index = renumber[s->items[i].variant_index];
    s->n_variants = k;
    free(renumber);
    return MC_OK;
}

static uint64_t memory_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : UINT64_MAX;
}

bool mc_session_wants_coverage(const mc_session_cfg *cfg)
{
    bool tier = (cfg->n_case_files == 0 && !cfg->single_key) || cfg->coverage_requested;
    return tier && !cfg->sel.filter && cfg->sel.shard_count <= 1;
}

mc_status mc_session_prepare(const mc_session_cfg *cfg, mc_session *s, mc_err *err)
{
    memset(s, 0, sizeof *s);
    mc_status st = mc_select_variants(&cfg->sel, &s->selected, &s->n_selected, err);
    if (!st)
        st = load_cases(cfg, s, err);
    if (!st)
        st = mc_select_cases(&cfg->sel, &s->cases, err);
    if (!st)
        st = mc_select_check_memory(&s->cases, cfg->pool.runner.guard_bytes, memory_bytes(), err);
    if (!st && probe_list(s))
        st = mc_err_set(err, MC_ERR_NOMEM, "out of memory");
    if (!st)
        st = mc_probe_collect(s->probed, s->n_probed, &s->probe, err);
    if (!st)
        st = check_named_backends(cfg, s, err);
    if (st)
        return st;
    const mc_variant **ok;
    int n_ok;
    if (runnable_variants(s, &ok, &n_ok))
        return mc_err_set(err, MC_ERR_NOMEM, "out of memory");
    s->variants = ok;
    s->n_variants = n_ok;
    st = mc_select_items(&s->cases, s->variants, s->n_variants, &s->items, &s->n_items, err);
    if (!st && drop_unoffered(s))
        st = mc_err_set(err, MC_ERR_NOMEM, "out of memory");
    return st;
}

typedef struct collect_ctx {
    mc_session *s;
    const mc_session_cfg *cfg;
    mc_progress progress;
} collect_ctx;

static void on_result(void *user, int item, const mc_result *res, const char *output, const void *extra, size_t len)
{
    collect_ctx *c = user;
    c->s->results[item] = *res;
    if (output[0])
        c->s->outputs[item] = strdup(output);
    if (len) {
        c->s->extras[item] = malloc(len);
        if (c->s->extras[item]) {
            memcpy(c->s->extras[item], extra, len);
            c->s->extra_lens[item] = len;
        }
    }
    mc_progress_step(&c->progress, mc_progress_item_cost(&c->s->cases.items[c->s->items[item].case_index]),
                     mc_result_kind_is_failure(res->kind));
    if (c->cfg->sink)
        c->cfg->sink(c->cfg->sink_user, c->s, item);
}

static void on_tick(void *user)
{
    mc_progress_show(&((collect_ctx *)user)->progress);
}

/* Appends a coverage failure of variant_index (see mc_session_variant_of); the caller writes its
 * message. */
static mc_result *coverage_failure(mc_session *s, int variant_index, const char *ran)
{
    mc_result *r = &s->coverage[s->n_coverage++];
    r->case_index = -1;
    r->variant_index = variant_index;
    r->kind = MC_RESULT_FAIL_COVERAGE;
    r->worst_index = -1;
    snprintf(r->ran, sizeof r->ran, "%s", ran);
    return r;
}

/* A probe that says no on a machine that has every feature the variant declares (CPU features, or
 * a device's, as its backend's has_features reads them in the probe process): a gate that always
 * says no would otherwise leave the fast path untested with nobody noticing. */
static void add_gate_failures(mc_session *s)
{
    char missing[64];
    for (int i = 0; i < s->n_selected; i++) {
        const mc_variant *v = s->selected[i];
        if (!s->probe.reason[i][0] || !v->requires)
            continue;
        const bool cpu = strcmp(v->backend, "cpu") == 0;
        if (cpu ? !mc_cpu_has_all(v->requires, missing, sizeof missing) : !s->probe.has_required[i])
            continue;
        /* a selected, unrunnable variant: a negative index (see mc_session_variant_of) */
        snprintf(coverage_failure(s, -1 - i, v->name)->message, sizeof s->coverage[0].message,
                 "its probe says no (%.120s) but this %s has %s", s->probe.reason[i], cpu ? "CPU" : "device",
                 v->requires);
    }
}

static void add_variant_failures(mc_session *s)
{
    for (int v = 0; v < s->n_variants; v++) {
        int ran = 0, offered = 0;
        for (int i = 0; i < s->n_items; i++)
            if (s->items[i].variant_index == v) {
                offered++;
                ran += s->results[i].kind != MC_RESULT_SKIP;
            }
        /* offered nothing: not tested here, so not failed here (it is not even selected) */
        if (ran > 0 || offered == 0 || (s->variants[v]->flags & MC_VARIANT_TEST_ONLY))
            continue;
        snprintf(coverage_failure(s, v, s->variants[v]->name)->message, sizeof s->coverage[0].message,
                 "its probe says it can run here, but it ran 0 of the %d cases offered to it", offered);
    }
}

static bool probe_says_yes(const mc_session *s, const mc_variant *v)
{
    for (int i = 0; i < s->n_probed; i++)
        if (s->probed[i] == v)
            return !s->probe.reason[i][0];
    return false;
}

/* Did dispatcher d pass a case having run `kernel`, forced to it (forced) or by its own choice? */
static bool dispatcher_ran(const mc_session *s, int d, const char *kernel, bool forced)
{
    for (int i = 0; i < s->n_items; i++) {
        const mc_result *r = &s->results[i];
        if (s->items[i].variant_index != d || r->kind != MC_RESULT_PASS || strcmp(r->ran, kernel) != 0)
            continue;
        const char *want = mc_runparams_kernel(&s->cases.items[s->items[i].case_index]);
        if (forced ? want && strcmp(want, kernel) == 0 : !want)
            return true;
    }
    return false;
}

/* Dispatch coverage: a dispatcher forced by name to each kernel it accepts that can run here must
 * run it and pass; each kernel it prefers for some shape here must be its own choice at least
 * once. A fast path behind a gate that never lets it be chosen fails here, where a run-time probe
 * of the kernel alone cannot see it. */
static void add_dispatch_failures(mc_session *s)
{
    for (int d = 0; d < s->n_variants; d++) {
        const mc_variant *disp = s->variants[d];
        if (!disp->dispatch || (disp->flags & MC_VARIANT_TEST_ONLY))
            continue;
        int n;
        const mc_variant *const *acc = disp->dispatch->accepts(&n);
        bool runnable[MC_DISPATCH_MAX_KERNELS] = {false}, may[MC_DISPATCH_MAX_KERNELS] = {false};
        n = n < MC_DISPATCH_MAX_KERNELS ? n : MC_DISPATCH_MAX_KERNELS;
        for (int k = 0; k < n; k++)
            runnable[k] = probe_says_yes(s, acc[k]);
        disp->dispatch->may_choose(runnable, may);
        for (int k = 0; k < n; k++) {
            if (runnable[k] && !dispatcher_ran(s, d, acc[k]->name, true))
                snprintf(coverage_failure(s, d, acc[k]->name)->message, sizeof s->coverage[0].message,
                         "dispatch coverage: no passing case forced it to %s (kernel=%s), which can run here",
                         acc[k]->name, acc[k]->name);
            if (may[k] && !dispatcher_ran(s, d, acc[k]->name, false))
                snprintf(coverage_failure(s, d, acc[k]->name)->message, sizeof s->coverage[0].message,
                         "dispatch coverage: it never chose %s on its own, though its tables prefer it for some "
                         "shapes on this machine (a gate that never lets it be chosen, or no such shape here)",
                         acc[k]->name);
        }
    }
}

static void add_coverage_failures(mc_session *s)
{
    size_t cap = (size_t)s->n_variants + (size_t)s->n_selected + 1;
    for (int d = 0; d < s->n_variants; d++)
        cap += s->variants[d]->dispatch ? 2 * MC_DISPATCH_MAX_KERNELS : 0;
    s->coverage = calloc(cap, sizeof *s->coverage);
    if (!s->coverage)
        return;
    add_gate_failures(s);
    add_variant_failures(s);
    add_dispatch_failures(s);
}

mc_status mc_session_execute(const mc_session_cfg *cfg, mc_session *s, mc_err *err)
{
    s->results = calloc((size_t)s->n_items + 1, sizeof *s->results);
    s->extras = calloc((size_t)s->n_items + 1, sizeof *s->extras);
    s->extra_lens = calloc((size_t)s->n_items + 1, sizeof *s->extra_lens);
    s->outputs = calloc((size_t)s->n_items + 1, sizeof *s->outputs);
    if (!s->results || !s->extras || !s->extra_lens || !s->outputs)
        return mc_err_set(err, MC_ERR_NOMEM, "out of memory for %d results", s->n_items);
    collect_ctx ctx = {.s = s, .cfg = cfg};
    mc_progress_init(&ctx.progress, stderr, s->n_items, "metallic-check", cfg->quiet);
    for (int i = 0; i < s->n_items; i++)
        mc_progress_add_cost(&ctx.progress, mc_progress_item_cost(&s->cases.items[s->items[i].case_index]));
    mc_pool_callbacks cb = {.user = &ctx, .on_result = on_result, .on_tick = on_tick};
    double t0 = mc_now_s();
    mc_status st = mc_pool_run(&cfg->pool, s->cases.items, s->variants, s->items, s->n_items, &cb, err);
    s->wall_s = mc_now_s() - t0;
    if (s->n_items)
        mc_progress_finish(&ctx.progress);
    if (st)
        return st;
    if (cfg->coverage_check)
        add_coverage_failures(s);
    for (int i = 0; i < s->n_items; i++)
        s->counts[s->results[i].kind]++;
    for (int i = 0; i < s->n_coverage; i++)
        s->counts[s->coverage[i].kind]++;
    return MC_OK;
}

void mc_session_free(mc_session *s)
{
    for (int i = 0; s->extras && i < s->n_items; i++)
        free(s->extras[i]);
    for (int i = 0; s->outputs && i < s->n_items; i++)
        free(s->outputs[i]);
    free(s->outputs);
    free(s->extras);
    free(s->extra_lens);
    free(s->results);
    free(s->coverage);
    free(s->items);
    free(s->variants);
    free(s->selected);
    free(s->probed);
    mc_probe_free(&s->probe);
    mc_case_list_free(&s->cases);
    memset(s, 0, sizeof *s);
}

const mc_variant *mc_session_variant_of(const mc_session *s, const mc_result *r)
{
    return r->variant_index >= 0 ? s->variants[r->variant_index] : s->selected[-1 - r->variant_index];
}

int mc_session_ran(const mc_session *s)
{
    int ran = 0;
    for (int i = 0; i < s->n_items; i++)
        ran += s->results[i].kind != MC_RESULT_SKIP;
    return ran;
}

int mc_session_exit_code(const mc_session *s)
{
    for (int k = 0; k < MC_RESULT_COUNT; k++)
        if (s->counts[k] && mc_result_kind_is_failure((mc_result_kind)k))
            return 1;
    return mc_session_ran(s) == 0 ? 4 : 0;
}
