#!/usr/bin/env bash
# tests/cli_git_hook.sh: scripts/install-git-hook in a scratch repository, with a stand-in
# scripts/metallic-check that takes 3 s and reports a regression.
# Focus: the default post-commit hook never blocks `git commit`; its verdict reaches the next
# commit and --status; nothing lands in the work tree; --foreground and --pre-push still wait.
# SPDX-License-Identifier: MIT
set -u
src="$2"
for tool in git flock; do
  command -v "$tool" >/dev/null || { echo "skipped: $tool is not installed"; exit 77; }
done
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0
check() { local what="$1"; shift; if "$@" >/dev/null; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what" >&2; fi; }
now() { date +%s.%N; }
slower_than() { awk -v a="$1" -v b="$2" -v s="$3" 'BEGIN { exit !(b - a >= s) }'; }

repo="$tmp/repo"
git init -q "$repo" && mkdir "$repo/scripts"
cp "$src/scripts/install-git-hook" "$repo/scripts/"
cat >"$repo/scripts/metallic-check" <<'STUB'
#!/usr/bin/env bash
sleep 3
echo "check: verdict: performance regression (exit 3)"
exit 3
STUB
chmod +x "$repo/scripts/"*
cd "$repo" || exit 1
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t
git add -A && git commit -qm init

scripts/install-git-hook >/dev/null
t0=$(now); git commit -q --allow-empty -m two >"$tmp/two.out" 2>&1; t1=$(now)
check "post-commit (default) does not block git commit" bash -c "! awk -v a=$t0 -v b=$t1 'BEGIN { exit !(b - a >= 2) }'"
check "post-commit says it checks in the background" grep -q "in the background" "$tmp/two.out"
check "--status: running" bash -c "scripts/install-git-hook --status | grep -q 'is running'"
for _ in $(seq 1 40); do [ -s .git/metallic-check/verdict ] && break; sleep 0.25; done
check "the background check leaves its verdict" grep -q "performance regression (exit 3)" .git/metallic-check/verdict
check "--status shows it" bash -c "scripts/install-git-hook --status | grep -q 'performance regression'"
git commit -q --allow-empty -m three >"$tmp/three.out" 2>&1
check "the next commit shows the previous verdict" grep -q "^metallic-check (background): commit [0-9a-f]*: performance regression" "$tmp/three.out"
check "nothing in the work tree" test -z "$(git status --porcelain)"
sleep 3.5

scripts/install-git-hook --post-commit --foreground >/dev/null
t0=$(now); git commit -q --allow-empty -m four >/dev/null 2>&1; rc=$?; t1=$(now)
check "--foreground waits for the check" slower_than "$t0" "$t1" 3
check "--foreground post-commit never fails the commit" test "$rc" -eq 0
scripts/install-git-hook --uninstall >/dev/null
check "--uninstall removes it" test ! -e .git/hooks/post-commit

scripts/install-git-hook --pre-push >/dev/null
check "--pre-push hook exits with the check's status" bash -c ".git/hooks/pre-push; test \$? -eq 3"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
