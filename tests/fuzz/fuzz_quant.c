/* tests/fuzz/fuzz_quant.c: libFuzzer target for quantize/dequantize input: the first byte picks
 * the command and the format, the rest is the input file. Also dequantises the bytes as blocks
 * directly and quantises that result again (every value a block can hold must quantise).
 * SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <string.h>

#include "fuzz_common.h"
#include "cli/cli_quant.h"
#include "core/quant_format.h"
#include "reference/ref_quant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const uint8_t *blocks, size_t size, bool q8_0)
{
    const size_t block_bytes = q8_0 ? MC_Q8_0_BLOCK_BYTES : MC_Q4_0_BLOCK_BYTES;
    const size_t n = size / block_bytes * MC_QK;
    if (n == 0)
        return;
    float *x = malloc(n * sizeof *x);
    uint8_t *again = malloc(n / MC_QK * block_bytes);
    if (!x || !again)
        abort();
    if (q8_0) {
        mc_quant_dequantize_row(MC_DTYPE_Q8_0, blocks, x, (int64_t)n);
        mc_ref_quantize_row_q8_0(x, again, (int64_t)n);
    } else {
        mc_quant_dequantize_row(MC_DTYPE_Q4_0, blocks, x, (int64_t)n);
        mc_ref_quantize_row_q4_0(x, again, (int64_t)n);
    }
    free(x);
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const bool q8_0 = data[0] & 1, quantize = data[0] & 2;
    const char *in = mc_fuzz_write(0, "quant.in", data + 1, size - 1);
    char out[256];
    snprintf(out, sizeof out, "%s.out", in);
    char *argv[] = {quantize ? "quantize" : "dequantize", "--type", q8_0 ? "q8_0" : "q4_0", "--in", (char *)in,
                    "--out", out, NULL};
    int rc = quantize ? mc_cli_quantize(7, argv) : mc_cli_dequantize(7, argv);
    if (rc != 0 && rc != 2)
        abort(); /* the commands' contract: 0 done, 2 bad input */
    round_trip(data + 1, size - 1, q8_0);
    unlink(in);
    unlink(out);
    return 0;
}
