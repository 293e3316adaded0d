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

-- ---------------------------------------------------------------------------------------------
-- The formats beyond Q8_0/Q4_0 (docs/quant.md): Q4_1, Q5_0, Q5_1 in 32-element blocks, whose dots
-- take q8_0 activations, and the K-quants in 256-element super-blocks, whose dots take q8_K.
-- Their rows must be whole (super-)blocks, so "sizes ending inside a block" are rows that end
-- inside a super-block (k = 96, 288 for the 32-element formats) and on one (k = 256 .. 1280).
local fmt32 = {"q4_1", "q5_0", "q5_1"}
local fmtk = {"q2_K", "q3_K", "q4_K", "q5_K", "q6_K"}
local act = {q4_1 = "q8_0", q5_0 = "q8_0", q5_1 = "q8_0",
             q2_K = "q8_K", q3_K = "q8_K", q4_K = "q8_K", q5_K = "q8_K", q6_K = "q8_K"}
local all_formats = {"q4_1", "q5_0", "q5_1", "q2_K", "q3_K", "q4_K", "q5_K", "q6_K"}
-- x as it is, or quantised to the format's own activation format.
local function own_xq(c) return c.xq == "none" or c.xq == act[c.wtype] end

-- The test vectors as weights. NaN inputs are left to the 32-element formats, whose quantisers
-- keep them out of the scale (ggml's min/max and amax scans skip NaN): a K-quant's scale search
-- turns a NaN into NaN scales, which no output can be checked against.
suite "gemv.quant.formats.vectors" {
  op = "gemv", wtype = fmt32, wgen = {"zero", "twin_max", "ties", "tiny", "large", "nan"},
  dtype = {"f32", "f16"}, m = 7, k = {32, 96}, xq = {"none", "q8_0"},
  where = function(c) return not (c.wgen == "large" and c.dtype == "f16") end,
}
suite "gemv.quant.kformats.vectors" {
  op = "gemv", wtype = fmtk, wgen = {"zero", "twin_max", "ties", "tiny", "large"},
  m = 5, k = {256, 512}, xq = {"none", "q8_K"},
}

-- Rows of 1 .. 9 blocks that end inside a 256-element super-block, and of 1 .. 5 super-blocks;
-- 1, 5 and 33 rows (a lone row, a short tail, more rows than threads split evenly).
suite "gemv.quant.formats.blocks" {
  op = "gemv", wtype = fmt32, m = {1, 5, 33}, k = {32, 96, 288}, xq = {"none", "q8_0"},
}
suite "gemv.quant.kformats.blocks" {
  op = "gemv", wtype = fmtk, m = {1, 5, 33}, k = {256, 768, 1280}, xq = {"none", "q8_K"},
}

-- Misaligned block starts (1 and 3 bytes off misalign every fp16 scale and load; 16 is the SSE
-- offset) with packed and strided x, with and without the format's activation quantisation.
suite "gemv.quant.formats.align" {
  op = "gemv", wtype = all_formats, m = 9, k = 256, align = {1, 3, 16}, layout_x = {"contiguous", "stride2"},
  xq = {"none", "q8_0", "q8_K"}, where = own_xq,
}

-- Padded rows and rows sliced out of a wider parent (its view starts 3 blocks in), f16 output.
suite "gemv.quant.formats.layouts" {
  op = "gemv", wtype = all_formats, dtype = "f16", layout_a = {"padded", "sliced"}, m = 3, k = 512,
  align = {0, 3},
}

-- Magnitudes: the activation bound scales with |x|, the weights' with mag.
suite "gemv.quant.formats.mag" {
  op = "gemv", wtype = all_formats, m = 11, k = 256, mag = {0.01, 50}, xq = {"none", "q8_0", "q8_K"},
  where = own_xq,
}

-- q4_K and q6_K rows of nine super-blocks (72 groups of 32: the OpenCL kernels' lanes then wrap
-- a row more than once) with a lone row and 40 rows, at an aligned and an odd block base, x
-- and y in f32 and f16 (docs/quant.md: the OpenCL q4_K/q6_K GEMVs).
suite "gemv.quant.kformats.lanes" {
  op = "gemv", wtype = {"q4_K", "q6_K"}, dtype = {"f32", "f16"}, m = {1, 40}, k = 2304, align = {0, 1},
}

-- Row counts for the rows-at-once kernels (gemv_q4_K_q8dot_avx512, gemv_q6_K_q8dot_avx512): a
-- thread's rows go eight at a time from eight runs, then none (m = 8) or 1, 2, 6 or 7 leftover rows
-- in one call (m = 130: 65 a thread, so 1; m = 2, 6, 7), and 130 rows of 1024 are enough weights
-- for the driver to split them over two threads, so the second thread's runs start mid-matrix.
suite "gemv.quant.kformats.row_groups" {
  op = "gemv", wtype = {"q4_K", "q6_K"}, m = {2, 6, 7, 8, 130}, k = 1024, xq = {"none", "q8_K"},
}

-- Exact activation quantisation for the 32-element formats (as gemv.quant.exact above): only the
-- scalar q8_0 dots (x quantised by the reference rule, exact integer sums with the min as
-- m d_x sum v) accept it, and their bound keeps only the f32 arithmetic; xgen = ties is where
-- ggml's x86 ties-to-even quantiser would differ (the AVX2 dots decline the mode).
suite "gemv.quant.formats.exact" {
  op = "gemv", wtype = fmt32, dtype = {"f32", "f16"}, m = 7, k = {32, 96, 288},
  xq = "q8_0_ref", xgen = {"random", "ties"},
}

-- Odd block counts (3 and 9 blocks: the AVX2 rows' unpaired last block) at misaligned starts.
suite "gemv.quant.formats.align_odd" {
  op = "gemv", wtype = fmt32, m = 5, k = {96, 288}, align = {1, 3}, xq = {"none", "q8_0"},
}
