-- cases/gemv_roof.lua: the decode GEMVs held to the DRAM read roof (issue 18 item 2): f32, f16,
-- bf16, q8_0 and q4_0 weights at 4096 x 14336 and 11008 x 2048, packed and aligned. Pulled in by
-- perf.lua; the perf table prints each row's share of its roof and of DRAM's.
-- SPDX-License-Identifier: MIT
local dtypes = require "dtypes"

for _, shape in ipairs({{m = 4096, k = 14336}, {m = 11008, k = 2048}}) do
  suite ("perf.gemv.roof." .. shape.m .. "x" .. shape.k) {
    op = "gemv", dtype = dtypes.all, m = shape.m, k = shape.k,
  }
  suite ("perf.gemv.roof.quant." .. shape.m .. "x" .. shape.k) {
    op = "gemv", wtype = {"q8_0", "q4_0"}, m = shape.m, k = shape.k, xq = {"none", "q8_0"},
  }
end
