/* reports/report_env.c: the timing environment of the candidate and the base: the load average and
 * CPU clock every timing records, and a warning when they make the timings unreliable (a loaded
 * machine, a clock that moved), with the limits of report_int.h.
 * SPDX-License-Identifier: MIT */
#include "report_int.h"

#include <stdio.h>
#include <string.h>

#include "html.h"

static mc_status load_one(mc_store *s, const rp_run_set *set, rp_env *e, mc_err *err)
{
    char ids[RP_MAX_PARTS * 24] = "", sql[1024 + sizeof ids], text[160];
    size_t len = 0;
    for (int k = 0; k < set->n; k++)
        len += (size_t)snprintf(ids + len, sizeof ids - len, "%s%lld", k ? "," : "", (long long)set->id[k]);
    memset(e, 0, sizeof *e);
    if (set->n == 0)
        return MC_OK;
    /* An unknown load average is stored as -1 and an unknown clock as 0: neither counts. */
    snprintf(sql, sizeof sql,
             /* SQL both store engines read (no printf, no sum of a comparison) */
             "SELECT count(*) || ' ' || coalesce(sum(CASE WHEN t.loadavg > m.cores * %.3f + %.3f THEN 1 ELSE 0 END), 0) "
             "|| ' ' || coalesce(max(t.loadavg), -1) || ' ' || coalesce(min(CASE WHEN t.cpu_mhz > 0 THEN t.cpu_mhz END), 0) "
             "|| ' ' || coalesce(max(t.cpu_mhz), 0) || ' ' || coalesce(max(m.cores), 0) FROM timing t JOIN result r ON r.id = t.result_id "
             "JOIN run u ON u.id = r.run_id JOIN machine m ON m.id = u.machine_id WHERE r.run_id IN (%s)",
             RP_LOAD_PER_CPU, RP_LOAD_SLACK, ids);
    mc_status st = mc_store_query_text(s, sql, text, sizeof text, err);
    if (st)
        return st;
    if (sscanf(text, "%d %d %lf %lf %lf %d", &e->n_timings, &e->n_loaded, &e->max_load, &e->min_mhz, &e->max_mhz,
               &e->cores) != 6)
        memset(e, 0, sizeof *e);
    e->load_limit = e->cores * RP_LOAD_PER_CPU + RP_LOAD_SLACK;
    e->loaded = e->n_loaded > 0;
    e->clock_varied = e->min_mhz > 0 && e->min_mhz < e->max_mhz * (1 - RP_CLOCK_SPREAD);
    return MC_OK;
}

mc_status rp_load_env(mc_store *s, rp_report *r, mc_err *err)
{
    mc_status st = load_one(s, &r->cand_set, &r->cand_env, err);
    if (!st && r->have_base)
        st = load_one(s, &r->base_set, &r->base_env, err);
    return st;
}

bool rp_env_warns(const rp_env *e)
{
    return e->loaded || e->clock_varied;
}

static void write_one(FILE *out, const char *which, const rp_env *e)
{
    if (!rp_env_warns(e))
        return;
    fprintf(out, "<li>The %s: ", which);
    if (e->loaded)
        fprintf(out, "<b>%d of %d timings</b> ran with a 1-minute load average above %.3g (up to <b>%.3g</b> on %d "
                     "logical CPUs): other work competed for the CPUs. ",
                e->n_loaded, e->n_timings, e->load_limit, e->max_load, e->cores);
    if (e->clock_varied)
        fprintf(out, "The CPU clock moved from <b>%.0f</b> to <b>%.0f MHz</b> between timings (throttling or power "
                     "saving). ",
                e->min_mhz, e->max_mhz);
    fputs("</li>", out);
}

void rp_write_env_warning(FILE *out, const rp_report *r)
{
    bool cand = rp_env_warns(&r->cand_env), base = r->have_base && rp_env_warns(&r->base_env);
    if (!cand && !base)
        return;
    fputs("<div class=\"env-warning\" id=\"env-warning\"><p>\u26A0 <b>Timings may be unreliable</b>: the machine was "
          "not quiet while they were taken. Re-measure on a quiet machine before trusting a slower or faster "
          "verdict.</p><ul>",
          out);
    if (cand)
        write_one(out, "candidate", &r->cand_env);
    if (base)
        write_one(out, "base", &r->base_env);
    fputs("</ul></div>", out);
}
