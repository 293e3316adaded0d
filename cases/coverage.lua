-- cases/coverage.lua: cases that reach CPU kernel code the precommit tier leaves unreached, each
-- suite with the code it exists for. scripts/kernel-coverage runs it with the precommit tier at the
-- default 2 threads and again at 3 and 5 threads (docs/coverage.md).
-- SPDX-License-Identifier: MIT

-- A GEMV-shaped GEMM (n = 1) with many rows: gemm_gemv's row walk over blocks of ACC_FLOATS rows,
-- split among threads; the rows are odd, so no split is even. With beta and the bias row, which
-- the quick tier's GEMV-shaped cases never set.
suite "coverage.gemm.gemv_rows" {
  op = "gemm", dtype = {"f32", "f16"}, m = {4097, 9001}, n = 1, k = {7, 64},
  beta = {0, 1}, bias = {0, 1},
  where = function(c) return c.k == 64 or (c.beta == 1 and c.bias == 1) end,
}

-- The same for narrow products (n <= 8: gemm_small_n) and their transposed twin (m <= 8).
suite "coverage.gemm.narrow" {
  op = "gemm", dtype = "f32", m = {3, 4099}, n = {3, 4099}, k = 33, beta = {0, 1}, bias = {0, 1},
  where = function(c) return (c.m == 3) ~= (c.n == 3) end,
}

-- Tiled GEMMs big enough to use every thread, with odd row and column counts: uneven row and
-- column splits (choose_grid at 3 and 5 threads), edge blocks in every direction.
suite "coverage.gemm.threads" {
  op = "gemm", dtype = "f32", m = {331}, n = {257}, k = {129}, layout_a = {"contiguous", "transposed"},
  beta = {0, 1}, bias = {0, 1},
  where = function(c) return c.layout_a == "contiguous" or (c.beta == 1 and c.bias == 1) end,
}

-- GEMVs with odd row counts to split among threads, and quantised ones with fewer rows than
-- threads but the work for more (mc_qgemv_run caps its threads at the rows: 5 threads, 3 rows).
suite "coverage.gemv.threads" {
  op = "gemv", dtype = "f32", wtype = {"same", "q8_0", "q4_0"}, m = {3, 4099}, k = {4096, 131072},
  where = function(c)
    if c.wtype == "same" then return c.m == 4099 and c.k == 4096 end
    return c.m == 3 and c.k == 131072
  end,
}

-- Softmax rows longer than the work one thread takes, fewer rows than threads: softmax_blocked
-- splits each row's segments among threads (blocked_split_rows), the others cap their threads at
-- the row count. Causal with q_offset = 0 leaves whole segments masked (row 0 sees one column).
suite "coverage.softmax.split_rows" {
  op = "softmax", dtype = {"f32", "f16"}, rows = {1, 3}, cols = {40000, 100003}, causal = {0, 1},
  mag = 30, where = function(c) return c.dtype == "f32" or c.causal == 0 end,
}

-- -inf entries in strided rows: the online variant's strided path skips them.
suite "coverage.softmax.neg_inf_strided" {
  op = "softmax", dtype = "f32", layout = {"transposed", "stride2"}, rows = 7, cols = {33, 2100},
  neg_inf = 0.5, causal = {0, 1},
}

-- Outputs of 2 MiB and more: the streaming softmaxes write them with non-temporal stores (rows whose
-- start is vector-aligned; the others, and each row's tail, through ordinary stores). Scale 0.25
-- keeps every f16 output a normal number.
suite "coverage.softmax.streamed" {
  op = "softmax", dtype = {"f32", "f16", "bf16"}, rows = 260, cols = 4100, scale = 0.25,
}

-- A long causal cache seen from query 0: the flash variant's later key chunks are wholly masked
-- for the first rows, and its merge skips them.
suite "coverage.sdpa.masked_chunks" {
  op = "sdpa", dtype = {"f32", "f16"}, heads = 2, kv_heads = 1, head_dim = 64, n_q = 7,
  n_kv = 1024, causal = 1, q_offset = 0,
}
