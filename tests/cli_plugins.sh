#!/usr/bin/env bash
# tests/cli_plugins.sh: plugins end to end, from an installed package (issue 15).
# Focus: `cmake --install` to a temporary prefix; both examples built out of tree against it
# (find_package), the header compiled as strict C99 through pkg-config, docs/plugins.md's worked
# example built and passing; the quick tier with both
# plugins (--plugin and MC_PLUGINS): the correct variants pass, the planted defect is caught (exit 1)
# with a reproducer naming the plugin (in the report too), which reproduces it; `list` shows the plugins' paths; a wrong ABI
# major, a crashing init and a name clash are exit 2 naming the plugin; `check` over commits labels an
# unchanged plugin (rebuilt from scratch) same code and flags its slowed build as a regression (exit 3).
# SPDX-License-Identifier: MIT
set -u
bin="$1"; src="$2"
build="$(dirname "$bin")"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0
unset MC_PLUGINS MC_DB MC_CASES_DIR

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $1" >&2; [ -n "${2:-}" ] && head -30 <<<"$2" >&2; }
# want STATUS PATTERN LABEL OUTPUT RC: the status, and PATTERN (extended regex) somewhere in OUTPUT.
want() {
  if [ "$5" -eq "$1" ] && grep -qE -- "$2" <<<"$4"; then pass; else fail "$3: exit $5 (want $1), wants /$2/" "$4"; fi
}
# rows that could not run here make the whole test a skip (77, ctest's SKIP_RETURN_CODE), never a pass
skipped=""
finish() {
  echo "cli_plugins: $passed passed, $failed failed"
  [ "$failed" -eq 0 ] || exit 1
  [ -z "$skipped" ] || { echo "skipped: $skipped"; exit 77; }
  exit 0
}

# ---- the package: installed, both examples built out of tree against it ----
prefix="$tmp/prefix"
out="$(cmake --install "$build" --prefix "$prefix" 2>&1)"; rc=$?
want 0 "metallic-checkConfig.cmake" "cmake --install" "$out" "$rc"
for f in bin/metallic-check include/metallic_check/plugin.h lib/cmake/metallic-check/metallic-checkConfig.cmake \
         share/pkgconfig/metallic-check.pc share/metallic-check/cases/quick.lua; do
  if [ -e "$prefix/$f" ]; then pass; else fail "the package lacks $f"; fi
done
mc="$prefix/bin/metallic-check"
out="$(PKG_CONFIG_PATH="$prefix/share/pkgconfig" pkg-config --cflags --variable=plugin_abi metallic-check 2>&1)"; rc=$?
want 0 "^1\.0$" "pkg-config: the plugin ABI" "$out" "$rc"
cflags="$(PKG_CONFIG_PATH="$prefix/share/pkgconfig" pkg-config --cflags metallic-check)"
printf '#include <metallic_check/plugin.h>\nint x;\n' >"$tmp/strict.c"
# shellcheck disable=SC2086 # cflags is a flag list
out="$(cc -std=c99 -pedantic-errors -Wall -Wextra -Werror $cflags -fsyntax-only "$tmp/strict.c" 2>&1)"; rc=$?
want 0 "" "plugin.h as strict C99 through pkg-config" "$out" "$rc"

# build NAME SOURCE [cmake args]: one example, out of tree, against the prefix
build_example() {
  local name="$1" dir="$2"; shift 2
  out="$(cmake -S "$src/examples/$dir" -B "$tmp/$name" -DCMAKE_PREFIX_PATH="$prefix" "$@" 2>&1 &&
         cmake --build "$tmp/$name" 2>&1)"; rc=$?
  want 0 "Built target" "build $name against the installed package" "$out" "$rc"
}
build_example kern cpu-kernels
build_example kern_again cpu-kernels                 # the same source built again from scratch
build_example kern_slow cpu-kernels -DMYKERNELS_SLOW=ON
build_example arena arena-backend
kern="$tmp/kern/libmykernels.so"; arena="$tmp/arena/libarena.so"
[ -f "$kern" ] && [ -f "$arena" ] || finish

# ---- list: the plugins' variants and backend, with their paths ----
out="$("$mc" list variants --plugin "$kern" --plugin "$arena" 2>&1)"; rc=$?
want 0 "^mykernels_gemv_f32_x4 +gemv +cpu +runs here \[plugin $kern\]" "list variants" "$out" "$rc"
want 0 "^arena_softmax_f32 +softmax +arena +runs here \[plugin $arena\]" "list variants, backend plugin" "$out" "$rc"
out="$(MC_PLUGINS="$arena" "$mc" list backends 2>&1)"; rc=$?
want 0 "^arena +available: mmap'd host arena.*\[plugin $arena\]" "list backends with MC_PLUGINS" "$out" "$rc"

# ---- the quick tier with both plugins ----
out="$(MC_PLUGINS="$arena" "$mc" run --tier quick --plugin "$kern" --variant 'mykernels_*,arena_*' --no-store 2>&1)"; rc=$?
want 1 "^mykernels_gemv_f32_x4 +cpu +[1-9][0-9]* +0 +[0-9]+ +0 +0$" "quick tier: the correct GEMV passes" "$out" "$rc"
want 1 "^arena_softmax_f32 +arena +[1-9][0-9]* +0 +[0-9]+ +0 +0$" "quick tier: the backend plugin's variant passes" "$out" "$rc"
want 1 "^mykernels_softmax_f32_x4 +cpu +[0-9]+ +[1-9][0-9]* " "quick tier: the planted defect fails" "$out" "$rc"
want 1 "^FAIL unwritten +mykernels_softmax_f32_x4 softmax\(cols=7\)" "quick tier: the defect is the unwritten tail" "$out" "$rc"
repro="$(grep -m1 "repro: .*--variant mykernels_softmax_f32_x4" <<<"$out" | sed 's/^ *repro: //')"
want 0 "^metallic-check repro '[^']+' --variant mykernels_softmax_f32_x4 --plugin '$kern'$" \
  "the reproducer names the plugin" "$repro" 0
out="$(eval "\"\$mc\" ${repro#metallic-check }" 2>&1)"; rc=$?
want 1 "FAIL unwritten +mykernels_softmax_f32_x4" "the reproducer reproduces" "$out" "$rc"

# ---- docs/plugins.md's worked example, built with pkg-config's flags: it passes ----
awk '/^```c$/ { on = 1; next } /^```$/ { if (on) exit } on' "$src/docs/plugins.md" >"$tmp/mylib.c"
# shellcheck disable=SC2086 # cflags is a flag list
out="$(cc -shared -fPIC -O2 -g -std=c99 -Wall -Wextra -Werror -Wno-unused-parameter $cflags "$tmp/mylib.c" \
       -o "$tmp/libmylib.so" 2>&1 && "$mc" run --tier quick --op gemv --plugin "$tmp/libmylib.so" --variant 'mylib_*' \
       --no-store --quiet 2>&1)"; rc=$?
want 0 "^[1-9][0-9]* passed, 0 failed" "docs/plugins.md's worked example" "$out" "$rc"

# ---- refused plugins: exit 2 naming the plugin ----
tp="$build/test-plugins"
out="$("$mc" run --tier quick --plugin "$tp/tp_bad_abi.so" --no-store 2>&1)"; rc=$?
want 2 "plugin $tp/tp_bad_abi.so: variant record: built for plugin ABI 99.2; this metallic-check speaks 1.0" \
  "a wrong ABI major" "$out" "$rc"
out="$("$mc" run --json --plugin "$tp/tp_bad_abi.so" --no-store 2>/dev/null)"; rc=$?
want 2 '"error":\{"status":"configuration error","message":"plugin [^"]*tp_bad_abi.so: variant record: built for plugin ABI 99' \
  "a wrong ABI major, in --json" "$out" "$rc"
out="$(MC_PLUGINS="$tp/tp_crash_init.so" "$mc" list variants 2>&1)"; rc=$?
want 2 "plugin $tp/tp_crash_init.so: crashed while loading \(signal 11" "a crashing init" "$out" "$rc"
out="$("$mc" repro 'softmax(cols=8)' --plugin "$tp/tp_clash.so" 2>&1)"; rc=$?
want 2 "plugin $tp/tp_clash.so: variant 'softmax_scalar' clashes with the built-in variant" "a name clash" "$out" "$rc"
out="$("$mc" check --plugin "$tp/tp_crash_kernel.so" --plugin "$tp/tp_twin.so" --no-report 2>&1)"; rc=$?
want 2 "plugin $tp/tp_twin.so: variant 'tp_softmax_segv' clashes with the one plugin $tp/tp_crash_kernel.so" \
  "a clash between plugins" "$out" "$rc"

# ---- check's report: its reproducer of a plugin's failure names the plugin ----
printf 'suite "s" { op = "softmax", dtype = "f32", cols = 7 }\n' >"$tmp/tail.lua"
out="$("$mc" check --cases "$tmp/tail.lua" --perf-cases "$tmp/tail.lua" --plugin "$kern" --variant 'mykernels_softmax*' \
       --db "$tmp/report.db" --report "$tmp/report.html" --quiet 2>&1)"; rc=$?
want 1 "FAIL unwritten" "check over the planted defect" "$out" "$rc"
line="$(grep -o '<code class="repro">[^<]*</code>' "$tmp/report.html" 2>/dev/null | head -1 | sed -e 's/<[^>]*>//g' -e "s/&#39;/'/g")"
want 0 "^metallic-check repro 'softmax\(cols=7\)' --variant mykernels_softmax_f32_x4 --plugin '$kern'$" \
  "the report's reproducer names the plugin" "$line" 0

# ---- check over commits: an unchanged plugin is same code, a slowed one a regression ----
if ! command -v git >/dev/null; then
  skipped="check over commits (no git)"
  finish
fi
repo="$tmp/repo"; mkdir -p "$repo"
g() { git -C "$repo" -c user.email=ci@example.com -c user.name=ci "$@" >/dev/null; }
g init -q; g commit -q --allow-empty -m first
export MC_SOURCE_DIR="$repo"
printf 'suite "g" { op = "gemv", dtype = "f32", m = {7, 64}, k = {33, 256} }\n' >"$tmp/c.lua"
printf 'suite "g" { op = "gemv", dtype = "f32", m = 512, k = 512 }\n' >"$tmp/p.lua"
ck=(check --cases "$tmp/c.lua" --perf-cases "$tmp/p.lua" --variant mykernels_gemv_f32_x4 --db "$tmp/check.db"
    --no-report --quiet)
out="$("$mc" "${ck[@]}" --plugin "$kern" 2>&1)"; rc=$?
want 0 "verdict: all passed" "check, first commit" "$out" "$rc"
g commit -q --allow-empty -m rebuilt
out="$("$mc" "${ck[@]}" --plugin "$tmp/kern_again/libmykernels.so" 2>&1)"; rc=$?
want 0 "verdict: all passed, no regression" "check, the plugin rebuilt unchanged" "$out" "$rc"
out="$("$mc" compare --db "$tmp/check.db" --json --all 2>&1)"
want 0 '"variant":"mykernels_gemv_f32_x4".*"same_code":true' "unchanged plugin code is labelled same code" "$out" 0
g commit -q --allow-empty -m slower
out="$("$mc" "${ck[@]}" --plugin "$tmp/kern_slow/libmykernels.so" 2>&1)"; rc=$?
want 3 "slower .*mykernels_gemv_f32_x4\] +regression" "check, the slowed plugin" "$out" "$rc"
want 3 "verdict: performance regression \(exit 3\)" "check, the slowed plugin" "$out" "$rc"
finish
