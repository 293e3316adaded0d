#!/usr/bin/env bash
# tests/cli_skip_status.sh: a CLI test that cannot run on this build says "skipped: <why>" and exits with
# ctest's SKIP_RETURN_CODE (77), never 0: run against a stand-in binary that has no variants at all,
# and cli_plugins with the real binary on a PATH without git (its commit rows cannot run there).
# SPDX-License-Identifier: MIT
set -u
bin="$1"; src="$2"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0
printf '#!/bin/sh\nexit 0\n' >"$tmp/metallic-check"
chmod +x "$tmp/metallic-check"
for t in cli_check cli_sanitizer_report; do
  out="$(bash "$src/tests/$t.sh" "$tmp/metallic-check" "$src" 2>&1)"; rc=$?
  if [ "$rc" -eq 77 ] && grep -q "^skipped: " <<<"$out"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: $t on a build without what it needs: exit $rc (want 77), said: $out" >&2; fi
done
# a PATH holding every command but git
mkdir -p "$tmp/nogit"
IFS=: read -ra dirs <<<"$PATH"
for d in "${dirs[@]}"; do
  for f in "$d"/*; do
    b="${f##*/}"
    [ "$b" = git ] || [ -e "$tmp/nogit/$b" ] || ln -s "$f" "$tmp/nogit/$b" 2>/dev/null
  done
done
out="$(PATH="$tmp/nogit" bash "$src/tests/cli_plugins.sh" "$bin" "$src" 2>&1)"; rc=$?
if [ "$rc" -eq 77 ] && grep -q "^skipped: check over commits (no git)" <<<"$out"; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL: cli_plugins without git: exit $rc (want 77), said: $(tail -3 <<<"$out")" >&2; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
