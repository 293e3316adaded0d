/* kernels/cuda/cuda_api.c: finds libcuda.so.1 and NVRTC with dlopen and fills their function tables.
 * A toolkit's stubs/ libraries (link-time stand-ins that load, then fail every call with status 50)
 * are refused by path, whatever LD_LIBRARY_PATH says.
 * SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* dlinfo's RTLD_DI_LINKMAP */
#include "kernels/cuda/cuda_api.h"

#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool mc_cuda_path_is_stub(const char *path)
{
    return strstr(path, "/stubs/") != NULL;
}

void *mc_cuda_dlopen_first(const char *const *names, char *path, size_t path_len, mc_err *err)
{
    char tried[512] = "";
    for (int i = 0; names[i]; i++) {
        void *lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        const char *why = lib ? NULL : dlerror();
        struct link_map *map = NULL;
        if (lib && dlinfo(lib, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name && mc_cuda_path_is_stub(map->l_name)) {
            why = "a toolkit stub library (stubs/), refused";
            dlclose(lib);
            lib = NULL;
        }
        if (lib) {
            snprintf(path, path_len, "%s", map && map->l_name && map->l_name[0] ? map->l_name : names[i]);
            return lib;
        }
        size_t used = strlen(tried);
        if (!why || !strstr(why, names[i])) /* dlerror names the file itself, mostly */
            snprintf(tried + used, sizeof tried - used, "%s%s: %.150s", used ? "; " : "", names[i], why ? why : "?");
        else
            snprintf(tried + used, sizeof tried - used, "%s%.200s", used ? "; " : "", why);
    }
    mc_err_set(err, MC_ERR_UNSUPPORTED, "%s", tried);
    return NULL;
}

/* dlsym into *slot; false (naming the symbol in err) when the library lacks it. */
static bool sym(void *lib, const char *name, void *slot, mc_err *err)
{
    void *p = dlsym(lib, name);
    if (!p) {
        mc_err_set(err, MC_ERR_UNSUPPORTED, "the library has no %s (too old?)", name);
        return false;
    }
    memcpy(slot, &p, sizeof p);
    return true;
}

static mc_cuda_driver driver;
static mc_status driver_status = MC_STATUS_COUNT; /* not tried yet */
static mc_err driver_err;

static mc_status driver_fill(mc_err *err)
{
    static const char *const names[] = {"libcuda.so.1", NULL};
    mc_err why = {0};
    driver.lib = mc_cuda_dlopen_first(names, driver.path, sizeof driver.path, &why);
    if (!driver.lib)
        return mc_err_set(err, MC_ERR_UNSUPPORTED, "no CUDA driver (%s)", why.msg);
    void *l = driver.lib;
    bool ok = sym(l, "cuInit", &driver.init, err) && sym(l, "cuDriverGetVersion", &driver.driver_version, err) &&
              sym(l, "cuDeviceGetCount", &driver.device_count, err) && sym(l, "cuDeviceGet", &driver.device_get, err) &&
              sym(l, "cuDeviceGetName", &driver.device_name, err) &&
              sym(l, "cuDeviceGetAttribute", &driver.device_attribute, err) &&
              sym(l, "cuDeviceTotalMem_v2", &driver.device_total_mem, err) &&
              sym(l, "cuDeviceGetPCIBusId", &driver.device_pci_bus_id, err) &&
              sym(l, "cuDevicePrimaryCtxRetain", &driver.primary_retain, err) &&
              sym(l, "cuDevicePrimaryCtxRelease_v2", &driver.primary_release, err) &&
              sym(l, "cuCtxSetCurrent", &driver.ctx_set_current, err) && sym(l, "cuMemAlloc_v2", &driver.mem_alloc, err) &&
              sym(l, "cuMemFree_v2", &driver.mem_free, err) && sym(l, "cuMemcpyHtoDAsync_v2", &driver.memcpy_htod, err) &&
              sym(l, "cuMemcpyDtoHAsync_v2", &driver.memcpy_dtoh, err) &&
              sym(l, "cuMemcpyDtoDAsync_v2", &driver.memcpy_dtod, err) &&
              sym(l, "cuStreamCreate", &driver.stream_create, err) &&
              sym(l, "cuStreamDestroy_v2", &driver.stream_destroy, err) &&
              sym(l, "cuStreamSynchronize", &driver.stream_sync, err) &&
              sym(l, "cuEventCreate", &driver.event_create, err) && sym(l, "cuEventRecord", &driver.event_record, err) &&
              sym(l, "cuEventSynchronize", &driver.event_sync, err) &&
              sym(l, "cuEventElapsedTime_v2", &driver.event_elapsed, err) &&
              sym(l, "cuEventDestroy_v2", &driver.event_destroy, err) &&
              sym(l, "cuModuleLoadData", &driver.module_load, err) &&
              sym(l, "cuModuleUnload", &driver.module_unload, err) &&
              sym(l, "cuModuleGetFunction", &driver.module_function, err) &&
              sym(l, "cuFuncGetAttribute", &driver.func_attribute, err) &&
              sym(l, "cuFuncSetAttribute", &driver.func_set_attribute, err) &&
              sym(l, "cuLaunchKernel", &driver.launch, err) && sym(l, "cuGetErrorName", &driver.error_name, err);
    return ok ? MC_OK : err->status;
}

mc_status mc_cuda_driver_load(const mc_cuda_driver **out, mc_err *err)
{
    if (driver_status == MC_STATUS_COUNT)
        driver_status = driver_fill(&driver_err);
    if (driver_status)
        return mc_err_set(err, driver_status, "%s", driver_err.msg);
    *out = &driver;
    return MC_OK;
}

static mc_cuda_nvrtc nvrtc;
static mc_status nvrtc_status = MC_STATUS_COUNT;
static mc_err nvrtc_err;

static mc_status nvrtc_fill(mc_err *err)
{
    const char *own = getenv("MC_CUDA_NVRTC");
    const char *const names[] = {own && *own ? own : "libnvrtc.so.13", "libnvrtc.so.13", "libnvrtc.so", NULL};
    mc_err why = {0};
    nvrtc.lib = mc_cuda_dlopen_first(names, nvrtc.path, sizeof nvrtc.path, &why);
    if (!nvrtc.lib)
        return mc_err_set(err, MC_ERR_UNSUPPORTED, "no NVRTC, the run-time CUDA compiler (%s; MC_CUDA_NVRTC=<file> names one)",
                          why.msg);
    void *l = nvrtc.lib;
    bool ok = sym(l, "nvrtcVersion", &nvrtc.version, err) && sym(l, "nvrtcCreateProgram", &nvrtc.create, err) &&
              sym(l, "nvrtcCompileProgram", &nvrtc.compile, err) &&
              sym(l, "nvrtcGetProgramLogSize", &nvrtc.log_size, err) && sym(l, "nvrtcGetProgramLog", &nvrtc.log, err) &&
              sym(l, "nvrtcGetCUBINSize", &nvrtc.cubin_size, err) && sym(l, "nvrtcGetCUBIN", &nvrtc.cubin, err) &&
              sym(l, "nvrtcDestroyProgram", &nvrtc.destroy, err) &&
              sym(l, "nvrtcGetErrorString", &nvrtc.error_string, err);
    return ok ? MC_OK : err->status;
}

mc_status mc_cuda_nvrtc_load(const mc_cuda_nvrtc **out, mc_err *err)
{
    if (nvrtc_status == MC_STATUS_COUNT)
        nvrtc_status = nvrtc_fill(&nvrtc_err);
    if (nvrtc_status)
        return mc_err_set(err, nvrtc_status, "%s", nvrtc_err.msg);
    *out = &nvrtc;
    return MC_OK;
}

bool mc_cuda_error_is_sticky(CUresult rc)
{
    switch (rc) {
    case CUDA_ERROR_ILLEGAL_ADDRESS:
    case CUDA_ERROR_MISALIGNED_ADDRESS:
    case CUDA_ERROR_ILLEGAL_INSTRUCTION:
    case CUDA_ERROR_INVALID_ADDRESS_SPACE:
    case CUDA_ERROR_INVALID_PC:
    case CUDA_ERROR_HARDWARE_STACK_ERROR:
    case CUDA_ERROR_LAUNCH_FAILED:
    case CUDA_ERROR_LAUNCH_TIMEOUT:
    case CUDA_ERROR_ASSERT:
    case CUDA_ERROR_ECC_UNCORRECTABLE:
    case CUDA_ERROR_CONTEXT_IS_DESTROYED:
        return true;
    default:
        return false;
    }
}
