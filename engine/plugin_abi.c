/* engine/plugin_abi.c: what the adapter expects of the public ABI: the 1.0 record sizes, and the
 * public op and dtype numbers against the harness's own (tests/test_plugin_abi.c pins the layout).
 * SPDX-License-Identifier: MIT */
#include <assert.h>
#include <string.h>

#include "core/op.h"
#include "plugin_int.h"

/* ABI 1.0: a record ends with these fields (a later minor only appends). */
const uint32_t mc_plugin_min_size_variant = (uint32_t)sizeof(mc_plugin_variant);
const uint32_t mc_plugin_min_size_backend = (uint32_t)sizeof(mc_plugin_backend);

/* The public op numbers, by the harness's op names (the harness's op ids follow CMake's list). */
static const char *const public_ops[] = {
    [MC_PLUGIN_OP_GEMM] = "gemm",
    [MC_PLUGIN_OP_GEMV] = "gemv",
    [MC_PLUGIN_OP_SOFTMAX] = "softmax",
    [MC_PLUGIN_OP_SDPA] = "sdpa",
};
static_assert(sizeof public_ops / sizeof public_ops[0] == MC_PLUGIN_OP_SDPA + 1, "one name per public op");

mc_op_id mc_plugin_op_to_harness(int32_t op)
{
    if (op <= 0 || op > MC_PLUGIN_OP_SDPA)
        return MC_OP_COUNT;
    const mc_op *o = mc_op_find(public_ops[op]);
    return o ? o->id : MC_OP_COUNT;
}

/* Indexed by the harness's dtype. */
static const int32_t public_dtypes[] = {
    [MC_DTYPE_F32] = MC_PLUGIN_F32,
    [MC_DTYPE_F16] = MC_PLUGIN_F16,
    [MC_DTYPE_BF16] = MC_PLUGIN_BF16,
    [MC_DTYPE_Q8_0] = MC_PLUGIN_Q8_0,
    [MC_DTYPE_Q4_0] = MC_PLUGIN_Q4_0,
    [MC_DTYPE_Q4_1] = MC_PLUGIN_Q4_1,
    [MC_DTYPE_Q5_0] = MC_PLUGIN_Q5_0,
    [MC_DTYPE_Q5_1] = MC_PLUGIN_Q5_1,
    [MC_DTYPE_Q2_K] = MC_PLUGIN_Q2_K,
    [MC_DTYPE_Q3_K] = MC_PLUGIN_Q3_K,
    [MC_DTYPE_Q4_K] = MC_PLUGIN_Q4_K,
    [MC_DTYPE_Q5_K] = MC_PLUGIN_Q5_K,
    [MC_DTYPE_Q6_K] = MC_PLUGIN_Q6_K,
    [MC_DTYPE_Q8_K] = MC_PLUGIN_Q8_K,
};
static_assert(sizeof public_dtypes / sizeof public_dtypes[0] == MC_DTYPE_COUNT, "one public number per dtype");

int32_t mc_plugin_dtype_from_harness(mc_dtype dt)
{
    return (unsigned)dt < MC_DTYPE_COUNT ? public_dtypes[dt] : -1;
}
