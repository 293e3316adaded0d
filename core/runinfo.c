/* core/runinfo.c: run metadata: the git state, the command line, the machine fingerprint and
 * the environment around a measurement. (Each variant's code hash is core/codehash.c.)
 * SPDX-License-Identifier: MIT */
#include "runinfo.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    size_t lead = strspn(s, " \t");
    memmove(s, s + lead, strlen(s + lead) + 1);
}

void mc_runinfo_now(char out[MC_TIME_LEN])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, MC_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- git ---- */

static const char *source_dir(void)
{
    const char *env = getenv("MC_SOURCE_DIR");
    if (env && *env && access(env, R_OK) == 0)
        return env;
#ifdef MC_SOURCE_DIR
    if (access(MC_SOURCE_DIR, R_OK) == 0)
        return MC_SOURCE_DIR;
#endif
    return ".";
}

/* A revision we pass to the shell must be plain: hex digits, names, ~ and ^ only. */
static bool shell_safe(const char *s)
{
    if (!*s || *s == '-')
        return false;
    for (; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/~^-", *s))
            return false;
    return true;
}

/* Runs `git -C <dir> <args>` and keeps the first line of its output; false when git fails. */
static bool git_line(const char *dir, const char *args, char *out, size_t cap)
{
    char cmd[1400];
    out[0] = '\0';
    if (!shell_safe(dir) && strcmp(dir, ".") != 0)
        return false;
    if (snprintf(cmd, sizeof cmd, "git -C '%s' %s 2>/dev/null", dir, args) >= (int)sizeof cmd)
        return false;
    FILE *p = popen(cmd, "r");
    if (!p)
        return false;
    char line[1024];
    bool got = fgets(line, sizeof line, p) != NULL;
    /* drain, so git does not die of SIGPIPE and a long status is still read to the end */
    char rest[256];
    bool more = false;
    while (fgets(rest, sizeof rest, p))
        more = true;
    int rc = pclose(p);
    if (rc != 0)
        return false;
    if (got) {
        trim(line);
        copy_text(out, cap, line);
    }
    return got || more;
}

/* The full SHA of a revision git knows in dir (HEAD~1, a branch, a tag) into sha; false, sha
 * untouched, when it is none. */
static bool revision_sha(const char *dir, const char *rev, char sha[MC_SHA_LEN])
{
    char args[200], buf[1024];
    if (!shell_safe(rev) || strlen(rev) >= 100)
        return false;
    snprintf(args, sizeof args, "rev-parse --verify -q '%s^{commit}'", rev);
    if (!git_line(dir, args, buf, sizeof buf) || strlen(buf) != 40)
        return false;
    copy_text(sha, MC_SHA_LEN, buf);
    return true;
}

const char *mc_runinfo_run_spec(const char *spec, char sha[MC_SHA_LEN])
{
    size_t n = strlen(spec);
    bool stored_form = strcmp(spec, "latest") == 0 || strncmp(spec, "run:", 4) == 0 || spec[0] == '#' ||
                       strspn(spec, "0123456789abcdefABCDEF") == n;
    return !stored_form && revision_sha(source_dir(), spec, sha) ? sha : spec;
}

static void collect_git(const char *commit_override, mc_run_info *info)
{
    const char *dir = source_dir();
    char head[MC_SHA_LEN] = "", buf[1024];
    bool in_git = git_line(dir, "rev-parse --verify -q HEAD", head, sizeof head);
    copy_text(info->commit, sizeof info->commit, in_git ? head : "unknown");
    info->dirty = false;
    info->branch[0] = info->parent[0] = '\0';
    if (commit_override && *commit_override) {
        copy_text(info->commit, sizeof info->commit, commit_override);
        if (in_git)
            revision_sha(dir, commit_override, info->commit);
    }
    if (!in_git || strlen(info->commit) != 40)
        return;
    char args[200];
    snprintf(args, sizeof args, "rev-parse --verify -q '%s^1'", info->commit);
    if (git_line(dir, args, buf, sizeof buf) && strlen(buf) == 40)
        copy_text(info->parent, sizeof info->parent, buf);
    if (strcmp(info->commit, head) == 0) {
        /* only the checked-out commit can be dirty; any output line means a change, except the
         * tool's own outputs (its database and the report `check` writes, with their WAL and
         * temporary files), or every run after the first would be "+dirty" */
        info->dirty = git_line(dir,
                               "status --porcelain -- . ':(exclude,glob)**/metallic-check.db*' "
                               "':(exclude,glob)**/metallic-check-report.html*'",
                               buf, sizeof buf);
        if (git_line(dir, "symbolic-ref -q --short HEAD", buf, sizeof buf))
            copy_text(info->branch, sizeof info->branch, buf);
    }
}

/* ---- machine ---- */

/* Value of the first "key : value" line of /proc/cpuinfo whose key is one of keys. */
static void cpuinfo_field(const char *const *keys, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char *line = NULL;
    size_t len = 0;
    while (getline(&line, &len, f) > 0) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        trim(line);
        for (const char *const *k = keys; *k; k++) {
            if (strcmp(line, *k) == 0) {
                char *value = colon + 1;
                trim(value);
                copy_text(out, cap, value);
                goto done;
            }
        }
    }
done:
    free(line);
    fclose(f);
}

void mc_machine_fingerprint(mc_machine *m)
{
    char cores[16];
    snprintf(cores, sizeof cores, "%d", m->cores);
    const char *fields[] = {m->cpu_model, m->cpu_flags, cores, m->os, m->compiler, m->cflags, m->devices};
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        for (const char *s = fields[i]; *s; s++) {
            h ^= (unsigned char)*s;
            h *= 1099511628211ull;
        }
        h ^= '\n'; /* field separator: "ab"+"c" differs from "a"+"bc" */
        h *= 1099511628211ull;
    }
    snprintf(m->fingerprint, sizeof m->fingerprint, "%016" PRIx64, h);
}

void mc_machine_collect(const char *devices, mc_machine *out)
{
    memset(out, 0, sizeof *out);
    static const char *const model_keys[] = {"model name", "Model", "Hardware", "cpu model", NULL};
    static const char *const flag_keys[] = {"flags", "Features", NULL};
    cpuinfo_field(model_keys, out->cpu_model, sizeof out->cpu_model);
    cpuinfo_field(flag_keys, out->cpu_flags, sizeof out->cpu_flags);
    if (!out->cpu_model[0])
        copy_text(out->cpu_model, sizeof out->cpu_model, "unknown");
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    out->cores = n > 0 ? (int)n : 0;
    struct utsname u;
    if (uname(&u) == 0) {
        char os[sizeof out->os + 8];
        snprintf(os, sizeof os, "%.40s %.80s %.30s", u.sysname, u.release, u.machine);
        copy_text(out->os, sizeof out->os, os);
    }
#if defined(__clang__)
    copy_text(out->compiler, sizeof out->compiler, "clang " __VERSION__);
#elif defined(__GNUC__)
    copy_text(out->compiler, sizeof out->compiler, "gcc " __VERSION__);
#else
    copy_text(out->compiler, sizeof out->compiler, "unknown C compiler");
#endif
    mc_build_flags(out->cflags, sizeof out->cflags);
    copy_text(out->devices, sizeof out->devices, devices);
    mc_machine_fingerprint(out);
}

void mc_env_sample_now(mc_env_sample *out)
{
    out->cpu_mhz = 0;
    out->loadavg = -1;
    double load[1];
    if (getloadavg(load, 1) == 1)
        out->loadavg = load[0];
#ifdef MC_TEST_VARIANTS
    /* test builds only: a machine under load on demand, for the tests of what a loaded machine changes */
    const char *fake = getenv("MC_TEST_LOADAVG");
    if (fake && *fake)
        out->loadavg = atof(fake);
#endif
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    double sum = 0;
    int count = 0;
    while (fgets(line, sizeof line, f)) {
        double mhz;
        const char *colon = strchr(line, ':');
        if (strncmp(line, "cpu MHz", 7) == 0 && colon && sscanf(colon + 1, "%lf", &mhz) == 1) {
            sum += mhz;
            count++;
        }
    }
    fclose(f);
    if (count)
        out->cpu_mhz = sum / count;
}

/* ---- the run ---- */

static void random_uuid(char out[33])
{
    unsigned char bytes[16] = {0};
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(bytes, 1, sizeof bytes, f) : 0;
    if (f)
        fclose(f);
    if (got != sizeof bytes) {
        /* no urandom: time, pid and a counter still make collisions implausible */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        static unsigned counter;
        uint64_t a = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
        uint64_t b = ((uint64_t)getpid() << 32) | ++counter;
        memcpy(bytes, &a, 8);
        memcpy(bytes + 8, &b, 8);
    }
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", bytes[i]);
}

static void join_command_line(int argc, char **argv, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < argc && argv && argv[i]; i++) {
        bool quote = argv[i][0] == '\0' || strpbrk(argv[i], " \t'\"$*?") != NULL;
        int w = snprintf(out + len, cap - len, "%s%s%s%s", i ? " " : "", quote ? "'" : "", argv[i], quote ? "'" : "");
        if (w < 0 || (size_t)w >= cap - len) {
            out[cap - 1] = '\0';
            return;
        }
        len += (size_t)w;
    }
}

mc_status mc_runinfo_collect(int argc, char **argv, const char *tier, const char *commit_override,
                             const char *devices, mc_run_info *out, mc_err *err)
{
    (void)err; /* nothing here can fail: missing git or /proc just leaves fields unknown */
    memset(out, 0, sizeof *out);
    random_uuid(out->uuid);
    collect_git(commit_override, out);
    copy_text(out->tier, sizeof out->tier, tier);
    join_command_line(argc, argv, out->command_line, sizeof out->command_line);
    copy_text(out->tool_version, sizeof out->tool_version, MC_VERSION);
    mc_runinfo_now(out->start_time);
    copy_text(out->mode, sizeof out->mode, MC_RUN_INDEPENDENT);
    mc_machine_collect(devices, &out->machine);
    return MC_OK;
}
