/* include/metallic_check/plugin.h: the public, versioned plugin ABI of metallic-check (C99).
 * A plugin is a shared library exporting mc_plugin_init; it registers kernel variants and backends.
 * SPDX-License-Identifier: MIT */
#ifndef METALLIC_CHECK_PLUGIN_H
#define METALLIC_CHECK_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI rules (docs/plugins.md):
 *   1. The major version changes when anything a plugin already uses moves or changes meaning; the
 *      harness refuses a plugin built for another major (exit 2).
 *   2. A minor version only adds: fields at the end of a struct that starts with {size, abi},
 *      new enum values, new flags. Every such struct says its size, so the harness reads only the
 *      fields an older plugin has (the rest count as zero) and a newer plugin's extra fields are
 *      ignored by an older harness.
 *   3. Embedded structs (mc_plugin_tensor, the per-op argument structs) are frozen for a major. */
#define MC_PLUGIN_ABI_MAJOR 1
#define MC_PLUGIN_ABI_MINOR 0
#define MC_PLUGIN_ABI_VERSION ((uint32_t)((MC_PLUGIN_ABI_MAJOR << 16) | MC_PLUGIN_ABI_MINOR))
#define MC_PLUGIN_ABI_MAJOR_OF(v) ((uint32_t)(v) >> 16)
#define MC_PLUGIN_ABI_MINOR_OF(v) ((uint32_t)(v)&0xffffu)

/* The head of every versioned struct: its sizeof as the writer compiled it, and the writer's
 * MC_PLUGIN_ABI_VERSION. */
#define MC_PLUGIN_HEADER(type) sizeof(type), MC_PLUGIN_ABI_VERSION

/* Ops, by fixed number (0 is no op). */
typedef enum mc_plugin_op {
    MC_PLUGIN_OP_GEMM = 1,
    MC_PLUGIN_OP_GEMV = 2,
    MC_PLUGIN_OP_SOFTMAX = 3,
    MC_PLUGIN_OP_SDPA = 4
} mc_plugin_op;

/* Element types, by fixed number. Quantised types are ggml's (GGUF) blocks, byte for byte: q8_0 is
 * an fp16 scale and 32 int8 codes (34 bytes), q4_0 an fp16 scale and 16 bytes of nibbles (18 bytes);
 * q4_1 .. q5_1 are 32-element blocks, the K-quants 256-element super-blocks, q8_K the activation
 * format of the K-quant dots (docs/quant.md has every layout). */
typedef enum mc_plugin_dtype {
    MC_PLUGIN_F32 = 1,
    MC_PLUGIN_F16 = 2,
    MC_PLUGIN_BF16 = 3,
    MC_PLUGIN_Q8_0 = 4,
    MC_PLUGIN_Q4_0 = 5,
    MC_PLUGIN_Q4_1 = 6,
    MC_PLUGIN_Q5_0 = 7,
    MC_PLUGIN_Q5_1 = 8,
    MC_PLUGIN_Q2_K = 9,
    MC_PLUGIN_Q3_K = 10,
    MC_PLUGIN_Q4_K = 11,
    MC_PLUGIN_Q5_K = 12,
    MC_PLUGIN_Q6_K = 13,
    MC_PLUGIN_Q8_K = 14
} mc_plugin_dtype;

#define MC_PLUGIN_MAX_DIMS 4

/* A strided view: element (i0,i1,i2,i3) lives at byte offset + i0*nb[0] + i1*nb[1] + i2*nb[2] +
 * i3*nb[3] of its buffer (for quantised types i0 indexes 32-element blocks: i0/32). ne[0] is the
 * innermost logical index (a row's length). Strides may be 0 (broadcast) and need not increase
 * (transposed views). The buffer holds guard zones around the view: touch nothing outside it. */
typedef struct mc_plugin_tensor {
    int32_t dtype;   /* mc_plugin_dtype */
    int32_t present; /* 0: an optional tensor this case does not use (gemm without bias) */
    int64_t ne[MC_PLUGIN_MAX_DIMS]; /* elements per dim; unused dims are 1 */
    int64_t nb[MC_PLUGIN_MAX_DIMS]; /* byte strides per dim */
    int64_t offset;  /* byte offset of element (0,0,0,0) from the buffer's start */
    void *buffer;    /* the backend's handle: on cpu the buffer's first byte (host memory); on a
                        plugin backend what its alloc returned */
    uint64_t buffer_bytes; /* size of the whole buffer */
} mc_plugin_tensor;

/* C[b] = alpha * A[b] (m x k) * B[b] (k x n) + beta * C[b] + bias (n), for every batch b.
 * a: ne = {k, m, batch}; b: ne = {n, k, batch}; c: ne = {n, m, batch}; bias: ne = {n}. With
 * beta == 0, C holds a NaN sentinel and must not be read. */
typedef struct mc_plugin_gemm_args {
    mc_plugin_tensor a, b, c, bias;
    float alpha, beta;
    int32_t has_bias;
    int32_t reserved;
} mc_plugin_gemm_args;

/* y = A (m x k) * x (k). a: ne = {k, m}; x: ne = {k}; y: ne = {m}. A may be q8_0 or q4_0. xq: a
 * dtype the kernel may quantise x to first (MC_PLUGIN_Q8_0), else 0; with xq_exact it must, with
 * ggml's rounding, or decline the case. */
typedef struct mc_plugin_gemv_args {
    mc_plugin_tensor a, x, y;
    int32_t xq;
    int32_t xq_exact;
} mc_plugin_gemv_args;

/* Row softmax: y[r] = softmax(scale * x[r]). x, y: ne = {cols, rows, batch}. With causal, column j
 * of row i is masked (-inf) when j > i + q_offset; a row with nothing visible is all zeros. */
typedef struct mc_plugin_softmax_args {
    mc_plugin_tensor x, y;
    float scale;
    int32_t causal;
    int64_t q_offset;
} mc_plugin_softmax_args;

/* Scaled dot-product attention, grouped-query heads. q: ne = {d, n_q, heads}; k, v: ne = {d, n_kv,
 * kv_heads}; o: ne = {d, n_q, heads}. Query head h reads kv head h / (heads / kv_heads). Causal:
 * key j is seen by query i only when j <= i + q_offset. */
typedef struct mc_plugin_sdpa_args {
    mc_plugin_tensor q, k, v, o;
    float scale;
    int32_t causal;
    int64_t q_offset;
} mc_plugin_sdpa_args;

typedef struct mc_plugin_args {
    uint32_t size, abi; /* MC_PLUGIN_HEADER(mc_plugin_args), filled by the harness */
    int32_t op;         /* mc_plugin_op: which member of u */
    int32_t reserved;
    union {
        mc_plugin_gemm_args gemm;
        mc_plugin_gemv_args gemv;
        mc_plugin_softmax_args softmax;
        mc_plugin_sdpa_args sdpa;
        unsigned char room[1024]; /* the union's size is fixed for the major: new ops fit in it */
    } u;
} mc_plugin_args;

#define MC_PLUGIN_RAN_LEN 64
#define MC_PLUGIN_ERROR_LEN 256

/* What a kernel gets besides its arguments (filled by the harness before each call). */
typedef struct mc_plugin_kernel_ctx {
    uint32_t size, abi;
    int32_t threads;  /* threads the kernel may use (>= 1); more only with MC_PLUGIN_THREADED */
    int32_t reserved;
    void *native;     /* the backend's live context: what a plugin backend's init returned; NULL on cpu */
    void *user;       /* the variant record's user pointer */
    char ran[MC_PLUGIN_RAN_LEN];     /* out: the kernel that ran; pre-set to the variant's name, and it
                                        must stay so (the harness checks that what ran is what was asked) */
    char error[MC_PLUGIN_ERROR_LEN]; /* out: why run returned non-zero */
} mc_plugin_kernel_ctx;

enum mc_plugin_variant_flags {
    MC_PLUGIN_DETERMINISTIC = 1u << 0, /* same inputs give bitwise the same output (checked) */
    MC_PLUGIN_THREADED = 1u << 1       /* splits its work over kc->threads (the threads= cases run it) */
};

/* A kernel variant. The record and its strings must live as long as the library (static storage). */
typedef struct mc_plugin_variant {
    uint32_t size, abi; /* MC_PLUGIN_HEADER(mc_plugin_variant) */
    int32_t op;         /* mc_plugin_op */
    uint32_t flags;     /* mc_plugin_variant_flags */
    const char *backend; /* "cpu", another built-in backend, or one a plugin registers */
    const char *name;    /* unique among all variants, built-in ones included: [A-Za-z0-9_.-], <= 63 */
    /* Can it run on this machine? NULL for yes, else a reason (static string). Optional. */
    const char *(*probe)(void *native);
    /* Does it take these arguments? NULL for yes, else a reason (static string). Optional. */
    const char *(*supports)(const mc_plugin_args *args);
    /* Runs the kernel: 0 on success, else non-zero with kc->error saying why. */
    int (*run)(mc_plugin_kernel_ctx *kc, const mc_plugin_args *args);
    /* CPU features the probe needs ("avx2,fma", /proc/cpuinfo names), or NULL: a probe that says no
     * on a CPU that has them fails the run (a gate that always says no). */
    const char *requires;
    void *user; /* handed back in kc->user */
} mc_plugin_variant;

/* A whole backend (a device). Fallible calls return 0 on success. Each runs inside a worker
 * process, never in the harness's parent. */
typedef struct mc_plugin_backend {
    uint32_t size, abi; /* MC_PLUGIN_HEADER(mc_plugin_backend) */
    const char *name;   /* [a-z0-9_], 1..15 characters, unique */
    /* Usable here? 0 for yes, else a reason in reason[reason_len]. Optional. */
    int (*probe)(char *reason, size_t reason_len);
    int (*init)(void **native /* out */, char *error, size_t error_len);
    void (*shutdown)(void *native);
    /* One line naming the device and driver. */
    void (*describe)(void *native, char *out, size_t out_len);
    int (*alloc)(void *native, size_t bytes, void **buffer /* out */);
    void (*free)(void *native, void *buffer);
    int (*upload)(void *native, void *buffer, size_t offset, const void *src, size_t bytes);
    int (*download)(void *native, const void *buffer, size_t offset, void *dst, size_t bytes);
    int (*sync)(void *native);
    /* Optional device timer: begin, then end gives the nanoseconds of the work between. Without
     * them the harness times sync'ed calls with the host's monotonic clock. */
    int (*timer_begin)(void *native);
    int (*timer_end)(void *native, double *elapsed_ns /* out */);
    /* Optional: the identity of the device code variant runs (16 hex digits of a hash of its
     * program binary), or NULL; without it the harness hashes the run function's machine code. */
    const char *(*program_hash)(void *native, const char *variant);
} mc_plugin_backend;

/* What the harness offers the plugin during init. */
typedef struct mc_plugin_host {
    uint32_t size, abi;          /* the harness's MC_PLUGIN_ABI_VERSION */
    const char *harness_version; /* "0.1.0" */
    const char *plugin_path;     /* the path this library was loaded from */
    /* A line of text for the user, prefixed with the plugin's path. */
    void (*log)(const struct mc_plugin_host *host, const char *message);
} mc_plugin_host;

/* Where init registers what it brings. Each call returns 0, or non-zero when the record is refused
 * (the reason goes to the user; the plugin is then refused as a whole). */
typedef struct mc_plugin_registry {
    uint32_t size, abi;
    int (*add_variant)(struct mc_plugin_registry *reg, const mc_plugin_variant *variant);
    int (*add_backend)(struct mc_plugin_registry *reg, const mc_plugin_backend *backend);
    void *harness; /* the harness's own, opaque */
} mc_plugin_registry;

/* The one entry point, looked up by name. Registers everything; returns 0, else the plugin is
 * refused. It runs in a child process of the harness, and again in each worker that runs one of
 * its variants: keep it free of side effects. */
#define MC_PLUGIN_ENTRY "mc_plugin_init"
typedef int (*mc_plugin_init_fn)(const mc_plugin_host *host, mc_plugin_registry *reg);

#if defined(__GNUC__)
__attribute__((visibility("default")))
#endif
int mc_plugin_init(const mc_plugin_host *host, mc_plugin_registry *reg);

#ifdef __cplusplus
}
#endif

#endif
