/* kernels/cuda/nvml_cuda.c: NVML through dlopen, declared here (the toolkit ships no nvml.h):
 * nvmlInit_v2, a handle by PCI bus id, SM and memory clocks, temperature, clock event reasons.
 * SPDX-License-Identifier: MIT */
#include "kernels/cuda/nvml_cuda.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "kernels/cuda/cuda_api.h"

typedef int nvml_return;  /* nvmlReturn_t: 0 is NVML_SUCCESS */
typedef void *nvml_device; /* nvmlDevice_t */
enum { NVML_CLOCK_SM = 1, NVML_CLOCK_MEM = 2, NVML_TEMPERATURE_GPU = 0 };

/* NVML's clock event reason bits (nvmlClocksEventReason*) that mean throttling. */
enum {
    NVML_REASON_SW_POWER_CAP = 0x4,
    NVML_REASON_HW_SLOWDOWN = 0x8,
    NVML_REASON_SW_THERMAL = 0x20,
    NVML_REASON_HW_THERMAL = 0x40,
    NVML_REASON_HW_POWER_BRAKE = 0x80,
};

typedef struct nvml_api {
    nvml_return (*init)(void);
    nvml_return (*by_pci)(const char *bus_id, nvml_device *out);
    nvml_return (*clock)(nvml_device d, int type, unsigned *mhz);
    nvml_return (*temperature)(nvml_device d, int sensor, unsigned *c);
    nvml_return (*reasons)(nvml_device d, unsigned long long *bits);
} nvml_api;

static nvml_api api;
static bool api_loaded;

static bool nvml_sym(void *lib, const char *name, void *slot)
{
    void *p = dlsym(lib, name);
    if (p)
        memcpy(slot, &p, sizeof p);
    return p != NULL;
}

static const char *nvml_load(void)
{
    if (api_loaded)
        return NULL;
    static const char *const names[] = {"libnvidia-ml.so.1", NULL};
    char path[256];
    mc_err err = {0};
    void *lib = mc_cuda_dlopen_first(names, path, sizeof path, &err);
    if (!lib)
        return "libnvidia-ml.so.1 not loadable";
    if (!nvml_sym(lib, "nvmlInit_v2", &api.init) || !nvml_sym(lib, "nvmlDeviceGetHandleByPciBusId_v2", &api.by_pci) ||
        !nvml_sym(lib, "nvmlDeviceGetClockInfo", &api.clock) ||
        !nvml_sym(lib, "nvmlDeviceGetTemperature", &api.temperature) ||
        (!nvml_sym(lib, "nvmlDeviceGetCurrentClocksEventReasons", &api.reasons) &&
         !nvml_sym(lib, "nvmlDeviceGetCurrentClocksThrottleReasons", &api.reasons)))
        return "libnvidia-ml.so.1 lacks a function we need";
    if (api.init() != 0)
        return "nvmlInit_v2 failed";
    api_loaded = true;
    return NULL;
}

void mc_cuda_nvml_open(mc_cuda_nvml *n, const char *pci_bus_id)
{
    memset(n, 0, sizeof *n);
    const char *why = nvml_load();
    nvml_device d = NULL;
    if (!why && api.by_pci(pci_bus_id, &d) != 0)
        why = "NVML does not know the device's PCI bus id";
    if (why)
        snprintf(n->why, sizeof n->why, "%s", why);
    else
        n->device = d;
}

void mc_cuda_nvml_sample(const mc_cuda_nvml *n, mc_cuda_gpu_sample *out)
{
    memset(out, 0, sizeof *out);
    if (!n->device)
        return;
    unsigned long long bits = 0;
    out->valid = api.clock(n->device, NVML_CLOCK_SM, &out->sm_mhz) == 0 &&
                 api.clock(n->device, NVML_CLOCK_MEM, &out->mem_mhz) == 0 &&
                 api.temperature(n->device, NVML_TEMPERATURE_GPU, &out->temp_c) == 0 &&
                 api.reasons(n->device, &bits) == 0;
    out->reasons = bits;
}

typedef struct reason_name {
    uint64_t bit;
    const char *name;
} reason_name;

static const reason_name throttle_reasons[] = {
    {NVML_REASON_SW_POWER_CAP, "sw-power-cap"}, {NVML_REASON_HW_SLOWDOWN, "hw-slowdown"},
    {NVML_REASON_SW_THERMAL, "sw-thermal"},     {NVML_REASON_HW_THERMAL, "hw-thermal"},
    {NVML_REASON_HW_POWER_BRAKE, "hw-power-brake"},
};

bool mc_cuda_gpu_throttled(uint64_t reasons)
{
    for (size_t i = 0; i < sizeof throttle_reasons / sizeof throttle_reasons[0]; i++)
        if (reasons & throttle_reasons[i].bit)
            return true;
    return false;
}

void mc_cuda_gpu_sample_text(const mc_cuda_gpu_sample *s, char *out, size_t len)
{
    if (!s->valid) {
        snprintf(out, len, "gpu clocks unknown (no NVML)");
        return;
    }
    int used = snprintf(out, len, "sm %u MHz, mem %u MHz, %u C, %s", s->sm_mhz, s->mem_mhz, s->temp_c,
                        mc_cuda_gpu_throttled(s->reasons) ? "throttled:" : "not throttled");
    for (size_t i = 0; i < sizeof throttle_reasons / sizeof throttle_reasons[0]; i++)
        if ((s->reasons & throttle_reasons[i].bit) && used > 0 && (size_t)used < len)
            used += snprintf(out + used, len - (size_t)used, " %s", throttle_reasons[i].name);
}
