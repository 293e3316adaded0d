/* examples/arena-backend/arena.c: a whole backend from outside the tree: "arena", a device whose
 * buffers live in one mmap'd arena, each followed by an inaccessible guard page (a kernel that runs
 * past its buffer faults at once), with its own bounds checks on every copy, and one variant on it.
 * SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <metallic_check/plugin.h>

#define ARENA_BYTES ((size_t)256 << 20) /* reserved address space: the quick tier's cases fit */
#define ARENA_MAX_BUFFERS 64

typedef struct block {
    char *data;
    size_t bytes;
} block;

typedef struct arena {
    char *base;
    size_t page, used; /* bytes handed out, guard pages included */
    block live[ARENA_MAX_BUFFERS];
    int n_live;
    struct timespec t0;
} arena;

static arena the_arena; /* one device per worker process */

static int arena_init(void **native, char *error, size_t error_len)
{
    arena *a = &the_arena;
    a->page = (size_t)sysconf(_SC_PAGESIZE);
    a->base = mmap(NULL, ARENA_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (a->base == MAP_FAILED) {
        snprintf(error, error_len, "cannot reserve %zu MiB: %s", ARENA_BYTES >> 20, strerror(errno));
        return 1;
    }
    *native = a;
    return 0;
}

static void arena_shutdown(void *native)
{
    arena *a = native;
    munmap(a->base, ARENA_BYTES);
    memset(a, 0, sizeof *a);
}

static void arena_describe(void *native, char *out, size_t out_len)
{
    snprintf(out, out_len, "mmap'd host arena of %zu MiB, guard page after each buffer", ARENA_BYTES >> 20);
}

/* Buffers are handed out in order; the arena empties when the last one is freed (the harness frees
 * every buffer of a case before the next). */
static int arena_alloc(void *native, size_t bytes, void **buffer)
{
    arena *a = native;
    size_t span = (bytes + a->page - 1) / a->page * a->page;
    if (a->n_live == ARENA_MAX_BUFFERS || span + a->page > ARENA_BYTES - a->used)
        return 2;
    char *data = a->base + a->used;
    if (span && mprotect(data, span, PROT_READ | PROT_WRITE) != 0)
        return 3;
    a->live[a->n_live++] = (block){data, bytes};
    a->used += span + a->page; /* the page after stays PROT_NONE: the guard */
    *buffer = data;
    return 0;
}

static void arena_free(void *native, void *buffer)
{
    arena *a = native;
    for (int i = 0; i < a->n_live; i++)
        if (a->live[i].data == buffer) {
            a->live[i] = a->live[--a->n_live];
            break;
        }
    if (a->n_live == 0 && a->used) { /* empty: everything back to inaccessible */
        mprotect(a->base, a->used, PROT_NONE);
        madvise(a->base, a->used, MADV_DONTNEED);
        a->used = 0;
    }
}

static const block *find(const arena *a, const void *buffer)
{
    for (int i = 0; i < a->n_live; i++)
        if (a->live[i].data == buffer)
            return &a->live[i];
    return NULL;
}

/* The arena's own guard handling: a copy outside a live buffer is refused. */
static int in_bounds(const arena *a, const void *buffer, size_t offset, size_t bytes)
{
    const block *b = find(a, buffer);
    return b && offset <= b->bytes && bytes <= b->bytes - offset;
}

static int arena_upload(void *native, void *buffer, size_t offset, const void *src, size_t bytes)
{
    if (!in_bounds(native, buffer, offset, bytes))
        return 4;
    memcpy((char *)buffer + offset, src, bytes);
    return 0;
}

static int arena_download(void *native, const void *buffer, size_t offset, void *dst, size_t bytes)
{
    if (!in_bounds(native, buffer, offset, bytes))
        return 4;
    memcpy(dst, (const char *)buffer + offset, bytes);
    return 0;
}

static int arena_sync(void *native)
{
    return 0; /* kernels run synchronously on the host */
}

static int arena_timer_begin(void *native)
{
    clock_gettime(CLOCK_MONOTONIC, &((arena *)native)->t0);
    return 0;
}

static int arena_timer_end(void *native, double *elapsed_ns)
{
    const arena *a = native;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *elapsed_ns = (double)(t1.tv_sec - a->t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - a->t0.tv_nsec);
    return 0;
}

/* ---- the variant: row softmax, f32 ---- */

static float get(const mc_plugin_tensor *t, int64_t j, int64_t i, int64_t b)
{
    float v;
    memcpy(&v, (const char *)t->buffer + t->offset + j * t->nb[0] + i * t->nb[1] + b * t->nb[2], sizeof v);
    return v;
}

static void put(const mc_plugin_tensor *t, int64_t j, int64_t i, int64_t b, float v)
{
    memcpy((char *)t->buffer + t->offset + j * t->nb[0] + i * t->nb[1] + b * t->nb[2], &v, sizeof v);
}

static int softmax_run(mc_plugin_kernel_ctx *kc, const mc_plugin_args *args)
{
    const mc_plugin_softmax_args *s = &args->u.softmax;
    const int64_t cols = s->x.ne[0];
    for (int64_t b = 0; b < s->y.ne[2]; b++)
        for (int64_t i = 0; i < s->y.ne[1]; i++) {
            int64_t visible = s->causal ? i + s->q_offset + 1 : cols;
            visible = visible < 0 ? 0 : (visible > cols ? cols : visible);
            float max = -INFINITY, sum = 0;
            for (int64_t j = 0; j < visible; j++)
                max = fmaxf(max, s->scale * get(&s->x, j, i, b));
            for (int64_t j = 0; j < visible && max != -INFINITY; j++)
                sum += expf(s->scale * get(&s->x, j, i, b) - max);
            for (int64_t j = 0; j < cols; j++)
                put(&s->y, j, i, b,
                    j < visible && max != -INFINITY ? expf(s->scale * get(&s->x, j, i, b) - max) / sum : 0.0f);
        }
    return 0;
}

static const char *softmax_supports(const mc_plugin_args *args)
{
    const mc_plugin_softmax_args *s = &args->u.softmax;
    if (s->x.dtype != MC_PLUGIN_F32 || s->y.dtype != MC_PLUGIN_F32)
        return "f32 only";
    return s->y.ne[3] == 1 ? NULL : "at most three dims";
}

static const mc_plugin_backend backend = {
    MC_PLUGIN_HEADER(mc_plugin_backend), .name = "arena", .init = arena_init, .shutdown = arena_shutdown,
    .describe = arena_describe, .alloc = arena_alloc, .free = arena_free, .upload = arena_upload,
    .download = arena_download, .sync = arena_sync, .timer_begin = arena_timer_begin, .timer_end = arena_timer_end,
};

static const mc_plugin_variant variant = {
    MC_PLUGIN_HEADER(mc_plugin_variant), .op = MC_PLUGIN_OP_SOFTMAX, .flags = MC_PLUGIN_DETERMINISTIC,
    .backend = "arena", .name = "arena_softmax_f32", .supports = softmax_supports, .run = softmax_run,
};

int mc_plugin_init(const mc_plugin_host *host, mc_plugin_registry *reg)
{
    if (MC_PLUGIN_ABI_MAJOR_OF(host->abi) != MC_PLUGIN_ABI_MAJOR)
        return 1;
    return reg->add_backend(reg, &backend) || reg->add_variant(reg, &variant);
}
