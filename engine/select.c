/* engine/select.c: selection of variants, cases and the work list.
 * SPDX-License-Identifier: MIT */
#include "select.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/op.h"
#include "registry.h"
#include "runparams.h"

static bool list_contains(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, word, n) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

/* A backend any row names, built or not (an unbuilt one is refused later, as unavailable), or
 * one a plugin brings. */
static bool row_named(const char *name)
{
    for (int i = 0; mc_backend_rows[i]; i++)
        if (strcmp(mc_backend_rows[i]->name, name) == 0)
            return true;
    return mc_backend_find(name) != NULL;
}

static mc_status check_backend_names(const char *list, mc_err *err)
{
    char copy[256], known[256] = "";
    size_t len = 0;
    for (int i = 0; mc_backend_rows[i]; i++)
        if (!mc_backend_rows[i]->hidden && len < sizeof known)
            len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", len ? ", " : "", mc_backend_rows[i]->name);
    snprintf(copy, sizeof copy, "%s", list);
    char *save = NULL;
    for (char *b = strtok_r(copy, ",", &save); b; b = strtok_r(NULL, ",", &save))
        if (!row_named(b))
            return mc_err_set(err, MC_ERR_CONFIG, "--backend: unknown backend '%s' (known: %s)", b, known);
    return MC_OK;
}

/* An --op glob must name some op: a misspelt op is a usage error, never "nothing ran". */
static mc_status check_op_glob(const char *glob, mc_err *err)
{
    char known[128] = "";
    size_t len = 0;
    for (int o = 0; o < MC_OP_COUNT; o++) {
        const char *name = mc_op_get((mc_op_id)o)->name;
        if (fnmatch(glob, name, 0) == 0)
            return MC_OK;
        len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", o ? ", " : "", name);
    }
    return mc_err_set(err, MC_ERR_USAGE, "--op '%s' matches no op (known: %s)", glob, known);
}

/* Whether name matches one glob of a comma list (--variant a,b and repeated --variant). */
static bool glob_list_match(const char *list, const char *name)
{
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", list);
    char *save = NULL;
    for (char *g = strtok_r(copy, ",", &save); g; g = strtok_r(NULL, ",", &save))
        if (fnmatch(g, name, 0) == 0)
            return true;
    return false;
}

static int count_matches(const char *glob, const mc_variant *const *vs, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += fnmatch(glob, vs[i]->name, 0) == 0;
    return k;
}

/* Every glob of the list must name a variant: a typo in one of several is still an error. */
static mc_status check_variant_globs(const char *list, bool include_hidden, mc_err *err)
{
    int total, n_all;
    const mc_variant *const *all = mc_registry_variants(include_hidden, &total);
    const mc_variant *const *everything = mc_registry_variants(true, &n_all);
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", list);
    char *save = NULL;
    for (char *g = strtok_r(copy, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
        if (count_matches(g, all, total))
            continue;
        if (count_matches(g, everything, n_all))
            return mc_err_set(err, MC_ERR_CONFIG,
                              "--variant '%s' names only test-only or mutant variants: add --include-hidden", g);
        return mc_err_set(err, MC_ERR_CONFIG, "--variant: no variant is named '%s' (see `metallic-check list variants`)",
                          g);
    }
    return MC_OK;
}

mc_status mc_select_variants(const mc_selection_cfg *cfg, const mc_variant ***out, int *n, mc_err *err)
{
    mc_status st = cfg->backends ? check_backend_names(cfg->backends, err) : MC_OK;
    if (!st && cfg->op_glob)
        st = check_op_glob(cfg->op_glob, err);
    if (!st && cfg->variant_glob)
        st = check_variant_globs(cfg->variant_glob, cfg->include_hidden, err);
    if (st)
        return st;
    int total;
    const mc_variant *const *all = mc_registry_variants(cfg->include_hidden, &total);
    const mc_variant **pick = calloc((size_t)total + 1, sizeof *pick);
    if (!pick)
        return mc_err_set(err, MC_ERR_NOMEM, "out of memory");
    int k = 0;
    for (int i = 0; i < total; i++) {
        const mc_variant *v = all[i];
        if ((cfg->variant_glob && !glob_list_match(cfg->variant_glob, v->name)) ||
            (cfg->backends && !list_contains(cfg->backends, v->backend)) ||
            (cfg->op_glob && fnmatch(cfg->op_glob, mc_op_get(v->op)->name, 0) != 0))
            continue;
        pick[k++] = v;
    }
    *out = pick;
    *n = k;
    return MC_OK;
}

/* name=value terms, comma separated: every term must hold. */
static bool case_matches_terms(const mc_case *c, const char *terms)
{
    char copy[512];
    snprintf(copy, sizeof copy, "%s", terms);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (!eq)
            return false;
        *eq = '\0';
        int i = mc_case_param_index(c->op, t);
        if (i < 0)
            return false;
        mc_case probe = *c;
        if (mc_case_set(&probe, t, eq + 1, NULL) != MC_OK)
            return false;
        const mc_value *want = &probe.v[i], *have = &c->v[i];
        switch (c->op->params[i].type) {
        case MC_PARAM_STR:
            if (strcmp(want->s, have->s) != 0)
                return false;
            break;
        case MC_PARAM_INT:
            if (want->i != have->i)
                return false;
            break;
        case MC_PARAM_NUM:
            if (want->d != have->d)
                return false;
            break;
        }
    }
    return true;
}

static mc_status check_filter_terms(const char *terms, mc_err *err)
{
    char copy[512];
    snprintf(copy, sizeof copy, "%s", terms);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (!eq)
            return mc_err_set(err, MC_ERR_USAGE, "--filter: term '%s' is not name=value (or give a key glob)", t);
        *eq = '\0';
        bool known = false;
        for (int o = 0; o < MC_OP_COUNT; o++)
            known = known || mc_case_param_index(mc_op_get((mc_op_id)o), t) >= 0;
        if (!known)
            return mc_err_set(err, MC_ERR_USAGE, "--filter: no op has a parameter '%s'", t);
    }
    return MC_OK;
}

static bool case_selected(const mc_selection_cfg *cfg, const mc_case *c)
{
    if (cfg->op_glob && fnmatch(cfg->op_glob, c->op->name, 0) != 0)
        return false;
    if (cfg->shard_count > 1 && (int)(c->key_hash % (uint64_t)cfg->shard_count) != cfg->shard_index)
        return false;
    if (!cfg->filter)
        return true;
    if (strpbrk(cfg->filter, "(*?["))
        return fnmatch(cfg->filter, c->key, 0) == 0;
    return case_matches_terms(c, cfg->filter);
}

static bool case_kept(const mc_case *c, const void *cfg)
{
    return case_selected(cfg, c);
}

mc_status mc_select_cases(const mc_selection_cfg *cfg, mc_case_list *cases, mc_err *err)
{
    if (cfg->filter && !strpbrk(cfg->filter, "(*?[")) {
        mc_status st = check_filter_terms(cfg->filter, err);
        if (st)
            return st;
    }
    mc_case_list_filter(cases, case_kept, cfg);
    return MC_OK;
}

mc_status mc_select_items(const mc_case_list *cases, const mc_variant *const *variants, int n_variants,
                          mc_work_item **items, int *n_items, mc_err *err)
{
    int cap = 1024, n = 0;
    mc_work_item *out = malloc((size_t)cap * sizeof *out);
    for (int c = 0; out && c < cases->count; c++) {
        for (int v = 0; v < n_variants; v++) {
            if (variants[v]->op != cases->items[c].op->id || !mc_runparams_pairs(&cases->items[c], variants[v]))
                continue;
            if (n == cap) {
                cap *= 2;
                mc_work_item *grown = realloc(out, (size_t)cap * sizeof *out);
                if (!grown) {
                    free(out);
                    out = NULL;
                    break;
                }
                out = grown;
            }
            out[n++] = (mc_work_item){c, v};
        }
    }
    if (!out)
        return mc_err_set(err, MC_ERR_NOMEM, "out of memory building the work list");
    *items = out;
    *n_items = n;
    return MC_OK;
}

/* What running case c takes in memory, about: every tensor's guarded image, its element map, its
 * download and its device copy (four times the guarded bytes), plus the reference's expected value
 * and bound (16 bytes per output element). */
static double case_bytes(const mc_case *c, size_t guard_bytes, mc_err *err)
{
    mc_tensor_spec specs[MC_MAX_TENSORS];
    int n = 0, out = 0;
    if (c->op->tensors(c, specs, &n, &out, err) != MC_OK)
        return -1;
    double bytes = 0;
    for (int i = 0; i < n; i++)
        if (!specs[i].absent)
            bytes += 4.0 * ((double)specs[i].align_bytes + (double)mc_tensor_span_bytes(&specs[i].t) +
                            2.0 * (double)guard_bytes);
    return bytes + 16.0 * (double)mc_tensor_nelems(&specs[out].t);
}

mc_status mc_select_check_memory(const mc_case_list *cases, size_t guard_bytes, uint64_t memory_bytes, mc_err *err)
{
    for (int i = 0; i < cases->count; i++) {
        const mc_case *c = &cases->items[i];
        double need = case_bytes(c, guard_bytes, err);
        if (need < 0)
            return err->status;
        if (need > (double)memory_bytes)
            return mc_err_set(err, MC_ERR_CONFIG,
                              "case %s needs about %.1f GB to run (tensors with guards, their copies and the "
                              "reference) but this machine has %.1f GB of memory: refused before running",
                              c->key, need / 1e9, (double)memory_bytes / 1e9);
    }
    return MC_OK;
}

mc_status mc_select_parse_shard(const char *text, int *index, int *count, mc_err *err)
{
    int i, n;
    char tail;
    if (sscanf(text, "%d/%d%c", &i, &n, &tail) != 2 || n < 1 || i < 0 || i >= n)
        return mc_err_set(err, MC_ERR_USAGE, "--shard wants I/N with 0 <= I < N, got '%s'", text);
    *index = i;
    *count = n;
    return MC_OK;
}
