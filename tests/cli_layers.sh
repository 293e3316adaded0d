#!/usr/bin/env bash
# tests/cli_layers.sh: scripts/check-layers passes on the tree and fails, naming file:line, on a
# planted upward include, a "../" include and an exception that does not cover another file; and
# core's objects call nothing of ours that core does not define.
# SPDX-License-Identifier: MIT
set -u
bin="$1"; src="$2"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0

# want STATUS PATTERN WHAT: runs check-layers on $tmp/tree, wants that status and PATTERN.
want() {
  local out rc
  out="$("$src/scripts/check-layers" "$tmp/tree" 2>&1)"; rc=$?
  if [ "$rc" -eq "$1" ] && grep -qE -- "$2" <<<"$out"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $3: exit $rc (want $1), output lacks /$2/:" >&2
    head -20 <<<"$out" >&2
  fi
}
# fresh: a copy of the layer folders, nothing planted.
fresh() {
  rm -rf "$tmp/tree"; mkdir -p "$tmp/tree"
  for d in core reference kernels stats db engine reports cli; do cp -r "$src/$d" "$tmp/tree/$d"; done
}

fresh
want 0 "check-layers: ok" "the tree as it is"
printf '#include "engine/session.h"\n' >>"$tmp/tree/core/status.c"
n="$(wc -l <"$tmp/tree/core/status.c")"
want 1 "^core/status.c:$n: core/ may not include engine/session.h" "core including engine"

fresh
printf '#include "../../engine/runner.h"\n' >>"$tmp/tree/kernels/cpu/gemm_scalar.c"
want 1 "^kernels/cpu/gemm_scalar.c:[0-9]+: \"\\.\\./\" include" "a ../ include in a kernel"

fresh
printf '#include "reports/report.h"\n' >>"$tmp/tree/db/store.c"
want 1 "db/ may not include reports/report.h" "db including reports"

fresh
printf '#include "engine/registry.h"\n' >>"$tmp/tree/reports/html.c"
want 1 "^reports/html.c:[0-9]+: reports/ may not include engine/registry.h" "the exception is per file"

fresh
printf '#include "cli/cli.h"\n' >>"$tmp/tree/engine/ops/op_gemm.c"
want 1 "^engine/ops/op_gemm.c:[0-9]+: engine/ may not include cli/cli.h" "engine/ops counts as engine"

# Link level: core's objects call nothing of ours that core does not define (core/case.c once called
# engine's op lookup; it takes it as an argument now). The objects are the build's, next to $bin.
skipped=""
objs=("$(dirname "$bin")"/CMakeFiles/mc_core.dir/core/*.o)
if command -v nm >/dev/null && [ -e "${objs[0]}" ]; then
  nm --defined-only "${objs[@]}" | awk 'NF == 3 { print $3 }' | sort -u >"$tmp/core_defined"
  upward="$(nm -u "${objs[@]}" | awk '$1 == "U" { print $2 }' | grep '^mc_' | sort -u | comm -23 - "$tmp/core_defined")"
  if [ -z "$upward" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: core's objects call symbols core does not define: $upward" >&2
  fi
else
  skipped="core's objects not found next to $bin, or no nm"
fi

echo "cli_layers: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || exit 1
[ -z "$skipped" ] || { echo "skipped: $skipped"; exit 77; }
