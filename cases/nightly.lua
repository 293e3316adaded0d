-- cases/nightly.lua: the nightly tier: all of precommit, then wider sweeps: sizes just off tile
-- boundaries, every base offset against every layout, longer rows and longer caches.
-- SPDX-License-Identifier: MIT
include "precommit"

local sizes = require "sizes"
local layouts = require "layouts"
local dtypes = require "dtypes"
local models = require "models"
local threads = require "threads"

-- ---- GEMM -----------------------------------------------------------------------------------

-- Sizes just off the tile sizes of blocked kernels (8, 56, 120, 136, 256, 264, 512, 520) in all
-- three dimensions, up to 1e7 multiply-adds a case.
suite "nightly.gemm.off_tile" {
  op = "gemm", dtype = dtypes.all, m = sizes.off_tile, n = sizes.off_tile, k = sizes.off_tile,
  where = function(c) return c.m * c.n * c.k <= 136 * 264 * 264 end,
}

-- The whole edge cube: every tail combination, unfiltered.
suite "nightly.gemm.edge" {
  op = "gemm", dtype = dtypes.all, m = sizes.edge, n = sizes.edge, k = sizes.edge,
}

-- Every A, B and C view against every base offset the design names, at an odd medium size.
suite "nightly.gemm.layouts" {
  op = "gemm", dtype = dtypes.all, batch = 3, m = 37, n = 41, k = 43,
  layout_a = layouts.gemm_ab, layout_b = layouts.gemm_ab, layout_c = layouts.gemm_c,
  align = layouts.aligns_all,
}

-- The epilogue at sizes past a tile, with batches.
suite "nightly.gemm.epilogue" {
  op = "gemm", dtype = dtypes.all, m = {120, 136}, n = {56, 264}, k = 136, batch = {1, 2},
  alpha = {1, -1.5}, beta = {0, 1, 0.5}, bias = {0, 1},
}

-- Every Qwen2.5 weight matrix at a 17-token prefill, in every dtype.
for _, model in ipairs(models.all) do
  for _, w in ipairs(model.matmuls) do
    suite ("nightly.gemm." .. model.name .. "." .. w.n .. "x" .. w.k) {
      op = "gemm", dtype = dtypes.all, m = 17, n = w.n, k = w.k,
    }
  end
end

-- ---- GEMV -----------------------------------------------------------------------------------

suite "nightly.gemv.off_tile" {
  op = "gemv", dtype = dtypes.all, m = sizes.off_tile, k = {1, 7, 255, 256, 257, 1000, 4096, 11008},
}

suite "nightly.gemv.layouts" {
  op = "gemv", dtype = dtypes.all, m = {1, 63, 129, 520}, k = {9, 127, 1000},
  layout_a = layouts.gemv_a, layout_x = layouts.gemv_x, align = layouts.aligns_all,
}

-- ---- softmax --------------------------------------------------------------------------------

-- Long rows: a vocabulary-sized slice and the longest contexts, plus every layout and offset.
suite "nightly.softmax.long" {
  op = "softmax", dtype = dtypes.all, rows = {1, 3, 17}, cols = {2047, 2048, 4096, 8191, 32768},
  mag = {1, 30},
}

suite "nightly.softmax.layouts" {
  op = "softmax", dtype = dtypes.all, rows = {9, 64}, cols = {63, 1024}, batch = {1, 4},
  layout = layouts.softmax, align = layouts.aligns_all,
  causal = {0, 1}, q_offset = 3, neg_inf = {0, 0.3},
}

-- ---- SDPA -----------------------------------------------------------------------------------

-- Longer caches in both models' head shapes, then every layout and offset at one length.
for _, model in ipairs(models.all) do
  suite ("nightly.sdpa." .. model.name) {
    op = "sdpa", dtype = dtypes.sdpa, heads = model.heads, kv_heads = model.kv_heads,
    head_dim = model.head_dim, n_q = {1, 17}, n_kv = {65, 127, 128, 129, 256, 513, 1024},
    causal = {0, 1},
  }
  suite ("nightly.sdpa.layouts." .. model.name) {
    op = "sdpa", dtype = dtypes.sdpa, heads = model.heads, kv_heads = model.kv_heads,
    head_dim = model.head_dim, n_q = {1, 17}, n_kv = 129, causal = {0, 1}, q_offset = 112,
    layout = layouts.sdpa, align = layouts.aligns_all,
  }
end

suite "nightly.sdpa.gqa" {
  op = "sdpa", dtype = dtypes.sdpa, heads = {2, 4, 6, 8, 12, 16, 32}, kv_heads = {1, 2, 4},
  n_q = {1, 9}, n_kv = {33, 129}, head_dim = {32, 80, 128}, causal = {0, 1},
  where = function(c) return c.heads % c.kv_heads == 0 and c.heads > c.kv_heads end,
}

-- ---- Thread counts: a larger odd count and heavier oversubscription ---------------------------
suite "nightly.threads.gemm" {
  op = "gemm", dtype = "f32", m = {520, 8191}, n = {1, 513}, k = {519, 2049}, threads = threads.nightly,
  where = function(c) return (c.n == 1) == (c.m == 8191) and (c.n == 1) == (c.k == 2049) end,
}
suite "nightly.threads.softmax" {
  op = "softmax", dtype = {"f32", "f16"}, rows = 61, cols = 4099, threads = threads.nightly,
}
