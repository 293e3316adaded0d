-- cases/perf.lua: the perf tier: the shapes inference runs, for timing and regression tracking.
-- Qwen2.5 decode and prefill shapes of every op, plus square GEMMs as a throughput baseline.
-- Every tensor is packed and aligned here: the correctness tiers own the odd layouts, and a
-- timing series must not move because a layout changed.
-- SPDX-License-Identifier: MIT
local sizes = require "sizes"
local dtypes = require "dtypes"
local models = require "models"

-- Square GEMMs: 256 to 2048, in every dtype up to 1024 (a 2048 cube is 8.6e9 multiply-adds per
-- call: f32 and f16 only).
suite "perf.gemm.square" {
  op = "gemm", dtype = dtypes.all, m = sizes.squares, n = sizes.squares, k = sizes.squares,
  where = function(c) return c.m == c.n and c.n == c.k and (c.m < 2048 or c.dtype ~= "bf16") end,
}

for _, model in ipairs(models.all) do
  for _, w in ipairs(model.matmuls) do
    local shape = model.name .. "." .. w.n .. "x" .. w.k
    -- Decode: one token, y = W x.
    suite ("perf.gemv." .. shape) {
      op = "gemv", dtype = dtypes.all, m = w.n, k = w.k,
    }
    -- Prefill: a 17-token prompt and a 128-token block through the same weights (the block in
    -- the two dtypes inference uses most; a 3B layer is 7e9 multiply-adds at m = 128).
    suite ("perf.gemm." .. shape) {
      op = "gemm", dtype = dtypes.all, m = {17, 128}, n = w.n, k = w.k,
      where = function(c) return c.m == 17 or c.dtype ~= "f32" end,
    }
  end

  -- Attention scores, 4096 keys wide: one row per query and head (batch = heads).
  suite ("perf.softmax." .. model.name) {
    op = "softmax", dtype = dtypes.all, batch = model.heads, rows = {1, 17, 128}, cols = 4096,
    scale = 1 / math.sqrt(model.head_dim),
  }

  -- Attention over a growing cache: decode (one query) and a 17-token prefill, causal, from
  -- 16 to 8192 cached keys.
  for _, n_q in ipairs({1, 17}) do
    for _, n_kv in ipairs({16, 64, 256, 1024, 4096, 8192}) do
      suite ("perf.sdpa." .. model.name .. "." .. n_q .. "x" .. n_kv) {
        op = "sdpa", dtype = dtypes.sdpa, heads = model.heads, kv_heads = model.kv_heads,
        head_dim = model.head_dim, n_q = n_q, n_kv = n_kv, causal = 1,
        q_offset = math.max(0, n_kv - n_q), -- 17 queries over 16 keys: each sees keys up to its own
      }
    end
  end
end

-- Quantised GEMV at the same decode shapes, LM head included: its own file.
include "quant_perf"

-- The decode GEMVs held to the DRAM read roof (docs/performance.md).
include "gemv_roof"

-- Dispatch coverage (each GEMM kernel forced by name, one shape per dispatcher class): the tier
-- rule holds here too.
include "dispatch"
