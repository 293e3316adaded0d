/* engine/mutation.c: scoring the planted-bug variants of a run.
 * SPDX-License-Identifier: MIT */
#include "mutation.h"

#include <string.h>

/* Does result r belong to variant v and show the kind v expects? */
static bool shows_expected(const mc_session *s, const mc_result *r, const mc_variant *v)
{
    return mc_session_variant_of(s, r) == v && v->expect && strcmp(mc_result_kind_name(r->kind), v->expect) == 0;
}

static bool mutant_caught(const mc_session *s, const mc_variant *v)
{
    for (int i = 0; i < s->n_items; i++)
        if (shows_expected(s, &s->results[i], v))
            return true;
    for (int i = 0; i < s->n_coverage; i++)
        if (shows_expected(s, &s->coverage[i], v))
            return true;
    return false;
}

void mc_mutation_score(const mc_session *s, FILE *out, int *caught, int *total)
{
    *caught = *total = 0;
    for (int i = 0; i < s->n_selected; i++) {
        const mc_variant *v = s->selected[i];
        if (!(v->flags & MC_VARIANT_MUTANT))
            continue;
        bool ok = mutant_caught(s, v);
        (*total)++;
        *caught += ok;
        if (out)
            fprintf(out, "mutant %-40s expects %-15s %s\n", v->name, v->expect ? v->expect : "?",
                    ok ? "caught" : "SURVIVED");
    }
    if (out && *total)
        fprintf(out, "mutation score: %d/%d caught\n", *caught, *total);
}
