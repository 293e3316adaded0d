/* db/run_selection.c: a pre-version-3 run's selection options (--tier, --cases, --cases-dir,
 * --backend, --op, --filter, --shard, --variant) from its command line; "--opt value" and
 * "--opt=value" alike, repeated --cases one per line, repeated --variant comma separated.
 * SPDX-License-Identifier: MIT */
#include "run_selection.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Next token of a command line joined as runinfo.c does ('...' around words with blanks). */
static const char *next_token(const char *s, char *out, size_t cap)
{
    size_t len = 0;
    while (*s == ' ')
        s++;
    bool quoted = false;
    for (; *s && (quoted || *s != ' '); s++) {
        if (*s == '\'') {
            quoted = !quoted;
            continue;
        }
        if (len + 1 < cap)
            out[len++] = *s;
    }
    out[len] = '\0';
    return s;
}

typedef struct option_field {
    const char *option;
    char *dst;
    size_t cap;
    char separator; /* 0: the last one given wins; else repeats are joined with it */
} option_field;

void mc_run_selection_parse(const char *command_line, mc_run_selection *out)
{
    memset(out, 0, sizeof *out);
    const option_field fields[] = {
        {"--tier", out->tier, sizeof out->tier, 0},
        {"--cases", out->cases, sizeof out->cases, '\n'},
        {"--cases-dir", out->cases_dir, sizeof out->cases_dir, 0},
        {"--backend", out->backends, sizeof out->backends, 0},
        {"--op", out->op, sizeof out->op, 0},
        {"--filter", out->filter, sizeof out->filter, 0},
        {"--shard", out->shard, sizeof out->shard, 0},
        {"--variant", out->variants, sizeof out->variants, ','},
    };
    char tok[512];
    for (const char *p = command_line ? command_line : ""; *p;) {
        p = next_token(p, tok, sizeof tok);
        const option_field *f = NULL;
        const char *value = NULL;
        for (size_t i = 0; !f && i < sizeof fields / sizeof fields[0]; i++) {
            size_t n = strlen(fields[i].option);
            if (strncmp(tok, fields[i].option, n) == 0 && (tok[n] == '\0' || tok[n] == '=')) {
                f = &fields[i];
                value = tok[n] == '=' ? tok + n + 1 : NULL;
            }
        }
        if (!f)
            continue;
        char word[512];
        if (!value && *p) {
            p = next_token(p, word, sizeof word);
            value = word;
        }
        if (!value)
            continue;
        size_t len = f->separator ? strlen(f->dst) : 0;
        if (len && len + 1 < f->cap)
            f->dst[len++] = f->separator;
        snprintf(f->dst + len, f->cap - len, "%s", value);
    }
}
