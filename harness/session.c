/* harness/session.c: a run from case files to results.
 * SPDX-License-Identifier: MIT */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cases_lua.h"
#include "cpu_features.h"
#include "op.h"
#include "progress.h"

static mc_status load_cases(const mc_session_cfg *cfg, mc_session *s, mc_err *err)
{
    s->cases.max_count = cfg->max_cases;
    if (cfg->single_key) {
        mc_case c;
        mc_status st = mc_case_from_key(&c, cfg->single_key, err);
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

mc_status mc_session_prepare(const mc_session_cfg *cfg, mc_session *s, mc_err *err)
{
    memset(s, 0, sizeof *s);
    mc_status st = mc_select_variants(&cfg->sel, &s->selected, &s->n_selected, err);
    if (!st)
        st = load_cases(cfg, s, err);
    if (!st)
        st = mc_select_cases(&cfg->sel, &s->cases, err);
    if (!st)
        st = mc_probe_collect(s->selected, s->n_selected, &s->probe, err);
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
    return mc_select_items(&s->cases, s->variants, s->n_variants, &s->items, &s->n_items, err);
}

typedef struct collect_ctx {
    mc_session *s;
    const mc_session_cfg *cfg;
    mc_progress progress;
} collect_ctx;

static void on_result(void *user, int item, const mc_result *res, const void *extra, size_t len)
{
    collect_ctx *c = user;
    c->s->results[item] = *res;
    if (len) {
        c->s->extras[item] = malloc(len);
        if (c->s->extras[item]) {
            memcpy(c->s->extras[item], extra, len);
            c->s->extra_lens[item] = len;
        }
    }
    mc_progress_step(&c->progress, mc_result_kind_is_failure(res->kind));
    if (c->cfg->sink)
        c->cfg->sink(c->cfg->sink_user, c->s, item);
}

static void on_tick(void *user)
{
    mc_progress_show(&((collect_ctx *)user)->progress);
}

/* A probe that says no on a CPU that has every feature the variant declares: a gate that always
 * says no would otherwise leave the fast path untested with nobody noticing. */
static void add_gate_failures(mc_session *s)
{
    char missing[64];
    for (int i = 0; i < s->n_selected; i++) {
        const mc_variant *v = s->selected[i];
        if (!s->probe.reason[i][0] || !v->requires || strcmp(v->backend, "cpu") != 0 ||
            !mc_cpu_has_all(v->requires, missing, sizeof missing))
            continue;
        mc_result *r = &s->coverage[s->n_coverage++];
        r->case_index = -1;
        r->variant_index = -1 - i; /* a selected, unrunnable variant: see mc_session_variant_of */
        r->kind = MC_RESULT_FAIL_COVERAGE;
        r->worst_index = -1;
        snprintf(r->ran, sizeof r->ran, "%s", v->name);
        snprintf(r->message, sizeof r->message, "its probe says no (%.120s) but this CPU has %s",
                 s->probe.reason[i], v->requires);
    }
}

static void add_coverage_failures(mc_session *s)
{
    s->coverage = calloc((size_t)s->n_variants + (size_t)s->n_selected + 1, sizeof *s->coverage);
    if (s->coverage)
        add_gate_failures(s);
    for (int v = 0; s->coverage && v < s->n_variants; v++) {
        int ran = 0, offered = 0;
        for (int i = 0; i < s->n_items; i++)
            if (s->items[i].variant_index == v) {
                offered++;
                ran += s->results[i].kind != MC_RESULT_SKIP;
            }
        if (ran > 0 || (s->variants[v]->flags & MC_VARIANT_TEST_ONLY))
            continue;
        mc_result *r = &s->coverage[s->n_coverage++];
        r->case_index = -1;
        r->variant_index = v;
        r->kind = MC_RESULT_FAIL_COVERAGE;
        r->worst_index = -1;
        snprintf(r->ran, sizeof r->ran, "%s", s->variants[v]->name);
        snprintf(r->message, sizeof r->message,
                 "its probe says it can run here, but it ran 0 of the %d cases offered to it", offered);
    }
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

mc_status mc_session_execute(const mc_session_cfg *cfg, mc_session *s, mc_err *err)
{
    s->results = calloc((size_t)s->n_items + 1, sizeof *s->results);
    s->extras = calloc((size_t)s->n_items + 1, sizeof *s->extras);
    s->extra_lens = calloc((size_t)s->n_items + 1, sizeof *s->extra_lens);
    if (!s->results || !s->extras || !s->extra_lens)
        return mc_err_set(err, MC_ERR_NOMEM, "out of memory for %d results", s->n_items);
    collect_ctx ctx = {.s = s, .cfg = cfg};
    mc_progress_init(&ctx.progress, stderr, s->n_items, "metallic-check", cfg->quiet);
    mc_pool_callbacks cb = {.user = &ctx, .on_result = on_result, .on_tick = on_tick};
    double t0 = now_s();
    mc_status st = mc_pool_run(&cfg->pool, s->cases.items, s->variants, s->items, s->n_items, &cb, err);
    s->wall_s = now_s() - t0;
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
    free(s->extras);
    free(s->extra_lens);
    free(s->results);
    free(s->coverage);
    free(s->items);
    free(s->variants);
    free(s->selected);
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
