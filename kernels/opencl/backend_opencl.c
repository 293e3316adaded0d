/* kernels/opencl/backend_opencl.c: the opencl backend: a device found through the ICD loader,
 * buffers as cl_mem, blocking copies, and a device timer built from profiling events.
 *
 * How it works:
 *   1. probe and init pick one device: MC_OPENCL_DEVICE=<substring> (matched, ignoring case, against
 *      "platform: device") chooses among all devices; otherwise the first GPU, else the first device.
 *   2. init creates a context and one in-order queue with profiling, so kernels run in launch order
 *      and every launch has start and end timestamps.
 *   3. A buffer holds the harness's whole guarded image (guards, NaN gaps, sentinel outputs); upload
 *      and download are blocking copies with byte offsets, so the guard and gap checks work unchanged.
 *   4. Timer: between timer_begin and timer_end every kernel launch (mc_opencl_launch) keeps its
 *      profiling event; timer_end waits for the queue and reports the sum of the kernels' END - START:
 *      device time of the kernels, without the gaps between them. The gaps are the host's cost of
 *      setting arguments and launching: on NVIDIA's OpenCL (H100) a first-START-to-last-END span put a
 *      floor of about 12 us per call under every small kernel, the device idle while the host caught
 *      up. No kernel in between is an error, never a zero.
 * SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/opencl/opencl_int.h"

#define OPENCL_MAX_PLATFORMS 16
#define OPENCL_MAX_DEVICES 32

typedef struct opencl_choice {
    cl_platform_id platform;
    cl_device_id device;
} opencl_choice;

typedef struct opencl_error_name {
    cl_int code;
    const char *name;
} opencl_error_name;

static const opencl_error_name error_names[] = {
    {CL_DEVICE_NOT_FOUND, "CL_DEVICE_NOT_FOUND"},
    {CL_DEVICE_NOT_AVAILABLE, "CL_DEVICE_NOT_AVAILABLE"},
    {CL_COMPILER_NOT_AVAILABLE, "CL_COMPILER_NOT_AVAILABLE"},
    {CL_MEM_OBJECT_ALLOCATION_FAILURE, "CL_MEM_OBJECT_ALLOCATION_FAILURE"},
    {CL_OUT_OF_RESOURCES, "CL_OUT_OF_RESOURCES"},
    {CL_OUT_OF_HOST_MEMORY, "CL_OUT_OF_HOST_MEMORY"},
    {CL_PROFILING_INFO_NOT_AVAILABLE, "CL_PROFILING_INFO_NOT_AVAILABLE"},
    {CL_BUILD_PROGRAM_FAILURE, "CL_BUILD_PROGRAM_FAILURE"},
    {CL_INVALID_VALUE, "CL_INVALID_VALUE"},
    {CL_INVALID_PLATFORM, "CL_INVALID_PLATFORM"},
    {CL_INVALID_DEVICE, "CL_INVALID_DEVICE"},
    {CL_INVALID_CONTEXT, "CL_INVALID_CONTEXT"},
    {CL_INVALID_COMMAND_QUEUE, "CL_INVALID_COMMAND_QUEUE"},
    {CL_INVALID_MEM_OBJECT, "CL_INVALID_MEM_OBJECT"},
    {CL_INVALID_BUILD_OPTIONS, "CL_INVALID_BUILD_OPTIONS"},
    {CL_INVALID_PROGRAM_EXECUTABLE, "CL_INVALID_PROGRAM_EXECUTABLE"},
    {CL_INVALID_KERNEL_NAME, "CL_INVALID_KERNEL_NAME"},
    {CL_INVALID_KERNEL_ARGS, "CL_INVALID_KERNEL_ARGS"},
    {CL_INVALID_ARG_INDEX, "CL_INVALID_ARG_INDEX"},
    {CL_INVALID_ARG_SIZE, "CL_INVALID_ARG_SIZE"},
    {CL_INVALID_WORK_GROUP_SIZE, "CL_INVALID_WORK_GROUP_SIZE"},
    {CL_INVALID_WORK_ITEM_SIZE, "CL_INVALID_WORK_ITEM_SIZE"},
    {CL_INVALID_GLOBAL_WORK_SIZE, "CL_INVALID_GLOBAL_WORK_SIZE"},
    {CL_INVALID_BUFFER_SIZE, "CL_INVALID_BUFFER_SIZE"},
    {CL_INVALID_EVENT, "CL_INVALID_EVENT"},
    {CL_INVALID_OPERATION, "CL_INVALID_OPERATION"},
    {-1001, "CL_PLATFORM_NOT_FOUND_KHR"},
};

const char *mc_opencl_error_name(cl_int code)
{
    for (size_t i = 0; i < sizeof error_names / sizeof error_names[0]; i++)
        if (error_names[i].code == code)
            return error_names[i].name;
    return "unknown error";
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

/* "platform: device" for matching and for reasons. */
static void device_label(cl_platform_id p, cl_device_id d, char *out, size_t len)
{
    char pname[128] = "", dname[128] = "";
    clGetPlatformInfo(p, CL_PLATFORM_NAME, sizeof pname, pname, NULL);
    clGetDeviceInfo(d, CL_DEVICE_NAME, sizeof dname, dname, NULL);
    pname[sizeof pname - 1] = dname[sizeof dname - 1] = '\0';
    snprintf(out, len, "%s: %s", pname, dname);
}

static bool device_is_gpu(cl_device_id d)
{
    cl_device_type type = 0;
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    return (type & CL_DEVICE_TYPE_GPU) != 0;
}

/* Why a device cannot run our kernels, or NULL. */
static const char *device_unusable(cl_device_id d)
{
    cl_bool yes = CL_FALSE;
    clGetDeviceInfo(d, CL_DEVICE_AVAILABLE, sizeof yes, &yes, NULL);
    if (!yes)
        return "the device is not available";
    yes = CL_FALSE;
    clGetDeviceInfo(d, CL_DEVICE_COMPILER_AVAILABLE, sizeof yes, &yes, NULL);
    if (!yes)
        return "the device has no OpenCL C compiler";
    yes = CL_FALSE;
    clGetDeviceInfo(d, CL_DEVICE_ENDIAN_LITTLE, sizeof yes, &yes, NULL);
    if (!yes)
        return "the device is big-endian (the harness's images are little-endian)";
    return NULL;
}

static void reason_no_platform(cl_int rc, char *reason, size_t len)
{
    const char *vendors = getenv("OCL_ICD_VENDORS");
    snprintf(reason, len,
             "no OpenCL platform found (ICD loader: clGetPlatformIDs returned %d %s; OCL_ICD_VENDORS=%s)", rc,
             mc_opencl_error_name(rc), vendors ? vendors : "unset, so /etc/OpenCL/vendors");
}

/* Appends "label" to a "; "-separated list of the devices seen, for a reason. */
static void list_add(char *list, size_t len, const char *label)
{
    size_t used = strlen(list);
    if (used < len)
        snprintf(list + used, len - used, "%s%s", used ? "; " : "", label);
}

/* Picks the device (see the top of the file); on failure writes why. */
static mc_status choose_device(opencl_choice *out, char *reason, size_t len)
{
    cl_platform_id plats[OPENCL_MAX_PLATFORMS];
    cl_uint n_plat = 0;
    cl_int rc = clGetPlatformIDs(OPENCL_MAX_PLATFORMS, plats, &n_plat);
    if (rc != CL_SUCCESS || n_plat == 0) {
        reason_no_platform(rc, reason, len);
        return MC_ERR_UNSUPPORTED;
    }
    const char *want = getenv("MC_OPENCL_DEVICE");
    bool found = false, found_gpu = false;
    char seen[512] = "";
    for (cl_uint p = 0; p < n_plat && p < OPENCL_MAX_PLATFORMS; p++) {
        cl_device_id devs[OPENCL_MAX_DEVICES];
        cl_uint n_dev = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, OPENCL_MAX_DEVICES, devs, &n_dev) != CL_SUCCESS)
            continue;
        for (cl_uint d = 0; d < n_dev && d < OPENCL_MAX_DEVICES; d++) {
            char label[260];
            device_label(plats[p], devs[d], label, sizeof label);
            list_add(seen, sizeof seen, label);
            bool take = want && *want ? !found && contains_ignoring_case(label, want)
                                      : !found_gpu && (!found || device_is_gpu(devs[d]));
            if (take) {
                *out = (opencl_choice){plats[p], devs[d]};
                found = true;
                found_gpu = device_is_gpu(devs[d]);
            }
        }
    }
    if (!found) {
        if (want && *want)
            snprintf(reason, len, "MC_OPENCL_DEVICE='%s' matches no OpenCL device (seen: %s)", want,
                     seen[0] ? seen : "none");
        else
            snprintf(reason, len, "OpenCL platforms found but no device on any of them");
        return MC_ERR_UNSUPPORTED;
    }
    const char *why = device_unusable(out->device);
    if (why) {
        char label[260];
        device_label(out->platform, out->device, label, sizeof label);
        snprintf(reason, len, "OpenCL device %s: %s", label, why);
        return MC_ERR_UNSUPPORTED;
    }
    return MC_OK;
}

static mc_status opencl_probe(char *reason, size_t reason_len)
{
    opencl_choice c;
    char why[512];
    mc_status st = choose_device(&c, why, sizeof why);
    if (reason_len)
        snprintf(reason, reason_len, "%s", st ? why : "");
    return st;
}

/* ---- context ---- */

static void query_string(cl_device_id d, cl_device_info what, char *out, size_t len)
{
    out[0] = '\0';
    clGetDeviceInfo(d, what, len, out, NULL);
    out[len - 1] = '\0';
}

static void query_info(mc_backend_ctx *ctx)
{
    mc_opencl_device_info *i = &ctx->info;
    cl_device_id d = ctx->device;
    clGetPlatformInfo(ctx->platform, CL_PLATFORM_NAME, sizeof i->platform, i->platform, NULL);
    i->platform[sizeof i->platform - 1] = '\0';
    query_string(d, CL_DEVICE_NAME, i->name, sizeof i->name);
    query_string(d, CL_DEVICE_VENDOR, i->vendor, sizeof i->vendor);
    query_string(d, CL_DRIVER_VERSION, i->driver, sizeof i->driver);
    query_string(d, CL_DEVICE_OPENCL_C_VERSION, i->c_version, sizeof i->c_version);
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof i->compute_units, &i->compute_units, NULL);
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof i->global_bytes, &i->global_bytes, NULL);
    clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof i->local_bytes, &i->local_bytes, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof i->max_alloc_bytes, &i->max_alloc_bytes, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof i->max_wg, &i->max_wg, NULL);
    size_t ext_len = 0;
    clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &ext_len);
    char *ext = calloc(ext_len + 1, 1);
    if (ext && clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, ext_len, ext, NULL) == CL_SUCCESS)
        i->fp16 = strstr(ext, "cl_khr_fp16") != NULL;
    free(ext);
    i->gpu = device_is_gpu(d);
    cl_device_fp_config fp = 0;
    clGetDeviceInfo(d, CL_DEVICE_SINGLE_FP_CONFIG, sizeof fp, &fp, NULL);
    i->exact_divide = (fp & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
}

static void opencl_shutdown(mc_backend_ctx *ctx)
{
    if (!ctx)
        return;
    for (int i = 0; i < ctx->n_events; i++)
        clReleaseEvent(ctx->events[i]);
    free(ctx->events);
    for (int i = 0; i < MC_OPENCL_SCRATCH_SLOTS; i++)
        if (ctx->scratch[i])
            clReleaseMemObject(ctx->scratch[i]);
    mc_opencl_cache_free(ctx);
    if (ctx->queue)
        clReleaseCommandQueue(ctx->queue);
    if (ctx->context)
        clReleaseContext(ctx->context);
    free(ctx);
}

static mc_status opencl_init(mc_backend_ctx **out, mc_err *err)
{
    char why[512];
    opencl_choice c;
    mc_status st = choose_device(&c, why, sizeof why);
    if (st)
        return mc_err_set(err, MC_ERR_UNSUPPORTED, "%s", why);
    mc_backend_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return mc_err_set(err, MC_ERR_NOMEM, "opencl backend: out of memory");
    ctx->platform = c.platform;
    ctx->device = c.device;
    cl_int rc;
    ctx->context = clCreateContext(NULL, 1, &ctx->device, NULL, NULL, &rc);
    if (rc != CL_SUCCESS) {
        st = mc_err_set(err, MC_ERR_BACKEND, "clCreateContext failed: %d %s", rc, mc_opencl_error_name(rc));
        goto done;
    }
    /* clCreateCommandQueue is deprecated in 2.0 but is the 1.2 call every driver we target has */
    ctx->queue = clCreateCommandQueue(ctx->context, ctx->device, CL_QUEUE_PROFILING_ENABLE, &rc);
    if (rc != CL_SUCCESS) {
        st = mc_err_set(err, MC_ERR_BACKEND, "clCreateCommandQueue failed: %d %s", rc, mc_opencl_error_name(rc));
        goto done;
    }
    query_info(ctx);
done:
    if (st) {
        opencl_shutdown(ctx);
        return st;
    }
    *out = ctx;
    return MC_OK;
}

static void opencl_describe(mc_backend_ctx *ctx, char *out, size_t out_len)
{
    const mc_opencl_device_info *i = &ctx->info;
    snprintf(out, out_len,
             "%s (%s; platform %s), driver %s, %s, %u compute units, %.1f GiB global, %llu KiB local, "
             "max work-group %zu, cl_khr_fp16 %s",
             i->name, i->vendor, i->platform, i->driver, i->c_version, i->compute_units,
             (double)i->global_bytes / (1024.0 * 1024.0 * 1024.0), (unsigned long long)(i->local_bytes / 1024),
             i->max_wg, i->fp16 ? "yes" : "no");
}

const mc_opencl_device_info *mc_opencl_device(mc_backend_ctx *ctx)
{
    return &ctx->info;
}

/* ---- buffers ---- */

static mc_status opencl_alloc(mc_backend_ctx *ctx, size_t bytes, struct mc_buf **out, mc_err *err)
{
    struct mc_buf *b = calloc(1, sizeof *b);
    if (!b)
        return mc_err_set(err, MC_ERR_NOMEM, "opencl backend: out of memory");
    cl_int rc;
    /* a zero-byte cl_mem is invalid; the harness never asks for one, but stay defined */
    cl_mem m = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, bytes ? bytes : 1, NULL, &rc);
    if (rc != CL_SUCCESS) {
        free(b);
        return mc_err_set(err, rc == CL_MEM_OBJECT_ALLOCATION_FAILURE ? MC_ERR_NOMEM : MC_ERR_BACKEND,
                          "clCreateBuffer of %zu bytes failed: %d %s", bytes, rc, mc_opencl_error_name(rc));
    }
    b->native = m;
    b->bytes = bytes;
    b->owner = ctx;
    *out = b;
    return MC_OK;
}

static void opencl_free(mc_backend_ctx *ctx, struct mc_buf *buf)
{
    if (buf && buf->native)
        clReleaseMemObject((cl_mem)buf->native);
    free(buf);
}

static mc_status check_range(const struct mc_buf *b, size_t offset, size_t bytes, mc_err *err)
{
    if (offset > b->bytes || bytes > b->bytes - offset)
        return mc_err_set(err, MC_ERR_INTERNAL, "opencl backend: copy of %zu bytes at %zu outside a %zu-byte buffer",
                          bytes, offset, b->bytes);
    return MC_OK;
}

static mc_status opencl_upload(mc_backend_ctx *ctx, struct mc_buf *dst, size_t offset, const void *src,
                               size_t bytes, mc_err *err)
{
    mc_status st = check_range(dst, offset, bytes, err);
    if (st || bytes == 0)
        return st;
    cl_int rc = clEnqueueWriteBuffer(ctx->queue, (cl_mem)dst->native, CL_TRUE, offset, bytes, src, 0, NULL, NULL);
    if (rc != CL_SUCCESS)
        return mc_err_set(err, MC_ERR_BACKEND, "clEnqueueWriteBuffer of %zu bytes at %zu failed: %d %s", bytes,
                          offset, rc, mc_opencl_error_name(rc));
    return MC_OK;
}

static mc_status opencl_download(mc_backend_ctx *ctx, const struct mc_buf *src, size_t offset, void *dst,
                                 size_t bytes, mc_err *err)
{
    mc_status st = check_range(src, offset, bytes, err);
    if (st || bytes == 0)
        return st;
    cl_int rc = clEnqueueReadBuffer(ctx->queue, (cl_mem)src->native, CL_TRUE, offset, bytes, dst, 0, NULL, NULL);
    if (rc != CL_SUCCESS)
        return mc_err_set(err, MC_ERR_BACKEND, "clEnqueueReadBuffer of %zu bytes at %zu failed: %d %s", bytes,
                          offset, rc, mc_opencl_error_name(rc));
    return MC_OK;
}

static mc_status opencl_sync(mc_backend_ctx *ctx, mc_err *err)
{
    cl_int rc = clFinish(ctx->queue);
    if (rc != CL_SUCCESS)
        return mc_err_set(err, MC_ERR_BACKEND, "clFinish failed: %d %s (a kernel may have faulted)", rc,
                          mc_opencl_error_name(rc));
    return MC_OK;
}

mc_status mc_opencl_scratch(mc_backend_ctx *ctx, int slot, size_t bytes, cl_mem *out, mc_err *err)
{
    if (slot < 0 || slot >= MC_OPENCL_SCRATCH_SLOTS)
        return mc_err_set(err, MC_ERR_INTERNAL, "opencl scratch slot %d out of range", slot);
    if (ctx->scratch_bytes[slot] < bytes) {
        if (ctx->scratch[slot]) {
            /* the old buffer may still be in use by queued kernels: release waits for them */
            clReleaseMemObject(ctx->scratch[slot]);
            ctx->scratch[slot] = NULL;
            ctx->scratch_bytes[slot] = 0;
        }
        cl_int rc;
        cl_mem m = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, bytes ? bytes : 1, NULL, &rc);
        if (rc != CL_SUCCESS)
            return mc_err_set(err, rc == CL_MEM_OBJECT_ALLOCATION_FAILURE ? MC_ERR_NOMEM : MC_ERR_BACKEND,
                              "scratch clCreateBuffer of %zu bytes failed: %d %s", bytes, rc, mc_opencl_error_name(rc));
        ctx->scratch[slot] = m;
        ctx->scratch_bytes[slot] = bytes;
    }
    *out = ctx->scratch[slot];
    return MC_OK;
}

/* ---- launches and the timer ---- */

static void timer_drop_events(mc_backend_ctx *ctx)
{
    for (int i = 0; i < ctx->n_events; i++)
        clReleaseEvent(ctx->events[i]);
    ctx->n_events = 0;
    ctx->events_lost = false;
}

/* Keeps a launch's event for timer_end. */
static void timer_keep(mc_backend_ctx *ctx, cl_event ev)
{
    if (ctx->n_events == ctx->cap_events) {
        int cap = ctx->cap_events ? 2 * ctx->cap_events : 256;
        cl_event *grown = realloc(ctx->events, (size_t)cap * sizeof *grown);
        if (!grown) {
            clReleaseEvent(ev);
            ctx->events_lost = true;
            return;
        }
        ctx->events = grown;
        ctx->cap_events = cap;
    }
    ctx->events[ctx->n_events++] = ev;
}

mc_status mc_opencl_launch(mc_backend_ctx *ctx, cl_kernel k, cl_uint dims, const size_t *global,
                           const size_t *local, mc_err *err)
{
    cl_event ev = NULL;
    cl_int rc = clEnqueueNDRangeKernel(ctx->queue, k, dims, NULL, global, local, 0, NULL,
                                       ctx->timing ? &ev : NULL);
    if (rc != CL_SUCCESS) {
        char name[64] = "?";
        clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
        name[sizeof name - 1] = '\0';
        return mc_err_set(err, MC_ERR_BACKEND, "clEnqueueNDRangeKernel(%s, global %zu x %zu, local %zu x %zu) failed: %d %s",
                          name, global[0], dims > 1 ? global[1] : 1, local ? local[0] : 0,
                          local && dims > 1 ? local[1] : 0, rc, mc_opencl_error_name(rc));
    }
    if (ev)
        timer_keep(ctx, ev);
    return MC_OK;
}

static mc_status opencl_timer_begin(mc_backend_ctx *ctx, mc_err *err)
{
    timer_drop_events(ctx);
    ctx->timing = true;
    return MC_OK;
}

static mc_status event_time(cl_event ev, cl_profiling_info what, cl_ulong *ns, mc_err *err)
{
    cl_int rc = clGetEventProfilingInfo(ev, what, sizeof *ns, ns, NULL);
    if (rc != CL_SUCCESS)
        return mc_err_set(err, MC_ERR_BACKEND, "clGetEventProfilingInfo failed: %d %s", rc, mc_opencl_error_name(rc));
    return MC_OK;
}

static mc_status opencl_timer_end(mc_backend_ctx *ctx, double *elapsed_ns, mc_err *err)
{
    ctx->timing = false;
    mc_status st = opencl_sync(ctx, err);
    if (!st && ctx->n_events == 0)
        st = mc_err_set(err, MC_ERR_INTERNAL, "opencl timer: no kernel was launched between timer_begin and timer_end");
    if (!st && ctx->events_lost)
        st = mc_err_set(err, MC_ERR_NOMEM, "opencl timer: out of memory keeping the launches' events");
    double total = 0;
    for (int i = 0; !st && i < ctx->n_events; i++) {
        cl_ulong start = 0, end = 0;
        st = event_time(ctx->events[i], CL_PROFILING_COMMAND_START, &start, err);
        if (!st)
            st = event_time(ctx->events[i], CL_PROFILING_COMMAND_END, &end, err);
        if (!st && end < start)
            st = mc_err_set(err, MC_ERR_BACKEND, "opencl timer: a kernel ended (%llu ns) before it began (%llu ns)",
                            (unsigned long long)end, (unsigned long long)start);
        total += (double)(end - start);
    }
    if (!st)
        *elapsed_ns = total;
    timer_drop_events(ctx);
    return st;
}

/* ---- the device's own ceiling ---- */

#define COPY_REPEATS 7

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One timed clEnqueueCopyBuffer of `bytes`, in device nanoseconds. */
static mc_status copy_once(mc_backend_ctx *ctx, cl_mem src, cl_mem dst, size_t bytes, double *ns, mc_err *err)
{
    cl_event ev;
    cl_ulong start = 0, end = 0;
    cl_int rc = clEnqueueCopyBuffer(ctx->queue, src, dst, 0, 0, bytes, 0, NULL, &ev);
    if (rc != CL_SUCCESS)
        return mc_err_set(err, MC_ERR_BACKEND, "clEnqueueCopyBuffer of %zu bytes failed: %d %s", bytes, rc,
                          mc_opencl_error_name(rc));
    mc_status st = clWaitForEvents(1, &ev) == CL_SUCCESS ? MC_OK
                                                         : mc_err_set(err, MC_ERR_BACKEND, "waiting for a copy failed");
    if (!st)
        st = event_time(ev, CL_PROFILING_COMMAND_START, &start, err);
    if (!st)
        st = event_time(ev, CL_PROFILING_COMMAND_END, &end, err);
    clReleaseEvent(ev);
    *ns = (double)(end - start);
    return st;
}

mc_status mc_opencl_copy_bandwidth(mc_backend_ctx *ctx, size_t bytes, double *gbs, mc_err *err)
{
    cl_int rc1, rc2;
    cl_mem src = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, bytes, NULL, &rc1);
    cl_mem dst = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, bytes, NULL, &rc2);
    mc_status st = MC_OK;
    double ns[COPY_REPEATS + 1];
    if (rc1 != CL_SUCCESS || rc2 != CL_SUCCESS) {
        st = mc_err_set(err, MC_ERR_NOMEM, "copy bandwidth: cannot allocate two buffers of %zu bytes", bytes);
        goto done;
    }
    /* the first copy also pages the buffers in: a warm-up, not a sample */
    for (int i = 0; !st && i <= COPY_REPEATS; i++)
        st = copy_once(ctx, src, dst, bytes, &ns[i], err);
    if (st)
        goto done;
    qsort(ns + 1, COPY_REPEATS, sizeof ns[0], compare_doubles);
    if (ns[1 + COPY_REPEATS / 2] <= 0)
        st = mc_err_set(err, MC_ERR_BACKEND, "copy bandwidth: the device timer reported no time for a copy");
    else
        *gbs = 2.0 * (double)bytes / ns[1 + COPY_REPEATS / 2]; /* bytes read + written per ns = GB/s */
done:
    if (src)
        clReleaseMemObject(src);
    if (dst)
        clReleaseMemObject(dst);
    return st;
}

#define ROOF_BYTES ((size_t)256 << 20) /* far past a GPU's L2 */

/* A GPU's rows are held to its own copy bandwidth (engine/perf_table.c); a CPU device's (PoCL) keep
 * the host's roofs, which know the caches. */
static void opencl_timing_note(mc_backend_ctx *ctx, mc_device_timing_note *out)
{
    *out = (mc_device_timing_note){0};
    if (!ctx->info.gpu)
        return;
    if (ctx->roof_gbs == 0) {
        mc_err err = {0};
        if (mc_opencl_copy_bandwidth(ctx, ROOF_BYTES, &ctx->roof_gbs, &err) != MC_OK)
            ctx->roof_gbs = -1;
    }
    out->roof_gbs = ctx->roof_gbs > 0 ? ctx->roof_gbs : 0;
}

const mc_backend mc_backend_opencl = {
    .name = "opencl",
    .probe = opencl_probe,
    .init = opencl_init,
    .shutdown = opencl_shutdown,
    .describe = opencl_describe,
    .alloc = opencl_alloc,
    .free = opencl_free,
    .upload = opencl_upload,
    .download = opencl_download,
    .sync = opencl_sync,
    .timer_begin = opencl_timer_begin,
    .timer_end = opencl_timer_end,
    .timer_definition = "opencl-profiling-sum: the sum of each launch's CL_PROFILING_COMMAND_END - START over a "
                        "batch of calls, divided by the calls (gaps between kernels excluded)",
    .program_hash = mc_opencl_program_hash,
    .timing_note = opencl_timing_note,
};
