-- cases/lib/layouts.lua: which memory layouts and base offsets each tensor of each op can take.
-- SPDX-License-Identifier: MIT
local M = {}

-- GEMM A and B: every zero-copy view, including a batch broadcast (stride 0 over the batch).
M.gemm_ab = {"contiguous", "transposed", "padded", "stride2", "broadcast", "sliced"}
-- GEMM C is written, so it cannot be broadcast (several batches would write one matrix).
M.gemm_c = {"contiguous", "transposed", "padded", "stride2", "sliced"}
-- GEMV: the matrix takes every 2-D view; the vector is packed or strided.
M.gemv_a = {"contiguous", "transposed", "padded", "stride2", "sliced"}
M.gemv_x = {"contiguous", "stride2"}
-- Softmax: rows packed, transposed (column-major), padded, strided or cut out of a larger parent.
M.softmax = {"contiguous", "transposed", "padded", "stride2", "sliced"}
-- SDPA: heads packed, sequence-major (permuted, as a KV cache holds them) or padded rows.
M.sdpa = {"contiguous", "permuted", "padded"}

-- Base offsets in bytes past an aligned address: 0 (aligned), 2 (one f16 element: misaligned for
-- f32 and for every vector load), 4 (one f32 element), 16 (aligned for SSE, not for AVX).
M.aligns = {0, 2, 4, 16}
-- The full list from the design: adds 8, 32 and 64 (the wider vector and cache-line cases).
M.aligns_all = {0, 2, 4, 8, 16, 32, 64}

return M
