/* tests/fuzz/fuzz_common.h: what the libFuzzer targets share: a scratch file per process.
 * SPDX-License-Identifier: MIT */
#ifndef MC_FUZZ_COMMON_H
#define MC_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Writes data to /tmp/mc_fuzz_<pid>_<name> and returns that path (a static buffer per name slot). */
static inline const char *mc_fuzz_write(int slot, const char *name, const uint8_t *data, size_t size)
{
    static char paths[4][256];
    snprintf(paths[slot], sizeof paths[slot], "/tmp/mc_fuzz_%ld_%s", (long)getpid(), name);
    FILE *f = fopen(paths[slot], "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort(); /* the fuzzer's own disk: not a finding */
    return paths[slot];
}

#endif
