-- cases/dispatch.lua: dispatch coverage (pulled in by every tier): each kernel the GEMM dispatcher
-- accepts is forced by name (kernel=NAME, as $MC_GEMM_KERNEL=NAME), and one shape of each of its
-- classes lets it choose on its own. The run fails when a kernel that can run here is never forced
-- and passed, or a kernel its class table prefers here is never its own choice (engine/session.c).
-- SPDX-License-Identifier: MIT

-- n = 1 and m, k off every tile: a shape every GEMM kernel takes (gemv and small-N need a narrow
-- side). A kernel that cannot run here is skipped as unavailable, never failed.
suite "dispatch.gemm.forced" {
  op = "gemm", dtype = "f32", m = 33, n = 1, k = 65,
  kernel = {"gemm_scalar", "gemm_gemv", "gemm_small_n", "gemm_tiled_portable", "gemm_tiled_f32_avx2_6x16",
            "gemm_tiled_f32_avx512_12x32"},
}

-- The bf16 matrix kernels take bf16 A and B only; k = 65 leaves an odd pair and a short AMX chunk.
suite "dispatch.gemm.forced_bf16" {
  op = "gemm", dtype = "bf16", m = 33, n = 1, k = 65,
  kernel = {"gemm_tiled_bf16_avx512bf16_12x32", "gemm_tiled_bf16_amx_16x32"},
}

-- The cuda dispatcher's kernels (gemm_cuda_dispatch), forced by name in f16, which the tensor-core
-- kernel takes too. Without a CUDA device they are skipped as unavailable; in a build without the
-- cuda backend their names are known as that backend's (engine/runparams.c) and pair with nothing.
suite "dispatch.gemm.forced.cuda" {
  op = "gemm", dtype = "f16", m = 33, n = 8, k = 64,
  kernel = {"gemm_cuda_tiled_32x32x8", "gemm_cuda_tiled_128x128x16", "gemm_cuda_mma_f16_128x128",
            "gemm_cuda_mma_f16_128x256", "gemm_cuda_wgmma_f16_128x256"},
}

-- The cuda dispatcher's own choice of the 128 x 256 tensor-core tiles: it takes them once they give
-- every multiprocessor a block (132 on an H100 or H200: 11 x 12 blocks here; k = 8 keeps it cheap),
-- on wgmma where the device has it (compute capability 9.0), else on mma.sync.
suite "dispatch.gemm.cuda_wide" { op = "gemm", dtype = "f16", m = 1408, n = 3072, k = 8 }

-- One shape per class (kernels/cpu/gemm_tiles.c): gemv (n == 1), small_n (n <= 8), tiny
-- (m n k <= 32^3), small_m (m <= 32), medium (<= 256^3) and large.
-- In bf16 too: the bf16 kernels head the tiled classes' lists (and decline f32).
suite "dispatch.gemm.classes" {
  op = "gemm", dtype = {"f32", "bf16"}, m = {33, 16, 17, 64, 259}, n = {1, 5, 16, 64, 257}, k = {65, 16, 64, 255},
  where = function(c)
    return (c.m == 33 and (c.n == 1 or c.n == 5) and c.k == 65) or (c.m == 16 and c.n == 16 and c.k == 16) or
           (c.m == 17 and c.n == 64 and c.k == 64) or (c.m == 64 and c.n == 64 and c.k == 64) or
           (c.m == 259 and c.n == 257 and c.k == 255)
  end,
}
