/* core/variant.h: the registration header. The one harness header kernels may include:
 * per-op argument structs, the kernel context and the variant record.
 * SPDX-License-Identifier: MIT */
#ifndef MC_VARIANT_H
#define MC_VARIANT_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "half.h"
#include "status.h"
#include "tensor.h"

/* One id per op, in CMakeLists.txt's MC_OPS order (MC_OP_GEMM, MC_OP_GEMV, MC_OP_SOFTMAX,
 * MC_OP_SDPA, then any MC_EXTRA_OPS): generated with the op table (engine/ops/ops.c). */
typedef enum mc_op_id {
#include "mc_op_ids.h"
    MC_OP_COUNT
} mc_op_id;

/* C[b] = alpha * A[b] (m x k) * B[b] (k x n) + beta * C[b] + bias (n), for every batch b.
 * a: ne = {k, m, batch}; b: ne = {n, k, batch}; c: ne = {n, m, batch}; bias: ne = {n}.
 * Transposes are layouts (strides), never copies. With beta == 0, C is not read: it holds
 * a NaN sentinel and must not leak into the result. */
typedef struct mc_gemm_args {
    mc_tensor a, b, c, bias;
    float alpha, beta;
    bool has_bias;
} mc_gemm_args;

/* y = A (m x k) * x (k). a: ne = {k, m}; x: ne = {k}; y: ne = {m}. A may be quantised
 * (q8_0, q4_0: the quantised matmul interface), x and y are f32 or f16. */
typedef struct mc_gemv_args {
    mc_tensor a, x, y;
    mc_dtype xq; /* a dtype the variant may quantise x to first (q8_0: ggml's q8_0 dot), its error
                    allowed for in the bound; MC_DTYPE_F32 (0): x must be used as it is */
    bool xq_exact; /* with xq = MC_DTYPE_Q8_0: x must be quantised byte-exactly by quant-formats.md's
                      rule (roundf, ties away from zero); the reference uses those activations and
                      the bound has no activation term, so a variant that cannot must decline */
} mc_gemv_args;

/* Row softmax: y[r] = softmax(scale * x[r] + mask[r]). x, y: ne = {cols, rows, batch}.
 * With causal, column j of row i is masked (-inf) when j > i + q_offset. */
typedef struct mc_softmax_args {
    mc_tensor x, y;
    float scale;
    bool causal;
    int64_t q_offset;
} mc_softmax_args;

/* Scaled dot-product attention with grouped-query heads.
 * q: ne = {d, n_q, heads}; k, v: ne = {d, n_kv, kv_heads}; o: ne = {d, n_q, heads}.
 * Query head h reads kv head h / (heads / kv_heads). Causal: key j is seen by query i only
 * when j <= i + q_offset. */
typedef struct mc_sdpa_args {
    mc_tensor q, k, v, o;
    float scale;
    bool causal;
    int64_t q_offset;
} mc_sdpa_args;

typedef struct mc_args {
    mc_op_id op;
    union {
        mc_gemm_args gemm;
        mc_gemv_args gemv;
        mc_softmax_args softmax;
        mc_sdpa_args sdpa;
    } u;
} mc_args;

#define MC_RAN_LEN 64

/* What a kernel gets besides its arguments. */
typedef struct mc_kernel_ctx {
    mc_backend_ctx *backend;  /* the live backend the buffers belong to */
    int threads;              /* threads a CPU kernel may use (>= 1) */
    char ran[MC_RAN_LEN];     /* out: the kernel that really ran; pre-set to the variant's name,
                                 a dispatcher overwrites it with what it chose */
} mc_kernel_ctx;

enum mc_variant_flags {
    MC_VARIANT_DETERMINISTIC = 1u << 0, /* same inputs give bitwise the same output */
    MC_VARIANT_DISPATCHER = 1u << 1,    /* chooses among other variants and reports the choice */
    MC_VARIANT_TEST_ONLY = 1u << 2,     /* exists to test the harness (crash, hang, overflow) */
    MC_VARIANT_MUTANT = 1u << 3,        /* a planted bug; built with -DMC_MUTANTS=ON only */
    MC_VARIANT_THREADED = 1u << 4,      /* a CPU kernel that splits its work over kc->threads: the
                                           cases' thread-count dimension (threads=N) runs it;
                                           tests/test_select.c fails one that splits unflagged */
    MC_VARIANT_PEER = 1u << 5,          /* a vendor library timed as the yardstick (cuBLAS): the perf
                                           table compares a row with its backend's peer on the same case */
};

struct mc_variant;

#define MC_DISPATCH_MAX_KERNELS 32 /* kernels one dispatcher may accept */

/* What a dispatcher declares, so that the harness can prove its choices (dispatch coverage). */
typedef struct mc_dispatch_info {
    /* Every kernel it runs when $MC_<OP>_KERNEL names it (and only those), in a fixed order. */
    const struct mc_variant *const *(*accepts)(int *count /* out */);
    /* Which of them it prefers for some case on this machine, from its own tables: given
     * runnable[i] (kernel i's probe says yes here), sets may_choose[i]. Each kernel it may choose
     * must be chosen by some case of a tier, or the dispatcher never lets it be chosen. */
    void (*may_choose)(const bool *runnable, bool *may_choose /* out */);
} mc_dispatch_info;

/* A kernel variant: one registry row. */
typedef struct mc_variant {
    mc_op_id op;
    const char *backend;  /* backend name it runs on */
    const char *name;     /* identity, e.g. gemm_f32_avx2_6x16 */
    /* Can it run on this machine? NULL for yes, else a reason (static string). */
    const char *(*probe)(mc_backend_ctx *ctx);
    /* Does it take these arguments? NULL for yes, else a reason (static string). */
    const char *(*supports)(const mc_args *args);
    /* Runs the kernel; returns MC_OK or records an error. */
    mc_status (*run)(mc_kernel_ctx *kc, const mc_args *args, mc_err *err);
    unsigned flags;
    const char *expect; /* mutants and test-only variants: the failure kind they must produce */
    const void *code;   /* the function whose machine code identifies this variant's build */
    /* CPU features its probe needs ("avx2,fma,f16c", /proc/cpuinfo names), or NULL; on a device
     * backend, what its has_features reads ("sm_80"). The harness checks them itself: a probe that
     * says no on a machine that has them is a gate that always says no, and fails the run. */
    const char *requires;
    /* Test-only: an environment variable whose value changes what the variant does (the synthetic
     * slowdown's MC_SLOWDOWN). Its value joins the code hash, so a changed setting reads as
     * changed code. NULL for real kernels. */
    const char *identity_env;
    const mc_dispatch_info *dispatch; /* dispatchers (MC_VARIANT_DISPATCHER) only, else NULL */
    /* The code identity when it was computed elsewhere (a plugin's: hashed in the child process
     * that loaded it, as the harness's parent never loads plugin code), else NULL. */
    const char *code_hash;
} mc_variant;

#endif
