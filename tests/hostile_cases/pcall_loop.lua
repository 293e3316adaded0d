-- tests/hostile_cases/pcall_loop.lua: an endless loop whose limit error pcall would swallow.
-- expect: million Lua instructions
while true do pcall(function() while true do end end) end
