/* engine/place.h: puts a tensor in a guarded buffer: canary guard zones before and after,
 * NaN in every byte that is not an element, a NaN sentinel in outputs, any base misalignment.
 * SPDX-License-Identifier: MIT */
#ifndef MC_PLACE_H
#define MC_PLACE_H

#include <stddef.h>
#include <stdint.h>

#include "core/op.h"

#define MC_GUARD_DEFAULT_BYTES 4096
#define MC_GUARD_MIN_BYTES 64

/* A tensor's host image and its device buffer.
 * Buffer layout: [guard][align bytes + view span][guard]; the view's offset counts from byte 0. */
typedef struct mc_placed {
    mc_tensor_spec spec; /* the case's spec; spec.t.offset is absolute in the buffer */
    size_t guard_bytes;
    size_t data_bytes;   /* align + span */
    size_t total_bytes;
    uint8_t *image;      /* host image as uploaded: guards, fills and the generated elements */
    uint8_t *owned;      /* one flag per data byte: part of some element (1) or a gap (0) */
    struct mc_buf *buf;  /* device buffer, NULL until uploaded */
} mc_placed;

/* Builds the host image for spec: guard pattern, gap/sentinel fill, and the element map.
 * Elements of inputs are left for the generator to write. */
mc_status mc_place_init(mc_placed *p, const mc_tensor_spec *spec, size_t guard_bytes, mc_err *err);
void mc_place_free(mc_placed *p);

/* The expected guard byte at buffer position i (position-dependent, so shifted copies show). */
uint8_t mc_place_guard_byte(size_t i);
/* True when the element at byte offset off (absolute) of an output holds the unwritten sentinel. */
bool mc_place_is_sentinel(const mc_placed *p, const uint8_t *image, int64_t off);

#endif
