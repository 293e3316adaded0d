/* tests/test_quant_format.c: the formats beyond Q8_0/Q4_0 (Q4_1, Q5_0, Q5_1, the K-quants, Q8_K):
 * golden blocks, decoders, quantisers, CLI round trips, row kernels and the q8_K activation bound.
 * Focus: bytes pinned by vectors derived from the format description, not from our own code.
 * SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli/cli_quant.h"
#include "core/half.h"
#include "core/quant_format.h"
#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/qgemv_common.h"
#include "reference/ref_quant.h"

/* ---- golden blocks ---------------------------------------------------------------------------
 * Each input below is built so that ggml's quantiser's choices can be followed by hand; the bytes
 * were then packed from the layouts in docs/quant.md (a throwaway script, not this code).
 *   q4_1: x_j = (j % 16) / 2 - 3: min -3, max 4.5, d = 7.5 / 15 = 0.5 (0x3800), m = -3 (0xC200),
 *         code (x + 3) 2 + 0.5 truncated = j % 16.
 *   q5_0: x_j = j - 16: the first largest magnitude is -16, d = -16 / -16 = 1 (0x3C00), codes j;
 *         elements 16..31 have the fifth bit: qh = 0xFFFF0000.
 *   q5_1: x_j = j / 4 + 1: min 1, max 8.75, d = 0.25 (0x3400), m = 1 (0x3C00), codes j.
 *   q2_K: sub-block s (16), element t: l = (5t + s) % 4, x = l - s % 4. Every sub-block fits
 *         exactly (scale 1, min s % 4) so make_qkx2_quants keeps its first guess (error 0);
 *         scales 15 / 1 -> 15; mins 15 / 3 = 5 -> 0, 5, 10, 15; d = fp16(1/15) = 0x2C44,
 *         dmin = fp16(3/15) = 0x3266; the requantised codes are l again ((l - m + dm) / d is
 *         within 0.001 of l).
 *   q3_K: sub-block s (16): scale 1 (s even) or 1/2, l = -4 at t = 0, else (3t + s) % 7 - 3,
 *         x = l scale. make_q3_quants fits exactly; iscale = -32 / 1: 6-bit scales 0 and 16
 *         (minus 32: -32, -16), d = fp16(-1/32) = 0xA800, so d sc = 1 or 1/2 and codes l + 4.
 *   q4_K: sub-block s (32): l = (7t + s) % 16, x = l - {8,4,2,1,8,4,2,1}[s]: exact fits with
 *         scale 1; 6-bit scales 63 / 1 -> 63; mins 63 / 8 = 7.875 times 8, 4, 2, 1 = 63, 31.5
 *         (a tie: nearest even 32), 15.75 -> 16, 7.875 -> 8; d = fp16(1/63) = 0x2410,
 *         dmin = fp16(8/63) = 0x3010.
 *   q5_K: as q4_K with l = (7t + s) % 32.
 *   q6_K: sub-block s (16): scale 1 (s even) or 1/2, l = -32 at t = 0, else (5t + s) % 63 - 31,
 *         x = l scale: make_qx_quants fits exactly; iscale = -128 / 1: int8 scales -128 (0x80)
 *         and -64 (0xC0); d = fp16(-1/128) = 0xA000; codes l + 32.
 *   q8_K: x_0 = -127, x_1 = 0.5, x_2 = 1.5, x_3 = -2.5, x_j = (37 j) % 253 - 126: iscale =
 *         -127 / -127 = 1, d = 1.0f, codes nearest-even: 0, 2, -2 at the three ties. */
static const char golden_q4_1[] =
    "003800c200112233445566778899aabbccddeeff";
static const char golden_q5_0[] =
    "003c0000ffff00112233445566778899aabbccddeeff";
static const char golden_q5_1[] =
    "0034003c0000ffff00112233445566778899aabbccddeeff";
static const char golden_q2_K[] =
    "0f5fafff0f5fafff0f5fafff0f5fafff88dd227788dd227788dd227788dd2277dd227788dd227788dd227788dd227788"
    "88dd227788dd227788dd227788dd2277dd227788dd227788dd227788dd227788442c6632";
static const char golden_q3_K[] =
    "00b3cd36d9669b6cb3cd36d9669b6cb3009b6cb3cd36d9669b6cb3cd36d9669b00d88bb776622dddd88bb776622dddd8"
    "002dddd88bb776622dddd88bb776622d002dddd88bb776622dddd88bb776622d0076622dddd88bb776622dddd88bb776"
    "00000000000000000055005500a8";
static const char golden_q4_K[] =
    "10241030ffffffffffa05008ff0f0f8f1087fe65dc43ba21980f76ed54cb32a91087fe65dc43ba21980f76ed54cb32a9"
    "32a91087fe65dc43ba21980f76ed54cb32a91087fe65dc43ba21980f76ed54cb54cb32a91087fe65dc43ba21980f76ed"
    "54cb32a91087fe65dc43ba21980f76ed76ed54cb32a91087fe65dc43ba21980f76ed54cb32a91087fe65dc43ba21980f";
static const char golden_q5_K[] =
    "10241030ffffffffffa05008ff0f0f8f0000fcff0f00c0ffff0100f8ff1f0080ffff0300f0ff3f0000feff0700e0ff7f"
    "1087fe65dc43ba21980f76ed54cb32a91087fe65dc43ba21980f76ed54cb32a932a91087fe65dc43ba21980f76ed54cb"
    "32a91087fe65dc43ba21980f76ed54cb54cb32a91087fe65dc43ba21980f76ed54cb32a91087fe65dc43ba21980f76ed"
    "76ed54cb32a91087fe65dc43ba21980f76ed54cb32a91087fe65dc43ba21980f";
static const char golden_q6_K[] =
    "00a6fb4095ea3f84d92e73c82d73c81d00b70c51a6fb4095ea3f84d93e84d92e00c81d62b70c51a6fb4095ea4f95ea3f"
    "00d92e73c81d62b70c51a6fb51a6fb40002e73c81d62b70c51a6fb51a6fb4095003f84d92e73c81d62b71c62b70c51a6"
    "004095ea3f84d92e73c82d73c81d62b70051a6fb4095ea3f84d93e84d92e73c8000040555595a9aaaafeffff0f000050"
    "000050555595aaaaeafeffff0300005400545555a5aaaafaffff3f000040555500545555a9aaaafaffff0f0000505555"
    "80c080c080c080c080c080c080c080c000a0";
static const char golden_q8_K[] =
    "0000803f810002fe163b6088add2f71c41668eb3d8fd22476c94b9de03284d729abfe4092e5378a0c5ea0f34597ea6cb"
    "f0153a5f87acd1f61b40658db2d7fc21466b93b8dd02274c7199bee3082d52779fc4e90e33587da5caef14395e86abd0"
    "f51a3f648cb1d6fb20456a92b7dc01264b7098bde2072c51769ec3e80d32577ca4c9ee13385d85aacff4193e638bb0d5"
    "fa1f446991b6db00254a6f97bce1062b50759dc2e70c31567ba3c8ed12375c84a9cef3183d628aafd4f91e436890b5da"
    "ff24496e96bbe0052a4f749cc1e60b30557aa2c7ec11365b83a8cdf2173c6189aed3f81d42678fb4d9fe23486d95badf"
    "04294e739bc0e50a2f5479a1c6eb10355a82a7cc34ff05007101e9fe5500c40039ffa500170089fff8ff6700d9ff4bff"
    "b7002cff";

static void fill_q4_1(float *x) { for (int j = 0; j < 32; j++) x[j] = (float)(j % 16) * 0.5f - 3.0f; }
static void fill_q5_0(float *x) { for (int j = 0; j < 32; j++) x[j] = (float)(j - 16); }
static void fill_q5_1(float *x) { for (int j = 0; j < 32; j++) x[j] = (float)j * 0.25f + 1.0f; }

static void fill_q2_K(float *x)
{
    for (int s = 0; s < 16; s++)
        for (int t = 0; t < 16; t++)
            x[16 * s + t] = (float)((5 * t + s) % 4 - s % 4);
}

static void fill_q3_K(float *x)
{
    for (int s = 0; s < 16; s++)
        for (int t = 0; t < 16; t++)
            x[16 * s + t] = (float)(t == 0 ? -4 : (3 * t + s) % 7 - 3) * (s % 2 ? 0.5f : 1.0f);
}

static const int k4_mins[8] = {8, 4, 2, 1, 8, 4, 2, 1};

static void fill_q4_K(float *x)
{
    for (int s = 0; s < 8; s++)
        for (int t = 0; t < 32; t++)
            x[32 * s + t] = (float)((7 * t + s) % 16 - k4_mins[s]);
}

static void fill_q5_K(float *x)
{
    for (int s = 0; s < 8; s++)
        for (int t = 0; t < 32; t++)
            x[32 * s + t] = (float)((7 * t + s) % 32 - k4_mins[s]);
}

static void fill_q6_K(float *x)
{
    for (int s = 0; s < 16; s++)
        for (int t = 0; t < 16; t++)
            x[16 * s + t] = (float)(t == 0 ? -32 : (5 * t + s) % 63 - 31) * (s % 2 ? 0.5f : 1.0f);
}

static void fill_q8_K(float *x)
{
    for (int j = 0; j < 256; j++)
        x[j] = (float)((37 * j) % 253 - 126);
    x[0] = -127.0f;
    x[1] = 0.5f;
    x[2] = 1.5f;
    x[3] = -2.5f;
}

/* One golden row: the format, its input, its bytes, whether its values come back exactly (the
 * formats without a min, on these inputs), and the kernel side's decoder (NULL: none). */
typedef struct golden_row {
    mc_dtype dt;
    const char *ggml_name; /* as a user types it: case varies on purpose */
    void (*fill)(float *x);
    const char *hex;
    int exact;
    mc_qgemv_decode_fn kernel_decode;
} golden_row;

static const golden_row golden_rows[] = {
    {MC_DTYPE_Q4_1, "q4_1", fill_q4_1, golden_q4_1, 1, mc_qgemv_decode_q4_1},
    {MC_DTYPE_Q5_0, "Q5_0", fill_q5_0, golden_q5_0, 1, mc_qgemv_decode_q5_0},
    {MC_DTYPE_Q5_1, "q5_1", fill_q5_1, golden_q5_1, 1, mc_qgemv_decode_q5_1},
    {MC_DTYPE_Q2_K, "Q2_K", fill_q2_K, golden_q2_K, 0, mc_qgemv_decode_q2_K},
    {MC_DTYPE_Q3_K, "q3_k", fill_q3_K, golden_q3_K, 1, mc_qgemv_decode_q3_K},
    {MC_DTYPE_Q4_K, "q4_K", fill_q4_K, golden_q4_K, 0, mc_qgemv_decode_q4_K},
    {MC_DTYPE_Q5_K, "Q5_K", fill_q5_K, golden_q5_K, 0, mc_qgemv_decode_q5_K},
    {MC_DTYPE_Q6_K, "q6_K", fill_q6_K, golden_q6_K, 1, mc_qgemv_decode_q6_K},
    {MC_DTYPE_Q8_K, "q8_K", fill_q8_K, golden_q8_K, 0, NULL},
};

static void from_hex(const char *hex, uint8_t *out, size_t n)
{
    assert_int_equal(strlen(hex), 2 * n);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static int qk_of(mc_dtype dt) { return mc_dtype_info_of(dt)->block_elems; }
static int bytes_of(mc_dtype dt) { return mc_dtype_info_of(dt)->block_bytes; }

static void test_golden_quantise(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof golden_rows / sizeof golden_rows[0]; i++) {
        const golden_row *r = &golden_rows[i];
        float x[MC_QK_K];
        uint8_t want[MC_Q8_K_BLOCK_BYTES], got[MC_Q8_K_BLOCK_BYTES + 1];
        r->fill(x);
        from_hex(r->hex, want, (size_t)bytes_of(r->dt));
        memset(got, 0xEE, sizeof got);
        mc_ref_quantizer_of(r->dt)(x, got, qk_of(r->dt));
        print_message("%s\n", mc_dtype_name(r->dt));
        assert_memory_equal(got, want, (size_t)bytes_of(r->dt));
        assert_int_equal(got[bytes_of(r->dt)], 0xEE); /* one block, no more */
    }
}

/* Exact formats give x back; the others are checked at hand-computed elements. */
typedef struct elem_value {
    mc_dtype dt;
    int j;
    float value;
} elem_value;

static const elem_value hand_values[] = {
    /* q2_K: d sc = fp16(1/15) 15 = 0.999755859375, dmin m = 0.199951171875 lm */
    {MC_DTYPE_Q2_K, 0, 0.0f},                           /* s 0: l 0, m 0 */
    {MC_DTYPE_Q2_K, 16, 0.0f},                          /* s 1: l 1, lm 5: 0.99975.. - 0.99975.. */
    {MC_DTYPE_Q2_K, 49, -2.999267578125f},              /* s 3, t 1: l 0, lm 15 */
    {MC_DTYPE_Q2_K, 50, -1.99951171875f},               /* s 3, t 2: l 1: 0.99975.. - 2.99926.. */
    /* q4_K: d sc = fp16(1/63) 63 = 0.999755859375, dmin lm = 0.126953125 {63, 32, 16, 8} */
    {MC_DTYPE_Q4_K, 0, -7.998046875f},                  /* s 0, t 0: l 0 */
    {MC_DTYPE_Q4_K, 1, -0.999755859375f},               /* s 0, t 1: l 7: 6.998291015625 - 7.998.. */
    {MC_DTYPE_Q4_K, 32, 0.999755859375f - 4.0625f},     /* s 1, t 0: l 1, lm 32 */
    {MC_DTYPE_Q4_K, 255, -1.015625f},                   /* s 7, t 31: l (217 + 7) % 16 = 0, lm 8 */
    /* q5_K: as q4_K, codes to 31 */
    {MC_DTYPE_Q5_K, 3, 12.996826171875f},               /* s 0, t 3: l 21: 20.994873046875 - 7.998.. */
    {MC_DTYPE_Q5_K, 32, 0.999755859375f - 4.0625f},     /* s 1, t 0: l 1 */
    /* q8_K: codes times 1 */
    {MC_DTYPE_Q8_K, 0, -127.0f},
    {MC_DTYPE_Q8_K, 1, 0.0f},
    {MC_DTYPE_Q8_K, 2, 2.0f},
    {MC_DTYPE_Q8_K, 3, -2.0f},
};

static void test_golden_dequantise(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof golden_rows / sizeof golden_rows[0]; i++) {
        const golden_row *r = &golden_rows[i];
        float x[MC_QK_K], y[MC_QK_K];
        uint8_t blk[MC_Q8_K_BLOCK_BYTES];
        r->fill(x);
        from_hex(r->hex, blk, (size_t)bytes_of(r->dt));
        mc_quant_dequantize_row(r->dt, blk, y, qk_of(r->dt));
        for (int j = 0; r->exact && j < qk_of(r->dt); j++)
            assert_true(y[j] == x[j]);
    }
    for (size_t i = 0; i < sizeof hand_values / sizeof hand_values[0]; i++) {
        const elem_value *v = &hand_values[i];
        for (size_t g = 0; g < sizeof golden_rows / sizeof golden_rows[0]; g++) {
            if (golden_rows[g].dt != v->dt)
                continue;
            uint8_t blk[MC_Q8_K_BLOCK_BYTES];
            from_hex(golden_rows[g].hex, blk, (size_t)bytes_of(v->dt));
            print_message("%s element %d\n", mc_dtype_name(v->dt), v->j);
            assert_true(mc_quant_elem(v->dt, blk, v->j, NULL) == (double)v->value);
        }
    }
}

/* xorshift: deterministic bytes. */
static uint32_t next_u32(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Where each format keeps its fp16 scales (byte offsets; -1 ends the list). */
static const int scale_offsets[MC_DTYPE_COUNT][3] = {
    [MC_DTYPE_Q4_1] = {0, 2, -1}, [MC_DTYPE_Q5_0] = {0, -1, -1}, [MC_DTYPE_Q5_1] = {0, 2, -1},
    [MC_DTYPE_Q2_K] = {80, 82, -1}, [MC_DTYPE_Q3_K] = {108, -1, -1}, [MC_DTYPE_Q4_K] = {0, 2, -1},
    [MC_DTYPE_Q5_K] = {0, 2, -1}, [MC_DTYPE_Q6_K] = {208, -1, -1},
};

/* The two decoders (core's per element, the kernels' per block, written apart) agree bit for bit
 * on every element of random blocks (scales kept finite), and with ggml's arithmetic as
 * the golden tests pin it. A swapped nibble, a wrong high-bit position or a min of the wrong sign
 * in either shows up here. */
static void test_decoders_agree(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    for (size_t i = 0; i < sizeof golden_rows / sizeof golden_rows[0]; i++) {
        const golden_row *r = &golden_rows[i];
        if (!r->kernel_decode)
            continue;
        for (int trial = 0; trial < 300; trial++) {
            uint8_t blk[MC_Q8_K_BLOCK_BYTES];
            for (int b = 0; b < bytes_of(r->dt); b++)
                blk[b] = (uint8_t)next_u32(&seed);
            for (int o = 0; o < 3 && scale_offsets[r->dt][o] >= 0; o++)
                blk[scale_offsets[r->dt][o] + 1] &= 0xBF; /* exponent below 31: finite */
            float a[MC_QK_K], b[MC_QK_K];
            mc_quant_dequantize_row(r->dt, blk, a, qk_of(r->dt));
            r->kernel_decode(blk, b);
            for (int j = 0; j < qk_of(r->dt); j++) {
                if (memcmp(&a[j], &b[j], sizeof a[j]) != 0)
                    fail_msg("%s trial %d element %d: core %a, kernel %a", mc_dtype_name(r->dt), trial, j,
                             (double)a[j], (double)b[j]);
            }
        }
    }
}

/* Golden vector from the ggml cross-check (tests/ggml_crosscheck.c, random q4_1 / q5_1 bytes): a
 * NaN min. ggml computes q d + m, so the value is m's NaN itself, sign and payload kept: fp16
 * 0x7E8F is f32 0x7FD1E000. Core's decoders once computed q d - (-m): the negation flipped the
 * NaN's sign bit wherever the compiler did not fold it back (the -O0 sanitizer build: 0xFFD1E000). */
static void test_nan_min_golden(void **state)
{
    (void)state;
    /* d = 1 (0x3C00), m = NaN (0x7E8F), codes 0..15 then 0..15 again, fifth bits clear */
    static const char q4_1[] = "003c8f7e00112233445566778899aabbccddeeff";
    static const char q5_1[] = "003c8f7e0000000000112233445566778899aabbccddeeff";
    const struct {
        mc_dtype dt;
        const char *hex;
        mc_qgemv_decode_fn kernel_decode;
    } rows[] = {{MC_DTYPE_Q4_1, q4_1, mc_qgemv_decode_q4_1}, {MC_DTYPE_Q5_1, q5_1, mc_qgemv_decode_q5_1}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint8_t blk[MC_Q5_1_BLOCK_BYTES];
        float core[MC_QK], kernel[MC_QK];
        from_hex(rows[i].hex, blk, (size_t)bytes_of(rows[i].dt));
        mc_quant_dequantize_row(rows[i].dt, blk, core, MC_QK);
        rows[i].kernel_decode(blk, kernel);
        for (int j = 0; j < MC_QK; j++) {
            uint32_t c, k;
            memcpy(&c, &core[j], 4);
            memcpy(&k, &kernel[j], 4);
            if (c != 0x7FD1E000u || k != 0x7FD1E000u)
                fail_msg("%s element %d: core 0x%08x, kernel 0x%08x, ggml 0x7fd1e000", mc_dtype_name(rows[i].dt), j,
                         c, k);
        }
    }
}

/* mag is |scale part| + |min part| and bounds the value. */
static void test_elem_magnitude(void **state)
{
    (void)state;
    uint8_t blk[MC_Q4_K_BLOCK_BYTES];
    from_hex(golden_q4_K, blk, sizeof blk);
    double mag = 0;
    /* element 1: 7 d sc - dmin lm = 6.998291015625 - 7.998046875 */
    mc_quant_elem(MC_DTYPE_Q4_K, blk, 1, &mag);
    assert_true(mag == 6.998291015625 + 7.998046875);
    uint8_t q6[MC_Q6_K_BLOCK_BYTES];
    from_hex(golden_q6_K, q6, sizeof q6);
    mc_quant_elem(MC_DTYPE_Q6_K, q6, 0, &mag);
    assert_true(mag == 32.0);
}

/* ---- the CLI: every format, names in any case --------------------------------------------- */

static char tmp_dir[64];

static int setup_tmp(void **state)
{
    (void)state;
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/mc_test_qformat_XXXXXX");
    return mkdtemp(tmp_dir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
    (void)state;
    static const char *const names[] = {"x.f32", "x.bin", "y.f32"};
    char path[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmp_dir, names[i]);
        unlink(path);
    }
    return rmdir(tmp_dir);
}

static size_t file_bytes(const char *path, void *data, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(data, 1, cap, f);
    fclose(f);
    return n;
}

static void test_cli_round_trips(void **state)
{
    (void)state;
    char in[128], bin[128], back[128];
    snprintf(in, sizeof in, "%s/x.f32", tmp_dir);
    snprintf(bin, sizeof bin, "%s/x.bin", tmp_dir);
    snprintf(back, sizeof back, "%s/y.f32", tmp_dir);
    for (size_t i = 0; i < sizeof golden_rows / sizeof golden_rows[0]; i++) {
        const golden_row *r = &golden_rows[i];
        const int qk = qk_of(r->dt), nb = bytes_of(r->dt);
        float x[2 * MC_QK_K], y[2 * MC_QK_K + 1], ref[2 * MC_QK_K];
        uint8_t want[2 * MC_Q8_K_BLOCK_BYTES], got[2 * MC_Q8_K_BLOCK_BYTES + 1];
        r->fill(x);
        memcpy(x + qk, x, (size_t)qk * sizeof *x); /* two blocks */
        FILE *f = fopen(in, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(x, sizeof *x, (size_t)(2 * qk), f), (size_t)(2 * qk));
        assert_int_equal(fclose(f), 0);
        char *q[] = {"quantize", "--type", (char *)r->ggml_name, "--in", in, "--out", bin, NULL};
        print_message("%s\n", r->ggml_name);
        assert_int_equal(mc_cli_quantize(7, q), 0);
        from_hex(r->hex, want, (size_t)nb);
        memcpy(want + nb, want, (size_t)nb);
        assert_int_equal(file_bytes(bin, got, sizeof got), (size_t)(2 * nb));
        assert_memory_equal(got, want, (size_t)(2 * nb));
        /* ggml's name with every letter's case swapped ("Q4_k"): --type ignores case */
        char swapped[16];
        snprintf(swapped, sizeof swapped, "%s", r->ggml_name);
        for (char *c = swapped; *c; c++)
            *c = (char)(islower((unsigned char)*c) ? toupper((unsigned char)*c) : tolower((unsigned char)*c));
        char *d[] = {"dequantize", "--type", swapped, "--in", bin, "--out", back, NULL};
        assert_int_equal(mc_cli_dequantize(7, d), 0);
        mc_quant_dequantize_row(r->dt, want, ref, 2 * qk);
        assert_int_equal(file_bytes(back, y, sizeof y), (size_t)(2 * qk) * sizeof *y);
        assert_memory_equal(y, ref, (size_t)(2 * qk) * sizeof *y);
    }
    /* a K-quant needs whole 256-value super-blocks: 32 values are refused (exit 2) */
    FILE *f = fopen(in, "wb");
    float zeros[32] = {0};
    assert_non_null(f);
    assert_int_equal(fwrite(zeros, sizeof zeros, 1, f), 1);
    assert_int_equal(fclose(f), 0);
    char *q[] = {"quantize", "--type", "q4_K", "--in", in, "--out", bin, NULL};
    assert_int_equal(mc_cli_quantize(7, q), 2);
}

/* ---- row kernels -------------------------------------------------------------------------- */

/* Two golden super-blocks as a row (the second at an odd byte offset, block stride one block
 * plus 3 bytes), dotted with small integers: each dequantising kernel equals the f32 dot of the
 * decoded weights in element order, and the q8_K dots equal the exact sum to f32 accuracy. */
static void test_row_kernels(void **state)
{
    (void)state;
    mc_qgemv_fill_tables();
    static const struct {
        mc_dtype dt;
        mc_qgemv_row_fn row;
        int q8dot;
    } kernels[] = {
        {MC_DTYPE_Q4_1, mc_qgemv_row_q4_1_scalar, 0}, {MC_DTYPE_Q5_0, mc_qgemv_row_q5_0_scalar, 0},
        {MC_DTYPE_Q5_1, mc_qgemv_row_q5_1_scalar, 0}, {MC_DTYPE_Q2_K, mc_qgemv_row_q2_K_scalar, 0},
        {MC_DTYPE_Q3_K, mc_qgemv_row_q3_K_scalar, 0}, {MC_DTYPE_Q4_K, mc_qgemv_row_q4_K_scalar, 0},
        {MC_DTYPE_Q5_K, mc_qgemv_row_q5_K_scalar, 0}, {MC_DTYPE_Q6_K, mc_qgemv_row_q6_K_scalar, 0},
        {MC_DTYPE_Q4_K, mc_qgemv_row_q4_K_q8dot_scalar, 1}, {MC_DTYPE_Q6_K, mc_qgemv_row_q6_K_q8dot_scalar, 1},
        {MC_DTYPE_Q4_K, mc_qgemv_row_q4_K_avx2, 2}, {MC_DTYPE_Q6_K, mc_qgemv_row_q6_K_avx2, 2},
        {MC_DTYPE_Q4_K, mc_qgemv_row_q4_K_q8dot_avx2, 3}, {MC_DTYPE_Q6_K, mc_qgemv_row_q6_K_q8dot_avx2, 3},
        {MC_DTYPE_Q4_1, mc_qgemv_row_q4_1_q8dot_scalar, 1}, {MC_DTYPE_Q5_0, mc_qgemv_row_q5_0_q8dot_scalar, 1},
        {MC_DTYPE_Q5_1, mc_qgemv_row_q5_1_q8dot_scalar, 1}, {MC_DTYPE_Q2_K, mc_qgemv_row_q2_K_q8dot_scalar, 1},
        {MC_DTYPE_Q3_K, mc_qgemv_row_q3_K_q8dot_scalar, 1}, {MC_DTYPE_Q5_K, mc_qgemv_row_q5_K_q8dot_scalar, 1},
        {MC_DTYPE_Q4_1, mc_qgemv_row_q4_1_avx2, 2}, {MC_DTYPE_Q5_0, mc_qgemv_row_q5_0_avx2, 2},
        {MC_DTYPE_Q5_1, mc_qgemv_row_q5_1_avx2, 2}, {MC_DTYPE_Q2_K, mc_qgemv_row_q2_K_avx2, 2},
        {MC_DTYPE_Q3_K, mc_qgemv_row_q3_K_avx2, 2}, {MC_DTYPE_Q5_K, mc_qgemv_row_q5_K_avx2, 2},
        {MC_DTYPE_Q4_1, mc_qgemv_row_q4_1_q8dot_avx2, 3}, {MC_DTYPE_Q5_0, mc_qgemv_row_q5_0_q8dot_avx2, 3},
        {MC_DTYPE_Q5_1, mc_qgemv_row_q5_1_q8dot_avx2, 3}, {MC_DTYPE_Q2_K, mc_qgemv_row_q2_K_q8dot_avx2, 3},
        {MC_DTYPE_Q3_K, mc_qgemv_row_q3_K_q8dot_avx2, 3}, {MC_DTYPE_Q5_K, mc_qgemv_row_q5_K_q8dot_avx2, 3},
    };
    for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++) {
        const mc_dtype dt = kernels[k].dt;
        if (kernels[k].q8dot >= 2 && !mc_cpu_has_avx2())
            continue; /* the AVX2 kernels are covered where the cpu has AVX2 */
        const int qk = qk_of(dt), nb = bytes_of(dt), stride = nb + 3;
        uint8_t row[1 + 2 * (MC_Q8_K_BLOCK_BYTES + 3)], xq[2 * MC_Q8_K_BLOCK_BYTES];
        for (size_t g = 0; g < sizeof golden_rows / sizeof golden_rows[0]; g++)
            if (golden_rows[g].dt == dt) {
                from_hex(golden_rows[g].hex, row + 1, (size_t)nb);
                from_hex(golden_rows[g].hex, row + 1 + stride, (size_t)nb);
            }
        row[1 + stride + 4] ^= 0x21; /* second block: other scales */
        float x[2 * MC_QK_K], w[2 * MC_QK_K];
        for (int p = 0; p < 2 * qk; p++)
            x[p] = (float)((p * 29) % 255 - 127); /* integers: q8_K takes them exactly */
        x[0] = 127.0f;
        x[qk] = -127.0f;
        mc_quant_dequantize_row(dt, row + 1, w, qk);
        mc_quant_dequantize_row(dt, row + 1 + stride, w + qk, qk);
        float want = 0.0f;
        double exact = 0, mag = 0;
        for (int p = 0; p < 2 * qk; p++) {
            want += w[p] * x[p];
            exact += (double)w[p] * x[p];
            mag += fabs((double)w[p] * x[p]);
        }
        if (kernels[k].q8dot % 2 && qk == MC_QK_K) /* 1: scalar dot, 3: AVX2 one; 0, 2: dequantising */
            mc_qgemv_quantise_x_q8_K_scalar(x, xq, 2 * qk);
        else if (kernels[k].q8dot % 2) /* the 32-element formats' dots take q8_0 (amax 127: d = 1) */
            mc_qgemv_quantise_x_q8_0_scalar(x, xq, 2 * qk);
        const float got = kernels[k].row(row + 1, stride, 2, x, kernels[k].q8dot % 2 ? xq : NULL);
        print_message("%s kernel %zu: %a, f32 dot %a, exact %a\n", mc_dtype_name(dt), k, (double)got, (double)want,
                      exact);
        if (kernels[k].q8dot) /* mins subtracted apart, other sum orders; q8 codes are x itself */
            assert_true(fabs(got - exact) <= 1e-5 * mag);
        else
            assert_true(got == want);
    }
}

/* The rows-at-once AVX-512 q8_K dots: MC_QGEMV_ROWS_MAX rows of two super-blocks each (the
 * golden block with a different scale byte per row, odd block bases and padded strides), x
 * integers as above. Each row's value is within f32 accuracy of the exact dot, and is the same
 * bits whether the row goes alone or with others (the driver groups rows wherever a thread's share
 * falls; a full group runs together, a smaller one row by row). */
static void test_rows_kernels_avx512(void **state)
{
    (void)state;
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512vnni")) {
        print_message("skipped: the cpu lacks AVX-512 F, BW, VL or VNNI\n");
        skip();
    }
    mc_qgemv_fill_tables();
    static const struct {
        mc_dtype dt;
        mc_qgemv_rows_fn rows;
    } kernels[] = {{MC_DTYPE_Q4_K, mc_qgemv_rows_q4_K_q8dot_avx512}, {MC_DTYPE_Q6_K, mc_qgemv_rows_q6_K_q8dot_avx512}};
    for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++) {
        const mc_dtype dt = kernels[k].dt;
        const int nb = bytes_of(dt), stride = nb + 3, row_stride = 2 * stride + 5;
        uint8_t rows[1 + MC_QGEMV_ROWS_MAX * (2 * (MC_Q8_K_BLOCK_BYTES + 3) + 5)], xq[2 * MC_Q8_K_BLOCK_BYTES];
        float x[2 * MC_QK_K], w[2 * MC_QK_K], alone[MC_QGEMV_ROWS_MAX], out[MC_QGEMV_ROWS_MAX];
        for (int p = 0; p < 2 * MC_QK_K; p++)
            x[p] = (float)((p * 29) % 255 - 127);
        x[0] = 127.0f;
        x[MC_QK_K] = -127.0f;
        mc_qgemv_quantise_x_q8_K_scalar(x, xq, 2 * MC_QK_K);
        for (int r = 0; r < MC_QGEMV_ROWS_MAX; r++)
            for (int b = 0; b < 2; b++) {
                uint8_t *blk = rows + 1 + r * row_stride + b * stride;
                for (size_t g = 0; g < sizeof golden_rows / sizeof golden_rows[0]; g++)
                    if (golden_rows[g].dt == dt)
                        from_hex(golden_rows[g].hex, blk, (size_t)nb);
                blk[dt == MC_DTYPE_Q4_K ? 4 + (2 * r + b) % 12 : 192 + (4 * r + b) % 16] ^= (uint8_t)(0x21 + 0x12 * r);
            }
        for (int r = 0; r < MC_QGEMV_ROWS_MAX; r++) {
            kernels[k].rows(rows + 1 + r * row_stride, row_stride, 1, stride, 2, x, xq, alone + r);
            mc_quant_dequantize_row(dt, rows + 1 + r * row_stride, w, MC_QK_K);
            mc_quant_dequantize_row(dt, rows + 1 + r * row_stride + stride, w + MC_QK_K, MC_QK_K);
            double exact = 0, mag = 0;
            for (int p = 0; p < 2 * MC_QK_K; p++) {
                exact += (double)w[p] * x[p];
                mag += fabs((double)w[p] * x[p]);
            }
            print_message("%s row %d: %a, exact %a\n", mc_dtype_name(dt), r, (double)alone[r], exact);
            assert_true(fabs(alone[r] - exact) <= 1e-5 * mag);
        }
        for (int n = 2; n <= MC_QGEMV_ROWS_MAX; n++) {
            kernels[k].rows(rows + 1 + (MC_QGEMV_ROWS_MAX - n) * row_stride, row_stride, n, stride, 2, x, xq, out);
            for (int i = 0; i < n; i++)
                assert_memory_equal(&out[i], &alone[MC_QGEMV_ROWS_MAX - n + i], sizeof out[i]);
        }
    }
}

/* The q8_K quantiser of the kernels takes ties to even and gives ggml's bytes on the golden
 * input; the reference one too; and the activation bound holds on random blocks. */
static void test_q8_K_activations(void **state)
{
    (void)state;
    float x[MC_QK_K];
    uint8_t want[MC_Q8_K_BLOCK_BYTES], got[MC_Q8_K_BLOCK_BYTES];
    fill_q8_K(x);
    from_hex(golden_q8_K, want, sizeof want);
    mc_qgemv_quantise_x_q8_K_scalar(x, got, MC_QK_K);
    assert_memory_equal(got, want, sizeof want);
    /* an all-zero block: d = 0, codes and bsums 0 (ggml leaves bsums unwritten; both sides zero) */
    memset(x, 0, sizeof x);
    memset(want, 0, sizeof want);
    memset(got, 0xEE, sizeof got);
    mc_qgemv_quantise_x_q8_K_scalar(x, got, MC_QK_K);
    assert_memory_equal(got, want, sizeof want);
    memset(got, 0xEE, sizeof got);
    mc_ref_quantize_row_q8_K(x, got, MC_QK_K);
    assert_memory_equal(got, want, sizeof want);
    uint32_t seed = 99;
    for (int trial = 0; trial < 200; trial++) {
        const float scale = ldexpf(1.0f, (int)(next_u32(&seed) % 40) - 20);
        for (int j = 0; j < MC_QK_K; j++)
            x[j] = ((float)(next_u32(&seed) % 2001) - 1000.0f) / 1000.0f * scale;
        mc_ref_quantize_row_q8_K(x, got, MC_QK_K);
        const double e = mc_ref_q8_K_act_error(x);
        for (int j = 0; j < MC_QK_K; j++) {
            const double back = mc_quant_elem(MC_DTYPE_Q8_K, got, j, NULL);
            assert_true(fabs((double)x[j] - back) <= e);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_quantise),
        cmocka_unit_test(test_golden_dequantise),
        cmocka_unit_test(test_decoders_agree),
        cmocka_unit_test(test_nan_min_golden),
        cmocka_unit_test(test_elem_magnitude),
        cmocka_unit_test(test_cli_round_trips),
        cmocka_unit_test(test_row_kernels),
        cmocka_unit_test(test_rows_kernels_avx512),
        cmocka_unit_test(test_q8_K_activations),
    };
    return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
