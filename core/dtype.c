/* core/dtype.c: the dtype table.
 * SPDX-License-Identifier: MIT */
#include "dtype.h"

#include <assert.h>
#include <string.h>


static const mc_dtype_info dtype_table[] = {
    [MC_DTYPE_F32] = {"f32", 1, 4, 0x1p-24, false},
    [MC_DTYPE_F16] = {"f16", 1, 2, 0x1p-11, false},
    [MC_DTYPE_BF16] = {"bf16", 1, 2, 0x1p-8, false},
    [MC_DTYPE_Q8_0] = {"q8_0", MC_QK, MC_Q8_0_BLOCK_BYTES, 0x1p-11, true},
    [MC_DTYPE_Q4_0] = {"q4_0", MC_QK, MC_Q4_0_BLOCK_BYTES, 0x1p-11, true},
    [MC_DTYPE_Q4_1] = {"q4_1", MC_QK, MC_Q4_1_BLOCK_BYTES, 0x1p-11, true},
    [MC_DTYPE_Q5_0] = {"q5_0", MC_QK, MC_Q5_0_BLOCK_BYTES, 0x1p-11, true},
    [MC_DTYPE_Q5_1] = {"q5_1", MC_QK, MC_Q5_1_BLOCK_BYTES, 0x1p-11, true},
    [MC_DTYPE_Q2_K] = {"q2_K", MC_QK_K, MC_Q2_K_BLOCK_BYTES, 0x1p-11, true},
    [MC_DTYPE_Q3_K] = {"q3_K", MC_QK_K, MC_Q3_K_BLOCK_BYTES, 0x1p-11, true},
    [MC_DTYPE_Q4_K] = {"q4_K", MC_QK_K, MC_Q4_K_BLOCK_BYTES, 0x1p-11, true},
    [MC_DTYPE_Q5_K] = {"q5_K", MC_QK_K, MC_Q5_K_BLOCK_BYTES, 0x1p-11, true},
    [MC_DTYPE_Q6_K] = {"q6_K", MC_QK_K, MC_Q6_K_BLOCK_BYTES, 0x1p-11, true},
    [MC_DTYPE_Q8_K] = {"q8_K", MC_QK_K, MC_Q8_K_BLOCK_BYTES, 0x1p-24, true},
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
