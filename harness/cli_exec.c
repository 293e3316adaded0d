/* harness/cli_exec.c: executes a configured session for run, repro and check: progress, store,
 * summary, perf table, JSON and JUnit.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "db/store.h"
#include "junit.h"
#include "mutation.h"
#include "perf.h"
#include "perf_table.h"
#include "record.h"
#include "runinfo.h"
#include "summary.h"

static mc_perf_hook perf_hook; /* lives on in each worker after fork */

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

/* The machine's bandwidth: measured once per machine and kept in the store (as the report does),
 * measured afresh only without a store or when it holds none for this machine. */
static bool machine_peaks(const mc_run_options *o, mc_store *store, const char *fingerprint, mc_peaks *peaks)
{
    mc_err err = {0};
    bool found_read = false, found_copy = false;
    memset(peaks, 0, sizeof *peaks);
    if (store && fingerprint[0] &&
        mc_store_get_machine_peak(store, fingerprint, "read_gbs", &peaks->read_gbs, &found_read, &err) == MC_OK &&
        mc_store_get_machine_peak(store, fingerprint, "copy_gbs", &peaks->copy_gbs, &found_copy, &err) == MC_OK &&
        found_read && found_copy)
        return true;
    if (mc_peaks_measure(o->session.pool.runner.threads, 256, peaks, &err) != MC_OK)
        return false;
    if (store && fingerprint[0]) {
        mc_machine m;
        mc_machine_collect(NULL, &m);
        snprintf(m.fingerprint, sizeof m.fingerprint, "%s", fingerprint); /* the run's, devices included */
        mc_store_set_machine_peak(store, &m, "read_gbs", peaks->read_gbs, "GB/s", &err);
        mc_store_set_machine_peak(store, &m, "copy_gbs", peaks->copy_gbs, "GB/s", &err);
    }
    return true;
}

static void print_perf(const mc_run_options *o, const mc_session *s, mc_store *store, const char *fingerprint)
{
    mc_peaks peaks;
    bool have = machine_peaks(o, store, fingerprint, &peaks);
    mc_perf_table_print(o->json ? stderr : stdout, s, have ? &peaks : NULL);
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
    if (!st)
        st = mc_store_begin_run(store, &info, &out->run_id, err);
    snprintf(out->fingerprint, sizeof out->fingerprint, "%s", info.machine.fingerprint);
    snprintf(out->commit, sizeof out->commit, "%s", info.commit);
    snprintf(out->parent, sizeof out->parent, "%s", info.parent);
    return st;
}

static void print_outcome(const mc_run_options *o, const mc_session *s, mc_store *store, const char *fingerprint)
{
    mc_summary_print(o->json ? stderr : stdout, s, o->seed, o->verbose);
    if (o->perf)
        print_perf(o, s, store, fingerprint);
    if (o->json)
        mc_summary_json(stdout, s, o->seed);
}

int mc_cli_execute(const char *cmd, mc_run_options *o, int argc, char **argv, mc_store *store, mc_exec_outcome *out)
{
    mc_session s;
    mc_err err = {0};
    mc_recorder rec = {0};
    if (o->perf)
        configure_perf(o);
    mc_status st = mc_session_prepare(&o->session, &s, &err);
    if (!st && s.n_items == 0) {
        mc_summary_print(stderr, &s, o->seed, o->verbose);
        fprintf(stderr, "metallic-check %s: nothing ran: no case matched the selection\n", cmd);
        mc_session_free(&s);
        return out->rc = MC_EXIT_NOTHING;
    }
    if (!st && store && out->run_id == 0)
        st = begin_run(o, &s, argc, argv, store, out, &err);
    if (!st && store) {
        mc_recorder_init(&rec, store, out->run_id);
        o->session.sink = mc_recorder_sink;
        o->session.sink_user = &rec;
    }
    if (!st)
        st = mc_session_execute(&o->session, &s, &err);
    if (!st && store)
        st = mc_recorder_finish(&rec, &s, &err);
    mc_recorder_free(&rec);
    if (st) {
        mc_session_free(&s);
        return out->rc = mc_cli_report_error(cmd, &err);
    }
    print_outcome(o, &s, store, out->fingerprint);
    int rc = mc_session_exit_code(&s);
    int caught, total;
    mc_mutation_score(&s, o->json ? stderr : stdout, &caught, &total);
    if (total && store && mc_store_set_mutation_score(store, out->run_id, caught, total, &err) != MC_OK)
        rc = mc_cli_report_error(cmd, &err);
    if (o->junit_path && mc_junit_write(o->junit_path, &s, &err) != MC_OK)
        rc = mc_cli_report_error(cmd, &err);
    if (rc == MC_EXIT_NOTHING)
        fprintf(stderr, "metallic-check %s: nothing ran: every selected case was declined or unavailable\n", cmd);
    mc_session_free(&s);
    return out->rc = rc;
}

static const char *run_status_for(int rc)
{
    return rc == MC_EXIT_OK ? "passed" : rc == MC_EXIT_FAIL ? "failed" : rc == MC_EXIT_NOTHING ? "nothing" : "aborted";
}

int mc_cli_run_and_store(const char *cmd, mc_run_options *o, int argc, char **argv)
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
        bool aborted = strcmp(run_status_for(rc), "aborted") == 0;
        if (mc_store_end_run(store, out.run_id, run_status_for(rc), &err) != MC_OK)
            rc = mc_cli_report_error(cmd, &err);
        else if (aborted)
            fprintf(stderr, "metallic-check %s: run %lld in %s is marked aborted\n", cmd, (long long)out.run_id, path);
        else if (!o->json)
            printf("stored as run %lld in %s\n", (long long)out.run_id, path);
    }
    mc_store_close(store);
    return rc;
}
