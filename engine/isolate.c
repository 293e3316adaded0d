/* engine/isolate.c: the walls a worker builds around itself between fork and its first case, and
 * the signal and CPU state it resets before each case (docs/isolation.md).
 * SPDX-License-Identifier: MIT */
#include "isolate.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define MC_ISOLATE_MIN_MEM_MIB 1024 /* the default address-space limit is never below this */

long mc_isolate_default_mem_limit_mib(int jobs)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    long mib = pages > 0 && page > 0 ? (long)((double)pages * (double)page / (1 << 20)) : 0;
    mib /= 2 * (jobs > 0 ? jobs : 1); /* every worker at its limit still leaves half the machine */
    return mib < MC_ISOLATE_MIN_MEM_MIB ? MC_ISOLATE_MIN_MEM_MIB : mib;
}

double mc_isolate_default_cpu_limit_s(double timeout_s)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return timeout_s * (double)(cores > 0 ? cores : 1);
}

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGPIPE, SIGXCPU};
#define MC_N_FATAL (sizeof fatal_signals / sizeof fatal_signals[0])

#if defined(__SANITIZE_ADDRESS__)
#define MC_ISOLATE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MC_ISOLATE_SANITIZED 1
#endif
#endif

#ifdef MC_ISOLATE_SANITIZED
/* The dispositions in force before main: the sanitizer's own handlers (it installs them before any
 * constructor of ours runs), never a test framework's. */
static struct sigaction startup_handlers[MC_N_FATAL];

__attribute__((constructor)) static void remember_startup_handlers(void)
{
    for (size_t i = 0; i < MC_N_FATAL; i++)
        sigaction(fatal_signals[i], NULL, &startup_handlers[i]);
}
#endif

/* A crash must kill the worker so the parent sees it, whatever handlers were installed since: a
 * test framework's in the parent, or a device runtime's in this worker (PoCL's LLVM installs crash
 * handlers that return). Reset before every item: to the default, or, in a sanitizer build, to the
 * sanitizer's handler, whose report (a wild pointer's stack) lands in the case's output. */
static void restore_fatal_signals(void)
{
    for (size_t i = 0; i < MC_N_FATAL; i++) {
#ifdef MC_ISOLATE_SANITIZED
        sigaction(fatal_signals[i], &startup_handlers[i], NULL);
#else
        signal(fatal_signals[i], SIG_DFL);
#endif
    }
}

/* RLIMIT_CPU counts the whole process: each item gets its allowance on top of what was used. */
static void limit_cpu_for_item(double limit_s)
{
    struct rusage ru;
    struct rlimit rl;
    if (limit_s <= 0 || getrusage(RUSAGE_SELF, &ru) || getrlimit(RLIMIT_CPU, &rl))
        return;
    double used = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                  (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
    rlim_t soft = (rlim_t)(used + limit_s + 1.0);
    if (rl.rlim_max != RLIM_INFINITY && soft > rl.rlim_max)
        soft = rl.rlim_max;
    rl.rlim_cur = soft;
    setrlimit(RLIMIT_CPU, &rl);
}

/* Kills and reaps the children listed in one /proc/self/task/<tid>/children file. */
static int kill_children_of(const char *tid, long *first_pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%.20s/children", tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int n = 0;
    long pid;
    while (fscanf(f, "%ld", &pid) == 1) {
        kill((pid_t)pid, SIGKILL);
        waitpid((pid_t)pid, NULL, 0);
        if (n++ == 0)
            *first_pid = pid;
    }
    fclose(f);
    return n;
}

int mc_isolate_kill_leftovers(long *first_pid)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.')
            n += kill_children_of(e->d_name, first_pid);
    closedir(d);
    return n;
}

void mc_isolate_before_item(double cpu_limit_s)
{
    restore_fatal_signals();
    limit_cpu_for_item(cpu_limit_s);
}

/* Bytes of address space this process holds now (0 when /proc cannot say). */
static unsigned long long address_space_bytes(void)
{
    unsigned long long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%llu", &pages) != 1)
            pages = 0;
        fclose(f);
    }
    return pages * (unsigned long long)sysconf(_SC_PAGESIZE);
}

/* Every descriptor from first up is closed: close_range where the kernel has it, else one by one. */
static void close_from(int first)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)first, ~0u, 0u) == 0)
        return;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = first; fd < (max > 0 ? max : 1024); fd++)
        close((int)fd);
}

void mc_isolate_enter(pid_t parent, int cmd, int res, int out, long mem_limit_mib)
{
    setpgid(0, 0);
    /* no controlling terminal: a kernel cannot write around the captured stdout and stderr, nor
     * read the keyboard (setsid would do it, but fails when the parent has made us a group leader) */
    int tty = open("/dev/tty", O_RDWR | O_NOCTTY);
    if (tty >= 0) {
        ioctl(tty, TIOCNOTTY);
        close(tty);
    }
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(2); /* the parent died before the line above */
#endif
    unsigned long long base = address_space_bytes();
    /* out of the way of 0..4 first, then into place */
    cmd = fcntl(cmd, F_DUPFD, 10);
    res = fcntl(res, F_DUPFD, 10);
    out = fcntl(out, F_DUPFD, 10);
    int null_fd = open("/dev/null", O_RDONLY);
    if (cmd < 0 || res < 0 || out < 0 || null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out, 1) < 0 ||
        dup2(out, 2) < 0 || dup2(cmd, MC_ISOLATE_CMD_FD) < 0 || dup2(res, MC_ISOLATE_RES_FD) < 0)
        _exit(2);
    close_from(MC_ISOLATE_RES_FD + 1);
    setvbuf(stdout, NULL, _IONBF, 0); /* what a kernel prints before it crashes is not lost */
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    if (mem_limit_mib > 0) {
        rlim_t lim = (rlim_t)base + ((rlim_t)mem_limit_mib << 20);
        struct rlimit as = {lim, lim};
        setrlimit(RLIMIT_AS, &as);
    }
}

