/* kernels/opencl/backend_opencl.h: what the OpenCL variants need from their backend: cached
 * programs and kernels, launches that the device timer sees, scratch buffers, argument helpers.
 * SPDX-License-Identifier: MIT */
#ifndef MC_BACKEND_OPENCL_H
#define MC_BACKEND_OPENCL_H

#include <stdbool.h>
#include <stddef.h>

#include <CL/cl.h>

#include "core/variant.h"

#define MC_OPENCL_OPTIONS_LEN 512 /* longest build-option string a variant composes */

/* The device a context runs on, as queried once at init. */
typedef struct mc_opencl_device_info {
    char platform[128];     /* platform name */
    char name[128];         /* device name */
    char vendor[128];       /* device vendor */
    char driver[64];        /* CL_DRIVER_VERSION */
    char c_version[64];     /* CL_DEVICE_OPENCL_C_VERSION */
    cl_uint compute_units;  /* CL_DEVICE_MAX_COMPUTE_UNITS */
    cl_ulong global_bytes;  /* global memory */
    cl_ulong local_bytes;   /* __local memory per work-group */
    cl_ulong max_alloc_bytes; /* largest single buffer */
    size_t max_wg;          /* largest work-group */
    bool fp16;              /* cl_khr_fp16: half arithmetic (our kernels only convert, so no one needs it) */
    bool gpu;               /* CL_DEVICE_TYPE_GPU */
    bool exact_divide;      /* CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT: programs then ask for IEEE divides */
} mc_opencl_device_info;

/* What identifies a variant's code: the program source it builds and the options of its canonical
 * build (f32 tensors, aligned bases). Each variant file defines one; registry_opencl.c lists them. */
typedef struct mc_opencl_program_def {
    const char *program; /* the variant's name: the key mc_opencl_program_hash takes */
    const char *source;  /* kernels/opencl/<source>.cl */
    const char *options; /* the canonical build options */
} mc_opencl_program_def;

/* NULL-terminated, in registry_opencl.c. */
extern const mc_opencl_program_def *const mc_opencl_programs[];

/* The device of a live context. */
const mc_opencl_device_info *mc_opencl_device(mc_backend_ctx *ctx);

/* Kernel `kernel` of program `source` built with `options`; programs and kernels are built once
 * per context and cached. A build failure records the compiler log in err. */
mc_status mc_opencl_kernel(mc_backend_ctx *ctx, const char *source, const char *options, const char *kernel,
                           cl_kernel *out, mc_err *err);

/* Fails (naming the kernel and both sizes) when the device cannot run `kernel` in work-groups of
 * `threads` work-items (CL_KERNEL_WORK_GROUP_SIZE: registers or __local memory run out). */
mc_status mc_opencl_check_group(mc_backend_ctx *ctx, cl_kernel kernel, size_t threads, mc_err *err);

/* Enqueues an NDRange of `dims` dimensions (local may be NULL). Every launch goes through here so
 * the device timer (first kernel's start to last kernel's end) sees it. */
mc_status mc_opencl_launch(mc_backend_ctx *ctx, cl_kernel k, cl_uint dims, const size_t *global,
                           const size_t *local, mc_err *err);

/* A device buffer of at least `bytes` that lives as long as the context (slot 0..3): scratch for
 * multi-stage kernels, grown on demand, never freed between calls (so timing loops do not allocate). */
mc_status mc_opencl_scratch(mc_backend_ctx *ctx, int slot, size_t bytes, cl_mem *out, mc_err *err);

/* Identity of the code a variant runs, 16 hex digits (the form of every code identity): FNV-1a over
 * CL_PROGRAM_BINARIES of the variant's canonical build (mc_opencl_program_def) where the compiler
 * reproduces that binary byte for byte, else over the compiler's inputs (PoCL embeds a temporary
 * file name in its binaries); both include platform, device and driver. `program` is the variant's
 * name. Builds what it needs on first use. NULL when the name is unknown or a build fails. The string
 * lives as long as ctx. */
const char *mc_opencl_program_hash(mc_backend_ctx *ctx, const char *program);

/* The device-to-device copy bandwidth (clEnqueueCopyBuffer of `bytes`, bytes read + written over the
 * profiled copy time, median of 7 after a warm-up), in GB/s: the ceiling that bandwidth-bound
 * kernels (GEMV, softmax) are judged against on this device. */
mc_status mc_opencl_copy_bandwidth(mc_backend_ctx *ctx, size_t bytes, double *gbs /* out */, mc_err *err);

/* ---- kernel arguments ---- */

/* Sets one argument and advances *arg. */
mc_status mc_opencl_arg(cl_kernel k, cl_uint *arg, size_t size, const void *value, mc_err *err);
/* Sets the four arguments of a tensor (buffer, byte offset, ne as long4, byte strides as long4). */
mc_status mc_opencl_arg_tensor(cl_kernel k, cl_uint *arg, const mc_tensor *t, mc_err *err);

/* OpenCL C dtype code of a plain float dtype (0 f32, 1 f16, 2 bf16; common.cl's MC_F32...). */
int mc_opencl_dtype_code(mc_dtype dt);
/* True for f32, f16, bf16: the dtypes common.cl loads and stores. */
bool mc_opencl_plain_float(mc_dtype dt);
/* True when the view's base offset and every stride of a dim longer than 1 are multiples of `bytes`. */
bool mc_opencl_tensor_aligned(const mc_tensor *t, int64_t bytes);
/* True when the view's base is not a multiple of its element size (then kernels go byte by byte). */
bool mc_opencl_needs_bytewise(const mc_tensor *t);

/* Appends printf-style text to a build-option string of MC_OPENCL_OPTIONS_LEN bytes. */
void mc_opencl_options_add(char *options, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Work-groups needed to cover n items in groups of `group`, times group (a global size). */
size_t mc_opencl_round_up(size_t n, size_t group);

#endif
