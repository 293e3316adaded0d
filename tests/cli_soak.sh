#!/usr/bin/env bash
# tests/cli_soak.sh: the CI version of scripts/soak (kill -9 at random points, concurrent writers,
# the hostile kernel set), short enough for every push.
# Focus: the database stays whole, finished runs keep their results, killed runs read incomplete.
# SPDX-License-Identifier: MIT
set -u
bin="$1"; src="$2"
command -v python3 >/dev/null || { echo "skipped: python3 is needed for the database checks"; exit 77; }
exec bash "$src/scripts/soak" --bin "$bin" --quick --seed 13
