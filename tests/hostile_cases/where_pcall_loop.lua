-- tests/hostile_cases/where_pcall_loop.lua: the same inside a suite's `where`.
-- expect: million Lua instructions
suite "spin" {
  op = "gemm", m = {1, 2},
  where = function(c)
    while true do pcall(function() while true do end end) end
  end,
}
