suite "s" { op = "gemm", m = {1, 3}, n = 2, k = 4 }
