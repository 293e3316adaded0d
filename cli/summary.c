/* cli/summary.c: terminal summary and the JSON of a session (untrusted text sanitised per sink).
 * SPDX-License-Identifier: MIT */
#include "summary.h"

#include <inttypes.h>
#include <string.h>

#include "core/json.h"
#include "core/op.h"
#include "engine/perf_table.h"
#include "engine/plugin.h"
#include "engine/progress.h"
#include "core/sanitize.h"

#define MC_DEFAULT_SEED 0 /* keep in step with the CLI's default */

static const char *case_key(const mc_session *s, const mc_result *r)
{
    return r->case_index >= 0 ? s->cases.items[r->case_index].key : "(whole tier)";
}

size_t mc_summary_repro_command(char *dst, size_t cap, const mc_session *s, const mc_result *r, uint64_t seed)
{
    if (cap)
        dst[0] = '\0';
    if (r->case_index < 0)
        return 0;
    const mc_variant *v = mc_session_variant_of(s, r);
    int n = snprintf(dst, cap, "metallic-check repro '%s' --variant %s%s", case_key(s, r), v->name,
                     v->flags & (MC_VARIANT_TEST_ONLY | MC_VARIANT_MUTANT) ? " --include-hidden" : "");
    /* a plugin's variant needs its library, and its backend's when another plugin brings that */
    const char *lib = mc_plugin_path_of(v), *be_lib = mc_plugin_backend_path(v->backend);
    if (n >= 0 && (size_t)n < cap && lib)
        n += snprintf(dst + n, cap - (size_t)n, " --plugin '%s'", lib);
    if (n >= 0 && (size_t)n < cap && be_lib && (!lib || strcmp(lib, be_lib) != 0))
        n += snprintf(dst + n, cap - (size_t)n, " --plugin '%s'", be_lib);
    if (n >= 0 && (size_t)n < cap && seed != MC_DEFAULT_SEED)
        n += snprintf(dst + n, cap - (size_t)n, " --seed %" PRIu64, seed);
    return n < 0 ? 0 : (size_t)n;
}

void mc_summary_repro(FILE *out, const mc_session *s, const mc_result *r, uint64_t seed)
{
    char cmd[MC_SUMMARY_REPRO_LEN];
    if (mc_summary_repro_command(cmd, sizeof cmd, s, r, seed) == 0)
        return;
    fputs("  repro: ", out);
    mc_sanitize_write(MC_SINK_TERM, out, cmd);
    fputc('\n', out);
}

/* Untrusted text (keys, messages, plugin names) on a terminal line: never a raw control byte. */
static void term(FILE *out, const char *text)
{
    mc_sanitize_write(MC_SINK_TERM, out, text);
}

/* The tail of what the worker printed, each line behind "  | ", through the terminal sink (it is
 * untrusted: no escape code and no invalid UTF-8 reaches the terminal from here). */
static void print_output(FILE *out, const char *output)
{
    if (!output || !output[0])
        return;
    fputs("  output (tail):\n", out);
    char line[4096]; /* the stored tail is 2 KiB: a line is never cut */
    for (const char *at = output; *at;) {
        size_t n = strcspn(at, "\n");
        snprintf(line, sizeof line, "%.*s", (int)n, at);
        fputs("  | ", out);
        mc_sanitize_write(MC_SINK_TERM, out, line); /* untrusted: no control byte, valid UTF-8 */
        fputc('\n', out);
        at += n + (at[n] == '\n');
    }
}

static void print_failure(FILE *out, const mc_session *s, const mc_result *r, const char *output, uint64_t seed)
{
    fprintf(out, "FAIL %-14s ", mc_result_kind_name(r->kind));
    term(out, mc_session_variant_of(s, r)->name);
    fputc(' ', out);
    term(out, case_key(s, r));
    fputs(": ", out);
    term(out, r->message);
    fputc('\n', out);
    print_output(out, output);
    mc_summary_repro(out, s, r, seed);
}

typedef struct variant_counts {
    int pass, fail, skip, crash, timeout;
} variant_counts;

static void tally(const mc_result *r, variant_counts *c)
{
    if (r->kind == MC_RESULT_PASS)
        c->pass++;
    else if (r->kind == MC_RESULT_SKIP)
        c->skip++;
    else if (r->kind == MC_RESULT_CRASH)
        c->crash++;
    else if (r->kind == MC_RESULT_TIMEOUT)
        c->timeout++;
    else
        c->fail++;
}

/* Per variant: pass, fail, skip, crash, timeout. The name column is as wide as the longest name,
 * at most what leaves the row inside the terminal (a table that wraps is unreadable). */
static void print_table(FILE *out, const mc_session *s)
{
    enum { NUMBERS_W = 8 + 5 * 8 }; /* " backend" and five " %7d" columns */
    int longest = (int)strlen("variant");
    for (int v = 0; v < s->n_variants; v++)
        if ((int)strlen(s->variants[v]->name) > longest)
            longest = (int)strlen(s->variants[v]->name);
    int fit = mc_progress_columns(fileno(out)) - 1 - NUMBERS_W;
    int w = longest < fit ? longest : fit > 7 ? fit : 7;
    fprintf(out, "\n%-*s %-7s %7s %7s %7s %7s %7s\n", w, "variant", "backend", "pass", "fail", "skip", "crash",
            "timeout");
    for (int v = 0; v < s->n_variants; v++) {
        variant_counts c = {0};
        for (int i = 0; i < s->n_items; i++)
            if (s->items[i].variant_index == v)
                tally(&s->results[i], &c);
        for (int i = 0; i < s->n_coverage; i++)
            if (s->coverage[i].variant_index == v)
                tally(&s->coverage[i], &c);
        fprintf(out, "%-*s %-7s %7d %7d %7d %7d %7d\n", w, s->variants[v]->name, s->variants[v]->backend, c.pass,
                c.fail, c.skip, c.crash, c.timeout);
    }
}

/* Backends not present are listed, never counted as passes: even a quiet summary says so. */
static void print_unavailable_backends(FILE *out, const mc_session *s)
{
    for (int i = 0; i < s->probe.n_backends; i++) {
        if (s->probe.backends[i].available)
            continue;
        fprintf(out, "unavailable backend %s: ", s->probe.backends[i].name);
        term(out, s->probe.backends[i].info);
        fputc('\n', out);
    }
}

/* What only a person reading the whole summary wants: unavailable variants, the table. */
static void print_details(FILE *out, const mc_session *s)
{
    for (int i = 0; i < s->n_selected; i++) {
        if (!s->probe.reason[i][0])
            continue;
        fprintf(out, "unavailable variant %s: ", s->selected[i]->name);
        term(out, s->probe.reason[i]);
        fputc('\n', out);
    }
    print_table(out, s);
}

void mc_summary_print(FILE *out, const mc_session *s, uint64_t seed, int verbose, bool quiet)
{
    for (int i = 0; i < s->n_items; i++)
        if (mc_result_kind_is_failure(s->results[i].kind))
            print_failure(out, s, &s->results[i], s->outputs ? s->outputs[i] : NULL, seed);
        else if (verbose && s->results[i].kind == MC_RESULT_SKIP) {
            fputs("skip ", out);
            term(out, s->variants[s->items[i].variant_index]->name);
            fputc(' ', out);
            term(out, s->cases.items[s->items[i].case_index].key);
            fputs(": ", out);
            term(out, s->results[i].message);
            fputc('\n', out);
        }
    for (int i = 0; i < s->n_coverage; i++)
        print_failure(out, s, &s->coverage[i], NULL, seed);
    print_unavailable_backends(out, s);
    if (!quiet)
        print_details(out, s);
    int failed = 0;
    for (int k = 0; k < MC_RESULT_COUNT; k++)
        if (mc_result_kind_is_failure((mc_result_kind)k))
            failed += s->counts[k];
    if (!quiet)
        fprintf(out, "\n%d cases x variants in %.1f s; %d variants unavailable here\n", s->n_items, s->wall_s,
                s->n_unavailable);
    fprintf(out, "%d passed, %d failed, %d skipped\n", s->counts[MC_RESULT_PASS], failed, s->counts[MC_RESULT_SKIP]);
}

static void json_timing(FILE *out, const mc_timing *t)
{
    fprintf(out, "{\"n\":%d,\"calls_per_sample\":%" PRId64 ",\"median_ns\":", t->n, t->calls_per_sample);
    mc_json_number(out, t->median_ns);
    const struct {
        const char *name;
        double v;
    } fields[] = {{"min_ns", t->min_ns},   {"mad_ns", t->mad_ns},   {"ci_lo_ns", t->ci_lo_ns},
                  {"ci_hi_ns", t->ci_hi_ns}, {"gflops", t->gflops}, {"gbs", t->gbs},
                  {"cpu_mhz", t->cpu_mhz}, {"loadavg", t->loadavg}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        fprintf(out, ",\"%s\":", fields[i].name);
        mc_json_number(out, fields[i].v);
    }
    fputc('}', out);
}

static void json_result(FILE *out, const mc_session *s, const mc_result *r, int item, uint64_t seed)
{
    const mc_variant *v = mc_session_variant_of(s, r);
    fputs("{\"case\":", out);
    mc_json_string(out, case_key(s, r));
    fputs(",\"variant\":", out);
    mc_json_string(out, v->name);
    fputs(",\"backend\":", out);
    mc_json_string(out, v->backend);
    fputs(",\"kind\":", out);
    mc_json_string(out, mc_result_kind_name(r->kind));
    fputs(",\"ran\":", out);
    mc_json_string(out, r->ran);
    fputs(",\"max_ratio\":", out);
    mc_json_number(out, r->max_ratio);
    fputs(",\"nmse\":", out);
    mc_json_number(out, r->nmse);
    fprintf(out, ",\"worst_index\":%" PRId64 ",\"signal\":%d,\"elapsed_ms\":", r->worst_index, r->signal);
    mc_json_number(out, r->elapsed_ms);
    fputs(",\"message\":", out);
    mc_json_string(out, r->message);
    char repro[MC_SUMMARY_REPRO_LEN];
    if (mc_result_kind_is_failure(r->kind) && mc_summary_repro_command(repro, sizeof repro, s, r, seed)) {
        fputs(",\"repro\":", out);
        mc_json_string(out, repro);
    }
    if (item >= 0 && s->outputs && s->outputs[item] && s->outputs[item][0]) {
        fputs(",\"output\":", out); /* the tail of what the worker printed during the case */
        mc_json_string(out, s->outputs[item]);
    }
    mc_timing t;
    if (item >= 0 && mc_perf_timing_of(s, item, &t)) {
        fputs(",\"timing\":", out);
        json_timing(out, &t);
        mc_timing_free(&t);
    }
    fputc('}', out);
}

static void json_env(FILE *out, const mc_perf_env *e)
{
    fprintf(out, ",\"environment\":{\"timings\":%d,\"cores\":%d,\"kernel_threads\":%d,\"max_loadavg\":", e->n_timed,
            e->cores, e->kernel_threads);
    mc_json_number(out, e->max_loadavg);
    fputs(",\"min_mhz\":", out);
    mc_json_number(out, e->min_mhz);
    fputs(",\"max_mhz\":", out);
    mc_json_number(out, e->max_mhz);
    fprintf(out, ",\"loaded\":%s,\"throttled\":%s,\"reliable\":%s}", e->loaded ? "true" : "false",
            e->throttled ? "true" : "false", e->loaded || e->throttled ? "false" : "true");
}

void mc_summary_json_stage(FILE *out, const mc_session *s, const char *stage, const mc_perf_env *env, uint64_t seed)
{
    fputs("{\"stage\":", out);
    mc_json_string(out, stage);
    if (env)
        json_env(out, env);
    fprintf(out, ",\"items\":%d,\"wall_s\":", s->n_items);
    mc_json_number(out, s->wall_s);
    fputs(",\"counts\":{", out);
    for (int k = 0; k < MC_RESULT_COUNT; k++)
        fprintf(out, "%s\"%s\":%d", k ? "," : "", mc_result_kind_name((mc_result_kind)k), s->counts[k]);
    fputs("},\"unavailable\":[", out);
    int first = 1;
    for (int i = 0; i < s->n_selected; i++)
        if (s->probe.reason[i][0]) {
            fprintf(out, "%s{\"variant\":", first ? "" : ",");
            mc_json_string(out, s->selected[i]->name);
            fputs(",\"reason\":", out);
            mc_json_string(out, s->probe.reason[i]);
            fputc('}', out);
            first = 0;
        }
    fputs("],\"results\":[", out);
    for (int i = 0; i < s->n_items + s->n_coverage; i++) {
        if (i)
            fputc(',', out);
        if (i < s->n_items)
            json_result(out, s, &s->results[i], i, seed);
        else
            json_result(out, s, &s->coverage[i - s->n_items], -1, seed);
    }
    fputs("]}", out);
}
