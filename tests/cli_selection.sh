#!/usr/bin/env bash
# tests/cli_selection.sh: what a command selects and when coverage applies (issue 12, items 4, 5, 6,
# 8 and 11). Focus: a user's case file passes on its own, a tier's dispatcher is proven on every
# kernel, threads= reaches repro, hidden variants run only when asked, bad selections exit 2.
# SPDX-License-Identifier: MIT
set -u
bin="$1"; src="$2"
export MC_CASES_DIR="$src/cases"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0; skipped=""

# expect STATUS PATTERN -- ARGS...: runs the binary, wants that exit status and PATTERN in its output.
expect() {
  local want="$1" pattern="$2"; shift 3
  local out rc
  out="$(timeout 300 "$bin" "$@" 2>&1)"; rc=$?
  if [ "$rc" -eq "$want" ] && grep -qE -- "$pattern" <<<"$out"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: metallic-check $* -> exit $rc (want $want), output lacks /$pattern/:" >&2
    tail -20 <<<"$out" >&2
  fi
}

# reject PATTERN -- ARGS...: the output must not match PATTERN (whatever the exit status).
reject() {
  local pattern="$1"; shift 2
  local out
  out="$(timeout 300 "$bin" "$@" 2>&1)"
  if grep -qE -- "$pattern" <<<"$out"; then
    failed=$((failed + 1))
    echo "FAIL: metallic-check $* printed /$pattern/:" >&2
    grep -E -- "$pattern" <<<"$out" | head -5 >&2
  else
    passed=$((passed + 1))
  fi
}

# A user's one-suite case file: softmax only, every variant.
cat >"$tmp/mine.lua" <<'LUA'
suite "mine" { op = "softmax", dtype = "f32", rows = {1, 7}, cols = {33, 129} }
LUA
# A gemm file that gemm_dispatch runs without ever being forced to a kernel.
cat >"$tmp/gemm.lua" <<'LUA'
suite "gemm" { op = "gemm", m = 7, n = 9, k = 31 }
LUA

# item 4: coverage is a tier's rule; a user's file that passes is exit 0
expect 0 "0 failed" -- run --cases "$tmp/mine.lua" --no-store
reject "ran 0 of the 0 cases" -- run --cases "$tmp/mine.lua" --no-store
reject "^gemm_scalar " -- run --cases "$tmp/mine.lua" --no-store   # not selected: offered nothing
expect 0 "0 failed" -- run --cases "$tmp/gemm.lua" --no-store
# ... and --coverage holds a file to it (gemm_dispatch was never forced here), never failing a
# variant that was offered nothing
expect 1 "FAIL coverage +gemm_dispatch .*dispatch coverage: no passing case forced it" -- run --cases "$tmp/gemm.lua" --coverage --no-store
reject "ran 0 of the 0 cases" -- run --cases "$tmp/gemm.lua" --coverage --no-store

# item 5: the tier's dispatch cases prove the dispatcher, forced and unforced; a dispatcher whose
# AVX2 path is gated off at compile time fails (when this build has mutants and the CPU has AVX2)
expect 0 "0 failed" -- run --cases "$src/cases/dispatch.lua" --coverage --variant gemm_dispatch --no-store
if "$bin" list variants --include-hidden | grep -q "^mutant_gemm_dispatch_gate" && grep -qw avx2 /proc/cpuinfo; then
  expect 1 "FAIL coverage +mutant_gemm_dispatch_gate .*never chose gemm_tiled_f32_avx2_6x16" -- run --cases "$src/cases/dispatch.lua" --coverage --variant mutant_gemm_dispatch_gate --include-hidden --no-store
else
  skipped="$skipped the gated-dispatcher check (no mutants in this build, or no AVX2 here);"
fi
expect 0 "1 passed, 0 failed" -- repro 'gemm(m=33,k=65,kernel=gemm_gemv)' --no-store
expect 0 "1 passed, 0 failed" -- repro 'gemm(m=33,k=65,kernel=gemm_small_n)' --no-store
expect 2 "parameter 'kernel': no gemm dispatcher accepts 'gemm_nosuch'" -- repro 'gemm(m=33,k=65,kernel=gemm_nosuch)' --no-store

# item 6: threads= is a case dimension, kept in the key, honoured by repro, cpu variants only
expect 0 "threads=3\)" -- list cases --tier quick
expect 0 "1 passed, 0 failed" -- repro 'gemm(m=4097,n=3,k=1031,threads=3)' --variant gemm_small_n --no-store
expect 2 "parameter 'threads' wants" -- repro 'gemm(m=5,threads=zero)' --no-store

# item 8: repro without --variant runs no test-only or mutant variant
reject "testonly|mutant_" -- repro 'gemm(m=3,n=2,k=5)' --no-store --timeout 5
expect 0 "0 failed" -- repro 'gemm(m=3,n=2,k=5)' --no-store --timeout 5
expect 2 "add --include-hidden" -- repro 'gemm(m=3,n=2,k=5)' --variant gemm_testonly_overflow --no-store

# item 11: an op glob that names no op, and a case too big for this machine, are usage errors
expect 2 "--op 'nosuch' matches no op" -- run --cases "$tmp/mine.lua" --op nosuch --no-store
expect 2 "needs about [0-9.]+ GB .*refused before running" -- repro 'gemm(m=100000,n=100000,k=2)' --variant gemm_scalar --no-store --timeout 5

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] || exit 1
# rows that could not run here: the test did not prove everything, so ctest shows it skipped
[ -z "$skipped" ] || { echo "skipped: $skipped"; exit 77; }
