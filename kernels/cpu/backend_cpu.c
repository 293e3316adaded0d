/* kernels/cpu/backend_cpu.c: the cpu backend: buffers are page-aligned host memory.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/backend.h"

#define CPU_BUFFER_ALIGN 4096 /* page-aligned, so any base misalignment is the case's own */

struct mc_backend_ctx {
    struct timespec t0; /* timer start */
};

static mc_status cpu_probe(char *reason, size_t reason_len)
{
    if (reason_len)
        reason[0] = '\0';
    return MC_OK;
}

static mc_status cpu_init(mc_backend_ctx **out, mc_err *err)
{
    *out = calloc(1, sizeof **out);
    return *out ? MC_OK : mc_err_set(err, MC_ERR_NOMEM, "cpu backend: out of memory");
}

static void cpu_shutdown(mc_backend_ctx *ctx)
{
    free(ctx);
}

static void cpu_describe(mc_backend_ctx *ctx, char *out, size_t out_len)
{
    char model[128] = "unknown cpu";
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            const char *colon = strchr(line, ':');
            snprintf(model, sizeof model, "%.120s", colon ? colon + 2 : line);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    }
    if (f)
        fclose(f);
    snprintf(out, out_len, "%s, %ld cores", model, sysconf(_SC_NPROCESSORS_ONLN));
}

static mc_status cpu_alloc(mc_backend_ctx *ctx, size_t bytes, struct mc_buf **out, mc_err *err)
{
    struct mc_buf *b = calloc(1, sizeof *b);
    size_t rounded = (bytes + CPU_BUFFER_ALIGN - 1) / CPU_BUFFER_ALIGN * CPU_BUFFER_ALIGN;
    void *p = b ? aligned_alloc(CPU_BUFFER_ALIGN, rounded ? rounded : CPU_BUFFER_ALIGN) : NULL;
    if (!p) {
        free(b);
        return mc_err_set(err, MC_ERR_NOMEM, "cpu backend: cannot allocate %zu bytes", bytes);
    }
    b->native = p;
    b->bytes = bytes;
    b->owner = ctx;
    *out = b;
    return MC_OK;
}

static void cpu_free(mc_backend_ctx *ctx, struct mc_buf *buf)
{
    if (buf)
        free(buf->native);
    free(buf);
}

static mc_status check_range(const struct mc_buf *b, size_t offset, size_t bytes, mc_err *err)
{
    if (offset > b->bytes || bytes > b->bytes - offset)
        return mc_err_set(err, MC_ERR_INTERNAL, "cpu backend: copy of %zu bytes at %zu outside a %zu-byte buffer",
                          bytes, offset, b->bytes);
    return MC_OK;
}

static mc_status cpu_upload(mc_backend_ctx *ctx, struct mc_buf *dst, size_t offset, const void *src,
                            size_t bytes, mc_err *err)
{
    mc_status st = check_range(dst, offset, bytes, err);
    if (!st)
        memcpy((char *)dst->native + offset, src, bytes);
    return st;
}

static mc_status cpu_download(mc_backend_ctx *ctx, const struct mc_buf *src, size_t offset, void *dst,
                              size_t bytes, mc_err *err)
{
    mc_status st = check_range(src, offset, bytes, err);
    if (!st)
        memcpy(dst, (const char *)src->native + offset, bytes);
    return st;
}

static mc_status cpu_sync(mc_backend_ctx *ctx, mc_err *err)
{
    return MC_OK;
}

static mc_status cpu_timer_begin(mc_backend_ctx *ctx, mc_err *err)
{
    clock_gettime(CLOCK_MONOTONIC, &ctx->t0);
    return MC_OK;
}

static mc_status cpu_timer_end(mc_backend_ctx *ctx, double *elapsed_ns, mc_err *err)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *elapsed_ns = (double)(t1.tv_sec - ctx->t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - ctx->t0.tv_nsec);
    return MC_OK;
}

const mc_backend mc_backend_cpu = {
    .name = "cpu",
    .probe = cpu_probe,
    .init = cpu_init,
    .shutdown = cpu_shutdown,
    .describe = cpu_describe,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .upload = cpu_upload,
    .download = cpu_download,
    .sync = cpu_sync,
    .timer_begin = cpu_timer_begin,
    .timer_end = cpu_timer_end,
    .timer_definition = "host-monotonic-batch: CLOCK_MONOTONIC read before and after a batch of calls, "
                        "divided by the calls",
};
