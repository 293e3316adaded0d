/* engine/pool.c: the worker protocol: work out, results and output back, every wait bounded.
 *
 * Protocol (per worker: a command pipe, a result pipe, and one output pipe that is its stdout and
 * its stderr):
 *   1. A worker holds the items of one case. The parent sends it one item at a time, [i, i+1),
 *      and the next only after RESULT(i): whatever the worker printed before RESULT(i) is in the
 *      output pipe when the parent reads RESULT(i), so the output read by then is item i's.
 *   2. The worker sends START(i) before it touches item i, then RESULT(i) with the mc_result and
 *      any extra bytes (a timing record). A range of first < 0 tells the worker to exit.
 *   3. The parent never blocks on a worker: pipes are read as they are ready, into a buffer, and
 *      a message that is malformed or not the one expected (a kernel wrote to the pipe) ends the
 *      worker at once: its item is a crash.
 *   4. A worker is gone when its process exits (seen with WNOWAIT, so its pid still names its
 *      process group), when its result pipe reaches EOF, when its item runs past the timeout, or
 *      when an item sent is not STARTed within the timeout (a new worker takes that one over).
 *      EOF while the process lives (a kernel closed its descriptors) gives it until the item's
 *      timeout to exit. Past the timeout its whole process group is killed (SIGKILL) and it gets
 *      MC_POOL_KILL_GRACE_S more to be reaped; one that will not even die then is given up on.
 *   5. A gone worker's process group is killed (what a kernel forked dies with it) before the
 *      worker is reaped; the item it STARTed becomes a crash or a timeout, with its output tail,
 *      and the rest of its case goes back to the queue for a new worker.
 *   6. At the end, every worker is told to exit, given MC_POOL_KILL_GRACE_S, and its process
 *      group killed either way: no process of a run outlives it.
 * Each worker lives behind the walls of isolate.c (its own process group, no descriptor but its
 * pipes, resource limits). The parent never runs a kernel or touches a device: backends initialise
 * inside workers.
 * SPDX-License-Identifier: MIT */
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "isolate.h"
#include "core/clock.h"

#define MC_POOL_MAX_JOBS 64
#define MC_EXTRA_MAX (1u << 20) /* a timing record with its samples fits easily */
#define MC_POOL_MAX_FRUITLESS 3 /* workers that die before their first item, in a row, before giving up */
#define MC_POOL_KILL_GRACE_S 5.0 /* after SIGKILL (or the stop command), how long until we stop waiting */
#define MC_POOL_READ_CHUNK 65536 /* output bytes read per worker per poll round: a flood cannot starve the rest */

enum { MSG_START = 1, MSG_RESULT = 2 };

typedef struct msg_header {
    int32_t type;
    int32_t item;
    uint32_t extra_len;
} msg_header;

#define MC_MSG_MAX (sizeof(msg_header) + sizeof(mc_result) + MC_EXTRA_MAX)

typedef struct range {
    int first, end;
} range;

/* The last bytes a worker printed: kept in twice the tail, shifted down when full. */
typedef struct out_tail {
    char buf[2 * MC_POOL_OUTPUT_TAIL];
    size_t len;
    bool cut; /* earlier bytes were dropped */
} out_tail;

typedef struct worker {
    pid_t pid;               /* also its process group's id */
    bool alive;              /* a process not yet reaped */
    int cmd_fd, res_fd, out_fd; /* -1 once closed */
    range work;              /* the items of the case it holds */
    int next;                /* first item of work with no result yet */
    int sent;                /* item sent and not answered, or -1 */
    double sent_at;
    int started;             /* item STARTed and not finished, or -1 */
    double started_at;
    bool gone;               /* no more messages: settle it once reaped */
    bool killed;             /* its group got SIGKILL */
    double deadline;         /* gone: kill it by then (or, killed, give up on it) */
    mc_result_kind lost_kind; /* what its started item becomes */
    char why[160];           /* how it was lost, when its wait status does not say it all */
    char *in;                /* result pipe bytes not parsed yet */
    size_t in_len;
    out_tail out;
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
    long mem_limit_mib;
    double cpu_limit_s;
    void *extra;     /* worker side: the extra bytes of one result */
} pool;

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

static void run_item(pool *p, mc_runner *r, int item, int fd)
{
    mc_isolate_before_item(p->cpu_limit_s);
    const mc_work_item *it = &p->items[item];
    mc_result res;
    memset(&res, 0, sizeof res);
    res.case_index = it->case_index;
    res.variant_index = it->variant_index;
    double t0 = mc_now_s();
    mc_err err = {0};
    if (mc_runner_run(r, &p->cases[it->case_index], p->variants[it->variant_index], &res, &err) != MC_OK) {
        res.kind = MC_RESULT_ERROR;
        snprintf(res.message, sizeof res.message, "harness error: %.220s", err.msg);
    }
    res.elapsed_ms = (mc_now_s() - t0) * 1e3;
    long pid = 0;
    int left = mc_isolate_kill_leftovers(&pid);
    if (left && res.kind == MC_RESULT_PASS) {
        res.kind = MC_RESULT_ERROR;
        snprintf(res.message, sizeof res.message, "the kernel left %d process%s running (pid %ld): killed", left,
                 left == 1 ? "" : "es", pid);
    }
    size_t extra_len = 0;
    if (p->cfg->take_extra && res.kind == MC_RESULT_PASS)
        extra_len = p->cfg->take_extra(p->cfg->after_user, p->extra, MC_EXTRA_MAX);
    fflush(NULL); /* the item's output goes before its result */
    if (send_msg(fd, MSG_RESULT, item, &res, p->extra, (uint32_t)extra_len))
        _exit(3);
}

static void worker_main(pool *p)
{
    mc_runner *r = NULL;
    mc_err err = {0};
    if (mc_runner_init(&r, &p->cfg->runner, &err) != MC_OK) {
        fprintf(stderr, "worker: cannot start: %s\n", err.msg); /* into the output of the cases it loses */
        _exit(2);
    }
    if (p->cfg->after)
        mc_runner_set_after(r, p->cfg->after, p->cfg->after_user);
    range work;
    while (read_all(MC_ISOLATE_CMD_FD, &work, sizeof work) == 0 && work.first >= 0) {
        for (int i = work.first; i < work.end; i++) {
            if (send_msg(MC_ISOLATE_RES_FD, MSG_START, i, NULL, NULL, 0))
                _exit(3);
            run_item(p, r, i, MC_ISOLATE_RES_FD);
        }
    }
    mc_runner_free(r);
    _exit(0);
}

/* ---- parent side ---- */

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void tail_add(out_tail *t, const char *p, size_t n)
{
    if (n >= MC_POOL_OUTPUT_TAIL) {
        p += n - (MC_POOL_OUTPUT_TAIL - 1);
        n = MC_POOL_OUTPUT_TAIL - 1;
        t->cut = true;
        t->len = 0;
    }
    if (t->len + n > sizeof t->buf) {
        size_t keep = MC_POOL_OUTPUT_TAIL - 1 - n;
        memmove(t->buf, t->buf + t->len - keep, keep);
        t->len = keep;
        t->cut = true;
    }
    memcpy(t->buf + t->len, p, n);
    t->len += n;
}

/* The tail as text: its last bytes, NULs shown as '?', "[...]" first when bytes were dropped. */
static void tail_take(out_tail *t, char out[MC_POOL_OUTPUT_TAIL])
{
    static const char cut_mark[] = "[...]";
    size_t room = MC_POOL_OUTPUT_TAIL - 1, o = 0;
    if (t->cut || t->len > room) {
        memcpy(out, cut_mark, sizeof cut_mark - 1);
        o = sizeof cut_mark - 1;
    }
    size_t n = t->len < room - o ? t->len : room - o;
    for (size_t i = 0; i < n; i++) {
        char c = t->buf[t->len - n + i];
        out[o++] = c ? c : '?';
    }
    out[o] = '\0';
    t->len = 0;
    t->cut = false;
}

/* Reads what the worker printed, up to one chunk (all of it when draining a gone worker). */
static void read_output(worker *w, bool all)
{
    char buf[4096];
    size_t got = 0;
    while (w->out_fd >= 0 && (all || got < MC_POOL_READ_CHUNK)) {
        ssize_t k = read(w->out_fd, buf, sizeof buf);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && errno == EAGAIN)
            return;
        if (k <= 0) {
            close_fd(&w->out_fd);
            return;
        }
        tail_add(&w->out, buf, (size_t)k);
        got += (size_t)k;
        if (all && got > (64u << 20))
            return; /* something still floods it: enough */
    }
}

static mc_status spawn(pool *p, worker *w, mc_err *err)
{
    int cmd[2], res[2], out[2];
    if (pipe(cmd))
        return mc_err_set(err, MC_ERR_INTERNAL, "pipe: %s", strerror(errno));
    if (pipe(res)) {
        close(cmd[0]);
        close(cmd[1]);
        return mc_err_set(err, MC_ERR_INTERNAL, "pipe: %s", strerror(errno));
    }
    if (pipe(out)) {
        close(cmd[0]);
        close(cmd[1]);
        close(res[0]);
        close(res[1]);
        return mc_err_set(err, MC_ERR_INTERNAL, "pipe: %s", strerror(errno));
    }
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        for (int i = 0; i < 2; i++) {
            close(cmd[i]);
            close(res[i]);
            close(out[i]);
        }
        return mc_err_set(err, MC_ERR_INTERNAL, "fork: %s", strerror(e));
    }
    if (pid == 0) {
        mc_isolate_enter(parent, cmd[0], res[1], out[1], p->mem_limit_mib);
        worker_main(p);
    }
    setpgid(pid, pid); /* as the child does: whichever runs first, the group exists before a kill */
    close(cmd[0]);
    close(res[1]);
    close(out[1]);
    fcntl(res[0], F_SETFL, O_NONBLOCK);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    char *in = w->in;
    *w = (worker){.pid = pid, .alive = true, .cmd_fd = cmd[1], .res_fd = res[0], .out_fd = out[0],
                  .work = {-1, -1}, .next = -1, .sent = -1, .started = -1, .in = in};
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

/* Gives up on a worker: no more messages; its group is killed now when kill_now. */
static void mark_gone(pool *p, worker *w, mc_result_kind kind, bool kill_now, const char *why)
{
    if (w->gone)
        return;
    w->gone = true;
    w->lost_kind = kind;
    snprintf(w->why, sizeof w->why, "%s", why ? why : "");
    close_fd(&w->cmd_fd);
    close_fd(&w->res_fd);
    double t = mc_now_s();
    if (kill_now) {
        kill(-w->pid, SIGKILL);
        w->killed = true;
        w->deadline = t + MC_POOL_KILL_GRACE_S;
    } else {
        w->deadline = (w->started >= 0 ? w->started_at : t) + p->cfg->timeout_s;
    }
}

/* Sends the worker its next item, taking a new case when its own is done. */
static void give_work(pool *p, worker *w)
{
    if (w->next < 0 || w->next >= w->work.end) {
        range r;
        if (!next_range(p, &r)) {
            w->work = (range){-1, -1};
            w->next = -1;
            return;
        }
        w->work = r;
        w->next = r.first;
    }
    range one = {w->next, w->next + 1};
    w->sent = w->next;
    w->sent_at = mc_now_s();
    if (write_all(w->cmd_fd, &one, sizeof one))
        mark_gone(p, w, MC_RESULT_CRASH, false, NULL); /* it died: reaping tells how */
}

static void report(pool *p, int item, const mc_result *res, const char *output, const void *extra, size_t len)
{
    p->outstanding--;
    p->cb->on_result(p->cb->user, item, res, output, extra, len);
}

static void report_lost(pool *p, worker *w, int item, int wait_status, const struct rusage *ru, const char *output)
{
    mc_result res;
    memset(&res, 0, sizeof res);
    res.case_index = p->items[item].case_index;
    res.variant_index = p->items[item].variant_index;
    res.kind = w->lost_kind;
    res.worst_index = -1;
    snprintf(res.ran, sizeof res.ran, "%s", p->variants[res.variant_index]->name);
    long rss_mib = ru ? ru->ru_maxrss / 1024 : 0;
    if (w->why[0])
        snprintf(res.message, sizeof res.message, "%s", w->why);
    else if (w->lost_kind == MC_RESULT_TIMEOUT)
        snprintf(res.message, sizeof res.message, "no result after %.1f s: worker killed", p->cfg->timeout_s);
    else if (WIFSIGNALED(wait_status)) {
        res.signal = WTERMSIG(wait_status);
        int n = snprintf(res.message, sizeof res.message, "worker died on signal %d (%s); peak RSS %ld MiB",
                         res.signal, strsignal(res.signal), rss_mib);
        if (p->mem_limit_mib > 0 && n > 0 && (size_t)n < sizeof res.message)
            snprintf(res.message + n, sizeof res.message - (size_t)n, " (address-space limit: %ld MiB more than at start)",
                     p->mem_limit_mib);
    } else if (strstr(output, "Sanitizer"))
        snprintf(res.message, sizeof res.message, "a sanitizer stopped the worker (exit status %d): its report is "
                 "the case's output", WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1);
    else
        snprintf(res.message, sizeof res.message, "worker exited with status %d in the middle of the case",
                 WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1);
    report(p, item, &res, output, NULL, 0);
}

/* Has the worker's process ended? Leaves it unreaped, so its pid still names its group. */
static bool has_exited(const worker *w)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    return waitid(P_PID, (id_t)w->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == w->pid;
}

/* A gone worker: its group killed, reaped (when it can be), its items settled, and a new worker
 * started in its place while work remains. */
static mc_status settle(pool *p, worker *w, bool exited, mc_err *err)
{
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    kill(-w->pid, SIGKILL); /* whatever it forked dies with it */
    if (exited)
        wait4(w->pid, &status, 0, &ru);
    else
        snprintf(w->why, sizeof w->why, "worker did not die of SIGKILL within %.0f s: given up on (pid %ld)",
                 MC_POOL_KILL_GRACE_S, (long)w->pid);
    w->alive = false;
    read_output(w, true);
    close_fd(&w->out_fd);
    char output[MC_POOL_OUTPUT_TAIL];
    tail_take(&w->out, output);
    int resume = w->next;
    if (w->started >= 0) {
        report_lost(p, w, w->started, status, exited ? &ru : NULL, output);
        resume = w->started + 1;
        p->fruitless = 0;
    } else if (w->work.first >= 0 && ++p->fruitless >= MC_POOL_MAX_FRUITLESS) {
        /* workers die before they start anything (no memory, a broken device runtime): give the
         * range up as crashes rather than respawning forever */
        for (int i = resume; i < w->work.end; i++)
            report_lost(p, w, i, status, exited ? &ru : NULL, output);
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

/* A RESULT that arrived whole: its fields cannot be trusted blindly (the worker's memory may be
 * what a kernel scribbled on), so the ones the parent knows are set again. */
static void take_result(pool *p, worker *w, int item, mc_result *res, const void *extra, size_t extra_len)
{
    res->case_index = p->items[item].case_index;
    res->variant_index = p->items[item].variant_index;
    if ((unsigned)res->kind >= MC_RESULT_COUNT)
        res->kind = MC_RESULT_ERROR;
    res->ran[sizeof res->ran - 1] = '\0';
    res->code_hash[sizeof res->code_hash - 1] = '\0';
    res->message[sizeof res->message - 1] = '\0';
    read_output(w, true);
    char output[MC_POOL_OUTPUT_TAIL];
    tail_take(&w->out, output);
    w->started = -1;
    w->sent = -1;
    w->next = item + 1;
    p->fruitless = 0;
    report(p, item, res, output, extra, extra_len);
}

/* Parses every whole message in the worker's buffer. */
static void parse_messages(pool *p, worker *w)
{
    size_t used = 0;
    while (!w->gone && w->in_len - used >= sizeof(msg_header)) {
        msg_header h;
        memcpy(&h, w->in + used, sizeof h);
        size_t need = sizeof h;
        bool ok;
        if (h.type == MSG_START) {
            ok = h.item == w->sent && w->started < 0 && h.extra_len == 0;
        } else {
            ok = h.type == MSG_RESULT && h.item == w->started && h.extra_len <= MC_EXTRA_MAX;
            need += sizeof(mc_result) + h.extra_len;
        }
        if (!ok) {
            mark_gone(p, w, MC_RESULT_CRASH, true,
                      "the worker's result pipe carried bytes that are no message (did the kernel write to "
                      "descriptors it does not own?): worker killed");
            return;
        }
        if (w->in_len - used < need)
            break;
        if (h.type == MSG_START) {
            w->started = h.item;
            w->started_at = mc_now_s();
        } else {
            mc_result res;
            memcpy(&res, w->in + used + sizeof h, sizeof res);
            take_result(p, w, h.item, &res, w->in + used + sizeof h + sizeof res, h.extra_len);
        }
        used += need;
    }
    memmove(w->in, w->in + used, w->in_len - used);
    w->in_len -= used;
    if (!w->gone && w->sent < 0 && w->started < 0)
        give_work(p, w);
}

static void read_results(pool *p, worker *w)
{
    while (!w->gone && w->res_fd >= 0) {
        ssize_t k = read(w->res_fd, w->in + w->in_len, MC_MSG_MAX - w->in_len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && errno == EAGAIN)
            return;
        if (k <= 0) {
            mark_gone(p, w, MC_RESULT_CRASH, false, NULL);
            return;
        }
        w->in_len += (size_t)k;
        parse_messages(p, w);
    }
}

/* Timeouts, deaths and the reaping of gone workers (rule 4 of the file comment). */
static mc_status check_workers(pool *p, mc_err *err)
{
    for (int i = 0; i < p->n_workers; i++) {
        worker *w = &p->w[i];
        if (!w->alive)
            continue;
        double t = mc_now_s();
        if (!w->gone && w->started >= 0 && t - w->started_at > p->cfg->timeout_s)
            mark_gone(p, w, MC_RESULT_TIMEOUT, true, NULL);
        /* sent an item and never STARTed it (stuck between cases, say on a lock a kernel's stray
         * thread holds): a new worker takes the item over */
        if (!w->gone && w->sent >= 0 && w->started < 0 && t - w->sent_at > p->cfg->timeout_s)
            mark_gone(p, w, MC_RESULT_TIMEOUT, true, NULL);
        if (!w->gone && has_exited(w)) {
            read_results(p, w); /* what it sent before it died counts */
            mark_gone(p, w, MC_RESULT_CRASH, false, NULL);
        }
        if (!w->gone)
            continue;
        bool exited = has_exited(w);
        if (!exited && t <= w->deadline)
            continue;
        if (!exited && !w->killed) {
            kill(-w->pid, SIGKILL);
            w->killed = true;
            w->deadline = t + MC_POOL_KILL_GRACE_S;
            w->lost_kind = MC_RESULT_TIMEOUT;
            snprintf(w->why, sizeof w->why,
                     "the worker closed its result pipe and kept running: killed after %.1f s", p->cfg->timeout_s);
            continue;
        }
        mc_status st = settle(p, w, exited, err);
        if (st)
            return st;
    }
    return MC_OK;
}

static mc_status serve(pool *p, mc_err *err)
{
    struct pollfd fds[2 * MC_POOL_MAX_JOBS];
    int map[2 * MC_POOL_MAX_JOBS];
    double last_tick = 0;
    while (p->outstanding > 0) {
        int n = 0, alive = 0, reaping = 0;
        for (int i = 0; i < p->n_workers; i++) {
            worker *w = &p->w[i];
            alive += w->alive;
            reaping += w->alive && w->gone;
            if (w->res_fd >= 0) {
                fds[n] = (struct pollfd){.fd = w->res_fd, .events = POLLIN};
                map[n++] = i;
            }
            if (w->out_fd >= 0) {
                fds[n] = (struct pollfd){.fd = w->out_fd, .events = POLLIN};
                map[n++] = i;
            }
        }
        if (alive == 0)
            return mc_err_set(err, MC_ERR_INTERNAL, "no worker left with %d items outstanding", p->outstanding);
        int k = poll(fds, (nfds_t)n, reaping ? 10 : 100);
        if (k < 0 && errno != EINTR)
            return mc_err_set(err, MC_ERR_INTERNAL, "poll: %s", strerror(errno));
        for (int j = 0; k > 0 && j < n; j++) {
            worker *w = &p->w[map[j]];
            if (!(fds[j].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (fds[j].fd == w->out_fd)
                read_output(w, false);
            else if (fds[j].fd == w->res_fd)
                read_results(p, w);
        }
        mc_status st = check_workers(p, err);
        if (st)
            return st;
        if (p->cb->on_tick && mc_now_s() - last_tick > 0.2) {
            last_tick = mc_now_s();
            p->cb->on_tick(p->cb->user);
        }
    }
    return MC_OK;
}

/* Rule 6: told to exit, given a grace, then the group killed and the worker reaped either way. */
static void stop_workers(pool *p)
{
    range stop = {-1, -1};
    for (int i = 0; i < p->n_workers; i++) {
        worker *w = &p->w[i];
        if (w->alive && !w->gone && write_all(w->cmd_fd, &stop, sizeof stop))
            kill(-w->pid, SIGKILL);
        close_fd(&w->cmd_fd);
        close_fd(&w->res_fd);
        close_fd(&w->out_fd);
    }
    double until = mc_now_s() + MC_POOL_KILL_GRACE_S;
    for (int i = 0; i < p->n_workers; i++) {
        worker *w = &p->w[i];
        if (!w->alive)
            continue;
        while (!has_exited(w) && mc_now_s() < until) {
            struct timespec nap = {0, 2000000};
            nanosleep(&nap, NULL);
        }
        kill(-w->pid, SIGKILL);
        for (double give_up = mc_now_s() + MC_POOL_KILL_GRACE_S; !has_exited(w) && mc_now_s() < give_up;) {
            struct timespec nap = {0, 2000000};
            nanosleep(&nap, NULL);
        }
        if (has_exited(w))
            waitpid(w->pid, NULL, 0);
        w->alive = false;
    }
}

mc_status mc_pool_run(const mc_pool_cfg *cfg, const mc_case *cases, const mc_variant *const *variants,
                      const mc_work_item *items, int n_items, const mc_pool_callbacks *cb, mc_err *err)
{
    pool p = {.cfg = cfg, .cases = cases, .variants = variants, .items = items, .n_items = n_items, .cb = cb,
              .outstanding = n_items};
    if (n_items == 0)
        return MC_OK;
    int jobs = cfg->jobs < 1 ? 1 : (cfg->jobs > MC_POOL_MAX_JOBS ? MC_POOL_MAX_JOBS : cfg->jobs);
    p.mem_limit_mib = cfg->mem_limit_mib < 0 ? mc_isolate_default_mem_limit_mib(jobs) : cfg->mem_limit_mib;
    p.cpu_limit_s = cfg->cpu_limit_s < 0 ? mc_isolate_default_cpu_limit_s(cfg->timeout_s) : cfg->cpu_limit_s;
    p.extra = malloc(MC_EXTRA_MAX);
    mc_status st = p.extra ? MC_OK : mc_err_set(err, MC_ERR_NOMEM, "out of memory");
    for (int i = 0; i < jobs && !st; i++) {
        p.w[i].in = malloc(MC_MSG_MAX);
        if (!p.w[i].in)
            st = mc_err_set(err, MC_ERR_NOMEM, "out of memory");
    }
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
    void (*old_child)(int) = signal(SIGCHLD, SIG_DFL); /* ignored, workers would vanish unseen */
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
    signal(SIGCHLD, old_child);
    for (int i = 0; i < jobs; i++)
        free(p.w[i].in);
    free(p.queue);
    free(p.extra);
    return st;
}
