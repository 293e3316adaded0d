/* harness/junit.c: JUnit XML output (escaped: case labels and messages are untrusted text).
 * SPDX-License-Identifier: MIT */
#include "junit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
                fputc(*s, f);
        }
    }
}

static void write_case(FILE *f, const mc_session *s, const mc_result *r)
{
    const char *key = r->case_index >= 0 ? s->cases.items[r->case_index].key : "(coverage)";
    fputs("  <testcase classname=\"", f);
    xml_text(f, mc_session_variant_of(s, r)->name);
    fputs("\" name=\"", f);
    xml_text(f, key);
    fprintf(f, "\" time=\"%.6f\">", r->elapsed_ms / 1e3);
    if (r->kind == MC_RESULT_SKIP) {
        fputs("<skipped message=\"", f);
        xml_text(f, r->message);
        fputs("\"/>", f);
    } else if (mc_result_kind_is_failure(r->kind)) {
        fputs("<failure type=\"", f);
        xml_text(f, mc_result_kind_name(r->kind));
        fputs("\" message=\"", f);
        xml_text(f, r->message);
        fputs("\"/>", f);
    }
    fputs("</testcase>\n", f);
}

mc_status mc_junit_write(const char *path, const mc_session *s, mc_err *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return mc_err_set(err, MC_ERR_IO, "--junit %s: %s", path, strerror(errno));
    int failures = 0;
    for (int k = 0; k < MC_RESULT_COUNT; k++)
        if (mc_result_kind_is_failure((mc_result_kind)k))
            failures += s->counts[k];
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<testsuite name=\"metallic-check\" tests=\"%d\" failures=\"%d\" skipped=\"%d\" time=\"%.3f\">\n",
            s->n_items + s->n_coverage, failures, s->counts[MC_RESULT_SKIP], s->wall_s);
    for (int i = 0; i < s->n_items; i++)
        write_case(f, s, &s->results[i]);
    for (int i = 0; i < s->n_coverage; i++)
        write_case(f, s, &s->coverage[i]);
    fputs("</testsuite>\n", f);
    if (fclose(f) != 0)
        return mc_err_set(err, MC_ERR_IO, "--junit %s: write failed", path);
    return MC_OK;
}
