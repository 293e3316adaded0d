local ok, e = pcall(string.find, "abc", "a.c")
assert(not ok and string.find(e, "patterns", 1, true))
suite "g" { op = "gemv", wtype = {"q8_0", "q4_0"}, m = 3, k = {32, 64}, xq = "q8_0", scale = 1 }
