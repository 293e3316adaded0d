-- cases/lib/dtypes.lua: element types per op.
-- SPDX-License-Identifier: MIT
local M = {}

M.all = {"f32", "f16", "bf16"} -- gemm, gemv and softmax take all three
M.sdpa = {"f32", "f16"}        -- the SDPA kernels follow the seed: f32 and f16 only
M.half = {"f16", "bf16"}       -- the 16-bit types, whose conversions are the usual bugs

return M
