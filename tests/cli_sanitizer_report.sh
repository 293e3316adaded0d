#!/usr/bin/env bash
# tests/cli_sanitizer_report.sh: in a sanitizer build (MC_SANITIZE), a kernel's wild pointer must
# leave AddressSanitizer's report in the case's output, not a bare "signal 11".
# Focus: the worker keeps the sanitizer's SIGSEGV handler; the report reaches the failure's output.
# SPDX-License-Identifier: MIT
set -u
bin="$1"; src="$2"
export MC_CASES_DIR="$src/cases"
if ! grep -qa "__asan_init" "$bin"; then
  echo "skipped: $bin is not a sanitizer build (configure with -DMC_SANITIZE=ON)"
  exit 77
fi
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
printf 'suite "one" { op = "gemm", m = 3, n = 4, k = 6 }\n' >"$tmp/one.lua"
ASAN_OPTIONS=handle_segv=1:detect_leaks=0 "$bin" run --cases "$tmp/one.lua" --no-store --quiet --jobs 1 \
  --timeout 60 --variant gemm_testonly_wild --include-hidden >"$tmp/out" 2>&1
rc=$?
failed=0
[ "$rc" -eq 1 ] || { echo "FAIL: exit $rc (want 1)" >&2; failed=1; }
grep -q "FAIL crash .*gemm_testonly_wild" "$tmp/out" || { echo "FAIL: the wild store is not a crash" >&2; failed=1; }
grep -q "AddressSanitizer: SEGV" "$tmp/out" || { echo "FAIL: no AddressSanitizer report in the output" >&2; failed=1; }
grep -q "gemm_testonly_wild_run" "$tmp/out" || { echo "FAIL: the report does not name the kernel" >&2; failed=1; }
if [ "$failed" -ne 0 ]; then
  cat "$tmp/out" >&2
  exit 1
fi
echo "cli_sanitizer_report: all passed"
