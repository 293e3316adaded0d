/* core/dtype.c: the dtype table.
 * SPDX-License-Identifier: MIT */
#include "dtype.h"

#include <assert.h>
#include <string.h>

static const mc_dtype_info dtype_table[MC_DTYPE_COUNT] = {
    [MC_DTYPE_F32] = {"f32", 1, 4, 0x1p-24, false},
    [MC_DTYPE_F16] = {"f16", 1, 2, 0x1p-11, false},
    [MC_DTYPE_BF16] = {"bf16", 1, 2, 0x1p-8, false},
    [MC_DTYPE_Q8_0] = {"q8_0", 32, 34, 0x1p-11, true},
    [MC_DTYPE_Q4_0] = {"q4_0", 32, 18, 0x1p-11, true},
};
static_assert(sizeof dtype_table / sizeof dtype_table[0] == MC_DTYPE_COUNT, "one entry per dtype");

const mc_dtype_info *mc_dtype_info_of(mc_dtype dt)
{
    assert(dt >= 0 && dt < MC_DTYPE_COUNT);
    return &dtype_table[dt];
}

const char *mc_dtype_name(mc_dtype dt)
{
    return mc_dtype_info_of(dt)->name;
}

bool mc_dtype_parse(const char *name, mc_dtype *out)
{
    for (int i = 0; i < MC_DTYPE_COUNT; i++) {
        if (strcmp(name, dtype_table[i].name) == 0) {
            *out = (mc_dtype)i;
            return true;
        }
    }
    return false;
}

int mc_dtype_elem_bytes(mc_dtype dt)
{
    assert(!dtype_table[dt].quantised);
    return dtype_table[dt].block_bytes;
}
