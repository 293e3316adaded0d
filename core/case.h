/* core/case.h: a case (an op plus one value per parameter) and its canonical key.
 * SPDX-License-Identifier: MIT */
#ifndef MC_CASE_H
#define MC_CASE_H

#include <stdbool.h>
#include <stdint.h>

#include "status.h"

#define MC_MAX_PARAMS 24
#define MC_KEY_LEN 320
#define MC_STR_LEN 40 /* a word: a dtype, a layout, a kernel name (kernel=) */

struct mc_op;

typedef enum mc_ptype {
    MC_PARAM_INT, /* an integer (sizes, offsets, flags) */
    MC_PARAM_NUM, /* a double (scales, alpha) */
    MC_PARAM_STR, /* a short word (dtype, layout) */
} mc_ptype;

/* One entry of an op's parameter schema. Schema order is key order. */
typedef struct mc_param_def {
    const char *name;
    mc_ptype type;
    const char *def; /* default, written as in a case file; a parameter at its default is left
                        out of the key, so adding a parameter never renames old cases */
    const char *doc; /* one line for `list ops` */
} mc_param_def;

typedef struct mc_value {
    int64_t i;
    double d;
    char s[MC_STR_LEN];
} mc_value;

typedef struct mc_case {
    const struct mc_op *op;
    mc_value v[MC_MAX_PARAMS]; /* in the op's schema order */
    char key[MC_KEY_LEN];      /* canonical identity: gemm(dtype=f16,m=5,n=7,k=11) */
    uint64_t key_hash;         /* FNV-1a of key: seeds, shards */
} mc_case;

/* Sets every parameter of c to its default for op. */
mc_status mc_case_init(mc_case *c, const struct mc_op *op, mc_err *err);
/* Sets parameter `name` from text, checking it against the schema (an unknown name or a value of
 * the wrong type is MC_ERR_CONFIG with the parameter's name in the message). */
mc_status mc_case_set(mc_case *c, const char *name, const char *text, mc_err *err);
/* Index of a parameter in the op's schema, or -1. */
int mc_case_param_index(const struct mc_op *op, const char *name);
/* Recomputes key and key_hash from the values, then runs the op's validate hook. */
mc_status mc_case_finish(mc_case *c, mc_err *err);
/* How a key's op name becomes its record (the engine's mc_op_find): passed in, so core never calls
 * up into the layer that owns the op table. NULL when no op has that name. */
typedef const struct mc_op *(*mc_op_lookup)(const char *name);
/* Parses a canonical key back into a case (for `repro`); find_op resolves its op name. */
mc_status mc_case_from_key(mc_case *c, const char *key, mc_op_lookup find_op, mc_err *err);

/* Typed getters by schema index. */
int64_t mc_case_int(const mc_case *c, int idx);
double mc_case_num(const mc_case *c, int idx);
const char *mc_case_str(const mc_case *c, int idx);

/* 64-bit FNV-1a. */
uint64_t mc_hash_str(const char *s);

/* The most cases a list holds unless its owner sets max_count (run's --max-cases). Each case
 * takes about 1.3 KB of C memory and a load holds two copies, so a runaway case file stops near
 * half a gigabyte; the largest tier (nightly) makes about 22,000. */
#define MC_CASE_LIST_DEFAULT_MAX 200000

/* A growable list of cases, kept in load order with duplicates (same key) dropped. */
typedef struct mc_case_list {
    mc_case *items;
    int count;
    int cap;
    int duplicates; /* cases dropped because their key was already listed */
    int *index;     /* hash index of items by key (see case.c) */
    int index_cap;
    int max_count;  /* the most cases it may hold; 0: MC_CASE_LIST_DEFAULT_MAX */
} mc_case_list;

/* Adds c unless its key is listed already; a new case past the list's cap is MC_ERR_CONFIG. */
mc_status mc_case_list_add(mc_case_list *l, const mc_case *c, mc_err *err);
/* The list's cap: max_count, or the default. */
int mc_case_list_max(const mc_case_list *l);
/* Cuts the list back to its first count cases. */
void mc_case_list_truncate(mc_case_list *l, int count);
/* Drops cases for which keep(c) is false, keeping the order (and the index in step). */
void mc_case_list_filter(mc_case_list *l, bool (*keep)(const mc_case *c, const void *user), const void *user);
void mc_case_list_free(mc_case_list *l);

#endif
