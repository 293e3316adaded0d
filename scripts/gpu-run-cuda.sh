#!/usr/bin/env bash
# scripts/gpu-run-cuda.sh: runs the cuda backend on the GPU machine (an H200) from builds made here
# and carried there with the libraries that machine lacks: unit tests, the quick tier, the gate
# proof and a perf subset with cuBLAS measured in the same run.
# SPDX-License-Identifier: MIT
#
# usage:
#   scripts/gpu-run-cuda.sh prepare      here: build (build-cuda-gpu/, and build-cuda-gate/ with the planted
#                                        broken gate) and pack metallic-check, test_cuda and the libraries
#                                        the GPU machine lacks into .carry/cuda/pack.tar.xz
#   scripts/gpu-run-cuda.sh all OUT      there: device check, test_cuda, quick tier, gate proof, perf subset
#   scripts/gpu-run-cuda.sh quick OUT    there: device check, test_cuda, the quick tier (database in OUT)
#   scripts/gpu-run-cuda.sh gate OUT     there: the broken-gate build must fail its run with coverage (exit 1)
#   scripts/gpu-run-cuda.sh perf OUT     there: copy bandwidth and the perf subset below (MC_PERF_BUDGET:
#                                        seconds per case, default 1)
#   MC_OP=gemv (quick, perf)             only that op's cases: a short re-check of one op's kernels
#   scripts/gpu-run-cuda.sh profile OUT  there: Nsight Compute's time, throughput and occupancy of each kernel
#                                        launch of the perf subset's cases (one run each, not the perf tier)
#   scripts/gpu-run-cuda.sh detail OUT   there: Nsight Compute's sections (stall reasons, memory, occupancy)
#                                        for MC_PROFILE_KERNELS (regex) in the cases MC_PROFILE_FILTER picks
# The GPU machine has no Lua, SQLite, OpenBLAS or cmocka: the pack holds them (this machine's Debian
# shared objects); glibc is the machine's own. libcuda.so.1, libnvidia-ml.so.1 and libcublas.so.13
# are the machine's; NVRTC (libnvrtc.so.13, 105 MB: too big to carry) is found there, in the CUDA
# toolkit or the Python packages' nvidia/ folders, never under a stubs/ folder. Runs pass
# --mem-limit 0: a CUDA context reserves more address space than a worker's default RLIMIT_AS.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pack_dir="$root/.carry/cuda"
stage=/tmp/mc-cuda

prepare() {
    local build="$root/build-cuda-gpu" gate="$root/build-cuda-gate"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMC_SANITIZE=OFF -DMC_CUDA=ON >/dev/null
    cmake --build "$build" -j2 --target metallic-check test_cuda >/dev/null
    cmake -S "$root" -B "$gate" -DCMAKE_BUILD_TYPE=Release -DMC_SANITIZE=OFF -DMC_CUDA=ON -DMC_CUDA_BROKEN_GATE=ON >/dev/null
    cmake --build "$gate" -j2 --target metallic-check >/dev/null
    local tmp
    tmp="$(mktemp -d)"
    mkdir -p "$tmp/bin" "$tmp/lib"
    cp "$build/metallic-check" "$build/tests/test_cuda" "$tmp/bin/"
    cp "$gate/metallic-check" "$tmp/bin/metallic-check-broken-gate"
    # every shared object the programs load, except glibc's own (the machine's glibc must serve)
    for lib in $(ldd "$tmp/bin/"* | awk '/=>/ {print $3}' | sort -u); do
        case "$(basename "$lib")" in
        libc.so.* | libm.so.* | libpthread.so.* | libdl.so.* | librt.so.* | ld-linux*) ;;
        *) cp -L "$lib" "$tmp/lib/" ;;
        esac
    done
    mkdir -p "$pack_dir"
    tar -C "$tmp" -cJf "$pack_dir/pack.tar.xz" bin lib
    rm -rf "$tmp"
    ls -l "$pack_dir/pack.tar.xz"
}

# The first file named $1 under the usual CUDA places, never in a stubs/ folder.
find_lib() {
    find /usr/local/cuda* /usr/local/nvidia /usr/lib/x86_64-linux-gnu /opt /usr/local/lib -name "$1" \
        -not -path '*/stubs/*' 2>/dev/null | head -1 || true
}

device_setup() {
    mkdir -p "$stage"
    tar -C "$stage" -xJf "$pack_dir/pack.tar.xz"
    local nvrtc
    nvrtc="${MC_CUDA_NVRTC:-$(find_lib 'libnvrtc.so.13')}"
    export MC_CUDA_NVRTC="$nvrtc"
    local extra="$stage/lib"
    [ -z "$nvrtc" ] || extra="$extra:$(dirname "$nvrtc")" # NVRTC loads its builtins from beside it
    local cublas
    cublas="$(find_lib 'libcublas.so.13')" # the Python packages' copy when ldconfig knows none
    [ -z "$cublas" ] || extra="$extra:$(dirname "$cublas")"
    export LD_LIBRARY_PATH="$extra${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export MC_BINARY="$stage/bin/metallic-check" MC_SOURCE_DIR="$root"
    mc="$stage/bin/metallic-check"
    echo "== NVRTC: ${nvrtc:-none found}; cuBLAS: ${cublas:-none found}"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,temperature.gpu --format=csv || true
    "$mc" list backends
}

quick() {
    local out="$1" rc=0
    echo "== unit tests (tests/test_cuda.c) on this device"
    "$stage/bin/test_cuda" >"$out/test_cuda.log" 2>&1 || rc=$?
    tail -25 "$out/test_cuda.log"
    echo "test_cuda exit status: $rc"
    echo "== quick tier"
    rc=0
    # cases/dispatch.lua (pulled in by every tier) forces gemm_cuda_dispatch to each of its kernels
    "$mc" run --cases "$root/cases/quick.lua" --backend cuda \
        --cases-dir "$root/cases" --db "$out/cuda-quick.db" \
        --junit "$out/cuda-quick-junit.xml" --jobs "$(nproc)" --mem-limit 0 --quiet ${MC_OP:+--op "$MC_OP"} \
        >"$out/quick.log" 2>&1 || rc=$?
    grep -v '^  repro' "$out/quick.log" | tail -40
    echo "quick tier exit status: $rc"
}

# The gate proof: the tensor-core probe of this build always says no; on a device that has sm_80 the
# run must fail with a coverage failure naming the variant (exit 1), never pass.
gate() {
    local out="$1" rc=0
    echo "== gate proof (build with MC_CUDA_BROKEN_GATE)"
    # --coverage: a run given --cases files is held to the coverage rule only when asked (without it
    # the first device run's broken gate passed, exit 0: no coverage check ran). The same run of the
    # normal build is the control: it must pass, so the failure is the planted gate's alone.
    local args=(run --cases "$root/cases/quick.lua" --backend cuda --coverage
        --op gemm --variant 'gemm_cuda_*' --cases-dir "$root/cases" --no-store --jobs "$(nproc)" --mem-limit 0 --quiet)
    "$stage/bin/metallic-check-broken-gate" "${args[@]}" >"$out/gate.log" 2>&1 || rc=$?
    local control=0
    "$mc" "${args[@]}" >"$out/gate-control.log" 2>&1 || control=$?
    grep -i "coverage\|probe says no" "$out/gate.log" | head -5 || true
    tail -2 "$out/gate-control.log"
    if [ "$rc" -eq 1 ] && grep -q "probe says no" "$out/gate.log" && [ "$control" -eq 0 ]; then
        echo "gate proof: PASS (the broken gate failed the run, exit $rc; the normal build passed it)"
    else
        echo "gate proof: FAIL (broken gate exit $rc, normal build exit $control; see gate.log, gate-control.log)"
    fi
}

# The perf subset of issue 16's targets, every row beside its cuBLAS peer where one exists.
perf_cases() {
    cat <<'EOF'
suite "gpu.gemm.4096" { op = "gemm", dtype = {"f32", "f16"}, m = 4096, n = 4096, k = 4096 }
suite "gpu.gemv" { op = "gemv", dtype = {"f32", "f16", "bf16"}, m = {14336, 2048}, k = {4096, 11008},
  where = function(c) return (c.m == 14336) == (c.k == 4096) end }
suite "gpu.gemv.lm_head" { op = "gemv", wtype = {"q8_0", "q4_0"}, m = 151936, k = 896 }
suite "gpu.softmax" { op = "softmax", dtype = "f32", rows = 128, cols = 4096 }
suite "gpu.sdpa.4096" { op = "sdpa", dtype = "f32", heads = 16, kv_heads = 2, head_dim = 64, n_q = 17, n_kv = 4096,
  causal = 1, q_offset = 4079 }
EOF
}

perf() {
    local out="$1" rc=0
    echo "== device copy bandwidth (before)"
    "$stage/bin/test_cuda" --copy-bandwidth 1024 || true
    perf_cases >"$stage/gpu_perf.lua"
    echo "== perf subset (the percentages of bandwidth-bound rows are of the device's copy bandwidth)"
    "$mc" run --cases "$stage/gpu_perf.lua" --cases-dir "$root/cases" --backend cuda --perf --jobs 1 --mem-limit 0 \
        --budget "${MC_PERF_BUDGET:-1}" --db "$out/cuda-perf.db" --quiet ${MC_OP:+--op "$MC_OP"} >"$out/perf.log" 2>&1 || rc=$?
    grep -v '^  repro' "$out/perf.log" | tail -80
    echo "perf exit status: $rc"
    echo "== device copy bandwidth (after)"
    "$stage/bin/test_cuda" --copy-bandwidth 1024 || true
}

# Where a kernel's time goes: ncu (on a machine whose runtime lets it read the counters) reports each
# launch of one plain run of the perf subset, its elapsed time, SM and DRAM throughput and occupancy.
profile() {
    local out="$1" rc=0
    perf_cases >"$stage/gpu_perf.lua"
    echo "== profile (ncu, one run of each perf-subset case; ${MC_PROFILE_FILTER:-every case})"
    ncu --clock-control none --target-processes all --csv --page raw \
        --metrics gpu__time_duration.sum,sm__throughput.avg.pct_of_peak_sustained_elapsed,dram__throughput.avg.pct_of_peak_sustained_elapsed,sm__warps_active.avg.pct_of_peak_sustained_active,launch__registers_per_thread,launch__grid_size \
        "$mc" run --cases "$stage/gpu_perf.lua" --cases-dir "$root/cases" --backend cuda --jobs 1 --mem-limit 0 \
        --no-store --quiet --filter "${MC_PROFILE_FILTER:-*}" >"$out/profile.csv" 2>"$out/profile.err" || rc=$?
    python3 - "$out/profile.csv" <<'PY' || tail -20 "$out/profile.err"
import csv, sys
rows = [r for r in csv.reader(l for l in open(sys.argv[1]) if l.startswith('"'))]
head, units = rows[0], rows[1]
col = {name: i for i, name in enumerate(head)}
want = ["Kernel Name", "gpu__time_duration.sum", "sm__throughput.avg.pct_of_peak_sustained_elapsed",
        "dram__throughput.avg.pct_of_peak_sustained_elapsed", "sm__warps_active.avg.pct_of_peak_sustained_active",
        "launch__registers_per_thread", "launch__grid_size"]
print("kernel | time | SM % | DRAM % | warps active % | regs | grid")
for r in rows[2:]:
    print(" | ".join(r[col[w]] + ("" if w == "Kernel Name" else " " + units[col[w]]) for w in want if w in col))
PY
    echo "profile exit status: $rc"
}

# Why a kernel takes its time: ncu's sections (speed of light, occupancy, launch, scheduler, warp stall
# reasons, memory) for the kernels whose names match MC_PROFILE_KERNELS (a regex) in one plain run of
# the perf-subset cases matching MC_PROFILE_FILTER (variants MC_PROFILE_VARIANT, at most
# MC_PROFILE_LAUNCHES launches, extra metrics MC_PROFILE_METRICS, e.g. the per-reason stall ratios
# smsp__average_warps_issue_stalled_long_scoreboard_per_issue_active.ratio); the whole report in
# OUT/detail.txt.
detail() {
    local out="$1" rc=0
    perf_cases >"$stage/gpu_perf.lua"
    echo "== detail (ncu sections; kernels ${MC_PROFILE_KERNELS:-.}, cases ${MC_PROFILE_FILTER:-*})"
    ncu --clock-control none --target-processes all --launch-count "${MC_PROFILE_LAUNCHES:-4}" \
        --kernel-name "regex:${MC_PROFILE_KERNELS:-.}" --section SpeedOfLight --section Occupancy \
        --section LaunchStats --section SchedulerStats --section WarpStateStats --section MemoryWorkloadAnalysis \
        ${MC_PROFILE_METRICS:+--metrics "$MC_PROFILE_METRICS"} \
        "$mc" run --cases "$stage/gpu_perf.lua" --cases-dir "$root/cases" --backend cuda --jobs 1 --mem-limit 0 \
        --no-store --quiet --filter "${MC_PROFILE_FILTER:-*}" ${MC_PROFILE_VARIANT:+--variant "$MC_PROFILE_VARIANT"} \
        >"$out/detail.txt" 2>"$out/detail.err" || rc=$?
    grep -E '^  [a-z_]+.*\(|Duration|Registers Per|Achieved Occupancy|Theoretical Occupancy|Memory Throughput|DRAM Throughput|Compute \(SM\) Th|Issue Slots Busy|No Eligible|Warp Cycles Per Issued|Block Limit' "$out/detail.txt" | head -150
    echo "detail exit status: $rc"
}

case "${1:-}" in
prepare) prepare ;;
quick | gate | perf | profile | detail)
    mkdir -p "$2"
    device_setup
    "$1" "$2"
    ;;
all)
    mkdir -p "$2"
    device_setup
    quick "$2"
    gate "$2"
    perf "$2"
    ;;
*)
    sed -n '7,24p' "$0"
    exit 2
    ;;
esac
