/* engine/plugin_load.c: reads plugins' registrations in child processes, checks them against the
 * built-ins and each other, and keeps the stand-in records; binds them again in each kernel child.
 *
 * The life of a plugin:
 *   1. Parent (mc_plugins_load): a child behind the worker walls (isolate.c) dlopens the library,
 *      runs its init, checks each record (plugin_open.c), hashes each run function's machine code
 *      and writes what it found to a pipe. The parent waits at most timeout_s, then kills it: a
 *      crash, a hang or a refusal is an error naming the plugin's path. The parent never dlopens.
 *   2. Parent: names are checked against every built-in variant and backend row and against the
 *      plugins loaded before; a variant's backend must be built in or come from a plugin. Then the
 *      stand-ins join the registry (a new generation).
 *   3. Child that runs kernels (mc_plugins_attach, from the runner): each library is loaded again
 *      and its records bound to the stand-ins by name.
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "isolate.h"
#include "plugin_int.h"
#include "registry.h"

char mc_plugin_paths[MC_PLUGIN_MAX][MC_PLUGIN_PATH_LEN];
int mc_plugin_n_paths;
mc_plugin_vslot mc_plugin_vslots[MC_PLUGIN_MAX_VARIANTS];
int mc_plugin_n_vslots;
mc_plugin_bslot mc_plugin_bslots[MC_PLUGIN_MAX_BACKENDS];
int mc_plugin_n_bslots;
static int generation;
static bool attached;

#define MC_PLUGIN_WIRE_MAX                                                                                        \
    (sizeof(mc_plugin_wire_head) + MC_PLUGIN_MAX_VARIANTS * sizeof(mc_plugin_wire_variant) +                    \
     MC_PLUGIN_MAX_BACKENDS * sizeof(mc_plugin_wire_backend))

/* ---- note 1, the child ---- */

static void copy_name(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* Writes one record to the pipe; any failure ends the child (the parent sees a short answer). */
static void send_record(FILE *out, const void *record, size_t bytes)
{
    if (fwrite(record, bytes, 1, out) != 1)
        _exit(3);
}

static void register_in_child(const char *path, int fd)
{
    static mc_plugin_found found;
    mc_err err = {0};
    mc_plugin_wire_head head;
    memset(&head, 0, sizeof head);
    FILE *out = fdopen(fd, "w");
    if (!out)
        _exit(3);
    if (mc_plugin_open(path, &found, &err) == MC_OK) {
        head.ok = 1;
        head.n_variants = found.n_variants;
        head.n_backends = found.n_backends;
    } else {
        snprintf(head.message, sizeof head.message, "%.500s", err.msg);
    }
    send_record(out, &head, sizeof head);
    for (int i = 0; i < head.n_variants; i++) {
        const mc_plugin_variant *r = &found.variants[i];
        mc_plugin_wire_variant w;
        memset(&w, 0, sizeof w);
        w.op = r->op;
        w.flags = r->flags;
        copy_name(w.name, sizeof w.name, r->name);
        copy_name(w.backend, sizeof w.backend, r->backend);
        copy_name(w.requires, sizeof w.requires, r->requires);
        mc_variant probe = {.code = (const void *)r->run};
        mc_variant_code_hash(&probe, w.hash);
        send_record(out, &w, sizeof w);
    }
    for (int i = 0; i < head.n_backends; i++) {
        mc_plugin_wire_backend w;
        memset(&w, 0, sizeof w);
        copy_name(w.name, sizeof w.name, found.backends[i].name);
        w.has_program_hash = found.backends[i].program_hash != NULL;
        send_record(out, &w, sizeof w);
    }
    _exit(fflush(out) == 0 ? 0 : 3);
}

/* ---- note 1, the parent ---- */

/* Reads the child's pipe to EOF or the deadline; returns the bytes read, -1 past the deadline. */
static ssize_t read_until(int fd, char *buf, size_t cap, double deadline)
{
    size_t got = 0;
    for (;;) {
        double left = deadline - mc_now_s();
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int k = poll(&p, 1, (int)(left * 1000) + 1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            continue;
        ssize_t n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || (got += (size_t)n) == cap)
            return (ssize_t)got;
    }
}

/* Waits for the child until the deadline, then kills its group and reaps it. */
static int reap(pid_t pid, double deadline, bool *killed)
{
    int status = 0;
    *killed = false;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (mc_now_s() > deadline) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            *killed = true;
            break;
        }
        struct timespec nap = {0, 2000000};
        nanosleep(&nap, NULL);
    }
    return status;
}

static mc_status read_registrations(const char *path, double timeout_s, char *buf, size_t *len, mc_err *err)
{
    int fds[2];
    if (pipe(fds))
        return mc_err_set(err, MC_ERR_INTERNAL, "pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return mc_err_set(err, MC_ERR_INTERNAL, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        int null_fd = open("/dev/null", O_RDONLY);
        mc_isolate_enter(parent, null_fd < 0 ? 0 : null_fd, fds[1], STDERR_FILENO, mc_isolate_default_mem_limit_mib(1));
        mc_isolate_before_item(0); /* a crash kills it, whatever handlers the parent had */
        register_in_child(path, MC_ISOLATE_RES_FD);
    }
    setpgid(pid, pid);
    close(fds[1]);
    double deadline = mc_now_s() + timeout_s;
    ssize_t got = read_until(fds[0], buf, MC_PLUGIN_WIRE_MAX, deadline);
    close(fds[0]);
    bool killed;
    int status = reap(pid, got < 0 ? 0 : deadline, &killed);
    if (got < 0 || killed)
        return mc_err_set(err, MC_ERR_CONFIG, "plugin %s: loading it did not finish within %.0f s (its init hangs?): "
                          "killed", path, timeout_s);
    if (WIFSIGNALED(status))
        return mc_err_set(err, MC_ERR_CONFIG, "plugin %s: crashed while loading (signal %d, %s): its init or a "
                          "constructor is broken", path, WTERMSIG(status), strsignal(WTERMSIG(status)));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || (size_t)got < sizeof(mc_plugin_wire_head))
        return mc_err_set(err, MC_ERR_CONFIG, "plugin %s: the process that loads it exited with status %d before "
                          "saying what it registers", path, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    *len = (size_t)got;
    return MC_OK;
}

/* ---- note 2 ---- */

/* Every compiled variant, hidden ones too (the registry; asked after the plugins' own slots). */
static bool builtin_variant(const char *name)
{
    return mc_registry_find(name) != NULL;
}

static const mc_backend_row *builtin_row(const char *name)
{
    for (int i = 0; mc_backend_rows[i]; i++)
        if (strcmp(mc_backend_rows[i]->name, name) == 0)
            return mc_backend_rows[i];
    return NULL;
}

static int plugin_backend_slot(const char *name)
{
    for (int i = 0; i < mc_plugin_n_bslots; i++)
        if (strcmp(mc_plugin_bslots[i].name, name) == 0)
            return i;
    return -1;
}

static const char *plugin_variant_owner(const char *name)
{
    for (int i = 0; i < mc_plugin_n_vslots; i++)
        if (strcmp(mc_plugin_vslots[i].name, name) == 0)
            return mc_plugin_paths[mc_plugin_vslots[i].plugin];
    return NULL;
}

static mc_status add_backends(const char *path, const mc_plugin_wire_backend *ws, int n, mc_err *err)
{
    for (int i = 0; i < n; i++) {
        const mc_plugin_wire_backend *w = &ws[i];
        int other = plugin_backend_slot(w->name);
        if (builtin_row(w->name))
            return mc_err_set(err, MC_ERR_CONFIG, "plugin %s: backend '%s' clashes with the built-in backend of that "
                              "name", path, w->name);
        if (other >= 0)
            return mc_err_set(err, MC_ERR_CONFIG, "plugin %s: backend '%s' clashes with the one plugin %s registers",
                              path, w->name, mc_plugin_paths[mc_plugin_bslots[other].plugin]);
        if (mc_plugin_n_bslots == MC_PLUGIN_MAX_BACKENDS)
            return mc_err_set(err, MC_ERR_CONFIG, "plugin %s: more than %d backends from plugins", path,
                              MC_PLUGIN_MAX_BACKENDS);
        mc_plugin_bslot *s = &mc_plugin_bslots[mc_plugin_n_bslots];
        memset(s, 0, sizeof *s);
        copy_name(s->name, sizeof s->name, w->name);
        s->plugin = mc_plugin_n_paths;
        s->has_program_hash = w->has_program_hash != 0;
        mc_plugin_adapt_backend(s, mc_plugin_n_bslots++);
    }
    return MC_OK;
}

static mc_status add_variants(const char *path, const mc_plugin_wire_variant *ws, int n, mc_err *err)
{
    for (int i = 0; i < n; i++) {
        const mc_plugin_wire_variant *w = &ws[i];
        const char *owner = plugin_variant_owner(w->name);
        if (owner)
            return mc_err_set(err, MC_ERR_CONFIG, "plugin %s: variant '%s' clashes with the one plugin %s registers",
                              path, w->name, owner);
        if (builtin_variant(w->name))
            return mc_err_set(err, MC_ERR_CONFIG, "plugin %s: variant '%s' clashes with the built-in variant of that "
                              "name", path, w->name);
        const mc_backend_row *row = builtin_row(w->backend);
        int slot = plugin_backend_slot(w->backend);
        if ((!row || row->hidden) && slot < 0)
            return mc_err_set(err, MC_ERR_CONFIG, "plugin %s: variant '%s' runs on backend '%s', which is neither built "
                              "in nor registered by a plugin", path, w->name, w->backend);
        if (mc_plugin_n_vslots == MC_PLUGIN_MAX_VARIANTS)
            return mc_err_set(err, MC_ERR_CONFIG, "plugin %s: more than %d variants from plugins", path,
                              MC_PLUGIN_MAX_VARIANTS);
        mc_plugin_vslot *s = &mc_plugin_vslots[mc_plugin_n_vslots++];
        memset(s, 0, sizeof *s);
        copy_name(s->name, sizeof s->name, w->name);
        copy_name(s->backend, sizeof s->backend, w->backend);
        copy_name(s->requires, sizeof s->requires, w->requires);
        copy_name(s->hash, sizeof s->hash, w->hash);
        s->plugin = mc_plugin_n_paths;
        s->backend_slot = slot;
        s->rec.op = w->op;
        s->rec.flags = w->flags;
        mc_plugin_adapt_variant(s);
    }
    return MC_OK;
}

/* One plugin: its registrations read, checked and added (nothing of it is added on error). */
static mc_status load_one(const char *path, double timeout_s, char *buf, mc_err *err)
{
    size_t len = 0;
    mc_status st = read_registrations(path, timeout_s, buf, &len, err);
    if (st)
        return st;
    mc_plugin_wire_head head;
    memcpy(&head, buf, sizeof head);
    head.message[sizeof head.message - 1] = '\0';
    if (!head.ok)
        return mc_err_set(err, MC_ERR_CONFIG, "%s", head.message);
    size_t want = sizeof head + (size_t)head.n_variants * sizeof(mc_plugin_wire_variant) +
                  (size_t)head.n_backends * sizeof(mc_plugin_wire_backend);
    if (head.n_variants < 0 || head.n_variants > MC_PLUGIN_MAX_VARIANTS || head.n_backends < 0 ||
        head.n_backends > MC_PLUGIN_MAX_BACKENDS || len != want)
        return mc_err_set(err, MC_ERR_CONFIG, "plugin %s: the process that loads it sent a malformed answer (%zu bytes)",
                          path, len);
    mc_plugin_wire_variant *vs = (mc_plugin_wire_variant *)(void *)(buf + sizeof head);
    mc_plugin_wire_backend *bs = (mc_plugin_wire_backend *)(void *)(buf + sizeof head +
                                                                     (size_t)head.n_variants * sizeof *vs);
    for (int i = 0; i < head.n_variants; i++) { /* the child's strings are its own: terminate them */
        vs[i].name[sizeof vs[i].name - 1] = vs[i].backend[sizeof vs[i].backend - 1] = '\0';
        vs[i].requires[sizeof vs[i].requires - 1] = vs[i].hash[sizeof vs[i].hash - 1] = '\0';
    }
    for (int i = 0; i < head.n_backends; i++)
        bs[i].name[sizeof bs[i].name - 1] = '\0';
    int n_v = mc_plugin_n_vslots, n_b = mc_plugin_n_bslots;
    st = add_backends(path, bs, head.n_backends, err);
    if (!st)
        st = add_variants(path, vs, head.n_variants, err);
    if (st) {
        mc_plugin_n_vslots = n_v;
        mc_plugin_n_bslots = n_b;
        return st;
    }
    copy_name(mc_plugin_paths[mc_plugin_n_paths++], MC_PLUGIN_PATH_LEN, path);
    return MC_OK;
}

static bool already_loaded(const char *path)
{
    for (int i = 0; i < mc_plugin_n_paths; i++)
        if (strcmp(mc_plugin_paths[i], path) == 0)
            return true;
    return false;
}

mc_status mc_plugins_load(const char *const *paths, int n, double timeout_s, mc_err *err)
{
    char *buf = malloc(MC_PLUGIN_WIRE_MAX);
    if (!buf)
        return mc_err_set(err, MC_ERR_NOMEM, "out of memory");
    int n_paths = mc_plugin_n_paths, n_v = mc_plugin_n_vslots, n_b = mc_plugin_n_bslots;
    mc_status st = MC_OK;
    for (int i = 0; i < n && !st; i++) {
        char real[PATH_MAX];
        if (!realpath(paths[i], real)) {
            st = mc_err_set(err, MC_ERR_CONFIG, "plugin %s: %s", paths[i], strerror(errno));
        } else if (strlen(real) >= MC_PLUGIN_PATH_LEN) {
            st = mc_err_set(err, MC_ERR_CONFIG, "plugin %s: its path is too long", paths[i]);
        } else if (!already_loaded(real)) {
            if (mc_plugin_n_paths == MC_PLUGIN_MAX)
                st = mc_err_set(err, MC_ERR_CONFIG, "plugin %s: more than %d plugins", paths[i], MC_PLUGIN_MAX);
            else
                st = load_one(real, timeout_s, buf, err);
        }
    }
    free(buf);
    if (st) { /* all or nothing */
        mc_plugin_n_paths = n_paths;
        mc_plugin_n_vslots = n_v;
        mc_plugin_n_bslots = n_b;
    }
    generation++;
    return st;
}

/* ---- note 3 ---- */

static void bind_found(int plugin, const mc_plugin_found *f)
{
    for (int i = 0; i < mc_plugin_n_vslots; i++) {
        mc_plugin_vslot *s = &mc_plugin_vslots[i];
        for (int j = 0; s->plugin == plugin && j < f->n_variants; j++)
            if (strcmp(f->variants[j].name, s->name) == 0 && f->variants[j].op == s->rec.op) {
                s->rec = f->variants[j];
                s->bound = true;
            }
    }
    for (int i = 0; i < mc_plugin_n_bslots; i++) {
        mc_plugin_bslot *s = &mc_plugin_bslots[i];
        for (int j = 0; s->plugin == plugin && j < f->n_backends; j++)
            if (strcmp(f->backends[j].name, s->name) == 0) {
                s->rec = f->backends[j];
                s->bound = true;
            }
    }
}

mc_status mc_plugins_attach(mc_err *err)
{
    if (attached || mc_plugin_n_paths == 0)
        return MC_OK;
    mc_plugin_found *f = malloc(sizeof *f);
    if (!f)
        return mc_err_set(err, MC_ERR_NOMEM, "out of memory");
    mc_status st = MC_OK;
    for (int p = 0; p < mc_plugin_n_paths && !st; p++) {
        st = mc_plugin_open(mc_plugin_paths[p], f, err);
        if (!st)
            bind_found(p, f);
    }
    free(f);
    attached = !st;
    return st;
}

/* ---- accessors ---- */

const mc_variant *const *mc_plugin_variants(int *count)
{
    static const mc_variant *list[MC_PLUGIN_MAX_VARIANTS + 1];
    for (int i = 0; i < mc_plugin_n_vslots; i++)
        list[i] = &mc_plugin_vslots[i].v;
    list[mc_plugin_n_vslots] = NULL;
    *count = mc_plugin_n_vslots;
    return list;
}

const mc_backend *const *mc_plugin_backends(int *count)
{
    static const mc_backend *list[MC_PLUGIN_MAX_BACKENDS + 1];
    for (int i = 0; i < mc_plugin_n_bslots; i++)
        list[i] = &mc_plugin_bslots[i].be;
    list[mc_plugin_n_bslots] = NULL;
    *count = mc_plugin_n_bslots;
    return list;
}

int mc_plugin_generation(void)
{
    return generation;
}

int mc_plugin_vslot_index(const mc_variant *v)
{
    uintptr_t at = (uintptr_t)v, first = (uintptr_t)&mc_plugin_vslots[0];
    if (!v || at < first || (at - first) % sizeof mc_plugin_vslots[0] != 0)
        return -1;
    size_t i = (at - first) / sizeof mc_plugin_vslots[0];
    return i < (size_t)mc_plugin_n_vslots ? (int)i : -1;
}

const char *mc_plugin_path_of(const mc_variant *v)
{
    int i = mc_plugin_vslot_index(v);
    return i < 0 ? NULL : mc_plugin_paths[mc_plugin_vslots[i].plugin];
}

const char *mc_plugin_backend_path(const char *name)
{
    int slot = name ? plugin_backend_slot(name) : -1;
    return slot < 0 ? NULL : mc_plugin_paths[mc_plugin_bslots[slot].plugin];
}

void mc_plugins_reset(void)
{
    mc_plugin_n_paths = mc_plugin_n_vslots = mc_plugin_n_bslots = 0;
    attached = false;
    generation++;
}
