/* tests/ggml_crosscheck.c: our reference quantisers and dequantisers against a real ggml's
 * (libggml-base.so, dlopened: scripts/fetch-ggml-reference), byte for byte and bit for bit.
 * usage: ggml_crosscheck LIBGGML_BASE_SO   exit 0 all equal, 1 a difference, 77 library absent.
 * SPDX-License-Identifier: MIT */
#include <dlfcn.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dtype.h"
#include "core/quant_format.h"
#include "core/rng.h"
#include "reference/ref_quant.h"

#define SKIP_STATUS 77
#define MAX_BLOCKS 7       /* the longest row: "many blocks" */
#define SEEDS_PER_SHAPE 20 /* rows per input kind and row length */
#define RANDOM_BLOCKS 16384 /* random-byte blocks per format for the dequantisers */

typedef void (*ggml_quantize_fn)(const float *x, void *y, int64_t k);
typedef void (*ggml_dequantize_fn)(const void *x, float *y, int64_t k);

/* The ggml symbols of each format; the formats are every quantised dtype. */
typedef struct format_pair {
    mc_dtype dt;
    const char *quantize_sym, *dequantize_sym;
    ggml_quantize_fn quantize;
    ggml_dequantize_fn dequantize;
} format_pair;

static format_pair pairs[] = {
    {MC_DTYPE_Q8_0, "quantize_row_q8_0_ref", "dequantize_row_q8_0", NULL, NULL},
    {MC_DTYPE_Q4_0, "quantize_row_q4_0_ref", "dequantize_row_q4_0", NULL, NULL},
    {MC_DTYPE_Q4_1, "quantize_row_q4_1_ref", "dequantize_row_q4_1", NULL, NULL},
    {MC_DTYPE_Q5_0, "quantize_row_q5_0_ref", "dequantize_row_q5_0", NULL, NULL},
    {MC_DTYPE_Q5_1, "quantize_row_q5_1_ref", "dequantize_row_q5_1", NULL, NULL},
    {MC_DTYPE_Q2_K, "quantize_row_q2_K_ref", "dequantize_row_q2_K", NULL, NULL},
    {MC_DTYPE_Q3_K, "quantize_row_q3_K_ref", "dequantize_row_q3_K", NULL, NULL},
    {MC_DTYPE_Q4_K, "quantize_row_q4_K_ref", "dequantize_row_q4_K", NULL, NULL},
    {MC_DTYPE_Q5_K, "quantize_row_q5_K_ref", "dequantize_row_q5_K", NULL, NULL},
    {MC_DTYPE_Q6_K, "quantize_row_q6_K_ref", "dequantize_row_q6_K", NULL, NULL},
    {MC_DTYPE_Q8_K, "quantize_row_q8_K_ref", "dequantize_row_q8_K", NULL, NULL},
};
#define PAIR_COUNT ((int)(sizeof pairs / sizeof pairs[0]))

/* ---- inputs ---------------------------------------------------------------------------------- */

typedef enum input_kind {
    INPUT_NORMAL,    /* N(0, 1) */
    INPUT_UNIFORM,   /* U[-1, 1) */
    INPUT_TINY,      /* N(0, 1) * 2^-20: fp16 scales subnormal or zero */
    INPUT_MINUTE,    /* N(0, 1) * 1e-17: under ggml's 1e-15 "all zero" threshold */
    INPUT_HUGE,      /* N(0, 1) * 1e6: fp16 scales overflow to Inf */
    INPUT_ENORMOUS,  /* N(0, 1) * 1e36: float intermediates overflow */
    INPUT_EQUAL,     /* one value repeated */
    INPUT_SINGLE,    /* zeros and one nonzero */
    INPUT_NEGATIVE,  /* -|N(0, 1)| */
    INPUT_TIES,      /* multiples of 1/2 in [-8, 8]: rounding ties everywhere */
    INPUT_ZEROS,     /* +0 everywhere */
    INPUT_SCALES,    /* N(0, 1) times 2^k per 16 elements, k in [-24, 24]: sub-blocks far apart */
    INPUT_BITS,      /* random float bit patterns: Inf and subnormals included; NaN only for the
                      * 32-element formats (see nan_inputs_defined) */
    INPUT_KIND_COUNT
} input_kind;

static const char *const input_names[] = {
    [INPUT_NORMAL] = "normal", [INPUT_UNIFORM] = "uniform", [INPUT_TINY] = "tiny",
    [INPUT_MINUTE] = "minute", [INPUT_HUGE] = "huge",       [INPUT_ENORMOUS] = "enormous",
    [INPUT_EQUAL] = "all-equal", [INPUT_SINGLE] = "single-nonzero", [INPUT_NEGATIVE] = "negative-only",
    [INPUT_TIES] = "exact-ties", [INPUT_ZEROS] = "zeros",   [INPUT_SCALES] = "mixed-scales",
    [INPUT_BITS] = "random-bits",
};
_Static_assert(sizeof input_names / sizeof input_names[0] == INPUT_KIND_COUNT, "one name per kind");

static double normal(mc_rng *r)
{
    const double u1 = 1.0 - mc_rng_uniform(r), u2 = mc_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Whether ggml's bytes for NaN inputs are a property of its source. For the 32-element formats
 * they are (ref_quant.c, points 2 and 4). The K-quants' searches add and multiply NaNs of different
 * payloads (x + dm with both NaN), and which payload x86 keeps depends on the operand order ggml's
 * compiler chose for a commutative operation, which C leaves open: the codes then differ between
 * builds of the same source, so NaN inputs are not compared for them (docs/quant.md). */
static bool nan_inputs_defined(mc_dtype dt)
{
    return mc_dtype_info_of(dt)->block_elems == MC_QK;
}

static void fill_input(input_kind kind, mc_rng *r, float *x, int n, bool nan_ok)
{
    const float equal = (float)normal(r);
    const int single = (int)(mc_rng_next(r) % (uint64_t)n);
    float group_scale = 1.0f;
    for (int i = 0; i < n; i++) {
        if (i % 16 == 0)
            group_scale = ldexpf(1.0f, (int)(mc_rng_next(r) % 49) - 24);
        switch (kind) {
        case INPUT_NORMAL: x[i] = (float)normal(r); break;
        case INPUT_UNIFORM: x[i] = (float)(2.0 * mc_rng_uniform(r) - 1.0); break;
        case INPUT_TINY: x[i] = (float)(normal(r) * 0x1p-20); break;
        case INPUT_MINUTE: x[i] = (float)(normal(r) * 1e-17); break;
        case INPUT_HUGE: x[i] = (float)(normal(r) * 1e6); break;
        case INPUT_ENORMOUS: x[i] = (float)(normal(r) * 1e36); break;
        case INPUT_EQUAL: x[i] = equal; break;
        case INPUT_SINGLE: x[i] = i == single ? equal : 0.0f; break;
        case INPUT_NEGATIVE: x[i] = -(float)fabs(normal(r)); break;
        case INPUT_TIES: x[i] = (float)((int)(mc_rng_next(r) % 33) - 16) * 0.5f; break;
        case INPUT_ZEROS: x[i] = 0.0f; break;
        case INPUT_SCALES: x[i] = (float)normal(r) * group_scale; break;
        case INPUT_BITS: {
            uint32_t bits = (uint32_t)mc_rng_next(r);
            if (!nan_ok && (bits & 0x7F800000u) == 0x7F800000u && (bits & 0x007FFFFFu))
                bits &= 0xFF800000u; /* the NaN becomes an Inf of its sign */
            memcpy(&x[i], &bits, sizeof bits);
            break;
        }
        case INPUT_KIND_COUNT: break;
        }
    }
}

/* ---- comparisons ----------------------------------------------------------------------------- */

typedef struct tally {
    long rows, blocks, bytes, unwritten, values, nan_values;
    bool failed;
} tally;

/* Bytes equal, else prints the first difference as format, row, block, offset. ggml_a and ggml_b
 * are ggml's output over buffers filled with 0x00 and 0xFF first: a byte where they differ is one
 * ggml did not write (Q8_K's bsums of an all-zero block); ours must hold 0 there (counted). */
static bool same_bytes(const format_pair *p, const char *row, const uint8_t *ours, const uint8_t *ggml_a,
                       const uint8_t *ggml_b, int blocks, tally *t)
{
    const int bb = mc_dtype_info_of(p->dt)->block_bytes;
    t->rows++;
    t->blocks += blocks;
    t->bytes += (long)blocks * bb;
    for (int i = 0; i < blocks * bb; i++) {
        const bool unwritten = ggml_a[i] != ggml_b[i];
        t->unwritten += unwritten;
        if (unwritten ? ours[i] != 0 : ours[i] != ggml_a[i]) {
            printf("DIFF quantize %s row %s: block %d byte %d: ours 0x%02x, ggml 0x%02x%s\n",
                   mc_dtype_name(p->dt), row, i / bb, i % bb, ours[i], ggml_a[i],
                   unwritten ? " (a byte ggml leaves unwritten; ours should be 0)" : "");
            t->failed = true;
            return false;
        }
    }
    return true;
}

/* Values bit-equal, NaNs included: a NaN scale (fp16 0x7C01..0x7FFF, random bytes give them) must
 * decode to ggml's very NaN, payload and sign alike (counted in nan_values). Prints the first
 * difference. */
static bool same_values(const format_pair *p, const char *what, const float *ours, const float *ggml,
                        int n, tally *t)
{
    const int qk = mc_dtype_info_of(p->dt)->block_elems;
    t->values += n;
    for (int i = 0; i < n; i++) {
        uint32_t a, b;
        memcpy(&a, &ours[i], 4);
        memcpy(&b, &ggml[i], 4);
        if (a != b) {
            printf("DIFF dequantize %s %s: block %d element %d: ours %a (0x%08x), ggml %a (0x%08x)\n",
                   mc_dtype_name(p->dt), what, i / qk, i % qk, (double)ours[i], a, (double)ggml[i], b);
            t->failed = true;
            return false;
        }
        t->nan_values += isnan(ours[i]);
    }
    return true;
}

/* ---- the checks ------------------------------------------------------------------------------ */

static void check_quantizers(const format_pair *p, tally *t, tally *dt)
{
    const mc_dtype_info *info = mc_dtype_info_of(p->dt);
    const int lengths[] = {1, 2, MAX_BLOCKS};
    float x[MAX_BLOCKS * MC_QK_K], ours_f[MAX_BLOCKS * MC_QK_K], ggml_f[MAX_BLOCKS * MC_QK_K];
    uint8_t ours[MAX_BLOCKS * MC_Q8_K_BLOCK_BYTES], ggml[MAX_BLOCKS * MC_Q8_K_BLOCK_BYTES];
    uint8_t ggml_b[MAX_BLOCKS * MC_Q8_K_BLOCK_BYTES];
    bool quant_ok = true, dequant_ok = true;
    for (int k = 0; k < INPUT_KIND_COUNT; k++) {
        for (int li = 0; li < 3; li++) {
            for (int s = 0; s < SEEDS_PER_SHAPE; s++) {
                const int blocks = lengths[li], n = blocks * info->block_elems;
                char row[96];
                snprintf(row, sizeof row, "'%s' (seed %d, %d block(s))", input_names[k], s, blocks);
                mc_rng r;
                mc_rng_seed(&r, mc_rng_mix((uint64_t)p->dt, mc_rng_mix((uint64_t)k, (uint64_t)(li * 100 + s))));
                fill_input((input_kind)k, &r, x, n, nan_inputs_defined(p->dt));
                mc_ref_quantizer_of(p->dt)(x, ours, n);
                memset(ggml, 0x00, sizeof ggml);
                memset(ggml_b, 0xFF, sizeof ggml_b);
                p->quantize(x, ggml, n);
                p->quantize(x, ggml_b, n);
                if (quant_ok)
                    quant_ok = same_bytes(p, row, ours, ggml, ggml_b, blocks, t);
                /* Both dequantisers on ggml's bytes (our quantiser's, when they differ, are not a
                 * fair input for ggml's decoder to be compared on). */
                mc_quant_dequantize_row(p->dt, ggml, ours_f, n);
                p->dequantize(ggml, ggml_f, n);
                if (dequant_ok)
                    dequant_ok = same_values(p, row, ours_f, ggml_f, n, dt);
            }
        }
    }
}

/* Random block bytes, fp16 (or Q8_K's f32) scales included: NaN and Inf scales occur. */
static void check_random_blocks(const format_pair *p, tally *t)
{
    const mc_dtype_info *info = mc_dtype_info_of(p->dt);
    const int chunk = 64; /* blocks per call */
    uint8_t *bytes = malloc((size_t)chunk * (size_t)info->block_bytes);
    float *ours = malloc(sizeof(float) * (size_t)chunk * (size_t)info->block_elems);
    float *ggml = malloc(sizeof(float) * (size_t)chunk * (size_t)info->block_elems);
    if (!bytes || !ours || !ggml) {
        printf("out of memory\n");
        t->failed = true;
        goto done;
    }
    mc_rng r;
    mc_rng_seed(&r, mc_rng_mix(0x6767u, (uint64_t)p->dt));
    for (int c = 0; c < RANDOM_BLOCKS / chunk; c++) {
        for (int i = 0; i < chunk * info->block_bytes; i++)
            bytes[i] = (uint8_t)mc_rng_next(&r);
        const int n = chunk * info->block_elems;
        mc_quant_dequantize_row(p->dt, bytes, ours, n);
        p->dequantize(bytes, ggml, n);
        char what[64];
        snprintf(what, sizeof what, "random bytes (chunk %d of %d blocks)", c, chunk);
        if (!same_values(p, what, ours, ggml, n, t))
            break;
    }
done:
    free(bytes);
    free(ours);
    free(ggml);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: ggml_crosscheck LIBGGML_BASE_SO\n");
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        printf("skipped: ggml reference library not available (%s)\n", dlerror());
        return SKIP_STATUS;
    }
    for (int i = 0; i < PAIR_COUNT; i++) {
        *(void **)&pairs[i].quantize = dlsym(lib, pairs[i].quantize_sym);
        *(void **)&pairs[i].dequantize = dlsym(lib, pairs[i].dequantize_sym);
        if (!pairs[i].quantize || !pairs[i].dequantize) {
            printf("%s lacks %s or %s: not the pinned ggml build\n", argv[1], pairs[i].quantize_sym,
                   pairs[i].dequantize_sym);
            dlclose(lib);
            return 1;
        }
    }
    bool failed = false;
    for (int i = 0; i < PAIR_COUNT; i++) {
        tally q = {0}, d = {0};
        check_quantizers(&pairs[i], &q, &d);
        const long from_rows = d.values;
        check_random_blocks(&pairs[i], &d);
        printf("%-5s quantize: %ld rows, %ld blocks, %ld bytes (%ld unwritten by ggml) %s; dequantize: %ld values of ggml's blocks"
               " and %ld of random blocks (%ld NaN) %s\n",
               mc_dtype_name(pairs[i].dt), q.rows, q.blocks, q.bytes, q.unwritten, q.failed ? "DIFFER" : "identical",
               from_rows, d.values - from_rows, d.nan_values, d.failed ? "DIFFER" : "bit-identical");
        failed = failed || q.failed || d.failed;
    }
    dlclose(lib);
    printf(failed ? "ggml cross-check: differences (above)\n" : "ggml cross-check: every format identical\n");
    return failed ? 1 : 0;
}
