/* core/op.h: what an op is: its parameters, tensors, reference, error bound and cost.
 * SPDX-License-Identifier: MIT */
#ifndef MC_OP_H
#define MC_OP_H

#include <stdbool.h>
#include <stdint.h>

#include "case.h"
#include "tensor.h"
#include "variant.h"

#define MC_MAX_TENSORS 6

typedef enum mc_role {
    MC_ROLE_IN,    /* generated, uploaded, must come back unchanged */
    MC_ROLE_OUT,   /* pre-filled with the NaN sentinel; every element must be written */
    MC_ROLE_INOUT, /* generated (e.g. C with beta != 0); read and overwritten */
} mc_role;

/* One tensor of a case before it is placed in a buffer. */
typedef struct mc_tensor_spec {
    const char *name;      /* "a", "b", "c", "bias", ... */
    mc_role role;
    mc_tensor t;           /* dtype, shape, strides; offset relative to the data start */
    int64_t align_bytes;   /* the data starts this many bytes past an aligned base */
    double gen_lo, gen_hi; /* inputs: uniform values in [lo, hi], rounded to the dtype */
    double neg_inf_share;  /* inputs: share of entries set to -inf (never in column 0) */
    bool absent;           /* optional tensor not used by this case (e.g. no bias) */
    int quant_pattern;     /* quantised inputs: an mc_quant_pattern (engine/generate_quant.h) applied
                              to each generated row before it is quantised; 0 = random rows */
    int value_pattern;     /* plain inputs: an mc_quant_pattern applied (as for q8_0) to each
                              generated row, for a tensor a kernel quantises itself (gemv's x);
                              needs ne[0] a multiple of 32; 0 = values as generated */
} mc_tensor_spec;

/* What the reference gives back for every output element, in logical order (i0 fastest). */
typedef struct mc_ref_out {
    double *expected; /* the exact-as-fp64 result */
    double *bound;    /* the largest |out - expected| the error analysis allows */
} mc_ref_out;

/* What an op's speed is held to in the perf table and the report: the machine's compute rate, or
 * the bandwidth of reading (its data is read once) or copying (read once, written once). */
typedef enum mc_roof {
    MC_ROOF_COMPUTE,
    MC_ROOF_READ_BW,
    MC_ROOF_COPY_BW,
    MC_ROOF_COUNT
} mc_roof;

/* One parameter the report compares an op's variants across. Parameters in `ignore` move with
 * the swept one (left out when grouping); equal_to_x demands they equal it. */
typedef struct mc_sweep_axis {
    const char *x;
    const char *ignore[3];
    bool equal_to_x;
    const char *label;
} mc_sweep_axis;

#define MC_MAX_SWEEP_AXES 6

typedef struct mc_op {
    mc_op_id id;
    const char *name;
    const char *doc;
    const mc_param_def *params;
    int n_params;
    /* Rejects parameter values that make no sense (names the parameter). */
    mc_status (*validate)(const mc_case *c, mc_err *err);
    /* Describes the case's tensors, in a fixed order; the output is specs[*out_index]. */
    mc_status (*tensors)(const mc_case *c, mc_tensor_spec specs[MC_MAX_TENSORS], int *n,
                         int *out_index, mc_err *err);
    /* Builds the kernel arguments from the placed tensors (same order as tensors()). */
    void (*args)(const mc_case *c, const mc_tensor placed[MC_MAX_TENSORS], mc_args *out);
    /* Reference result and per-element bound. hosts[i] is the host image of tensor i's buffer
     * (the bytes uploaded), laid out as specs[i].t describes. */
    mc_status (*reference)(const mc_case *c, const mc_tensor_spec specs[MC_MAX_TENSORS],
                           const uint8_t *const hosts[MC_MAX_TENSORS], mc_ref_out *out, mc_err *err);
    double (*flops)(const mc_case *c);
    double (*bytes)(const mc_case *c);
    /* Mistrust: fail when more than this share of the output is exact zeros while the reference
     * has at most a tenth of that share (benchdnn's trick: a kernel that writes zeros passes
     * loose checks). */
    double mistrust_zero_share;
    /* The variant its timings are compared with in the same run (the perf table's "x1.8 vs"), or
     * NULL when the op is held to its roof alone. */
    const char *perf_peer;
    mc_roof roof;
    /* The report's variant comparison: axes in order of preference, ended by one with x NULL. */
    mc_sweep_axis sweep_axes[MC_MAX_SWEEP_AXES];
} mc_op;

/* "compute", "read" or "copy". */
const char *mc_roof_name(mc_roof r);

/* All ops, indexed by mc_op_id. */
const mc_op *mc_op_get(mc_op_id id);
/* Looks an op up by name; NULL when none. */
const mc_op *mc_op_find(const char *name);

#endif
