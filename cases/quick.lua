-- cases/quick.lua: the quick tier: every op over every layout, base offset, dtype and edge size,
-- plus the Qwen2.5 shapes, in well under two minutes of scalar kernels on two cores.
-- SPDX-License-Identifier: MIT
--
-- Budget: at most 1e9 multiply-adds per pass over the tier (each variant and the fp64 reference
-- pay it once; it holds about 9.4e8), so nearly every case is small and the model shapes, which
-- hold most of it, are a few dozen. `where` filters keep the cross products of larger sizes from
-- blowing up. tests/test_cases_lua.c checks the coverage (>= 3,200 cases, every op, layout,
-- alignment and dtype) and the multiply-add budget.

local sizes = require "sizes"
local layouts = require "layouts"
local dtypes = require "dtypes"
local models = require "models"
local threads = require "threads"

-- ---------------------------------------------------------------------------------------------
-- GEMM: C (m x n) = alpha * A (m x k) * B (k x n) + beta * C + bias

-- Every pair of sizes around 1 and the 8/32/64/128 boundaries in m and n (the tails of row and
-- column tiles), over a few dot lengths around the k blocks; then every k edge on its own.
suite "gemm.edge" {
  op = "gemm", dtype = dtypes.all, m = sizes.edge, n = sizes.edge, k = {1, 7, 8, 33, 64, 65},
  where = function(c)
    if c.dtype == "f32" then return c.k ~= 7 and c.k ~= 64 end
    return c.k == 7 or c.k == 64 -- the 16-bit types: one odd and one whole-block length
  end,
}
suite "gemm.edge_k" {
  op = "gemm", dtype = dtypes.all, m = {1, 7}, n = 9, k = sizes.edge,
}

-- Every pair of A and B views. Broadcast (stride 0 over the batch) only means something with
-- more than one batch, so it runs with batch = 3 and the other views run with both.
suite "gemm.layouts" {
  op = "gemm", dtype = dtypes.all, batch = {1, 3}, m = {7, 33}, n = 9, k = {31, 64},
  layout_a = layouts.gemm_ab, layout_b = layouts.gemm_ab,
  where = function(c)
    local shape = (c.m == 7) == (c.k == 31) -- two shapes: 7 x 9 x 31 and 33 x 9 x 64
    return shape and (c.batch > 1 or (c.layout_a ~= "broadcast" and c.layout_b ~= "broadcast"))
  end,
}

-- Every view of C, read (beta = 1) and not read (beta = 0: C holds a NaN sentinel).
suite "gemm.layout_c" {
  op = "gemm", dtype = dtypes.all, m = {7, 33}, n = {9, 65}, k = 31,
  layout_a = {"contiguous", "transposed"}, layout_c = layouts.gemm_c, beta = {0, 1},
  where = function(c) return c.m * c.n < 1000 end,
}

-- Every base offset on every tensor: 2 bytes is one f16 element and misaligns f32 and vectors.
suite "gemm.align" {
  op = "gemm", dtype = dtypes.all, align = layouts.aligns,
  m = {1, 9, 33}, n = {8, 33, 65}, k = {31, 64},
  layout_a = {"contiguous", "transposed", "padded"}, layout_b = {"contiguous", "transposed"},
  where = function(c)
    -- four shapes: 1 x 65, 9 x 8, 9 x 33 and 33 x 8; whole vector blocks in k for 9 x 33
    local mn = c.m * c.n
    return mn > 60 and mn < 300 and (c.k == 64) == (mn == 297)
  end,
}

-- The epilogue: alpha, beta and the bias row, alone and together.
suite "gemm.epilogue" {
  op = "gemm", dtype = dtypes.all, m = {7, 32}, n = {9, 64}, k = 33,
  alpha = {1, 0.5, -2}, beta = {0, 1, -0.75}, bias = {0, 1},
}

-- Batches, with A and/or B broadcast across them and strided or sliced partners.
suite "gemm.batch" {
  op = "gemm", dtype = dtypes.all, batch = {2, 5}, m = 7, n = 9, k = 33,
  layout_a = {"contiguous", "broadcast", "transposed"}, layout_b = {"contiguous", "broadcast", "sliced"},
  layout_c = {"contiguous", "padded"},
}

-- Input magnitude: tiny values (near the f16 normal limit in the output) and larger ones.
suite "gemm.mag" {
  op = "gemm", dtype = dtypes.all, m = 9, n = {8, 33}, k = 64, mag = {0.01, 4},
}

-- Qwen2.5 decode (m = 1: a GEMM used as a GEMV) and a short prefill (m = 17). A prefill row of
-- the big MLP matrices costs 4.4e6 multiply-adds, so those run in one dtype only.
for _, w in ipairs(models.qwen05.matmuls) do
  suite ("gemm.qwen05.decode." .. w.n .. "x" .. w.k) {
    op = "gemm", dtype = dtypes.all, m = 1, n = w.n, k = w.k,
  }
  suite ("gemm.qwen05.prefill." .. w.n .. "x" .. w.k) {
    op = "gemm", m = 17, n = w.n, k = w.k,
    dtype = (w.n * w.k <= 896 * 1152) and {"f32", "f16"} or "f16",
  }
end
for _, w in ipairs(models.qwen3.matmuls) do
  suite ("gemm.qwen3.decode." .. w.n .. "x" .. w.k) {
    op = "gemm", dtype = "f16", m = 1, n = w.n, k = w.k,
  }
end
suite "gemm.qwen3.prefill.o" {
  op = "gemm", dtype = "bf16", m = 17, n = models.qwen3.hidden, k = models.qwen3.hidden,
}

-- The tensor-core GEMMs (cuda's mma.sync and wgmma) take f16 and bf16 only, with k and n multiples
-- of 8, A k-contiguous and B n-contiguous on 16-byte aligned bases and strides: the suites above
-- give them no epilogue, batch, view of C or partial last k slab. Here m = 128 + 1, n = 256 + 8
-- (a second block of rows and of columns) and k = 64 + 8 (a partial second slab); every view of C,
-- read (beta = 0.5) with the whole epilogue; then A or B broadcast over three batches.
suite "gemm.tensor_core" {
  op = "gemm", dtype = dtypes.half, m = 129, n = 264, k = 72,
  layout_c = layouts.gemm_c, alpha = {1, -1.5}, beta = {0, 0.5}, bias = {0, 1},
  where = function(c)
    local all = c.alpha ~= 1 and c.beta ~= 0 and c.bias == 1
    local none = c.alpha == 1 and c.beta == 0 and c.bias == 0
    return all or (none and c.layout_c == "contiguous")
  end,
}
suite "gemm.tensor_core.batch" {
  op = "gemm", dtype = dtypes.half, batch = 3, m = 33, n = 72, k = 72,
  layout_a = {"contiguous", "broadcast"}, layout_b = {"contiguous", "broadcast"},
}

-- ---------------------------------------------------------------------------------------------
-- GEMV: y (m) = A (m x k) * x (k)

suite "gemv.edge" {
  op = "gemv", dtype = dtypes.all, m = sizes.edge, k = sizes.edge,
}

suite "gemv.layouts" {
  op = "gemv", dtype = dtypes.all, layout_a = layouts.gemv_a, layout_x = layouts.gemv_x,
  align = layouts.aligns, m = {1, 7, 65}, k = {33, 129},
  where = function(c) return (c.m == 7) == (c.k == 33) end, -- 1 x 129, 7 x 33 and 65 x 129
}

-- Longer rows: the accumulation error grows with k, and the bound must still hold.
suite "gemv.long" {
  op = "gemv", dtype = dtypes.all, m = {3, 17}, k = {255, 256, 1000, 4096},
}

-- Every weight matrix of both models at decode: y = W x for one token. The 3B MLP matrices
-- (2.3e7 multiply-adds each) run in f16 only.
for _, model in ipairs(models.all) do
  for _, w in ipairs(model.matmuls) do
    local dtype = dtypes.all
    if model == models.qwen3 then
      dtype = (w.n * w.k <= model.qkv * model.hidden) and dtypes.half or "f16"
    end
    suite ("gemv." .. model.name .. "." .. w.n .. "x" .. w.k) {
      op = "gemv", dtype = dtype, m = w.n, k = w.k,
    }
  end
end

-- ---------------------------------------------------------------------------------------------
-- Softmax over rows: y = softmax(scale * x + causal mask)

suite "softmax.sizes" {
  op = "softmax", dtype = dtypes.all, rows = {1, 7, 33}, cols = sizes.softmax_cols,
}

suite "softmax.layouts" {
  op = "softmax", dtype = dtypes.all, layout = layouts.softmax, align = layouts.aligns,
  batch = {1, 2}, rows = {1, 7, 33}, cols = {33, 64, 129},
  where = function(c) -- three shapes: 1 x 129, 7 x 33 and 33 x 64
    return (c.rows == 1 and c.cols == 129) or (c.rows == 7 and c.cols == 33) or (c.rows == 33 and c.cols == 64)
  end,
}

-- The causal mask with the query block at an offset into the keys (q_offset).
suite "softmax.causal" {
  op = "softmax", dtype = dtypes.all, causal = 1, q_offset = {0, 1, 7, 32},
  rows = {1, 7, 17}, cols = {8, 33, 64},
}

-- -inf entries (masked logits) at several densities, with and without the causal mask.
suite "softmax.neg_inf" {
  op = "softmax", dtype = dtypes.all, rows = 7, cols = {8, 33, 129},
  neg_inf = {0.1, 0.5, 0.95}, causal = {0, 1},
}

-- Large logits: exp overflows unless the row maximum is subtracted first.
suite "softmax.mag" {
  op = "softmax", dtype = dtypes.all, rows = 4, cols = {33, 256, 1024},
  mag = {30, 100}, scale = {1, 0.125, 2},
}

-- A negative scale: the row's max is then the smallest element's (the streaming softmaxes find it
-- with a min pass), and a short row's padding must not become it.
suite "softmax.neg_scale" {
  op = "softmax", dtype = dtypes.all, rows = {1, 7}, cols = {33, 4096}, scale = -0.125,
}

-- Rows longer than one 1024-column segment at a large magnitude, so the segments' maxima differ
-- by whole units: a merge that forgets to bring each segment's sum to the common max
-- (mutant_softmax_segments) is then off by percents. The attention rows below (scale <= 1/8,
-- |logits| <= 1/8) have segment maxima that agree to 1e-3 and hide it. rows = 1 also takes
-- softmax_blocked down its split-row path (one row's segments over threads).
suite "softmax.segments" {
  op = "softmax", dtype = dtypes.all, rows = {1, 4}, cols = {1025, 4096}, mag = 30,
}

-- Attention scores of both models: one row per query, batch = heads, causal at the KV offset.
for _, model in ipairs(models.all) do
  for _, n_q in ipairs({1, 17}) do
    for _, n_kv in ipairs({17, 64, 4096}) do
      suite ("softmax." .. model.name .. "." .. n_q .. "x" .. n_kv) {
        op = "softmax", dtype = dtypes.all, batch = model.heads, rows = n_q, cols = n_kv,
        scale = 1 / math.sqrt(model.head_dim), causal = {0, 1}, q_offset = n_kv - n_q,
        where = function(c) return c.causal == 1 or n_kv ~= 4096 end,
      }
    end
  end
end

-- ---------------------------------------------------------------------------------------------
-- SDPA: softmax(Q K^T * scale + mask) V with grouped-query heads

suite "sdpa.sizes" {
  op = "sdpa", dtype = dtypes.sdpa, n_q = {1, 7, 33}, n_kv = {1, 8, 9, 31, 33, 64, 65, 129},
  head_dim = {7, 64, 128},
}

-- Grouped-query attention: every heads / kv_heads ratio from plain multi-head to 8 per group.
suite "sdpa.gqa" {
  op = "sdpa", dtype = dtypes.sdpa, heads = {1, 2, 4, 8, 14, 16}, kv_heads = {1, 2},
  n_q = {1, 5}, n_kv = {17, 40}, head_dim = 64,
  where = function(c) return c.heads % c.kv_heads == 0 end,
}

suite "sdpa.causal" {
  op = "sdpa", dtype = dtypes.sdpa, causal = 1, q_offset = {0, 1, 16},
  n_q = {1, 7, 17}, n_kv = {17, 33, 64}, head_dim = 64, heads = 4, kv_heads = 2,
  where = function(c) return c.n_q + c.q_offset <= c.n_kv end,
}

suite "sdpa.layouts" {
  op = "sdpa", dtype = dtypes.sdpa, layout = layouts.sdpa, align = layouts.aligns,
  n_q = {1, 7}, n_kv = 33, head_dim = {64, 128}, heads = 4, kv_heads = 2, causal = {0, 1},
  q_offset = 26,
  where = function(c) return (c.n_q == 7) == (c.head_dim == 64) end,
}

-- scale = 0 means 1/sqrt(head_dim); the others are explicit. Larger inputs sharpen the softmax.
suite "sdpa.scale" {
  op = "sdpa", dtype = dtypes.sdpa, n_q = 7, n_kv = 33, head_dim = 64,
  scale = {0, 0.5, 1}, mag = {1, 4},
}

-- Both models' attention: decode (n_q = 1) and a 17-token prefill over 17..64 cached keys (3B,
-- four times the work per key, over fewer lengths).
for _, model in ipairs(models.all) do
  local kv_lengths = model == models.qwen05 and {17, 24, 32, 33, 48, 64} or {17, 33, 64}
  for _, n_kv in ipairs(kv_lengths) do
    for _, n_q in ipairs({1, 17}) do
      suite ("sdpa." .. model.name .. "." .. n_q .. "x" .. n_kv) {
        op = "sdpa", dtype = dtypes.sdpa, heads = model.heads, kv_heads = model.kv_heads,
        head_dim = model.head_dim, n_q = n_q, n_kv = n_kv, causal = {0, 1}, q_offset = n_kv - n_q,
      }
    end
  end
end

-- ---------------------------------------------------------------------------------------------
-- Thread counts: every threaded cpu kernel at 3 threads (an uneven split; the run's default is 2),
-- on shapes just big enough that each kernel really splits 3 ways. Precommit sweeps 1, 2, 3, 5 and
-- more threads than cores, and the narrow GEMM paths (whose split needs 6e6 multiply-adds).

suite "threads.gemm.tiled" {
  op = "gemm", dtype = "f32", m = 185, n = 187, k = 189, threads = threads.quick,
}
suite "threads.gemm.narrow" { -- gemm_gemv's and gemm_small_n's row split, an odd row count
  op = "gemm", dtype = "f32", m = 4099, n = 1, k = 1537, threads = threads.quick,
}
suite "threads.gemv" {
  op = "gemv", dtype = "f32", m = 1025, k = 1023, threads = threads.quick,
}
suite "threads.gemv.quant" {
  op = "gemv", wtype = {"q8_0", "q4_0"}, dtype = "f32", m = 1025, k = 1024, threads = threads.quick,
}
-- The CUDA staged quantised GEMV takes 4 rows of 28 blocks a warp and pass, 16896 rows a sweep on
-- 132 multiprocessors (4 blocks of 8 warps each), and loads a warp's next pass while it decodes the
-- current one: 3 whole sweeps and 5 rows more reach the second, third and a short last pass.
suite "gemv.quant.passes" {
  op = "gemv", wtype = {"q8_0", "q4_0"}, dtype = "f32", m = 3 * 16896 + 5, k = 896,
}
suite "threads.softmax" { -- rows split among threads; one long row's segments split (blocked)
  op = "softmax", dtype = "f32", rows = {1, 7}, cols = {8191, 60001}, threads = threads.quick,
  where = function(c) return (c.rows == 1) == (c.cols == 60001) end,
}
suite "threads.sdpa" {
  op = "sdpa", dtype = "f32", heads = 8, kv_heads = 2, n_q = 17, n_kv = 769, head_dim = 64, causal = 1,
  q_offset = 752, threads = threads.quick,
}

-- ---------------------------------------------------------------------------------------------
-- Dispatch coverage: every GEMM kernel forced by name, and one shape per dispatcher class.
include "dispatch"

-- ---------------------------------------------------------------------------------------------
-- Quantised GEMV (q8_0 / q4_0 weights): its own file, kept by the quantisation work.
include "quant"
