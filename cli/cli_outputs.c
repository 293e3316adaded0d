/* cli/cli_outputs.c: one JSON document and one JUnit file per command, whatever its stages.
 *
 *   1. begin: with --json, fd 1 is saved and pointed at stderr: from then on only this module
 *      writes the real stdout. The JUnit file opens (outfile.c: never renamed over a device).
 *   2. each stage (correctness, perf) appends a JSON object and a <testsuite>;
 *   3. check appends the comparison's verdicts;
 *   4. finish writes {"command", "exit", "verdict", "error", "stages", "verdicts", ...} to the
 *      saved stdout, closes </testsuites>, and restores fd 1.
 * An error reported through mc_cli_report_error lands in the document's "error" object.
 * SPDX-License-Identifier: MIT */
#include "cli_outputs.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "db/store.h"
#include "core/json.h"
#include "junit.h"
#include "summary.h"

static mc_cli_outputs *active; /* the command's outputs, for errors reported from anywhere */

mc_status mc_cli_outputs_begin(mc_cli_outputs *x, const char *cmd, bool json, const char *junit_path,
                               uint64_t seed, mc_err *err)
{
    memset(x, 0, sizeof *x);
    x->cmd = cmd;
    x->json = json;
    x->json_fd = -1;
    x->seed = seed;
    active = x;
    if (json) { /* first, so that any error below still gets its JSON document */
        x->stages = open_memstream(&x->stages_buf, &x->stages_len);
        x->verdicts = open_memstream(&x->verdicts_buf, &x->verdicts_len);
        if (!x->stages || !x->verdicts)
            return mc_err_set(err, MC_ERR_NOMEM, "no memory for the JSON output");
    }
    if (junit_path) {
        mc_status st = mc_outfile_open(&x->junit_out, junit_path, "--junit", err);
        if (st)
            return st;
        x->junit = true;
        mc_junit_begin(x->junit_out.f);
    }
    if (!json)
        return MC_OK;
    fflush(stdout);
    x->json_fd = dup(STDOUT_FILENO);
    if (x->json_fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
        return mc_err_set(err, MC_ERR_IO, "--json: cannot set stdout aside");
    return MC_OK;
}

void mc_cli_outputs_add_session(mc_cli_outputs *x, const char *stage, const mc_session *s, const mc_perf_env *env,
                                const char *commit, int64_t run_id)
{
    if (!x)
        return;
    if (commit && *commit)
        snprintf(x->commit, sizeof x->commit, "%s", commit);
    if (run_id)
        x->run_id = run_id;
    if (x->junit)
        mc_junit_suite(x->junit_out.f, s, stage, x->seed, x->commit);
    if (x->stages) {
        if (x->n_stages++)
            fputc(',', x->stages);
        mc_summary_json_stage(x->stages, s, stage, env, x->seed);
    }
}

static int add_verdict(const mc_stored_verdict *v, void *user)
{
    mc_cli_outputs *x = user;
    FILE *f = x->verdicts;
    if (x->n_verdicts++)
        fputc(',', f);
    const struct {
        const char *name, *value;
    } texts[] = {{"case", v->case_key}, {"backend", v->backend}, {"variant", v->variant},
                 {"verdict", v->verdict}, {"label", v->label},     {"method", v->method},
                 {"base_hash", v->base_hash}, {"cand_hash", v->cand_hash}};
    const struct {
        const char *name;
        double value;
    } numbers[] = {{"ratio", v->ratio}, {"ci_lo", v->ci_lo}, {"ci_hi", v->ci_hi},
                   {"p", v->p},         {"q", v->q},         {"threshold", v->threshold}};
    fputc('{', f);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        fprintf(f, "%s\"%s\":", i ? "," : "", texts[i].name);
        mc_json_string(f, texts[i].value);
    }
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        fprintf(f, ",\"%s\":", numbers[i].name);
        mc_json_number(f, numbers[i].value);
    }
    fprintf(f, ",\"same_code\":%s}", v->same_code ? "true" : "false");
    return 0;
}

mc_status mc_cli_outputs_add_verdicts(mc_cli_outputs *x, struct mc_store *store, int64_t base, int64_t cand,
                                      mc_err *err)
{
    if (!x || !x->verdicts || !base || !cand)
        return MC_OK;
    x->base_run_id = base;
    return mc_store_each_verdict(store, base, cand, add_verdict, x, err);
}

void mc_cli_outputs_note_error(const mc_err *err)
{
    if (!active || active->have_error)
        return;
    active->have_error = true;
    active->error = *err;
}

static const char *verdict_words(int rc)
{
    static const char *const words[] = {
        [MC_EXIT_OK] = "all passed, no regression", [MC_EXIT_FAIL] = "correctness failure",
        [MC_EXIT_USAGE] = "usage or configuration error", [MC_EXIT_REGRESSION] = "performance regression",
        [MC_EXIT_NOTHING] = "nothing ran",
    };
    return rc >= 0 && rc <= MC_EXIT_NOTHING ? words[rc] : "unknown";
}

static void write_error(FILE *out, const char *status, const char *message)
{
    fputs("{\"status\":", out);
    mc_json_string(out, status);
    fputs(",\"message\":", out);
    mc_json_string(out, message);
    fputc('}', out);
}

static void write_document(mc_cli_outputs *x, FILE *out, int rc)
{
    fflush(x->stages);
    fflush(x->verdicts);
    fprintf(out, "{\"version\":\"%s\",\"command\":", MC_VERSION);
    mc_json_string(out, x->cmd);
    fprintf(out, ",\"exit\":%d,\"verdict\":", rc);
    mc_json_string(out, verdict_words(rc));
    fprintf(out, ",\"seed\":%" PRIu64 ",\"commit\":", x->seed);
    if (x->commit[0])
        mc_json_string(out, x->commit);
    else
        fputs("null", out);
    fprintf(out, ",\"run_id\":%" PRId64 ",\"base_run_id\":%" PRId64 ",\"error\":", x->run_id, x->base_run_id);
    if (x->have_error)
        write_error(out, mc_status_str(x->error.status), x->error.msg);
    else
        fputs("null", out);
    fputs(",\"stages\":[", out);
    fwrite(x->stages_buf, 1, x->stages_len, out);
    fputs("],\"verdicts\":[", out);
    fwrite(x->verdicts_buf, 1, x->verdicts_len, out);
    fputs("]}\n", out);
}

int mc_cli_outputs_finish(mc_cli_outputs *x, int rc)
{
    if (!x || x->cmd == NULL)
        return rc;
    if (x->junit) {
        mc_err err = {0};
        mc_junit_end(x->junit_out.f);
        x->junit = false;
        if (mc_outfile_commit(&x->junit_out, "--junit", &err) != MC_OK) {
            rc = mc_cli_report_error(x->cmd, &err);
        }
    }
    if (x->json_fd >= 0) {
        fflush(stdout);
        dup2(x->json_fd, STDOUT_FILENO);
        close(x->json_fd);
        x->json_fd = -1;
        if (x->stages && x->verdicts)
            write_document(x, stdout, rc);
        fflush(stdout);
    } else if (x->json) { /* begin failed before stdout was set aside */
        if (x->stages && x->verdicts)
            write_document(x, stdout, rc);
    }
    if (x->stages)
        fclose(x->stages);
    if (x->verdicts)
        fclose(x->verdicts);
    free(x->stages_buf);
    free(x->verdicts_buf);
    x->stages = x->verdicts = NULL;
    x->stages_buf = x->verdicts_buf = NULL;
    if (active == x)
        active = NULL;
    return rc;
}

void mc_cli_outputs_early_error(const char *cmd, int argc, char **argv, int rc, const char *message)
{
    bool json = false;
    for (int i = 1; i < argc && argv[i]; i++)
        json |= strcmp(argv[i], "--json") == 0;
    if (!json || rc == MC_EXIT_OK)
        return;
    printf("{\"version\":\"%s\",\"command\":", MC_VERSION);
    mc_json_string(stdout, cmd);
    printf(",\"exit\":%d,\"verdict\":", rc);
    mc_json_string(stdout, verdict_words(rc));
    fputs(",\"error\":", stdout);
    write_error(stdout, "usage", message);
    fputs(",\"stages\":[],\"verdicts\":[]}\n", stdout);
}
