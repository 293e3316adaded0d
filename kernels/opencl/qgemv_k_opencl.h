/* kernels/opencl/qgemv_k_opencl.h: the q4_K and q6_K OpenCL GEMV launch (qgemv_k.cl), exposed so a
 * test can build its planted-bug twins (MUTANT) beside the real variants.
 * SPDX-License-Identifier: MIT */
#ifndef MC_QGEMV_K_OPENCL_H
#define MC_QGEMV_K_OPENCL_H

#include "kernels/opencl/backend_opencl.h"

/* y = A x for A in q4_K or q6_K (g->a.dtype picks the kernel); mutant 0 is the variant, 1 and 2
 * are qgemv_k.cl's test-only wrong decodes. The caller has checked supports(). */
mc_status mc_opencl_qgemv_k_launch(mc_kernel_ctx *kc, const mc_gemv_args *g, int mutant, mc_err *err);

#endif
