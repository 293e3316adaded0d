#!/usr/bin/env bash
# tests/cli_disk_full.sh: a store that cannot be written (ulimit -f stands in for a full disk).
# Focus: the write error is reported (exit 2, no death by SIGXFSZ), "stored as run N" is never
# printed for what was not stored, and the aborted run is never what report picks by default.
# SPDX-License-Identifier: MIT
set -u
bin="$1"; src="$2"
export MC_CASES_DIR="$src/cases"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }

cat >"$tmp/tiny.lua" <<'LUA'
suite "tiny" { op = "gemm", m = {1, 3, 5}, n = {2, 7}, k = {5, 8} }
LUA
db="$tmp/t.db"
"$bin" run --cases "$tmp/tiny.lua" --variant gemm_scalar --db "$db" --quiet \
  --commit aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa >"$tmp/first.out" 2>&1 || fail "the first run failed"
grep -q "stored as run 1" "$tmp/first.out" || fail "the first run was not stored as run 1"

# 32 KiB per file: enough to open the store and begin a run, not to write its results
(ulimit -f 32; exec "$bin" run --cases "$tmp/tiny.lua" --variant gemm_scalar --db "$db" --quiet \
  --commit bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb) >"$tmp/full.out" 2>"$tmp/full.err"
rc=$?
[ "$rc" -eq 2 ] || fail "a run on a full store exited $rc (want 2; 153 is death by SIGXFSZ)"
grep -q "database error" "$tmp/full.err" || fail "no database error reported: $(cat "$tmp/full.err")"
if grep -q "stored as run" "$tmp/full.out" "$tmp/full.err"; then
  fail "printed 'stored as run' for a run whose results were not stored"
fi

"$bin" report --db "$db" --out "$tmp/r.html" >"$tmp/report.out" 2>&1 || fail "report failed: $(cat "$tmp/report.out")"
grep -q "for run 1:" "$tmp/report.out" || fail "report did not pick the finished run 1: $(cat "$tmp/report.out")"
"$bin" db check --db "$db" >"$tmp/check.out" 2>&1 || fail "the store failed its check: $(cat "$tmp/check.out")"
# how far it got depends on where the limit bit: either way it must not read as finished
grep -qE "^ *2 +(aborted|incomplete) " "$tmp/check.out" || fail "run 2 reads as finished: $(cat "$tmp/check.out")"

# what the cases found is shown even when it could not be stored (the exit stays 2: the store failed)
db3="$tmp/c.db"
"$bin" run --cases "$tmp/tiny.lua" --variant gemm_scalar --db "$db3" --quiet >/dev/null 2>&1 || fail "run on c.db failed"
(ulimit -f 32; exec "$bin" run --cases "$tmp/tiny.lua" --variant gemm_testonly_segfault --include-hidden --db "$db3" \
  --quiet --commit cccccccccccccccccccccccccccccccccccccccc) >"$tmp/crash.out" 2>"$tmp/crash.err"
rc=$?
[ "$rc" -eq 2 ] || fail "crashing cases on a full store exited $rc (want 2)"
grep -q "^FAIL crash" "$tmp/crash.out" "$tmp/crash.err" ||
  fail "the crashes found were not shown because storing failed: $(cat "$tmp/crash.out" "$tmp/crash.err" | head -5)"

if [ "$failed" -ne 0 ]; then
  echo "$failed failed" >&2
  exit 1
fi
echo "cli_disk_full: all passed"
