-- tests/hostile_cases/pcall_memory.lua: fills the Lua heap and catches the memory error, to keep going.
-- expect: more than 512 MiB of Lua memory
local t = {}
while true do
  pcall(function() for i = 1, 1e9 do t[#t + 1] = string.rep("x", 1 << 20) .. i end end)
end
