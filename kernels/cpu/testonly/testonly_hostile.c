/* kernels/cpu/testonly/testonly_hostile.c: gemm variants that attack the harness itself (its descriptors, its
 * waits, its process, its memory, its terminal), so tests can prove a worker contains them
 * (docs/isolation.md). Test-only: hidden unless --include-hidden.
 * SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/variant.h"

extern const mc_variant mc_variant_gemm_scalar;

#define HOSTILE_MAX_FD 65536 /* the descriptor numbers tried: the soft limit, capped */
#define HOSTILE_BOMB_MIB 32  /* each allocation of the malloc bomb */
#define HOSTILE_BOMB_CAP_MIB 8192 /* where it gives up by itself */

static int highest_fd(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > HOSTILE_MAX_FD)
        return HOSTILE_MAX_FD;
    return (int)rl.rlim_cur;
}

/* A stray pwrite at offset 0 and a plain write to every descriptor number: a database among them
 * would read "file is not a database" afterwards. */
static mc_status gemm_testonly_fdwrite_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    static const char junk[] = "hostile fdwrite junk: this is not a database page\n";
    for (int fd = 0, top = highest_fd(); fd < top; fd++) {
        if (pwrite(fd, junk, sizeof junk - 1, 0) < 0)
            (void)!write(fd, junk, sizeof junk - 1);
    }
    return mc_variant_gemm_scalar.run(kc, args, err);
}

/* Closes everything it holds, the worker's pipes included, then spins: the pipe's EOF comes while
 * the worker still lives, and only the harness's timeout can end it. */
static mc_status gemm_testonly_closehang_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    for (int fd = 0, top = highest_fd(); fd < top; fd++)
        close(fd);
    for (volatile unsigned long spin = 0;; spin++)
        ;
    return MC_OK;
}

/* Ends the worker with status 0 in the middle of a case (atexit handlers and all). */
static mc_status gemm_testonly_exit_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    exit(0);
}

static void *exit_from_thread(void *arg)
{
    _exit(7);
    return arg;
}

/* A thread of the kernel ends the whole process with _exit(7) while the caller waits for it. */
static mc_status gemm_testonly_thread_exit_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    pthread_t t;
    if (pthread_create(&t, NULL, exit_from_thread, NULL) != 0)
        return mc_err_set(err, MC_ERR_INTERNAL, "pthread_create failed");
    pthread_join(t, NULL);
    return mc_err_set(err, MC_ERR_INTERNAL, "gemm_testonly_thread_exit survived _exit");
}

/* Stops itself: nothing ever wakes it but the harness's timeout (SIGKILL works on a stopped
 * process). */
static mc_status gemm_testonly_sigstop_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    raise(SIGSTOP);
    return mc_variant_gemm_scalar.run(kc, args, err);
}

/* Right answer, but leaves a child behind that would live for an hour. $MC_TESTONLY_PIDFILE, when
 * set, receives the child's pid so a test can look for it after the run. */
static mc_status gemm_testonly_fork_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 3600; i++)
            sleep(1);
        _exit(0);
    }
    const char *path = getenv("MC_TESTONLY_PIDFILE");
    FILE *f = pid > 0 && path && *path ? fopen(path, "a") : NULL;
    if (f) {
        fprintf(f, "%ld\n", (long)pid);
        fclose(f);
    }
    return mc_variant_gemm_scalar.run(kc, args, err);
}

/* Allocates and touches memory until malloc fails, then uses what it got as careless code does:
 * only the worker's address-space limit keeps it from taking the machine. Past HOSTILE_BOMB_CAP_MIB
 * it stops by itself with an error (the limit failed), so a broken harness costs a test, not the
 * machine it shares. */
static mc_status gemm_testonly_mallocbomb_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const size_t chunk = (size_t)HOSTILE_BOMB_MIB << 20;
    for (int taken = 0; taken < HOSTILE_BOMB_CAP_MIB; taken += HOSTILE_BOMB_MIB) {
        volatile char *p = malloc(chunk);
        for (size_t i = 0; i < chunk; i += 4096)
            p[i] = 1; /* a NULL p faults here */
    }
    return mc_err_set(err, MC_ERR_INTERNAL, "gemm_testonly_mallocbomb took %d MiB: no limit stopped it",
                      HOSTILE_BOMB_CAP_MIB);
}

/* Prints to stdout and stderr, escape codes included, then computes the right answer: the
 * harness's own stdout (--json) must stay clean and the text must land in the case's result. */
static mc_status gemm_testonly_print_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    printf("hostile-stdout-marker {\"not\": \"json\"\n\033[2J");
    fprintf(stderr, "hostile-stderr-marker\n");
    return mc_variant_gemm_scalar.run(kc, args, err);
}

/* Writes to the controlling terminal, around the captured stdout and stderr: a worker must have
 * none (tests/cli_tty.sh runs it under a pseudo-terminal). */
static mc_status gemm_testonly_tty_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    int fd = open("/dev/tty", O_WRONLY | O_NOCTTY);
    if (fd >= 0) {
        static const char marker[] = "hostile-tty-marker\n";
        ssize_t ignored = write(fd, marker, sizeof marker - 1);
        (void)ignored;
        close(fd);
        return mc_err_set(err, MC_ERR_INTERNAL, "gemm_testonly_tty reached the controlling terminal");
    }
    return mc_variant_gemm_scalar.run(kc, args, err);
}

/* A store through a wild pointer: a sanitizer build must leave its report in the case's output. */
static mc_status gemm_testonly_wild_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    volatile int *wild = (volatile int *)(uintptr_t)0x1000;
    *wild = 42;
    return mc_err_set(err, MC_ERR_INTERNAL, "gemm_testonly_wild survived its wild store");
}

/* What each one must come out as (.expect): the CLI test (tests/cli_hostile.sh) holds the harness
 * to it. The forker computes the right answer but fails: it left a process running. */
const mc_variant mc_variant_gemm_testonly_fdwrite = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "gemm_testonly_fdwrite", .run = gemm_testonly_fdwrite_run,
    .flags = MC_VARIANT_TEST_ONLY, .expect = "crash", .code = (const void *)gemm_testonly_fdwrite_run,
};
const mc_variant mc_variant_gemm_testonly_closehang = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "gemm_testonly_closehang", .run = gemm_testonly_closehang_run,
    .flags = MC_VARIANT_TEST_ONLY, .expect = "timeout", .code = (const void *)gemm_testonly_closehang_run,
};
const mc_variant mc_variant_gemm_testonly_exit = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "gemm_testonly_exit", .run = gemm_testonly_exit_run,
    .flags = MC_VARIANT_TEST_ONLY, .expect = "crash", .code = (const void *)gemm_testonly_exit_run,
};
const mc_variant mc_variant_gemm_testonly_thread_exit = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "gemm_testonly_thread_exit", .run = gemm_testonly_thread_exit_run,
    .flags = MC_VARIANT_TEST_ONLY, .expect = "crash", .code = (const void *)gemm_testonly_thread_exit_run,
};
const mc_variant mc_variant_gemm_testonly_sigstop = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "gemm_testonly_sigstop", .run = gemm_testonly_sigstop_run,
    .flags = MC_VARIANT_TEST_ONLY, .expect = "timeout", .code = (const void *)gemm_testonly_sigstop_run,
};
const mc_variant mc_variant_gemm_testonly_fork = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "gemm_testonly_fork", .run = gemm_testonly_fork_run,
    .flags = MC_VARIANT_TEST_ONLY, .expect = "error", .code = (const void *)gemm_testonly_fork_run,
};
const mc_variant mc_variant_gemm_testonly_mallocbomb = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "gemm_testonly_mallocbomb", .run = gemm_testonly_mallocbomb_run,
    .flags = MC_VARIANT_TEST_ONLY, .expect = "crash", .code = (const void *)gemm_testonly_mallocbomb_run,
};
const mc_variant mc_variant_gemm_testonly_print = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "gemm_testonly_print", .run = gemm_testonly_print_run,
    .flags = MC_VARIANT_TEST_ONLY, .expect = "pass", .code = (const void *)gemm_testonly_print_run,
};
const mc_variant mc_variant_gemm_testonly_tty = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "gemm_testonly_tty", .run = gemm_testonly_tty_run,
    .flags = MC_VARIANT_TEST_ONLY, .expect = "pass", .code = (const void *)gemm_testonly_tty_run,
};
const mc_variant mc_variant_gemm_testonly_wild = {
    .op = MC_OP_GEMM, .backend = "cpu", .name = "gemm_testonly_wild", .run = gemm_testonly_wild_run,
    .flags = MC_VARIANT_TEST_ONLY, .expect = "crash", .code = (const void *)gemm_testonly_wild_run,
};
