#!/usr/bin/env bash
# tests/cli_fake_seams.sh: a build with -DMC_FAKE_SEAMS=ON adds one fake op row and one fake backend
# row (tests/fake/, one list entry each in CMakeLists.txt) and nothing else; selection, `list`, the
# run --help op list, the perf table and the report must all pick them up. Builds its own tree
# beside the binary (ccache), without CUDA so that its row is a not-built one; 77 = skipped.
# SPDX-License-Identifier: MIT
set -u
bin="$1"; src="$2"
build="$(dirname "$bin")/fake-seams"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0
command -v cmake >/dev/null || { echo "skipped: cmake not found"; exit 77; }

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache)
if ! { cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMC_WERROR=ON -DMC_FAKE_SEAMS=ON -DMC_CUDA=OFF \
         "${launcher[@]}" >"$tmp/build.log" 2>&1 &&
       cmake --build "$build" -j2 --target metallic-check >>"$tmp/build.log" 2>&1; }; then
  tail -30 "$tmp/build.log" >&2
  echo "FAIL: the MC_FAKE_SEAMS build failed" >&2
  exit 1
fi
fake="$build/metallic-check"

# want STATUS PATTERN WHAT -- ARGS...: runs the fake build, wants that status and PATTERN.
want() {
  local status="$1" pattern="$2" what="$3"; shift 4
  local out rc
  out="$("$fake" "$@" 2>&1)"; rc=$?
  if [ "$rc" -eq "$status" ] && grep -qE -- "$pattern" <<<"$out"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $what: metallic-check $* -> exit $rc (want $status), output lacks /$pattern/:" >&2
    head -20 <<<"$out" >&2
  fi
}

cat >"$tmp/fake.lua" <<'LUA'
suite "seam.fake" { op = "fake", n = {64, 256, 1024} }
LUA
want 0 "^ *fake .*fake backend of the seam test" "list backends shows the row" -- list backends
want 0 "^ *cuda .*not built" "the not-built rows stay" -- list backends
want 0 "fake" "list ops shows the op" -- list ops
want 0 "fake_double" "list variants shows the backend's table" -- list variants
want 0 "only ops matching GLOB \(gemm, gemv, softmax, sdpa, fake\)" "run --help lists the op" -- run --help
want 0 "6 passed" "selection runs the fake op on the fake backend" \
  -- run --cases "$tmp/fake.lua" --backend fake --op fake --no-store
want 2 "unknown backend 'nope' \(known: cpu, opencl, cuda, fake\)" "--backend knows the row" \
  -- run --cases "$tmp/fake.lua" --backend nope --no-store
want 0 "perf fake_double .*% of (L1|L2|L3|DRAM) copy roof" "the perf table holds the op to its copy roof" \
  -- run --perf --cases "$tmp/fake.lua" --backend fake --db "$tmp/db"
want 0 "" "report" -- report --db "$tmp/db" --out "$tmp/report.html"
if grep -q "fake variants against n (elements)" "$tmp/report.html"; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL: the report has no sweep of the fake op over its axis" >&2
fi

echo "cli_fake_seams: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
