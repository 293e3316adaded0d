-- cases/precommit.lua: the per-commit tier: all of quick, plus a handful of larger shapes that
-- the timing comparison between commits watches (GEMMs of 256..1024, the Qwen2.5 GEMVs).
-- SPDX-License-Identifier: MIT
include "quick"
include "coverage" -- code no other suite reaches (docs/coverage.md)

local dtypes = require "dtypes"
local models = require "models"
local threads = require "threads"

-- Square GEMMs big enough to leave the cache-resident regime; 512 and up in f32 and f16 only.
suite "precommit.gemm.square" {
  op = "gemm", dtype = dtypes.all, m = {256, 512}, n = {256, 512}, k = {256, 512},
  where = function(c)
    return c.m == c.n and c.n == c.k and (c.m == 256 or c.dtype ~= "bf16")
  end,
}

-- 1024-wide GEMMs with a short m: the shape of a prefill block, at a fifteenth of a full cube's cost.
suite "precommit.gemm.wide" {
  op = "gemm", dtype = {"f32", "f16"}, m = 64, n = 1024, k = 1024,
}

-- Every Qwen2.5 weight matrix at decode, in every dtype (quick runs part of them).
for _, model in ipairs(models.all) do
  for _, w in ipairs(model.matmuls) do
    suite ("precommit.gemv." .. model.name .. "." .. w.n .. "x" .. w.k) {
      op = "gemv", dtype = dtypes.all, m = w.n, k = w.k,
    }
  end
end

-- Decode attention over a longer cache, for the fused-vs-three-stage comparison.
for _, model in ipairs(models.all) do
  suite ("precommit.sdpa." .. model.name) {
    op = "sdpa", dtype = dtypes.sdpa, heads = model.heads, kv_heads = model.kv_heads,
    head_dim = model.head_dim, n_q = 1, n_kv = {256, 1024}, causal = 1, q_offset = {255, 1023},
    where = function(c) return c.q_offset == c.n_kv - 1 end,
  }
end

-- ---- Thread counts: 1, 2, 3, 5 and more threads than cores, for every threaded cpu kernel -------
-- Each shape gives every kernel enough work to split as many ways as it is allowed (the tiled
-- GEMM wants 4M flops a thread, the GEMVs 64K weights, softmax 16K elements, SDPA 2M flops), and
-- odd sizes, so no split comes out even.

suite "precommit.threads.gemm.tiled" {
  op = "gemm", dtype = {"f32", "f16"}, m = 331, n = 333, k = 335, threads = threads.sweep,
  where = function(c) return c.dtype == "f32" or c.threads == "3" end,
}
suite "precommit.threads.gemv" { -- every dtype: gemv_f16_avx2 and gemv_bf16_avx2 take only their own
  op = "gemv", dtype = dtypes.all, m = 4099, k = 1025, layout_a = {"contiguous", "transposed"},
  threads = threads.sweep,
  where = function(c) return c.dtype == "f32" or c.layout_a == "contiguous" end,
}
suite "precommit.threads.gemv.quant" {
  op = "gemv", wtype = {"q8_0", "q4_0"}, dtype = "f32", m = 4099, k = 1024, xq = {"none", "q8_0"},
  threads = threads.sweep,
}
suite "precommit.threads.softmax" {
  op = "softmax", dtype = "f32", rows = {1, 37}, cols = {4097, 100003}, threads = threads.sweep,
  where = function(c) return (c.rows == 1) == (c.cols == 100003) end, -- one long row splits its segments
}
suite "precommit.threads.sdpa" {
  op = "sdpa", dtype = "f32", heads = 14, kv_heads = 2, n_q = 17, n_kv = 1031, head_dim = 64, causal = 1,
  q_offset = 1014, threads = threads.sweep,
}

-- ---- Paths no other suite reaches (issue 12, item 7) --------------------------------------------
-- The row walk of a GEMV-shaped GEMM: n = 1 with m past one 2048-row block, A's rows contiguous
-- (gemm_gemv walks each row) or transposed (it walks the block's columns); and m = 1 with a long n,
-- which gemm_gemv solves as C^T = B^T A^T. Odd row counts split among every thread count.
suite "precommit.gemm.gemv_rows" { -- 6143 rows: three 2048-row blocks, split 5 ways at most
  op = "gemm", dtype = {"f32", "f16"}, m = 6143, n = 1, k = 1711, layout_a = {"contiguous", "transposed"},
  threads = threads.sweep,
  where = function(c) return (c.dtype == "f32" and c.layout_a == "contiguous") or c.threads == "3" end,
}
suite "precommit.gemm.gemv_cols" {
  op = "gemm", dtype = "f32", m = 1, n = 6143, k = 1711, threads = "3",
}
-- gemm_small_n: rows taken four at a time plus a remainder of 1..3, split among threads.
suite "precommit.gemm.small_n_rows" {
  op = "gemm", dtype = "f32", m = {4097, 4099}, n = {3, 8}, k = 1031, threads = {"2", "3", "5"},
  where = function(c) return (c.m == 4097) == (c.n == 3) end,
}
