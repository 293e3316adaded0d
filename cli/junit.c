/* cli/junit.c: JUnit XML output. Case keys, messages and names pass through the XML sink of
 * sanitize.c: valid UTF-8 and no character XML 1.0 forbids, so xmllint accepts every file.
 * SPDX-License-Identifier: MIT */
#include "junit.h"

#include <inttypes.h>

#include "core/sanitize.h"
#include "summary.h"

static void xml_text(FILE *f, const char *s)
{
    mc_sanitize_write(MC_SINK_XML, f, s);
}

static void write_case(FILE *f, const mc_session *s, const mc_result *r, const char *output, const char *stage,
                       uint64_t seed)
{
    const char *key = r->case_index >= 0 ? s->cases.items[r->case_index].key : "(coverage)";
    fprintf(f, "    <testcase classname=\"%s.", stage);
    xml_text(f, mc_session_variant_of(s, r)->name);
    fputs("\" name=\"", f);
    xml_text(f, key);
    fprintf(f, "\" time=\"%.6f\">", r->elapsed_ms / 1e3);
    if (r->kind == MC_RESULT_SKIP) {
        fputs("<skipped message=\"", f);
        xml_text(f, r->message);
        fputs("\"/>", f);
    } else if (mc_result_kind_is_failure(r->kind)) {
        char repro[MC_SUMMARY_REPRO_LEN];
        fputs("<failure type=\"", f);
        xml_text(f, mc_result_kind_name(r->kind));
        fputs("\" message=\"", f);
        xml_text(f, r->message);
        fputs("\">", f);
        if (mc_summary_repro_command(repro, sizeof repro, s, r, seed)) {
            fputs("repro: ", f);
            xml_text(f, repro);
        }
        fputs("</failure>", f);
    }
    if (output && output[0]) { /* the tail of what the worker printed during the case */
        fputs("<system-out>", f);
        xml_text(f, output);
        fputs("</system-out>", f);
    }
    fputs("</testcase>\n", f);
}

void mc_junit_begin(FILE *f)
{
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"metallic-check\">\n", f);
}

void mc_junit_suite(FILE *f, const mc_session *s, const char *stage, uint64_t seed, const char *commit)
{
    int failures = 0;
    for (int k = 0; k < MC_RESULT_COUNT; k++)
        if (mc_result_kind_is_failure((mc_result_kind)k))
            failures += s->counts[k];
    fprintf(f, "  <testsuite name=\"metallic-check.%s\" tests=\"%d\" failures=\"%d\" skipped=\"%d\" time=\"%.3f\">\n",
            stage, s->n_items + s->n_coverage, failures, s->counts[MC_RESULT_SKIP], s->wall_s);
    fprintf(f, "    <properties>\n      <property name=\"seed\" value=\"%" PRIu64 "\"/>\n"
               "      <property name=\"commit\" value=\"",
            seed);
    xml_text(f, commit && *commit ? commit : "unknown");
    fprintf(f, "\"/>\n      <property name=\"version\" value=\"%s\"/>\n    </properties>\n", MC_VERSION);
    for (int i = 0; i < s->n_items; i++)
        write_case(f, s, &s->results[i], s->outputs ? s->outputs[i] : NULL, stage, seed);
    for (int i = 0; i < s->n_coverage; i++)
        write_case(f, s, &s->coverage[i], NULL, stage, seed);
    fputs("  </testsuite>\n", f);
}

void mc_junit_end(FILE *f)
{
    fputs("</testsuites>\n", f);
}
