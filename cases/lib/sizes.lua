-- cases/lib/sizes.lua: the sizes the tiers sweep, each list with the reason it exists.
-- SPDX-License-Identifier: MIT
local M = {}

-- Around 1 and around the 8/32/64/128 boundaries of vectors and tiles: a kernel's tail and
-- remainder paths live just below and just above each one.
M.edge = {1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 127, 129}

-- The cheap part of edge, for suites that multiply it by many other lists.
M.small_edge = {1, 7, 8, 9, 31, 32, 33}

-- A handful of odd, coprime sizes: a kernel that assumes m == n or swaps two loop bounds fails.
M.odd = {5, 7, 11, 13}

-- Just off the tile sizes that blocked GEMMs use (CUTLASS's functional sweep): 8, 56, 120, 136, ...
M.off_tile = {8, 56, 120, 136, 256, 264, 512, 520}

-- Square GEMMs for timing and a throughput baseline.
M.squares = {256, 512, 1024, 2048}

-- Softmax rows as attention produces them: short, typical context and a 4096-wide vocabulary slice.
M.softmax_cols = {1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 127, 129, 255, 256, 257, 1000, 1024}

-- Builds {lo, lo + step, ..., <= hi}.
function M.range(lo, hi, step)
  local out = {}
  for v = lo, hi, step or 1 do
    out[#out + 1] = v
  end
  return out
end

return M
