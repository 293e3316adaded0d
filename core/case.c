/* core/case.c: parameter values, canonical keys and the case list.
 *
 * Key rules (the identity that history, filters and reproducers rely on):
 *   1. A key is op(name=value,...) with parameters in schema order.
 *   2. Parameters at their default are left out, so a new parameter never renames old cases.
 *   3. Numbers are written in the shortest form that reads back to the same double.
 * SPDX-License-Identifier: MIT */
#include "case.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

uint64_t mc_hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 offset basis */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

int mc_case_param_index(const mc_op *op, const char *name)
{
    for (int i = 0; i < op->n_params; i++)
        if (strcmp(op->params[i].name, name) == 0)
            return i;
    return -1;
}

static mc_status parse_value(const mc_param_def *def, const char *text, mc_value *v, mc_err *err)
{
    char *end = NULL;
    memset(v, 0, sizeof *v);
    errno = 0;
    switch (def->type) {
    case MC_PARAM_INT:
        v->i = strtoll(text, &end, 10);
        if (errno || end == text || *end)
            return mc_err_set(err, MC_ERR_CONFIG, "parameter '%s' wants an integer, got '%s'", def->name, text);
        v->d = (double)v->i;
        break;
    case MC_PARAM_NUM:
        v->d = strtod(text, &end);
        if (errno || end == text || *end || isnan(v->d))
            return mc_err_set(err, MC_ERR_CONFIG, "parameter '%s' wants a number, got '%s'", def->name, text);
        break;
    case MC_PARAM_STR:
        if (strlen(text) == 0 || strlen(text) >= MC_STR_LEN || strpbrk(text, "(),= "))
            return mc_err_set(err, MC_ERR_CONFIG, "parameter '%s' wants a short word, got '%s'", def->name, text);
        break;
    }
    snprintf(v->s, sizeof v->s, "%s", text);
    return MC_OK;
}

mc_status mc_case_init(mc_case *c, const mc_op *op, mc_err *err)
{
    memset(c, 0, sizeof *c);
    c->op = op;
    for (int i = 0; i < op->n_params; i++) {
        mc_status st = parse_value(&op->params[i], op->params[i].def, &c->v[i], err);
        if (st)
            return st;
    }
    return MC_OK;
}

mc_status mc_case_set(mc_case *c, const char *name, const char *text, mc_err *err)
{
    int i = mc_case_param_index(c->op, name);
    if (i < 0)
        return mc_err_set(err, MC_ERR_CONFIG, "op '%s' has no parameter '%s'", c->op->name, name);
    return parse_value(&c->op->params[i], text, &c->v[i], err);
}

/* Shortest decimal that reads back to exactly d; whole numbers without an exponent (100, not
 * 1e+02), so keys read the way case files are written. */
static void format_number(double d, char *out, size_t n)
{
    if (d == floor(d) && fabs(d) < 1e15) {
        snprintf(out, n, "%.0f", d);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            return;
    }
}

static void format_value(const mc_param_def *def, const mc_value *v, char *out, size_t n)
{
    if (def->type == MC_PARAM_INT)
        snprintf(out, n, "%" PRId64, v->i);
    else if (def->type == MC_PARAM_NUM)
        format_number(v->d, out, n);
    else
        snprintf(out, n, "%s", v->s);
}

static bool value_is_default(const mc_param_def *def, const mc_value *v)
{
    mc_value dv;
    if (parse_value(def, def->def, &dv, NULL) != MC_OK)
        return false;
    if (def->type == MC_PARAM_STR)
        return strcmp(dv.s, v->s) == 0;
    return def->type == MC_PARAM_INT ? dv.i == v->i : dv.d == v->d;
}

mc_status mc_case_finish(mc_case *c, mc_err *err)
{
    const mc_op *op = c->op;
    int len = snprintf(c->key, sizeof c->key, "%s(", op->name);
    bool first = true;
    for (int i = 0; i < op->n_params; i++) {
        if (value_is_default(&op->params[i], &c->v[i]))
            continue;
        char val[64];
        format_value(&op->params[i], &c->v[i], val, sizeof val);
        len += snprintf(c->key + len, sizeof c->key - (size_t)len, "%s%s=%s", first ? "" : ",",
                        op->params[i].name, val);
        first = false;
        if (len >= (int)sizeof c->key - 2)
            return mc_err_set(err, MC_ERR_INTERNAL, "case key of op '%s' is too long", op->name);
    }
    snprintf(c->key + len, sizeof c->key - (size_t)len, ")");
    c->key_hash = mc_hash_str(c->key);
    return op->validate ? op->validate(c, err) : MC_OK;
}

mc_status mc_case_from_key(mc_case *c, const char *key, mc_op_lookup find_op, mc_err *err)
{
    const char *open = strchr(key, '(');
    size_t klen = strlen(key);
    if (!open || klen < 2 || key[klen - 1] != ')')
        return mc_err_set(err, MC_ERR_USAGE, "'%s' is not a case key (expected op(name=value,...))", key);
    char opname[64];
    snprintf(opname, sizeof opname, "%.*s", (int)(open - key), key);
    const mc_op *op = find_op(opname);
    if (!op)
        return mc_err_set(err, MC_ERR_CONFIG, "case key names unknown op '%s'", opname);
    mc_status st = mc_case_init(c, op, err);
    char body[MC_KEY_LEN];
    snprintf(body, sizeof body, "%.*s", (int)(klen - (size_t)(open - key) - 2), open + 1);
    char *save = NULL;
    for (char *tok = strtok_r(body, ",", &save); tok && !st; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return mc_err_set(err, MC_ERR_USAGE, "case key part '%s' has no '='", tok);
        *eq = '\0';
        st = mc_case_set(c, tok, eq + 1, err);
    }
    return st ? st : mc_case_finish(c, err);
}

int64_t mc_case_int(const mc_case *c, int idx)
{
    return c->v[idx].i;
}

double mc_case_num(const mc_case *c, int idx)
{
    return c->v[idx].d;
}

const char *mc_case_str(const mc_case *c, int idx)
{
    return c->v[idx].s;
}

/* Open-addressing index of item positions by key hash (slot value = position + 1, 0 = empty),
 * kept at most half full, so duplicate detection stays linear in the list's size. */
static bool index_grow(mc_case_list *l)
{
    int cap = l->index_cap ? l->index_cap * 2 : 1024;
    int *slots = calloc((size_t)cap, sizeof *slots);
    if (!slots)
        return false;
    for (int i = 0; i < l->count; i++) {
        size_t h = (size_t)(l->items[i].key_hash & (uint64_t)(cap - 1));
        while (slots[h])
            h = (h + 1) & (size_t)(cap - 1);
        slots[h] = i + 1;
    }
    free(l->index);
    l->index = slots;
    l->index_cap = cap;
    return true;
}

/* Position of c's key in the list, or the free slot where it would go (negative: -slot - 1). */
static int index_find(const mc_case_list *l, const mc_case *c)
{
    size_t mask = (size_t)l->index_cap - 1;
    for (size_t h = (size_t)(c->key_hash & mask);; h = (h + 1) & mask) {
        int pos = l->index[h];
        if (!pos)
            return -(int)h - 1;
        const mc_case *other = &l->items[pos - 1];
        if (other->key_hash == c->key_hash && strcmp(other->key, c->key) == 0)
            return pos - 1;
    }
}

int mc_case_list_max(const mc_case_list *l)
{
    return l->max_count > 0 ? l->max_count : MC_CASE_LIST_DEFAULT_MAX;
}

mc_status mc_case_list_add(mc_case_list *l, const mc_case *c, mc_err *err)
{
    if (2 * (l->count + 1) > l->index_cap && !index_grow(l))
        return mc_err_set(err, MC_ERR_NOMEM, "out of memory indexing the case list");
    int found = index_find(l, c);
    if (found >= 0) {
        l->duplicates++;
        return MC_OK;
    }
    const int max = mc_case_list_max(l);
    if (l->count >= max)
        return mc_err_set(err, MC_ERR_CONFIG,
                          "more than %d cases in one load, the cap (--max-cases N raises it; each case takes about "
                          "1.3 KB of memory)",
                          max);
    if (l->count == l->cap) {
        int cap = l->cap ? (l->cap > max / 2 ? max : l->cap * 2) : (max < 256 ? max : 256);
        mc_case *items = realloc(l->items, (size_t)cap * sizeof *items);
        if (!items)
            return mc_err_set(err, MC_ERR_NOMEM, "out of memory growing the case list to %d", cap);
        l->items = items;
        l->cap = cap;
    }
    l->items[l->count++] = *c;
    l->index[-found - 1] = l->count;
    return MC_OK;
}

void mc_case_list_free(mc_case_list *l)
{
    free(l->items);
    free(l->index);
    memset(l, 0, sizeof *l);
}

void mc_case_list_filter(mc_case_list *l, bool (*keep)(const mc_case *c, const void *user), const void *user)
{
    int k = 0;
    for (int i = 0; i < l->count; i++)
        if (keep(&l->items[i], user))
            l->items[k++] = l->items[i];
    l->count = k;
    /* rebuild the index over what is left (same capacity, so no allocation can fail here) */
    if (l->index) {
        memset(l->index, 0, (size_t)l->index_cap * sizeof *l->index);
        for (int i = 0; i < l->count; i++) {
            int slot = index_find(l, &l->items[i]);
            l->index[-slot - 1] = i + 1;
        }
    }
}

static bool before_limit(const mc_case *c, const void *user)
{
    const mc_case *const *limit = user;
    return c < *limit;
}

void mc_case_list_truncate(mc_case_list *l, int count)
{
    if (count >= l->count)
        return;
    const mc_case *limit = l->items + count;
    mc_case_list_filter(l, before_limit, &limit);
}
