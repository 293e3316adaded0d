/* engine/ops/ops.c: looks ops up in the generated op table, indexed by mc_op_id.
 * SPDX-License-Identifier: MIT */
#include <assert.h>
#include <string.h>

#include "core/op.h"

/* mc_op_table[]: every op record, indexed by mc_op_id, generated from MC_OPS (CMakeLists.txt)
 * with a static_assert on its count. */
extern const mc_op *const mc_op_table[];

const mc_op *mc_op_get(mc_op_id id)
{
    assert(id >= 0 && id < MC_OP_COUNT);
    return mc_op_table[id];
}

const mc_op *mc_op_find(const char *name)
{
    for (int i = 0; i < MC_OP_COUNT; i++)
        if (strcmp(mc_op_table[i]->name, name) == 0)
            return mc_op_table[i];
    return NULL;
}

static const char *const roof_names[] = {
    [MC_ROOF_COMPUTE] = "compute",
    [MC_ROOF_READ_BW] = "read",
    [MC_ROOF_COPY_BW] = "copy",
};
static_assert(sizeof roof_names / sizeof roof_names[0] == MC_ROOF_COUNT, "one name per roof");

const char *mc_roof_name(mc_roof r)
{
    return (int)r >= 0 && r < MC_ROOF_COUNT ? roof_names[r] : "?";
}
