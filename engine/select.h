/* engine/select.h: which variants and cases a command runs (backends, globs, filters, shards).
 * SPDX-License-Identifier: MIT */
#ifndef MC_SELECT_H
#define MC_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/case.h"
#include "pool.h"

typedef struct mc_selection_cfg {
    const char *backends;   /* comma list, NULL = every compiled backend */
    const char *op_glob;    /* NULL = every op */
    const char *variant_glob; /* comma list of globs, NULL = every variant; a glob matching nothing is an error */
    const char *filter;     /* NULL, a glob over the key (has '(' or '*'), or name=value,... terms */
    int shard_index, shard_count; /* run the cases whose key hash % count == index */
    bool include_hidden;    /* test-only and mutant variants too */
} mc_selection_cfg;

/* Picks the variants. Unknown backend names, and a variant glob that matches no compiled variant,
 * are configuration errors (exit 2), never an empty pass. */
mc_status mc_select_variants(const mc_selection_cfg *cfg, const mc_variant ***out, int *n, mc_err *err);

/* Keeps the cases that pass the op glob, filter and shard (in place, order kept). */
mc_status mc_select_cases(const mc_selection_cfg *cfg, mc_case_list *cases, mc_err *err);

/* Refuses (MC_ERR_CONFIG naming the case) a case whose tensors, guarded and copied, need more
 * than memory_bytes: it would fail for every variant only after trying. */
mc_status mc_select_check_memory(const mc_case_list *cases, size_t guard_bytes, uint64_t memory_bytes, mc_err *err);

/* Builds the work list: for each case in order, each chosen variant of its op in registry order
 * that takes the case's run parameters (threads= only threaded CPU kernels, kernel= only dispatchers). */
mc_status mc_select_items(const mc_case_list *cases, const mc_variant *const *variants, int n_variants,
                          mc_work_item **items, int *n_items, mc_err *err);

/* Parses "I/N" for --shard. */
mc_status mc_select_parse_shard(const char *text, int *index, int *count, mc_err *err);

#endif
