#!/usr/bin/env bash
# tests/ggml_crosscheck.sh: runs ggml_crosscheck on the cached ggml build (scripts/fetch-ggml-reference
# --offline: never fetches); without one it says "skipped: ..." and exits 77.
# SPDX-License-Identifier: MIT
exe="$1"; root="$2"
if ! lib="$("$root/scripts/fetch-ggml-reference" --offline 2>&1)"; then
  echo "skipped: ggml reference library not available ($lib)"
  exit 77
fi
exec "$exe" "$lib"
