/* kernels/cuda/registry_cuda.c: the cuda backend's variant table and the program each variant is
 * identified by, one row per line of variants_cuda.def.
 * SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "kernels/cuda/backend_cuda.h"

#define MC_CUDA_VARIANT(name, program)                                                                      \
    extern const mc_variant mc_variant_##name;                                                         \
    extern const mc_cuda_program_def mc_cuda_program_##program;
#define MC_CUDA_PEER(name) extern const mc_variant mc_variant_##name;
#include "variants_cuda.def"
#undef MC_CUDA_PEER
#undef MC_CUDA_VARIANT

const mc_variant *const mc_cuda_variants[] = {
#define MC_CUDA_VARIANT(name, program) &mc_variant_##name,
#define MC_CUDA_PEER(name) &mc_variant_##name,
#include "variants_cuda.def"
#undef MC_CUDA_PEER
#undef MC_CUDA_VARIANT
    NULL,
};

/* The variants' own code, in the variants' order (peers run cuBLAS: no program of ours, and they
 * come last): each variant's name is its program key (mc_cuda_program_hash). */
const mc_cuda_program_def *const mc_cuda_programs[] = {
#define MC_CUDA_VARIANT(name, program) &mc_cuda_program_##program,
#define MC_CUDA_PEER(name)
#include "variants_cuda.def"
#undef MC_CUDA_PEER
#undef MC_CUDA_VARIANT
    NULL,
};

/* The cuda backend's row (core/backend.h): listed in mc_backend_rows[] by CMakeLists.txt's MC_BACKENDS. */
extern const mc_backend mc_backend_cuda;
const mc_backend_row mc_backend_row_cuda = {
    .name = "cuda", .backend = &mc_backend_cuda, .variants = mc_cuda_variants,
};
