/* core/result.c: names of result kinds.
 * SPDX-License-Identifier: MIT */
#include "result.h"

#include <assert.h>
#include <string.h>

static const char *const kind_names[] = {
    [MC_RESULT_PASS] = "pass",
    [MC_RESULT_FAIL_BOUND] = "bound",
    [MC_RESULT_FAIL_NAN] = "nan",
    [MC_RESULT_FAIL_UNWRITTEN] = "unwritten",
    [MC_RESULT_FAIL_GUARD] = "guard",
    [MC_RESULT_FAIL_INPUT_MODIFIED] = "input-modified",
    [MC_RESULT_FAIL_MISTRUSTED] = "mistrusted",
    [MC_RESULT_FAIL_DISPATCH] = "dispatch",
    [MC_RESULT_FAIL_NONDETERMINISM] = "nondeterminism",
    [MC_RESULT_FAIL_COVERAGE] = "coverage",
    [MC_RESULT_CRASH] = "crash",
    [MC_RESULT_TIMEOUT] = "timeout",
    [MC_RESULT_ERROR] = "error",
    [MC_RESULT_SKIP] = "skip",
};
static_assert(sizeof kind_names / sizeof kind_names[0] == MC_RESULT_COUNT, "one name per kind");

const char *mc_result_kind_name(mc_result_kind k)
{
    return (k >= 0 && k < MC_RESULT_COUNT) ? kind_names[k] : "?";
}

int mc_result_kind_parse(const char *name)
{
    for (int i = 0; i < MC_RESULT_COUNT; i++)
        if (strcmp(kind_names[i], name) == 0)
            return i;
    return -1;
}

int mc_result_kind_is_failure(mc_result_kind k)
{
    return k != MC_RESULT_PASS && k != MC_RESULT_SKIP;
}
