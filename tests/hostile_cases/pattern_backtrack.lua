-- tests/hostile_cases/pattern_backtrack.lua: a pattern that backtracks 2^40 times inside one C call.
-- expect: patterns are not available
local s = string.rep("a", 40)
return string.find(s, string.rep("a?", 40) .. s)
