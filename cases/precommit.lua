-- cases/precommit.lua: the per-commit tier: all of quick, plus a handful of larger shapes that
-- the timing comparison between commits watches (GEMMs of 256..1024, the Qwen2.5 GEMVs).
-- SPDX-License-Identifier: MIT
include "quick"

local dtypes = require "dtypes"
local models = require "models"

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
