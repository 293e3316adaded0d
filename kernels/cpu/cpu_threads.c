/* kernels/cpu/cpu_threads.c: a persistent pthread pool (caller is thread 0) and a spin-then-sleep barrier.
 * SPDX-License-Identifier: MIT
 *
 * The pool, as a state machine:
 *  1. Idle: each worker waits for `generation` to change, spinning briefly, then asleep on `wake`.
 *  2. A caller takes `busy` (trylock: when it is held, by a nested or concurrent caller, that caller
 *     makes its own threads instead), grows the pool to nthreads - 1 workers, publishes
 *     task/arg/nthreads, sets pending = workers and bumps generation under `mu`.
 *  3. Worker w runs the task as tid w + 1 when w + 1 < nthreads; every worker then decrements
 *     pending, and the last one signals `done`.
 *  4. The caller runs tid 0, waits for pending == 0 and releases `busy`.
 * After fork() only the forking thread exists in the child: an atfork handler forgets the workers,
 * so a worker process starts its own pool on first use.
 */
#include "kernels/cpu/cpu_threads.h"

#include <sched.h>
#include <stdint.h>
#include <unistd.h>

#define SPIN_ROUNDS 4096 /* polls before sleeping (tens of microseconds): a GEMM's barriers come
                            that close together, and a sleeping wake-up costs 10-50 us */
#define YIELD_EVERY 64   /* polls between sched_yield()s: when the machine is oversubscribed (test
                            workers, other jobs) the thread we wait for may need this core to run;
                            measured: 2 threads at 256^3 ran 13x slower spinning without yields */

typedef struct worker_arg {
    int index;     /* worker w runs tid w + 1 */
    unsigned seen; /* generation when it was made: the first job is any later one */
} worker_arg;

static struct {
    pthread_mutex_t busy; /* held by the caller that owns the pool for one parallel call */
    pthread_mutex_t mu;   /* guards sleeping and waking */
    pthread_cond_t wake;  /* workers: a new generation */
    pthread_cond_t done;  /* caller: pending reached 0 */
    int workers;          /* threads started so far */
    atomic_uint generation;
    atomic_int pending;   /* workers that have not finished the current generation */
    mc_cpu_task task;
    void *arg;
    int nthreads;
    worker_arg args[MC_CPU_MAX_THREADS];
} pool = {
    .busy = PTHREAD_MUTEX_INITIALIZER,
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
};

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static atomic_int widest; /* see mc_cpu_threads_widest */

int mc_cpu_threads_widest(void)
{
    return atomic_load(&widest);
}

void mc_cpu_threads_reset_widest(void)
{
    atomic_store(&widest, 0);
}

static void note_width(int nthreads)
{
    int seen = atomic_load(&widest);
    while (nthreads > seen && !atomic_compare_exchange_weak(&widest, &seen, nthreads))
        ;
}

/* One poll's pause; every YIELD_EVERY polls, the core goes to whoever else is runnable. */
static void cpu_relax(int round)
{
    if (round % YIELD_EVERY == YIELD_EVERY - 1) {
        sched_yield();
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

int mc_cpu_core_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > MC_CPU_MAX_THREADS ? MC_CPU_MAX_THREADS : (int)n);
}

/* In the child of fork(): the workers do not exist there, and the locks may be mid-use. */
static void pool_forget_after_fork(void)
{
    pthread_mutex_init(&pool.busy, NULL);
    pthread_mutex_init(&pool.mu, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pthread_cond_init(&pool.done, NULL);
    pool.workers = 0;
    atomic_store(&pool.pending, 0);
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, pool_forget_after_fork);
}

static unsigned wait_for_new_generation(unsigned seen)
{
    for (int i = 0; i < SPIN_ROUNDS; i++) {
        unsigned g = atomic_load_explicit(&pool.generation, memory_order_acquire);
        if (g != seen)
            return g;
        cpu_relax(i);
    }
    pthread_mutex_lock(&pool.mu);
    while (atomic_load(&pool.generation) == seen)
        pthread_cond_wait(&pool.wake, &pool.mu);
    unsigned g = atomic_load(&pool.generation);
    pthread_mutex_unlock(&pool.mu);
    return g;
}

static void *worker_main(void *p)
{
    const worker_arg *wa = p;
    unsigned seen = wa->seen;
    for (;;) {
        seen = wait_for_new_generation(seen);
        int n = pool.nthreads;
        if (wa->index + 1 < n)
            pool.task(pool.arg, wa->index + 1, n);
        if (atomic_fetch_sub(&pool.pending, 1) == 1) {
            pthread_mutex_lock(&pool.mu);
            pthread_cond_signal(&pool.done);
            pthread_mutex_unlock(&pool.mu);
        }
    }
    return NULL;
}

static mc_status pool_grow(int workers, mc_err *err)
{
    while (pool.workers < workers) {
        pthread_t t;
        worker_arg *wa = &pool.args[pool.workers];
        wa->index = pool.workers;
        wa->seen = atomic_load(&pool.generation);
        if (pthread_create(&t, NULL, worker_main, wa) != 0)
            return mc_err_set(err, MC_ERR_BACKEND, "cpu threads: cannot start pool thread %d", pool.workers + 1);
        pthread_detach(t);
        pool.workers++;
    }
    return MC_OK;
}

static void pool_wait_done(void)
{
    for (int i = 0; i < SPIN_ROUNDS; i++) {
        if (atomic_load_explicit(&pool.pending, memory_order_acquire) == 0)
            return;
        cpu_relax(i);
    }
    pthread_mutex_lock(&pool.mu);
    while (atomic_load(&pool.pending) != 0)
        pthread_cond_wait(&pool.done, &pool.mu);
    pthread_mutex_unlock(&pool.mu);
}

static mc_status pool_run(int nthreads, mc_cpu_task task, void *arg, mc_err *err)
{
    mc_status st = pool_grow(nthreads - 1, err);
    if (st)
        return st;
    pthread_mutex_lock(&pool.mu);
    pool.task = task;
    pool.arg = arg;
    pool.nthreads = nthreads;
    atomic_store(&pool.pending, pool.workers);
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.mu);
    task(arg, 0, nthreads);
    pool_wait_done();
    return MC_OK;
}

/* Threads made for one call, when the pool is taken. They wait at a gate until all exist: the
 * task may wait at a barrier for all nthreads, so it must never start short-handed. */
typedef struct call_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int state; /* 0 wait, 1 go, -1 abandon */
} call_gate;

typedef struct call_thread {
    mc_cpu_task task;
    void *arg;
    int tid, nthreads;
    call_gate *gate;
} call_thread;

static void *call_thread_main(void *p)
{
    call_thread *ct = p;
    pthread_mutex_lock(&ct->gate->mu);
    while (ct->gate->state == 0)
        pthread_cond_wait(&ct->gate->cv, &ct->gate->mu);
    int go = ct->gate->state > 0;
    pthread_mutex_unlock(&ct->gate->mu);
    if (go)
        ct->task(ct->arg, ct->tid, ct->nthreads);
    return NULL;
}

static void open_gate(call_gate *g, int state)
{
    pthread_mutex_lock(&g->mu);
    g->state = state;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static mc_status run_own_threads(int nthreads, mc_cpu_task task, void *arg, mc_err *err)
{
    pthread_t tids[MC_CPU_MAX_THREADS];
    call_thread cts[MC_CPU_MAX_THREADS];
    call_gate gate = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .state = 0};
    mc_status st = MC_OK;
    int started = 1;
    for (; started < nthreads; started++) {
        cts[started] = (call_thread){task, arg, started, nthreads, &gate};
        if (pthread_create(&tids[started], NULL, call_thread_main, &cts[started]) != 0) {
            st = mc_err_set(err, MC_ERR_BACKEND, "cpu threads: cannot start thread %d of %d", started, nthreads);
            break;
        }
    }
    open_gate(&gate, st ? -1 : 1);
    if (!st)
        task(arg, 0, nthreads);
    for (int t = 1; t < started; t++)
        pthread_join(tids[t], NULL);
    pthread_mutex_destroy(&gate.mu);
    pthread_cond_destroy(&gate.cv);
    return st;
}

mc_status mc_cpu_parallel(int nthreads, mc_cpu_task task, void *arg, mc_err *err)
{
    if (nthreads < 1)
        nthreads = 1;
    if (nthreads > MC_CPU_MAX_THREADS)
        nthreads = MC_CPU_MAX_THREADS;
    note_width(nthreads);
    if (nthreads == 1) {
        task(arg, 0, 1);
        return MC_OK;
    }
    pthread_once(&atfork_once, register_atfork);
    if (pthread_mutex_trylock(&pool.busy) != 0)
        return run_own_threads(nthreads, task, arg, err);
    mc_status st = pool_run(nthreads, task, arg, err);
    pthread_mutex_unlock(&pool.busy);
    return st;
}

void mc_cpu_barrier_init(mc_cpu_barrier *b, int n)
{
    b->n = n;
    atomic_init(&b->arrived, 0);
    atomic_init(&b->generation, 0);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
}

void mc_cpu_barrier_wait(mc_cpu_barrier *b)
{
    if (b->n <= 1)
        return;
    int gen = atomic_load(&b->generation);
    if (atomic_fetch_add(&b->arrived, 1) == b->n - 1) {
        /* Last to arrive: reset the count before releasing, so the next round starts from 0. */
        atomic_store(&b->arrived, 0);
        pthread_mutex_lock(&b->mu);
        atomic_fetch_add(&b->generation, 1);
        pthread_cond_broadcast(&b->cv);
        pthread_mutex_unlock(&b->mu);
        return;
    }
    for (int i = 0; i < SPIN_ROUNDS; i++) {
        if (atomic_load_explicit(&b->generation, memory_order_acquire) != gen)
            return;
        cpu_relax(i);
    }
    pthread_mutex_lock(&b->mu);
    while (atomic_load(&b->generation) == gen)
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
}

void mc_cpu_barrier_destroy(mc_cpu_barrier *b)
{
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
}
