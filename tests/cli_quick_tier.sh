#!/usr/bin/env bash
# tests/cli_quick_tier.sh: the quick tier end to end on every available backend.
# Focus: it runs at least 3,000 distinct cases, every one passes (coverage and dispatch coverage
# included), every op runs at a thread count of its own, no variant is unavailable without a
# reason, and a missing backend (cuda here) is reported, never counted as a pass.
# SPDX-License-Identifier: MIT
set -u
bin="$1"; src="$2"
export MC_CASES_DIR="$src/cases"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0
check() { if eval "$2"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1" >&2; fi; }

cases=$("$bin" list cases --tier quick 2>/dev/null | wc -l)
check "quick tier holds >= 3000 cases (has $cases)" '[ "$cases" -ge 3000 ]'
for op in gemm gemv softmax sdpa; do
  check "quick tier runs $op at a thread count of its own" \
    '"$bin" list cases --tier quick 2>/dev/null | grep -qE "^$op\(.*threads=[0-9]"'
done
check "quick tier forces the GEMM dispatcher to a kernel" \
  '"$bin" list cases --tier quick 2>/dev/null | grep -q "kernel=gemm_gemv"'

start=$(date +%s)
"$bin" run --tier quick --no-store --quiet --junit "$tmp/junit.xml" >"$tmp/out.txt" 2>&1
rc=$?
secs=$(( $(date +%s) - start ))
echo "quick tier: exit $rc in ${secs}s"
grep -E "^FAIL" "$tmp/out.txt" | head -40 >&2
tail -45 "$tmp/out.txt"
check "quick tier exits 0 (got $rc)" '[ "$rc" -eq 0 ]'
check "closing counts line present with 0 failed" 'grep -qE "^[0-9]+ passed, 0 failed, [0-9]+ skipped$" "$tmp/out.txt"'
check "an unbuilt backend is reported, not counted" 'grep -q "unavailable backend cuda" "$tmp/out.txt"'
check "JUnit file written with testcases" 'grep -q "<testcase" "$tmp/junit.xml"'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
