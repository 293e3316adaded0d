-- cases/lib/threads.lua: thread counts for the threads= case dimension (every threaded cpu kernel).
-- SPDX-License-Identifier: MIT
-- A split of rows or blocks among threads goes wrong at an uneven remainder or at a boundary
-- between two threads' parts; 2 threads (the --threads default) rarely shows it. Values are words:
-- "N" exactly N threads, "cores+N" N more threads than this machine has cores (oversubscribed).
-- A case that leaves threads out runs at the run's --threads and keeps its old key.
local M = {}

-- The sweep the issue asks of the tiers: one thread, even, odd, a larger odd, and more than cores.
M.sweep = {"1", "2", "3", "5", "cores+1"}

-- The quick tier's share (it runs on 2 cores in CI, at --threads 2): an odd split.
M.quick = {"3"}

-- Nightly adds a larger odd count and heavier oversubscription.
M.nightly = {"1", "2", "3", "5", "7", "cores+1", "cores+3"}

return M
