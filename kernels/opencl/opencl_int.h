/* kernels/opencl/opencl_int.h: the OpenCL backend context, shared by backend_opencl.c (device,
 * buffers, timer) and program_opencl.c (program cache, hashes); nothing else includes it.
 * SPDX-License-Identifier: MIT */
#ifndef MC_OPENCL_INT_H
#define MC_OPENCL_INT_H

#include "kernels/opencl/backend_opencl.h"

#define MC_OPENCL_SCRATCH_SLOTS 4
#define MC_OPENCL_HASH_LEN 17 /* 16 hex digits and a NUL (MC_HASH_LEN) */

/* One built program: a source plus the options it was built with. */
typedef struct mc_opencl_program {
    char *source;     /* name of the .cl source */
    char *options;    /* build options, as given */
    cl_program program;
} mc_opencl_program;

/* One kernel object of a cached program. */
typedef struct mc_opencl_kernel_entry {
    int program;      /* index into programs */
    char *name;
    cl_kernel kernel;
} mc_opencl_kernel_entry;

/* A variant's identity hash, in the slot of its program in mc_opencl_programs ("" until computed). */
typedef struct mc_opencl_hash_entry {
    char hex[MC_OPENCL_HASH_LEN];
} mc_opencl_hash_entry;

struct mc_backend_ctx {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue; /* in order, with profiling */
    mc_opencl_device_info info;

    mc_opencl_program *programs;
    int n_programs, cap_programs;
    mc_opencl_kernel_entry *kernels;
    int n_kernels, cap_kernels;
    mc_opencl_hash_entry *hashes; /* one per mc_opencl_programs entry, allocated on first use */
    int n_hashes;

    cl_mem scratch[MC_OPENCL_SCRATCH_SLOTS];
    size_t scratch_bytes[MC_OPENCL_SCRATCH_SLOTS];

    /* device timer: between timer_begin and timer_end every launch keeps its event */
    bool timing;
    cl_event *events;
    int n_events, cap_events;
    bool events_lost; /* an event could not be kept (out of memory): the timing is refused */
    double roof_gbs;  /* a GPU's copy bandwidth for timing_note (0: not measured yet, <0: failed) */
};

/* Releases every cached program and kernel (called by shutdown). */
void mc_opencl_cache_free(mc_backend_ctx *ctx);

/* Name of an OpenCL error code ("CL_OUT_OF_RESOURCES"), or "unknown error". */
const char *mc_opencl_error_name(cl_int code);

#endif
