-- cases/quant_perf.lua: quantised GEMV timing at Qwen2.5-0.5B decode shapes, LM head included.
-- Meant to be pulled in by perf.lua (include "quant_perf"). The target (docs/quant.md): at least
-- 80% of the machine's read bandwidth, counted in bytes of quantised weights.
-- SPDX-License-Identifier: MIT

local models = require "models"

local wtypes = {"q8_0", "q4_0"}

-- Every weight matrix of a layer, then the tied embedding used as the LM head (vocabulary 151936
-- x hidden 896: 145 MB of q8_0, 77 MB of q4_0 per token). Packed and aligned, as in perf.lua.
for _, w in ipairs(models.qwen05.matmuls) do
  suite ("perf.gemv.quant.qwen05." .. w.n .. "x" .. w.k) {
    op = "gemv", wtype = wtypes, m = w.n, k = w.k, xq = {"none", "q8_0"},
  }
end
suite "perf.gemv.quant.qwen05.lm_head" {
  op = "gemv", wtype = wtypes, m = 151936, k = models.qwen05.hidden, xq = {"none", "q8_0"},
}

-- The other formats. Q4_1, Q5_0, Q5_1 take every Qwen2.5-0.5B shape and the LM head as above.
-- The K-quants need rows of whole 256-element super-blocks: of the 0.5B model's matrices only the
-- MLP down projection (k = 4864 = 19 x 256) has them (k = 896 is 3.5 super-blocks, which is why
-- llama.cpp's Q4_K_M files of this model keep those tensors in other formats). The LM-head-sized
-- case takes k = 1024, the nearest whole number of super-blocks: 151936 x 1024, from 51 MB of q2_K
-- to 87.5 MB of q4_K and 127.6 MB of q6_K per token.
local fmt32 = {"q4_1", "q5_0", "q5_1"}
for _, w in ipairs(models.qwen05.matmuls) do
  suite ("perf.gemv.quant_formats.qwen05." .. w.n .. "x" .. w.k) {
    op = "gemv", wtype = fmt32, m = w.n, k = w.k, xq = {"none", "q8_0"},
  }
end
suite "perf.gemv.quant_formats.qwen05.lm_head" {
  op = "gemv", wtype = fmt32, m = 151936, k = models.qwen05.hidden, xq = {"none", "q8_0"},
}
suite "perf.gemv.kquant.qwen05.mlp_down" {
  op = "gemv", wtype = {"q2_K", "q3_K", "q4_K", "q5_K", "q6_K"}, m = models.qwen05.hidden, k = 4864,
  xq = {"none", "q8_K"},
}
suite "perf.gemv.kquant.lm_head_k1024" {
  op = "gemv", wtype = {"q2_K", "q3_K", "q4_K", "q5_K", "q6_K"}, m = 151936, k = 1024, xq = {"none", "q8_K"},
}
