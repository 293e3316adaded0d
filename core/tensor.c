/* core/tensor.c: view construction for every layout, addressing and element access.
 * SPDX-License-Identifier: MIT */
#include "tensor.h"

#include <math.h>
#include <string.h>

#include "half.h"
#include "dtype.h"
#include "quant_format.h"

static const char *const layout_names[] = {
    [MC_LAYOUT_CONTIGUOUS] = "contiguous", [MC_LAYOUT_TRANSPOSED] = "transposed",
    [MC_LAYOUT_PADDED] = "padded",         [MC_LAYOUT_STRIDE2] = "stride2",
    [MC_LAYOUT_BROADCAST] = "broadcast",   [MC_LAYOUT_SLICED] = "sliced",
    [MC_LAYOUT_PERMUTED] = "permuted",
};
_Static_assert(sizeof layout_names / sizeof layout_names[0] == MC_LAYOUT_COUNT, "one name per layout");

const char *mc_layout_name(mc_layout l)
{
    return (l >= 0 && l < MC_LAYOUT_COUNT) ? layout_names[l] : "?";
}

bool mc_layout_parse(const char *name, mc_layout *out)
{
    for (int i = 0; i < MC_LAYOUT_COUNT; i++) {
        if (strcmp(name, layout_names[i]) == 0) {
            *out = (mc_layout)i;
            return true;
        }
    }
    return false;
}

int64_t mc_tensor_unit_bytes(const mc_tensor *t)
{
    return mc_dtype_info_of(t->dtype)->block_bytes;
}

/* Packs dims in the memory order `order` (innermost first), with `first` as the innermost
 * stride and `row_units` units between consecutive entries of the second dim in that order. */
static void strides_packed(mc_tensor *t, const int order[MC_MAX_DIMS], int64_t unit, int64_t step,
                           int64_t row_units)
{
    int64_t units[MC_MAX_DIMS]; /* storage units per dim (blocks for quants) */
    for (int d = 0; d < MC_MAX_DIMS; d++)
        units[d] = t->ne[d];
    if (mc_dtype_info_of(t->dtype)->quantised)
        units[0] = t->ne[0] / mc_dtype_info_of(t->dtype)->block_elems;
    int64_t stride = unit * step;
    for (int i = 0; i < MC_MAX_DIMS; i++) {
        int d = order[i];
        t->nb[d] = stride;
        int64_t extent = (i == 0 && row_units > 0) ? row_units : units[d] * step;
        stride = (i == 0) ? unit * extent : stride * units[d];
    }
}

mc_status mc_tensor_init(mc_tensor *t, mc_dtype dt, const int64_t ne[MC_MAX_DIMS], mc_layout l,
                         mc_err *err)
{
    memset(t, 0, sizeof *t);
    t->dtype = dt;
    for (int d = 0; d < MC_MAX_DIMS; d++) {
        if (ne[d] < 1)
            return mc_err_set(err, MC_ERR_CONFIG, "dimension %d has %lld elements; need >= 1", d,
                              (long long)ne[d]);
        t->ne[d] = ne[d];
    }
    const mc_dtype_info *info = mc_dtype_info_of(dt);
    if (info->quantised && ne[0] % info->block_elems != 0)
        return mc_err_set(err, MC_ERR_CONFIG, "%s rows must be a multiple of %d elements, not %lld",
                          info->name, info->block_elems, (long long)ne[0]);
    if (info->quantised && (l == MC_LAYOUT_TRANSPOSED || l == MC_LAYOUT_STRIDE2 || l == MC_LAYOUT_PERMUTED))
        return mc_err_set(err, MC_ERR_UNSUPPORTED, "%s cannot take the %s layout: blocks are row-contiguous",
                          info->name, mc_layout_name(l));
    const int64_t unit = info->block_bytes;
    const int64_t row_units = info->quantised ? ne[0] / info->block_elems : ne[0];
    static const int natural[MC_MAX_DIMS] = {0, 1, 2, 3};
    static const int swapped01[MC_MAX_DIMS] = {1, 0, 2, 3};
    static const int swapped12[MC_MAX_DIMS] = {0, 2, 1, 3};
    switch (l) {
    case MC_LAYOUT_CONTIGUOUS:
    case MC_LAYOUT_BROADCAST:
        strides_packed(t, natural, unit, 1, 0);
        if (l == MC_LAYOUT_BROADCAST) {
            t->nb[2] = 0;
            t->nb[3] = 0;
        }
        break;
    case MC_LAYOUT_TRANSPOSED:
        strides_packed(t, swapped01, unit, 1, 0);
        break;
    case MC_LAYOUT_PADDED:
        strides_packed(t, natural, unit, 1, row_units + MC_LAYOUT_PAD_ELEMS);
        break;
    case MC_LAYOUT_STRIDE2:
        strides_packed(t, natural, unit, 2, 0);
        break;
    case MC_LAYOUT_SLICED: {
        /* parent: 5 more units per row, 2 more rows; the view starts at row 1, unit 3 */
        strides_packed(t, natural, unit, 1, row_units + 5);
        int64_t parent_rows = ne[1] + 2;
        t->nb[2] = t->nb[1] * parent_rows;
        t->nb[3] = t->nb[2] * ne[2];
        t->offset = t->nb[1] + 3 * unit;
        break;
    }
    case MC_LAYOUT_PERMUTED:
        strides_packed(t, swapped12, unit, 1, 0);
        break;
    default:
        return mc_err_set(err, MC_ERR_CONFIG, "unknown layout %d", (int)l);
    }
    return MC_OK;
}

int64_t mc_tensor_nelems(const mc_tensor *t)
{
    return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}

int64_t mc_tensor_span_bytes(const mc_tensor *t)
{
    int64_t last = t->offset;
    const int qk = mc_dtype_info_of(t->dtype)->block_elems; /* 1 for plain floats */
    for (int d = 0; d < MC_MAX_DIMS; d++) {
        int64_t n = d == 0 ? t->ne[0] / qk : t->ne[d];
        last += (n - 1) * t->nb[d];
    }
    return last + mc_tensor_unit_bytes(t);
}

int64_t mc_tensor_elem_offset(const mc_tensor *t, const int64_t idx[MC_MAX_DIMS])
{
    const mc_dtype_info *info = mc_dtype_info_of(t->dtype);
    int64_t i0 = info->quantised ? idx[0] / info->block_elems : idx[0];
    return t->offset + i0 * t->nb[0] + idx[1] * t->nb[1] + idx[2] * t->nb[2] + idx[3] * t->nb[3];
}

bool mc_tensor_is_contiguous(const mc_tensor *t)
{
    int64_t expect = mc_tensor_unit_bytes(t);
    const int qk = mc_dtype_info_of(t->dtype)->block_elems;
    for (int d = 0; d < MC_MAX_DIMS; d++) {
        int64_t n = d == 0 ? t->ne[0] / qk : t->ne[d];
        if (n > 1 && t->nb[d] != expect)
            return false;
        expect *= n;
    }
    return true;
}

bool mc_index_next(int64_t idx[MC_MAX_DIMS], const int64_t ne[MC_MAX_DIMS])
{
    for (int d = 0; d < MC_MAX_DIMS; d++) {
        if (++idx[d] < ne[d])
            return true;
        idx[d] = 0;
    }
    return false;
}

double mc_tensor_get(const mc_tensor *t, const uint8_t *base, const int64_t idx[MC_MAX_DIMS])
{
    const uint8_t *p = base + mc_tensor_elem_offset(t, idx);
    uint16_t h;
    float f;
    switch (t->dtype) {
    case MC_DTYPE_F32:
        memcpy(&f, p, sizeof f);
        return f;
    case MC_DTYPE_F16:
        memcpy(&h, p, sizeof h);
        return mc_f16_to_f32(h);
    case MC_DTYPE_BF16:
        memcpy(&h, p, sizeof h);
        return mc_bf16_to_f32(h);
    default:
        return mc_quant_elem(t->dtype, p, (int)(idx[0] % mc_dtype_info_of(t->dtype)->block_elems), NULL);
    }
}

double mc_tensor_get_mag(const mc_tensor *t, const uint8_t *base, const int64_t idx[MC_MAX_DIMS])
{
    if (!mc_dtype_info_of(t->dtype)->quantised)
        return fabs(mc_tensor_get(t, base, idx));
    double mag = 0;
    const int qk = mc_dtype_info_of(t->dtype)->block_elems;
    mc_quant_elem(t->dtype, base + mc_tensor_elem_offset(t, idx), (int)(idx[0] % qk), &mag);
    return mag;
}

/* v rounded to float toward zero, with the last bit set when inexact ("round to odd"). Rounding
 * that float to a format at least two bits narrower gives the same result as rounding v directly
 * (Boldo & Melquiond, 2008); plain (float)v would round twice and turn values just past an
 * f16/bf16 tie into exact ties. */
static float f32_round_to_odd(double v)
{
    float f = (float)v;
    if (!isfinite(f) || (double)f == v)
        return f;
    if (fabs((double)f) > fabs(v))
        f = nextafterf(f, 0.0f); /* truncate toward zero */
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    bits |= 1u;
    memcpy(&f, &bits, sizeof f);
    return f;
}

void mc_tensor_set(const mc_tensor *t, uint8_t *base, const int64_t idx[MC_MAX_DIMS], double v)
{
    uint8_t *p = base + mc_tensor_elem_offset(t, idx);
    uint16_t h;
    float f = (float)v;
    switch (t->dtype) {
    case MC_DTYPE_F32:
        memcpy(p, &f, sizeof f);
        break;
    case MC_DTYPE_F16:
        h = mc_f32_to_f16(f32_round_to_odd(v)); /* one correct rounding of v */
        memcpy(p, &h, sizeof h);
        break;
    case MC_DTYPE_BF16:
        h = mc_f32_to_bf16(f32_round_to_odd(v));
        memcpy(p, &h, sizeof h);
        break;
    default:
        break; /* quantised tensors are written block-wise by the quantiser */
    }
}
