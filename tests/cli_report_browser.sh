#!/usr/bin/env bash
# tests/cli_report_browser.sh: the HTML report from two real perf runs, rendered by headless Chromium.
# Focus: `report` exit codes and --help; the page renders (screenshot) and its DOM, after the
# browser ran it, holds every section's heading and the same numbers the command printed; shards
# joined by `merge` read as one run of their commit.
# Usage: cli_report_browser.sh <metallic-check binary> <source dir>
# SPDX-License-Identifier: MIT
set -u
BIN=$1
SRC=$2
failures=0
checks=0

pass() { checks=$((checks + 1)); }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL: $*"; }
expect_rc() { # expected-rc description command...
    local want=$1 what=$2
    shift 2
    "$@" > "$tmp/out" 2> "$tmp/err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then pass; else fail "$what: exit $rc, wanted $want ($(head -c 300 "$tmp/err"))"; fi
}
has() { # file text description
    if grep -qF -- "$2" "$1"; then pass; else fail "$3: '$2' not found"; fi
}

if ! command -v chromium > /dev/null 2>&1; then
    if [ "${CI:-}" = "true" ]; then
        echo "FAIL: chromium not installed (CI must install Debian's chromium for this test)"
        exit 1
    fi
    echo "skipped: chromium not installed"
    exit 77 # ctest's SKIP_RETURN_CODE for the cli tests
fi

tmp=$(mktemp -d)
trap 'if [ -n "${MC_KEEP_REPORT_DIR:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi' EXIT

# The machine fingerprint includes every backend's device description, and PoCL's mentions its
# free memory, which moves between runs; these runs use the CPU backend only, so OpenCL is kept
# out (an empty ICD folder) and the two runs share one machine.
mkdir -p "$tmp/no-icd"
export OCL_ICD_VENDORS="$tmp/no-icd"
export MC_CASES_DIR="$SRC/cases"

cat > "$tmp/cases.lua" <<'EOF'
-- two small sweeps: SDPA variants across n_kv, GEMM variants across size
suite "browser.sdpa" { op = "sdpa", dtype = "f32", heads = 2, kv_heads = 1, head_dim = 64, n_q = 1,
                       n_kv = {16, 64, 256} }
suite "browser.gemm" { op = "gemm", dtype = "f32", m = {16, 48}, n = {16, 48}, k = {16, 48},
                       where = function(c) return c.m == c.n and c.n == c.k end }
EOF

DB="$tmp/t.db"
# Two commits (recorded with --commit), so there is a base, a candidate and a history.
for sha in 1111111111111111111111111111111111111111 2222222222222222222222222222222222222222; do
    "$BIN" run --cases "$tmp/cases.lua" --backend cpu --perf --budget 1 --db "$DB" --commit "$sha" --quiet \
        > "$tmp/run.log" 2>&1
    rc=$?
    # 0 or 1: the run may hold failures (the page shows them); anything else is a broken run
    if [ "$rc" -le 1 ]; then pass; else fail "run for $sha exited $rc: $(tail -3 "$tmp/run.log")"; fi
done

# ---- the command line ----
expect_rc 0 "report --help" "$BIN" report --help
has "$tmp/out" "usage: metallic-check report" "--help"
has "$tmp/out" "--base RUN|COMMIT" "--help"
expect_rc 2 "a database that does not exist" "$BIN" report --db "$tmp/missing.db" --out "$tmp/x.html"
[ -e "$tmp/missing.db" ] && fail "report created the missing database" || pass
echo "not a database" > "$tmp/junk.db"
expect_rc 2 "a file that is not a database" "$BIN" report --db "$tmp/junk.db" --out "$tmp/x.html"
expect_rc 2 "an unknown candidate run" "$BIN" report --db "$DB" --cand 99 --out "$tmp/x.html"
expect_rc 2 "an unknown base commit" "$BIN" report --db "$DB" --base deadbeef --out "$tmp/x.html"
expect_rc 2 "an unknown option" "$BIN" report --db "$DB" --frobnicate
[ -e "$tmp/x.html" ] && fail "a failed report left a page behind" || pass

# Default runs: the newest run as candidate, the one before it (same machine, timed) as base.
expect_rc 0 "report with default runs" "$BIN" report --db "$DB" --out "$tmp/report.html"
cp "$tmp/out" "$tmp/summary"
has "$tmp/summary" "for run 2 against run 1" "default runs"
results=$(sed -n 's/.*: \([0-9]*\) results, \([0-9]*\) failures.*/\1/p' "$tmp/summary")
failed=$(sed -n 's/.*: \([0-9]*\) results, \([0-9]*\) failures.*/\2/p' "$tmp/summary")
compared=$(sed -n 's/.*, \([0-9]*\) compared (.*/\1/p' "$tmp/summary")
[ -n "$results" ] && [ -n "$compared" ] && pass || fail "summary line not understood: $(cat "$tmp/summary")"

# ---- the browser ----
chrome() {
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --user-data-dir="$(mktemp -d -p "$tmp")" "$@" \
        "file://$tmp/report.html" 2> "$tmp/chrome.err"
}
chrome --screenshot="$tmp/report.png" --window-size=1280,2000 > /dev/null
if [ -s "$tmp/report.png" ] && [ "$(head -c 4 "$tmp/report.png" | tail -c 3)" = "PNG" ]; then pass; else
    fail "no screenshot ($(tail -3 "$tmp/chrome.err"))"
fi
chrome --dump-dom > "$tmp/dom.html"
[ -s "$tmp/dom.html" ] && pass || fail "empty DOM ($(tail -3 "$tmp/chrome.err"))"

for heading in "<h2>Failures" "<h2>Regressions and improvements</h2>" "<h2>History per kernel variant</h2>" \
    "<h2>Variant comparison</h2>" "<h2>Coverage matrix</h2>" "<h2>Roofline</h2>"; do
    has "$tmp/dom.html" "$heading" "section heading"
done
has "$tmp/dom.html" 'id="overall"' "verdict banner"
has "$tmp/dom.html" "<code>111111111111</code>" "base commit in the banner"
has "$tmp/dom.html" "<code>222222222222</code>" "candidate commit in the banner"
has "$tmp/dom.html" "data-count=\"total\">$results</b> results" "result count as the command printed"
has "$tmp/dom.html" "<b>$compared</b> compared" "compared count as the command printed"
has "$tmp/dom.html" "variants against n_kv (keys per head)" "SDPA sweep"
has "$tmp/dom.html" "variants against size (m = n = k)" "GEMM sweep"
has "$tmp/dom.html" "<b>sdpa_fused_qk_softmax</b>" "a history chart"
has "$tmp/dom.html" 'id="cov-sdpa"' "SDPA coverage table"
has "$tmp/dom.html" 'id="roofline-table"' "roofline table"
has "$tmp/dom.html" "Machine peaks: read <b>" "stored bandwidth peaks"
# every failure the command counted has a reproducer (at most 200 are listed)
if [ "$failed" -gt 0 ]; then
    has "$tmp/dom.html" "<h2>Failures <span class=\"count\">$failed</span>" "failure count as the command printed"
    n=$(grep -o 'class="repro"' "$tmp/dom.html" | wc -l)
    want=$((failed < 200 ? failed : 200))
    [ "$n" -eq "$want" ] && pass || fail "$n reproducers for $failed failures"
fi
# the script ran in the browser (it un-hides the filter box) ...
if grep -q 'id="failure-filter"[^>]*hidden' "$tmp/dom.html"; then fail "the page script did not run"; else pass; fi
# ... and the page needs nothing from outside: no URL but the SVG namespace
urls=$(grep -o 'https\?://[^" ]*' "$tmp/report.html" | grep -v '^http://www.w3.org/2000/svg$' | sort -u)
[ -z "$urls" ] && pass || fail "external references: $urls"
svgs=$(grep -o '<svg' "$tmp/dom.html" | wc -l)
[ "$svgs" -ge 10 ] && pass || fail "only $svgs inline SVG charts"

# ---- merged shards read as one run (issue 12 item 14) ----
# Two commits, each run as shards 0/2 and 1/2 into two databases, then merged: the newest shard's
# page covers both of its commit's shards, and its base is the other commit, not its own shard.
for sha in 3333333333333333333333333333333333333333 4444444444444444444444444444444444444444; do
    for i in 0 1; do
        "$BIN" run --cases "$tmp/cases.lua" --backend cpu --perf --budget 1 --db "$tmp/shard$i.db" --commit "$sha" \
            --shard "$i/2" --quiet > "$tmp/run.log" 2>&1
        rc=$?
        if [ "$rc" -le 1 ]; then pass; else fail "shard $i/2 of $sha exited $rc: $(tail -3 "$tmp/run.log")"; fi
    done
done
expect_rc 0 "merge the shards" "$BIN" merge "$tmp/shard0.db" "$tmp/shard1.db" -o "$tmp/merged.db"
expect_rc 0 "report on merged shards" "$BIN" report --db "$tmp/merged.db" --out "$tmp/merged.html"
# both shards' results, as many passes as one unsharded run of the same cases
passes() { sed -n 's/.*data-count="pass">\([0-9]*\)<.*/\1/p' "$1"; }
[ -n "$(passes "$tmp/report.html")" ] && [ "$(passes "$tmp/merged.html")" = "$(passes "$tmp/report.html")" ] && pass ||
    fail "the merged shards' page has $(passes "$tmp/merged.html") passes, one unsharded run $(passes "$tmp/report.html")"
cand_line=$(grep -o '<dd id="cand-commit">.*</dd><dt>Base' "$tmp/merged.html")
base_line=$(grep -o '<dd id="base-commit">.*</dd><dt>Machine' "$tmp/merged.html")
case "$cand_line" in *444444444444*shard*merged*) pass ;; *) fail "candidate is not commit 4444's merged shards: $cand_line" ;; esac
case "$base_line" in *333333333333*shard*merged*) pass ;; *) fail "base is not commit 3333's merged shards: $base_line" ;; esac

echo "$((checks - failures)) passed, $failures failed out of $checks"
[ "$failures" -eq 0 ]
