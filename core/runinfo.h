/* core/runinfo.h: what a run records about itself: the commit, the command, the machine
 * fingerprint and the environment around a measurement (code identity: codehash.h).
 * SPDX-License-Identifier: MIT */
#ifndef MC_RUNINFO_H
#define MC_RUNINFO_H

#include <stdbool.h>
#include <stdint.h>

#include "codehash.h" /* MC_HASH_LEN, mc_variant_code_hash: code identity, recorded with each run */
#include "status.h"
#include "variant.h"

#define MC_SHA_LEN 41  /* 40 hex digits and a NUL */
#define MC_TIME_LEN 32 /* ISO 8601 UTC, 2024-05-01T12:00:00Z */

/* The machine a run measures on. Two runs compare only when their fingerprints match. */
typedef struct mc_machine {
    char cpu_model[128];
    char cpu_flags[2048];  /* the feature flags line of /proc/cpuinfo */
    int cores;             /* online logical CPUs */
    char os[160];          /* uname: system, kernel release, architecture */
    char compiler[128];    /* compiler and version that built this binary */
    char cflags[256];      /* its flags (MC_C_FLAGS when the build passes it, else what macros show) */
    char devices[1024];    /* backend devices and drivers, as the caller describes them */
    char fingerprint[MC_HASH_LEN]; /* FNV-1a 64 of every field above */
} mc_machine;

/* Run modes: an independent run, or one half of a paired (ABBA interleaved) A/B measurement. */
#define MC_RUN_INDEPENDENT "independent"
#define MC_RUN_PAIRED "paired"

/* What a run selected, as its command asked ("" for not given): stored as fields of the run when
 * it begins, so nothing parses the command line back. */
typedef struct mc_run_selection {
    char tier[32];
    char cases[1024];   /* --cases files, one per line */
    char cases_dir[256];
    char backends[128];
    char op[128];
    char filter[256];
    char variants[512]; /* every --variant, comma separated */
    char shard[16];     /* "I/N" or "" */
} mc_run_selection;

typedef struct mc_run_info {
    char uuid[33];                /* random; identifies the run across merged databases */
    char commit[MC_SHA_LEN];      /* full SHA, or "unknown" outside a git checkout */
    bool dirty;                   /* uncommitted changes (untracked files included) */
    char branch[128];             /* "" when detached */
    char parent[MC_SHA_LEN];      /* first parent, "" for a root commit or unknown */
    char tier[32];
    char command_line[2048];
    char tool_version[32];        /* MC_VERSION */
    char start_time[MC_TIME_LEN];
    char end_time[MC_TIME_LEN];   /* "" until the run ends */
    uint64_t seed;
    char mode[16];                /* MC_RUN_INDEPENDENT or MC_RUN_PAIRED */
    int64_t paired_with;          /* paired candidate run: the base run's id in the same store, else 0 */
    char shard[16];               /* "I/N" or "" */
    mc_run_selection sel;         /* filled by the caller: mc_runinfo_collect leaves it empty */
    mc_machine machine;
} mc_run_info;

/* Fills info: git state of the source tree this binary was built from ($MC_SOURCE_DIR, else the
 * build's source dir, else the working directory), the command line, tool version, start time, a
 * fresh uuid and the machine. commit_override (may be NULL) replaces the commit git reports.
 * devices describes every available backend (not only the selected ones, so --backend does not
 * change the fingerprint); NULL or "" when unknown. Never fails for lack of git. */
mc_status mc_runinfo_collect(int argc, char **argv, const char *tier, const char *commit_override,
                             const char *devices, mc_run_info *out, mc_err *err);

/* A run spec as the store reads it (run:N, #N, N, 'latest', a commit's hex digits): a revision git
 * knows in the source tree (HEAD~1, a branch, a tag) becomes its full SHA in sha, which is
 * returned; any other spec is returned as it is. */
const char *mc_runinfo_run_spec(const char *spec, char sha[MC_SHA_LEN]);

/* Fills the machine record and its fingerprint (devices as above). */
void mc_machine_collect(const char *devices, mc_machine *out);
/* Recomputes out->fingerprint from the other fields. */
void mc_machine_fingerprint(mc_machine *m);

/* The current time as ISO 8601 UTC. */
void mc_runinfo_now(char out[MC_TIME_LEN]);

/* What can skew a measurement, sampled now. */
typedef struct mc_env_sample {
    double cpu_mhz; /* mean current clock over online CPUs, 0 when unknown */
    double loadavg; /* 1-minute load average, -1 when unknown */
} mc_env_sample;
void mc_env_sample_now(mc_env_sample *out);

#endif
