-- cases/mutants_seeds.lua: the no-false-alarm subset that tests/test_mutants.c runs every pristine
-- cpu variant over, once per seed 1..20: the cases whose verdict depends most on the random inputs.
-- SPDX-License-Identifier: MIT
--
-- A bound derived from the maths must hold for every input, so what a new seed can expose is a
-- bound that is tight only on average: long dot products (error grows with k), 16-bit outputs,
-- cancellation (alpha, beta, bias of both signs), large logits, rows split into segments,
-- activation quantisation (xq) and attention at model shapes. Each suite below holds one such
-- axis, at sizes that cost little, and together they give every pristine cpu variant (the tiled,
-- narrow and BLAS GEMMs, each GEMV, each quantised GEMV, each softmax and SDPA) cases to run.
-- Every layout and base offset also runs at one odd shape per op: a new seed sends new values
-- down each view's stride and alignment paths.
-- About 570 cases; one seed of every cpu variant takes a few seconds on two cores.

local dtypes = require "dtypes"
local layouts = require "layouts"
local models = require "models"

-- GEMM: tile tails (33, 65), a narrow product (m = 1) and a small-n one (n = 8), packed and
-- transposed operands, a misaligned base, and a batch.
suite "seeds.gemm.shapes" {
  op = "gemm", dtype = dtypes.all, m = {1, 33}, n = {8, 65}, k = {64, 129},
  layout_a = {"contiguous", "transposed"}, align = {0, 2},
  where = function(c) return (c.m == 1) == (c.k == 129) and (c.align == 0 or c.layout_a == "contiguous") end,
}
-- The epilogue with cancellation: alpha, beta and bias of both signs at a larger magnitude.
suite "seeds.gemm.epilogue" {
  op = "gemm", dtype = dtypes.all, m = 17, n = 33, k = 257, alpha = {1, -2}, beta = {0, -0.75}, bias = {0, 1},
  mag = 4, batch = {1, 3},
  where = function(c) return (c.batch == 3) == (c.alpha == 1 and c.beta == 0) end,
}

-- Every pair of A and B views, and every base offset, at one odd shape.
suite "seeds.gemm.layouts" {
  op = "gemm", dtype = dtypes.all, batch = 3, m = 7, n = 9, k = 31,
  layout_a = layouts.gemm_ab, layout_b = layouts.gemm_ab,
}
suite "seeds.gemm.views" {
  op = "gemm", dtype = dtypes.all, m = 9, n = 33, k = 64, align = layouts.aligns,
  layout_c = layouts.gemm_c, beta = {0, 1},
  where = function(c) return (c.beta == 1) == (c.align == 0) end,
}

-- GEMV: long rows (the bound's k u term), every dtype, rows and columns packed.
suite "seeds.gemv.long" {
  op = "gemv", dtype = dtypes.all, m = {17, 65}, k = {1000, 4096}, layout_a = {"contiguous", "transposed"},
  where = function(c) return (c.m == 17) == (c.k == 4096) end,
}
suite "seeds.gemv.layouts" {
  op = "gemv", dtype = dtypes.all, layout_a = layouts.gemv_a, layout_x = layouts.gemv_x,
  align = layouts.aligns, m = 65, k = 129,
}
-- Quantised weights, with and without activation quantisation, at a small and a large magnitude.
suite "seeds.gemv.quant" {
  op = "gemv", wtype = {"q8_0", "q4_0"}, dtype = {"f32", "f16"}, m = 17, k = {96, 896}, xq = {"none", "q8_0"},
  mag = {1, 50},
  where = function(c) return (c.k == 896) == (c.mag == 1) end,
}
-- Misaligned block bases (1 and 3 bytes off) and a strided x, with and without xq.
suite "seeds.gemv.quant_align" {
  op = "gemv", wtype = {"q8_0", "q4_0"}, dtype = {"f32", "f16"}, m = 9, k = 96, align = {0, 1, 3},
  layout_x = {"contiguous", "stride2"}, xq = {"none", "q8_0"},
}

-- The other formats: rows inside and on super-block boundaries, misaligned bases, each format's
-- own activation quantisation.
suite "seeds.gemv.quant_formats" {
  op = "gemv", wtype = {"q4_1", "q5_0", "q5_1", "q2_K", "q3_K", "q4_K", "q5_K", "q6_K"}, dtype = {"f32", "f16"},
  m = 9, k = {256, 768}, align = {0, 3}, xq = {"none", "q8_0", "q8_K"},
  where = function(c)
    local k_quant = c.wtype:sub(-1) == "K"
    return c.xq == "none" or (c.xq == "q8_K") == k_quant
  end,
}

-- Softmax: large logits, long rows split into segments, masked entries and the causal mask.
suite "seeds.softmax" {
  op = "softmax", dtype = dtypes.all, rows = {1, 4}, cols = {33, 1025}, mag = {1, 30}, scale = {1, 0.125},
  where = function(c) return (c.mag == 30) == (c.scale == 1) end,
}
suite "seeds.softmax.masked" {
  op = "softmax", dtype = dtypes.all, rows = 7, cols = {33, 129}, neg_inf = 0.5, causal = {0, 1}, q_offset = 1,
}
suite "seeds.softmax.layouts" {
  op = "softmax", dtype = dtypes.all, layout = layouts.softmax, align = layouts.aligns, rows = 7, cols = 129,
}

-- SDPA: grouped heads, decode and a short prefill, causal or not, sharper scores (mag 4).
suite "seeds.sdpa" {
  op = "sdpa", dtype = dtypes.sdpa, heads = 4, kv_heads = 2, n_q = {1, 7}, n_kv = {33, 129},
  head_dim = {64, 128}, causal = {0, 1}, q_offset = 26, mag = {1, 4},
  where = function(c) return (c.n_q == 7) == (c.head_dim == 64) and (c.mag == 4) == (c.causal == 1) end,
}
suite "seeds.sdpa.layouts" {
  op = "sdpa", dtype = dtypes.sdpa, layout = layouts.sdpa, align = layouts.aligns, heads = 4, kv_heads = 2,
  n_q = 7, n_kv = 33, head_dim = 64, causal = 1, q_offset = 26,
}

-- Qwen2.5-0.5B: the longest dot products of the file (k = 4864) and grouped attention at 14 heads.
local q = models.qwen05
suite "seeds.models.gemv" {
  op = "gemv", dtype = dtypes.all, m = {q.hidden, q.ffn}, k = {q.hidden, q.ffn},
  where = function(c) return c.m ~= c.k end,
}
suite "seeds.models.sdpa" {
  op = "sdpa", dtype = dtypes.sdpa, heads = q.heads, kv_heads = q.kv_heads, head_dim = q.head_dim,
  n_q = 17, n_kv = 64, causal = 1, q_offset = 47,
}

-- Dispatch coverage: the pristine dispatcher runs with the tier rule here too.
include "dispatch"
