/* kernels/cpu/gemm_tiles.c: GEMM shape classes, their default kernels and the tuning table, as data.
 * SPDX-License-Identifier: MIT
 *
 * How a GEMM gets its kernel and tiles:
 *  1. The shape picks a class: the first row of class_rules whose limits hold.
 *  2. The dispatcher walks that class's candidates and takes the first one whose probe says yes
 *     and that supports the case (the capability part of the choice).
 *  3. A tiled kernel takes its tiles from the $MC_GEMM_TUNING file when that has a row for
 *     (kernel, class), else from builtin_tiles, else from its generic default.
 *  4. A "default class kernel" row of that file puts its kernel before the class's candidates on
 *     this machine (`tune --compare-kernels --out` writes one where a kernel wins by >= 5% here).
 * A kernel becomes a class's default only when it beats the current default there by >= 5% in
 * the perf tier; the comment beside each class says which measurement put it there.
 */
#include "kernels/cpu/gemm_tiles.h"

#include <assert.h>
#include <cpuid.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_LIMIT INT64_MAX
#define MAX_FILE_ENTRIES 256

typedef struct class_rule {
    mc_gemm_class cls;
    int64_t m_max, n_max, mnk_max; /* the class applies when all three hold */
} class_rule;

/* Only n is narrow here: with m == 1 or m <= 8 (B's rows are the long operand) gemm_gemv and
 * gemm_small_n walk B across its rows and lose to the tiled kernel reading B in place:
 * 1x4864x896 gemv 2.5-2.9 GFLOP/s against tiled avx2 5.6 (Xeon, 2 threads) and 19.7 (EPYC);
 * 4x896x896 small_n 6.2 against 17.3 (Xeon). Those shapes fall through to the size classes. */
static const class_rule class_rules[] = {
    {MC_GEMM_CLASS_GEMV, NO_LIMIT, 1, NO_LIMIT},
    {MC_GEMM_CLASS_SMALL_N, NO_LIMIT, 8, NO_LIMIT},
    {MC_GEMM_CLASS_TINY, NO_LIMIT, NO_LIMIT, 32 * 32 * 32},
    {MC_GEMM_CLASS_SMALL_M, 32, NO_LIMIT, NO_LIMIT},
    {MC_GEMM_CLASS_MEDIUM, NO_LIMIT, NO_LIMIT, 256 * 256 * 256},
    {MC_GEMM_CLASS_LARGE, NO_LIMIT, NO_LIMIT, NO_LIMIT},
};

#define TILED_BF16 "gemm_tiled_bf16_amx_16x32", "gemm_tiled_bf16_avx512bf16_12x32"
#define TILED_CANDIDATES TILED_BF16, "gemm_tiled_f32_avx2_6x16", "gemm_tiled_portable"
#define TILED_CANDIDATES_AVX512_FIRST TILED_BF16, "gemm_tiled_f32_avx512_12x32", "gemm_tiled_f32_avx2_6x16", \
    "gemm_tiled_portable"

/* Each class's defaults and the measurement behind them: `metallic-check tune --op gemm
 * --compare-kernels` (f32 row-major, 2 threads, geometric mean over the class's shapes in
 * cli_tune.c, as a ratio to the default). "EPYC": the 2-core AMD EPYC (Zen 4) CI machine,
 * "Xeon": 2 pinned cores of a 16-core Intel Xeon (AVX-512 with two FMA units).
 * The EPYC was shared with other jobs (load 4-6) when measured, 5 rounds interleaved per shape.
 *  - gemv: gemm_gemv. Tiled avx2 x0.11 (EPYC), x0.23 (Xeon); small-N x0.29-0.36.
 *  - small_n: gemm_small_n. Tiled avx2 x0.41 (EPYC), x0.84 (Xeon).
 *  - tiny, small_m: tiled avx2. Scalar x0.02; avx512 x0.66 and x0.61 (EPYC), x0.83 and x0.95 (Xeon).
 *  - medium: tiled avx512, then avx2: avx512 x1.106 and x1.113 in two EPYC runs, x1.67 on the Xeon.
 *  - large: tiled avx2. avx512 is x1.58 on the Xeon but x0.95 and x0.77 on the EPYC (Zen 4 runs a
 *    512-bit FMA as two 256-bit halves), so avx512 leads it only where mc_gemm_cpu_full_width_512()
 *    says so (class_infos_full512); a tuning file's "default" row still overrides both.
 * The bf16 matrix kernels head the tiled lists: they decline all but bf16 A and B, so bf16
 * products take AMX tiles where the CPU has AMX-BF16, vdpbf16ps where it has AVX512_BF16, and
 * the f32-accumulate kernels after them everywhere else (docs/performance.md has the rates).
 * gemm_tiled_portable follows avx2 for CPUs without AVX2, FMA and F16C (x0.17-0.30 where both run).
 * gemm_scalar ends every list: it takes every dtype (quantised A and B too), so a case that the
 * faster kernels decline still has a kernel. */
static const mc_gemm_class_info class_infos[] = {
    [MC_GEMM_CLASS_GEMV] = {"gemv", "n == 1", {"gemm_gemv", "gemm_scalar", NULL}},
    [MC_GEMM_CLASS_SMALL_N] = {"small_n", "n <= 8", {"gemm_small_n", "gemm_scalar", NULL}},
    [MC_GEMM_CLASS_TINY] = {"tiny", "m*n*k <= 32^3", {TILED_CANDIDATES, "gemm_scalar", NULL}},
    [MC_GEMM_CLASS_SMALL_M] = {"small_m", "m <= 32", {TILED_CANDIDATES, "gemm_scalar", NULL}},
    [MC_GEMM_CLASS_MEDIUM] = {"medium", "m*n*k <= 256^3", {TILED_CANDIDATES_AVX512_FIRST, "gemm_scalar", NULL}},
    [MC_GEMM_CLASS_LARGE] = {"large", "m*n*k > 256^3", {TILED_CANDIDATES, "gemm_scalar", NULL}},
};
static_assert(sizeof class_infos / sizeof class_infos[0] == MC_GEMM_CLASS_COUNT, "one entry per class");

/* Classes whose defaults differ where a 512-bit FMA runs at full width (entries without a name
 * keep class_infos'). large: on this Intel Xeon VM (2 threads, 2026-12-05, one run each) the
 * AVX-512 12x32 kernel ran 1024^3 at x1.61 the AVX2 6x16 one (168.7 against 105.1 GFLOP/s, x1.03
 * OpenBLAS) and 2048^3 at x1.26 OpenBLAS; on the Zen 4 EPYC it stays behind AVX2 (x0.77-0.95). */
static const mc_gemm_class_info class_infos_full512[] = {
    [MC_GEMM_CLASS_GEMV] = {0},
    [MC_GEMM_CLASS_SMALL_N] = {0},
    [MC_GEMM_CLASS_TINY] = {0},
    [MC_GEMM_CLASS_SMALL_M] = {0},
    [MC_GEMM_CLASS_MEDIUM] = {0},
    [MC_GEMM_CLASS_LARGE] = {"large", "m*n*k > 256^3", {TILED_CANDIDATES_AVX512_FIRST, "gemm_scalar", NULL}},
};
static_assert(sizeof class_infos_full512 / sizeof class_infos_full512[0] == MC_GEMM_CLASS_COUNT,
              "one entry per class");

static const char *const tunable_kernels[] = {
    "gemm_tiled_portable",
    "gemm_tiled_f32_avx2_6x16",
    "gemm_tiled_f32_avx512_12x32",
    NULL, /* the bf16 matrix kernels are not here: the tuner times f32 products */
};

typedef struct builtin_row {
    const char *kernel;
    mc_gemm_class cls; /* MC_GEMM_CLASS_COUNT: any class without its own row */
    mc_gemm_tiles tiles;
} builtin_row;

/* KC * NR * 4 bytes of B sliver stay in L1 (32 KiB), MC * KC * 4 of A in L2 (1 MiB), and the
 * KC * NC * 4 B panel in L3. Measured with `tune --op gemm` (2 threads):
 *  - avx2 96/4080/512: 2048^3 at 1.00-1.07x OpenBLAS on the quiet EPYC, against 0.64-0.90x for
 *    144/4080/256 and 0.76-0.80x for 120/4080/512 or 60/4080/768.
 *  - avx512 288/4096/256 for medium: the best medium configuration on both machines (EPYC 99.5
 *    GFLOP/s against 60.4 for 96/4064/256; Xeon 288/4096/128 112 against 95).
 *  - avx512 256/1024/256 elsewhere (was 96/4064/256): a 1 MiB B panel fits half of a 2 MiB L2,
 *    so the driver keeps each A sliver in L1 and streams B from L2 (gemm_tiled.c, a_sliver_outer);
 *    on the 2-core Xeon VM (L2 2 MiB, 2 threads, loaded, alternating rounds, CPU time per product)
 *    x1.04 at 1024^3, x1.10 at 2048^3 and x1.05 at 512x4096x14336 against 96/4064/256. */
static const builtin_row builtin_tiles[] = {
    {"gemm_tiled_portable", MC_GEMM_CLASS_COUNT, {64, 2048, 256, 0}},
    {"gemm_tiled_f32_avx2_6x16", MC_GEMM_CLASS_COUNT, {96, 4080, 512, 0}},
    {"gemm_tiled_f32_avx512_12x32", MC_GEMM_CLASS_MEDIUM, {288, 4096, 256, 0}},
    {"gemm_tiled_f32_avx512_12x32", MC_GEMM_CLASS_COUNT, {256, 1024, 256, 0}},
    {"gemm_tiled_bf16_avx512bf16_12x32", MC_GEMM_CLASS_COUNT, {96, 4064, 512, 0}}, /* bf16: half the bytes per k */
    {"gemm_tiled_bf16_amx_16x32", MC_GEMM_CLASS_COUNT, {96, 4064, 512, 0}},
};

static const mc_gemm_tiles generic_tiles = {96, 2048, 256, 0};

mc_gemm_class mc_gemm_class_of(int64_t m, int64_t n, int64_t k)
{
    for (size_t i = 0; i < sizeof class_rules / sizeof class_rules[0]; i++) {
        const class_rule *r = &class_rules[i];
        /* m*n*k compared by division so that huge shapes cannot overflow */
        int64_t mn = (m > 0 && n > NO_LIMIT / m) ? NO_LIMIT : m * n;
        int fits_mnk = r->mnk_max == NO_LIMIT || (mn <= r->mnk_max && (k == 0 || mn <= r->mnk_max / k));
        if (m <= r->m_max && n <= r->n_max && fits_mnk)
            return r->cls;
    }
    return MC_GEMM_CLASS_LARGE;
}

static int cpu_full_width_512(void)
{
    unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0, vendor = 0; /* cpuid 0's ebx: "Genu", "Auth" */
    if (__builtin_cpu_supports("avx512f") && __get_cpuid(0, &eax, &vendor, &ecx, &edx))
        __get_cpuid(1, &eax, &ebx, &ecx, &edx);
    const unsigned int base = (eax >> 8) & 0xf, family = base + (base == 0xf ? (eax >> 20) & 0xff : 0);
    /* Intel: every AVX-512 core has full-width 512-bit FMAs; AMD: Zen 5 (0x1a) on, Zen 4 splits them */
    return vendor == 0x756e6547u || (vendor == 0x68747541u && family >= 0x1a);
}

/* Asked once per process: cpuid traps to the hypervisor in a VM (~6 us each on the Xeon VM, four
 * here), and the dispatcher asks on every call. */
int mc_gemm_cpu_full_width_512(void)
{
    static atomic_int known; /* 0: not asked yet, else 1 + the answer */
    const int k = atomic_load_explicit(&known, memory_order_relaxed);
    if (k)
        return k - 1;
    const int answer = cpu_full_width_512();
    atomic_store_explicit(&known, 1 + answer, memory_order_relaxed);
    return answer;
}

const mc_gemm_class_info *mc_gemm_class_info_of(mc_gemm_class cls)
{
    if (class_infos_full512[cls].name && mc_gemm_cpu_full_width_512())
        return &class_infos_full512[cls];
    return &class_infos[cls];
}

int mc_gemm_class_parse(const char *name)
{
    for (int c = 0; c < MC_GEMM_CLASS_COUNT; c++)
        if (strcmp(class_infos[c].name, name) == 0)
            return c;
    return -1;
}

const char *const *mc_gemm_tunable_kernels(void)
{
    return tunable_kernels;
}

static int is_tunable(const char *kernel)
{
    for (int i = 0; tunable_kernels[i]; i++)
        if (strcmp(tunable_kernels[i], kernel) == 0)
            return 1;
    return 0;
}

/* A kernel a default row may name: a tunable one or one of the classes' candidates. */
static int is_known_kernel(const char *kernel)
{
    for (int c = 0; c < MC_GEMM_CLASS_COUNT; c++)
        for (int i = 0; i < MC_GEMM_MAX_CANDIDATES && class_infos[c].candidates[i]; i++)
            if (strcmp(class_infos[c].candidates[i], kernel) == 0)
                return 1;
    return is_tunable(kernel);
}

mc_gemm_tiles mc_gemm_tiles_builtin(const char *kernel, mc_gemm_class cls)
{
    const mc_gemm_tiles *any = NULL;
    for (size_t i = 0; i < sizeof builtin_tiles / sizeof builtin_tiles[0]; i++) {
        const builtin_row *r = &builtin_tiles[i];
        if (strcmp(r->kernel, kernel) != 0)
            continue;
        if (r->cls == cls)
            return r->tiles;
        if (r->cls == MC_GEMM_CLASS_COUNT)
            any = &r->tiles;
    }
    return any ? *any : generic_tiles;
}

/* ---- tuning files ---- */

/* "default class kernel" */
static mc_status parse_default(const char *path, int lineno, const char *line, mc_gemm_tuning_entry *e, mc_err *err)
{
    char cls[32], kernel[64], extra[8];
    if (sscanf(line, "default %31s %63s %7s", cls, kernel, extra) != 2)
        return mc_err_set(err, MC_ERR_CONFIG, "%s:%d: expected 'default class kernel'", path, lineno);
    int c = mc_gemm_class_parse(cls);
    if (c < 0)
        return mc_err_set(err, MC_ERR_CONFIG, "%s:%d: unknown shape class '%s'", path, lineno, cls);
    if (!is_known_kernel(kernel))
        return mc_err_set(err, MC_ERR_CONFIG, "%s:%d: '%s' is not a GEMM kernel the dispatcher knows", path, lineno,
                          kernel);
    memset(e, 0, sizeof *e);
    e->is_default = 1;
    e->cls = (mc_gemm_class)c;
    snprintf(e->kernel, sizeof e->kernel, "%s", kernel);
    return MC_OK;
}

static mc_status parse_line(const char *path, int lineno, char *line, mc_gemm_tuning_entry *e, mc_err *err)
{
    char kernel[64], cls[32];
    int tm, tn, tk, th;
    double gflops = 0.0;
    if (strncmp(line, "default ", 8) == 0)
        return parse_default(path, lineno, line, e, err);
    int got = sscanf(line, "%63s %31s %d %d %d %d %lf", kernel, cls, &tm, &tn, &tk, &th, &gflops);
    if (got < 6)
        return mc_err_set(err, MC_ERR_CONFIG,
                          "%s:%d: expected 'kernel class tile_m tile_n tile_k threads [gflops]'", path, lineno);
    if (!is_tunable(kernel))
        return mc_err_set(err, MC_ERR_CONFIG, "%s:%d: '%s' is not a tunable GEMM kernel", path, lineno, kernel);
    int c = mc_gemm_class_parse(cls);
    if (c < 0)
        return mc_err_set(err, MC_ERR_CONFIG, "%s:%d: unknown shape class '%s'", path, lineno, cls);
    if (tm < 1 || tn < 1 || tk < 1 || th < 0 || tm > 1 << 16 || tn > 1 << 20 || tk > 1 << 16 || th > 256)
        return mc_err_set(err, MC_ERR_CONFIG, "%s:%d: tile sizes must be positive and threads 0..256", path, lineno);
    memset(e, 0, sizeof *e);
    snprintf(e->kernel, sizeof e->kernel, "%s", kernel);
    e->cls = (mc_gemm_class)c;
    e->tiles = (mc_gemm_tiles){tm, tn, tk, th};
    e->gflops = gflops;
    return MC_OK;
}

mc_status mc_gemm_tuning_read(const char *path, mc_gemm_tuning_entry *entries, int cap, int *count, mc_err *err)
{
    mc_status st = MC_OK;
    char line[512];
    int lineno = 0, n = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return mc_err_set(err, MC_ERR_IO, "cannot read GEMM tuning file %s: %s", path, strerror(errno));
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line + strspn(line, " \t");
        if (*p == '#' || *p == '\n' || *p == '\0')
            continue;
        if (n == cap) {
            st = mc_err_set(err, MC_ERR_CONFIG, "%s:%d: more than %d entries", path, lineno, cap);
            goto done;
        }
        st = parse_line(path, lineno, p, &entries[n], err);
        if (st)
            goto done;
        n++;
    }
    *count = n;
done:
    fclose(f);
    return st;
}

void mc_gemm_tuning_print(FILE *f, const mc_gemm_tuning_entry *entries, int count, const char *comment)
{
    fputs("# metallic-check GEMM tuning table (format 1), loaded through $MC_GEMM_TUNING\n", f);
    if (comment)
        fprintf(f, "# %s\n", comment);
    fputs("# kernel class tile_m tile_n tile_k threads gflops | default class kernel\n", f);
    for (int i = 0; i < count; i++) {
        const mc_gemm_tuning_entry *e = &entries[i];
        if (e->is_default)
            fprintf(f, "default %s %s\n", class_infos[e->cls].name, e->kernel);
        else
            fprintf(f, "%s %s %d %d %d %d %.2f\n", e->kernel, class_infos[e->cls].name, e->tiles.tile_m,
                    e->tiles.tile_n, e->tiles.tile_k, e->tiles.threads, e->gflops);
    }
}

mc_status mc_gemm_tuning_write(const char *path, const mc_gemm_tuning_entry *entries, int count,
                               const char *comment, mc_err *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return mc_err_set(err, MC_ERR_IO, "cannot write GEMM tuning file %s: %s", path, strerror(errno));
    mc_gemm_tuning_print(f, entries, count, comment);
    if (fclose(f) != 0)
        return mc_err_set(err, MC_ERR_IO, "cannot finish GEMM tuning file %s", path);
    return MC_OK;
}

/* The table loaded from $MC_GEMM_TUNING, reloaded when the variable names another file. */
static struct {
    pthread_mutex_t mu;
    char path[1024];
    mc_gemm_tuning_entry entries[MAX_FILE_ENTRIES];
    int count;
} loaded = {.mu = PTHREAD_MUTEX_INITIALIZER};

static mc_status load_env_table(const char *path, mc_err *err)
{
    if (strcmp(loaded.path, path) == 0)
        return MC_OK;
    int n = 0;
    mc_status st = mc_gemm_tuning_read(path, loaded.entries, MAX_FILE_ENTRIES, &n, err);
    if (st) {
        loaded.path[0] = '\0';
        loaded.count = 0;
        return st;
    }
    snprintf(loaded.path, sizeof loaded.path, "%s", path);
    loaded.count = n;
    return MC_OK;
}

mc_status mc_gemm_tiles_lookup(const char *kernel, mc_gemm_class cls, mc_gemm_tiles *out, mc_err *err)
{
    const char *path = getenv("MC_GEMM_TUNING");
    *out = mc_gemm_tiles_builtin(kernel, cls);
    if (!path || !*path)
        return MC_OK;
    pthread_mutex_lock(&loaded.mu);
    mc_status st = load_env_table(path, err);
    for (int i = 0; !st && i < loaded.count; i++)
        if (!loaded.entries[i].is_default && loaded.entries[i].cls == cls &&
            strcmp(loaded.entries[i].kernel, kernel) == 0)
            *out = loaded.entries[i].tiles;
    pthread_mutex_unlock(&loaded.mu);
    return st;
}

mc_status mc_gemm_default_lookup(mc_gemm_class cls, char *kernel, size_t cap, int *found, mc_err *err)
{
    const char *path = getenv("MC_GEMM_TUNING");
    *found = 0;
    if (!path || !*path)
        return MC_OK;
    pthread_mutex_lock(&loaded.mu);
    mc_status st = load_env_table(path, err);
    for (int i = 0; !st && i < loaded.count; i++)
        if (loaded.entries[i].is_default && loaded.entries[i].cls == cls) {
            snprintf(kernel, cap, "%s", loaded.entries[i].kernel);
            *found = 1;
        }
    pthread_mutex_unlock(&loaded.mu);
    return st;
}
