/* cli/cli_exec.c: executes a configured session for run, repro and check: progress, store,
 * summary, perf table; each stage's JSON and JUnit go to the command's outputs (cli_outputs.c).
 * SPDX-License-Identifier: MIT */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "db/store.h"
#include "db/store_peaks.h"
#include "cli_outputs.h"
#include "engine/mutation.h"
#include "engine/perf.h"
#include "engine/perf_table.h"
#include "engine/record.h"
#include "core/runinfo.h"
#include "summary.h"

static mc_perf_hook perf_hook; /* lives on in each worker after fork */

/* ---- Ctrl-C ----
 * An interrupted run says what it keeps before it dies: the results already committed to the
 * store (the recorder writes a batch at least every second) and the run, which stays
 * "incomplete". The handler only formats numbers and writes: the store is never touched there. */
static volatile sig_atomic_t results_done;  /* handed to the recorder, over every stage */
static volatile sig_atomic_t results_kept;  /* of those, committed */
static volatile sig_atomic_t interrupt_run; /* the run being written, 0 for none (--no-store) */
static volatile sig_atomic_t interrupt_pid; /* the harness: workers inherit the handler and stay quiet */

static size_t append_text(char *buf, size_t len, size_t cap, const char *text)
{
    while (*text && len + 1 < cap)
        buf[len++] = *text++;
    return len;
}

static size_t append_number(char *buf, size_t len, size_t cap, long v)
{
    char digits[24];
    int n = 0;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) > 0 && n < (int)sizeof digits);
    while (n > 0 && len + 1 < cap)
        buf[len++] = digits[--n];
    return len;
}

static void on_interrupt(int sig)
{
    if (getpid() != (pid_t)interrupt_pid) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    char msg[200];
    size_t n = append_text(msg, 0, sizeof msg, "\ninterrupted: ");
    if (interrupt_run) {
        n = append_number(msg, n, sizeof msg, results_kept);
        n = append_text(msg, n, sizeof msg, " results kept in run ");
        n = append_number(msg, n, sizeof msg, interrupt_run);
        n = append_text(msg, n, sizeof msg, " (incomplete)\n");
    } else {
        n = append_number(msg, n, sizeof msg, results_done);
        n = append_text(msg, n, sizeof msg, " results done, none stored (--no-store)\n");
    }
    ssize_t ignored = write(STDERR_FILENO, msg, n);
    (void)ignored;
    signal(sig, SIG_DFL);
    raise(sig); /* die of the signal, as a shell expects of Ctrl-C */
}

static struct sigaction saved_int, saved_term; /* what was there before, restored after the session */

/* A signal ignored when we started (a background job, nohup) stays ignored. */
static void catch_one(int sig, struct sigaction *saved)
{
    struct sigaction sa = {.sa_handler = on_interrupt};
    sigemptyset(&sa.sa_mask);
    sigaction(sig, NULL, saved);
    if (saved->sa_handler != SIG_IGN)
        sigaction(sig, &sa, NULL);
}

void mc_cli_interrupts_catch(int64_t run_id)
{
    interrupt_run = (sig_atomic_t)run_id;
    interrupt_pid = (sig_atomic_t)getpid();
    catch_one(SIGINT, &saved_int);
    catch_one(SIGTERM, &saved_term);
}

void mc_cli_interrupts_release(void)
{
    sigaction(SIGINT, &saved_int, NULL);
    sigaction(SIGTERM, &saved_term, NULL);
}

/* The recorder's sink, counting what it has committed for the interrupt message. */
static void counting_sink(void *user, const mc_session *s, int item)
{
    mc_recorder *rec = user;
    mc_recorder_sink(rec, s, item);
    results_done++;
    if (rec->n_pending == 0 && rec->status == MC_OK)
        results_kept = results_done;
}

static void counting_no_store(void *user, const mc_session *s, int item)
{
    (void)user;
    (void)s;
    (void)item;
    results_done++;
}

/* Perf runs: one worker, kernels get every core, each passing case is timed. */
static void configure_perf(mc_run_options *o)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    mc_perf_hook_init(&perf_hook, o->budget_s);
    o->session.pool.after = mc_perf_after;
    o->session.pool.after_user = &perf_hook;
    o->session.pool.take_extra = mc_perf_take;
    if (!o->jobs_set)
        o->session.pool.jobs = 1;
    if (!o->threads_set)
        o->session.pool.runner.threads = cores > 0 ? (int)cores : 1;
    o->session.pool.timeout_s += 4 * perf_hook.cfg.budget_s;
}

/* The machine's roofs where this run's rows live, measured in this run (the rows are held to the
 * roofs of the same run) and kept in the store as this machine's peaks, which the report reads. */
static bool machine_peaks(const mc_run_options *o, const mc_session *s, mc_store *store, const char *fingerprint,
                          mc_peaks *peaks, bool *measured)
{
    mc_err err = {0};
    mc_machine m;
    mc_machine_collect(NULL, &m);
    snprintf(m.fingerprint, sizeof m.fingerprint, "%s", fingerprint); /* the run's, devices included */
    const int threads = o->session.pool.runner.threads;
    double sizes[MC_PEAKS_MAX_AT];
    const int n_sizes = mc_perf_table_sizes(s, threads, sizes, MC_PEAKS_MAX_AT);
    if (mc_store_obtain_peaks(store, &m, threads, true, mc_perf_table_levels(s, threads), sizes, n_sizes, peaks,
                              measured, &err) == MC_OK)
        return true;
    fprintf(stderr, "warning: no bandwidth roofs: %s\n", err.msg);
    return false;
}

static void print_perf(const mc_run_options *o, const mc_session *s, mc_store *store, const char *fingerprint)
{
    mc_peaks peaks;
    bool measured = false;
    bool have = machine_peaks(o, s, store, fingerprint, &peaks, &measured);
    mc_perf_table_print(stdout, s, have ? &peaks : NULL, measured);
}

/* The devices of every available backend: part of the machine's fingerprint. Only the first two
 * fields of each description (device and driver) count: later ones can move between runs on the
 * same machine (PoCL reports free memory as its global memory). */
static void describe_devices(const mc_session *s, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < s->probe.n_backends && len < cap; i++) {
        const mc_backend_probe *b = &s->probe.backends[i];
        if (!b->available)
            continue;
        const char *comma = strchr(b->info, ',');
        const char *second = comma ? strchr(comma + 1, ',') : NULL;
        int keep = second ? (int)(second - b->info) : (int)strlen(b->info);
        len += (size_t)snprintf(out + len, cap - len, "%s%s: %.*s", len ? "; " : "", b->name, keep, b->info);
    }
}

static void copy_opt(char *dst, size_t cap, const char *value)
{
    snprintf(dst, cap, "%s", value ? value : "");
}

/* The selection as the session was asked for it: stored as the run's fields. */
static void fill_selection(const mc_session_cfg *cfg, mc_run_selection *sel)
{
    memset(sel, 0, sizeof *sel);
    copy_opt(sel->tier, sizeof sel->tier, cfg->tier);
    size_t len = 0;
    for (int i = 0; i < cfg->n_case_files && len < sizeof sel->cases; i++)
        len += (size_t)snprintf(sel->cases + len, sizeof sel->cases - len, "%s%s", i ? "\n" : "", cfg->case_files[i]);
    copy_opt(sel->cases_dir, sizeof sel->cases_dir, cfg->cases_dir);
    copy_opt(sel->backends, sizeof sel->backends, cfg->sel.backends);
    copy_opt(sel->op, sizeof sel->op, cfg->sel.op_glob);
    copy_opt(sel->filter, sizeof sel->filter, cfg->sel.filter);
    copy_opt(sel->variants, sizeof sel->variants, cfg->sel.variant_glob);
}

static mc_status begin_run(const mc_run_options *o, const mc_session *s, int argc, char **argv, mc_store *store,
                           mc_exec_outcome *out, mc_err *err)
{
    char devices[1024];
    describe_devices(s, devices, sizeof devices);
    mc_run_info info;
    mc_status st = mc_runinfo_collect(argc, argv, o->session.tier ? o->session.tier : "cases", o->commit, devices,
                                      &info, err);
    info.seed = o->seed;
    if (o->session.sel.shard_count > 1)
        snprintf(info.shard, sizeof info.shard, "%d/%d", o->session.sel.shard_index, o->session.sel.shard_count);
    fill_selection(&o->session, &info.sel);
    if (!st)
        st = mc_store_begin_run(store, &info, &out->run_id, err);
    snprintf(out->fingerprint, sizeof out->fingerprint, "%s", info.machine.fingerprint);
    snprintf(out->commit, sizeof out->commit, "%s", info.commit);
    snprintf(out->parent, sizeof out->parent, "%s", info.parent);
    return st;
}

/* The human summary goes to stdout; with --json, cli_outputs.c has pointed stdout at stderr. */
static void print_outcome(const mc_run_options *o, const mc_session *s, const mc_perf_env *env, mc_store *store,
                          const char *fingerprint)
{
    mc_summary_print(stdout, s, o->seed, o->verbose, o->session.quiet);
    if (o->perf && (!o->session.quiet || o->perf_table_when_quiet))
        print_perf(o, s, store, fingerprint);
    if (env)
        mc_perf_env_warn(stdout, env); /* even when quiet: it qualifies the verdict */
}

/* Whether a perf run's timings can be trusted (load, clock); NULL for a correctness run. */
static const mc_perf_env *assess_env(const mc_run_options *o, const mc_session *s, mc_perf_env *env)
{
    if (!o->perf)
        return NULL;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    *env = mc_perf_env_assess(s, cores > 0 ? (int)cores : 1, o->session.pool.runner.threads);
    return env;
}

int mc_cli_execute(const char *cmd, mc_run_options *o, int argc, char **argv, mc_store *store, mc_exec_outcome *out)
{
    mc_session s;
    mc_err err = {0};
    mc_recorder rec = {0};
    int loaded = mc_cli_load_plugins(cmd, o->plugins, o->n_plugins); /* before anything is selected */
    if (loaded >= 0)
        return out->rc = loaded;
    if (o->perf)
        configure_perf(o);
    mc_status st = mc_session_prepare(&o->session, &s, &err);
    if (!st && s.n_items == 0) {
        mc_summary_print(stderr, &s, o->seed, o->verbose, o->session.quiet);
        mc_cli_outputs_add_session(o->outputs, o->perf ? "perf" : "correctness", &s, NULL, out->commit,
                                   out->run_id);
        fprintf(stderr, "metallic-check %s: nothing ran: no case matched the selection\n", cmd);
        mc_session_free(&s);
        return out->rc = MC_EXIT_NOTHING;
    }
    if (!st && store && out->run_id == 0)
        st = begin_run(o, &s, argc, argv, store, out, &err);
    if (!st && store) {
        mc_recorder_init(&rec, store, out->run_id);
        o->session.sink = counting_sink;
        o->session.sink_user = &rec;
    } else if (!st) {
        o->session.sink = counting_no_store;
    }
    if (!st) {
        mc_cli_interrupts_catch(store ? out->run_id : 0);
        st = mc_session_execute(&o->session, &s, &err);
    }
    bool ran = !st; /* the cases ran: what they found is shown even if storing it failed */
    if (!st && store && !(st = mc_recorder_finish(&rec, &s, &err)))
        results_kept = results_done;
    mc_cli_interrupts_release();
    mc_recorder_free(&rec);
    mc_perf_env env_space;
    const mc_perf_env *env = ran ? assess_env(o, &s, &env_space) : NULL;
    if (ran)
        print_outcome(o, &s, env, st ? NULL : store, out->fingerprint);
    if (st) {
        mc_session_free(&s);
        return out->rc = mc_cli_report_error(cmd, &err);
    }
    out->timings_unreliable |= env && (env->loaded || env->throttled);
    mc_cli_outputs_add_session(o->outputs, o->perf ? "perf" : "correctness", &s, env, out->commit, out->run_id);
    int rc = mc_session_exit_code(&s);
    int caught, total;
    mc_mutation_score(&s, stdout, &caught, &total);
    if (total && store && mc_store_set_mutation_score(store, out->run_id, caught, total, &err) != MC_OK)
        rc = mc_cli_report_error(cmd, &err);
    if (rc == MC_EXIT_NOTHING)
        fprintf(stderr, "metallic-check %s: nothing ran: every selected case was declined or unavailable\n", cmd);
    mc_session_free(&s);
    return out->rc = rc;
}

const char *mc_cli_run_status(int rc)
{
    switch (rc) {
    case MC_EXIT_OK:
    case MC_EXIT_REGRESSION: return "passed"; /* every case passed; a regression is the verdict's */
    case MC_EXIT_FAIL: return "failed";
    case MC_EXIT_NOTHING: return "nothing";
    default: return "aborted"; /* a setup or store error: never "passed", never a default base */
    }
}

static int run_and_store(const char *cmd, mc_run_options *o, int argc, char **argv)
{
    mc_store *store = NULL;
    mc_err err = {0};
    const char *path = o->db_path ? o->db_path : mc_store_default_path();
    if (!o->no_store && mc_store_open(path, &store, &err) != MC_OK)
        return mc_cli_report_error(cmd, &err);
    mc_exec_outcome out = {0};
    int rc = mc_cli_execute(cmd, o, argc, argv, store, &out);
    if (store && out.run_id) {
        /* an aborted run (a write that failed, a full disk) is not "stored": no report picks it */
        bool aborted = strcmp(mc_cli_run_status(rc), "aborted") == 0;
        if (mc_store_end_run(store, out.run_id, mc_cli_run_status(rc), &err) != MC_OK)
            rc = mc_cli_report_error(cmd, &err);
        else if (aborted)
            fprintf(stderr, "metallic-check %s: run %lld in %s is marked aborted\n", cmd, (long long)out.run_id, path);
        else /* even when quiet: scripts read the run id from it */
            printf("stored as run %lld in %s\n", (long long)out.run_id, path);
    }
    mc_store_close(store);
    return rc;
}

int mc_cli_run_and_store(const char *cmd, mc_run_options *o, int argc, char **argv)
{
    mc_cli_outputs outputs;
    mc_err err = {0};
    int rc;
    if (mc_cli_outputs_begin(&outputs, cmd, o->json, o->junit_path, o->seed, &err) != MC_OK) {
        rc = mc_cli_report_error(cmd, &err);
    } else {
        o->outputs = &outputs;
        rc = run_and_store(cmd, o, argc, argv);
        o->outputs = NULL;
    }
    return mc_cli_outputs_finish(&outputs, rc);
}
