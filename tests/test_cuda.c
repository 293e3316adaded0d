/* tests/test_cuda.c: the cuda backend. Host side (runs in CI, no GPU): NVRTC compiles every program
 * in every option combination a variant can ask for, reproducibly; stub libraries are refused;
 * sticky errors and throttle reasons are classified. Device side (the GPU machine): buffer round
 * trips, the timer's contract, code hashes, copy bandwidth. Without NVRTC or a device those tests
 * are skipped and say why; kernels' results are the quick tier's job (scripts/gpu-run-cuda.sh).
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/codehash.h"
#include "core/variant.h"
#ifdef MC_HAVE_CUDA
#include "kernels/cuda/backend_cuda.h"
#include "kernels/cuda/cuda_api.h"
#include "kernels/cuda/nvml_cuda.h"
#include "kernels/cuda/cuda_int.h" /* a context without a device: test_program_hash_without_loading */
extern const mc_backend mc_backend_cuda;
extern const mc_variant mc_variant_gemm_cuda_dispatch;
extern const mc_variant mc_variant_gemm_cuda_wgmma_f16_128x256;
#endif

/* The live backend (NULL when unavailable, with the reason). */
typedef struct fixture {
    mc_backend_ctx *ctx;
    const mc_backend *be;
    char reason[800];
} fixture;

static fixture fx;

static int group_setup(void **state)
{
    memset(&fx, 0, sizeof fx);
#ifdef MC_HAVE_CUDA
    mc_err err = {0};
    fx.be = &mc_backend_cuda;
    if (fx.be->probe(fx.reason, sizeof fx.reason) == MC_OK && fx.be->init(&fx.ctx, &err) != MC_OK)
        snprintf(fx.reason, sizeof fx.reason, "%s", err.msg);
#else
    snprintf(fx.reason, sizeof fx.reason, "not built: nvcc was not found at build time");
#endif
    return 0;
}

static int group_teardown(void **state)
{
    if (fx.ctx)
        fx.be->shutdown(fx.ctx);
    return 0;
}

#define NEED_DEVICE()                                           \
    do {                                                        \
        if (!fx.ctx) {                                          \
            printf("skipped: no CUDA device: %s\n", fx.reason); \
            skip();                                             \
        }                                                       \
    } while (0)

#ifdef MC_HAVE_CUDA

/* ---- host side ---- */

#define NEED_NVRTC()                                                      \
    do {                                                                  \
        const mc_cuda_nvrtc *nv_;                                         \
        mc_err e_ = {0};                                                  \
        if (mc_cuda_nvrtc_load(&nv_, &e_) != MC_OK) {                     \
            printf("skipped: no NVRTC here: %s\n", e_.msg);               \
            skip();                                                       \
        }                                                                 \
    } while (0)

static void compile_ok(const char *source, const char *options, int major, int minor, unsigned char **bin, size_t *size)
{
    mc_err err = {0};
    if (mc_cuda_compile(source, options, major, minor, bin, size, &err) != MC_OK)
        fail_msg("%s.cu with '%s' for sm_%d%d: %s", source, options, major, minor, err.msg);
    assert_true(*size > 4);
    assert_memory_equal(*bin, "\x7f" "ELF", 4); /* a cubin is an ELF image */
}

/* Every canonical program compiles for sm_90; two of them (the tensor-core GEMM, the GEMV) compile
 * twice to the same bytes, so a hash of the cubin is a stable identity; programs of different
 * sources give different cubins; the tensor-core GEMM also compiles for sm_80, the oldest
 * architecture its gate admits. */
static void test_programs_compile_reproducibly(void **state)
{
    NEED_NVRTC();
    unsigned char *first_bin = NULL;
    size_t first_size = 0;
    for (int i = 0; mc_cuda_programs[i]; i++) {
        const mc_cuda_program_def *d = mc_cuda_programs[i];
        if (d->combines) /* a dispatcher: its kernels' programs are compiled in their own rows */
            continue;
        unsigned char *a;
        size_t na;
        compile_ok(d->source, d->options, 9, 0, &a, &na);
        if (strcmp(d->source, "gemm_mma") == 0 || strcmp(d->source, "gemm_wgmma") == 0 ||
            strcmp(d->source, "gemv") == 0) {
            unsigned char *b;
            size_t nb;
            compile_ok(d->source, d->options, 9, 0, &b, &nb);
            assert_int_equal(na, nb);
            assert_memory_equal(a, b, na);
            free(b);
        }
        if (i > 0 && strcmp(d->source, mc_cuda_programs[0]->source) != 0)
            assert_false(na == first_size && memcmp(a, first_bin, na) == 0);
        if (i == 0) {
            first_bin = a;
            first_size = na;
        } else {
            free(a);
        }
    }
    free(first_bin);
    unsigned char *bin;
    size_t size;
    compile_ok("gemm_mma", "-DBN=256 -DBK=64 -DSTAGES=3 -DDT_AB=2 -DDT_C=0 -DDT_BIAS=0 -DMC_BYTEWISE=0", 8, 0, &bin, &size);
    free(bin);
}

/* The option combinations the variants compose per case (dtypes, byte-wise path, scalar and vector
 * paths, quantised A, warp and block softmax): each must compile, or a case fails on the GPU. */
static void test_case_options_compile(void **state)
{
    NEED_NVRTC();
    static const struct {
        const char *source, *options;
    } combos[] = {
        {"gemm", "-DTILE_M=32 -DTILE_N=32 -DTILE_K=8 -DWPT_M=2 -DWPT_N=2 -DDT_A=1 -DDT_B=2 -DDT_C=1 -DDT_BIAS=2 "
                 "-DA_KFAST=0 -DB_NFAST=0 -DMC_BYTEWISE=1"},
        {"gemm", "-DTILE_M=128 -DTILE_N=128 -DTILE_K=16 -DWPT_M=8 -DWPT_N=8 -DDT_A=2 -DDT_B=2 -DDT_C=0 -DDT_BIAS=0 "
                 "-DA_KFAST=1 -DB_NFAST=0 -DMC_BYTEWISE=0"},
        {"gemm_mma", "-DBN=128 -DBK=32 -DSTAGES=4 -DDT_AB=2 -DDT_C=2 -DDT_BIAS=0 -DMC_BYTEWISE=1"},
        {"gemm_mma", "-DBN=256 -DBK=64 -DSTAGES=3 -DDT_AB=1 -DDT_C=0 -DDT_BIAS=0 -DMC_BYTEWISE=0"},
        {"gemm_mma", "-DBN=256 -DBK=32 -DSTAGES=2 -DDT_AB=2 -DDT_C=1 -DDT_BIAS=2 -DMC_BYTEWISE=0"},
        {"gemv", "-DLANES=256 -DROWS=1 -DQUANT=0 -DUNROLL=8 -DDT_A=0 -DDT_X=1 -DDT_Y=2 -DA_VEC=1 -DX_VEC=0 -DMC_BYTEWISE=0"},
        {"gemv", "-DLANES=64 -DROWS=4 -DQUANT=0 -DUNROLL=8 -DDT_A=2 -DDT_X=0 -DDT_Y=0 -DA_VEC=1 -DX_VEC=1 -DMC_BYTEWISE=0"},
        {"gemv", "-DLANES=32 -DROWS=8 -DQUANT=0 -DUNROLL=8 -DDT_A=1 -DDT_X=0 -DDT_Y=1 -DA_VEC=0 -DX_VEC=0 -DMC_BYTEWISE=1"},
        {"gemv", "-DLANES=128 -DROWS=2 -DQUANT=8 -DUNROLL=8 -DDT_A=0 -DDT_X=1 -DDT_Y=0 -DA_VEC=0 -DX_VEC=0 -DX_SMEM=1 "
                 "-DMC_BYTEWISE=1"},
        {"gemv", "-DLANES=32 -DROWS=8 -DQUANT=4 -DUNROLL=8 -DDT_A=0 -DDT_X=2 -DDT_Y=1 -DA_VEC=0 -DX_VEC=1 -DX_SMEM=0 "
                 "-DMC_BYTEWISE=0"},
        {"gemv", "-DLANES=64 -DROWS=4 -DQUANT=8 -DUNROLL=8 -DDT_A=0 -DDT_X=0 -DDT_Y=0 -DA_VEC=1 -DX_VEC=1 -DX_SMEM=0 "
                 "-DMC_BYTEWISE=0"},
        {"gemv", "-DLANES=32 -DROWS=8 -DQUANT=4 -DUNROLL=8 -DDT_A=0 -DDT_X=1 -DDT_Y=0 -DA_VEC=1 -DX_VEC=0 -DX_SMEM=1 "
                 "-DMC_BYTEWISE=0"},
        {"gemv", "-DLANES=32 -DROWS=8 -DQUANT=8 -DUNROLL=8 -DDT_A=0 -DDT_X=1 -DDT_Y=2 -DA_VEC=1 -DX_VEC=0 -DX_SMEM=1 -DSTAGE=4 "
                 "-DMC_BYTEWISE=0"},
        {"gemv", "-DLANES=32 -DROWS=8 -DQUANT=4 -DUNROLL=4 -DDT_A=0 -DDT_X=2 -DDT_Y=1 -DA_VEC=1 -DX_VEC=1 -DX_SMEM=1 -DSTAGE=8 "
                 "-DMC_BYTEWISE=0"},
        {"softmax", "-DGROUP=32 -DROWS=8 -DCACHE_COLS=1024 -DDT_X=1 -DDT_Y=2 -DX_VEC=0 -DY_VEC=0 -DMC_BYTEWISE=1"},
        {"sdpa", "-DTILE=16 -DGROUP=128 -DMAX_KV=4096 -DMAX_D=256 -DFLASH_WARPS=4 -DFLASH_V_SMEM=0 -DFLASH_DV_WORDS=8 -DFLASH_D_WORDS=8 -DFLASH_ROWS=4 -DFLASH_MAX_SPLITS=64 -DDT_Q=0 -DDT_K=0 "
                 "-DDT_V=0 -DDT_O=0 -DMC_BYTEWISE=0"},
        {"sdpa", "-DTILE=16 -DGROUP=128 -DMAX_KV=4096 -DMAX_D=256 -DFLASH_WARPS=4 -DFLASH_V_SMEM=1 -DFLASH_DV_WORDS=1 -DFLASH_D_WORDS=3 -DFLASH_ROWS=2 -DFLASH_MAX_SPLITS=64 -DDT_Q=1 -DDT_K=2 -DDT_V=1 "
                 "-DDT_O=2 -DMC_BYTEWISE=1"},
        {"softmax", "-DGROUP=64 -DROWS=1 -DCACHE_COLS=4096 -DDT_X=2 -DDT_Y=1 -DX_VEC=1 -DY_VEC=1 -DMC_BYTEWISE=0"},
        {"softmax", "-DGROUP=32 -DROWS=8 -DCACHE_COLS=1024 -DDT_X=1 -DDT_Y=0 -DX_VEC=1 -DY_VEC=1 -DMC_BYTEWISE=0"},
        {"gemm_wgmma", "--gpu-architecture=sm_90a -DSTAGES=4 -DINFLIGHT=1 -DDT_AB=2 -DDT_C=0 -DDT_BIAS=2 -DMC_BYTEWISE=1"},
        {"gemm_wgmma", "--gpu-architecture=sm_90a -DSTAGES=3 -DINFLIGHT=0 -DDT_AB=1 -DDT_C=1 -DDT_BIAS=0 -DMC_BYTEWISE=0"},
    };
    for (size_t i = 0; i < sizeof combos / sizeof combos[0]; i++) {
        unsigned char *bin;
        size_t size;
        compile_ok(combos[i].source, combos[i].options, 9, 0, &bin, &size);
        free(bin);
    }
}

/* A compile error reaches the caller with the compiler's words, not a crash or an empty cubin. */
static void test_compile_error_names_source(void **state)
{
    NEED_NVRTC();
    unsigned char *bin = (unsigned char *)"untouched";
    size_t size = 7;
    mc_err err = {0};
    /* gemm.cu without its tile options: THREADS is undefined */
    assert_int_equal(mc_cuda_compile("gemm", "-DDT_A=0", 9, 0, &bin, &size, &err), MC_ERR_BACKEND);
    assert_null(bin);
    assert_non_null(strstr(err.msg, "gemm.cu"));
    assert_int_equal(mc_cuda_compile("no_such_source", "", 9, 0, &bin, &size, &err), MC_ERR_INTERNAL);
}

static void test_stub_libraries_refused(void **state)
{
    assert_true(mc_cuda_path_is_stub("/usr/local/cuda/lib64/stubs/libcublas.so"));
    assert_false(mc_cuda_path_is_stub("/usr/lib/x86_64-linux-gnu/libcuda.so.1"));
    const char *stub = "/usr/local/cuda/lib64/stubs/libcuda.so";
    if (access(stub, R_OK) != 0) {
        printf("skipped: no toolkit stub at %s to try loading\n", stub);
        skip();
    }
    const char *const names[] = {stub, NULL};
    char path[256] = "";
    mc_err err = {0};
    assert_null(mc_cuda_dlopen_first(names, path, sizeof path, &err));
    assert_non_null(strstr(err.msg, "stub"));
}

static void test_sticky_errors(void **state)
{
    assert_true(mc_cuda_error_is_sticky(CUDA_ERROR_ILLEGAL_ADDRESS));
    assert_true(mc_cuda_error_is_sticky(CUDA_ERROR_MISALIGNED_ADDRESS));
    assert_true(mc_cuda_error_is_sticky(CUDA_ERROR_LAUNCH_FAILED));
    assert_false(mc_cuda_error_is_sticky(CUDA_ERROR_OUT_OF_MEMORY));
    assert_false(mc_cuda_error_is_sticky(CUDA_ERROR_INVALID_VALUE));
    assert_false(mc_cuda_error_is_sticky(CUDA_SUCCESS));
}

/* A sticky error ends the process (the pool then records a crash for that case only and starts a
 * clean worker), saying why on stderr; any other error comes back as a status. */
static void test_sticky_error_ends_the_worker(void **state)
{
    mc_err err = {0};
    assert_int_equal(mc_cuda_check(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel", &err), MC_ERR_BACKEND);
    assert_non_null(strstr(err.msg, "cuLaunchKernel"));
    assert_int_equal(mc_cuda_check(CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc", &err), MC_ERR_NOMEM);
    assert_int_equal(mc_cuda_check(CUDA_SUCCESS, "cuMemAlloc", &err), MC_OK);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        mc_err child = {0};
        mc_cuda_check(CUDA_ERROR_MISALIGNED_ADDRESS, "cuStreamSynchronize", &child);
        _exit(0); /* not reached when the error is handled as sticky */
    }
    close(fds[1]);
    char said[512] = "";
    ssize_t got = read(fds[0], said, sizeof said - 1);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_true(got > 0);
    assert_non_null(strstr(said, "cuStreamSynchronize"));
    assert_non_null(strstr(said, "context is lost"));
}

static void test_throttle_reasons(void **state)
{
    assert_false(mc_cuda_gpu_throttled(0));
    assert_false(mc_cuda_gpu_throttled(0x1 | 0x2)); /* idle, application clocks: not throttling */
    assert_true(mc_cuda_gpu_throttled(0x4));        /* software power cap */
    assert_true(mc_cuda_gpu_throttled(0x40));       /* hardware thermal slowdown */
    char text[160];
    mc_cuda_gpu_sample s = {.valid = true, .sm_mhz = 1980, .mem_mhz = 3201, .temp_c = 41, .reasons = 0x24};
    mc_cuda_gpu_sample_text(&s, text, sizeof text);
    assert_string_equal(text, "sm 1980 MHz, mem 3201 MHz, 41 C, throttled: sw-power-cap sw-thermal");
    s.valid = false;
    mc_cuda_gpu_sample_text(&s, text, sizeof text);
    assert_string_equal(text, "gpu clocks unknown (no NVML)");
}

/* The gate check reads `requires` through has_features: "sm_80" is 8.0 or newer, anything else no. */
static void test_compute_capability_features(void **state)
{
    assert_true(mc_cuda_has_features("sm_80", 9, 0));
    assert_true(mc_cuda_has_features("sm_80", 8, 0));
    assert_true(mc_cuda_has_features("sm_80,sm_75", 8, 6));
    assert_false(mc_cuda_has_features("sm_80", 7, 5));
    assert_false(mc_cuda_has_features("sm_90", 8, 9));
    assert_false(mc_cuda_has_features("sm_80,sm_90", 8, 9));
    assert_false(mc_cuda_has_features("avx2", 9, 0)); /* a CPU feature is no device's */
    assert_false(mc_cuda_has_features("sm_8x", 9, 0));
    assert_false(mc_cuda_has_features("sm_", 9, 0));
    assert_true(mc_cuda_has_features("", 9, 0));
    assert_true(mc_cuda_has_features("sm_90a", 9, 0)); /* arch-specific: that capability only */
    assert_false(mc_cuda_has_features("sm_90a", 10, 0));
    assert_false(mc_cuda_has_features("sm_90a", 8, 9));
    assert_false(mc_cuda_has_features("sm_90b", 9, 0));
}

/* The index of the kernel named `name` among the dispatcher's, or -1. */
static int dispatch_index(const mc_variant *const *kernels, int count, const char *name)
{
    for (int i = 0; i < count; i++)
        if (strcmp(kernels[i]->name, name) == 0)
            return i;
    return -1;
}

/* The cuda GEMM dispatcher's own choices: every kernel that runs, except that mma.sync's 128 x 256
 * tiles give way to wgmma's where wgmma runs (a 9.0 device); elsewhere they are its choice. */
static void test_dispatch_prefers_wgmma(void **state)
{
    const mc_dispatch_info *d = mc_variant_gemm_cuda_dispatch.dispatch;
    int count = 0;
    const mc_variant *const *kernels = d->accepts(&count);
    const int wide = dispatch_index(kernels, count, "gemm_cuda_mma_f16_128x256");
    const int wgmma = dispatch_index(kernels, count, "gemm_cuda_wgmma_f16_128x256");
    assert_true(wide >= 0 && wgmma >= 0 && count <= 8);
    bool runnable[8], may[8];
    for (int i = 0; i < count; i++)
        runnable[i] = true;
    d->may_choose(runnable, may);
    for (int i = 0; i < count; i++)
        assert_int_equal(may[i], i != wide);
    runnable[wgmma] = false; /* an sm_80 device */
    d->may_choose(runnable, may);
    for (int i = 0; i < count; i++)
        assert_int_equal(may[i], i != wgmma);
}

/* MC_GEMM_KERNEL naming no kernel of the cuda dispatcher is a configuration error that lists every
 * valid name (decided before any device is touched). */
static void test_dispatch_unknown_kernel_lists_names(void **state)
{
    const char *old = getenv("MC_GEMM_KERNEL");
    char saved[128] = "";
    if (old)
        snprintf(saved, sizeof saved, "%s", old);
    setenv("MC_GEMM_KERNEL", "gemm_cuda_nonesuch", 1);
    mc_kernel_ctx kc;
    memset(&kc, 0, sizeof kc);
    mc_args args;
    memset(&args, 0, sizeof args);
    mc_err err;
    memset(&err, 0, sizeof err);
    const mc_status st = mc_variant_gemm_cuda_dispatch.run(&kc, &args, &err);
    if (old)
        setenv("MC_GEMM_KERNEL", saved, 1);
    else
        unsetenv("MC_GEMM_KERNEL");
    assert_int_equal(st, MC_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "gemm_cuda_nonesuch"));
    int count = 0;
    const mc_variant *const *kernels = mc_variant_gemm_cuda_dispatch.dispatch->accepts(&count);
    for (int i = 0; i < count; i++)
        assert_non_null(strstr(err.msg, kernels[i]->name));
}

/* Without a device the probe says so, in words a user can act on, and never crashes. */
static void test_probe_reason_without_device(void **state)
{
    if (fx.ctx) {
        printf("skipped: this machine has a CUDA device\n");
        skip();
    }
    assert_true(strncmp(fx.reason, "no CUDA", 7) == 0 || strstr(fx.reason, "MC_CUDA_DEVICE") != NULL);
}

/* ---- device side ---- */

static void test_round_trip_with_offsets(void **state)
{
    NEED_DEVICE();
    uint8_t src[256], back[256];
    mc_buf *b;
    mc_err err = {0};
    for (int i = 0; i < 256; i++)
        src[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(fx.be->alloc(fx.ctx, sizeof src, &b, &err), MC_OK);
    assert_int_equal(fx.be->upload(fx.ctx, b, 0, src, sizeof src, &err), MC_OK);
    const uint8_t patch[5] = {0xDE, 0xAD, 0xBE, 0xEF, 0x01};
    assert_int_equal(fx.be->upload(fx.ctx, b, 37, patch, sizeof patch, &err), MC_OK);
    memcpy(src + 37, patch, sizeof patch);
    assert_int_equal(fx.be->download(fx.ctx, b, 0, back, sizeof back, &err), MC_OK);
    assert_memory_equal(back, src, sizeof src);
    assert_int_equal(fx.be->upload(fx.ctx, b, 250, src, 7, &err), MC_ERR_INTERNAL);
    assert_int_equal(fx.be->download(fx.ctx, b, 257, back, 1, &err), MC_ERR_INTERNAL);
    fx.be->free(fx.ctx, b);
}

static void test_timer_needs_a_kernel(void **state)
{
    NEED_DEVICE();
    mc_err err = {0};
    double ns = -1;
    assert_int_equal(fx.be->timer_begin(fx.ctx, &err), MC_OK);
    assert_int_equal(fx.be->timer_end(fx.ctx, &ns, &err), MC_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "no kernel"));
}

static void test_program_hashes(void **state)
{
    NEED_DEVICE();
    const char *h1 = mc_cuda_program_hash(fx.ctx, "gemm_cuda_tiled_32x32x8");
    const char *h2 = mc_cuda_program_hash(fx.ctx, "gemm_cuda_tiled_128x128x16");
    assert_non_null(h1);
    assert_non_null(h2);
    assert_true(mc_code_hash_is_real(h1));
    assert_string_not_equal(h1, h2);
    assert_ptr_equal(h1, mc_cuda_program_hash(fx.ctx, "gemm_cuda_tiled_32x32x8"));
    const char *d = mc_cuda_program_hash(fx.ctx, "gemm_cuda_dispatch"); /* its kernels' identities together */
    assert_non_null(d);
    assert_true(mc_code_hash_is_real(d));
    assert_string_not_equal(d, h1);
    assert_null(mc_cuda_program_hash(fx.ctx, "no_such_variant"));
}

static int refused_loads;

/* The driver of a device that loads none of the cubins it is given (as an sm_80 or a 10.0 device
 * refuses the wgmma GEMM's sm_90a cubin: CUDA_ERROR_NO_BINARY_FOR_GPU). */
static CUresult CUDAAPI refuse_load(CUmodule *module, const void *image)
{
    (void)image;
    *module = NULL;
    refused_loads++;
    return CUDA_ERROR_NO_BINARY_FOR_GPU;
}

/* A variant's identity is its canonical build's cubin, which need not load on this device: the wgmma
 * program (sm_90a) on any device but a 9.0 one, and so the GEMM dispatcher that combines it. Without
 * it every dispatcher row of such a device was stored unhashable, and each result compiled the
 * wgmma program again. (Failed before mc_cuda_program_hash took the hash from the compile.) */
static void test_program_hash_without_loading(void **state)
{
    NEED_NVRTC();
    mc_cuda_driver api = {.module_load = refuse_load};
    mc_backend_ctx ctx = {.api = &api, .info = {.name = "no device (sm_80, loads nothing)", .cc_major = 8}};
    refused_loads = 0;
    const char *w = mc_cuda_program_hash(&ctx, "gemm_cuda_wgmma_f16_128x256");
    assert_non_null(w);
    assert_true(mc_code_hash_is_real(w));
    assert_int_equal(refused_loads, 1);
    assert_ptr_equal(w, mc_cuda_program_hash(&ctx, "gemm_cuda_wgmma_f16_128x256")); /* kept: no new compile */
    assert_int_equal(refused_loads, 1);
    const char *d = mc_cuda_program_hash(&ctx, "gemm_cuda_dispatch");
    assert_non_null(d);
    assert_true(mc_code_hash_is_real(d));
    assert_string_not_equal(d, w);
    assert_int_equal(ctx.n_modules, 0); /* nothing was loaded, so nothing is cached as loaded */
    mc_cuda_cache_free(&ctx);
}

/* The wgmma probe says no, with the reason, unless the device is 9.0, NVRTC can build sm_90a and a
 * block may have the 193 KiB of shared memory the kernel takes (an H100 or H200 allows 227). */
static void assert_probe_says(const mc_variant *v, mc_backend_ctx *ctx, const char *words)
{
    const char *why = v->probe(ctx);
    assert_non_null(why);
    assert_non_null(strstr(why, words));
}

static void test_wgmma_probe_reasons(void **state)
{
    mc_backend_ctx ctx = {.info = {.cc_major = 9, .cc_minor = 0, .nvrtc_major = 13, .shared_optin_bytes = 232448}};
    const mc_variant *v = &mc_variant_gemm_cuda_wgmma_f16_128x256;
#ifdef MC_CUDA_BROKEN_GATE
    assert_non_null(v->probe(&ctx));
#else
    assert_null(v->probe(&ctx));
    ctx.info.cc_minor = 9; /* an Ada card (8.9) or anything but 9.0 */
    ctx.info.cc_major = 8;
    assert_probe_says(v, &ctx, "9.0 exactly");
    ctx.info.cc_major = 10;
    ctx.info.cc_minor = 0;
    assert_probe_says(v, &ctx, "9.0 exactly");
    ctx.info.cc_major = 9;
    ctx.info.nvrtc_major = 11;
    assert_probe_says(v, &ctx, "NVRTC 12.0");
    ctx.info.nvrtc_major = 12;
    ctx.info.shared_optin_bytes = 101376; /* an sm_86-sized limit */
    assert_probe_says(v, &ctx, "shared memory");
#endif
}

static void test_describe_names_device(void **state)
{
    NEED_DEVICE();
    char line[512];
    fx.be->describe(fx.ctx, line, sizeof line);
    assert_non_null(strstr(line, mc_cuda_device(fx.ctx)->name));
    assert_non_null(strstr(line, "sm_"));
    /* the timer's definition sits in the first two fields: the machine fingerprint keeps those */
    const char *second = strchr(strchr(line, ',') + 1, ',');
    assert_non_null(second);
    assert_non_null(strstr(line, "timer cuda-events-batch"));
    assert_true(strstr(line, "timer cuda-events-batch") < second);
}

/* Not a test: `test_cuda --copy-bandwidth MIB [CALLS]` prints the device's copy bandwidth, each
 * sample a batch of CALLS back-to-back copies (default 1: one copy timed alone). */
static int print_copy_bandwidth(const char *mib_text, const char *calls_text)
{
    const int calls = calls_text && atoi(calls_text) > 0 ? atoi(calls_text) : 1;
    group_setup(NULL);
    if (!fx.ctx) {
        printf("cuda copy bandwidth: no CUDA device: %s\n", fx.reason);
        return 2;
    }
    const size_t bytes = (size_t)atoi(mib_text) << 20;
    double gbs = 0;
    mc_err err = {0};
    mc_status st = mc_cuda_copy_bandwidth(fx.ctx, bytes, calls, &gbs, &err);
    if (st)
        printf("cuda copy bandwidth: %s\n", err.msg);
    else
        printf("cuda copy bandwidth: %.1f GB/s (%s, %zu MiB, read + written bytes, median of 7, batches of %d)\n",
               gbs, mc_cuda_device(fx.ctx)->name, bytes >> 20, calls);
    group_teardown(NULL);
    return st ? 1 : 0;
}

#endif

/* Built without the backend, the one test says so and is skipped. */
static void test_backend_built(void **state)
{
#ifndef MC_HAVE_CUDA
    printf("skipped: %s\n", fx.reason);
    skip();
#endif
}

int main(int argc, char **argv)
{
#ifdef MC_HAVE_CUDA
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "--copy-bandwidth") == 0)
        return print_copy_bandwidth(argv[2], argc == 4 ? argv[3] : NULL);
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backend_built),
#ifdef MC_HAVE_CUDA
        cmocka_unit_test(test_programs_compile_reproducibly),
        cmocka_unit_test(test_case_options_compile),
        cmocka_unit_test(test_compile_error_names_source),
        cmocka_unit_test(test_stub_libraries_refused),
        cmocka_unit_test(test_sticky_errors),
        cmocka_unit_test(test_sticky_error_ends_the_worker),
        cmocka_unit_test(test_throttle_reasons),
        cmocka_unit_test(test_compute_capability_features),
        cmocka_unit_test(test_dispatch_prefers_wgmma),
        cmocka_unit_test(test_dispatch_unknown_kernel_lists_names),
        cmocka_unit_test(test_wgmma_probe_reasons),
        cmocka_unit_test(test_probe_reason_without_device),
        cmocka_unit_test(test_round_trip_with_offsets),
        cmocka_unit_test(test_timer_needs_a_kernel),
        cmocka_unit_test(test_program_hashes),
        cmocka_unit_test(test_program_hash_without_loading),
        cmocka_unit_test(test_describe_names_device),
#endif
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
