/* kernels/cuda/backend_cuda.h: what the CUDA variants need from their backend: the device, functions
 * compiled by NVRTC from the embedded .cu sources and cached, launches on the worker's stream that
 * the device timer sees, scratch buffers, and tensor arguments.
 * SPDX-License-Identifier: MIT */
#ifndef MC_BACKEND_CUDA_H
#define MC_BACKEND_CUDA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cuda.h>

#include "core/variant.h"

#define MC_CUDA_OPTIONS_LEN 512 /* longest option string a variant composes */

/* The device a context runs on, as queried once at init. */
typedef struct mc_cuda_device_info {
    char name[128];
    int ordinal;              /* CUDA device number */
    int cc_major, cc_minor;   /* compute capability */
    int sms;                  /* multiprocessors */
    int driver_version;       /* cuDriverGetVersion: 13000 for 13.0 */
    int nvrtc_major, nvrtc_minor;
    size_t global_bytes;
    int max_threads_block;
    int shared_optin_bytes;   /* shared memory a block may opt in to */
} mc_cuda_device_info;

/* A tensor as a kernel argument (common.cu's mc_t): byte base, byte offset, extents, byte strides. */
typedef struct mc_cuda_tensor {
    CUdeviceptr base;
    int64_t off;
    int64_t ne[4];
    int64_t nb[4];
} mc_cuda_tensor;

/* What identifies a variant's code: its canonical build (f32 or f16 tensors, aligned bases), or, for
 * a dispatcher, the programs of every kernel it may run, together. */
typedef struct mc_cuda_program_def {
    const char *program; /* the variant's name: the key mc_cuda_program_hash takes */
    const char *source;  /* kernels/cuda/<source>.cu; NULL for a dispatcher */
    const char *options; /* the canonical options */
    const char *const *combines; /* a dispatcher's: its kernels' program names, NULL-terminated */
} mc_cuda_program_def;

/* NULL-terminated, in registry_cuda.c. */
extern const mc_cuda_program_def *const mc_cuda_programs[];

const mc_cuda_device_info *mc_cuda_device(mc_backend_ctx *ctx);

/* NVRTC: compiles common.cu + <source>.cu with `options` ("-DX=1 -DY=2") for sm_<major><minor> into
 * a cubin (malloc'd, caller frees). Needs no device: the host-side tests call it. A compile failure
 * records the compiler's log in err. */
mc_status mc_cuda_compile(const char *source, const char *options, int cc_major, int cc_minor, unsigned char **cubin,
                          size_t *size, mc_err *err);

/* Function `kernel` of (source, options), compiled and loaded once per context. */
mc_status mc_cuda_function(mc_backend_ctx *ctx, const char *source, const char *options, const char *kernel,
                           CUfunction *out, mc_err *err);

/* Launches on the worker's stream; every launch goes through here so the device timer sees it.
 * params: cuLaunchKernel's array of pointers to the arguments. */
mc_status mc_cuda_launch(mc_backend_ctx *ctx, CUfunction f, const unsigned grid[3], const unsigned block[3],
                         unsigned shared_bytes, void **params, mc_err *err);

/* Lets f take `bytes` of dynamic shared memory per block (above the default 48 KiB the driver
 * must be told first); call before launching f with that much. */
mc_status mc_cuda_function_allow_shared(mc_backend_ctx *ctx, CUfunction f, unsigned bytes, mc_err *err);

/* A device buffer of at least `bytes` (slot 0..3) that lives as long as the context. */
mc_status mc_cuda_scratch(mc_backend_ctx *ctx, int slot, size_t bytes, CUdeviceptr *out, mc_err *err);

/* The worker's stream (peers such as cuBLAS launch on it too). */
CUstream mc_cuda_stream(mc_backend_ctx *ctx);
/* Peers that launch work outside mc_cuda_launch say so, so the timer knows something ran. */
void mc_cuda_note_launch(mc_backend_ctx *ctx);

/* A failed driver call into err ("what: CUDA_ERROR_X"); a sticky error (a kernel faulted) ends the
 * process after saying so on stderr: the context is lost, the pool records a crash for this case
 * and the next worker starts clean. */
mc_status mc_cuda_check(CUresult rc, const char *what, mc_err *err);

/* Identity of a variant's code: 16 hex digits of FNV-1a over the cubin of its canonical build
 * (mc_cuda_program_def) and the device's name (a dispatcher's: over its kernels' identities); NULL
 * when the name is unknown or a build fails. A build this device cannot load (sm_90a's elsewhere)
 * still has one: identity needs the cubin, not the module. The string lives as long as ctx. */
const char *mc_cuda_program_hash(mc_backend_ctx *ctx, const char *program);

/* Device-to-device copy bandwidth (cuMemcpyDtoDAsync of `bytes`, read + written bytes over the
 * event-timed copy, median of 7 after a warm-up), in GB/s: the roof of bandwidth-bound GPU rows.
 * Each sample times a batch of `calls` back-to-back copies (as cases are timed), per copy. */
mc_status mc_cuda_copy_bandwidth(mc_backend_ctx *ctx, size_t bytes, int calls, double *gbs /* out */, mc_err *err);

/* Does compute capability major.minor have every feature of `requires`, a comma-separated list of
 * "sm_XY" (capability X.Y or newer)? An unknown feature name is never had. */
bool mc_cuda_has_features(const char *requires, int major, int minor);

/* ---- tensors and options ---- */

mc_cuda_tensor mc_cuda_tensor_of(const mc_tensor *t);
/* common.cu's dtype code of a plain float dtype (0 f32, 1 f16, 2 bf16). */
int mc_cuda_dtype_code(mc_dtype dt);
bool mc_cuda_plain_float(mc_dtype dt);
/* True when the view's base is not a multiple of its element size (kernels then go byte by byte). */
bool mc_cuda_needs_bytewise(const mc_tensor *t);
/* Appends printf-style text to an option string of MC_CUDA_OPTIONS_LEN bytes. */
void mc_cuda_options_add(char *options, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ceil(n / d) */
unsigned mc_cuda_blocks(int64_t n, int64_t d);

#endif
