/* engine/check.h: the verdict on one kernel run: guards, inputs, gaps, every output element
 * against its bound, NaN/Inf, mistrust.
 * SPDX-License-Identifier: MIT */
#ifndef MC_CHECK_H
#define MC_CHECK_H

#include "place.h"
#include "core/result.h"

/* What one run left behind: the downloaded image of each placed tensor. */
typedef struct mc_check_input {
    const mc_op *op;
    const mc_placed *placed; /* n tensors, as placed before the run */
    const uint8_t *const *after; /* n downloaded images, same sizes as placed[i].total_bytes */
    int n;
    int out_index;
    const mc_ref_out *ref;   /* expected values and bounds of the output, logical order */
} mc_check_input;

/* Fills res->kind and the error statistics. The first failing check decides the kind, in this
 * order: guard, input modified, gap written (guard), unwritten, NaN/Inf, bound, mistrusted. */
void mc_check_run(const mc_check_input *in, mc_result *res);

#endif
