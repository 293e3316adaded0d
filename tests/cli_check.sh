#!/usr/bin/env bash
# tests/cli_check.sh: the per-commit check, the paired A/B script and crash safety, end to end, with the
# synthetic slowdown variant (gemm_testonly_slowdown, MC_SLOWDOWN=factor).
# Focus: `check` on commits of a throw-away repository (first commit: nothing to compare; unchanged
# commit: exit 0; twice as slow: exit 3), ambiguous verdicts re-measured a bounded number of times, a 10%
# slowdown flagged (exit 3) by paired ABBA rounds and an unchanged candidate not flagged, kill -9 in the
# middle of a run leaving a sound database, and `db` usage errors. Issue 12: check rejects bad options
# before any work; over commits with every backend live (PoCL) an unchanged commit is same code on cpu
# and opencl, a 10% slower kernel is exit 3 and listed first, a narrowed parent run gives "no baseline"
# counts, re-measuring an OpenCL pair completes, a variant has one identity whatever ran, and a setup
# error is stored as aborted. Sizes were chosen so that noise cannot flip an assertion
# (docs/detection-power.md gives the measured rates they rest on; the issue-12 block says why).
# SPDX-License-Identifier: MIT
set -u
bin="$1"; src="$2"
export MC_CASES_DIR="$src/cases"
unset MC_SLOWDOWN MC_DB
tmp="$(mktemp -d)"
killer_pgid=""
cleanup() {
  [ -n "$killer_pgid" ] && kill -9 -- "-$killer_pgid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
passed=0; failed=0; skipped=""

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $1" >&2; [ -n "${2:-}" ] && head -40 <<<"$2" >&2; }

# want STATUS PATTERN LABEL OUTPUT RC: the status, and PATTERN (extended regex) somewhere in OUTPUT.
want() {
  if [ "$5" -eq "$1" ] && grep -qE -- "$2" <<<"$4"; then pass; else fail "$3: exit $5 (want $1), wants /$2/" "$4"; fi
}
# lacks PATTERN LABEL OUTPUT
lacks() {
  if grep -qE -- "$1" <<<"$3"; then fail "$2: has /$1/" "$3"; else pass; fi
}

if ! "$bin" list variants --include-hidden 2>/dev/null | grep -q gemm_testonly_slowdown; then
  echo "skipped: built without the test-only variants (MC_TEST_VARIANTS=OFF)"
  exit 77
fi
printf 'suite "one" { op = "gemm", dtype = "f32", m = 64, n = 64, k = 64 }\n' >"$tmp/one.lua"
printf 'suite "big" { op = "gemm", dtype = "f32", m = 128, n = 128, k = 128 }\n' >"$tmp/big.lua"
slow=(--variant gemm_testonly_slowdown --include-hidden --quiet)

# ---- the synthetic variant refuses a factor it cannot honour ----
out="$(MC_SLOWDOWN=0.5 "$bin" run --cases "$tmp/one.lua" --variant gemm_testonly_slowdown --include-hidden --no-store 2>&1)"; rc=$?
want 1 "not a factor in \[1, 100\]" "MC_SLOWDOWN=0.5" "$out" "$rc"

# ---- the report's reproducer of a hidden variant re-runs it: --include-hidden, and the run's seed ----
hdb="$tmp/hidden.db"
"$bin" run --cases "$tmp/one.lua" --variant gemm_testonly_segfault --include-hidden --seed 7 --db "$hdb" \
  --quiet >/dev/null 2>&1
"$bin" report --db "$hdb" --out "$tmp/hidden.html" >/dev/null 2>&1
line="$(grep -o '<code class="repro">metallic-check repro [^<]*</code>' "$tmp/hidden.html" | head -1 |
  sed -e 's/<[^>]*>//g' -e "s/&#39;/'/g" -e 's/&amp;/\&/g' -e 's/&lt;/</g' -e 's/&gt;/>/g')"
want 0 "^metallic-check repro .* --variant gemm_testonly_segfault --include-hidden --seed 7$" \
  "report reproducer of a test-only variant" "$line" 0
out="$(eval "\"\$bin\" ${line#metallic-check } --no-store" 2>&1)"; rc=$?
want 1 "FAIL crash" "report reproducer of a test-only variant, run" "$out" "$rc"

# ---- db usage ----
out="$("$bin" db 2>&1)"; rc=$?; want 2 "check or import-paired" "db without action" "$out" "$rc"
out="$("$bin" db frob 2>&1)"; rc=$?; want 2 "unknown action" "db frob" "$out" "$rc"
out="$("$bin" db check --db "$tmp/none.db" 2>&1)"; rc=$?; want 2 "no results database" "db check missing" "$out" "$rc"
out="$("$bin" db import-paired --db "$tmp/x.db" "$tmp/a.db" 2>&1)"; rc=$?; want 2 "in pairs" "odd import" "$out" "$rc"
out="$("$bin" check --remeasure many 2>&1)"; rc=$?; want 2 "--remeasure wants" "check --remeasure many" "$out" "$rc"

# ---- check checks every option before any work, in its own words, and stores nothing (issue 12, item 10) ----
vdb="$tmp/validate.db"
for bad in "--threshold 0|--threshold wants a percentage in \(0, 100\), got '0'" \
           "--perf-cases $tmp/missing.lua|--perf-cases: cannot read '$tmp/missing.lua'" \
           "--base run:99|--base run:99: no run 99" \
           "--report $tmp/no/such/folder/r.html|--report: cannot write into the folder"; do
  IFS='|' read -r opts pattern <<<"$bad"
  start=$SECONDS
  # shellcheck disable=SC2086 # opts is two words on purpose
  out="$("$bin" check $opts --db "$vdb" 2>&1)"; rc=$?
  want 2 "^metallic-check check: $pattern" "check $opts" "$out" "$rc"
  lacks "usage: metallic-check compare|cases x variants" "check $opts: compare's words or a run" "$out"
  # the precommit tier alone takes ~90 s here: an answer within 20 s means nothing ran first
  if [ $((SECONDS - start)) -lt 20 ]; then pass; else fail "check $opts took $((SECONDS - start)) s: it worked first"; fi
done
out="$("$bin" db check --db "$vdb" 2>&1)"; rc=$?
lacks "^  [0-9]+ " "check with bad options stored a run" "$out"

# ---- check on the commits of a throw-away repository ----
if command -v git >/dev/null; then
  repo="$tmp/repo"
  mkdir -p "$repo"
  g() { git -C "$repo" -c user.email=ci@example.com -c user.name=ci "$@" >/dev/null; }
  g init -q
  g commit -q --allow-empty -m first
  export MC_SOURCE_DIR="$repo" # the commit a run records is this repository's HEAD
  db="$tmp/check.db"
  ck=(check --cases "$tmp/one.lua" --perf-cases "$tmp/one.lua" --db "$db" "${slow[@]}")

  out="$("$bin" "${ck[@]}" --no-report 2>&1)"; rc=$?
  want 0 "nothing to compare with yet" "check, first commit" "$out" "$rc"

  g commit -q --allow-empty -m unchanged
  out="$("$bin" "${ck[@]}" --report "$tmp/report.html" 2>&1)"; rc=$?
  want 0 "verdict: all passed, no regression" "check, unchanged commit" "$out" "$rc"
  lacks "  regression" "check, unchanged commit" "$out"
  if [ -s "$tmp/report.html" ]; then pass; else fail "check wrote no report"; fi

  # independent runs, twice as slow: load on a shared machine moved the median of a whole run by up
  # to 45% in 300 A/A rounds (docs/detection-power.md), so a smaller factor could flake here
  g commit -q --allow-empty -m slower
  out="$(MC_SLOWDOWN=2 "$bin" "${ck[@]}" --no-report 2>&1)"; rc=$?
  want 3 "slower .*gemm_testonly_slowdown\]  regression" "check, 2x slower commit" "$out" "$rc"
  want 3 "verdict: performance regression \(exit 3\)" "check, 2x slower commit" "$out" "$rc"
  # a revision git knows (the README's `compare --base HEAD~1 --cand HEAD`) names that commit's run
  out="$("$bin" compare --db "$db" --base HEAD~1 --cand HEAD 2>&1)"; rc=$?
  want 3 "slower .*gemm_testonly_slowdown\]  regression" "compare --base HEAD~1 --cand HEAD" "$out" "$rc"
  out="$("$bin" compare --db "$db" --base 'HEAD~1;x' --cand HEAD 2>&1)"; rc=$?
  want 2 "'HEAD~1;x' is neither a run nor a commit" "compare --base junk" "$out" "$rc"

  # a loaded machine (the load average is faked in test builds, MC_TEST_LOADAVG): a "slower" verdict on
  # changed code is measured again before it counts, and a true 3x slowdown stays a regression. The
  # base is the parent's run, the 2x one above: 6x here is 3x that (3x was 1.5x, which a machine at a
  # real load of 10 blurred into "ambiguous")
  g commit -q --allow-empty -m slower-loaded
  out="$(MC_TEST_LOADAVG=64 MC_SLOWDOWN=6 "$bin" "${ck[@]}" --no-report 2>&1)"; rc=$?
  want 3 "slower verdicts on changed code are re-measured too" "check on a loaded machine" "$out" "$rc"
  want 3 "1 ambiguous or slower verdict: re-measuring 1 \(case, variant\) pair, round 1 of 2" \
    "check on a loaded machine re-measures the slower pair" "$out" "$rc"
  want 3 "verdict: performance regression \(exit 3\)" "check on a loaded machine, 3x slower" "$out" "$rc"

  # re-measuring: when one call outlasts the 1 s budget, a timing holds one or two samples, and a
  # comparison of such timings has no bounded 95% CI (Mann-Whitney cannot reach p < 0.05 with m <= 2
  # and n <= 6), so the verdict is ambiguous whatever the machine does: two rounds, then reported
  export MC_SLOWDOWN=100 # ~0.7 s a call
  db2="$tmp/remeasure.db"
  ck2=(check --cases "$tmp/one.lua" --perf-cases "$tmp/big.lua" --db "$db2" "${slow[@]}" --no-report)
  "$bin" "${ck2[@]}" >/dev/null 2>&1
  g commit -q --allow-empty -m remeasure
  out="$("$bin" "${ck2[@]}" 2>&1)"; rc=$?
  want 0 "1 ambiguous( or slower)? verdict: re-measuring 1 \(case, variant\) pair, round 2 of 2" "check re-measure" "$out" "$rc"
  want 0 "re-measured gemm\(m=128,n=128,k=128\) \[cpu gemm_testonly_slowdown\]: \+[1-9][0-9]* samples" \
    "check re-measure appends" "$out" "$rc"
  want 0 "0 same, 1 ambiguous" "check re-measure, still ambiguous" "$out" "$rc"
  # interrupted while re-measuring (SIGTERM: a script's background job ignores SIGINT): it says what it
  # keeps, and the run stays incomplete
  g commit -q --allow-empty -m interrupted
  "$bin" "${ck2[@]}" >"$tmp/int.out" 2>&1 &
  pid=$!
  for _ in $(seq 600); do grep -q "re-measuring" "$tmp/int.out" && break; sleep 0.1; done
  kill -TERM "$pid" 2>/dev/null; wait "$pid"; rc=$?
  out="$(cat "$tmp/int.out")"
  want 143 "interrupted: [0-9]+ results kept in run [0-9]+ \(incomplete\)" "check interrupted while re-measuring" "$out" "$rc"
  run_id="$(sed -n 's/.*results kept in run \([0-9]*\).*/\1/p' "$tmp/int.out")"
  status="$("$bin" db check --db "$db2" 2>&1 | awk -v r="$run_id" '$1 == r { print $2 }')"
  if [ "$status" = incomplete ]; then pass; else fail "interrupted check's run $run_id is '$status', want incomplete" "$out"; fi
  unset MC_SOURCE_DIR MC_SLOWDOWN
else
  skipped="$skipped check on commits (no git);"
fi

# ---- check over commits with every backend live: identity, base selection, re-measuring (issue 12) ----
# Kernels: gemm on the cpu and opencl backends (PoCL by default) plus the test-only slowdown variant;
# the real gemm kernels (gemm_ not followed by t, and gemm_tiled_*) and gemm_testonly_slowdown, named
# so: neither the mutants nor the crashing, hanging or hostile test-only variants.
# Why these assertions cannot flake on a noisy 2-core machine:
# * the unchanged commit's exit 0 and "same code" labels do not depend on timing at all: only a slower
#   verdict on CHANGED code is a regression, and every code hash is equal there;
# * the narrowed-base counts and the re-measure are counts and completions, not timings;
# * the 10% slowdown is the one timing claim. Independent runs find +10% in 98/100 trials here
#   (docs/detection-power.md, threshold 3%); the misses were whole runs shifted by load. So a miss gets
#   one more independent trial (a fresh base run of the parent, then the candidate again): two misses
#   in a row are ~0.04% if independent. A broken verdict (wrong identity, wrong label, wrong order)
#   fails both trials alike, so the retry hides no bug.
if command -v git >/dev/null; then
  if "$bin" list backends 2>/dev/null | grep -q '^opencl *available'; then ocl=1; else ocl=0; fi
  [ "$ocl" = 1 ] || skipped="$skipped the OpenCL part of the commit checks (no OpenCL device);"
  repo="$tmp/repo3"
  mkdir -p "$repo"
  g3() { git -C "$repo" -c user.email=ci@example.com -c user.name=ci "$@" >/dev/null; }
  g3 init -q
  echo "v1" >"$repo/README"; g3 add README; g3 commit -q -m first
  export MC_SOURCE_DIR="$repo"
  printf 'suite "gemm" { op = "gemm", dtype = "f32", m = {16, 64}, n = {1, 4, 64}, k = 64 }\n' >"$tmp/c3.lua"
  printf 'suite "gemm" { op = "gemm", dtype = "f32", m = 64, n = 64, k = 64 }\n' >"$tmp/p3.lua"
  common=(check --cases "$tmp/c3.lua" --perf-cases "$tmp/p3.lua" --op gemm --include-hidden --quiet)
  all=("${common[@]}" --variant 'gemm_[!t]*,gemm_tiled_*,gemm_testonly_slowdown')
  narrowed=("${common[@]}" --backend cpu --variant gemm_scalar) # a second --variant would add to the first
  [ "$ocl" = 1 ] && narrowed=("${all[@]}" --backend opencl)
  db3="$tmp/commits.db"

  # first commit: a complete run, then a newer narrowed one
  out="$("$bin" "${all[@]}" --db "$db3" --no-report 2>&1)"; rc=$?
  want 0 "no baseline for any of the [0-9]+ timed" "check, first commit" "$out" "$rc"
  want 0 "verdict: all passed; no baseline for any of the [0-9]+ timed pairs" "check, first commit" "$out" "$rc"
  out="$("$bin" "${narrowed[@]}" --db "$db3" --no-report 2>&1)"; rc=$?
  want 0 "verdict:" "check, first commit, narrowed" "$out" "$rc"

  # README-only commit: base is the complete run (not the newer narrowed one); no code changed anywhere,
  # so every pair is labelled same code, on every backend, and nothing is a regression
  echo "v2" >"$repo/README"; g3 commit -q -am "README only"
  out="$("$bin" "${all[@]}" --db "$db3" --report "$tmp/r3.html" 2>&1)"; rc=$?
  want 0 "base run 1: ([0-9]+) of \1 timed \(case, variant\) pairs have a baseline, 0 no baseline" \
    "check, README-only commit: the complete base" "$out" "$rc"
  want 0 "verdict: all passed, no regression \(exit 0\)" "check, README-only commit" "$out" "$rc"
  json="$("$bin" compare --db "$db3" --json --all 2>&1)"
  lacks '"same_code":false' "README-only commit: a pair not labelled same code" "$json"
  # one default-base rule: report, like check and compare, takes the complete run 1, not the newer narrowed 2
  out="$("$bin" report --db "$db3" --out "$tmp/r3b.html" 2>&1)"; rc=$?
  want 0 "for run 3 against run 1:" "report's default base is check's (the complete parent run)" "$out" "$rc"
  if grep -q '"base":{"run":1,' <<<"$json"; then pass; else fail "compare's default base is not the complete run" "$json"; fi
  if grep -q '"backend":"cpu"' <<<"$json"; then pass; else fail "README-only commit: no cpu pair compared" "$json"; fi
  if [ "$ocl" = 1 ]; then
    if grep -q '"backend":"opencl"' <<<"$json"; then pass; else fail "README-only: no opencl pair compared" "$json"; fi
  fi
  lacks "<b>changed</b>" "README-only commit: the report's Code column" "$(cat "$tmp/r3.html" 2>/dev/null)"

  # a commit that slows one cpu kernel by 10%: exit 3, and that kernel is the first one listed
  g3 commit -q --allow-empty -m "slower"
  for attempt in 1 2; do
    out="$(MC_SLOWDOWN=1.10 "$bin" "${all[@]}" --db "$db3" --no-report 2>&1)"; rc=$?
    [ "$rc" -eq 3 ] && break
    echo "note: the 10% slowdown was missed in trial $attempt (exit $rc): a fresh base, then once more" >&2
    g3 checkout -q HEAD~1
    "$bin" "${all[@]}" --db "$db3" --no-report >/dev/null 2>&1
    g3 checkout -q -
  done
  want 3 "verdict: performance regression" "check, 10% slower commit" "$out" "$rc"
  first="$(grep -E '^  (slower|faster|ambiguous|same) ' <<<"$out" | head -1)"
  if grep -qE "^  slower .*\[cpu gemm_testonly_slowdown\]  regression$" <<<"$first"; then pass; else
    fail "10% slower commit: the regression is not listed first (first: $first)" "$out"; fi

  # a parent commit whose only run is narrowed: the pairs it lacks are "no baseline", counted in the
  # terminal, the JSON and the report, never a silent pass
  dbn="$tmp/narrow.db"
  g3 checkout -q HEAD~2
  "$bin" "${narrowed[@]}" --db "$dbn" --no-report >/dev/null 2>&1
  g3 checkout -q -
  g3 checkout -q HEAD~1
  out="$("$bin" "${all[@]}" --db "$dbn" --report "$tmp/rn.html" 2>&1)"; rc=$?
  g3 checkout -q -
  want 0 "base run 1: [1-9][0-9]* of [0-9]+ timed \(case, variant\) pairs have a baseline, [1-9][0-9]* no baseline" \
    "check over a narrowed parent run" "$out" "$rc"
  want 0 "verdict: all passed, no regression in the [0-9]+ pairs with a baseline; [1-9][0-9]* of [0-9]+ timed pairs had no baseline" \
    "check over a narrowed parent run: verdict" "$out" "$rc"
  want 0 "[1-9][0-9]* no baseline \(not compared: no verdict\)" "check over a narrowed parent run: compare" "$out" "$rc"
  json="$("$bin" compare --db "$dbn" --json 2>&1)"
  if grep -qE '"no_baseline":[1-9]' <<<"$json" && grep -q '"verdict":"no baseline"' <<<"$json"; then pass; else
    fail "narrowed parent: JSON without the no-baseline pairs" "$json"; fi
  if grep -q 'id="no-baseline"' "$tmp/rn.html" 2>/dev/null; then pass; else fail "narrowed parent: report says nothing"; fi

  if [ "$ocl" = 1 ]; then
    # one identity per variant per run: declined by every case, or run, the variant is the same code
    printf 'suite "d" { op = "gemv", dtype = "f32", m = 64, k = 64 }\n' >"$tmp/declined.lua"
    printf 'suite "r" { op = "gemv", dtype = "f32", wtype = "q8_0", m = 64, k = 64 }\n' >"$tmp/ran.lua"
    idb="$tmp/identity.db"
    "$bin" run --cases "$tmp/declined.lua" --variant gemv_q8_0_opencl --db "$idb" --quiet >/dev/null 2>&1
    "$bin" run --cases "$tmp/ran.lua" --variant gemv_q8_0_opencl --db "$idb" --quiet >/dev/null 2>&1
    if command -v sqlite3 >/dev/null; then
      hashes="$(sqlite3 "$idb" 'SELECT DISTINCT v.code_hash FROM result r JOIN variant v ON v.id = r.variant_id')"
      if [ "$(wc -l <<<"$hashes")" -eq 1 ] && grep -qE '^[0-9a-f]{16}$' <<<"$hashes"; then pass; else
        fail "gemv_q8_0_opencl declined and run: one identity of 16 hex digits wanted, got: $hashes"; fi
    else
      skipped="$skipped the one-identity check (no sqlite3 command);"
    fi

    # re-measuring ambiguous OpenCL pairs completes: gemm_opencl_tiled_32x32x8 takes 0.2-0.9 s a call at
    # 1024^3 on PoCL, and a 0.01 s budget holds exactly one sample a side after the warm-up (the timer
    # always takes one): no bounded CI, so the verdict is ambiguous on any machine and is re-measured
    printf 'suite "big" { op = "gemm", dtype = "f32", m = 1024, n = 1024, k = 1024 }\n' >"$tmp/bigocl.lua"
    rdb="$tmp/remeasure-ocl.db"
    rm_ck=(check --cases "$tmp/c3.lua" --perf-cases "$tmp/bigocl.lua" --variant gemm_opencl_tiled_32x32x8 --no-report
           --quiet --db "$rdb" --budget 0.01)
    g3 checkout -q HEAD~1
    "$bin" "${rm_ck[@]}" >/dev/null 2>&1
    g3 checkout -q -
    out="$("$bin" "${rm_ck[@]}" 2>&1)"; rc=$?
    want 0 "verdict: all passed, no regression \(exit 0\)" "check --remeasure over an OpenCL pair" "$out" "$rc"
    lacks "configuration error|has no timing" "check --remeasure over an OpenCL pair" "$out"
    want 0 "1 ambiguous( or slower)? verdict: re-measuring 1 \(case, variant\) pair" \
      "check finds the one-sample OpenCL pair ambiguous" "$out" "$rc"
    want 0 "re-measured gemm\(m=1024,n=1024,k=1024\) \[opencl gemm_opencl_tiled_32x32x8\]: \+[1-9]" \
      "check re-measures an OpenCL pair" "$out" "$rc"
    status="$("$bin" db check --db "$rdb" 2>&1 | awk '$1 == 2 { print $2 }')"
    if [ "$status" = passed ]; then pass; else fail "re-measured check stored as '$status', want passed"; fi

    # a check that ends in a setup error is stored "aborted", never "passed": --base names a run of
    # another machine (its fingerprint is changed behind the tool's back), found only once the run
    # knows its own machine
    if command -v sqlite3 >/dev/null; then
      sqlite3 "$rdb" "INSERT INTO machine (fingerprint, cpu_model, cpu_flags, cores, os, compiler, cflags, devices,
        first_seen) SELECT 'ffffffffffffffff', cpu_model, cpu_flags, cores, os, compiler, cflags, devices, first_seen
        FROM machine LIMIT 1; UPDATE run SET machine_id = (SELECT id FROM machine WHERE fingerprint =
        'ffffffffffffffff') WHERE id = 1;"
      out="$("$bin" "${rm_ck[@]}" --base run:1 --remeasure 0 2>&1)"; rc=$?
      want 2 "different machines|another machine|on this machine" "check --base on another machine" "$out" "$rc"
      lacks "stored as run" "check --base on another machine: an aborted run is never 'stored'" "$out"
      status="$("$bin" db check --db "$rdb" 2>&1 | awk '$1 == 3 { print $2 }')"
      if [ "$status" = aborted ]; then pass; else fail "setup error stored as '$status', want aborted" "$out"; fi
    else
      skipped="$skipped the setup-error status check (no sqlite3 command);"
    fi
  fi
  unset MC_SOURCE_DIR
else
  skipped="$skipped check over commits with every backend (no git);"
fi

# ---- paired A/B (scripts/ab-compare with prebuilt binaries) ----
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  printf '#!/usr/bin/env bash\nMC_SLOWDOWN=1.10 exec "%s" "$@"\n' "$bin" >"$tmp/slower.sh"
  printf '#!/usr/bin/env bash\nMC_SLOWDOWN=1.00 exec "%s" "$@"\n' "$bin" >"$tmp/same.sh"
  chmod +x "$tmp/slower.sh" "$tmp/same.sh"
  ab=("$src/scripts/ab-compare" --base-bin "$bin" --tool "$bin" --cases "$tmp/one.lua" --variant gemm_testonly_slowdown
      --include-hidden --time-limit 0)
  # 12 rounds: the 95% CI runs from the 3rd smallest to the 3rd largest paired log-ratio, so two
  # disturbed rounds cannot hide a 10% slowdown (the study saw two within ten rounds once in 91)
  out="$("${ab[@]}" --cand-bin "$tmp/slower.sh" --rounds 12 --db "$tmp/ab.db" base cand-10pct 2>&1)"; rc=$?
  want 3 "paired runs: CI of the median paired log-ratio" "ab-compare 10% slower" "$out" "$rc"
  want 3 "slower .*gemm_testonly_slowdown\]  regression" "ab-compare 10% slower" "$out" "$rc"
  # the same speed under another code hash (MC_SLOWDOWN=1.00): a change only the statistics can clear;
  # 6 rounds flagged no A/A window of 295 in the study
  out="$("${ab[@]}" --cand-bin "$tmp/same.sh" --rounds 6 --db "$tmp/ab.db" base cand-same 2>&1)"; rc=$?
  want 0 "0 slower \(0 regressions" "ab-compare unchanged speed" "$out" "$rc"
else
  skipped="$skipped ab-compare ($src is not a git checkout);"
fi

# ---- kill -9 in the middle of a run ----
# per case: a crash, a hang killed at the 1 s timeout, a guard failure and a pass, so the run lasts
# about a second per case while results are committed batch by batch
printf 'suite "long" { op = "gemm", dtype = "f32", m = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30}, n = 3, k = 5 }\n' >"$tmp/long.lua"
kdb="$tmp/killed.db"
setsid "$bin" run --cases "$tmp/long.lua" --variant 'gemm_testonly_*' --include-hidden --timeout 1 --jobs 1 \
  --db "$kdb" --quiet >/dev/null 2>&1 &
killer_pgid=$!
before=0
for _ in $(seq 1 100); do
  sleep 0.2
  before="$("$bin" db check --db "$kdb" 2>/dev/null | awk '$1 == 1 { print $3 }')"
  [ -n "$before" ] && [ "$before" -ge 4 ] && break
done
kill -9 -- "-$killer_pgid" 2>/dev/null
wait "$killer_pgid" 2>/dev/null
killer_pgid=""
out="$("$bin" db check --db "$kdb" 2>&1)"; rc=$?
want 0 "integrity_check ok, foreign keys ok" "db check after kill -9" "$out" "$rc"
want 0 "^  1 +incomplete " "killed run reads incomplete" "$out" "$rc"
after="$(awk '$1 == 1 { print $3 }' <<<"$out")"
if [ -n "$before" ] && [ "$before" -ge 4 ] && [ -n "$after" ] && [ "$after" -ge "$before" ] && [ "$after" -lt 120 ]; then
  pass
else
  fail "kill -9: $before results seen before the kill, $after after (want >= 4, kept, fewer than all 120)" "$out"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] || exit 1
# rows that could not run here: the test did not prove everything, so ctest shows it skipped
[ -z "$skipped" ] || { echo "skipped: $skipped"; exit 77; }
