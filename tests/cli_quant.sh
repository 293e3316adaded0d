#!/usr/bin/env bash
# tests/cli_quant.sh: `quantize` and `dequantize` as a black box: bytes out, exit statuses, errors.
# Focus: hand-computed blocks from the binary, the round trip back to f32, and every exit-2 path
# (length not a multiple of 32, partial blocks, unreadable input, bad options); --help.
# SPDX-License-Identifier: MIT
set -u
bin="$1"; src="$2"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0

# expect STATUS PATTERN -- ARGS...: runs the binary, wants that exit status and PATTERN in its output.
expect() {
  local want="$1" pattern="$2"; shift 3
  local out rc
  out="$("$bin" "$@" 2>&1)"; rc=$?
  if [ "$rc" -eq "$want" ] && grep -qE -- "$pattern" <<<"$out"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: metallic-check $* -> exit $rc (want $want), output lacks /$pattern/:" >&2
    head -20 <<<"$out" >&2
  fi
}

# same_hex FILE HEX WHAT: the file's bytes, as lowercase hex, must be HEX.
same_hex() {
  local got
  got="$(od -An -v -tx1 "$1" | tr -d ' \n')"
  if [ "$got" = "$2" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf 'FAIL: %s\n  got  %s\n  want %s\n' "$3" "$got" "$2" >&2
  fi
}

# hex_file FILE HEX: writes the bytes HEX spells.
hex_file() {
  printf '%b' "$(sed 's/../\\x&/g' <<<"$2")" >"$1"
}

zeros() { printf '0%.0s' $(seq 1 "$1"); } # $1 hex digits of zeros

if ! "$bin" --help 2>&1 | grep -q "quantize"; then
  echo "FAIL: $bin --help does not list 'quantize': the command is not wired into cli/main.c" >&2
  exit 1
fi

# The "ties at .5" vector of tests/test_quant.c, little-endian f32: 127, 0.5, -0.5, 2.5, -2.5, 126.5,
# -126.5, 1.5, then 24 zeros.
ties="0000fe42""0000003f""000000bf""00002040""000020c0""0000fd42""0000fdc2""0000c03f"
ties="$ties$(zeros 192)"
hex_file "$tmp/ties.f32" "$ties"

# q8_0: amax 127 -> d = 1 (0x3C00, stored 00 3c), id = 1, roundf ties away from zero:
# 127 0.5 -0.5 2.5 -2.5 126.5 -126.5 1.5 -> 7f 01 ff 03 fd 7f 81 02.
expect 0 "32 values -> 1 q8_0 blocks \(34 bytes\)" -- quantize --type q8_0 --in "$tmp/ties.f32" --out "$tmp/ties.q8"
same_hex "$tmp/ties.q8" "003c7f01ff03fd7f8102$(zeros 48)" "q8_0 block of the ties vector"

# q4_0: max = 127 (first) -> d = -15.875 = -(8 * 1.984375): exponent 3 + 15 = 18, mantissa 1008:
# 0x4BF0, negative 0xCBF0 (stored f0 cb). id = -0.062992: codes trunc(x id + 8.5): 127 -> 0,
# 0.5 2.5 -0.5 -2.5 1.5 -> 8, 126.5 -> 0.53 -> 0, -126.5 -> 16.47 -> 15; high nibbles (zeros) 8.
expect 0 "1 q4_0 blocks \(18 bytes\)" -- quantize --type q4_0 --in "$tmp/ties.f32" --out "$tmp/ties.q4"
same_hex "$tmp/ties.q4" "f0cb8088888888808f888888888888888888" "q4_0 block of the ties vector"

# Back to f32: q * d = 127 1 -1 3 -3 127 -127 2, then zeros.
expect 0 "1 q8_0 blocks -> 32 f32 values" -- dequantize --type q8_0 --in "$tmp/ties.q8" --out "$tmp/back.f32"
same_hex "$tmp/back.f32" "0000fe420000803f000080bf00004040000040c00000fe420000fec200000040$(zeros 192)" \
  "q8_0 dequantized"
# q4_0: codes 0 and 15 -> (0 - 8) * -15.875 = 127 (0x42FE0000), (15 - 8) * -15.875 = -111.125
# (0xC2DE4000); code 8 -> 0 * -15.875 = -0 (0x80000000).
expect 0 "32 f32 values" -- dequantize --type q4_0 --in "$tmp/ties.q4" --out "$tmp/back4.f32"
same_hex "$tmp/back4.f32" "0000fe42$(printf '00000080%.0s' 1 2 3 2)0000fe420040dec2$(printf '00000080%.0s' $(seq 1 25))" \
  "q4_0 dequantized"

# NaN as element 31: q8_0's amax scan ends on NaN, d = NaN -> 0x7E00, every qs 0.
hex_file "$tmp/nan.f32" "$(zeros 248)0000c07f"
expect 0 "1 q8_0 blocks" -- quantize --type q8_0 --in "$tmp/nan.f32" --out "$tmp/nan.q8"
same_hex "$tmp/nan.q8" "007e$(zeros 64)" "q8_0 block ending in NaN"

# 64 blocks: the output is the one block 64 times.
for _ in $(seq 1 64); do printf '%s' "$ties"; done >"$tmp/many.hex"
hex_file "$tmp/many.f32" "$(cat "$tmp/many.hex")"
expect 0 "2048 values -> 64 q8_0 blocks \(2176 bytes\)" -- quantize --type q8_0 --in "$tmp/many.f32" --out "$tmp/many.q8"
same_hex "$tmp/many.q8" "$(for _ in $(seq 1 64); do printf '003c7f01ff03fd7f8102%s' "$(zeros 48)"; done)" "64 blocks"

# Exit 2: a length that is not a multiple of 32 (names the file and the length), partial values,
# partial blocks, unreadable input, bad options.
hex_file "$tmp/odd.f32" "$ties""0000803f"
expect 2 "odd.f32: length 33 values is not a multiple of 32" -- quantize --type q8_0 --in "$tmp/odd.f32" --out "$tmp/x.bin"
expect 2 "odd.f32: length 33 values" -- quantize --type q4_0 --in "$tmp/odd.f32" --out "$tmp/x.bin"
hex_file "$tmp/part.f32" "$ties""00"
expect 2 "part.f32: 129 bytes is not a whole number of f32 values" -- quantize --type q8_0 --in "$tmp/part.f32" --out "$tmp/x.bin"
hex_file "$tmp/part.q8" "003c7f01ff03fd7f8102$(zeros 50)"
expect 2 "part.q8: 35 bytes is not a whole number of 34-byte q8_0 blocks" -- dequantize --type q8_0 --in "$tmp/part.q8" --out "$tmp/x.f32"
expect 2 "ties.q8: 34 bytes is not a whole number of 18-byte q4_0 blocks" -- dequantize --type q4_0 --in "$tmp/ties.q8" --out "$tmp/x.f32"
expect 2 "missing.f32: cannot open" -- quantize --type q8_0 --in "$tmp/missing.f32" --out "$tmp/x.bin"
expect 2 "cannot create" -- quantize --type q8_0 --in "$tmp/ties.f32" --out "$tmp/no/such/dir/x.bin"
expect 2 "--type must be one of q8_0\|q4_0\|q4_1\|q5_0\|q5_1\|q2_K\|q3_K\|q4_K\|q5_K\|q6_K\|q8_K, not f16" -- quantize --type f16 --in "$tmp/ties.f32" --out "$tmp/x.bin"
expect 2 "--type, --in and --out are all required" -- quantize --type q8_0 --in "$tmp/ties.f32"
expect 2 "unknown argument --bogus" -- dequantize --bogus
expect 2 "option needs a value: --out" -- quantize --type q8_0 --in "$tmp/ties.f32" --out
expect 0 "usage: metallic-check quantize --type TYPE --in FILE.f32 --out FILE.bin" -- quantize --help
expect 0 "usage: metallic-check dequantize --type TYPE --in FILE.bin --out FILE.f32" -- dequantize -h
# The other 32-element formats (docs/quant.md), by the type names ggml uses, in any case. q4_1 of
# x_j = (j % 16) / 2 - 3: min -3, max 4.5, d = 7.5 / 15 = 0.5 (00 38), m = -3 (00 c2), codes j % 16
# in both nibbles of byte j; the values come back exactly.
q41_half="000040c0000020c0000000c00000c0bf000080bf000000bf000000000000003f0000803f0000c03f000000400000204000004040000060400000804000009040"
hex_file "$tmp/q41.f32" "$q41_half$q41_half"
expect 0 "32 values -> 1 q4_1 blocks \(20 bytes\)" -- quantize --type Q4_1 --in "$tmp/q41.f32" --out "$tmp/q41.bin"
same_hex "$tmp/q41.bin" "003800c200112233445566778899aabbccddeeff" "q4_1 block of (j % 16) / 2 - 3"
expect 0 "1 q4_1 blocks -> 32 f32 values" -- dequantize --type q4_1 --in "$tmp/q41.bin" --out "$tmp/q41.back"
same_hex "$tmp/q41.back" "$q41_half$q41_half" "q4_1 round trip"
# q5_0 of x_j = j - 16: the first largest magnitude is -16, so d = 1 (00 3c) and code j; the fifth
# bits of elements 16..31 make qh = 0xffff0000 (00 00 ff ff little-endian).
q50="000080c1000070c1000060c1000050c1000040c1000030c1000020c1000010c1000000c10000e0c00000c0c00000a0c0000080c0000040c0000000c0000080bf"
q50="${q50}000000000000803f0000004000004040000080400000a0400000c0400000e0400000004100001041000020410000304100004041000050410000604100007041"
hex_file "$tmp/q50.f32" "$q50"
expect 0 "1 q5_0 blocks \(22 bytes\)" -- quantize --type q5_0 --in "$tmp/q50.f32" --out "$tmp/q50.bin"
same_hex "$tmp/q50.bin" "003c0000ffff00112233445566778899aabbccddeeff" "q5_0 block of j - 16"
expect 0 "1 q5_0 blocks -> 32 f32 values" -- dequantize --type Q5_0 --in "$tmp/q50.bin" --out "$tmp/q50.back"
same_hex "$tmp/q50.back" "$q50" "q5_0 round trip"
# A K-quant needs whole 256-value super-blocks.
expect 2 "q50.f32: length 32 values is not a multiple of 256, as q6_K blocks need" -- quantize --type q6_K --in "$tmp/q50.f32" --out "$tmp/x.bin"

# --opt=value works too.
expect 0 "1 q8_0 blocks" -- quantize --type=q8_0 --in="$tmp/ties.f32" --out="$tmp/eq.q8"
same_hex "$tmp/eq.q8" "003c7f01ff03fd7f8102$(zeros 48)" "--opt=value spelling"

echo "cli_quant: $passed passed, $failed failed out of $((passed + failed))"
[ "$failed" -eq 0 ]
