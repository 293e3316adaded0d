/* engine/plugin_open.c: loads one plugin in this process and collects what its init registers,
 * each record checked against the ABI (size, major version, op, names) as it arrives.
 * SPDX-License-Identifier: MIT */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plugin_int.h"

typedef struct collector {
    mc_plugin_found *found;
    const char *path;
} collector;

static void host_log(const mc_plugin_host *host, const char *message)
{
    fprintf(stderr, "plugin %s: %s\n", host->plugin_path, message ? message : "");
}

/* A record's {size, abi}: its major must be ours, and it must hold at least the 1.0 fields. */
static const char *check_header(uint32_t size, uint32_t abi, uint32_t min_size, char *why, size_t cap)
{
    if (MC_PLUGIN_ABI_MAJOR_OF(abi) != MC_PLUGIN_ABI_MAJOR) {
        snprintf(why, cap, "built for plugin ABI %u.%u; this metallic-check speaks %u.%u (rebuild it against "
                 "this version's metallic_check/plugin.h)", MC_PLUGIN_ABI_MAJOR_OF(abi), MC_PLUGIN_ABI_MINOR_OF(abi),
                 MC_PLUGIN_ABI_MAJOR, MC_PLUGIN_ABI_MINOR);
        return why;
    }
    if (size < min_size) {
        snprintf(why, cap, "a record of %u bytes, less than ABI %u.0's %u (is its size field set?)", size,
                 MC_PLUGIN_ABI_MAJOR, min_size);
        return why;
    }
    return NULL;
}

static bool name_ok(const char *name, size_t max, const char *extra)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (c && strchr(extra, c))))
            return false;
    }
    return true;
}

/* Keeps the first refusal (the plugin is refused as a whole); returns add_*'s non-zero. */
static int refuse(collector *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(collector *c, const char *fmt, ...)
{
    if (!c->found->refused[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->found->refused, sizeof c->found->refused, fmt, ap);
        va_end(ap);
    }
    return 1;
}

/* Copies what this harness knows of a record of `size` bytes; fields it lacks stay zero. */
static void copy_record(void *dst, size_t dst_size, const void *src, uint32_t size)
{
    memset(dst, 0, dst_size);
    memcpy(dst, src, size < dst_size ? size : dst_size);
}

static int add_variant(mc_plugin_registry *reg, const mc_plugin_variant *v)
{
    collector *c = reg->harness;
    char why[256];
    if (!v)
        return refuse(c, "add_variant was given no record");
    if (check_header(v->size, v->abi, mc_plugin_min_size_variant, why, sizeof why))
        return refuse(c, "variant record: %s", why);
    mc_plugin_variant rec;
    copy_record(&rec, sizeof rec, v, v->size);
    if (!name_ok(rec.name, MC_PLUGIN_NAME_LEN, "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-"))
        return refuse(c, "variant name '%.80s' is not 1..63 characters of [A-Za-z0-9_.-]", rec.name ? rec.name : "");
    if (mc_plugin_op_to_harness(rec.op) == MC_OP_COUNT) {
        snprintf(why, sizeof why, "names op %d, which this metallic-check does not know (1 gemm, 2 gemv, 3 softmax, "
                 "4 sdpa)", (int)rec.op);
        return refuse(c, "variant '%s' %s", rec.name, why);
    }
    if (!name_ok(rec.backend, MC_PLUGIN_BACKEND_LEN, ""))
        return refuse(c, "variant '%s': backend name '%.40s' is not 1..15 characters of [a-z0-9_]", rec.name,
                      rec.backend ? rec.backend : "");
    if (!rec.run)
        return refuse(c, "variant '%s' has no run function", rec.name);
    if (rec.requires && strlen(rec.requires) >= MC_PLUGIN_REQUIRES_LEN)
        return refuse(c, "variant '%s': its requires list is too long", rec.name);
    for (int i = 0; i < c->found->n_variants; i++)
        if (strcmp(c->found->variants[i].name, rec.name) == 0)
            return refuse(c, "variant '%s' registered twice", rec.name);
    if (c->found->n_variants == MC_PLUGIN_MAX_VARIANTS)
        return refuse(c, "more than %d variants", MC_PLUGIN_MAX_VARIANTS);
    c->found->variants[c->found->n_variants++] = rec;
    return 0;
}

static int add_backend(mc_plugin_registry *reg, const mc_plugin_backend *b)
{
    collector *c = reg->harness;
    char why[256];
    if (!b)
        return refuse(c, "add_backend was given no record");
    if (check_header(b->size, b->abi, mc_plugin_min_size_backend, why, sizeof why))
        return refuse(c, "backend record: %s", why);
    mc_plugin_backend rec;
    copy_record(&rec, sizeof rec, b, b->size);
    if (!name_ok(rec.name, MC_PLUGIN_BACKEND_LEN, ""))
        return refuse(c, "backend name '%.40s' is not 1..15 characters of [a-z0-9_]", rec.name ? rec.name : "");
    if (!rec.init || !rec.shutdown || !rec.describe || !rec.alloc || !rec.free || !rec.upload || !rec.download ||
        !rec.sync)
        return refuse(c, "backend '%s' lacks one of init, shutdown, describe, alloc, free, upload, download, sync",
                      rec.name);
    if (!rec.timer_begin != !rec.timer_end)
        return refuse(c, "backend '%s' has one of timer_begin and timer_end but not the other", rec.name);
    for (int i = 0; i < c->found->n_backends; i++)
        if (strcmp(c->found->backends[i].name, rec.name) == 0)
            return refuse(c, "backend '%s' registered twice", rec.name);
    if (c->found->n_backends == MC_PLUGIN_MAX_BACKENDS)
        return refuse(c, "more than %d backends from plugins", MC_PLUGIN_MAX_BACKENDS);
    c->found->backends[c->found->n_backends++] = rec;
    return 0;
}

mc_status mc_plugin_open(const char *path, mc_plugin_found *found, mc_err *err)
{
    memset(found, 0, sizeof *found);
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return mc_err_set(err, MC_ERR_CONFIG, "plugin %s: cannot load it: %s", path, dlerror());
    mc_plugin_init_fn init;
    void *sym = dlsym(lib, MC_PLUGIN_ENTRY);
    memcpy(&init, &sym, sizeof init); /* a data pointer to a function pointer, as POSIX allows */
    if (!sym)
        return mc_err_set(err, MC_ERR_CONFIG, "plugin %s: no entry point %s (is it a metallic-check plugin, "
                          "built with metallic_check/plugin.h?)", path, MC_PLUGIN_ENTRY);
    collector c = {.found = found, .path = path};
    mc_plugin_host host = {MC_PLUGIN_HEADER(mc_plugin_host), MC_VERSION, path, host_log};
    mc_plugin_registry reg = {MC_PLUGIN_HEADER(mc_plugin_registry), add_variant, add_backend, &c};
    int rc = init(&host, &reg);
    if (found->refused[0])
        return mc_err_set(err, MC_ERR_CONFIG, "plugin %s: %s", path, found->refused);
    if (rc != 0)
        return mc_err_set(err, MC_ERR_CONFIG, "plugin %s: %s returned %d (it refused to load here)", path,
                          MC_PLUGIN_ENTRY, rc);
    if (found->n_variants == 0 && found->n_backends == 0)
        return mc_err_set(err, MC_ERR_CONFIG, "plugin %s: its %s registered no variant and no backend", path,
                          MC_PLUGIN_ENTRY);
    return MC_OK;
}
