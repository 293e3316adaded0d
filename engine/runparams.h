/* engine/runparams.h: the parameters every op shares that say how a case runs rather than what
 * it computes: the CPU thread count (threads=) and the kernel a dispatcher is forced to (kernel=).
 * SPDX-License-Identifier: MIT */
#ifndef MC_RUNPARAMS_H
#define MC_RUNPARAMS_H

#include <stdbool.h>

#include "core/case.h"
#include "core/variant.h"

/* Schema rows, last in every op's schema. At their defaults they are left out of the key, so a
 * case that does not name them keeps the key it always had (history joins on keys). */
#define MC_RUNPARAM_THREADS_ROW                                                                          \
    {"threads", MC_PARAM_STR, "run",                                                                   \
     "CPU threads: run (the run's --threads), N (1..256) or cores+N (N more than this machine's cores)"}
#define MC_RUNPARAM_KERNEL_ROW                                                                           \
    {"kernel", MC_PARAM_STR, "auto", "auto, or the kernel a dispatcher must run (as $MC_<OP>_KERNEL=name)"}

/* Checks both values (an unknown thread count or a kernel no dispatcher of the op accepts is
 * MC_ERR_CONFIG naming the parameter). Every op's validate hook calls it. */
mc_status mc_runparams_check(const mc_case *c, mc_err *err);

/* The case names a thread count (threads= is not "run"). */
bool mc_runparams_sets_threads(const mc_case *c);
/* The threads a CPU kernel gets for c: run_threads when the case does not say. */
int mc_runparams_threads(const mc_case *c, int run_threads);
/* The kernel the case forces its op's dispatchers to, or NULL (kernel=auto). */
const char *mc_runparams_kernel(const mc_case *c);

/* Whether dispatcher d runs the kernel named name when forced to it. */
bool mc_runparams_accepts(const mc_variant *d, const char *name);
/* Whether variant v takes case c at all: a thread count only means something to a threaded CPU
 * kernel (MC_VARIANT_THREADED), and a forced kernel only to a dispatcher that accepts it. */
bool mc_runparams_pairs(const mc_case *c, const mc_variant *v);

#endif
