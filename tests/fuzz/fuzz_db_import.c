/* tests/fuzz/fuzz_db_import.c: libFuzzer target for `db import-paired`: any bytes as the base and
 * the candidate database of one round, imported into a fresh results database; then `db check`
 * on the input. The exit status must be one the command documents.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "fuzz_common.h"
#include "cli/cli_db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void remove_db(const char *path)
{
    char side[300];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-journal", path);
    unlink(side);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *base = mc_fuzz_write(0, "base.db", data, size);
    const char *cand = mc_fuzz_write(1, "cand.db", data, size);
    char into[256];
    snprintf(into, sizeof into, "/tmp/mc_fuzz_%ld_into.db", (long)getpid());
    char *import[] = {"db", "import-paired", "--db", into, (char *)base, (char *)cand, NULL};
    int rc = mc_cli_db(6, import);
    if (rc != 0 && rc != 2 && rc != 4)
        abort();
    char *check[] = {"db", "check", "--db", (char *)base, NULL};
    rc = mc_cli_db(4, check);
    if (rc != 0 && rc != 1 && rc != 2)
        abort();
    remove_db(into);
    remove_db(base);
    remove_db(cand);
    return 0;
}
