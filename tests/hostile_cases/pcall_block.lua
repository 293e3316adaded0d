-- tests/hostile_cases/pcall_block.lua: asks for one 600 MiB string, again and again.
-- expect: at most 16 MiB
while true do pcall(string.rep, "x", 600 * 1024 * 1024) end
