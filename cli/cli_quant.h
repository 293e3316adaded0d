/* cli/cli_quant.h: the quantize and dequantize commands (raw f32 <-> GGUF Q8_0/Q4_0 blocks).
 * SPDX-License-Identifier: MIT */
#ifndef MC_CLI_QUANT_H
#define MC_CLI_QUANT_H

/* metallic-check quantize --type q8_0|q4_0 --in X.f32 --out X.bin
 * Reads raw little-endian f32 values (a multiple of 32 of them) and writes the blocks the
 * reference quantiser makes, byte-identical to ggml's. argv[0] is the command's name.
 * Returns the exit status: 0 done or --help, 2 usage, unreadable input, a length that is not a
 * multiple of 32, or a failed write. */
int mc_cli_quantize(int argc, char **argv);

/* metallic-check dequantize --type q8_0|q4_0 --in X.bin --out X.f32
 * Reads whole blocks (34 bytes for q8_0, 18 for q4_0) and writes little-endian f32 values.
 * Exit statuses as for quantize; a size that is not a whole number of blocks is exit 2. */
int mc_cli_dequantize(int argc, char **argv);

#endif
