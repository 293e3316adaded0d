-- tests/hostile_cases/where_modifies.lua: a where that edits its case (it only decides).
-- expect: where_modifies.lua:7: where() must not change its case
suite "w" {
  op = "gemm", m = {1, 2},
  where = function(c)
    local keep = c.m > 1
    c.m = 64
    return keep
  end,
}
