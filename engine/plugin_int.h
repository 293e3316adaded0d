/* engine/plugin_int.h: the plugin modules' shared state: stand-in records, the wire format of a
 * registration child, and the adapter's entry points.
 * SPDX-License-Identifier: MIT */
#ifndef MC_PLUGIN_INT_H
#define MC_PLUGIN_INT_H

#include <limits.h>

#include "core/backend.h"
#include "core/codehash.h"
#include "include/metallic_check/plugin.h"
#include "plugin.h"

#define MC_PLUGIN_MAX_VARIANTS 128
#define MC_PLUGIN_MAX_BACKENDS 4 /* the adapter has this many probe/init trampolines */
#define MC_PLUGIN_NAME_LEN 64
#define MC_PLUGIN_BACKEND_LEN 16
#define MC_PLUGIN_REQUIRES_LEN 128
#define MC_PLUGIN_PATH_LEN 1024

/* The sizes of the ABI 1.0 records: the least a plugin's record may say it is (engine/plugin_abi.c;
 * tests/test_plugin_abi.c pins the layout behind them). */
extern const uint32_t mc_plugin_min_size_variant, mc_plugin_min_size_backend;

/* A plugin variant as the harness holds it: its mc_variant first (the registry's pointer is this
 * slot's), what the registration child reported, and, in a process that attached the plugin, the
 * plugin's record as this harness reads it. */
typedef struct mc_plugin_vslot {
    mc_variant v;
    char name[MC_PLUGIN_NAME_LEN];
    char backend[MC_PLUGIN_BACKEND_LEN];
    char requires[MC_PLUGIN_REQUIRES_LEN];
    char hash[MC_HASH_LEN];
    int plugin;       /* index into the plugin paths */
    int backend_slot; /* a plugin backend's slot, -1 for a built-in backend */
    bool bound;       /* rec holds the plugin's record (a child that attached it) */
    mc_plugin_variant rec;
} mc_plugin_vslot;

typedef struct mc_plugin_bslot {
    mc_backend be;
    char name[MC_PLUGIN_BACKEND_LEN];
    int plugin;
    bool has_program_hash;
    bool bound;
    mc_plugin_backend rec;
} mc_plugin_bslot;

/* What a registration child sends back: a header, then n_variants and n_backends records. */
typedef struct mc_plugin_wire_head {
    int32_t ok;          /* 1: registered; 0: refused, message says why */
    int32_t n_variants, n_backends;
    char message[512];
} mc_plugin_wire_head;

typedef struct mc_plugin_wire_variant {
    int32_t op;          /* mc_plugin_op */
    uint32_t flags;      /* mc_plugin_variant_flags */
    char name[MC_PLUGIN_NAME_LEN];
    char backend[MC_PLUGIN_BACKEND_LEN];
    char requires[MC_PLUGIN_REQUIRES_LEN];
    char hash[MC_HASH_LEN]; /* its run function's code hash, computed in the child */
} mc_plugin_wire_variant;

typedef struct mc_plugin_wire_backend {
    char name[MC_PLUGIN_BACKEND_LEN];
    int32_t has_program_hash;
} mc_plugin_wire_backend;

/* What one plugin's init registered, in the process that called it. */
typedef struct mc_plugin_found {
    mc_plugin_variant variants[MC_PLUGIN_MAX_VARIANTS];
    int n_variants;
    mc_plugin_backend backends[MC_PLUGIN_MAX_BACKENDS];
    int n_backends;
    char refused[512]; /* the first record refused, "" when none */
} mc_plugin_found;

/* Loads the library at path here (dlopen) and runs its init into found; MC_ERR_CONFIG with the
 * reason when it cannot load, has no entry point, speaks another ABI major or registers nothing
 * acceptable. Never unloads: the records point into the library. */
mc_status mc_plugin_open(const char *path, mc_plugin_found *found, mc_err *err);

/* The shared tables (engine/plugin_load.c). */
extern char mc_plugin_paths[MC_PLUGIN_MAX][MC_PLUGIN_PATH_LEN];
extern int mc_plugin_n_paths;
extern mc_plugin_vslot mc_plugin_vslots[MC_PLUGIN_MAX_VARIANTS];
extern int mc_plugin_n_vslots;
extern mc_plugin_bslot mc_plugin_bslots[MC_PLUGIN_MAX_BACKENDS];
extern int mc_plugin_n_bslots;

/* The slot of a plugin variant's stand-in, -1 for any other variant. */
int mc_plugin_vslot_index(const mc_variant *v);

/* The adapter (engine/plugin_adapt.c): fills a stand-in's harness record from its slot. */
void mc_plugin_adapt_variant(mc_plugin_vslot *s);
void mc_plugin_adapt_backend(mc_plugin_bslot *s, int index);
/* The harness's op and dtype for the public numbers; MC_OP_COUNT / -1 when unknown. */
mc_op_id mc_plugin_op_to_harness(int32_t op);
int32_t mc_plugin_dtype_from_harness(mc_dtype dt);

#endif
