-- tests/hostile_cases/rep_empty_loop.lua: string.rep("", 2^62) looped 2^62 times doing nothing in C.
-- expect: million Lua instructions
while true do pcall(string.rep, "", 1 << 62) end
