/* core/result.h: the outcome of one (case, variant) run, as checks, workers, store and
 * report all see it.
 * SPDX-License-Identifier: MIT */
#ifndef MC_RESULT_H
#define MC_RESULT_H

#include <stdint.h>

#include "variant.h"

typedef enum mc_result_kind {
    MC_RESULT_PASS,
    MC_RESULT_FAIL_BOUND,          /* an element's error exceeds its bound */
    MC_RESULT_FAIL_NAN,            /* NaN or Inf where the reference is finite */
    MC_RESULT_FAIL_UNWRITTEN,      /* an output element still holds the sentinel */
    MC_RESULT_FAIL_GUARD,          /* a guard zone or a gap between strided elements changed */
    MC_RESULT_FAIL_INPUT_MODIFIED, /* an input's bytes changed */
    MC_RESULT_FAIL_MISTRUSTED,     /* mostly zeros, or a copy of an input */
    MC_RESULT_FAIL_DISPATCH,       /* the kernel that ran is not the one asked for */
    MC_RESULT_FAIL_NONDETERMINISM, /* a deterministic variant gave different bits on a repeat */
    MC_RESULT_FAIL_COVERAGE,       /* a runnable variant ran zero cases in the tier */
    MC_RESULT_CRASH,               /* the worker died on a signal */
    MC_RESULT_TIMEOUT,             /* the case ran past its time limit */
    MC_RESULT_ERROR,               /* the kernel or backend returned an error */
    MC_RESULT_SKIP,                /* supports() or the probe declined, with a reason */
    MC_RESULT_COUNT
} mc_result_kind;

/* Short stable name ("pass", "bound", "unwritten", ...): used in the DB, JSON and report. */
const char *mc_result_kind_name(mc_result_kind k);
/* Parses a name back; -1 when unknown. */
int mc_result_kind_parse(const char *name);
/* Failures are everything but pass and skip. */
int mc_result_kind_is_failure(mc_result_kind k);

typedef struct mc_result {
    int case_index;          /* into the run's case list */
    int variant_index;       /* into the registry */
    mc_result_kind kind;
    char ran[MC_RAN_LEN];    /* what the kernel reported running */
    int64_t n_checked;       /* output elements compared */
    int64_t n_bad;           /* elements that failed their check */
    int64_t worst_index;     /* logical index (i0 fastest) of the worst element, -1 if none */
    double worst_out;        /* the kernel's value there */
    double worst_ref;        /* the reference value there */
    double worst_err;        /* |out - ref| there */
    double worst_bound;      /* the bound there */
    double max_ratio;        /* max over elements of err / bound (<= 1 passes) */
    double nmse;             /* sum (out-ref)^2 / sum ref^2, recorded, never the verdict */
    int signal;              /* crash: the signal number */
    double elapsed_ms;       /* wall time of the whole check of this case */
    char code_hash[32];      /* device code identity from the backend ("" for host code) */
    char message[256];       /* one line for the human: why it failed or was skipped */
} mc_result;

#endif
