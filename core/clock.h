/* core/clock.h: the one monotonic clock reading every layer times with.
 * SPDX-License-Identifier: MIT */
#ifndef MC_CLOCK_H
#define MC_CLOCK_H

/* Seconds on CLOCK_MONOTONIC: only differences mean anything. */
double mc_now_s(void);

#endif
