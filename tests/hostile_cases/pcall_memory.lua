-- tests/hostile_cases/pcall_memory.lua: fills the Lua heap and catches the memory error, to keep going.
-- expect: more than 512 MiB of Lua memory
local t, kb = {}, string.rep("x", 1024)
while true do
  pcall(function() for i = 1, 1e9 do t[#t + 1] = kb:rep(15 * 1024) .. i end end)
end
