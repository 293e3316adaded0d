/* kernels/opencl/program_opencl.c: programs built once per context from the embedded .cl sources,
 * their kernels, the binary hashes that identify a variant's code, and kernel-argument helpers.
 *
 * Every program is common.cl followed by its own source, built with "-cl-std=CL1.2" (and IEEE
 * divides where the device offers them) plus the variant's options (tile sizes, dtypes, access paths). The cache key is (source, options); PoCL
 * also keeps its own on-disk cache, so a worker process that rebuilds a program pays little.
 * SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/opencl/opencl_int.h"
#include "mc_opencl_sources.h" /* generated: mc_opencl_sources[] = {name, text} */

#define OPENCL_LOG_EXCERPT 600 /* bytes of a compiler log kept in an error message */

static const char *source_text(const char *name)
{
    for (int i = 0; mc_opencl_sources[i].name; i++)
        if (strcmp(mc_opencl_sources[i].name, name) == 0)
            return mc_opencl_sources[i].text;
    return NULL;
}

/* An array of n items of `size` bytes (capacity *cap) with room for one more: items itself, or a
 * larger copy; NULL when out of memory (items is then untouched). */
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

static mc_status build_failure(mc_backend_ctx *ctx, cl_program prog, const char *source, cl_int rc, mc_err *err)
{
    char log[OPENCL_LOG_EXCERPT + 1] = "";
    size_t len = 0;
    clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len);
    char *full = calloc(len + 1, 1);
    if (full && clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, len, full, NULL) == CL_SUCCESS)
        snprintf(log, sizeof log, "%s", full);
    free(full);
    return mc_err_set(err, MC_ERR_BACKEND, "building OpenCL program %s failed: %d %s: %s", source, rc,
                      mc_opencl_error_name(rc), log);
}

/* Builds (or finds) program (source, options); returns its index in ctx->programs. */
static mc_status program_get(mc_backend_ctx *ctx, const char *source, const char *options, int *index, mc_err *err)
{
    for (int i = 0; i < ctx->n_programs; i++)
        if (strcmp(ctx->programs[i].source, source) == 0 && strcmp(ctx->programs[i].options, options) == 0) {
            *index = i;
            return MC_OK;
        }
    const char *common = source_text("common"), *text = source_text(source);
    if (!common || !text)
        return mc_err_set(err, MC_ERR_INTERNAL, "no embedded OpenCL source named '%s'", source);
    mc_opencl_program *programs = grow(ctx->programs, ctx->n_programs, &ctx->cap_programs, sizeof *programs);
    if (!programs)
        return mc_err_set(err, MC_ERR_NOMEM, "opencl program cache: out of memory");
    ctx->programs = programs;
    const char *parts[2] = {common, text};
    cl_int rc;
    cl_program prog = clCreateProgramWithSource(ctx->context, 2, parts, NULL, &rc);
    if (rc != CL_SUCCESS)
        return mc_err_set(err, MC_ERR_BACKEND, "clCreateProgramWithSource(%s) failed: %d %s", source, rc,
                          mc_opencl_error_name(rc));
    char full[MC_OPENCL_OPTIONS_LEN + 64];
    /* OpenCL lets x / y be off by 2.5 ulp unless asked; the softmax bounds allow one rounding */
    snprintf(full, sizeof full, "-cl-std=CL1.2%s %s",
             ctx->info.exact_divide ? " -cl-fp32-correctly-rounded-divide-sqrt" : "", options);
    rc = clBuildProgram(prog, 1, &ctx->device, full, NULL, NULL);
    if (rc != CL_SUCCESS) {
        mc_status st = build_failure(ctx, prog, source, rc, err);
        clReleaseProgram(prog);
        return st;
    }
    mc_opencl_program *p = &ctx->programs[ctx->n_programs];
    p->source = strdup(source);
    p->options = strdup(options);
    p->program = prog;
    if (!p->source || !p->options) {
        free(p->source);
        free(p->options);
        clReleaseProgram(prog);
        return mc_err_set(err, MC_ERR_NOMEM, "opencl program cache: out of memory");
    }
    *index = ctx->n_programs++;
    return MC_OK;
}

mc_status mc_opencl_kernel(mc_backend_ctx *ctx, const char *source, const char *options, const char *kernel,
                           cl_kernel *out, mc_err *err)
{
    int prog;
    mc_status st = program_get(ctx, source, options, &prog, err);
    if (st)
        return st;
    for (int i = 0; i < ctx->n_kernels; i++)
        if (ctx->kernels[i].program == prog && strcmp(ctx->kernels[i].name, kernel) == 0) {
            *out = ctx->kernels[i].kernel;
            return MC_OK;
        }
    mc_opencl_kernel_entry *kernels = grow(ctx->kernels, ctx->n_kernels, &ctx->cap_kernels, sizeof *kernels);
    if (!kernels)
        return mc_err_set(err, MC_ERR_NOMEM, "opencl kernel cache: out of memory");
    ctx->kernels = kernels;
    cl_int rc;
    cl_kernel k = clCreateKernel(ctx->programs[prog].program, kernel, &rc);
    if (rc != CL_SUCCESS)
        return mc_err_set(err, MC_ERR_BACKEND, "clCreateKernel(%s in %s) failed: %d %s", kernel, source, rc,
                          mc_opencl_error_name(rc));
    mc_opencl_kernel_entry *e = &ctx->kernels[ctx->n_kernels];
    e->program = prog;
    e->name = strdup(kernel);
    e->kernel = k;
    if (!e->name) {
        clReleaseKernel(k);
        return mc_err_set(err, MC_ERR_NOMEM, "opencl kernel cache: out of memory");
    }
    ctx->n_kernels++;
    *out = k;
    return MC_OK;
}

mc_status mc_opencl_check_group(mc_backend_ctx *ctx, cl_kernel kernel, size_t threads, mc_err *err)
{
    size_t most = 0;
    cl_int rc = clGetKernelWorkGroupInfo(kernel, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof most, &most, NULL);
    if (rc != CL_SUCCESS)
        return mc_err_set(err, MC_ERR_BACKEND, "clGetKernelWorkGroupInfo failed: %d %s", rc, mc_opencl_error_name(rc));
    if (most < threads) {
        char name[64] = "?";
        clGetKernelInfo(kernel, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
        name[sizeof name - 1] = '\0';
        return mc_err_set(err, MC_ERR_UNSUPPORTED, "kernel %s needs work-groups of %zu but this device allows %zu",
                          name, threads, most);
    }
    return MC_OK;
}

void mc_opencl_cache_free(mc_backend_ctx *ctx)
{
    for (int i = 0; i < ctx->n_kernels; i++) {
        clReleaseKernel(ctx->kernels[i].kernel);
        free(ctx->kernels[i].name);
    }
    for (int i = 0; i < ctx->n_programs; i++) {
        clReleaseProgram(ctx->programs[i].program);
        free(ctx->programs[i].source);
        free(ctx->programs[i].options);
    }
    free(ctx->kernels);
    free(ctx->programs);
    free(ctx->hashes);
    ctx->kernels = NULL;
    ctx->programs = NULL;
    ctx->hashes = NULL;
    ctx->n_kernels = ctx->n_programs = ctx->n_hashes = 0;
}

/* ---- code identity ----
 *
 * A variant's identity is the binary the driver built for its canonical program, where that binary
 * is reproducible. Some compilers embed volatile bytes: PoCL's bitcode names the temporary file its
 * front end wrote (tempfile_XXXXXX.cl), so two cold compiles of one source differ. So the canonical
 * program is built a second time under another cache key (an extra, unused -D) and the two binaries
 * compared: equal, the hash is FNV-1a of the binary; different, it is FNV-1a of what the compiler
 * was given (common.cl, the source, the options). Either way the platform, device name and driver
 * version are part of it, and so is which of the two it is ("bin" or "src"), so they never collide.
 * The result is 16 hex digits, the one form of a code identity on every backend (codehash.h):
 * anything longer was cut to fit MC_HASH_LEN downstream and never compared equal (issue 12). */

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001B3ull;
    }
    return h;
}

static uint64_t fnv1a_str(uint64_t h, const char *s)
{
    return fnv1a(h, s, strlen(s) + 1); /* the NUL keeps "ab"+"c" apart from "a"+"bc" */
}

/* The program's binary for our one device (caller frees), or NULL. */
static unsigned char *program_binary(const mc_opencl_program *p, size_t *size)
{
    *size = 0;
    if (clGetProgramInfo(p->program, CL_PROGRAM_BINARY_SIZES, sizeof *size, size, NULL) != CL_SUCCESS || !*size)
        return NULL;
    unsigned char *bin = malloc(*size);
    unsigned char *bins[1] = {bin};
    if (bin && clGetProgramInfo(p->program, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) != CL_SUCCESS) {
        free(bin);
        bin = NULL;
    }
    return bin;
}

static uint64_t device_hash(const mc_backend_ctx *ctx, uint64_t h)
{
    h = fnv1a_str(h, ctx->info.platform);
    h = fnv1a_str(h, ctx->info.name);
    return fnv1a_str(h, ctx->info.driver);
}

/* Fills hex with the identity of def's canonical build (see above). */
static mc_status identity_hash(mc_backend_ctx *ctx, const mc_opencl_program_def *def, char *hex, size_t len)
{
    char twin_options[MC_OPENCL_OPTIONS_LEN];
    int prog, twin;
    mc_err err = {0};
    snprintf(twin_options, sizeof twin_options, "%s -DMC_IDENTITY_TWIN=1", def->options);
    mc_status st = program_get(ctx, def->source, def->options, &prog, &err);
    if (!st)
        st = program_get(ctx, def->source, twin_options, &twin, &err);
    if (st)
        return st;
    size_t size, twin_size;
    unsigned char *bin = program_binary(&ctx->programs[prog], &size);
    unsigned char *twin_bin = program_binary(&ctx->programs[twin], &twin_size);
    const bool reproducible = bin && twin_bin && size == twin_size && memcmp(bin, twin_bin, size) == 0;
    uint64_t h = fnv1a_str(device_hash(ctx, 0xCBF29CE484222325ull), reproducible ? "bin" : "src");
    if (reproducible) {
        h = fnv1a(h, bin, size);
    } else {
        h = fnv1a_str(h, source_text("common"));
        h = fnv1a_str(h, source_text(def->source));
        h = fnv1a_str(h, def->options);
    }
    free(bin);
    free(twin_bin);
    snprintf(hex, len, "%016llx", (unsigned long long)h);
    return MC_OK;
}

/* Index of a variant's program in mc_opencl_programs, or -1. */
static int program_def_index(const char *program)
{
    for (int i = 0; mc_opencl_programs[i]; i++)
        if (strcmp(mc_opencl_programs[i]->program, program) == 0)
            return i;
    return -1;
}

const char *mc_opencl_program_hash(mc_backend_ctx *ctx, const char *program)
{
    const int i = program_def_index(program);
    if (i < 0)
        return NULL;
    /* one slot per program, allocated once: returned strings stay where they are while ctx lives */
    if (!ctx->hashes) {
        int n = 0;
        while (mc_opencl_programs[n])
            n++;
        ctx->hashes = calloc((size_t)n, sizeof *ctx->hashes);
        if (!ctx->hashes)
            return NULL;
        ctx->n_hashes = n;
    }
    mc_opencl_hash_entry *e = &ctx->hashes[i];
    if (!e->hex[0] && identity_hash(ctx, mc_opencl_programs[i], e->hex, sizeof e->hex) != MC_OK) {
        e->hex[0] = '\0';
        return NULL;
    }
    return e->hex;
}

/* ---- arguments and options ---- */

mc_status mc_opencl_arg(cl_kernel k, cl_uint *arg, size_t size, const void *value, mc_err *err)
{
    cl_int rc = clSetKernelArg(k, *arg, size, value);
    if (rc != CL_SUCCESS)
        return mc_err_set(err, MC_ERR_BACKEND, "clSetKernelArg(%u, %zu bytes) failed: %d %s", *arg, size, rc,
                          mc_opencl_error_name(rc));
    (*arg)++;
    return MC_OK;
}

mc_status mc_opencl_arg_tensor(cl_kernel k, cl_uint *arg, const mc_tensor *t, mc_err *err)
{
    if (!t->buf)
        return mc_err_set(err, MC_ERR_INTERNAL, "opencl kernel argument: tensor has no buffer");
    cl_mem m = (cl_mem)t->buf->native;
    cl_long off = t->offset;
    cl_long4 ne, nb;
    for (int d = 0; d < 4; d++) {
        ne.s[d] = t->ne[d];
        nb.s[d] = t->nb[d];
    }
    mc_status st = mc_opencl_arg(k, arg, sizeof m, &m, err);
    if (!st)
        st = mc_opencl_arg(k, arg, sizeof off, &off, err);
    if (!st)
        st = mc_opencl_arg(k, arg, sizeof ne, &ne, err);
    if (!st)
        st = mc_opencl_arg(k, arg, sizeof nb, &nb, err);
    return st;
}

int mc_opencl_dtype_code(mc_dtype dt)
{
    switch (dt) {
    case MC_DTYPE_F16:
        return 1;
    case MC_DTYPE_BF16:
        return 2;
    default:
        return 0;
    }
}

bool mc_opencl_plain_float(mc_dtype dt)
{
    return dt == MC_DTYPE_F32 || dt == MC_DTYPE_F16 || dt == MC_DTYPE_BF16;
}

bool mc_opencl_tensor_aligned(const mc_tensor *t, int64_t bytes)
{
    if (t->offset % bytes != 0)
        return false;
    for (int d = 0; d < MC_MAX_DIMS; d++)
        if (t->ne[d] > 1 && t->nb[d] % bytes != 0)
            return false;
    return true;
}

bool mc_opencl_needs_bytewise(const mc_tensor *t)
{
    return !mc_opencl_tensor_aligned(t, mc_tensor_unit_bytes(t));
}

void mc_opencl_options_add(char *options, const char *fmt, ...)
{
    size_t used = strlen(options);
    if (used + 1 >= MC_OPENCL_OPTIONS_LEN)
        return;
    if (used)
        options[used++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(options + used, MC_OPENCL_OPTIONS_LEN - used, fmt, ap);
    va_end(ap);
}

size_t mc_opencl_round_up(size_t n, size_t group)
{
    return (n + group - 1) / group * group;
}
