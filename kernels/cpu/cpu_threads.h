/* kernels/cpu/cpu_threads.h: a small persistent pthread pool and a barrier for cpu kernels.
 * SPDX-License-Identifier: MIT */
#ifndef MC_CPU_THREADS_H
#define MC_CPU_THREADS_H

#include <pthread.h>
#include <stdatomic.h>

#include "core/status.h"

#define MC_CPU_MAX_THREADS 256 /* the CLI's --threads limit */

/* Work for one thread: tid in 0..nthreads-1. */
typedef void (*mc_cpu_task)(void *arg, int tid, int nthreads);

/* Cores online (>= 1): the default thread count. */
int mc_cpu_core_count(void);

/* Runs task(arg, t, nthreads) for every t concurrently, the caller as t = 0, and returns once
 * all have finished. Uses the process's pool when it is free, else threads made for this call
 * (so nested or concurrent callers still work). nthreads is clamped to 1..MC_CPU_MAX_THREADS. */
mc_status mc_cpu_parallel(int nthreads, mc_cpu_task task, void *arg, mc_err *err);

/* The most threads any mc_cpu_parallel call of this process asked for since the last reset (after
 * clamping): how a test tells whether a kernel really split its work. */
int mc_cpu_threads_widest(void);
void mc_cpu_threads_reset_widest(void);

/* A reusable barrier that spins briefly, then sleeps: GEMM waits at it a few times per call,
 * and a sleeping wake-up costs tens of microseconds. */
typedef struct mc_cpu_barrier {
    int n;                 /* threads that must arrive */
    atomic_int arrived;    /* threads at the barrier in this round */
    atomic_int generation; /* rounds completed */
    pthread_mutex_t mu;
    pthread_cond_t cv;
} mc_cpu_barrier;

void mc_cpu_barrier_init(mc_cpu_barrier *b, int n);
void mc_cpu_barrier_wait(mc_cpu_barrier *b);
void mc_cpu_barrier_destroy(mc_cpu_barrier *b);

#endif
