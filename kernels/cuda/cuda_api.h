/* kernels/cuda/cuda_api.h: the CUDA driver API and NVRTC as tables of functions found with dlopen at
 * run time, so the binary needs neither library to load, and the parent process never touches them.
 * SPDX-License-Identifier: MIT */
#ifndef MC_CUDA_API_H
#define MC_CUDA_API_H

#include <stdbool.h>
#include <stddef.h>

#include <cuda.h>
#include <nvrtc.h>

#include "core/status.h"

/* The driver API calls the backend makes (versioned names as cuda.h maps them, e.g. cuMemAlloc_v2). */
typedef struct mc_cuda_driver {
    void *lib;
    char path[256]; /* the library that was loaded */
    __typeof__(cuInit) *init;
    __typeof__(cuDriverGetVersion) *driver_version;
    __typeof__(cuDeviceGetCount) *device_count;
    __typeof__(cuDeviceGet) *device_get;
    __typeof__(cuDeviceGetName) *device_name;
    __typeof__(cuDeviceGetAttribute) *device_attribute;
    __typeof__(cuDeviceTotalMem) *device_total_mem;
    __typeof__(cuDeviceGetPCIBusId) *device_pci_bus_id;
    __typeof__(cuDevicePrimaryCtxRetain) *primary_retain;
    __typeof__(cuDevicePrimaryCtxRelease) *primary_release;
    __typeof__(cuCtxSetCurrent) *ctx_set_current;
    __typeof__(cuMemAlloc) *mem_alloc;
    __typeof__(cuMemFree) *mem_free;
    __typeof__(cuMemcpyHtoDAsync) *memcpy_htod;
    __typeof__(cuMemcpyDtoHAsync) *memcpy_dtoh;
    __typeof__(cuMemcpyDtoDAsync) *memcpy_dtod;
    __typeof__(cuStreamCreate) *stream_create;
    __typeof__(cuStreamDestroy) *stream_destroy;
    __typeof__(cuStreamSynchronize) *stream_sync;
    __typeof__(cuEventCreate) *event_create;
    __typeof__(cuEventRecord) *event_record;
    __typeof__(cuEventSynchronize) *event_sync;
    __typeof__(cuEventElapsedTime) *event_elapsed;
    __typeof__(cuEventDestroy) *event_destroy;
    __typeof__(cuModuleLoadData) *module_load;
    __typeof__(cuModuleUnload) *module_unload;
    __typeof__(cuModuleGetFunction) *module_function;
    __typeof__(cuFuncGetAttribute) *func_attribute;
    __typeof__(cuFuncSetAttribute) *func_set_attribute;
    __typeof__(cuLaunchKernel) *launch;
    __typeof__(cuGetErrorName) *error_name;
} mc_cuda_driver;

typedef struct mc_cuda_nvrtc {
    void *lib;
    char path[256];
    __typeof__(nvrtcVersion) *version;
    __typeof__(nvrtcCreateProgram) *create;
    __typeof__(nvrtcCompileProgram) *compile;
    __typeof__(nvrtcGetProgramLogSize) *log_size;
    __typeof__(nvrtcGetProgramLog) *log;
    __typeof__(nvrtcGetCUBINSize) *cubin_size;
    __typeof__(nvrtcGetCUBIN) *cubin;
    __typeof__(nvrtcDestroyProgram) *destroy;
    __typeof__(nvrtcGetErrorString) *error_string;
} mc_cuda_nvrtc;

/* Loads libcuda.so.1 (once per process); on failure says why in err (MC_ERR_UNSUPPORTED). */
mc_status mc_cuda_driver_load(const mc_cuda_driver **out, mc_err *err);
/* Loads NVRTC (libnvrtc.so.13, then libnvrtc.so; MC_CUDA_NVRTC names another file). */
mc_status mc_cuda_nvrtc_load(const mc_cuda_nvrtc **out, mc_err *err);

/* dlopen of the first of `names` that loads and is no toolkit stub (a library under a stubs/ folder
 * loads, then fails every call: never used). Writes the path found into path; NULL and why in err. */
void *mc_cuda_dlopen_first(const char *const *names, char *path, size_t path_len, mc_err *err);
/* True when a loaded library's path lies in a toolkit's stubs/ folder. */
bool mc_cuda_path_is_stub(const char *path);

/* True for the errors after which a CUDA context is lost for good (a kernel faulted: illegal or
 * misaligned address, illegal instruction, trap, launch failure): the process must not go on. */
bool mc_cuda_error_is_sticky(CUresult rc);

#endif
