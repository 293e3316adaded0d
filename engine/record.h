/* engine/record.h: writes a session's results to the store as they arrive, in batches, so a
 * killed run keeps every finished batch.
 * SPDX-License-Identifier: MIT */
#ifndef MC_RECORD_H
#define MC_RECORD_H

#include "db/store.h"
#include "session.h"

#define MC_RECORD_BATCH 128 /* results per transaction */

typedef struct mc_recorder {
    mc_store *store;
    int64_t run_id;
    int pending[MC_RECORD_BATCH]; /* items waiting for the next transaction */
    int n_pending;
    double last_flush_s;
    char (*hashes)[MC_HASH_LEN];  /* code identity per runnable variant in this run ("" unknown yet) */
    int n_hashes;
    int *deferred;                /* items waiting for their device variant's identity */
    int n_deferred, cap_deferred;
    char coverage_key[48];        /* key of the pseudo-case a coverage row is stored under */
    mc_status status;             /* first error; later batches are dropped after one */
    mc_err err;
} mc_recorder;

void mc_recorder_init(mc_recorder *r, mc_store *store, int64_t run_id);
/* Session sink: queues the item, writing a batch when it is full or a second old. */
void mc_recorder_sink(void *user, const mc_session *s, int item);
/* Writes what is queued plus the session's coverage failures; returns the first error seen. */
mc_status mc_recorder_finish(mc_recorder *r, const mc_session *s, mc_err *err);
void mc_recorder_free(mc_recorder *r);

/* The status a finished session leaves on its run: passed, failed or nothing. */
const char *mc_record_run_status(const mc_session *s);

#endif
