-- cases/perf_smoke.lua: the perf subset `metallic-check check` times on every commit: one shape per
-- kernel family, big enough to leave the timer's noise floor, small enough that the whole subset
-- takes well under a minute on two cores. Packed and aligned: layouts are the correctness tiers' job.
-- SPDX-License-Identifier: MIT
suite "smoke.gemm" { op = "gemm", dtype = {"f32", "f16"}, m = 256, n = 256, k = 256 }
suite "smoke.gemm.prefill" { op = "gemm", dtype = "f32", m = 17, n = 896, k = 896 }
suite "smoke.gemv" { op = "gemv", dtype = {"f32", "f16"}, m = 896, k = 896 }
suite "smoke.gemv.quant" { op = "gemv", wtype = {"q8_0", "q4_0"}, m = 896, k = 896 }
suite "smoke.softmax" { op = "softmax", dtype = "f32", rows = 4, cols = 4096 }
suite "smoke.sdpa" { op = "sdpa", dtype = "f32", heads = 14, kv_heads = 2, head_dim = 64, n_q = 1, n_kv = 1024 }
