#!/usr/bin/env bash
# tests/cli_skip_status.sh: a CLI test that cannot run on this build says "skipped: <why>" and exits with
# ctest's SKIP_RETURN_CODE (77), never 0: run against a stand-in binary that has no variants at all.
# SPDX-License-Identifier: MIT
set -u
src="$2"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0
printf '#!/bin/sh\nexit 0\n' >"$tmp/metallic-check"
chmod +x "$tmp/metallic-check"
for t in cli_check cli_sanitizer_report; do
  out="$(bash "$src/tests/$t.sh" "$tmp/metallic-check" "$src" 2>&1)"; rc=$?
  if [ "$rc" -eq 77 ] && grep -q "^skipped: " <<<"$out"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: $t on a build without what it needs: exit $rc (want 77), said: $out" >&2; fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
