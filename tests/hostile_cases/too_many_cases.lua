-- tests/hostile_cases/too_many_cases.lua: 50 suites of 100000 distinct cases each (5 million
-- cases, ~6.5 GB of C memory before the cap), the cap's error caught by pcall.
-- expect: cases in one load, the cap
local ms = {}
for i = 1, 1000 do ms[i] = i end
for s = 1, 50 do
  pcall(suite, "many" .. s, { op = "softmax", rows = ms, cols = {s, s + 100, s + 200, s + 300}, batch = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25} })
end
