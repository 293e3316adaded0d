/* harness/pool.c: the worker protocol.
 *
 * Protocol (one command pipe and one result pipe per worker):
 *   1. The parent sends a range [first, end) of items that belong to one case.
 *   2. The worker sends START(i) before it touches item i, then RESULT(i) with the mc_result and
 *      any extra bytes (a timing record). Every message is header + payload, written in one write.
 *   3. A range of first < 0 tells the worker to exit.
 *   4. EOF on the result pipe means the worker died: the item it had STARTed is recorded as a
 *      crash (with the signal), and the rest of its range goes back to the queue for a new worker.
 *   5. An item running longer than the timeout gets the worker killed (SIGKILL): a timeout result,
 *      and again the rest of the range is re-queued.
 * The parent never runs a kernel or touches a device: backends initialise inside workers.
 * SPDX-License-Identifier: MIT */
#include "pool.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MC_POOL_MAX_JOBS 64
#define MC_EXTRA_MAX (1u << 20) /* a timing record with its samples fits easily */
#define MC_POOL_MAX_FRUITLESS 3 /* workers that die before their first item, in a row, before giving up */

enum { MSG_START = 1, MSG_RESULT = 2 };

typedef struct msg_header {
    int32_t type;
    int32_t item;
    uint32_t extra_len;
} msg_header;

typedef struct range {
    int first, end;
} range;

typedef struct worker {
    pid_t pid;
    int cmd_fd, res_fd;
    range work;      /* what it was given */
    int started;     /* item STARTed and not finished, or -1 */
    int next;        /* first item with no result yet */
    double started_at;
    int alive;
} worker;

typedef struct pool {
    const mc_pool_cfg *cfg;
    const mc_case *cases;
    const mc_variant *const *variants;
    const mc_work_item *items;
    int n_items;
    const mc_pool_callbacks *cb;
    range *queue; /* ranges waiting for a worker; LIFO for re-queued tails, so order stays close */
    int queue_len, queue_cap;
    int next_item; /* first item not yet handed out in a range */
    worker w[MC_POOL_MAX_JOBS];
    int n_workers;
    int outstanding; /* items with no result yet */
    int fruitless;   /* workers in a row that died before starting any item */
    void *extra;
} pool;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* ---- worker side ---- */

static int send_msg(int fd, int type, int item, const mc_result *res, const void *extra, uint32_t extra_len)
{
    size_t len = sizeof(msg_header) + (res ? sizeof *res : 0) + extra_len;
    char *buf = malloc(len);
    if (!buf)
        return -1;
    msg_header h = {type, item, extra_len};
    memcpy(buf, &h, sizeof h);
    if (res)
        memcpy(buf + sizeof h, res, sizeof *res);
    if (extra_len)
        memcpy(buf + sizeof h + sizeof *res, extra, extra_len);
    int rc = write_all(fd, buf, len);
    free(buf);
    return rc;
}

/* A crash must kill the worker so the parent sees the signal, whatever handlers were installed
 * since: a test framework's in the parent, or a device runtime's in this worker (PoCL's LLVM
 * installs crash handlers that return). Reset before every item. */
static void restore_fatal_signals(void)
{
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGPIPE};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        signal(fatal[i], SIG_DFL);
}

static void run_item(pool *p, mc_runner *r, int item, int fd)
{
    restore_fatal_signals();
    const mc_work_item *it = &p->items[item];
    mc_result res;
    memset(&res, 0, sizeof res);
    res.case_index = it->case_index;
    res.variant_index = it->variant_index;
    double t0 = now_s();
    mc_err err = {0};
    if (mc_runner_run(r, &p->cases[it->case_index], p->variants[it->variant_index], &res, &err) != MC_OK) {
        res.kind = MC_RESULT_ERROR;
        snprintf(res.message, sizeof res.message, "harness error: %.220s", err.msg);
    }
    res.elapsed_ms = (now_s() - t0) * 1e3;
    size_t extra_len = 0;
    if (p->cfg->take_extra && res.kind == MC_RESULT_PASS)
        extra_len = p->cfg->take_extra(p->cfg->after_user, p->extra, MC_EXTRA_MAX);
    if (send_msg(fd, MSG_RESULT, item, &res, p->extra, (uint32_t)extra_len))
        _exit(3);
}

static void worker_main(pool *p, int cmd_fd, int res_fd)
{
    mc_runner *r = NULL;
    mc_err err = {0};
    if (mc_runner_init(&r, &p->cfg->runner, &err) != MC_OK)
        _exit(2);
    if (p->cfg->after)
        mc_runner_set_after(r, p->cfg->after, p->cfg->after_user);
    range work;
    while (read_all(cmd_fd, &work, sizeof work) == 0 && work.first >= 0) {
        for (int i = work.first; i < work.end; i++) {
            if (send_msg(res_fd, MSG_START, i, NULL, NULL, 0))
                _exit(3);
            run_item(p, r, i, res_fd);
        }
    }
    mc_runner_free(r);
    _exit(0);
}

/* ---- parent side ---- */

static mc_status spawn(pool *p, worker *w, mc_err *err)
{
    int cmd[2], res[2];
    if (pipe(cmd))
        return mc_err_set(err, MC_ERR_INTERNAL, "pipe: %s", strerror(errno));
    if (pipe(res)) {
        close(cmd[0]);
        close(cmd[1]);
        return mc_err_set(err, MC_ERR_INTERNAL, "pipe: %s", strerror(errno));
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return mc_err_set(err, MC_ERR_INTERNAL, "fork: %s", strerror(errno));
    if (pid == 0) {
        close(cmd[1]);
        close(res[0]);
        for (int i = 0; i < p->n_workers; i++)
            if (p->w[i].alive && &p->w[i] != w) {
                close(p->w[i].cmd_fd);
                close(p->w[i].res_fd);
            }
        worker_main(p, cmd[0], res[1]);
    }
    close(cmd[0]);
    close(res[1]);
    *w = (worker){.pid = pid, .cmd_fd = cmd[1], .res_fd = res[0], .started = -1, .alive = 1, .work = {-1, -1}};
    return MC_OK;
}

static int queue_push(pool *p, range r)
{
    if (p->queue_len == p->queue_cap) {
        int cap = p->queue_cap ? 2 * p->queue_cap : 64;
        range *q = realloc(p->queue, (size_t)cap * sizeof *q);
        if (!q)
            return -1;
        p->queue = q;
        p->queue_cap = cap;
    }
    p->queue[p->queue_len++] = r;
    return 0;
}

/* Next range of work: a re-queued tail first, else the next case's items. */
static int next_range(pool *p, range *out)
{
    if (p->queue_len) {
        *out = p->queue[--p->queue_len];
        return 1;
    }
    if (p->next_item >= p->n_items)
        return 0;
    int first = p->next_item, end = first + 1;
    while (end < p->n_items && p->items[end].case_index == p->items[first].case_index)
        end++;
    p->next_item = end;
    *out = (range){first, end};
    return 1;
}

static void give_work(pool *p, worker *w)
{
    range r;
    if (!next_range(p, &r))
        return;
    if (write_all(w->cmd_fd, &r, sizeof r)) {
        queue_push(p, r); /* the worker died: its EOF will be seen and handled */
        return;
    }
    w->work = r;
    w->next = r.first;
}

static void report(pool *p, int item, const mc_result *res, const void *extra, size_t len)
{
    p->outstanding--;
    p->cb->on_result(p->cb->user, item, res, extra, len);
}

static void report_lost(pool *p, int item, mc_result_kind kind, int wait_status, double timeout_s)
{
    mc_result res;
    memset(&res, 0, sizeof res);
    res.case_index = p->items[item].case_index;
    res.variant_index = p->items[item].variant_index;
    res.kind = kind;
    res.worst_index = -1;
    snprintf(res.ran, sizeof res.ran, "%s", p->variants[res.variant_index]->name);
    if (kind == MC_RESULT_CRASH && WIFSIGNALED(wait_status)) {
        res.signal = WTERMSIG(wait_status);
        snprintf(res.message, sizeof res.message, "worker died on signal %d (%s)", res.signal, strsignal(res.signal));
    } else if (kind == MC_RESULT_CRASH)
        snprintf(res.message, sizeof res.message, "worker exited with status %d in the middle of the case",
                 WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1);
    else
        snprintf(res.message, sizeof res.message, "no result after %.1f s: worker killed", timeout_s);
    report(p, item, &res, NULL, 0);
}

/* The worker is gone (crashed, or killed for a timeout): settle its items and replace it. */
static mc_status retire(pool *p, worker *w, mc_result_kind kind, mc_err *err)
{
    int status = 0;
    if (kind == MC_RESULT_TIMEOUT)
        kill(w->pid, SIGKILL);
    waitpid(w->pid, &status, 0);
    close(w->cmd_fd);
    close(w->res_fd);
    w->alive = 0;
    int resume = w->next;
    if (w->started >= 0) {
        report_lost(p, w->started, kind, status, p->cfg->timeout_s);
        resume = w->started + 1;
        p->fruitless = 0;
    } else if (w->work.first >= 0 && ++p->fruitless >= MC_POOL_MAX_FRUITLESS) {
        /* workers die before they start anything (no memory, a broken device runtime): give the
         * range up as crashes rather than respawning forever */
        for (int i = resume; i < w->work.end; i++)
            report_lost(p, i, MC_RESULT_CRASH, status, p->cfg->timeout_s);
        resume = w->work.end;
    }
    if (w->work.first >= 0 && resume < w->work.end && queue_push(p, (range){resume, w->work.end}))
        return mc_err_set(err, MC_ERR_NOMEM, "out of memory re-queuing work");
    if (p->outstanding == 0)
        return MC_OK;
    mc_status st = spawn(p, w, err);
    if (!st)
        give_work(p, w);
    return st;
}

static mc_status read_message(pool *p, worker *w, mc_err *err)
{
    msg_header h;
    if (read_all(w->res_fd, &h, sizeof h))
        return retire(p, w, MC_RESULT_CRASH, err);
    if (h.type == MSG_START) {
        w->started = h.item;
        w->started_at = now_s();
        return MC_OK;
    }
    mc_result res;
    if (h.extra_len > MC_EXTRA_MAX || read_all(w->res_fd, &res, sizeof res) ||
        (h.extra_len && read_all(w->res_fd, p->extra, h.extra_len)))
        return retire(p, w, MC_RESULT_CRASH, err);
    w->started = -1;
    w->next = h.item + 1;
    p->fruitless = 0;
    report(p, h.item, &res, p->extra, h.extra_len);
    if (w->next >= w->work.end) {
        w->work = (range){-1, -1};
        give_work(p, w);
    }
    return MC_OK;
}

static mc_status check_timeouts(pool *p, mc_err *err)
{
    double t = now_s();
    for (int i = 0; i < p->n_workers; i++) {
        worker *w = &p->w[i];
        if (w->alive && w->started >= 0 && t - w->started_at > p->cfg->timeout_s) {
            mc_status st = retire(p, w, MC_RESULT_TIMEOUT, err);
            if (st)
                return st;
        }
    }
    return MC_OK;
}

static mc_status serve(pool *p, mc_err *err)
{
    struct pollfd fds[MC_POOL_MAX_JOBS];
    double last_tick = 0;
    while (p->outstanding > 0) {
        int map[MC_POOL_MAX_JOBS], n = 0;
        for (int i = 0; i < p->n_workers; i++)
            if (p->w[i].alive) {
                fds[n] = (struct pollfd){.fd = p->w[i].res_fd, .events = POLLIN};
                map[n++] = i;
            }
        if (n == 0)
            return mc_err_set(err, MC_ERR_INTERNAL, "no worker left with %d items outstanding", p->outstanding);
        int k = poll(fds, (nfds_t)n, 100);
        if (k < 0 && errno != EINTR)
            return mc_err_set(err, MC_ERR_INTERNAL, "poll: %s", strerror(errno));
        for (int j = 0; k > 0 && j < n; j++) {
            if (!(fds[j].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            mc_status st = read_message(p, &p->w[map[j]], err);
            if (st)
                return st;
        }
        mc_status st = check_timeouts(p, err);
        if (st)
            return st;
        if (p->cb->on_tick && now_s() - last_tick > 0.2) {
            last_tick = now_s();
            p->cb->on_tick(p->cb->user);
        }
    }
    return MC_OK;
}

static void stop_workers(pool *p)
{
    range stop = {-1, -1};
    for (int i = 0; i < p->n_workers; i++) {
        worker *w = &p->w[i];
        if (!w->alive)
            continue;
        if (write_all(w->cmd_fd, &stop, sizeof stop))
            kill(w->pid, SIGKILL);
        close(w->cmd_fd);
        close(w->res_fd);
        waitpid(w->pid, NULL, 0);
        w->alive = 0;
    }
}

mc_status mc_pool_run(const mc_pool_cfg *cfg, const mc_case *cases, const mc_variant *const *variants,
                      const mc_work_item *items, int n_items, const mc_pool_callbacks *cb, mc_err *err)
{
    pool p = {.cfg = cfg, .cases = cases, .variants = variants, .items = items, .n_items = n_items, .cb = cb,
              .outstanding = n_items};
    if (n_items == 0)
        return MC_OK;
    p.extra = malloc(MC_EXTRA_MAX);
    if (!p.extra)
        return mc_err_set(err, MC_ERR_NOMEM, "out of memory");
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
    int jobs = cfg->jobs < 1 ? 1 : (cfg->jobs > MC_POOL_MAX_JOBS ? MC_POOL_MAX_JOBS : cfg->jobs);
    mc_status st = MC_OK;
    for (int i = 0; i < jobs && !st; i++) {
        st = spawn(&p, &p.w[i], err);
        if (!st) {
            p.n_workers = i + 1;
            give_work(&p, &p.w[i]);
        }
    }
    if (!st)
        st = serve(&p, err);
    stop_workers(&p);
    signal(SIGPIPE, old_pipe);
    free(p.queue);
    free(p.extra);
    return st;
}
