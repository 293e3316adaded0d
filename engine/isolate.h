/* engine/isolate.h: the walls around a worker process: its own process group, no descriptor but
 * its pipes, address-space, CPU and core-file limits, death with its parent (docs/isolation.md).
 * SPDX-License-Identifier: MIT */
#ifndef MC_ISOLATE_H
#define MC_ISOLATE_H

#include <sys/types.h>

#define MC_ISOLATE_CMD_FD 3 /* where a worker's command and result pipes sit once its walls are up */
#define MC_ISOLATE_RES_FD 4

/* In the child, right after fork: its own process group; SIGKILL when parent dies; stdin from
 * /dev/null, stdout and stderr to out, the pipes cmd and res at MC_ISOLATE_CMD_FD and
 * MC_ISOLATE_RES_FD, every other descriptor closed (the store's among them); no core files;
 * RLIMIT_AS at what it holds now + mem_limit_mib (0: none). Exits (status 2) when it cannot. */
void mc_isolate_enter(pid_t parent, int cmd, int res, int out, long mem_limit_mib);

/* In the worker, before each case: fatal signals back to their default (in a sanitizer build, to
 * the sanitizer's handlers), and RLIMIT_CPU to what was used + cpu_limit_s (0: none). */
void mc_isolate_before_item(double cpu_limit_s);

/* In the worker, after each case: kills and reaps every process the case left running (its
 * threads' children, from /proc/self/task/<tid>/children); returns how many, and the first pid. */
int mc_isolate_kill_leftovers(long *first_pid);

/* The defaults of the limits: physical memory / (2 x jobs), at least 1 GiB (half the machine split between
 * the workers); and the timeout times the cores online (a backstop for when the parent cannot
 * enforce the timeout: a case that reaches it is already past its wall clock). */
long mc_isolate_default_mem_limit_mib(int jobs);
double mc_isolate_default_cpu_limit_s(double timeout_s);

#endif
