local sizes = require "sizes"
local dtypes = require "dtypes"
suite "w" {
  op = "softmax", cols = sizes.small_edge, dtype = dtypes.half, causal = {0, 1},
  where = function(c) return c.cols % 2 == 1 or c.causal == 1 end,
}
suite("t", { op = "sdpa", heads = {2, 4}, kv_heads = 2, n_kv = {1, 9}, q_offset = 3, causal = true })
