/* stats/peaks_kernels.c: the bandwidth probe's loops. Four independent vector accumulators over
 * XOR: no dependency chain limits a read, so a cache is read at its own rate (a scalar loop once
 * made a cached GEMV look like "384% of read bw"). From DRAM, reads also come with software
 * prefetch (as the GEMV kernels read), writes and copies with streaming stores; the probe keeps
 * the faster form.
 * SPDX-License-Identifier: MIT */
#include "peaks_kernels.h"

#include <assert.h>
#include <string.h>

/* ---- portable C: 8-byte words ---- */

static uint64_t read_c(const unsigned char *src, unsigned char *dst, size_t bytes)
{
    (void)dst;
    uint64_t a = 0, b = 0, c = 0, d = 0;
    for (size_t i = 0; i < bytes; i += 32) {
        uint64_t w[4];
        memcpy(w, src + i, sizeof w);
        a ^= w[0];
        b ^= w[1];
        c ^= w[2];
        d ^= w[3];
    }
    return a ^ b ^ c ^ d;
}

static uint64_t write_c(const unsigned char *src, unsigned char *dst, size_t bytes)
{
    memset(dst, src[0], bytes);
    __asm__ volatile("" : : "r"(dst) : "memory"); /* every pass happens */
    return 0;
}

static uint64_t copy_c(const unsigned char *src, unsigned char *dst, size_t bytes)
{
    memcpy(dst, src, bytes);
    __asm__ volatile("" : : "r"(dst) : "memory");
    return dst[0];
}

static const mc_peaks_kernel portable[] = {
    {read_c, MC_TRAFFIC_READ, 0},
    {write_c, MC_TRAFFIC_WRITE, 0},
    {copy_c, MC_TRAFFIC_COPY, 0},
    {NULL, MC_TRAFFIC_READ, 0},
};

#if defined(__x86_64__)
#include <immintrin.h>

/* Prefetch distance of the far reads: one core needs more misses in flight than the hardware
 * prefetcher keeps (measured here: 13 GB/s without, 15-20 with, on one thread). Prefetching past
 * the buffer's end is harmless: a prefetch never faults. */
#define FAR_PREFETCH 1024

/* ---- AVX2: 32-byte vectors ---- */

__attribute__((target("avx2"))) static uint64_t read_avx2(const unsigned char *src, unsigned char *dst, size_t bytes)
{
    (void)dst;
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
    for (size_t i = 0; i < bytes; i += 128) {
        a = _mm256_xor_si256(a, _mm256_load_si256((const __m256i *)(const void *)(src + i)));
        b = _mm256_xor_si256(b, _mm256_load_si256((const __m256i *)(const void *)(src + i + 32)));
        c = _mm256_xor_si256(c, _mm256_load_si256((const __m256i *)(const void *)(src + i + 64)));
        d = _mm256_xor_si256(d, _mm256_load_si256((const __m256i *)(const void *)(src + i + 96)));
    }
    __m256i all = _mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(c, d));
    return (uint64_t)_mm256_extract_epi64(all, 0) ^ (uint64_t)_mm256_extract_epi64(all, 3);
}

__attribute__((target("avx2"))) static uint64_t read_pf_avx2(const unsigned char *src, unsigned char *dst,
                                                              size_t bytes)
{
    (void)dst;
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
    for (size_t i = 0; i < bytes; i += 128) {
        _mm_prefetch((const char *)(src + i + FAR_PREFETCH), _MM_HINT_T0);
        _mm_prefetch((const char *)(src + i + FAR_PREFETCH + 64), _MM_HINT_T0);
        a = _mm256_xor_si256(a, _mm256_load_si256((const __m256i *)(const void *)(src + i)));
        b = _mm256_xor_si256(b, _mm256_load_si256((const __m256i *)(const void *)(src + i + 32)));
        c = _mm256_xor_si256(c, _mm256_load_si256((const __m256i *)(const void *)(src + i + 64)));
        d = _mm256_xor_si256(d, _mm256_load_si256((const __m256i *)(const void *)(src + i + 96)));
    }
    __m256i all = _mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(c, d));
    return (uint64_t)_mm256_extract_epi64(all, 0) ^ (uint64_t)_mm256_extract_epi64(all, 3);
}

__attribute__((target("avx2"))) static uint64_t write_avx2(const unsigned char *src, unsigned char *dst,
                                                            size_t bytes)
{
    const __m256i v = _mm256_set1_epi8((char)src[0]);
    for (size_t i = 0; i < bytes; i += 64) {
        _mm256_store_si256((__m256i *)(void *)(dst + i), v);
        _mm256_store_si256((__m256i *)(void *)(dst + i + 32), v);
    }
    __asm__ volatile("" : : "r"(dst) : "memory");
    return 0;
}

__attribute__((target("avx2"))) static uint64_t write_nt_avx2(const unsigned char *src, unsigned char *dst,
                                                               size_t bytes)
{
    const __m256i v = _mm256_set1_epi8((char)src[0]);
    for (size_t i = 0; i < bytes; i += 64) {
        _mm256_stream_si256((__m256i *)(void *)(dst + i), v);
        _mm256_stream_si256((__m256i *)(void *)(dst + i + 32), v);
    }
    _mm_sfence();
    return 0;
}

__attribute__((target("avx2"))) static uint64_t copy_avx2(const unsigned char *src, unsigned char *dst, size_t bytes)
{
    for (size_t i = 0; i < bytes; i += 64) {
        __m256i x = _mm256_load_si256((const __m256i *)(const void *)(src + i));
        __m256i y = _mm256_load_si256((const __m256i *)(const void *)(src + i + 32));
        _mm256_store_si256((__m256i *)(void *)(dst + i), x);
        _mm256_store_si256((__m256i *)(void *)(dst + i + 32), y);
    }
    __asm__ volatile("" : : "r"(dst) : "memory");
    return dst[0];
}

__attribute__((target("avx2"))) static uint64_t copy_nt_avx2(const unsigned char *src, unsigned char *dst,
                                                              size_t bytes)
{
    for (size_t i = 0; i < bytes; i += 64) {
        __m256i x = _mm256_load_si256((const __m256i *)(const void *)(src + i));
        __m256i y = _mm256_load_si256((const __m256i *)(const void *)(src + i + 32));
        _mm256_stream_si256((__m256i *)(void *)(dst + i), x);
        _mm256_stream_si256((__m256i *)(void *)(dst + i + 32), y);
    }
    _mm_sfence();
    return src[0];
}

static const mc_peaks_kernel avx2[] = {
    {read_avx2, MC_TRAFFIC_READ, 0},
    {read_pf_avx2, MC_TRAFFIC_READ, 1},
    {write_avx2, MC_TRAFFIC_WRITE, 0},
    {write_nt_avx2, MC_TRAFFIC_WRITE, 1},
    {copy_avx2, MC_TRAFFIC_COPY, 0},
    {copy_nt_avx2, MC_TRAFFIC_COPY, 1},
    {NULL, MC_TRAFFIC_READ, 0},
};

/* ---- AVX-512: 64-byte vectors ---- */

__attribute__((target("avx512f"))) static uint64_t read_avx512(const unsigned char *src, unsigned char *dst,
                                                                size_t bytes)
{
    (void)dst;
    __m512i a = _mm512_setzero_si512(), b = a, c = a, d = a;
    for (size_t i = 0; i < bytes; i += MC_PEAKS_BLOCK) {
        a = _mm512_xor_si512(a, _mm512_load_si512((const void *)(src + i)));
        b = _mm512_xor_si512(b, _mm512_load_si512((const void *)(src + i + 64)));
        c = _mm512_xor_si512(c, _mm512_load_si512((const void *)(src + i + 128)));
        d = _mm512_xor_si512(d, _mm512_load_si512((const void *)(src + i + 192)));
    }
    return (uint64_t)_mm512_reduce_or_epi64(_mm512_xor_si512(_mm512_xor_si512(a, b), _mm512_xor_si512(c, d)));
}

__attribute__((target("avx512f"))) static uint64_t write_avx512(const unsigned char *src, unsigned char *dst,
                                                                 size_t bytes)
{
    const __m512i v = _mm512_set1_epi32((int)src[0]);
    for (size_t i = 0; i < bytes; i += 128) {
        _mm512_store_si512((void *)(dst + i), v);
        _mm512_store_si512((void *)(dst + i + 64), v);
    }
    __asm__ volatile("" : : "r"(dst) : "memory");
    return 0;
}

__attribute__((target("avx512f"))) static uint64_t write_nt_avx512(const unsigned char *src, unsigned char *dst,
                                                                    size_t bytes)
{
    const __m512i v = _mm512_set1_epi32((int)src[0]);
    for (size_t i = 0; i < bytes; i += 128) {
        _mm512_stream_si512((void *)(dst + i), v);
        _mm512_stream_si512((void *)(dst + i + 64), v);
    }
    _mm_sfence();
    return 0;
}

__attribute__((target("avx512f"))) static uint64_t copy_avx512(const unsigned char *src, unsigned char *dst,
                                                                size_t bytes)
{
    for (size_t i = 0; i < bytes; i += 128) {
        __m512i x = _mm512_load_si512((const void *)(src + i));
        __m512i y = _mm512_load_si512((const void *)(src + i + 64));
        _mm512_store_si512((void *)(dst + i), x);
        _mm512_store_si512((void *)(dst + i + 64), y);
    }
    __asm__ volatile("" : : "r"(dst) : "memory");
    return dst[0];
}

__attribute__((target("avx512f"))) static uint64_t copy_nt_avx512(const unsigned char *src, unsigned char *dst,
                                                                   size_t bytes)
{
    for (size_t i = 0; i < bytes; i += 128) {
        __m512i x = _mm512_load_si512((const void *)(src + i));
        __m512i y = _mm512_load_si512((const void *)(src + i + 64));
        _mm512_stream_si512((void *)(dst + i), x);
        _mm512_stream_si512((void *)(dst + i + 64), y);
    }
    _mm_sfence();
    return src[0];
}

__attribute__((target("avx512f"))) static uint64_t read_pf_avx512(const unsigned char *src, unsigned char *dst,
                                                                   size_t bytes)
{
    (void)dst;
    __m512i a = _mm512_setzero_si512(), b = a, c = a, d = a;
    for (size_t i = 0; i < bytes; i += MC_PEAKS_BLOCK) {
        for (size_t line = 0; line < MC_PEAKS_BLOCK; line += 64)
            _mm_prefetch((const char *)(src + i + FAR_PREFETCH + line), _MM_HINT_T0);
        a = _mm512_xor_si512(a, _mm512_load_si512((const void *)(src + i)));
        b = _mm512_xor_si512(b, _mm512_load_si512((const void *)(src + i + 64)));
        c = _mm512_xor_si512(c, _mm512_load_si512((const void *)(src + i + 128)));
        d = _mm512_xor_si512(d, _mm512_load_si512((const void *)(src + i + 192)));
    }
    return (uint64_t)_mm512_reduce_or_epi64(_mm512_xor_si512(_mm512_xor_si512(a, b), _mm512_xor_si512(c, d)));
}

/* Far reads on several streams at once, each with its prefetch, as a GEMV reads several rows: on
 * the shared 2-core Xeon VM one sequential stream per core kept too few misses in flight (in one
 * run a 940 MB f32 GEMV, two rows per pass, read 6.6 GB/s where this probe's one-stream reads gave
 * 4.9: a roof below the rows held to it). The slice's quarters are read side by side. */
#define FAR_STREAMS 4
static_assert(MC_PEAKS_BLOCK == FAR_STREAMS * 64, "each stream's share is whole 64-byte lines");

__attribute__((target("avx512f"))) static uint64_t read_streams_avx512(const unsigned char *src, unsigned char *dst,
                                                                        size_t bytes)
{
    (void)dst;
    const size_t part = bytes / FAR_STREAMS; /* bytes: whole MC_PEAKS_BLOCKs, four lines each */
    __m512i acc[FAR_STREAMS];
#pragma GCC unroll 4
    for (int s = 0; s < FAR_STREAMS; s++)
        acc[s] = _mm512_setzero_si512();
    for (size_t i = 0; i < part; i += 64)
#pragma GCC unroll 4
        for (int s = 0; s < FAR_STREAMS; s++) {
            const unsigned char *p = src + (size_t)s * part + i;
            _mm_prefetch((const char *)(p + FAR_PREFETCH), _MM_HINT_T0);
            acc[s] = _mm512_xor_si512(acc[s], _mm512_load_si512((const void *)p));
        }
    return (uint64_t)_mm512_reduce_or_epi64(
        _mm512_xor_si512(_mm512_xor_si512(acc[0], acc[1]), _mm512_xor_si512(acc[2], acc[3])));
}

static const mc_peaks_kernel avx512[] = {
    {read_avx512, MC_TRAFFIC_READ, 0},
    {read_pf_avx512, MC_TRAFFIC_READ, 1},
    {read_streams_avx512, MC_TRAFFIC_READ, 1},
    {write_avx512, MC_TRAFFIC_WRITE, 0},
    {write_nt_avx512, MC_TRAFFIC_WRITE, 1},
    {copy_avx512, MC_TRAFFIC_COPY, 0},
    {copy_nt_avx512, MC_TRAFFIC_COPY, 1},
    {NULL, MC_TRAFFIC_READ, 0},
};
#endif

const mc_peaks_kernel *mc_peaks_kernels(void)
{
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f"))
        return avx512;
    if (__builtin_cpu_supports("avx2"))
        return avx2;
#endif
    return portable;
}
