-- tests/hostile_cases/costly_instructions.lua: few instructions, each a costly library call, so
-- the instruction budget lasts for hours.
-- expect: wall-clock limit
local s = string.rep("x", 1 << 23)
while true do pcall(string.upper, s) end
