/* cli/cli_tune.h: `metallic-check tune`: sweeps the tiled GEMM's tile sizes and writes the tuning table.
 * SPDX-License-Identifier: MIT */
#ifndef MC_CLI_TUNE_H
#define MC_CLI_TUNE_H

/* The `tune` command (argv[0] is "tune"); returns the process exit status (0 done, 2 usage or
 * configuration error, 1 a kernel failed). */
int mc_cli_tune(int argc, char **argv);

#endif
