/* engine/ops/ops.c: the op table, indexed by mc_op_id.
 * SPDX-License-Identifier: MIT */
#include <assert.h>
#include <string.h>

#include "core/op.h"

extern const mc_op mc_op_gemm;
extern const mc_op mc_op_gemv;
extern const mc_op mc_op_softmax;
extern const mc_op mc_op_sdpa;

static const mc_op *const op_table[] = {
    [MC_OP_GEMM] = &mc_op_gemm,
    [MC_OP_GEMV] = &mc_op_gemv,
    [MC_OP_SOFTMAX] = &mc_op_softmax,
    [MC_OP_SDPA] = &mc_op_sdpa,
};
static_assert(sizeof op_table / sizeof op_table[0] == MC_OP_COUNT, "one entry per op");

const mc_op *mc_op_get(mc_op_id id)
{
    assert(id >= 0 && id < MC_OP_COUNT);
    return op_table[id];
}

const mc_op *mc_op_find(const char *name)
{
    for (int i = 0; i < MC_OP_COUNT; i++)
        if (strcmp(op_table[i]->name, name) == 0)
            return op_table[i];
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
