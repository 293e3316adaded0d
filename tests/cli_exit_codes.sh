#!/usr/bin/env bash
# tests/cli_exit_codes.sh: the CLI as a black box: every exit status, bad options, --help texts.
# Focus: each row runs the binary and checks its exit status and a piece of its output.
# SPDX-License-Identifier: MIT
set -u
bin="$1"; src="$2"
export MC_CASES_DIR="$src/cases"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0

# expect STATUS PATTERN -- ARGS...: runs the binary, wants that exit status and PATTERN in its output.
expect() {
  local want="$1" pattern="$2"; shift 3
  local out rc
  out="$("$bin" "$@" 2>&1)"; rc=$?
  if [ "$rc" -eq "$want" ] && grep -qE -- "$pattern" <<<"$out"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: metallic-check $* -> exit $rc (want $want), output lacks /$pattern/:" >&2
    head -20 <<<"$out" >&2
  fi
}

cat >"$tmp/tiny.lua" <<'LUA'
suite "tiny" { op = "gemm", m = {1, 3}, n = 2, k = {5, 8} }
LUA
cat >"$tmp/bad.lua" <<'LUA'
suite "bad" { op = "gemm",
  m = {1, 3},
  nope = 4 }
LUA
printf 'suite "broken" { op = "gemm", m = \n' >"$tmp/syntax.lua"

expect 0 "usage: metallic-check COMMAND" -- --help
expect 2 "unknown command" -- frobnicate
expect 2 "usage" --
expect 0 "--tier NAME" -- run --help
expect 0 "CASE-KEY" -- repro --help
expect 0 "ops" -- list --help
expect 2 "unknown or incomplete option" -- run --no-such-flag
expect 2 "unknown backend 'nosuch'" -- run --backend nosuch --cases "$tmp/tiny.lua"
expect 2 "no variant is named 'gemm_nosuch'" -- run --variant gemm_nosuch --cases "$tmp/tiny.lua"
expect 2 "wants a number" -- run --jobs many
expect 2 "--shard wants I/N" -- run --shard 3/2
expect 2 "bad.lua:[0-9]+" -- run --cases "$tmp/bad.lua" --no-store
expect 2 "syntax.lua" -- run --cases "$tmp/syntax.lua" --no-store
expect 2 "cannot|No such file|not found" -- run --cases "$tmp/missing.lua" --no-store
expect 2 "unknown tier|tier" -- run --tier nosuch --no-store
expect 4 "nothing ran" -- run --cases "$tmp/tiny.lua" --filter 'softmax(*' --no-store
expect 4 "nothing ran" -- run --cases "$tmp/tiny.lua" --op sdpa --no-store
expect 0 "4 passed, 0 failed" -- run --cases "$tmp/tiny.lua" --variant gemm_scalar --no-store
expect 1 "FAIL crash .*gemm_testonly_segfault" -- run --cases "$tmp/tiny.lua" --variant 'gemm_testonly_segfault' --include-hidden --no-store
expect 1 "repro: metallic-check repro 'gemm\(" -- run --cases "$tmp/tiny.lua" --variant 'gemm_testonly_overflow' --include-hidden --no-store
expect 1 "timeout" -- run --cases "$tmp/tiny.lua" --variant 'gemm_testonly_hang' --include-hidden --timeout 1 --no-store
expect 0 "1 passed, 0 failed" -- repro 'gemm(m=3,n=2,k=5)' --variant gemm_scalar --no-store
expect 1 "guard" -- repro 'gemm(m=3,n=2,k=5)' --variant gemm_testonly_overflow --include-hidden --no-store
expect 2 "not a case key" -- repro 'garbage' --no-store
expect 2 "unknown op" -- repro 'nosuchop(m=1)' --no-store
expect 0 "gemm_scalar +gemm +cpu +runs here" -- list variants
expect 0 "cpu +available" -- list backends
expect 0 "^gemm\(m=3,n=2,k=8\)$" -- list cases --cases "$tmp/tiny.lua"
expect 0 '"kind":"pass"' -- run --cases "$tmp/tiny.lua" --variant gemm_scalar --no-store --json
# option values: fractions of a second, seeds in range, repeated and listed variants
expect 0 "4 passed, 0 failed" -- run --cases "$tmp/tiny.lua" --variant gemm_scalar --budget 0.5 --no-store
expect 2 "--budget" -- run --cases "$tmp/tiny.lua" --budget 0 --no-store
expect 2 "--seed.*-1" -- run --cases "$tmp/tiny.lua" --variant gemm_scalar --seed -1 --no-store
expect 2 "--seed.*99999999999999999999" -- run --cases "$tmp/tiny.lua" --variant gemm_scalar --seed 99999999999999999999 --no-store
expect 0 "4 passed, 0 failed" -- run --cases "$tmp/tiny.lua" --variant gemm_scalar --seed 18446744073709551615 --no-store
expect 0 "8 passed, 0 failed" -- run --cases "$tmp/tiny.lua" --variant gemm_scalar --variant gemm_tiled_portable --no-store
expect 0 "8 passed, 0 failed" -- run --cases "$tmp/tiny.lua" --variant gemm_scalar,gemm_tiled_portable --no-store
expect 2 "no variant is named 'gemm_nosuch'" -- run --cases "$tmp/tiny.lua" --variant gemm_scalar --variant gemm_nosuch --no-store

# a crashing variant leaves every other result of the run intact
out="$("$bin" run --cases "$tmp/tiny.lua" --variant 'gemm_*' --include-hidden --timeout 2 --no-store 2>&1)"
if grep -qE "^gemm_scalar +cpu +4 +0 +0 +0 +0" <<<"$out" && grep -q "FAIL crash" <<<"$out"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAIL: crash isolation table:" >&2; echo "$out" | tail -20 >&2
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
