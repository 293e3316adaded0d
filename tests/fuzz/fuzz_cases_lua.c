/* tests/fuzz/fuzz_cases_lua.c: libFuzzer target for the Lua case loader: any bytes as a case file.
 * Checks beyond "no crash": a load that succeeds stays under the case cap, and every case's key
 * parses back (mc_case_from_key) to the same key, as repro relies on.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "fuzz_common.h"
#include "core/op.h"
#include "engine/cases_lua.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = mc_fuzz_write(0, "case.lua", data, size);
    mc_case_list list = {.max_count = 20000}; /* keeps each input fast; the cap path is fuzzed too */
    mc_err err = {0};
    mc_status st = mc_cases_load_file(path, MC_SOURCE_DIR "/cases/lib", &list, &err);
    if (st == MC_OK) {
        if (list.count > 20000)
            abort();
        for (int i = 0; i < list.count && i < 64; i++) {
            mc_case back;
            mc_err e2 = {0};
            if (mc_case_from_key(&back, list.items[i].key, mc_op_find, &e2) != MC_OK ||
                strcmp(back.key, list.items[i].key))
                abort();
        }
    } else if (list.count != 0 || err.msg[0] == '\0') {
        abort(); /* a failed load adds nothing and says why */
    }
    mc_case_list_free(&list);
    unlink(path);
    return 0;
}
