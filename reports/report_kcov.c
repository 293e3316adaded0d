/* reports/report_kcov.c: the report's kernel-coverage section: per CPU variant, the kernel lines
 * and branches no case reached, read from the TSV scripts/kernel-coverage writes (docs/coverage.md).
 * A malformed file is an error naming its line, before any of the page is written.
 * SPDX-License-Identifier: MIT */
#include "report_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"

enum { KC_VARIANT, KC_STATUS, KC_LINES, KC_REACHED, KC_ARCS, KC_TAKEN, KC_UNREACHED, KC_NOT_TAKEN, KC_FIELDS };

static const char kc_header[] = "variant\tstatus\tlines\tlines_reached\tarcs\tarcs_taken\tunreached\tarcs_not_taken";

static bool kc_count(const char *s, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < 0 || v > 100000000)
        return false;
    *out = (int)v;
    return true;
}

/* Splits line (its newline removed) at tabs into exactly KC_FIELDS fields; false otherwise. */
static bool kc_split(char *line, char *field[KC_FIELDS])
{
    line[strcspn(line, "\r\n")] = '\0';
    int n = 0;
    for (char *p = line;; n++) {
        if (n == KC_FIELDS)
            return false;
        field[n] = p;
        char *tab = strchr(p, '\t');
        if (!tab)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    return n == KC_FIELDS - 1;
}

static mc_status kc_add_row(rp_report *r, char *field[KC_FIELDS], const char *path, int line_no, mc_err *err)
{
    rp_kcov_row row = {0};
    if (!kc_count(field[KC_LINES], &row.lines) || !kc_count(field[KC_REACHED], &row.reached) ||
        !kc_count(field[KC_ARCS], &row.arcs) || !kc_count(field[KC_TAKEN], &row.arcs_taken) ||
        row.reached > row.lines || row.arcs_taken > row.arcs || !*field[KC_VARIANT])
        return mc_err_set(err, MC_ERR_CONFIG, "--kernel-coverage %s:%d: not a row of scripts/kernel-coverage's TSV",
                          path, line_no);
    if (!rp_grow((void **)&r->kcov, &r->cap_kcov, r->n_kcov + 1, sizeof *r->kcov) ||
        !(row.variant = rp_strdup(field[KC_VARIANT])) || !(row.status = rp_strdup(field[KC_STATUS])) ||
        !(row.unreached = rp_strdup(field[KC_UNREACHED])) || !(row.not_taken = rp_strdup(field[KC_NOT_TAKEN]))) {
        rp_kcov_row_free(&row);
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for the kernel coverage of %s", path);
    }
    r->kcov[r->n_kcov++] = row;
    return MC_OK;
}

mc_status rp_load_kernel_coverage(const char *path, rp_report *r, mc_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return mc_err_set(err, MC_ERR_CONFIG, "--kernel-coverage: cannot read '%s': %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int line_no = 0;
    mc_status st = MC_OK;
    while (!st && getline(&line, &cap, f) >= 0) {
        line_no++;
        char *field[KC_FIELDS];
        if (line_no == 1) {
            line[strcspn(line, "\r\n")] = '\0';
            if (strcmp(line, kc_header) != 0)
                st = mc_err_set(err, MC_ERR_CONFIG,
                                "--kernel-coverage %s:1: not scripts/kernel-coverage's TSV (its header differs)", path);
        } else if (!kc_split(line, field)) {
            st = mc_err_set(err, MC_ERR_CONFIG, "--kernel-coverage %s:%d: wants %d tab-separated fields", path,
                            line_no, KC_FIELDS);
        } else {
            st = kc_add_row(r, field, path, line_no, err);
        }
    }
    if (!st && line_no < 2)
        st = mc_err_set(err, MC_ERR_CONFIG, "--kernel-coverage %s: no rows", path);
    free(line);
    fclose(f);
    r->have_kcov = !st;
    return st;
}

void rp_kcov_row_free(rp_kcov_row *row)
{
    free(row->variant);
    free(row->status);
    free(row->unreached);
    free(row->not_taken);
}

/* "file:line" words, each in <code>, in a collapsed list with their count. */
static void write_words(FILE *out, const char *words, const char *what)
{
    int n = 0;
    for (const char *p = words; *p; p++)
        n += (p == words || p[-1] == ' ') && *p != ' ';
    if (n == 0) {
        fputs("&ndash;", out);
        return;
    }
    fprintf(out, "<details><summary>%d %s</summary>", n, what);
    for (const char *p = words; *p;) {
        size_t len = strcspn(p, " ");
        char word[256];
        snprintf(word, sizeof word, "%.*s", (int)len, p);
        if (len) {
            fputs("<code>", out);
            mc_html_text(out, word);
            fputs("</code> ", out);
        }
        p += len + (p[len] == ' ');
    }
    fputs("</details>", out);
}

void rp_write_kernel_coverage(FILE *out, const rp_report *r)
{
    if (!r->have_kcov)
        return;
    fputs("<section id=\"kernel-coverage\"><h2>Kernel coverage</h2><p>Per CPU variant, the lines of the kernel files "
          "that no case of the variant reached, and the branch outcomes never taken on the lines it did reach "
          "(gcov, from <code>scripts/kernel-coverage</code>). The first row is the gate: a line no variant reached "
          "and the allowlist does not excuse fails it.</p>",
          out);
    fputs("<div class=\"scroll\"><table id=\"kcov-table\"><thead><tr><th>Variant</th><th>Status</th><th>Lines "
          "reached</th><th>Branches taken</th><th>Lines no case reached</th><th>Branches never taken</th></tr>"
          "</thead><tbody>",
          out);
    for (int i = 0; i < r->n_kcov; i++) {
        const rp_kcov_row *k = &r->kcov[i];
        fputs("<tr><td>", out);
        mc_html_text(out, k->variant);
        fputs("</td><td>", out);
        mc_html_text(out, k->status);
        fprintf(out, "</td><td class=\"num\">%d of %d</td><td class=\"num\">%d of %d</td><td>", k->reached, k->lines,
                k->arcs_taken, k->arcs);
        write_words(out, k->unreached, "lines");
        fputs("</td><td>", out);
        write_words(out, k->not_taken, "lines with a branch never taken");
        fputs("</td></tr>", out);
    }
    fputs("</tbody></table></div></section>\n", out);
}
