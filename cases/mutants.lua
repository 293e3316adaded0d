-- cases/mutants.lua: cases the mutant suite (tests/cli_mutants.sh) needs beyond the quick tier; it
-- runs cases/quick.lua and this file together. Each suite names the mutant that survived without it.
-- Once quick.lua holds the same cases this file can be emptied (duplicate keys are dropped).
-- SPDX-License-Identifier: MIT

local dtypes = require "dtypes"

-- Rows longer than one 1024-column segment at a large magnitude, so the segments' maxima differ
-- by whole units: a merge that forgets to bring each segment's sum to the common max
-- (mutant_softmax_segments) is then off by percents. The quick tier's only long rows are the
-- attention rows (scale <= 1/8, |logits| <= 1/8), whose segment maxima agree to 1e-3 and hide it.
-- rows = 1 also takes softmax_blocked down its split-row path (one row's segments over threads).
suite "softmax.segments" {
  op = "softmax", dtype = dtypes.all, rows = {1, 4}, cols = {1025, 4096}, mag = 30,
}
