/* kernels/cpu/sdpa_variants.c: the SDPA variants of seed 3.2: three-stage (QK^T GEMM, softmax, PV GEMM),
 * fused QK-softmax (one pass over K per query row, then PV) and flash-style tiled online softmax.
 * SPDX-License-Identifier: MIT
 *
 * What they share and how they differ:
 *  1. All three use the AVX2 building blocks of sdpa_avx2.c and softmax_avx2.c, so each declares the
 *     AVX2/FMA/F16C probe. Rows that vector loads cannot take (strided, or off an element boundary)
 *     go through scalar loads; every layout, dtype and alignment is handled, none is declined.
 *  2. three-stage and flash pack each kv head once, as GEMM packing does: K^T into an f32 panel
 *     (d x n_kv, columns padded to 16 with zeros) and V into f32 rows (padded to 16 columns).
 *     Nothing else is copied; Q is read one row (flash: one block of rows) at a time.
 *     fused reads K and V in place, through their strides, in their own dtype.
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

#define FLASH_ROWS 4         /* query rows per flash tile: the GEMM's 4 x 16 register tile */
#define FLASH_KEYS 64        /* keys per flash tile */
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

static float *alloc_floats(int64_t n)
{
    size_t bytes = ((size_t)n * sizeof(float) + 31) / 32 * 32;
    float *p = aligned_alloc(32, bytes ? bytes : 32);
    if (p)
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

/* ---- packing (three-stage, flash) ---- */

typedef struct sdpa_packed {
    float *kt; /* per kv head: d rows of nkv_pad (K transposed) */
    float *v;  /* per kv head: nkv_pad rows of dv_pad */
} sdpa_packed;

typedef struct pack_job {
    const mc_sdpa_args *s;
    sdpa_dims dm;
    sdpa_packed pk;
    float *tmp; /* per thread: one K row */
} pack_job;

static void pack_task(void *arg, int tid, int nthreads)
{
    pack_job *job = arg;
    const sdpa_dims *dm = &job->dm;
    const int64_t total = dm->kv_heads * dm->n_kv;
    float *tmp = job->tmp + tid * ((dm->d + 7) / 8 * 8);
    for (int64_t r = total * tid / nthreads; r < total * (tid + 1) / nthreads; r++) {
        const int64_t g = r / dm->n_kv, j = r % dm->n_kv;
        float *kt = job->pk.kt + g * dm->d * dm->nkv_pad;
        load_row(&job->s->k, j, g, dm->d, 1.0f, tmp);
        for (int64_t c = 0; c < dm->d; c++)
            kt[c * dm->nkv_pad + j] = tmp[c];
        load_row(&job->s->v, j, g, dm->dv, 1.0f, job->pk.v + (g * dm->nkv_pad + j) * dm->dv_pad);
    }
}

static mc_status pack_kv(const mc_sdpa_args *s, const sdpa_dims *dm, int nthreads, sdpa_packed *pk, mc_err *err)
{
    pack_job job = {.s = s, .dm = *dm};
    pk->kt = alloc_floats(dm->kv_heads * dm->d * dm->nkv_pad);
    pk->v = alloc_floats(dm->kv_heads * dm->nkv_pad * dm->dv_pad);
    job.tmp = alloc_floats(nthreads * ((dm->d + 7) / 8 * 8));
    mc_status st = MC_OK;
    if (!pk->kt || !pk->v || !job.tmp) {
        st = mc_err_set(err, MC_ERR_NOMEM, "sdpa: no memory to pack %lld keys of %lld", (long long)dm->n_kv,
                        (long long)dm->d);
        goto done;
    }
    job.pk = *pk;
    st = mc_cpu_parallel(nthreads, pack_task, &job, err);
done:
    free(job.tmp);
    return st;
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
    job.qp = alloc_floats(dm->n_q * dm->d);
    job.scores = alloc_floats(dm->n_q * dm->nkv_pad);
    job.out = alloc_floats(dm->n_q * dm->dv_pad);
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

/* Every row of t (dims 1 and 2) is dense and element-aligned: the base, and both strides, keep
 * rows on element boundaries. */
static int rows_dense(const mc_tensor *t)
{
    const int64_t eb = mc_cpu_elem_bytes(t->dtype);
    return mc_cpu_row_is_dense_aligned(t, mc_cpu_elem_ptr(t, 0, 0, 0, 0)) && t->nb[1] % eb == 0 &&
           t->nb[2] % eb == 0;
}

static mc_status sdpa_fused_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_sdpa_args *s = &args->u.sdpa;
    fused_job job = {.s = s, .dm = dims_of(s), .k_dense = rows_dense(&s->k), .v_dense = rows_dense(&s->v)};
    const sdpa_dims *dm = &job.dm;
    const int nthreads = threads_for(kc, 2.0 * (double)(dm->heads * dm->n_q * dm->n_kv) * (double)(dm->d + dm->dv),
                                     dm->heads * dm->n_q);
    job.stride = (dm->d + 7) / 8 * 8 + (dm->n_kv + 7) / 8 * 8 + (dm->dv + 7) / 8 * 8;
    job.scratch = alloc_floats(job.stride * nthreads);
    if (!job.scratch)
        return mc_err_set(err, MC_ERR_NOMEM, "sdpa_fused_qk_softmax: no memory for %d score rows of %lld", nthreads,
                          (long long)dm->n_kv);
    mc_status st = mc_cpu_parallel(nthreads, fused_task, &job, err);
    free(job.scratch);
    return st;
}

/* ---- flash: tiles of FLASH_ROWS queries x FLASH_KEYS keys, online softmax across tiles ---- */

typedef struct flash_job {
    const mc_sdpa_args *s;
    sdpa_dims dm;
    sdpa_packed pk;
    float *scratch; /* per thread: q block, score tile, output accumulators */
    int64_t stride;
} flash_job;

typedef struct flash_state {
    float *q;      /* FLASH_ROWS x d */
    float *tile;   /* FLASH_ROWS x FLASH_KEYS */
    float *acc;    /* FLASH_ROWS x dv_pad: unnormalised outputs */
    float max[FLASH_ROWS], sum[FLASH_ROWS];
} flash_state;

/* Online softmax update of row r with the scores tile[0..vis) of this tile (vis may be 0). */
static void flash_update_row(flash_state *st, int r, int64_t vis, int64_t width, const sdpa_dims *dm)
{
    float *t = st->tile + r * FLASH_KEYS;
    const float tile_max = mc_avx2_max(t, vis);
    const float new_max = tile_max > st->max[r] ? tile_max : st->max[r];
    if (new_max == -INFINITY) {
        memset(t, 0, sizeof *t * (size_t)width);
        return;
    }
    const float rescale = st->max[r] == -INFINITY ? 0.0f : expf(st->max[r] - new_max);
    const float tile_sum = mc_avx2_exp_sum(t, vis, new_max);
    memset(t + vis, 0, sizeof *t * (size_t)(width - vis));
    if (rescale != 1.0f)
        mc_sdpa_scale_avx2(st->acc + r * dm->dv_pad, dm->dv_pad, rescale);
    st->sum[r] = st->sum[r] * rescale + tile_sum;
    st->max[r] = new_max;
}

static void flash_block(const flash_job *job, int64_t h, int64_t i0, flash_state *st)
{
    const mc_sdpa_args *s = job->s;
    const sdpa_dims *dm = &job->dm;
    const int64_t g = h / dm->group, rows = dm->n_q - i0 < FLASH_ROWS ? dm->n_q - i0 : FLASH_ROWS;
    const float *kt = job->pk.kt + g * dm->d * dm->nkv_pad, *v = job->pk.v + g * dm->nkv_pad * dm->dv_pad;
    memset(st->q, 0, sizeof *st->q * (size_t)(FLASH_ROWS * dm->d));
    memset(st->acc, 0, sizeof *st->acc * (size_t)(FLASH_ROWS * dm->dv_pad));
    int64_t visible[FLASH_ROWS], last_key = -1;
    for (int r = 0; r < FLASH_ROWS; r++) {
        st->max[r] = -INFINITY;
        st->sum[r] = 0.0f;
        visible[r] = r < rows ? mc_cpu_causal_visible(s->causal, s->q_offset, i0 + r, dm->n_kv) : 0;
        last_key = visible[r] > last_key ? visible[r] : last_key;
        if (r < rows)
            load_row(&s->q, i0 + r, h, dm->d, 1.0f, st->q + r * dm->d);
    }
    /* tiles past the last key any row sees are skipped whole */
    for (int64_t j0 = 0; j0 < last_key; j0 += FLASH_KEYS) {
        const int64_t width = dm->nkv_pad - j0 < FLASH_KEYS ? dm->nkv_pad - j0 : FLASH_KEYS;
        mc_sdpa_gemm_avx2(FLASH_ROWS, width, dm->d, s->scale, st->q, dm->d, kt + j0, dm->nkv_pad, st->tile,
                          FLASH_KEYS, 0);
        for (int r = 0; r < FLASH_ROWS; r++) {
            int64_t vis = visible[r] - j0;
            vis = vis < 0 ? 0 : (vis > width ? width : vis);
            flash_update_row(st, r, vis, width, dm);
        }
        mc_sdpa_gemm_avx2(FLASH_ROWS, dm->dv_pad, width, 1.0f, st->tile, FLASH_KEYS, v + j0 * dm->dv_pad,
                          dm->dv_pad, st->acc, dm->dv_pad, 1);
    }
    for (int r = 0; r < rows; r++)
        store_row(&s->o, i0 + r, h, st->acc + r * dm->dv_pad, st->sum[r]);
}

static void flash_task(void *arg, int tid, int nthreads)
{
    flash_job *job = arg;
    const sdpa_dims *dm = &job->dm;
    const int64_t blocks = (dm->n_q + FLASH_ROWS - 1) / FLASH_ROWS;
    flash_state st;
    st.q = job->scratch + tid * job->stride;
    st.tile = st.q + (FLASH_ROWS * dm->d + 7) / 8 * 8;
    st.acc = st.tile + FLASH_ROWS * FLASH_KEYS;
    /* blocks dealt round-robin: under a causal mask later blocks cost more */
    for (int64_t b = tid; b < dm->heads * blocks; b += nthreads)
        flash_block(job, b / blocks, (b % blocks) * FLASH_ROWS, &st);
}

static mc_status sdpa_flash_run(mc_kernel_ctx *kc, const mc_args *args, mc_err *err)
{
    const mc_sdpa_args *s = &args->u.sdpa;
    flash_job job = {.s = s, .dm = dims_of(s)};
    const sdpa_dims *dm = &job.dm;
    const int64_t blocks = dm->heads * ((dm->n_q + FLASH_ROWS - 1) / FLASH_ROWS);
    const int nthreads = threads_for(kc, 2.0 * (double)(dm->heads * dm->n_q * dm->n_kv) * (double)(dm->d + dm->dv),
                                     blocks);
    job.stride = (FLASH_ROWS * dm->d + 7) / 8 * 8 + FLASH_ROWS * FLASH_KEYS + FLASH_ROWS * dm->dv_pad;
    mc_status st = pack_kv(s, dm, nthreads, &job.pk, err);
    if (st)
        goto done;
    job.scratch = alloc_floats(job.stride * nthreads);
    if (!job.scratch) {
        st = mc_err_set(err, MC_ERR_NOMEM, "sdpa_flash: no memory for %d tiles", nthreads);
        goto done;
    }
    st = mc_cpu_parallel(nthreads, flash_task, &job, err);
done:
    packed_free(&job.pk);
    free(job.scratch);
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
    .supports = sdpa_supports,
    .run = sdpa_three_stage_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)sdpa_three_stage_run,
};

const mc_variant mc_variant_sdpa_fused_qk_softmax = {
    .op = MC_OP_SDPA,
    .backend = "cpu",
    .name = "sdpa_fused_qk_softmax",
    .probe = sdpa_probe,
    .supports = sdpa_supports,
    .run = sdpa_fused_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)sdpa_fused_run,
};

const mc_variant mc_variant_sdpa_flash = {
    .op = MC_OP_SDPA,
    .backend = "cpu",
    .name = "sdpa_flash",
    .probe = sdpa_probe,
    .supports = sdpa_supports,
    .run = sdpa_flash_run,
    .flags = MC_VARIANT_DETERMINISTIC,
    .code = (const void *)sdpa_flash_run,
};
