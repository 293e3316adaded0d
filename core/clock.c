/* core/clock.c: the monotonic clock reading.
 * SPDX-License-Identifier: MIT */
#include "clock.h"

#include <time.h>

double mc_now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
