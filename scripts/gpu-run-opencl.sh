#!/usr/bin/env bash
# scripts/gpu-run-opencl.sh: runs the opencl backend's quick and perf tiers on NVIDIA's OpenCL on the GPU
# machine, from a build made here and carried there with its runtime libraries.
# SPDX-License-Identifier: MIT
#
# usage:
#   scripts/gpu-run-opencl.sh prepare        here: build (build-opencl-gpu/) and pack metallic-check, test_opencl
#                                            and the libraries the GPU machine lacks into .carry/opencl/
#   scripts/gpu-run-opencl.sh quick OUT      there: device check, unit tests, the quick tier (database in OUT)
#   scripts/gpu-run-opencl.sh perf OUT       there: copy bandwidth, the perf tier, gemm f32 4096^3, and cuBLAS
#                                            sgemm and a copy through PyTorch, all in the same run
#                                            (MC_PERF_ARGS narrows the tier, MC_PERF_BUDGET: seconds per case,
#                                            MC_PERF_PEERS=0 skips the 4096^3 GEMM and the PyTorch peers)
# The GPU machine has no Lua, SQLite, OpenBLAS, cmocka or OpenCL ICD loader: the pack holds them (the
# shared objects of this machine's Debian packages), glibc is the machine's own (the pack needs 2.34).
# NVIDIA's driver there may not be registered with an ICD loader: OCL_ICD_VENDORS points at a folder
# whose nvidia.icd names the libnvidia-opencl.so.1 found on the machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pack_dir="$root/.carry/opencl"
stage=/tmp/mc-opencl

prepare() {
    local build="$root/build-opencl-gpu"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMC_SANITIZE=OFF >/dev/null
    cmake --build "$build" -j2 --target metallic-check test_opencl >/dev/null
    local tmp
    tmp="$(mktemp -d)"
    mkdir -p "$tmp/bin" "$tmp/lib"
    cp "$build/metallic-check" "$build/tests/test_opencl" "$tmp/bin/"
    strip "$tmp/bin/"*
    # every shared object the two programs load, except glibc's own (the machine's glibc must serve)
    for lib in $(ldd "$tmp/bin/metallic-check" "$tmp/bin/test_opencl" | awk '/=>/ {print $3}' | sort -u); do
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

# Unpacks the carried build and points the ICD loader at NVIDIA's OpenCL driver.
device_setup() {
    mkdir -p "$stage"
    tar -C "$stage" -xJf "$pack_dir/pack.tar.xz"
    export LD_LIBRARY_PATH="$stage/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    local icd="${MC_OPENCL_ICD:-}" # another driver library, to try this script off the GPU machine
    [ -n "$icd" ] || icd="$( (ldconfig -p | awk '/libnvidia-opencl.so.1/ {print $NF; exit}') || true)"
    if [ -z "$icd" ]; then
        icd="$(find /usr/local/nvidia /usr/lib /usr/lib64 /usr/local/cuda* -name 'libnvidia-opencl.so.1' 2>/dev/null | head -1 || true)"
    fi
    mkdir -p "$stage/vendors"
    if [ -n "$icd" ]; then
        echo "$icd" >"$stage/vendors/nvidia.icd"
    fi
    export OCL_ICD_VENDORS="$stage/vendors"
    export MC_BINARY="$stage/bin/metallic-check" MC_SOURCE_DIR="$root"
    mc="$stage/bin/metallic-check"
    echo "== NVIDIA OpenCL driver: ${icd:-none found}"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv || true
    "$mc" list backends
}

quick() {
    local out="$1"
    device_setup
    echo "== unit tests (tests/test_opencl.c) on this device"
    "$stage/bin/test_opencl" 2>&1 | tail -25
    echo "== quick tier"
    local rc=0
    "$mc" run --tier quick --backend opencl --cases-dir "$root/cases" --db "$out/opencl-quick.db" \
        --junit "$out/opencl-quick-junit.xml" --jobs "$(nproc)" --quiet >"$out/quick.log" 2>&1 || rc=$?
    grep -v '^  repro' "$out/quick.log" | tail -30
    echo "quick tier exit status: $rc"
}

# cuBLAS sgemm (TF32 off: true fp32) and a device-to-device copy, through PyTorch, on the same GPU.
torch_peers() {
    python3 - <<'EOF' || echo "PyTorch peers: not measured"
import torch
torch.backends.cuda.matmul.allow_tf32 = False
def median_ms(fn, reps=20):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record(); fn(); e.record(); torch.cuda.synchronize()
        times.append(s.elapsed_time(e))
    times.sort()
    return times[len(times) // 2]
for n in (2048, 4096):
    a = torch.randn(n, n, device="cuda"); b = torch.randn(n, n, device="cuda")
    ms = median_ms(lambda: torch.mm(a, b))
    print(f"cuBLAS sgemm (torch.mm f32, TF32 off) {n}^3: {ms * 1e3:.1f} us, {2 * n**3 / ms / 1e9:.1f} TFLOP/s")
src = torch.empty(1 << 28, dtype=torch.float32, device="cuda"); dst = torch.empty_like(src)
ms = median_ms(lambda: dst.copy_(src))
print(f"device-to-device copy (torch, 1 GiB): {2 * src.numel() * 4 / ms / 1e6:.1f} GB/s (read + written)")
EOF
}

perf() {
    local out="$1"
    device_setup
    echo "== device copy bandwidth (before)"
    "$stage/bin/test_opencl" --copy-bandwidth 1024
    echo "== perf tier"
    local rc=0
    # MC_PERF_ARGS narrows the tier (e.g. "--op gemv"); timings run one at a time (--jobs 1)
    # shellcheck disable=SC2086
    "$mc" run --tier perf --backend opencl --cases-dir "$root/cases" --db "$out/opencl-perf.db" --jobs 1 \
        --budget "${MC_PERF_BUDGET:-1}" --quiet ${MC_PERF_ARGS:-} >"$out/perf.log" 2>&1 || rc=$?
    grep -v '^  repro' "$out/perf.log" | tail -300
    echo "perf tier exit status: $rc"
    [ "${MC_PERF_PEERS:-1}" = 1 ] || return 0 # MC_PERF_PEERS=0: the tier only
    echo "== gemm f32 4096^3"
    printf 'suite "gpu.gemm.4096" { op = "gemm", m = 4096, n = 4096, k = 4096 }\n' >"$stage/gemm4096.lua"
    "$mc" run --cases "$stage/gemm4096.lua" --cases-dir "$root/cases" --backend opencl --perf --jobs 1 --budget 2 \
        --variant 'gemm_opencl_tiled_128x128x16' --db "$out/opencl-perf.db" --quiet 2>&1 | grep -v '^  repro' | tail -8 || true
    echo "== peers in the same run"
    torch_peers
    echo "== device copy bandwidth (after)"
    "$stage/bin/test_opencl" --copy-bandwidth 1024
}

case "${1:-}" in
prepare) prepare ;;
quick) mkdir -p "$2" && quick "$2" ;;
perf) mkdir -p "$2" && perf "$2" ;;
*)
    sed -n '6,16p' "$0"
    exit 2
    ;;
esac
