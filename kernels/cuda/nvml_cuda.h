/* kernels/cuda/nvml_cuda.h: the GPU's clocks, temperature and throttle reasons through NVML
 * (libnvidia-ml.so.1, found with dlopen; absent, every sample reads "unknown").
 * SPDX-License-Identifier: MIT */
#ifndef MC_NVML_CUDA_H
#define MC_NVML_CUDA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One look at the GPU, taken at the end of a timed batch. */
typedef struct mc_cuda_gpu_sample {
    bool valid;        /* NVML answered */
    unsigned sm_mhz;   /* SM clock */
    unsigned mem_mhz;  /* memory clock */
    unsigned temp_c;   /* GPU temperature */
    uint64_t reasons;  /* NVML's clock event (throttle) reason bits */
} mc_cuda_gpu_sample;

/* NVML's handle of one device, or none. */
typedef struct mc_cuda_nvml {
    void *device; /* nvmlDevice_t; NULL when NVML is unavailable */
    char why[160]; /* why not, when device is NULL */
} mc_cuda_nvml;

/* Opens NVML for the device with this PCI bus id ("0000:19:00.0"); on failure device stays NULL
 * and why says so (a GPU without NVML still runs: its samples are simply unknown). */
void mc_cuda_nvml_open(mc_cuda_nvml *n, const char *pci_bus_id);
/* Takes a sample (valid = false when NVML is unavailable or fails). */
void mc_cuda_nvml_sample(const mc_cuda_nvml *n, mc_cuda_gpu_sample *out);
/* True when the reasons say the clock was held down by power or heat (software or hardware power
 * cap, thermal slowdown, power brake); idle and application-clock settings are not throttling. */
bool mc_cuda_gpu_throttled(uint64_t reasons);
/* "sm 1980 MHz, mem 3201 MHz, 41 C, not throttled" (or "throttled: sw-power hw-thermal"). */
void mc_cuda_gpu_sample_text(const mc_cuda_gpu_sample *s, char *out, size_t len);

#endif
