-- tests/hostile_cases/where_not_boolean.lua: a where that returns a number (nil would drop every case).
-- expect: must return true or false, got number
suite "w" {
  op = "gemm", m = {1, 2},
  where = function(c) return c.m end,
}
