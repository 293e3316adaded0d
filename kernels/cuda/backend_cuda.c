/* kernels/cuda/backend_cuda.c: the cuda backend: the driver API loaded at run time, one device's
 * primary context and one stream per worker, buffers as device pointers, and an event timer.
 *
 * How it works (docs/cuda.md):
 *   1. Only workers touch the device: probe and init run in the pool's children (the parent never
 *      loads libcuda), so a context never crosses a fork.
 *   2. MC_CUDA_DEVICE picks the device: a number (the CUDA ordinal) or a substring of its name
 *      (ignoring case); unset, device 0.
 *   3. A buffer holds the harness's whole guarded image (guards, NaN gaps, sentinel outputs); upload
 *      and download are copies with byte offsets on the worker's stream, so the guard and gap checks
 *      work unchanged.
 *   4. A sticky error (a kernel faulted) is reported on stderr and ends the worker (abort): the pool
 *      records a crash for that case only and the next worker starts with a clean context.
 *   5. Timer: an event recorded on the stream at timer_begin and another at timer_end; the elapsed
 *      time between them is the device time of the whole batch of launches in between, back to
 *      back, gaps included (docs/cuda.md, "What a CUDA timing measures"). At each timer_end NVML's
 *      clocks, temperature and throttle reasons are sampled; a throttled batch is counted.
 * SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cuda/cuda_int.h"

static const char *error_name(const mc_cuda_driver *api, CUresult rc)
{
    const char *name = NULL;
    if (!api || api->error_name(rc, &name) != CUDA_SUCCESS || !name)
        return "unknown CUDA error";
    return name;
}

mc_status mc_cuda_check(CUresult rc, const char *what, mc_err *err)
{
    if (rc == CUDA_SUCCESS)
        return MC_OK;
    const mc_cuda_driver *api = NULL;
    mc_err ignored = {0};
    mc_cuda_driver_load(&api, &ignored);
    if (mc_cuda_error_is_sticky(rc)) {
        fprintf(stderr, "cuda: %s: %s (error %d): a kernel faulted and the context is lost; this worker ends\n", what,
                error_name(api, rc), (int)rc);
        fflush(stderr);
        abort();
    }
    return mc_err_set(err, rc == CUDA_ERROR_OUT_OF_MEMORY ? MC_ERR_NOMEM : MC_ERR_BACKEND, "%s: %s (error %d)", what,
                      error_name(api, rc), (int)rc);
}

/* A CUDA context reserves address space far beyond what it uses (unified addressing): under the
 * worker's RLIMIT_AS (--mem-limit) it may fail to start. Says so, for the error message. */
static const char *address_limit_hint(void)
{
    static char hint[200];
    struct rlimit as;
    if (getrlimit(RLIMIT_AS, &as) != 0 || as.rlim_cur == RLIM_INFINITY)
        return "";
    snprintf(hint, sizeof hint,
             "; this process's address space is limited to %llu MiB and a CUDA context reserves more: run with "
             "--mem-limit 0",
             (unsigned long long)(as.rlim_cur >> 20));
    return hint;
}

/* ---- device choice ---- */

static bool contains_ignoring_case(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* The driver, initialised, and the chosen device (see the top of the file); on failure, why. */
static mc_status choose_device(const mc_cuda_driver **api, CUdevice *dev, int *ordinal, mc_err *err)
{
    mc_status st = mc_cuda_driver_load(api, err);
    if (st)
        return st;
    CUresult rc = (*api)->init(0);
    if (rc == CUDA_ERROR_NO_DEVICE)
        return mc_err_set(err, MC_ERR_UNSUPPORTED, "no CUDA device (cuInit: CUDA_ERROR_NO_DEVICE; driver %s)",
                          (*api)->path);
    if (rc != CUDA_SUCCESS)
        return mc_err_set(err, MC_ERR_UNSUPPORTED, "no CUDA device: cuInit failed: %s (error %d; driver %s)%s",
                          error_name(*api, rc), (int)rc, (*api)->path, address_limit_hint());
    int count = 0;
    if ((*api)->device_count(&count) != CUDA_SUCCESS || count == 0)
        return mc_err_set(err, MC_ERR_UNSUPPORTED, "no CUDA device (the driver lists none)");
    const char *want = getenv("MC_CUDA_DEVICE");
    char seen[512] = "";
    for (int i = 0; i < count; i++) {
        CUdevice d;
        char name[128] = "?";
        if ((*api)->device_get(&d, i) != CUDA_SUCCESS)
            continue;
        (*api)->device_name(name, sizeof name, d);
        bool take = !want || !*want ? i == 0 : all_digits(want) ? atoi(want) == i : contains_ignoring_case(name, want);
        if (take) {
            *dev = d;
            *ordinal = i;
            return MC_OK;
        }
        size_t used = strlen(seen);
        snprintf(seen + used, sizeof seen - used, "%s%d: %s", used ? "; " : "", i, name);
    }
    return mc_err_set(err, MC_ERR_UNSUPPORTED, "MC_CUDA_DEVICE='%s' matches no CUDA device (seen: %s)", want ? want : "",
                      seen);
}

static mc_status cuda_probe(char *reason, size_t reason_len)
{
    const mc_cuda_driver *api;
    CUdevice dev;
    int ordinal;
    mc_err err = {0};
    mc_status st = choose_device(&api, &dev, &ordinal, &err);
    if (reason_len)
        snprintf(reason, reason_len, "%s", st ? err.msg : "");
    return st;
}

/* ---- context ---- */

static int attribute(mc_backend_ctx *ctx, CUdevice_attribute what)
{
    int v = 0;
    ctx->api->device_attribute(&v, what, ctx->device);
    return v;
}

static void query_info(mc_backend_ctx *ctx)
{
    mc_cuda_device_info *i = &ctx->info;
    ctx->api->device_name(i->name, sizeof i->name, ctx->device);
    i->name[sizeof i->name - 1] = '\0';
    i->cc_major = attribute(ctx, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
    i->cc_minor = attribute(ctx, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
    i->sms = attribute(ctx, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
    i->max_threads_block = attribute(ctx, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
    i->shared_optin_bytes = attribute(ctx, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
    ctx->api->driver_version(&i->driver_version);
    ctx->api->device_total_mem(&i->global_bytes, ctx->device);
    const mc_cuda_nvrtc *nv;
    mc_err ignored = {0};
    if (mc_cuda_nvrtc_load(&nv, &ignored) == MC_OK)
        nv->version(&i->nvrtc_major, &i->nvrtc_minor);
}

static void cuda_shutdown(mc_backend_ctx *ctx)
{
    if (!ctx)
        return;
    for (int i = 0; i < MC_CUDA_SCRATCH_SLOTS; i++)
        if (ctx->scratch[i])
            ctx->api->mem_free(ctx->scratch[i]);
    mc_cuda_cache_free(ctx);
    if (ctx->ev_begin)
        ctx->api->event_destroy(ctx->ev_begin);
    if (ctx->ev_end)
        ctx->api->event_destroy(ctx->ev_end);
    if (ctx->stream)
        ctx->api->stream_destroy(ctx->stream);
    if (ctx->context)
        ctx->api->primary_release(ctx->device);
    free(ctx);
}

static mc_status cuda_init(mc_backend_ctx **out, mc_err *err)
{
    const mc_cuda_driver *api;
    CUdevice dev;
    int ordinal;
    mc_status st = choose_device(&api, &dev, &ordinal, err);
    if (st)
        return st;
    mc_backend_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return mc_err_set(err, MC_ERR_NOMEM, "cuda backend: out of memory");
    ctx->api = api;
    ctx->device = dev;
    ctx->info.ordinal = ordinal;
    st = mc_cuda_check(api->primary_retain(&ctx->context, dev), "cuDevicePrimaryCtxRetain", err);
    if (!st)
        st = mc_cuda_check(api->ctx_set_current(ctx->context), "cuCtxSetCurrent", err);
    if (!st)
        st = mc_cuda_check(api->stream_create(&ctx->stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate", err);
    if (!st)
        st = mc_cuda_check(api->event_create(&ctx->ev_begin, CU_EVENT_DEFAULT), "cuEventCreate", err);
    if (!st)
        st = mc_cuda_check(api->event_create(&ctx->ev_end, CU_EVENT_DEFAULT), "cuEventCreate", err);
    if (st) {
        cuda_shutdown(ctx);
        size_t used = strlen(err->msg);
        snprintf(err->msg + used, sizeof err->msg - used, "%s", address_limit_hint());
        return st;
    }
    query_info(ctx);
    char bus[32] = "";
    api->device_pci_bus_id(bus, sizeof bus, dev);
    mc_cuda_nvml_open(&ctx->nvml, bus);
    *out = ctx;
    return MC_OK;
}

/* The first two comma-separated fields are the machine fingerprint's (cli/cli_exec.c): the device,
 * then the driver, compiler and timer definition, so timings taken under another timer never
 * compare with these. */
static void cuda_describe(mc_backend_ctx *ctx, char *out, size_t out_len)
{
    const mc_cuda_device_info *i = &ctx->info;
    snprintf(out, out_len,
             "%s sm_%d%d (%d SMs; %.1f GiB; device %d), driver API %d.%d NVRTC %d.%d timer cuda-events-batch, "
             "NVML %s",
             i->name, i->cc_major, i->cc_minor, i->sms, (double)i->global_bytes / (1024.0 * 1024.0 * 1024.0),
             i->ordinal, i->driver_version / 1000, i->driver_version % 1000 / 10, i->nvrtc_major, i->nvrtc_minor,
             ctx->nvml.device ? "yes" : ctx->nvml.why);
}

const mc_cuda_device_info *mc_cuda_device(mc_backend_ctx *ctx)
{
    return &ctx->info;
}

CUstream mc_cuda_stream(mc_backend_ctx *ctx)
{
    return ctx->stream;
}

bool mc_cuda_has_features(const char *requires, int major, int minor)
{
    const char *p = requires;
    while (*p) {
        size_t len = strcspn(p, ",");
        int want = 0, used = 0;
        if (len < 5 || len > 8 || sscanf(p, "sm_%d%n", &want, &used) != 1 || want < 10)
            return false;
        /* sm_XYa: that architecture's own features (wgmma on sm_90a), on that compute capability only */
        const bool exact = (size_t)used + 1 == len && p[used] == 'a';
        if ((size_t)used != len && !exact)
            return false;
        if (exact ? major * 10 + minor != want : major * 10 + minor < want)
            return false;
        p += len + (p[len] == ',');
    }
    return true;
}

static bool cuda_has_features(mc_backend_ctx *ctx, const char *requires)
{
    return mc_cuda_has_features(requires, ctx->info.cc_major, ctx->info.cc_minor);
}

/* ---- buffers ---- */

static mc_status cuda_alloc(mc_backend_ctx *ctx, size_t bytes, struct mc_buf **out, mc_err *err)
{
    struct mc_buf *b = calloc(1, sizeof *b);
    if (!b)
        return mc_err_set(err, MC_ERR_NOMEM, "cuda backend: out of memory");
    CUdeviceptr p = 0;
    char what[64];
    snprintf(what, sizeof what, "cuMemAlloc of %zu bytes", bytes);
    mc_status st = mc_cuda_check(ctx->api->mem_alloc(&p, bytes ? bytes : 1), what, err);
    if (st) {
        free(b);
        return st;
    }
    b->native = (void *)(uintptr_t)p;
    b->bytes = bytes;
    b->owner = ctx;
    *out = b;
    return MC_OK;
}

static void cuda_free(mc_backend_ctx *ctx, struct mc_buf *buf)
{
    if (buf && buf->native) {
        /* work queued on the buffer finishes first (cuMemFree would not wait on a non-blocking stream) */
        ctx->api->stream_sync(ctx->stream);
        ctx->api->mem_free((CUdeviceptr)(uintptr_t)buf->native);
    }
    free(buf);
}

static mc_status check_range(const struct mc_buf *b, size_t offset, size_t bytes, mc_err *err)
{
    if (offset > b->bytes || bytes > b->bytes - offset)
        return mc_err_set(err, MC_ERR_INTERNAL, "cuda backend: copy of %zu bytes at %zu outside a %zu-byte buffer",
                          bytes, offset, b->bytes);
    return MC_OK;
}

static mc_status cuda_sync(mc_backend_ctx *ctx, mc_err *err)
{
    return mc_cuda_check(ctx->api->stream_sync(ctx->stream), "cuStreamSynchronize (a kernel may have faulted)", err);
}

static mc_status cuda_upload(mc_backend_ctx *ctx, struct mc_buf *dst, size_t offset, const void *src, size_t bytes,
                             mc_err *err)
{
    mc_status st = check_range(dst, offset, bytes, err);
    if (st || bytes == 0)
        return st;
    CUdeviceptr p = (CUdeviceptr)(uintptr_t)dst->native + offset;
    st = mc_cuda_check(ctx->api->memcpy_htod(p, src, bytes, ctx->stream), "cuMemcpyHtoDAsync", err);
    return st ? st : cuda_sync(ctx, err);
}

static mc_status cuda_download(mc_backend_ctx *ctx, const struct mc_buf *src, size_t offset, void *dst, size_t bytes,
                               mc_err *err)
{
    mc_status st = check_range(src, offset, bytes, err);
    if (st || bytes == 0)
        return st;
    CUdeviceptr p = (CUdeviceptr)(uintptr_t)src->native + offset;
    st = mc_cuda_check(ctx->api->memcpy_dtoh(dst, p, bytes, ctx->stream), "cuMemcpyDtoHAsync", err);
    return st ? st : cuda_sync(ctx, err);
}

mc_status mc_cuda_scratch(mc_backend_ctx *ctx, int slot, size_t bytes, CUdeviceptr *out, mc_err *err)
{
    if (slot < 0 || slot >= MC_CUDA_SCRATCH_SLOTS)
        return mc_err_set(err, MC_ERR_INTERNAL, "cuda scratch slot %d out of range", slot);
    if (ctx->scratch_bytes[slot] < bytes) {
        if (ctx->scratch[slot]) {
            mc_status st = cuda_sync(ctx, err); /* queued kernels may still use the old buffer */
            if (st)
                return st;
            ctx->api->mem_free(ctx->scratch[slot]);
            ctx->scratch[slot] = 0;
            ctx->scratch_bytes[slot] = 0;
        }
        mc_status st = mc_cuda_check(ctx->api->mem_alloc(&ctx->scratch[slot], bytes ? bytes : 1), "scratch cuMemAlloc", err);
        if (st)
            return st;
        ctx->scratch_bytes[slot] = bytes;
    }
    *out = ctx->scratch[slot];
    return MC_OK;
}

/* ---- launches and the timer ---- */

void mc_cuda_note_launch(mc_backend_ctx *ctx)
{
    ctx->launches++;
}

mc_status mc_cuda_launch(mc_backend_ctx *ctx, CUfunction f, const unsigned grid[3], const unsigned block[3],
                         unsigned shared_bytes, void **params, mc_err *err)
{
    CUresult rc = ctx->api->launch(f, grid[0], grid[1], grid[2], block[0], block[1], block[2], shared_bytes,
                                   ctx->stream, params, NULL);
    if (rc != CUDA_SUCCESS) {
        char what[160];
        snprintf(what, sizeof what, "cuLaunchKernel(grid %u x %u x %u, block %u x %u x %u, %u bytes shared)", grid[0],
                 grid[1], grid[2], block[0], block[1], block[2], shared_bytes);
        return mc_cuda_check(rc, what, err);
    }
    mc_cuda_note_launch(ctx);
    return MC_OK;
}

static mc_status cuda_timer_begin(mc_backend_ctx *ctx, mc_err *err)
{
    ctx->timing = true;
    ctx->launches = 0;
    return mc_cuda_check(ctx->api->event_record(ctx->ev_begin, ctx->stream), "cuEventRecord", err);
}

static mc_status cuda_timer_end(mc_backend_ctx *ctx, double *elapsed_ns, mc_err *err)
{
    ctx->timing = false;
    mc_status st = mc_cuda_check(ctx->api->event_record(ctx->ev_end, ctx->stream), "cuEventRecord", err);
    if (!st)
        st = mc_cuda_check(ctx->api->event_sync(ctx->ev_end), "cuEventSynchronize (a kernel may have faulted)", err);
    if (!st && ctx->launches == 0)
        st = mc_err_set(err, MC_ERR_INTERNAL, "cuda timer: no kernel was launched between timer_begin and timer_end");
    float ms = 0;
    if (!st)
        st = mc_cuda_check(ctx->api->event_elapsed(&ms, ctx->ev_begin, ctx->ev_end), "cuEventElapsedTime", err);
    if (!st)
        *elapsed_ns = (double)ms * 1e6;
    mc_cuda_nvml_sample(&ctx->nvml, &ctx->last_sample);
    ctx->batches++;
    if (ctx->last_sample.valid) {
        ctx->throttled_batches += mc_cuda_gpu_throttled(ctx->last_sample.reasons);
        if (!ctx->min_sm_mhz || ctx->last_sample.sm_mhz < ctx->min_sm_mhz)
            ctx->min_sm_mhz = ctx->last_sample.sm_mhz;
        if (!ctx->min_mem_mhz || ctx->last_sample.mem_mhz < ctx->min_mem_mhz)
            ctx->min_mem_mhz = ctx->last_sample.mem_mhz;
        if (ctx->last_sample.temp_c > ctx->max_temp_c)
            ctx->max_temp_c = ctx->last_sample.temp_c;
        ctx->reasons_seen |= ctx->last_sample.reasons;
    }
    return st;
}

#define ROOF_BYTES ((size_t)256 << 20) /* copies of 256 MiB: far past the H200's 60 MiB L2 */
#define WS_BATCH_BYTES ((size_t)64 << 20) /* a same-size copy's batch copies about this much (>= 20 us) */
#define WS_MAX_CALLS 1024

static void cuda_timing_note(mc_backend_ctx *ctx, mc_device_timing_note *out)
{
    if (ctx->roof_gbs == 0) {
        mc_err err = {0};
        if (mc_cuda_copy_bandwidth(ctx, ROOF_BYTES, 1, &ctx->roof_gbs, &err) != MC_OK)
            ctx->roof_gbs = -1; /* no roof rather than a wrong one; the row then says nothing */
    }
    /* a case that moves less than the roof's copy: a copy of its own size, timed as its batches are */
    const size_t ws = (size_t)(out->case_bytes / 2) / 16 * 16; /* bytes copied: half read, half written */
    if (ws > 0 && ws < ROOF_BYTES && ws != ctx->ws_bytes) {
        mc_err err = {0};
        ctx->ws_bytes = ws;
        const size_t calls = WS_BATCH_BYTES / ws;
        if (mc_cuda_copy_bandwidth(ctx, ws, calls < 1 ? 1 : calls > WS_MAX_CALLS ? WS_MAX_CALLS : (int)calls,
                                   &ctx->ws_roof_gbs, &err) != MC_OK)
            ctx->ws_roof_gbs = 0;
    }
    const double ws_roof = ws > 0 && ws < ROOF_BYTES ? ctx->ws_roof_gbs : 0;
    *out = (mc_device_timing_note){.case_bytes = out->case_bytes,
                                   .ws_roof_gbs = ws_roof,
                                   .roof_gbs = ctx->roof_gbs > 0 ? ctx->roof_gbs : 0,
                                   .min_clock_mhz = ctx->min_sm_mhz,
                                   .min_mem_mhz = ctx->min_mem_mhz,
                                   .max_temp_c = ctx->max_temp_c,
                                   .batches = ctx->batches,
                                   .throttled = ctx->throttled_batches,
                                   .reasons = ctx->reasons_seen};
    ctx->batches = ctx->throttled_batches = 0;
    ctx->min_sm_mhz = ctx->min_mem_mhz = ctx->max_temp_c = 0;
    ctx->reasons_seen = 0;
}

/* ---- the device's own ceiling ---- */

#define COPY_REPEATS 7

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

mc_status mc_cuda_copy_bandwidth(mc_backend_ctx *ctx, size_t bytes, int calls, double *gbs, mc_err *err)
{
    CUdeviceptr src = 0, dst = 0;
    double ns[COPY_REPEATS + 1];
    mc_status st = mc_cuda_check(ctx->api->mem_alloc(&src, bytes), "copy bandwidth: cuMemAlloc", err);
    if (!st)
        st = mc_cuda_check(ctx->api->mem_alloc(&dst, bytes), "copy bandwidth: cuMemAlloc", err);
    /* the first copy also pages the buffers in: a warm-up, not a sample */
    for (int i = 0; !st && i <= COPY_REPEATS; i++) {
        float ms = 0;
        st = mc_cuda_check(ctx->api->event_record(ctx->ev_begin, ctx->stream), "cuEventRecord", err);
        for (int c = 0; !st && c < calls; c++)
            st = mc_cuda_check(ctx->api->memcpy_dtod(dst, src, bytes, ctx->stream), "cuMemcpyDtoDAsync", err);
        if (!st)
            st = mc_cuda_check(ctx->api->event_record(ctx->ev_end, ctx->stream), "cuEventRecord", err);
        if (!st)
            st = mc_cuda_check(ctx->api->event_sync(ctx->ev_end), "cuEventSynchronize", err);
        if (!st)
            st = mc_cuda_check(ctx->api->event_elapsed(&ms, ctx->ev_begin, ctx->ev_end), "cuEventElapsedTime", err);
        ns[i] = (double)ms * 1e6 / calls;
    }
    if (!st) {
        qsort(ns + 1, COPY_REPEATS, sizeof ns[0], compare_doubles);
        if (ns[1 + COPY_REPEATS / 2] <= 0)
            st = mc_err_set(err, MC_ERR_BACKEND, "copy bandwidth: the device timer reported no time for a copy");
        else
            *gbs = 2.0 * (double)bytes / ns[1 + COPY_REPEATS / 2]; /* bytes read + written per ns = GB/s */
    }
    if (src)
        ctx->api->mem_free(src);
    if (dst)
        ctx->api->mem_free(dst);
    return st;
}

const mc_backend mc_backend_cuda = {
    .name = "cuda",
    .probe = cuda_probe,
    .init = cuda_init,
    .shutdown = cuda_shutdown,
    .describe = cuda_describe,
    .alloc = cuda_alloc,
    .free = cuda_free,
    .upload = cuda_upload,
    .download = cuda_download,
    .sync = cuda_sync,
    .timer_begin = cuda_timer_begin,
    .timer_end = cuda_timer_end,
    .timer_definition = "cuda-events-batch: cuEventRecord on the worker's stream before and after a batch of "
                        "back-to-back calls, cuEventElapsedTime divided by the calls (launch gaps included)",
    .program_hash = mc_cuda_program_hash,
    .timing_note = cuda_timing_note,
    .has_features = cuda_has_features,
};
