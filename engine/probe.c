/* engine/probe.c: capability probes run in a child, so the parent never initialises a device.
 * SPDX-License-Identifier: MIT */
#include "probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner.h"

static void probe_in_child(const mc_variant *const *variants, int n, mc_probe_report *r)
{
    mc_runner_cfg cfg = {.guard_bytes = 4096, .threads = 1};
    mc_runner *run = NULL;
    mc_err err = {0};
    if (mc_runner_init(&run, &cfg, &err) != MC_OK) { /* (a plugin that no longer loads): no variant runs */
        for (int i = 0; i < n; i++)
            snprintf(r->reason[i], MC_PROBE_TEXT, "%.200s", err.msg);
        return;
    }
    const mc_backend *const *all = mc_backends_all();
    for (int i = 0; all[i] && r->n_backends < MC_PROBE_MAX_BACKENDS; i++) {
        mc_backend_probe *b = &r->backends[r->n_backends++];
        snprintf(b->name, sizeof b->name, "%s", all[i]->name);
        mc_backend_ctx *ctx;
        const mc_backend *be;
        mc_err e = {0};
        b->available = mc_runner_backend(run, all[i]->name, &ctx, &be, &e) == MC_OK;
        if (b->available)
            be->describe(ctx, b->info, sizeof b->info);
        else
            snprintf(b->info, sizeof b->info, "%.200s", e.msg);
    }
    for (int i = 0; i < n; i++) {
        const char *why = mc_runner_probe(run, variants[i]);
        snprintf(r->reason[i], MC_PROBE_TEXT, "%s", why ? why : "");
        mc_backend_ctx *ctx;
        const mc_backend *be;
        mc_err e = {0};
        r->has_required[i] = variants[i]->requires &&
                             mc_runner_backend(run, variants[i]->backend, &ctx, &be, &e) == MC_OK &&
                             be->has_features && be->has_features(ctx, variants[i]->requires);
    }
    mc_runner_free(run);
}

static void add_unbuilt(mc_probe_report *r, const char *name, const char *why)
{
    if (mc_probe_backend(r, name) || r->n_backends >= MC_PROBE_MAX_BACKENDS)
        return;
    mc_backend_probe *b = &r->backends[r->n_backends++];
    snprintf(b->name, sizeof b->name, "%s", name);
    snprintf(b->info, sizeof b->info, "%s", why);
}

mc_status mc_probe_collect(const mc_variant *const *variants, int n, mc_probe_report *out, mc_err *err)
{
    memset(out, 0, sizeof *out);
    out->n_variants = n;
    out->reason = calloc((size_t)n + 1, MC_PROBE_TEXT);
    out->has_required = calloc((size_t)n + 1, sizeof *out->has_required);
    int fds[2];
    if (!out->reason || !out->has_required || pipe(fds))
        return mc_err_set(err, MC_ERR_INTERNAL, "cannot set up the probe");
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        probe_in_child(variants, n, out);
        size_t len = sizeof out->backends + sizeof out->n_backends + (size_t)n * (MC_PROBE_TEXT + sizeof(bool));
        ssize_t ok = write(fds[1], out->backends, sizeof out->backends) +
                     write(fds[1], &out->n_backends, sizeof out->n_backends) +
                     write(fds[1], out->reason, (size_t)n * MC_PROBE_TEXT) +
                     write(fds[1], out->has_required, (size_t)n * sizeof(bool));
        _exit(ok == (ssize_t)len ? 0 : 1);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    size_t got = fread(out->backends, sizeof out->backends, 1, f) + fread(&out->n_backends, sizeof out->n_backends, 1, f) +
                 (n ? fread(out->reason, (size_t)n * MC_PROBE_TEXT, 1, f) : 1) +
                 (n ? fread(out->has_required, (size_t)n * sizeof(bool), 1, f) : 1);
    fclose(f);
    int status = 0;
    waitpid(pid, &status, 0);
    if (got != 4 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return mc_err_set(err, MC_ERR_BACKEND, "the capability probe process died (status %d)", status);
    for (int i = 0; mc_backend_rows[i]; i++)
        if (!mc_backend_rows[i]->backend)
            add_unbuilt(out, mc_backend_rows[i]->name, mc_backend_rows[i]->not_built);
    return MC_OK;
}

void mc_probe_free(mc_probe_report *r)
{
    free(r->reason);
    free(r->has_required);
    r->reason = NULL;
    r->has_required = NULL;
}

const mc_backend_probe *mc_probe_backend(const mc_probe_report *r, const char *name)
{
    for (int i = 0; i < r->n_backends; i++)
        if (strcmp(r->backends[i].name, name) == 0)
            return &r->backends[i];
    return NULL;
}
