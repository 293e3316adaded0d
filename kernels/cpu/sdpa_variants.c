/* kernels/cpu/sdpa_variants.c: the SDPA variants of seed 3.2: three-stage (QK^T GEMM, softmax, PV GEMM),
 * fused QK-softmax (one pass over K per query row, then PV) and flash-style tiled online softmax.
 * SPDX-License-Identifier: MIT
 *
 * What they share and how they differ:
 *  1. All three use the AVX2 building blocks of sdpa_avx2.c and softmax_avx2.c, so each declares the
 *     AVX2/FMA/F16C probe. Rows that vector loads cannot take (strided, or off an element boundary)
 *     go through scalar loads; every layout, dtype and alignment is handled, none is declined.
 *  2. three-stage packs each kv head once, as GEMM packing does: K^T into an f32 panel (d x n_kv,
 *     columns padded to 16 with zeros) and V into f32 rows (padded to 16 columns). flash loads one
 *     tile of keys at a time the same way (the CPU's analog of a GPU's threadgroup memory).
 *     fused reads K and V in place, through their strides, in their own dtype. Nothing else is
 *     copied; queries are read a row (flash: a block of rows) at a time.
 *  3. three-stage materialises each head's scores (n_q x n_kv), normalises them in place, then
 *     multiplies by V: it computes masked scores too, as discrete ops do. fused and flash never
 *     touch keys a causal mask hides.
 *  4. Each query row's arithmetic is fixed by its inputs, never by which thread ran it or how rows
 *     were split, so results are bitwise the same for every thread count.
 *  5. A query row that sees no key (causal with a negative offset) is written as 0.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/cpu_access.h"
#include "kernels/cpu/cpu_threads.h"
#include "kernels/cpu/sdpa_avx2.h"
#include "kernels/cpu/softmax_avx2.h"

#define SDPA_FLOPS_PER_THREAD 2000000.0 /* below this much work per thread, waking one costs more */

typedef struct sdpa_dims {
    int64_t d, dv, n_q, n_kv, heads, kv_heads, group;
    int64_t nkv_pad, dv_pad; /* n_kv and dv rounded up to 16: the GEMM's panel width */
} sdpa_dims;

static sdpa_dims dims_of(const mc_sdpa_args *s)
{
    sdpa_dims d = {
        .d = s->q.ne[0], .dv = s->v.ne[0], .n_q = s->q.ne[1], .n_kv = s->k.ne[1],
        .heads = s->q.ne[2], .kv_heads = s->k.ne[2],
    };
    d.group = d.heads / d.kv_heads;
    d.nkv_pad = (d.n_kv + 15) / 16 * 16;
    d.dv_pad = (d.dv + 15) / 16 * 16;
    return d;
}

/* 32-byte aligned floats; zeroed when asked (large buffers that get fully written are not, to
 * spare a pass over memory). */
static float *alloc_floats(int64_t n, int zero)
{
    size_t bytes = ((size_t)n * sizeof(float) + 31) / 32 * 32;
    float *p = aligned_alloc(32, bytes ? bytes : 32);
    if (p && zero)
        memset(p, 0, bytes ? bytes : 32);
    return p;
}

/* dst[c] = scale * t[c, i1, i2] for c < n: vector loads for a dense row, else one by one. */
static void load_row(const mc_tensor *t, int64_t i1, int64_t i2, int64_t n, float scale, float *dst)
{
    const uint8_t *p = mc_cpu_elem_ptr(t, 0, i1, i2, 0);
    if (mc_cpu_row_is_dense_aligned(t, p)) {
        mc_avx2_load_row(t->dtype, p, n, scale, dst);
        return;
    }
    for (int64_t c = 0; c < n; c++)
        dst[c] = scale * mc_cpu_load(t->dtype, p + c * t->nb[0]);
}

/* o[c, i, h] = src[c] / div for c < dv (0 when div is 0: the row saw no key). */
static void store_row(const mc_tensor *o, int64_t i, int64_t h, const float *src, float div)
{
    uint8_t *p = mc_cpu_elem_ptr(o, 0, i, h, 0);
    const int64_t n = o->ne[0];
    const int empty = div == 0.0f;
    if (mc_cpu_row_is_dense_aligned(o, p)) {
        mc_avx2_store_row(o->dtype, p, src, n, empty ? 0.0f : 1.0f, empty ? 1.0f : div);
        return;
    }
    for (int64_t c = 0; c < n; c++)
        mc_cpu_store(o->dtype, p + c * o->nb[0], empty ? 0.0f : src[c] / div);
}

static int threads_for(const mc_kernel_ctx *kc, double flops, int64_t items)
{
    double want = flops / SDPA_FLOPS_PER_THREAD;
    if (want > kc->threads)
        want = kc->threads;
    if (want > (double)items)
        want = (double)items;
    return want < 1.0 ? 1 : (int)want;
}

/* ---- packing ---- */

/* Every row of t (dims 1 and 2) is dense and element-aligned: the base, and both strides, keep
 * rows on element boundaries. */
static int rows_dense(const mc_tensor *t)
{
    const int64_t eb = mc_cpu_elem_bytes(t->dtype);
    return mc_cpu_row_is_dense_aligned(t, mc_cpu_elem_ptr(t, 0, 0, 0, 0)) && t->nb[1] % eb == 0 &&
           t->nb[2] % eb == 0;
}

/* dst[c * ldd + t] = K[c, j0 + t, g] for t < nk, c < d: keys j0.. of kv head g as K^T in f32. */
static void pack_keys_transposed(const mc_tensor *k, int k_dense, int64_t g, int64_t j0, int64_t nk, float *dst,
                                 int64_t ldd)
{
    const uint8_t *src = mc_cpu_elem_ptr(k, 0, j0, g, 0);
    if (k_dense) {
        mc_sdpa_pack_transposed_avx2(k->dtype, src, k->nb[1], nk, k->ne[0], dst, ldd);
        return;
    }
    for (int64_t t = 0; t < nk; t++)
        for (int64_t c = 0; c < k->ne[0]; c++)
            dst[c * ldd + t] = mc_cpu_load(k->dtype, src + t * k->nb[1] + c * k->nb[0]);
}

/* dst[t * ldd + c] = V[c, j0 + t, g] for t < nk, c < dv: values as f32 rows. */
static void pack_values(const mc_tensor *v, int64_t g, int64_t j0, int64_t nk, float *dst, int64_t ldd)
{
    for (int64_t t = 0; t < nk; t++)
        load_row(v, j0 + t, g, v->ne[0], 1.0f, dst + t * ldd);
}

typedef struct sdpa_packed {
    float *kt; /* per kv head: d rows of nkv_pad (K transposed) */
    float *v;  /* per kv head: nkv_pad rows of dv_pad */
} sdpa_packed;

#define PACK_KEYS 64 /* keys per packing task */

typedef struct pack_job {
    const mc_sdpa_args *s;
    sdpa_dims dm;
    sdpa_packed pk;
    int k_dense;
} pack_job;

static void pack_task(void *arg, int tid, int nthreads)
{
    pack_job *job = arg;
    const sdpa_dims *dm = &job->dm;
    const int64_t blocks = (dm->n_kv + PACK_KEYS - 1) / PACK_KEYS, total = dm->kv_heads * blocks;
    for (int64_t b = total * tid / nthreads; b < total * (tid + 1) / nthreads; b++) {
        const int64_t g = b / blocks, j0 = (b % blocks) * PACK_KEYS;
        const int64_t nk = dm->n_kv - j0 < PACK_KEYS ? dm->n_kv - j0 : PACK_KEYS;
        pack_keys_transposed(&job->s->k, job->k_dense, g, j0, nk, job->pk.kt + g * dm->d * dm->nkv_pad + j0,
                             dm->nkv_pad);
        float *v = job->pk.v + (g * dm->nkv_pad + j0) * dm->dv_pad;
        pack_values(&job->s->v, g, j0, nk, v, dm->dv_pad);
        for (int64_t t = 0; t < nk; t++)
            memset(v + t * dm->dv_pad + dm->dv, 0, sizeof(float) * (size_t)(dm->dv_pad - dm->dv));
    }
}

/* Zeroes the padding of every kv head: K^T columns n_kv..nkv_pad and V rows n_kv..nkv_pad. */
static void pack_zero_padding(const sdpa_dims *dm, sdpa_packed *pk)
{
    const size_t pad_keys = (size_t)(dm->nkv_pad - dm->n_kv);
    for (int64_t g = 0; g < dm->kv_heads && pad_keys; g++) {
        for (int64_t c = 0; c < dm->d; c++)
            memset(pk->kt + (g * dm->d + c) * dm->nkv_pad + dm->n_kv, 0, sizeof(float) * pad_keys);
        memset(pk->v + (g * dm->nkv_pad + dm->n_kv) * dm->dv_pad, 0, sizeof(float) * pad_keys * (size_t)dm->dv_pad);
    }
}

/* Packs every kv head: K^T panels and V rows, zero-padded to 16 columns. */
static mc_status pack_kv(const mc_sdpa_args *s, const sdpa_dims *dm, int nthreads, sdpa_packed *pk, mc_err *err)
{
    pack_job job = {.s = s, .dm = *dm, .k_dense = rows_dense(&s->k)};
    pk->kt = alloc_floats(dm->kv_heads * dm->d * dm->nkv_pad, 0);
    pk->v = alloc_floats(dm->kv_heads * dm->nkv_pad * dm->dv_pad, 0);
    if (!pk->kt || !pk->v)
        return mc_err_set(err, MC_ERR_NOMEM, "sdpa: no memory to pack %lld keys of %lld", (long long)dm->n_kv,
                          (long long)dm->d);
    pack_zero_padding(dm, pk);
    job.pk = *pk;
    return mc_cpu_parallel(nthreads, pack_task, &job, err);
}

static void packed_free(sdpa_packed *pk)
{
    free(pk->kt);
    free(pk->v);
}

/* ---- three-stage ---- */

typedef struct three_stage_job {
    const mc_sdpa_args *s;
    sdpa_dims dm;
    sdpa_packed pk;
    int64_t h;
    float *qp;     /* n_q x d: this head's queries */
    float *scores; /* n_q x nkv_pad */
    float *out;    /* n_q x dv_pad */
} three_stage_job;

/* Stage 2 for row i: scores -> probabilities, in place; masked and padding keys get 0. */
static void softmax_scores_row(const mc_sdpa_args *s, const sdpa_dims *dm, int64_t i, float *row)
{
    const int64_t visible = mc_cpu_causal_visible(s->causal, s->q_offset, i, dm->n_kv);
    const float max = mc_avx2_max(row, visible);
    if (max == -INFINITY) {
        memset(row, 0, sizeof *row * (size_t)dm->nkv_pad);
        return;
    }
    const float sum = mc_avx2_exp_sum(row, visible, max);
    mc_avx2_store_row(MC_DTYPE_F32, (uint8_t *)row, row, visible, 1.0f, sum);
    memset(row + visible, 0, sizeof *row * (size_t)(dm->nkv_pad - visible));
}

static void three_stage_task(void *arg, int tid, int nthreads)
{
    three_stage_job *job = arg;
    const sdpa_dims *dm = &job->dm;
    const int64_t r0 = dm->n_q * tid / nthreads, r1 = dm->n_q * (tid + 1) / nthreads, g = job->h / dm->group;
    if (r0 == r1)
        return;
    for (int64_t i = r0; i < r1; i++)
        load_row(&job->s->q, i, job->h, dm->d, 1.0f, job->qp + i * dm->d);
    /* stage 1: S = scale Q K^T over every key, masked or not */
    mc_sdpa_gemm_avx2(r1 - r0, dm->nkv_pad, dm->d, job->s->scale, job->qp + r0 * dm->d, dm->d,
                      job->pk.kt + g * dm->d * dm->nkv_pad, dm->nkv_pad, job->scores + r0 * dm->nkv_pad,
                      dm->nkv_pad, 0);
    /* stage 2: row softmax with the causal mask */
    for (int64_t i = r0; i < r1; i++)
        softmax_scores_row(job->s, dm, i, job->scores + i * dm->nkv_pad);
    /* stage 3: O = P V */
    mc_sdpa_gemm_avx2(r1 - r0, dm->dv_pad, dm->n_kv, 1.0f, job->scores + r0 * dm->nkv_pad, dm->nkv_pad,
                      job->pk.v + g * dm->nkv_pad * dm->dv_pad, dm->dv_pad, job->out + r0 * dm->dv_pad, dm->dv_pad, 0);
    for (int64_t i = r0; i < r1; i++) {
        const int empty = mc_cpu_causal_visible(job->s->causal, job->s->q_offset, i, dm->n_kv) == 0;
        store_row(&job->s->o, i, job->h, job->out + i * dm->dv_pad, empty ? 0.0f : 1.0f);
    }
}

static mc_status sdpa_three_stage_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_sdpa_args *s = &args->u.sdpa;
    three_stage_job job = {.s = s, .dm = dims_of(s)};
    const sdpa_dims *dm = &job.dm;
    const int nthreads = threads_for(kc, 4.0 * (double)(dm->n_q * dm->nkv_pad) * (double)(dm->d + dm->dv), dm->n_q);
    mc_status st = pack_kv(s, dm, nthreads, &job.pk, err);
    if (st)
        goto done;
    job.qp = alloc_floats(dm->n_q * dm->d, 0);
    job.scores = alloc_floats(dm->n_q * dm->nkv_pad, 0);
    job.out = alloc_floats(dm->n_q * dm->dv_pad, 0);
    if (!job.qp || !job.scores || !job.out) {
        st = mc_err_set(err, MC_ERR_NOMEM, "sdpa_three_stage: no memory for %lld x %lld scores", (long long)dm->n_q,
                        (long long)dm->n_kv);
        goto done;
    }
    for (job.h = 0; job.h < dm->heads && !st; job.h++)
        st = mc_cpu_parallel(nthreads, three_stage_task, &job, err);
done:
    packed_free(&job.pk);
    free(job.qp);
    free(job.scores);
    free(job.out);
    return st;
}

/* ---- fused QK-softmax: per query row, one pass over K, then P V ---- */

typedef struct fused_job {
    const mc_sdpa_args *s;
    sdpa_dims dm;
    int k_dense, v_dense; /* every K (V) row is dense and element-aligned */
    float *scratch;       /* per thread: q (d), scores (n_kv), o (dv), each padded to 8 */
    int64_t stride;
} fused_job;

/* scores[j] = q . k_j for j < n: four keys at a time when K's rows are dense; returns their max. */
static float fused_scores(const fused_job *job, int64_t g, const float *q, int64_t n, float *scores)
{
    const mc_tensor *k = &job->s->k;
    const int64_t d = job->dm.d;
    float max = -INFINITY;
    for (int64_t j = 0; j < n; j += 4) {
        const int count = n - j < 4 ? (int)(n - j) : 4;
        const uint8_t *row = mc_cpu_elem_ptr(k, 0, j, g, 0);
        if (job->k_dense) {
            mc_sdpa_dot_keys_avx2(k->dtype, row, k->nb[1], count, q, d, scores + j);
        } else {
            for (int t = 0; t < count; t++) {
                float acc = 0.0f;
                for (int64_t c = 0; c < d; c++)
                    acc += q[c] * mc_cpu_load(k->dtype, row + t * k->nb[1] + c * k->nb[0]);
                scores[j + t] = acc;
            }
        }
        for (int t = 0; t < count; t++)
            max = scores[j + t] > max ? scores[j + t] : max;
    }
    return max;
}

static void fused_row(const fused_job *job, int64_t h, int64_t i, float *q, float *scores, float *o)
{
    const mc_sdpa_args *s = job->s;
    const sdpa_dims *dm = &job->dm;
    const int64_t g = h / dm->group, visible = mc_cpu_causal_visible(s->causal, s->q_offset, i, dm->n_kv);
    load_row(&s->q, i, h, dm->d, s->scale, q); /* scale folded into q: scores come out scaled */
    const float max = fused_scores(job, g, q, visible, scores);
    if (max == -INFINITY) {
        store_row(&s->o, i, h, o, 0.0f);
        return;
    }
    const float sum = mc_avx2_exp_sum(scores, visible, max);
    memset(o, 0, sizeof *o * (size_t)dm->dv);
    for (int64_t j = 0; j < visible; j++) {
        const uint8_t *v = mc_cpu_elem_ptr(&s->v, 0, j, g, 0);
        if (job->v_dense) {
            mc_sdpa_axpy_avx2(s->v.dtype, o, v, dm->dv, scores[j]);
        } else {
            for (int64_t c = 0; c < dm->dv; c++)
                o[c] += scores[j] * mc_cpu_load(s->v.dtype, v + c * s->v.nb[0]);
        }
    }
    store_row(&s->o, i, h, o, sum);
}

static void fused_task(void *arg, int tid, int nthreads)
{
    fused_job *job = arg;
    const sdpa_dims *dm = &job->dm;
    float *q = job->scratch + tid * job->stride;
    float *scores = q + (dm->d + 7) / 8 * 8;
    float *o = scores + (dm->n_kv + 7) / 8 * 8;
    /* rows dealt round-robin: under a causal mask later rows cost more */
    for (int64_t r = tid; r < dm->heads * dm->n_q; r += nthreads)
        fused_row(job, r / dm->n_q, r % dm->n_q, q, scores, o);
}

static mc_status sdpa_fused_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_sdpa_args *s = &args->u.sdpa;
    fused_job job = {.s = s, .dm = dims_of(s), .k_dense = rows_dense(&s->k), .v_dense = rows_dense(&s->v)};
    const sdpa_dims *dm = &job.dm;
    const int nthreads = threads_for(kc, 2.0 * (double)(dm->heads * dm->n_q * dm->n_kv) * (double)(dm->d + dm->dv),
                                     dm->heads * dm->n_q);
    job.stride = (dm->d + 7) / 8 * 8 + (dm->n_kv + 7) / 8 * 8 + (dm->dv + 7) / 8 * 8;
    job.scratch = alloc_floats(job.stride * nthreads, 1);
    if (!job.scratch)
        return mc_err_set(err, MC_ERR_NOMEM, "sdpa_fused_qk_softmax: no memory for %d score rows of %lld", nthreads,
                          (long long)dm->n_kv);
    mc_status st = mc_cpu_parallel(nthreads, fused_task, &job, err);
    free(job.scratch);
    return st;
}

/* ---- flash: the query rows of one GQA group against tiles of keys, online softmax ----
 *
 * A work item is (kv head g, a block of up to FLASH_MAX_ROWS of the group's query rows, a chunk of
 * FLASH_CHUNK_KEYS keys). All query heads of a group read the same K and V, so their rows share
 * every tile: K and V are read once per row block, not once per query head. Each tile of
 * FLASH_KEYS keys is loaded into f32 (K transposed), scored with one GEMM, folded into the rows'
 * running max, sum and output (rescaled when the max grows), and multiplied by V with a second
 * GEMM. Chunks give threads work even for one query; their partial results are merged in chunk
 * order. Chunk and tile bounds never depend on the thread count. */

#define FLASH_KEYS 64          /* keys per tile: the score tile is rows x 64 */
#define FLASH_CHUNK_KEYS 512   /* keys per work item */
#define FLASH_MAX_ROWS 128     /* query rows per work item */

typedef struct flash_job {
    const mc_sdpa_args *s;
    sdpa_dims dm;
    int k_dense;
    int64_t rows_total;     /* query rows per kv head: group * n_q */
    int64_t row_blocks, chunks, items;
    float *scratch;         /* per thread: q block, K^T tile, V tile, score tile */
    int64_t stride;
    float *part;            /* per item: FLASH_MAX_ROWS x dv_pad outputs */
    float *part_max, *part_sum; /* per item: FLASH_MAX_ROWS each */
} flash_job;

/* Query row r of kv head g's group: head g * group + r / n_q, position r % n_q. */
static void flash_row(const sdpa_dims *dm, int64_t g, int64_t r, int64_t *h, int64_t *i)
{
    *h = g * dm->group + r / dm->n_q;
    *i = r % dm->n_q;
}

/* Online softmax update of score row t (vis live scores of width) for one query row. */
static void flash_update_row(float *t, int64_t vis, int64_t width, float *max, float *sum, float *acc, int64_t dv_pad)
{
    const float tile_max = mc_avx2_max(t, vis);
    const float new_max = tile_max > *max ? tile_max : *max;
    if (new_max == -INFINITY) {
        memset(t, 0, sizeof *t * (size_t)width);
        return;
    }
    const float rescale = *max == -INFINITY ? 0.0f : expf(*max - new_max);
    const float tile_sum = mc_avx2_exp_sum(t, vis, new_max);
    memset(t + vis, 0, sizeof *t * (size_t)(width - vis));
    if (rescale != 1.0f)
        mc_sdpa_scale_avx2(acc, dv_pad, rescale);
    *sum = *sum * rescale + tile_sum;
    *max = new_max;
}

static void flash_item(const flash_job *job, int64_t item, float *scratch)
{
    const mc_sdpa_args *s = job->s;
    const sdpa_dims *dm = &job->dm;
    const int64_t g = item / (job->row_blocks * job->chunks), rb = (item / job->chunks) % job->row_blocks;
    const int64_t r0 = rb * FLASH_MAX_ROWS, chunk = item % job->chunks;
    const int64_t rows = job->rows_total - r0 < FLASH_MAX_ROWS ? job->rows_total - r0 : FLASH_MAX_ROWS;
    float *q = scratch, *kt = q + FLASH_MAX_ROWS * dm->d, *vt = kt + dm->d * FLASH_KEYS;
    float *tile = vt + FLASH_KEYS * dm->dv_pad;
    float *acc = job->part + item * FLASH_MAX_ROWS * dm->dv_pad;
    float *max = job->part_max + item * FLASH_MAX_ROWS, *sum = job->part_sum + item * FLASH_MAX_ROWS;
    int64_t visible[FLASH_MAX_ROWS], last_key = 0;
    for (int64_t r = 0; r < rows; r++) {
        int64_t h, i;
        flash_row(dm, g, r0 + r, &h, &i);
        visible[r] = mc_cpu_causal_visible(s->causal, s->q_offset, i, dm->n_kv);
        last_key = visible[r] > last_key ? visible[r] : last_key;
        max[r] = -INFINITY;
        sum[r] = 0.0f;
        load_row(&s->q, i, h, dm->d, 1.0f, q + r * dm->d);
    }
    memset(acc, 0, sizeof *acc * (size_t)(rows * dm->dv_pad));
    const int64_t j_begin = chunk * FLASH_CHUNK_KEYS;
    int64_t j_end = j_begin + FLASH_CHUNK_KEYS < dm->n_kv ? j_begin + FLASH_CHUNK_KEYS : dm->n_kv;
    j_end = j_end < last_key ? j_end : last_key; /* keys no row sees are never loaded */
    for (int64_t j0 = j_begin; j0 < j_end; j0 += FLASH_KEYS) {
        const int64_t nk = j_end - j0 < FLASH_KEYS ? j_end - j0 : FLASH_KEYS, width = (nk + 15) / 16 * 16;
        pack_keys_transposed(&s->k, job->k_dense, g, j0, nk, kt, FLASH_KEYS);
        pack_values(&s->v, g, j0, nk, vt, dm->dv_pad);
        /* columns nk..width of the tiles hold finite leftovers: their scores are masked below,
         * their probabilities are 0 */
        mc_sdpa_gemm_avx2(rows, width, dm->d, s->scale, q, dm->d, kt, FLASH_KEYS, tile, FLASH_KEYS, 0);
        for (int64_t r = 0; r < rows; r++) {
            int64_t vis = visible[r] - j0;
            vis = vis < 0 ? 0 : (vis > nk ? nk : vis);
            flash_update_row(tile + r * FLASH_KEYS, vis, width, &max[r], &sum[r], acc + r * dm->dv_pad, dm->dv_pad);
        }
        mc_sdpa_gemm_avx2(rows, dm->dv_pad, width, 1.0f, tile, FLASH_KEYS, vt, dm->dv_pad, acc, dm->dv_pad, 1);
    }
}

static void flash_task(void *arg, int tid, int nthreads)
{
    flash_job *job = arg;
    /* items dealt round-robin: under a causal mask, chunks near the end cost more */
    for (int64_t item = tid; item < job->items; item += nthreads)
        flash_item(job, item, job->scratch + tid * job->stride);
}

/* Merges row r of kv head g over its chunks (in chunk order) and writes the output row. */
static void flash_merge_row(const flash_job *job, int64_t g, int64_t r, float *out)
{
    const sdpa_dims *dm = &job->dm;
    const int64_t rb = r / FLASH_MAX_ROWS, rr = r % FLASH_MAX_ROWS;
    const int64_t first = (g * job->row_blocks + rb) * job->chunks;
    float max = -INFINITY, sum = 0.0f;
    for (int64_t c = 0; c < job->chunks; c++) {
        const float m = job->part_max[(first + c) * FLASH_MAX_ROWS + rr];
        max = m > max ? m : max;
    }
    memset(out, 0, sizeof *out * (size_t)dm->dv_pad);
    for (int64_t c = 0; c < job->chunks && max != -INFINITY; c++) {
        const int64_t it = first + c;
        const float m = job->part_max[it * FLASH_MAX_ROWS + rr];
        if (m == -INFINITY)
            continue;
        const float w = job->chunks == 1 ? 1.0f : expf(m - max);
        const float *part = job->part + (it * FLASH_MAX_ROWS + rr) * dm->dv_pad;
        sum += w * job->part_sum[it * FLASH_MAX_ROWS + rr];
        for (int64_t c2 = 0; c2 < dm->dv; c2++)
            out[c2] += w * part[c2];
    }
    int64_t h, i;
    flash_row(dm, g, r, &h, &i);
    store_row(&job->s->o, i, h, out, sum);
}

static void flash_merge_task(void *arg, int tid, int nthreads)
{
    flash_job *job = arg;
    const int64_t total = job->dm.kv_heads * job->rows_total;
    float *out = job->scratch + tid * job->stride;
    for (int64_t x = total * tid / nthreads; x < total * (tid + 1) / nthreads; x++)
        flash_merge_row(job, x / job->rows_total, x % job->rows_total, out);
}

static mc_status sdpa_flash_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_sdpa_args *s = &args->u.sdpa;
    flash_job job = {.s = s, .dm = dims_of(s), .k_dense = rows_dense(&s->k)};
    const sdpa_dims *dm = &job.dm;
    job.rows_total = dm->group * dm->n_q;
    job.row_blocks = (job.rows_total + FLASH_MAX_ROWS - 1) / FLASH_MAX_ROWS;
    job.chunks = (dm->n_kv + FLASH_CHUNK_KEYS - 1) / FLASH_CHUNK_KEYS;
    job.items = dm->kv_heads * job.row_blocks * job.chunks;
    const int nthreads = threads_for(kc, 2.0 * (double)(dm->heads * dm->n_q * dm->n_kv) * (double)(dm->d + dm->dv),
                                     job.items);
    job.stride = FLASH_MAX_ROWS * dm->d + dm->d * FLASH_KEYS + FLASH_KEYS * dm->dv_pad + FLASH_MAX_ROWS * FLASH_KEYS;
    job.stride = (job.stride + 7) / 8 * 8;
    job.scratch = alloc_floats(job.stride * nthreads, 1); /* tiles: padding must hold finite values */
    job.part = alloc_floats(job.items * FLASH_MAX_ROWS * dm->dv_pad, 0);
    job.part_max = alloc_floats(job.items * FLASH_MAX_ROWS, 0);
    job.part_sum = alloc_floats(job.items * FLASH_MAX_ROWS, 0);
    mc_status st = MC_OK;
    if (!job.scratch || !job.part || !job.part_max || !job.part_sum) {
        st = mc_err_set(err, MC_ERR_NOMEM, "sdpa_flash: no memory for %lld partial results", (long long)job.items);
        goto done;
    }
    st = mc_cpu_parallel(nthreads, flash_task, &job, err);
    if (!st)
        st = mc_cpu_parallel(nthreads, flash_merge_task, &job, err);
done:
    free(job.scratch);
    free(job.part);
    free(job.part_max);
    free(job.part_sum);
    return st;
}

/* ---- registration ---- */

static const char *sdpa_probe(mc_backend_ctx *ctx)
{
    return mc_cpu_has_avx2() ? NULL : "needs AVX2, FMA and F16C";
}

static const char *sdpa_supports(const mc_args *args)
{
    const mc_sdpa_args *s = &args->u.sdpa;
    const mc_tensor *ts[4] = {&s->q, &s->k, &s->v, &s->o};
    for (int i = 0; i < 4; i++) {
        if (!mc_cpu_is_plain_float(ts[i]->dtype))
            return "quantised q, k, v or o not supported";
        if (ts[i]->ne[3] != 1)
            return "a 4th dimension is not part of sdpa";
    }
    if (s->k.ne[2] < 1 || s->q.ne[2] % s->k.ne[2] != 0)
        return "heads must be a multiple of kv_heads";
    return NULL;
}

const mc_variant mc_variant_sdpa_three_stage = {
    .op = MC_OP_SDPA,
    .backend = "cpu",
    .name = "sdpa_three_stage",
    .probe = sdpa_probe,
    .requires = "avx2,fma,f16c",
    .supports = sdpa_supports,
    .run = sdpa_three_stage_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)sdpa_three_stage_run,
};

const mc_variant mc_variant_sdpa_fused_qk_softmax = {
    .op = MC_OP_SDPA,
    .backend = "cpu",
    .name = "sdpa_fused_qk_softmax",
    .probe = sdpa_probe,
    .requires = "avx2,fma,f16c",
    .supports = sdpa_supports,
    .run = sdpa_fused_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)sdpa_fused_run,
};

const mc_variant mc_variant_sdpa_flash = {
    .op = MC_OP_SDPA,
    .backend = "cpu",
    .name = "sdpa_flash",
    .probe = sdpa_probe,
    .requires = "avx2,fma,f16c",
    .supports = sdpa_supports,
    .run = sdpa_flash_run,
    .flags = MC_VARIANT_DETERMINISTIC | MC_VARIANT_THREADED,
    .code = (const void *)sdpa_flash_run,
};
