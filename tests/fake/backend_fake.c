/* tests/fake/backend_fake.c: a fake backend row ("fake": host memory, through the cpu backend's own
 * functions) with two variants of the fake op, built only with -DMC_FAKE_SEAMS=ON, to show that a
 * backend is its folder, its row and one MC_BACKENDS entry.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "core/backend.h"
#include "kernels/cpu/cpu_access.h"

extern const mc_backend mc_backend_cpu;

static mc_status fake_probe(char *reason, size_t reason_len)
{
    return mc_backend_cpu.probe(reason, reason_len);
}

static mc_status fake_init(mc_backend_ctx **out, mc_err *err)
{
    return mc_backend_cpu.init(out, err);
}

static void fake_shutdown(mc_backend_ctx *ctx)
{
    mc_backend_cpu.shutdown(ctx);
}

static void fake_describe(mc_backend_ctx *ctx, char *out, size_t out_len)
{
    snprintf(out, out_len, "fake backend of the seam test (host memory)");
}

static mc_status fake_alloc(mc_backend_ctx *ctx, size_t bytes, struct mc_buf **out, mc_err *err)
{
    return mc_backend_cpu.alloc(ctx, bytes, out, err);
}

static void fake_free(mc_backend_ctx *ctx, struct mc_buf *buf)
{
    mc_backend_cpu.free(ctx, buf);
}

static mc_status fake_upload(mc_backend_ctx *ctx, struct mc_buf *dst, size_t offset, const void *src, size_t bytes,
                             mc_err *err)
{
    return mc_backend_cpu.upload(ctx, dst, offset, src, bytes, err);
}

static mc_status fake_download(mc_backend_ctx *ctx, const struct mc_buf *src, size_t offset, void *dst,
                               size_t bytes, mc_err *err)
{
    return mc_backend_cpu.download(ctx, src, offset, dst, bytes, err);
}

static mc_status fake_sync(mc_backend_ctx *ctx, mc_err *err)
{
    return mc_backend_cpu.sync(ctx, err);
}

static mc_status fake_timer_begin(mc_backend_ctx *ctx, mc_err *err)
{
    return mc_backend_cpu.timer_begin(ctx, err);
}

static mc_status fake_timer_end(mc_backend_ctx *ctx, double *elapsed_ns, mc_err *err)
{
    return mc_backend_cpu.timer_end(ctx, elapsed_ns, err);
}

static const mc_backend mc_backend_fake = {
    .name = "fake",
    .probe = fake_probe,
    .init = fake_init,
    .shutdown = fake_shutdown,
    .describe = fake_describe,
    .alloc = fake_alloc,
    .free = fake_free,
    .upload = fake_upload,
    .download = fake_download,
    .sync = fake_sync,
    .timer_begin = fake_timer_begin,
    .timer_end = fake_timer_end,
};

static mc_status fake_double_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_tensor *x = &args->u.softmax.x, *y = &args->u.softmax.y;
    for (int64_t i = 0; i < x->ne[0]; i++)
        mc_cpu_set(y, i, 0, 0, 0, 2.0f * mc_cpu_get(x, i, 0, 0, 0));
    return MC_OK;
}

static const mc_variant fake_double = {
    .op = MC_OP_FAKE,
    .backend = "fake",
    .name = "fake_double",
    .run = fake_double_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)fake_double_run,
};

/* A second variant, so that the report has two to compare across the op's sweep axis. */
static mc_status fake_add_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_tensor *x = &args->u.softmax.x, *y = &args->u.softmax.y;
    for (int64_t i = 0; i < x->ne[0]; i++)
        mc_cpu_set(y, i, 0, 0, 0, mc_cpu_get(x, i, 0, 0, 0) + mc_cpu_get(x, i, 0, 0, 0));
    return MC_OK;
}

static const mc_variant fake_add = {
    .op = MC_OP_FAKE,
    .backend = "fake",
    .name = "fake_add",
    .run = fake_add_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)fake_add_run,
};

static const mc_variant *const fake_variants[] = {&fake_double, &fake_add, NULL};

/* The fake backend's row (core/backend.h). */
const mc_backend_row mc_backend_row_fake = {
    .name = "fake", .backend = &mc_backend_fake, .variants = fake_variants,
};
