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
