-- tests/hostile_cases/sort_huge_strings.lua: sorts 65536 copies of one 8 MiB string: every
-- comparison reads 8 MiB, all inside table.sort.
-- expect: wall-clock limit
local s = string.rep("x", 1 << 23)
local t = {}
for i = 1, 1 << 16 do t[i] = s end
while true do pcall(table.sort, t) end
