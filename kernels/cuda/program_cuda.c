/* kernels/cuda/program_cuda.c: modules compiled once per context by NVRTC from the embedded .cu
 * sources, their functions, the cubin hashes that identify a variant's code, and argument helpers.
 *
 * Every program is common.cu followed by its own source, compiled for the device's own
 * architecture (sm_XY, a cubin: no PTX left for the driver to compile) with the variant's options;
 * options that name an architecture (--gpu-architecture=sm_90a for wgmma) are compiled for that.
 * The cache key is (source, options). NVRTC gives byte-identical cubins on repeat compiles, so a
 * variant's identity is the hash of its canonical build's cubin (mc_cuda_program_def).
 * SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cuda/cuda_int.h"
#include "mc_cuda_sources.h" /* generated: mc_cuda_sources[] = {name, text} */

#define CUDA_LOG_EXCERPT 600 /* bytes of a compiler log kept in an error message */
#define CUDA_MAX_OPTIONS 48  /* options one compile passes NVRTC */

static const char *source_text(const char *name)
{
    for (int i = 0; mc_cuda_sources[i].name; i++)
        if (strcmp(mc_cuda_sources[i].name, name) == 0)
            return mc_cuda_sources[i].text;
    return NULL;
}

uint64_t mc_cuda_fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001B3ull;
    }
    return h;
}

/* An array of n items of `size` bytes (capacity *cap) with room for one more, or NULL. */
static void *grow(void *items, int n, int *cap, size_t size)
{
    if (n < *cap)
        return items;
    int next = *cap ? *cap * 2 : 16;
    void *p = realloc(items, (size_t)next * size);
    if (p)
        *cap = next;
    return p;
}

/* Splits "-DA=1 -DB=2" at spaces into argv (pointing into buf, a copy). */
static int split_options(const char *options, char *buf, size_t buf_len, const char **argv, int max)
{
    snprintf(buf, buf_len, "%s", options);
    int n = 0;
    for (char *tok = strtok(buf, " "); tok && n < max; tok = strtok(NULL, " "))
        argv[n++] = tok;
    return n;
}

static mc_status compile_failure(const mc_cuda_nvrtc *nv, nvrtcProgram prog, const char *source, nvrtcResult rc,
                                 mc_err *err)
{
    char log[CUDA_LOG_EXCERPT + 1] = "";
    size_t len = 0;
    if (nv->log_size(prog, &len) == NVRTC_SUCCESS && len) {
        char *full = calloc(len + 1, 1);
        if (full && nv->log(prog, full) == NVRTC_SUCCESS)
            snprintf(log, sizeof log, "%s", full);
        free(full);
    }
    return mc_err_set(err, MC_ERR_BACKEND, "NVRTC compile of %s.cu failed: %s: %s", source, nv->error_string(rc), log);
}

mc_status mc_cuda_compile(const char *source, const char *options, int cc_major, int cc_minor, unsigned char **cubin,
                          size_t *size, mc_err *err)
{
    const mc_cuda_nvrtc *nv;
    mc_status st = mc_cuda_nvrtc_load(&nv, err);
    if (st)
        return st;
    const char *common = source_text("common"), *text = source_text(source);
    if (!common || !text)
        return mc_err_set(err, MC_ERR_INTERNAL, "no embedded CUDA source named '%s'", source);
    size_t len = strlen(common) + strlen(text) + 2;
    char *whole = malloc(len);
    if (!whole)
        return mc_err_set(err, MC_ERR_NOMEM, "cuda compile: out of memory");
    snprintf(whole, len, "%s\n%s", common, text);
    char arch[48], buf[MC_CUDA_OPTIONS_LEN];
    snprintf(arch, sizeof arch, "--gpu-architecture=sm_%d%d", cc_major, cc_minor);
    /* options that name their own architecture (sm_90a: wgmma) replace the device's */
    const char *argv[CUDA_MAX_OPTIONS] = {"--std=c++17", arch};
    const int fixed = strstr(options, "--gpu-architecture=") ? 1 : 2;
    int argc = fixed + split_options(options, buf, sizeof buf, argv + fixed, CUDA_MAX_OPTIONS - fixed);
    nvrtcProgram prog = NULL;
    char name[64];
    snprintf(name, sizeof name, "%s.cu", source);
    nvrtcResult rc = nv->create(&prog, whole, name, 0, NULL, NULL);
    if (rc != NVRTC_SUCCESS) {
        free(whole);
        return mc_err_set(err, MC_ERR_BACKEND, "nvrtcCreateProgram(%s) failed: %s", name, nv->error_string(rc));
    }
    rc = nv->compile(prog, argc, argv);
    if (rc != NVRTC_SUCCESS)
        st = compile_failure(nv, prog, source, rc, err);
    *cubin = NULL;
    *size = 0;
    if (!st && (rc = nv->cubin_size(prog, size)) != NVRTC_SUCCESS)
        st = mc_err_set(err, MC_ERR_BACKEND, "nvrtcGetCUBINSize(%s): %s", name, nv->error_string(rc));
    if (!st && !(*cubin = malloc(*size)))
        st = mc_err_set(err, MC_ERR_NOMEM, "cuda compile: out of memory");
    if (!st && (rc = nv->cubin(prog, (char *)*cubin)) != NVRTC_SUCCESS)
        st = mc_err_set(err, MC_ERR_BACKEND, "nvrtcGetCUBIN(%s): %s", name, nv->error_string(rc));
    if (st) {
        free(*cubin);
        *cubin = NULL;
    }
    nv->destroy(&prog);
    free(whole);
    return st;
}

/* Compiles and loads (or finds) module (source, options); returns its index in ctx->modules. When
 * cubin_hash is not NULL it receives the cubin's FNV-1a once the compile succeeded, even when the
 * device then refuses to load the cubin (an sm_90a program on any device but a 9.0 one): a
 * program's identity is its code, which need not run here (*hashed says whether it was set). */
static mc_status module_get(mc_backend_ctx *ctx, const char *source, const char *options, int *index,
                            uint64_t *cubin_hash, bool *hashed, mc_err *err)
{
    if (hashed)
        *hashed = false;
    for (int i = 0; i < ctx->n_modules; i++)
        if (strcmp(ctx->modules[i].source, source) == 0 && strcmp(ctx->modules[i].options, options) == 0) {
            *index = i;
            if (hashed) {
                *cubin_hash = ctx->modules[i].cubin_hash;
                *hashed = true;
            }
            return MC_OK;
        }
    mc_cuda_module *modules = grow(ctx->modules, ctx->n_modules, &ctx->cap_modules, sizeof *modules);
    if (!modules)
        return mc_err_set(err, MC_ERR_NOMEM, "cuda module cache: out of memory");
    ctx->modules = modules;
    unsigned char *cubin = NULL;
    size_t size = 0;
    mc_status st = mc_cuda_compile(source, options, ctx->info.cc_major, ctx->info.cc_minor, &cubin, &size, err);
    if (st)
        return st;
    CUmodule mod = NULL;
    char what[96];
    snprintf(what, sizeof what, "cuModuleLoadData(%s.cu)", source);
    const uint64_t h = mc_cuda_fnv1a(0xCBF29CE484222325ull, cubin, size);
    if (hashed) {
        *cubin_hash = h;
        *hashed = true;
    }
    st = mc_cuda_check(ctx->api->module_load(&mod, cubin), what, err);
    free(cubin);
    if (st)
        return st;
    mc_cuda_module *m = &ctx->modules[ctx->n_modules];
    m->source = strdup(source);
    m->options = strdup(options);
    m->module = mod;
    m->cubin_hash = h;
    if (!m->source || !m->options) {
        free(m->source);
        free(m->options);
        ctx->api->module_unload(mod);
        return mc_err_set(err, MC_ERR_NOMEM, "cuda module cache: out of memory");
    }
    *index = ctx->n_modules++;
    return MC_OK;
}

mc_status mc_cuda_function(mc_backend_ctx *ctx, const char *source, const char *options, const char *kernel,
                           CUfunction *out, mc_err *err)
{
    int mod;
    mc_status st = module_get(ctx, source, options, &mod, NULL, NULL, err);
    if (st)
        return st;
    for (int i = 0; i < ctx->n_functions; i++)
        if (ctx->functions[i].module == mod && strcmp(ctx->functions[i].name, kernel) == 0) {
            *out = ctx->functions[i].fn;
            return MC_OK;
        }
    mc_cuda_function_entry *fns = grow(ctx->functions, ctx->n_functions, &ctx->cap_functions, sizeof *fns);
    if (!fns)
        return mc_err_set(err, MC_ERR_NOMEM, "cuda function cache: out of memory");
    ctx->functions = fns;
    CUfunction f;
    char what[128];
    snprintf(what, sizeof what, "cuModuleGetFunction(%s in %s.cu)", kernel, source);
    st = mc_cuda_check(ctx->api->module_function(&f, ctx->modules[mod].module, kernel), what, err);
    if (st)
        return st;
    mc_cuda_function_entry *e = &ctx->functions[ctx->n_functions];
    e->module = mod;
    e->name = strdup(kernel);
    e->fn = f;
    if (!e->name)
        return mc_err_set(err, MC_ERR_NOMEM, "cuda function cache: out of memory");
    ctx->n_functions++;
    *out = f;
    return MC_OK;
}

mc_status mc_cuda_function_allow_shared(mc_backend_ctx *ctx, CUfunction f, unsigned bytes, mc_err *err)
{
    if (bytes <= 48 * 1024)
        return MC_OK;
    return mc_cuda_check(ctx->api->func_set_attribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, (int)bytes),
                         "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)", err);
}

void mc_cuda_cache_free(mc_backend_ctx *ctx)
{
    for (int i = 0; i < ctx->n_functions; i++)
        free(ctx->functions[i].name);
    for (int i = 0; i < ctx->n_modules; i++) {
        ctx->api->module_unload(ctx->modules[i].module);
        free(ctx->modules[i].source);
        free(ctx->modules[i].options);
    }
    free(ctx->functions);
    free(ctx->modules);
    free(ctx->hashes);
    ctx->functions = NULL;
    ctx->modules = NULL;
    ctx->hashes = NULL;
    ctx->n_functions = ctx->n_modules = 0;
}

/* ---- code identity ---- */

static int program_count(void)
{
    int n = 0;
    while (mc_cuda_programs[n])
        n++;
    return n;
}

const char *mc_cuda_program_hash(mc_backend_ctx *ctx, const char *program)
{
    int n = program_count(), at = -1;
    for (int i = 0; i < n && at < 0; i++)
        if (strcmp(mc_cuda_programs[i]->program, program) == 0)
            at = i;
    if (at < 0)
        return NULL;
    if (!ctx->hashes && !(ctx->hashes = calloc((size_t)n, sizeof *ctx->hashes)))
        return NULL;
    mc_cuda_hash_entry *e = &ctx->hashes[at];
    const mc_cuda_program_def *def = mc_cuda_programs[at];
    if (!e->hex[0] && def->combines) {
        uint64_t h = mc_cuda_fnv1a(0xCBF29CE484222325ull, "cuda dispatcher", 16);
        for (int i = 0; def->combines[i]; i++) {
            const char *part = mc_cuda_program_hash(ctx, def->combines[i]);
            if (!part)
                return NULL;
            h = mc_cuda_fnv1a(h, part, strlen(part) + 1);
        }
        snprintf(e->hex, sizeof e->hex, "%016llx", (unsigned long long)h);
    }
    if (!e->hex[0]) {
        int mod;
        uint64_t cubin_hash = 0;
        bool hashed = false;
        mc_err err = {0};
        /* a build that cannot load here (another architecture's) still has its identity */
        module_get(ctx, def->source, def->options, &mod, &cubin_hash, &hashed, &err);
        if (!hashed)
            return NULL;
        uint64_t h = mc_cuda_fnv1a(0xCBF29CE484222325ull, "cuda cubin", 11);
        h = mc_cuda_fnv1a(h, ctx->info.name, strlen(ctx->info.name) + 1);
        h = mc_cuda_fnv1a(h, &cubin_hash, sizeof cubin_hash);
        snprintf(e->hex, sizeof e->hex, "%016llx", (unsigned long long)h);
    }
    return e->hex;
}

/* ---- tensors and options ---- */

mc_cuda_tensor mc_cuda_tensor_of(const mc_tensor *t)
{
    mc_cuda_tensor c = {.base = t->buf ? (CUdeviceptr)(uintptr_t)t->buf->native : 0, .off = t->offset};
    for (int d = 0; d < 4; d++) {
        c.ne[d] = t->ne[d];
        c.nb[d] = t->nb[d];
    }
    return c;
}

int mc_cuda_dtype_code(mc_dtype dt)
{
    return dt == MC_DTYPE_F16 ? 1 : dt == MC_DTYPE_BF16 ? 2 : 0;
}

bool mc_cuda_plain_float(mc_dtype dt)
{
    return dt == MC_DTYPE_F32 || dt == MC_DTYPE_F16 || dt == MC_DTYPE_BF16;
}

bool mc_cuda_needs_bytewise(const mc_tensor *t)
{
    return t->offset % mc_tensor_unit_bytes(t) != 0;
}

void mc_cuda_options_add(char *options, const char *fmt, ...)
{
    size_t used = strlen(options);
    if (used + 1 >= MC_CUDA_OPTIONS_LEN)
        return;
    if (used)
        options[used++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(options + used, MC_CUDA_OPTIONS_LEN - used, fmt, ap);
    va_end(ap);
}

unsigned mc_cuda_blocks(int64_t n, int64_t d)
{
    return (unsigned)((n + d - 1) / d);
}
