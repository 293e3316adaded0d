#!/usr/bin/env bash
# tests/cli_tty.sh: a kernel cannot reach the controlling terminal around its captured output.
# Focus: under a pseudo-terminal (script(1)), gemm_testonly_tty opens /dev/tty and writes a marker;
# a worker without a controlling terminal makes the open fail, so the case passes and no marker shows.
# SPDX-License-Identifier: MIT
set -u
bin="$1"; src="$2"
export MC_CASES_DIR="$src/cases"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
if ! command -v script >/dev/null; then echo "skipped: no script(1) to make a pseudo-terminal"; exit 77; fi
if ! "$bin" list variants --include-hidden 2>/dev/null | grep -q gemm_testonly_tty; then
  echo "skipped: built without the test-only variants (MC_TEST_VARIANTS=OFF)"; exit 77
fi
printf 'suite "tty" { op = "gemm", m = {1, 3}, n = 4, k = 5 }\n' >"$tmp/tty.lua"
script -qec "'$bin' run --cases '$tmp/tty.lua' --variant gemm_testonly_tty --include-hidden --no-store --quiet; echo \"exit=\$?\"" \
  /dev/null >"$tmp/out" 2>&1 </dev/null
failed=0
grep -q "exit=0" "$tmp/out" || { echo "FAIL: the tty kernel's run did not pass: $(head -c 600 "$tmp/out")" >&2; failed=1; }
if grep -q "hostile-tty-marker" "$tmp/out"; then echo "FAIL: a kernel wrote to the controlling terminal" >&2; failed=1; fi
[ "$failed" -eq 0 ] && echo "cli_tty: all passed"
exit "$failed"
