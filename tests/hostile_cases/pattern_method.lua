-- tests/hostile_cases/pattern_method.lua: the same through the strings' shared metatable, in a where.
-- expect: patterns are not available
suite "p" {
  op = "gemm", m = {1, 2},
  where = function(c)
    local s = ("a"):rep(40)
    return s:match(("a?"):rep(40) .. s) ~= nil
  end,
}
