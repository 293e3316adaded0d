/* core/backend.h: the device interface every backend implements (cpu, opencl, cuda).
 * SPDX-License-Identifier: MIT */
#ifndef MC_BACKEND_H
#define MC_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

typedef struct mc_backend_ctx mc_backend_ctx; /* a backend's live state, opaque to the harness */

/* A device allocation. The harness only ever passes it back to its backend; kernels of that
 * backend read `native` (a host pointer for cpu, a cl_mem for opencl, a device pointer for cuda). */
struct mc_buf {
    void *native;           /* backend-specific handle */
    size_t bytes;           /* size of the allocation */
    mc_backend_ctx *owner;  /* backend context that made it */
};

/* What a device backend adds to each timing (engine/perf.c asks after every timed case). */
typedef struct mc_device_timing_note {
    double case_bytes;    /* in: the bytes the timed case moves (0: unknown) */
    double ws_roof_gbs;   /* the copy bandwidth of a copy moving case_bytes (read + written), timed as
                             cases are (a batch of back-to-back copies): the roof where the data lives
                             when the case is small enough for the cache; 0: not measured */
    double roof_gbs;      /* the device's own copy bandwidth (bytes read + written per ns), the roof of
                             its bandwidth-bound rows; 0: the host's bandwidth applies */
    double min_clock_mhz; /* lowest device clock seen at the end of a timed batch, 0: unknown */
    double min_mem_mhz;   /* lowest memory clock seen likewise, 0: unknown */
    double max_temp_c;    /* highest temperature seen likewise, 0: unknown */
    int batches;          /* timed batches since the last note */
    int throttled;        /* of those, how many the device reported throttled (power, heat) */
    uint64_t reasons;     /* the device's throttle reason bits seen over those batches, or-ed (NVML's) */
} mc_device_timing_note;

typedef struct mc_backend {
    const char *name; /* "cpu", "opencl", "cuda" */
    /* Is this backend usable here? On no, writes a reason and returns MC_ERR_UNSUPPORTED.
     * Called inside a worker process: it may touch the device. */
    mc_status (*probe)(char *reason, size_t reason_len);
    mc_status (*init)(mc_backend_ctx **out, mc_err *err);
    void (*shutdown)(mc_backend_ctx *ctx);
    /* One line naming the device and driver, for `list backends` and the machine record. */
    void (*describe)(mc_backend_ctx *ctx, char *out, size_t out_len);
    mc_status (*alloc)(mc_backend_ctx *ctx, size_t bytes, struct mc_buf **out, mc_err *err);
    void (*free)(mc_backend_ctx *ctx, struct mc_buf *buf);
    mc_status (*upload)(mc_backend_ctx *ctx, struct mc_buf *dst, size_t offset, const void *src,
                        size_t bytes, mc_err *err);
    mc_status (*download)(mc_backend_ctx *ctx, const struct mc_buf *src, size_t offset, void *dst,
                          size_t bytes, mc_err *err);
    mc_status (*sync)(mc_backend_ctx *ctx, mc_err *err);
    /* Device timer: begin, then end returns the elapsed nanoseconds of the work between them. */
    mc_status (*timer_begin)(mc_backend_ctx *ctx, mc_err *err);
    mc_status (*timer_end)(mc_backend_ctx *ctx, double *elapsed_ns /* out */, mc_err *err);
    /* What the timer measures, stored with every timing ("name: definition"); NULL: undeclared. */
    const char *timer_definition;
    /* Optional: the identity of the device code a variant ran (a hash of its program binary), or
     * NULL when unknown. Host-code backends leave it NULL: the store hashes their machine code. */
    const char *(*program_hash)(mc_backend_ctx *ctx, const char *variant);
    /* Optional: fills the note for the batches timed since the last call, then starts a new one.
     * NULL for host backends. */
    void (*timing_note)(mc_backend_ctx *ctx, mc_device_timing_note *out);
    /* Optional: does this device have every feature a variant's `requires` lists ("sm_80": compute
     * capability 8.0 or newer)? The gate check (engine/session.c) fails a variant whose probe says
     * no on a device that has them. NULL: the backend's variants declare none. */
    bool (*has_features)(mc_backend_ctx *ctx, const char *requires);
} mc_backend;

struct mc_variant;

/* One backend's row, defined in kernels/<backend>/ beside its variant table: the backend, its
 * variants, and why it is not built when it is not. The rows are listed in one place,
 * mc_backend_rows[], which CMake generates from its MC_BACKENDS list (CMakeLists.txt); selection,
 * `list backends`, the "not built" reasons and the registry all read it. */
typedef struct mc_backend_row {
    const char *name;                         /* "cpu", "opencl", "cuda" */
    const mc_backend *backend;                /* NULL when not built */
    const struct mc_variant *const *variants; /* NULL-terminated; NULL when not built */
    const char *not_built;                    /* why, when backend is NULL */
    bool hidden; /* a test-only or mutant table of a built backend: listed with --include-hidden */
} mc_backend_row;

/* Every row, NULL-terminated, in MC_BACKENDS order (hidden tables last). Generated. */
extern const mc_backend_row *const mc_backend_rows[];

/* All backends compiled into this binary, NULL-terminated, in a fixed order. */
const mc_backend *const *mc_backends_all(void);
/* Looks a backend up by name; NULL when none. */
const mc_backend *mc_backend_find(const char *name);

#endif
