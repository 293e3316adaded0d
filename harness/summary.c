/* harness/summary.c: terminal summary and JSON output of a session.
 * SPDX-License-Identifier: MIT */
#include "summary.h"

#include <inttypes.h>
#include <string.h>

#include "json.h"
#include "op.h"

#define MC_DEFAULT_SEED 0 /* keep in step with the CLI's default */

static const char *case_key(const mc_session *s, const mc_result *r)
{
    return r->case_index >= 0 ? s->cases.items[r->case_index].key : "(whole tier)";
}

void mc_summary_repro(FILE *out, const mc_session *s, const mc_result *r, uint64_t seed)
{
    if (r->case_index < 0)
        return;
    fprintf(out, "  repro: metallic-check repro '%s' --variant %s", case_key(s, r), mc_session_variant_of(s, r)->name);
    if (seed != MC_DEFAULT_SEED)
        fprintf(out, " --seed %" PRIu64, seed);
    fputc('\n', out);
}

/* The tail of what the worker printed, each line behind "  | ", control bytes as '?' (it is
 * untrusted: no escape code reaches the terminal from here). */
static void print_output(FILE *out, const char *output)
{
    if (!output || !output[0])
        return;
    fputs("  output (tail):\n  | ", out);
    for (const unsigned char *c = (const unsigned char *)output; *c; c++) {
        if (*c == '\n')
            fputs(c[1] ? "\n  | " : "", out);
        else
            fputc(*c < 0x20 || *c == 0x7f ? '?' : *c, out);
    }
    fputc('\n', out);
}

static void print_failure(FILE *out, const mc_session *s, const mc_result *r, const char *output, uint64_t seed)
{
    fprintf(out, "FAIL %-14s %s %s: %s\n", mc_result_kind_name(r->kind), mc_session_variant_of(s, r)->name,
            case_key(s, r), r->message);
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

static void print_table(FILE *out, const mc_session *s)
{
    fprintf(out, "\n%-34s %-7s %7s %7s %7s %7s %7s\n", "variant", "backend", "pass", "fail", "skip", "crash", "timeout");
    for (int v = 0; v < s->n_variants; v++) {
        variant_counts c = {0};
        for (int i = 0; i < s->n_items; i++)
            if (s->items[i].variant_index == v)
                tally(&s->results[i], &c);
        for (int i = 0; i < s->n_coverage; i++)
            if (s->coverage[i].variant_index == v)
                tally(&s->coverage[i], &c);
        fprintf(out, "%-34s %-7s %7d %7d %7d %7d %7d\n", s->variants[v]->name, s->variants[v]->backend, c.pass, c.fail,
                c.skip, c.crash, c.timeout);
    }
}

void mc_summary_print(FILE *out, const mc_session *s, uint64_t seed, int verbose)
{
    for (int i = 0; i < s->n_items; i++)
        if (mc_result_kind_is_failure(s->results[i].kind))
            print_failure(out, s, &s->results[i], s->outputs ? s->outputs[i] : NULL, seed);
        else if (verbose && s->results[i].kind == MC_RESULT_SKIP)
            fprintf(out, "skip %s %s: %s\n", s->variants[s->items[i].variant_index]->name,
                    s->cases.items[s->items[i].case_index].key, s->results[i].message);
    for (int i = 0; i < s->n_coverage; i++)
        print_failure(out, s, &s->coverage[i], NULL, seed);
    for (int i = 0; i < s->probe.n_backends; i++)
        if (!s->probe.backends[i].available)
            fprintf(out, "unavailable backend %s: %s\n", s->probe.backends[i].name, s->probe.backends[i].info);
    for (int i = 0; i < s->n_selected; i++)
        if (s->probe.reason[i][0])
            fprintf(out, "unavailable variant %s: %s\n", s->selected[i]->name, s->probe.reason[i]);
    print_table(out, s);
    int failed = 0;
    for (int k = 0; k < MC_RESULT_COUNT; k++)
        if (mc_result_kind_is_failure((mc_result_kind)k))
            failed += s->counts[k];
    fprintf(out, "\n%d cases x variants in %.1f s; %d variants unavailable here\n", s->n_items, s->wall_s,
            s->n_unavailable);
    fprintf(out, "%d passed, %d failed, %d skipped\n", s->counts[MC_RESULT_PASS], failed, s->counts[MC_RESULT_SKIP]);
}

static void json_result(FILE *out, const mc_session *s, const mc_result *r)
{
    fputs("{\"case\":", out);
    mc_json_string(out, case_key(s, r));
    fputs(",\"variant\":", out);
    mc_json_string(out, mc_session_variant_of(s, r)->name);
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
    fputc('}', out);
}

void mc_summary_json(FILE *out, const mc_session *s, uint64_t seed)
{
    fprintf(out, "{\"version\":\"%s\",\"seed\":%" PRIu64 ",\"items\":%d,\"counts\":{", MC_VERSION, seed, s->n_items);
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
        json_result(out, s, i < s->n_items ? &s->results[i] : &s->coverage[i - s->n_items]);
    }
    fputs("]}\n", out);
}
