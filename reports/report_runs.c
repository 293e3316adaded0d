/* reports/report_runs.c: logical runs: the shards of one run (--shard I/N, joined by `merge`) read
 * as one run of their commit, for the candidate, the base, the default base and the history.
 *
 * Rule (rp_group_runs): runs taken in start order; a run with a shard I/N joins the latest group of
 * the same commit, tier and N that lacks shard I, else starts a group; a run without a shard is a
 * group of its own. So two sharded runs of one commit (1/2, 2/2, 1/2, 2/2) are two logical runs.
 * SPDX-License-Identifier: MIT */
#include "report_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define SHARD_MAX_COUNT 64 /* shard sets tracked in one 64-bit mask; a larger N stays unmerged */
#define RUNS_TEXT_CAP (256 * 1024) /* ~8,000 sharded runs; rows past it read as unsharded */

bool rp_shard_parse(const char *shard, int *index, int *count)
{
    int i = -1, n = 0, used = 0;
    if (!shard || sscanf(shard, "%d/%d%n", &i, &n, &used) != 2 || shard[used] != '\0')
        return false;
    if (n < 2 || n > SHARD_MAX_COUNT || i < 0 || i >= n)
        return false;
    *index = i;
    *count = n;
    return true;
}

static const rp_run_tag *sort_tags;

static int tag_order_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    const rp_run_tag *p = &sort_tags[x], *q = &sort_tags[y];
    if (p->commit != q->commit)
        return p->commit < q->commit ? -1 : 1;
    if (p->tier != q->tier)
        return p->tier < q->tier ? -1 : 1;
    if (p->shard_count != q->shard_count)
        return p->shard_count < q->shard_count ? -1 : 1;
    return (x > y) - (x < y); /* start order within a (commit, tier, N) */
}

int rp_group_runs(const rp_run_tag *tags, int n, int *group)
{
    int *idx = malloc((size_t)(n ? n : 1) * sizeof *idx), *first = malloc((size_t)(n ? n : 1) * sizeof *first);
    int m = 0, groups = 0;
    if (!idx || !first) { /* no memory: every run its own group, which is what an unsharded store reads as */
        for (int k = 0; k < n; k++)
            group[k] = k;
        free(idx);
        free(first);
        return n;
    }
    for (int k = 0; k < n; k++) {
        group[k] = -1;
        if (tags[k].shard_count >= 2)
            idx[m++] = k;
    }
    sort_tags = tags; /* the report is single-threaded */
    rp_sort(idx, m, sizeof *idx, tag_order_cmp);
    for (int a = 0; a < m;) {
        const rp_run_tag *t0 = &tags[idx[a]];
        int b = a, g = -1;
        uint64_t mask = 0;
        for (; b < m && tags[idx[b]].commit == t0->commit && tags[idx[b]].tier == t0->tier &&
               tags[idx[b]].shard_count == t0->shard_count;
             b++) {
            uint64_t bit = (uint64_t)1 << tags[idx[b]].shard_index;
            if (g < 0 || (mask & bit)) {
                g = idx[b]; /* a group is named by its first run for now */
                mask = 0;
            }
            mask |= bit;
            group[idx[b]] = g;
        }
        a = b;
    }
    /* Number the groups 0, 1, ... in order of their first run. */
    for (int k = 0; k < n; k++)
        first[k] = -1;
    for (int k = 0; k < n; k++) {
        int name = group[k] < 0 ? k : group[k];
        if (first[name] < 0)
            first[name] = groups++;
        group[k] = first[name];
    }
    free(idx);
    free(first);
    return groups;
}

/* "id shard hex(tier);..." for the runs a query selects, parsed into tags (commit 0). */
typedef struct run_list {
    int64_t *id;
    rp_run_tag *tag;
    char (*shard)[16];
    int n;
} run_list;

static void run_list_free(run_list *l)
{
    free(l->id);
    free(l->tag);
    free(l->shard);
    memset(l, 0, sizeof *l);
}

static mc_status run_list_read(mc_store *s, const char *sql, run_list *l, mc_err *err)
{
    memset(l, 0, sizeof *l);
    char *text = malloc(RUNS_TEXT_CAP);
    if (!text)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory to read the runs' shards");
    mc_status st = mc_store_query_text(s, sql, text, RUNS_TEXT_CAP, err);
    int cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == ';';
    l->id = calloc((size_t)cap, sizeof *l->id);
    l->tag = calloc((size_t)cap, sizeof *l->tag);
    l->shard = calloc((size_t)cap, sizeof *l->shard);
    if (!st && (!l->id || !l->tag || !l->shard))
        st = mc_err_set(err, MC_ERR_NOMEM, "no memory to read the runs' shards");
    for (char *row = text, *next; !st && row && *row; row = next) {
        next = strchr(row, ';');
        if (next)
            *next++ = '\0';
        long long id = 0;
        char shard[16] = "", tier[160] = "";
        if (sscanf(row, "%lld %15s %159s", &id, shard, tier) != 3)
            continue; /* a row cut by the cap, or odd text in a hostile store: read as unsharded */
        rp_run_tag *t = &l->tag[l->n];
        l->id[l->n] = id;
        rp_copy(l->shard[l->n], sizeof l->shard[0], shard);
        t->tier = mc_hash_str(tier);
        if (!rp_shard_parse(shard, &t->shard_index, &t->shard_count))
            t->shard_count = 0;
        l->n++;
    }
    free(text);
    return st;
}

mc_status rp_logical_run(mc_store *s, int64_t run_id, rp_run_set *out, mc_err *err)
{
    memset(out, 0, sizeof *out);
    out->id[0] = run_id;
    out->n = 1;
    char sql[1024];
    /* The run and every finished sharded run of its commit, tier and machine, in start order. */
    snprintf(sql, sizeof sql,
             "SELECT group_concat(id || ' ' || (CASE WHEN shard = '' THEN '-' ELSE shard END) || ' ' || "
             "hex(tier), ';') FROM (SELECT r.id, r.shard, r.tier FROM run r, "
             "run c WHERE c.id = %lld AND r.commit_sha = c.commit_sha AND r.machine_id = c.machine_id AND "
             "r.tier = c.tier AND (r.id = c.id OR (r.shard != '' AND r.status != 'incomplete')) "
             "ORDER BY r.started_at, r.id LIMIT 4096) AS picked",
             (long long)run_id);
    run_list l;
    mc_status st = run_list_read(s, sql, &l, err);
    int *group = st ? NULL : malloc((size_t)(l.n ? l.n : 1) * sizeof *group);
    if (!st && !group)
        st = mc_err_set(err, MC_ERR_NOMEM, "no memory to group shards");
    if (!st) {
        rp_group_runs(l.tag, l.n, group);
        int mine = -1;
        for (int k = 0; k < l.n; k++)
            if (l.id[k] == run_id)
                mine = group[k];
        out->n = 0;
        for (int k = 0; k < l.n && mine >= 0; k++) {
            if (group[k] != mine || out->n == RP_MAX_PARTS)
                continue;
            out->id[out->n] = l.id[k];
            rp_copy(out->shard[out->n], sizeof out->shard[0], l.tag[k].shard_count ? l.shard[k] : "");
            out->n++;
        }
        if (out->n == 0) { /* the run itself was not listed (cut by the cap): it alone */
            out->id[0] = run_id;
            out->n = 1;
        }
    }
    free(group);
    run_list_free(&l);
    return st;
}

mc_status mc_report_logical_run(mc_store *s, int64_t run_id, int64_t *ids, int cap, int *count, mc_err *err)
{
    rp_run_set set;
    mc_status st = rp_logical_run(s, run_id, &set, err);
    *count = 0;
    for (int k = 0; !st && k < set.n && *count < cap; k++)
        ids[(*count)++] = set.id[k];
    return st;
}

static const int64_t *sort_ids;

static int id_order_cmp(const void *a, const void *b)
{
    int64_t x = sort_ids[*(const int *)a], y = sort_ids[*(const int *)b];
    return (x > y) - (x < y);
}

mc_status rp_history_groups(mc_store *s, const rp_report *r, const int64_t *run_ids, const int *run_commit, int n,
                            int *group, mc_err *err)
{
    char sql[512];
    /* Only the sharded runs of the machine: the others are each their own logical run. */
    snprintf(sql, sizeof sql,
             "SELECT group_concat(id || ' ' || shard || ' ' || hex(tier), ';') FROM run WHERE shard != '' "
             "AND machine_id = (SELECT machine_id FROM run WHERE id = %lld)",
             (long long)r->cand.id);
    run_list l;
    mc_status st = run_list_read(s, sql, &l, err);
    rp_run_tag *tags = st ? NULL : calloc((size_t)(n ? n : 1), sizeof *tags);
    int *by_id = st ? NULL : malloc((size_t)(l.n ? l.n : 1) * sizeof *by_id);
    if (!st && (!tags || !by_id))
        st = mc_err_set(err, MC_ERR_NOMEM, "no memory to group shards");
    for (int j = 0; !st && j < l.n; j++)
        by_id[j] = j;
    sort_ids = l.id;
    if (!st)
        rp_sort(by_id, l.n, sizeof *by_id, id_order_cmp);
    for (int k = 0; !st && k < n; k++) {
        tags[k].commit = (uint64_t)run_commit[k];
        int lo = 0, hi = l.n; /* the sharded run with this id, by bisection */
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (l.id[by_id[mid]] < run_ids[k])
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < l.n && l.id[by_id[lo]] == run_ids[k])
            tags[k] = (rp_run_tag){.commit = (uint64_t)run_commit[k], .tier = l.tag[by_id[lo]].tier,
                                   .shard_index = l.tag[by_id[lo]].shard_index,
                                   .shard_count = l.tag[by_id[lo]].shard_count};
    }
    if (!st)
        rp_group_runs(tags, n, group);
    free(tags);
    free(by_id);
    run_list_free(&l);
    return st;
}
