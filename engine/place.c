/* engine/place.c: guarded host images of tensors.
 *
 * Invariants of a placed buffer (the checks rely on each):
 *   1. Bytes [0, guard) and [guard + data, total) hold mc_place_guard_byte(i): any change is a write
 *      out of bounds.
 *   2. Every data byte that belongs to no element holds the dtype's gap NaN (inputs) or the
 *      sentinel NaN (outputs): a kernel that reads a gap poisons its result, one that writes a gap
 *      changes bytes that must not change.
 *   3. Output elements start as the sentinel NaN, so an element left unwritten is recognisable.
 * SPDX-License-Identifier: MIT */
#include "place.h"

#include <stdlib.h>
#include <string.h>

/* Fill patterns, little-endian, one per dtype: all are NaNs, with payloads that say which. */
static const uint8_t sentinel_f32[4] = {0x17, 0x5E, 0xC0, 0x7F}; /* 0x7FC05E17 */
static const uint8_t sentinel_16[2] = {0x17, 0x7E};              /* f16 0x7E17 */
static const uint8_t sentinel_bf16[2] = {0xC5, 0x7F};            /* bf16 0x7FC5 */
static const uint8_t gap_f32[4] = {0xD0, 0xBA, 0xC0, 0x7F};      /* 0x7FC0BAD0 */
static const uint8_t gap_16[2] = {0x0D, 0x7E};                   /* f16 0x7E0D; quant scales too */
static const uint8_t gap_bf16[2] = {0xCD, 0x7F};                 /* bf16 0x7FCD */

static const uint8_t *fill_pattern(mc_dtype dt, bool sentinel, size_t *len)
{
    switch (dt) {
    case MC_DTYPE_F32:
        *len = 4;
        return sentinel ? sentinel_f32 : gap_f32;
    case MC_DTYPE_BF16:
        *len = 2;
        return sentinel ? sentinel_bf16 : gap_bf16;
    default:
        *len = 2;
        return sentinel ? sentinel_16 : gap_16;
    }
}

uint8_t mc_place_guard_byte(size_t i)
{
    return (uint8_t)(0xA5u ^ (uint8_t)(i * 131u + (i >> 8)));
}

/* Calls mark(p, byte offset) for every storage unit (element, or block for quants) of the view. */
static void mark_owned(mc_placed *p)
{
    const mc_tensor *t = &p->spec.t;
    const int64_t unit = mc_tensor_unit_bytes(t);
    const int64_t per_unit = mc_dtype_info_of(t->dtype)->block_elems;
    int64_t ne[MC_MAX_DIMS] = {t->ne[0] / per_unit, t->ne[1], t->ne[2], t->ne[3]};
    int64_t idx[MC_MAX_DIMS] = {0, 0, 0, 0};
    const int64_t data_start = (int64_t)p->guard_bytes;
    do {
        int64_t off = t->offset + idx[0] * t->nb[0] + idx[1] * t->nb[1] + idx[2] * t->nb[2] +
                      idx[3] * t->nb[3];
        memset(p->owned + (off - data_start), 1, (size_t)unit);
    } while (mc_index_next(idx, ne));
}

static void fill_data(mc_placed *p)
{
    size_t len;
    const bool out = p->spec.role == MC_ROLE_OUT;
    const uint8_t *pat = fill_pattern(p->spec.t.dtype, out, &len);
    const size_t start = p->guard_bytes;
    /* pattern phase follows the view's first element, so every element slot holds whole NaNs */
    const size_t phase = (size_t)p->spec.t.offset % len;
    for (size_t i = start; i < start + p->data_bytes; i++)
        p->image[i] = pat[(i + len - phase) % len];
}

mc_status mc_place_init(mc_placed *p, const mc_tensor_spec *spec, size_t guard_bytes, mc_err *err)
{
    memset(p, 0, sizeof *p);
    if (guard_bytes < MC_GUARD_MIN_BYTES)
        return mc_err_set(err, MC_ERR_CONFIG, "guard zones need at least %d bytes, got %zu",
                          MC_GUARD_MIN_BYTES, guard_bytes);
    p->spec = *spec;
    p->guard_bytes = guard_bytes;
    p->data_bytes = (size_t)(spec->align_bytes + mc_tensor_span_bytes(&spec->t));
    p->total_bytes = 2 * guard_bytes + p->data_bytes;
    p->spec.t.offset += (int64_t)guard_bytes + spec->align_bytes;
    p->image = malloc(p->total_bytes);
    p->owned = calloc(p->data_bytes, 1);
    if (!p->image || !p->owned) {
        mc_place_free(p);
        return mc_err_set(err, MC_ERR_NOMEM, "cannot allocate a %zu-byte image for tensor '%s'",
                          p->total_bytes, spec->name);
    }
    for (size_t i = 0; i < guard_bytes; i++) {
        p->image[i] = mc_place_guard_byte(i);
        p->image[p->total_bytes - guard_bytes + i] = mc_place_guard_byte(p->total_bytes - guard_bytes + i);
    }
    fill_data(p);
    mark_owned(p);
    return MC_OK;
}

void mc_place_free(mc_placed *p)
{
    free(p->image);
    free(p->owned);
    p->image = NULL;
    p->owned = NULL;
}

bool mc_place_is_sentinel(const mc_placed *p, const uint8_t *image, int64_t off)
{
    size_t len;
    const uint8_t *pat = fill_pattern(p->spec.t.dtype, true, &len);
    return memcmp(image + off, pat, len) == 0;
}
