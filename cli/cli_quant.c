/* cli/cli_quant.c: `quantize` and `dequantize`: raw little-endian f32 files <-> GGUF blocks,
 * through the reference quantisers (so the bytes are ggml's).
 * SPDX-License-Identifier: MIT */
#include "cli_quant.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "core/dtype.h"
#include "core/quant_format.h"
#include "core/status.h"
#include "reference/ref_quant.h"

enum { EXIT_DONE = 0, EXIT_USAGE = 2 }; /* the CLI contract: 2 is usage or configuration */

/* One quantised format: what the commands need to know about it (from the dtype and format
 * tables, so a new format needs nothing here). */
typedef struct quant_format {
    mc_dtype dtype;
    int block_elems, block_bytes;
    mc_ref_quantize_fn quantize;
} quant_format;

#define FORMAT_NAMES "q8_0|q4_0|q4_1|q5_0|q5_1|q2_K|q3_K|q4_K|q5_K|q6_K|q8_K"

typedef struct quant_opts {
    const char *type, *in, *out;
} quant_opts;

static const char quantize_usage[] =
    "usage: metallic-check quantize --type TYPE --in FILE.f32 --out FILE.bin\n"
    "\n"
    "Reads raw little-endian f32 values and writes GGUF blocks, byte for byte what ggml's reference\n"
    "quantiser (quantize_row_TYPE_ref) writes. TYPE is one of " FORMAT_NAMES "\n"
    "(ggml's names, any case): 32 values per block for the first five, 256 for the K-quants; e.g.\n"
    "q8_0 is 34 bytes per 32 values (fp16 scale, 32 int8), q4_K 144 bytes per 256.\n"
    "docs/quant.md has every layout and says what NaN and Inf give.\n"
    "\n"
    "Exit status: 0 done; 2 bad options, unreadable input, a length that is not a whole number of\n"
    "blocks, or an output that cannot be written.\n";

static const char dequantize_usage[] =
    "usage: metallic-check dequantize --type TYPE --in FILE.bin --out FILE.f32\n"
    "\n"
    "Reads GGUF blocks of TYPE (" FORMAT_NAMES ", any case) and writes their values as\n"
    "raw little-endian f32, bit for bit as ggml's dequantize_row_* computes them.\n"
    "\n"
    "Exit status: 0 done; 2 bad options, unreadable input, a size that is not a whole number of\n"
    "blocks, or an output that cannot be written.\n";

/* One line saying what is wrong, then the usage's first line (the synopsis). */
static int usage_error(const char *cmd, const char *usage, const char *what, const char *arg)
{
    return mc_cli_usage_error(cmd, usage, MC_USAGE_FIRST_LINE, "%s%s%s", what, arg ? " " : "", arg ? arg : "");
}

/* Takes "--name value" or "--name=value" at argv[*i]; NULL when argv[*i] is not --name. */
static const char *option_value(const char *name, int argc, char **argv, int *i, bool *missing)
{
    size_t len = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, len) != 0)
        return NULL;
    if (a[len] == '=')
        return a + len + 1;
    if (a[len] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

/* Returns -1 to go on, else the exit status (help printed: 0, error: 2). */
static int parse_options(const char *cmd, const char *usage, int argc, char **argv, quant_opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return EXIT_DONE;
        }
        bool missing = false;
        const char *v;
        if ((v = option_value("--type", argc, argv, &i, &missing)))
            o->type = v;
        else if ((v = option_value("--in", argc, argv, &i, &missing)))
            o->in = v;
        else if ((v = option_value("--out", argc, argv, &i, &missing)))
            o->out = v;
        else if (missing)
            return usage_error(cmd, usage, "option needs a value:", argv[i]);
        else
            return usage_error(cmd, usage, "unknown argument", argv[i]);
    }
    if (!o->type || !o->in || !o->out)
        return usage_error(cmd, usage, "--type, --in and --out are all required", NULL);
    return -1;
}

/* ggml's type names, case-insensitively (q4_K and Q4_K alike). */
static bool format_named(const char *name, quant_format *out)
{
    for (int i = 0; i < MC_DTYPE_COUNT; i++) {
        const mc_dtype dt = (mc_dtype)i;
        if (strcasecmp(name, mc_dtype_name(dt)) != 0 || !mc_ref_quantizer_of(dt))
            continue;
        *out = (quant_format){dt, mc_dtype_info_of(dt)->block_elems, mc_dtype_info_of(dt)->block_bytes,
                              mc_ref_quantizer_of(dt)};
        return true;
    }
    return false;
}

static mc_status read_whole_file(const char *path, uint8_t **data /* out */, size_t *len /* out */,
                                 mc_err *err)
{
    mc_status st = MC_OK;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return mc_err_set(err, MC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    buf = malloc(cap);
    if (!buf) {
        st = mc_err_set(err, MC_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (;;) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        uint8_t *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            st = mc_err_set(err, MC_ERR_NOMEM, "%s: out of memory at %zu bytes", path, n);
            goto done;
        }
        buf = bigger;
        cap *= 2;
    }
    if (ferror(f))
        st = mc_err_set(err, MC_ERR_IO, "%s: read failed: %s", path, strerror(errno));
done:
    fclose(f);
    if (st != MC_OK) {
        free(buf);
        return st;
    }
    *data = buf;
    *len = n;
    return MC_OK;
}

static mc_status write_whole_file(const char *path, const uint8_t *data, size_t len, mc_err *err)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return mc_err_set(err, MC_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    size_t n = fwrite(data, 1, len, f);
    int close_rc = fclose(f);
    if (n != len || close_rc != 0)
        return mc_err_set(err, MC_ERR_IO, "%s: write failed after %zu of %zu bytes", path, n, len);
    return MC_OK;
}

/* f32 files are little-endian whatever the host. */
static float f32_from_le(const uint8_t *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void f32_to_le(float f, uint8_t *p)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(u >> (8 * i));
}

static mc_status quantize_file(const quant_format *qf, const quant_opts *o, size_t *n_values /* out */,
                               size_t *out_bytes /* out */, mc_err *err)
{
    uint8_t *raw = NULL, *blocks = NULL;
    float *x = NULL;
    size_t len = 0;
    mc_status st = read_whole_file(o->in, &raw, &len, err);
    if (st != MC_OK)
        return st;
    const char *type = mc_dtype_name(qf->dtype);
    if (len % 4 != 0) {
        st = mc_err_set(err, MC_ERR_CONFIG, "%s: %zu bytes is not a whole number of f32 values (4 bytes each)",
                        o->in, len);
        goto done;
    }
    const size_t n = len / 4;
    if (n % (size_t)qf->block_elems != 0) {
        st = mc_err_set(err, MC_ERR_CONFIG, "%s: length %zu values is not a multiple of %d, as %s blocks need",
                        o->in, n, qf->block_elems, type);
        goto done;
    }
    *out_bytes = n / (size_t)qf->block_elems * (size_t)qf->block_bytes;
    x = malloc(n ? n * sizeof *x : 1);
    blocks = malloc(*out_bytes ? *out_bytes : 1);
    if (!x || !blocks) {
        st = mc_err_set(err, MC_ERR_NOMEM, "%s: out of memory for %zu values", o->in, n);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        x[i] = f32_from_le(raw + 4 * i);
    qf->quantize(x, blocks, (int64_t)n);
    st = write_whole_file(o->out, blocks, *out_bytes, err);
    *n_values = n;
done:
    free(raw);
    free(x);
    free(blocks);
    return st;
}

static mc_status dequantize_file(const quant_format *qf, const quant_opts *o, size_t *n_values /* out */,
                                 mc_err *err)
{
    uint8_t *raw = NULL, *bytes = NULL;
    float *y = NULL;
    size_t len = 0;
    mc_status st = read_whole_file(o->in, &raw, &len, err);
    if (st != MC_OK)
        return st;
    if (len % (size_t)qf->block_bytes != 0) {
        st = mc_err_set(err, MC_ERR_CONFIG, "%s: %zu bytes is not a whole number of %d-byte %s blocks", o->in,
                        len, qf->block_bytes, mc_dtype_name(qf->dtype));
        goto done;
    }
    const size_t n = len / (size_t)qf->block_bytes * (size_t)qf->block_elems;
    y = malloc(n ? n * sizeof *y : 1);
    bytes = malloc(n ? n * 4 : 1);
    if (!y || !bytes) {
        st = mc_err_set(err, MC_ERR_NOMEM, "%s: out of memory for %zu values", o->in, n);
        goto done;
    }
    mc_quant_dequantize_row(qf->dtype, raw, y, (int64_t)n);
    for (size_t i = 0; i < n; i++)
        f32_to_le(y[i], bytes + 4 * i);
    st = write_whole_file(o->out, bytes, n * 4, err);
    *n_values = n;
done:
    free(raw);
    free(y);
    free(bytes);
    return st;
}

/* Parses, then picks the format; false with *exit_status set when the command must stop. */
static bool prepare(const char *cmd, const char *usage, int argc, char **argv, quant_opts *o, quant_format *qf,
                    int *exit_status)
{
    *exit_status = parse_options(cmd, usage, argc, argv, o);
    if (*exit_status >= 0)
        return false;
    if (format_named(o->type, qf))
        return true;
    *exit_status = usage_error(cmd, usage, "--type must be one of " FORMAT_NAMES ", not", o->type);
    return false;
}

int mc_cli_quantize(int argc, char **argv)
{
    const char *cmd = "quantize";
    quant_opts o;
    int rc;
    quant_format fmt;
    const quant_format *qf = &fmt;
    if (!prepare(cmd, quantize_usage, argc, argv, &o, &fmt, &rc))
        return rc;
    mc_err err = {0};
    size_t n = 0, out_bytes = 0;
    if (quantize_file(qf, &o, &n, &out_bytes, &err) != MC_OK)
        return mc_cli_report_error(cmd, &err);
    printf("%s: %zu values -> %zu %s blocks (%zu bytes) in %s\n", cmd, n, n / (size_t)qf->block_elems,
           mc_dtype_name(qf->dtype),
           out_bytes, o.out);
    return EXIT_DONE;
}

int mc_cli_dequantize(int argc, char **argv)
{
    const char *cmd = "dequantize";
    quant_opts o;
    int rc;
    quant_format fmt;
    const quant_format *qf = &fmt;
    if (!prepare(cmd, dequantize_usage, argc, argv, &o, &fmt, &rc))
        return rc;
    mc_err err = {0};
    size_t n = 0;
    if (dequantize_file(qf, &o, &n, &err) != MC_OK)
        return mc_cli_report_error(cmd, &err);
    printf("%s: %zu %s blocks -> %zu f32 values in %s\n", cmd, n / (size_t)qf->block_elems, mc_dtype_name(qf->dtype),
           n, o.out);
    return EXIT_DONE;
}
