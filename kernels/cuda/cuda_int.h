/* kernels/cuda/cuda_int.h: the CUDA backend context, shared by backend_cuda.c (device, buffers,
 * timer), program_cuda.c (NVRTC, module cache, hashes) and nvml_cuda.c; only tests/test_cuda.c
 * besides (a context without a device).
 * SPDX-License-Identifier: MIT */
#ifndef MC_CUDA_INT_H
#define MC_CUDA_INT_H

#include "kernels/cuda/backend_cuda.h"
#include "kernels/cuda/cuda_api.h"
#include "kernels/cuda/nvml_cuda.h"

#define MC_CUDA_SCRATCH_SLOTS 4
#define MC_CUDA_HASH_LEN 17 /* 16 hex digits and a NUL (MC_HASH_LEN) */

/* One loaded module: a source plus the options it was compiled with. */
typedef struct mc_cuda_module {
    char *source;
    char *options;
    CUmodule module;
    uint64_t cubin_hash; /* FNV-1a of the cubin */
} mc_cuda_module;

typedef struct mc_cuda_function_entry {
    int module; /* index into modules */
    char *name;
    CUfunction fn;
} mc_cuda_function_entry;

typedef struct mc_cuda_hash_entry {
    char hex[MC_CUDA_HASH_LEN];
} mc_cuda_hash_entry;

struct mc_backend_ctx {
    const mc_cuda_driver *api;
    CUdevice device;
    CUcontext context; /* the device's primary context, retained */
    CUstream stream;   /* this worker's one stream */
    mc_cuda_device_info info;

    mc_cuda_module *modules;
    int n_modules, cap_modules;
    mc_cuda_function_entry *functions;
    int n_functions, cap_functions;
    mc_cuda_hash_entry *hashes; /* one per mc_cuda_programs entry, allocated on first use */

    CUdeviceptr scratch[MC_CUDA_SCRATCH_SLOTS];
    size_t scratch_bytes[MC_CUDA_SCRATCH_SLOTS];

    /* device timer: events recorded on the stream around a batch of launches */
    CUevent ev_begin, ev_end;
    bool timing;
    int launches; /* since timer_begin */
    mc_cuda_nvml nvml;              /* clocks, temperature, throttle reasons per timed batch */
    mc_cuda_gpu_sample last_sample; /* taken at the last timer_end */
    int batches, throttled_batches; /* timed batches, and those NVML saw throttled (since the last note) */
    unsigned min_sm_mhz;            /* lowest SM clock NVML reported over those batches, 0 unknown */
    unsigned min_mem_mhz;           /* lowest memory clock likewise */
    unsigned max_temp_c;            /* highest temperature likewise */
    uint64_t reasons_seen;          /* NVML's throttle reason bits over those batches, or-ed */
    size_t ws_bytes;                /* the last same-size copy roof's bytes, and its bandwidth */
    double ws_roof_gbs;
    double roof_gbs;                /* copy bandwidth, measured on the first note (0: not yet, <0: failed) */
};

/* Unloads every cached module (called by shutdown). */
void mc_cuda_cache_free(mc_backend_ctx *ctx);

/* FNV-1a over bytes, from h (0xCBF29CE484222325 to start). */
uint64_t mc_cuda_fnv1a(uint64_t h, const void *data, size_t len);

#endif
