-- cases/peers.lua: exactly the shapes of the ggml comparison in docs/performance.md (issue 18's
-- table), so anyone can rerun ours against their own ggml build (`test-backend-ops perf`, CPU
-- backend, same thread count). Not part of any tier: run it with
--   metallic-check run --cases cases/peers.lua --perf --threads 2
-- ggml's mul_mat m x k is our gemv m x k (y = A x, A m rows of k) and gemm m x n x k with m the
-- tokens. Packed and aligned, as in the perf tier.
-- SPDX-License-Identifier: MIT

-- Decode GEMVs, 4096 x 14336 (Llama-3 8B's down projection): f32 and f16 weights, and q8_0 /
-- q4_0 weights with x quantised to q8_0 (ggml's vec_dot_q8_0 / q4_0 path).
suite "peers.gemv" {
  op = "gemv", dtype = {"f32", "f16"}, m = 4096, k = 14336,
}
suite "peers.gemv.quant" {
  op = "gemv", wtype = {"q8_0", "q4_0"}, m = 4096, k = 14336, xq = "q8_0",
}

-- Softmax, f32: 4096 rows x 4096 columns x 5.
suite "peers.softmax" {
  op = "softmax", dtype = "f32", batch = 5, rows = 4096, cols = 4096,
}

-- Flash-attention decode: f16 q/k/v, head 64, 64 query heads over 8 kv heads, 7680 keys.
suite "peers.sdpa" {
  op = "sdpa", dtype = "f16", n_q = 1, n_kv = 7680, heads = 64, kv_heads = 8, head_dim = 64,
}

-- Prefill GEMM 512 x 4096 x 14336 in f32 and f16 (OpenBLAS sgemm is the f32 peer in the same run).
suite "peers.gemm" {
  op = "gemm", dtype = {"f32", "f16"}, m = 512, n = 4096, k = 14336,
}
