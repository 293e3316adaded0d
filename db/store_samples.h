/* db/store_samples.h: inside db/ only: timing samples as stored (little-endian binary64 values,
 * SQLite BLOB, PostgreSQL bytea) to and from an mc_timing.
 * SPDX-License-Identifier: MIT */
#ifndef MC_STORE_SAMPLES_H
#define MC_STORE_SAMPLES_H

#include "core/status.h"
#include "stats/timing.h"
#include "store_driver.h"

/* t->n samples as 8 * n bytes (malloc'd; NULL when out of memory). */
unsigned char *mc_samples_blob(const mc_timing *t);
/* Reads t->n samples from a stored column into t->samples_ns (malloc'd). */
mc_status mc_samples_read(const mc_dbv *col, mc_timing *t, mc_err *err);

#endif
