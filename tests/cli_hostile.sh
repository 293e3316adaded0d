#!/usr/bin/env bash
# tests/cli_hostile.sh: every hostile kernel (kernels/cpu/testonly/testonly_hostile.c) in one run beside the
# normal gemm variants, into a database that already holds a clean run.
# Focus: the run ends within (items x timeout); each normal result equals the clean run's; each
# hostile case has its sensible kind and its captured output; --json stays parseable; no process
# of the run survives it (a marker in the environment); the database passes integrity_check with
# the earlier run intact.
# SPDX-License-Identifier: MIT
set -u
bin="$1"; src="$2"
export MC_CASES_DIR="$src/cases"
if ! command -v python3 >/dev/null; then
  echo "skipped: python3 is needed to read the JSON and the database"
  exit 77
fi
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }

cat >"$tmp/tiny.lua" <<'LUA'
suite "tiny" { op = "gemm", m = {3, 5}, n = 4, k = 6 }
LUA
db="$tmp/t.db"
# the malloc bomb touches all it may map before it fails: a small limit keeps that well inside the
# timeout on a loaded machine (256 MiB took over 2 s there)
timeout_s=4
common=(--cases "$tmp/tiny.lua" --db "$db" --quiet --jobs 2 --timeout "$timeout_s" --mem-limit 128)

# the clean run: normal variants only (gemm_scalar, gemm_small_n, gemm_tiled_*)
"$bin" run "${common[@]}" --variant 'gemm_[st][!e]*' --json \
  --commit aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa >"$tmp/clean.json" 2>"$tmp/clean.err" ||
  fail "the clean run failed: $(tail -5 "$tmp/clean.err")"

# the hostile run: the same, plus every test-only variant; a marker in its environment only
marker="mc-hostile-$$-$RANDOM"
start=$(date +%s)
env MC_HOSTILE_MARKER="$marker" "$bin" run "${common[@]}" --variant 'gemm_[st]*' --include-hidden --json \
  --junit "$tmp/hostile.xml" --commit bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb >"$tmp/hostile.json" 2>"$tmp/hostile.err"
rc=$?
wall=$(( $(date +%s) - start ))
[ "$rc" -eq 1 ] || fail "the hostile run exited $rc (want 1: failures, crashes, timeouts): $(tail -5 "$tmp/hostile.err")"

sleep 0.5 # init reaps what was killed
survivors=$(grep -lsa -- "MC_HOSTILE_MARKER=$marker" /proc/[0-9]*/environ 2>/dev/null | wc -l)
[ "$survivors" -eq 0 ] || fail "$survivors processes of the hostile run outlived it"

python3 - "$tmp/clean.json" "$tmp/hostile.json" "$db" "$wall" "$timeout_s" <<'PY' || failed=$((failed + 1))
import json, os, sqlite3, sys
clean_path, hostile_path, db_path, wall, timeout_s = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
bad = []
try:
    clean = json.load(open(clean_path))
    hostile = json.load(open(hostile_path))  # kernels printed junk: stdout must still be only JSON
except ValueError as e:
    print(f"FAIL: --json output is not JSON: {e}", file=sys.stderr)
    sys.exit(1)
def results(doc):
    return {(r["case"], r["variant"]): r for stage in doc["stages"] for r in stage["results"]}
c, h = results(clean), results(hostile)
if wall > len(h) * timeout_s:
    bad.append(f"the run took {wall} s, more than {len(h)} items x {timeout_s} s")
for key, r in c.items():
    if key not in h:
        bad.append(f"{key}: missing from the hostile run")
    elif (h[key]["kind"], h[key]["max_ratio"]) != (r["kind"], r["max_ratio"]):
        bad.append(f"{key}: {h[key]['kind']} {h[key]['max_ratio']} beside hostile kernels, {r['kind']} {r['max_ratio']} alone")
want = {"segfault": "crash", "hang": "timeout", "overflow": "guard", "slowdown": "pass",
        "fdwrite": "crash", "closehang": "timeout", "exit": "crash", "thread_exit": "crash",
        "sigstop": "timeout",
        # a leftover process fails its case where the kernel lists children (CONFIG_PROC_CHILDREN)
        "fork": "error" if os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children") else "pass", "mallocbomb": "crash", "print": "pass", "tty": "pass", "wild": "crash"}
outputs = {}
db = sqlite3.connect(db_path)
integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
if integrity != "ok":
    bad.append(f"integrity_check: {integrity}")
runs = db.execute("SELECT r.commit_sha, r.status, count(x.id) FROM run r LEFT JOIN result x ON x.run_id = r.id "
                  "GROUP BY r.id ORDER BY r.id").fetchall()
if len(runs) != 2 or runs[0] != ("a" * 40, "passed", len(c)):
    bad.append(f"the earlier run is not intact: {runs}")
for case, variant, output in db.execute(
        "SELECT c.key, v.name, x.output FROM result x JOIN test_case c ON c.id = x.case_id "
        "JOIN variant v ON v.id = x.variant_id JOIN run r ON r.id = x.run_id WHERE r.commit_sha = ?", ("b" * 40,)):
    outputs[(case, variant)] = output
seen = set()
for (case, variant), r in h.items():
    if not variant.startswith("gemm_testonly_"):
        continue
    name = variant[len("gemm_testonly_"):]
    seen.add(name)
    if r["kind"] != want.get(name):
        bad.append(f"{variant} {case}: {r['kind']} ({r['message']}), want {want.get(name)}")
    out = outputs.get((case, variant), "")
    if name == "print" and ("hostile-stdout-marker" not in out or "hostile-stderr-marker" not in out):
        bad.append(f"{variant} {case}: its output was not captured: {out!r}")
    if name == "fdwrite" and "hostile fdwrite junk" not in out:
        bad.append(f"{variant} {case}: its junk on stdout was not captured: {out!r}")
    if name == "print" and "hostile-stdout-marker" not in r.get("output", ""):
        bad.append(f"{variant} {case}: --json lacks its captured output: {r!r}")
if seen != set(want):
    bad.append(f"hostile variants that did not run: {sorted(set(want) - seen)}")
for b in bad:
    print("FAIL:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY

# the JUnit file carries each case's captured output too
grep -q "<system-out>[^<]*hostile-stdout-marker" "$tmp/hostile.xml" || fail "--junit lacks the captured output"
# the printing kernel passes, so what it printed belongs to its stored result alone
grep -q "hostile-stdout-marker" "$tmp/hostile.err" && fail "kernel output reached the harness's stderr"
if [ "$failed" -ne 0 ]; then
  echo "$failed failed" >&2
  exit 1
fi
echo "cli_hostile: all passed in ${wall} s"
