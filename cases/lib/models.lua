-- cases/lib/models.lua: the shapes of real models, so the tiers test what inference runs.
-- Numbers are from each model's config.json (hidden_size, intermediate_size, heads).
-- SPDX-License-Identifier: MIT
local M = {}

-- Builds a model record; qkv is the fused Q, K and V projection's width.
local function model(name, hidden, ffn, heads, kv_heads, head_dim)
  local qkv = heads * head_dim + 2 * kv_heads * head_dim
  return {
    name = name, hidden = hidden, ffn = ffn, heads = heads, kv_heads = kv_heads,
    head_dim = head_dim, qkv = qkv,
    -- every weight matrix of one layer as (n, k): out = in (k) x W (k x n)
    matmuls = {
      {n = qkv, k = hidden},    -- fused Q/K/V projection
      {n = hidden, k = hidden}, -- attention output projection
      {n = ffn, k = hidden},    -- MLP gate and up projections
      {n = hidden, k = ffn},    -- MLP down projection
    },
  }
end

M.qwen05 = model("Qwen2.5-0.5B", 896, 4864, 14, 2, 64)
M.qwen3 = model("Qwen2.5-3B", 2048, 11008, 16, 2, 128)
M.all = {M.qwen05, M.qwen3}

return M
