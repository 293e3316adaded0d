-- cases/quant.lua: quantised GEMV (A in q8_0 / q4_0 GGUF blocks) for the correctness tiers: the
-- quant-formats.md test vectors as weights, rows at block boundaries, misaligned block bases,
-- padded and sliced row strides, activation quantisation (xq) and the Qwen2.5-0.5B shapes.
-- Meant to be pulled in by quick.lua (include "quant"); the perf shapes are in quant_perf.lua.
-- SPDX-License-Identifier: MIT

local models = require "models"

local wtypes = {"q8_0", "q4_0"}
local xqs = {"none", "q8_0"}

-- Every test vector of quant-formats.md that dequantises to finite weights, as gemv weights
-- (reference/ref_quant.h says how each pattern rewrites the generated rows). Infinite inputs and
-- scales beyond fp16 give NaN weights, which no output can be checked against: the unit tests
-- (tests/test_quant.c) pin their bytes instead. f16 outputs cannot hold 3e4-sized weights' sums.
suite "gemv.quant.vectors" {
  op = "gemv", wtype = wtypes, wgen = {"zero", "twin_max", "ties", "tiny", "large", "nan"},
  dtype = {"f32", "f16", "bf16"}, m = 7, k = {32, 96}, xq = xqs,
  where = function(c) return not (c.wgen == "large" and c.dtype == "f16") end,
}

-- Rows that end exactly on block boundaries, one block to Qwen's 896 (28 blocks).
suite "gemv.quant.blocks" {
  op = "gemv", wtype = wtypes, dtype = {"f32", "f16"}, m = {1, 5, 33}, k = {32, 64, 96, 896}, xq = xqs,
}

-- Block bases at odd addresses: 1 and 3 bytes past an aligned base misalign the fp16 scale and
-- every vector load; 2 and 16 are the usual f16 and SSE offsets. x is packed or strided.
suite "gemv.quant.align" {
  op = "gemv", wtype = wtypes, dtype = {"f32", "f16"}, m = 9, k = {64, 96}, align = {0, 1, 2, 3, 16},
  layout_x = {"contiguous", "stride2"}, xq = xqs,
}

-- Row strides larger than the row: padded (13 spare blocks per row) and sliced out of a wider
-- parent (5 spare blocks, starting 3 blocks in); blocks stay row-contiguous, so no transposes.
suite "gemv.quant.layouts" {
  op = "gemv", wtype = wtypes, dtype = {"f32", "f16", "bf16"}, layout_a = {"contiguous", "padded", "sliced"},
  m = {3, 17}, k = {64, 288}, align = {0, 3}, xq = xqs,
}

-- Larger inputs: the activation-quantisation bound scales with |x|, the weights' with mag.
suite "gemv.quant.mag" {
  op = "gemv", wtype = wtypes, m = 11, k = 128, mag = {0.01, 50}, xq = xqs,
}

-- Exact activation quantisation (xq = q8_0_ref): x must be quantised byte for byte by
-- quant-formats.md's rule (roundf, ties away from zero); the reference dots A with those q8_0
-- activations and the bound keeps only the f32 arithmetic. xgen = ties makes every x entry an
-- exact tie (amax 127, so d = id = 1, the rest on n + 1/2 of both parities and signs), where a
-- ties-to-even quantiser (mutant_gemv_q8_0_ties_even; ggml's AVX2 rule, which declines) moves
-- codes by one step: about one |a_p| per flipped tie (units) against a bound of about 2e-6 of
-- sum |a x| (1e-3 here), 8x to 2000x over it. Random x checks that the exact bound holds on
-- ordinary inputs. Only the scalar q8dot variants accept the mode; the others decline it.
suite "gemv.quant.exact" {
  op = "gemv", wtype = wtypes, dtype = {"f32", "f16"}, m = 7, k = {32, 64, 896},
  xq = "q8_0_ref", xgen = {"random", "ties"},
}

-- Qwen2.5-0.5B decode: every weight matrix of a layer (the LM head is in quant_perf.lua).
for _, w in ipairs(models.qwen05.matmuls) do
  suite ("gemv.quant.qwen05." .. w.n .. "x" .. w.k) {
    op = "gemv", wtype = wtypes, m = w.n, k = w.k, xq = xqs,
  }
end
