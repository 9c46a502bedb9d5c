/* Context creation: every buffer is sized here, once, from the model and the parameters. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "forward_internal.h"
#include "status_internal.h"

tca_context_params tca_context_default_params(void) {
    tca_context_params p = {.n_ctx = 0, .n_threads = 0, .n_batch = 512, .kv_type = TCA_KV_F16, .attn = TCA_ATTN_DENSE};
    return p;
}

static void *alloc(tca_context *c, size_t bytes, int *failed) {
    /* 64-byte alignment: one cache line, and whole ZMM loads for the f32 rows */
    void *p = NULL;
    size_t rounded = (bytes + 63) / 64 * 64;
    if (rounded == 0) rounded = 64;
    if (posix_memalign(&p, 64, rounded) != 0) {
        *failed = 1;
        return NULL;
    }
    c->scratch_bytes += rounded;
    return p;
}

tca_status tca_context_new(const tca_model *m, const tca_context_params *p, tca_context **out) {
    *out = NULL;
    tca_context_params defaults = tca_context_default_params();
    if (p == NULL) p = &defaults;
    const tca_hparams *hp = tca_model_hparams(m);
    if (p->n_ctx < 0 || p->n_threads < 0 || p->n_batch < 0)
        return tca_fail(TCA_ERR_ARG, "context: negative n_ctx, n_threads or n_batch");
    if (p->n_ctx > hp->n_ctx_train)
        return tca_fail(TCA_ERR_RANGE, "context: %d tokens exceed the model's trained context of %d", p->n_ctx,
                        hp->n_ctx_train);
    if (p->attn == TCA_ATTN_TCA && p->budget == NULL)
        return tca_fail(TCA_ERR_ARG, "context: TCA attention needs a head budget (a file, or a uniform keep ratio)");
    if (p->attn == TCA_ATTN_TCA && p->kv_type != TCA_KV_F16)
        return tca_fail(TCA_ERR_UNSUPPORTED, "context: the TCA cache is f16 only (--kv-type f32 is for dense attention)");
    if (hp->n_head / hp->n_head_kv > 64)
        return tca_fail(TCA_ERR_UNSUPPORTED, "context: GQA groups of more than 64 query heads are not supported");
    tca_context *c = calloc(1, sizeof *c);
    if (c == NULL) return tca_fail(TCA_ERR_NOMEM, "context: out of memory");
    c->model = m;
    c->hp = hp;
    c->k = tca_kernels_active();
    c->n_ctx = p->n_ctx ? p->n_ctx : hp->n_ctx_train;
    c->n_batch = p->n_batch ? p->n_batch : 512;
    if (c->n_batch > c->n_ctx) c->n_batch = c->n_ctx;
    c->n_threads = p->n_threads ? p->n_threads : omp_get_max_threads();

    const size_t B = (size_t)c->n_batch, e = (size_t)hp->n_embd, d = (size_t)hp->head_dim;
    const size_t qd = (size_t)hp->n_head * d, kvd = (size_t)hp->n_head_kv * d, ff = (size_t)hp->n_ff;
    const size_t kv_elems = (size_t)hp->n_layer * kvd * (size_t)c->n_ctx;
    /* widest quantized activation row: Q8 types take at most 292/256 bytes per element, F32 4 */
    const size_t xq_row = (ff > e ? ff : e) * 4 + 64;
    const int grp = hp->n_head / hp->n_head_kv;
    c->kv_type = p->kv_type;
    /* TCA prefill tiles are one selection block (every query of a tile sees the same keys) */
    c->attn_tile = p->attn == TCA_ATTN_TCA ? p->budget->block : 32;
    const int64_t tile_rows = (int64_t)c->attn_tile * grp;
    /* per thread: gathered queries (rows x d) + m, l (rows) + acc (rows x d) */
    c->attn_scratch_floats = tile_rows * (2 * (int64_t)d + 2);
    c->n_split = c->n_threads;
    int failed = 0;
    const size_t kv_elem = p->kv_type == TCA_KV_F32 ? sizeof(float) : sizeof(tca_f16);
    if (p->attn != TCA_ATTN_TCA) {
        c->kv_k = alloc(c, kv_elems * kv_elem, &failed);
        c->kv_v = alloc(c, kv_elems * kv_elem, &failed);
    } else if (!failed) {
        tca_status st = tca_sparse_new(hp, p->budget, c->n_ctx, c->n_threads, &c->sparse, &c->scratch_bytes);
        if (st != TCA_OK) {
            tca_context_free(c);
            return st;
        }
    }
    c->x = alloc(c, B * e * 4, &failed);
    c->xn = alloc(c, B * e * 4, &failed);
    c->xq = alloc(c, B * xq_row, &failed);
    c->q = alloc(c, B * qd * 4, &failed);
    c->kf = alloc(c, B * kvd * 4, &failed);
    c->vf = alloc(c, B * kvd * 4, &failed);
    c->att = alloc(c, B * qd * 4, &failed);
    c->gate = alloc(c, B * ff * 4, &failed);
    c->up = alloc(c, B * ff * 4, &failed);
    c->rope_cos = alloc(c, B * d / 2 * 4, &failed);
    c->rope_sin = alloc(c, B * d / 2 * 4, &failed);
    c->rope_inv_freq = alloc(c, d / 2 * sizeof(double), &failed);
    c->attn_scratch = alloc(c, (size_t)c->n_threads * (size_t)c->attn_scratch_floats * 4, &failed);
    c->attn_qpos = alloc(c, (size_t)c->n_threads * (size_t)tile_rows * sizeof(int64_t), &failed);
    /* OpenBLAS runs inside our threads: it must not start its own (a team of one thread is not
     * "in parallel" for OpenMP, so OpenBLAS would otherwise fan out and oversubscribe the cores). */
    openblas_set_num_threads(1);
    /* TCA_PREFILL_GEMM=q keeps the integer kernels for prefill too (for measurements). */
    const char *gemm = getenv("TCA_PREFILL_GEMM");
    c->sgemm_min_rows = gemm && !strcmp(gemm, "q") ? 1 << 30 : 32;
    /* TCA_GEMM=f32: every product through f32 GEMM, decode too (slow; tests use it to compare
     * prefill with decode without the 8-bit activation rounding of the integer kernels) */
    const char *all = getenv("TCA_GEMM");
    if (all && !strcmp(all, "f32")) c->sgemm_min_rows = 0;
    c->gemm_scratch_floats = TCA_SGEMM_ROWS * (int64_t)(ff > e ? ff : e);
    if (c->n_batch >= c->sgemm_min_rows || c->sgemm_min_rows == 0)
        c->gemm_scratch = alloc(c, (size_t)c->n_threads * (size_t)c->gemm_scratch_floats * 4, &failed);
    c->split_state = alloc(c, (size_t)hp->n_head_kv * (size_t)c->n_split * (size_t)grp * (2 + d) * 4, &failed);
    if (failed) {
        tca_context_free(c);
        return tca_fail(TCA_ERR_NOMEM, "context: cannot allocate buffers for %d tokens of context", p->n_ctx);
    }
    for (size_t i = 0; i < d / 2; i++) c->rope_inv_freq[i] = pow(hp->rope_base, -2.0 * (double)i / (double)d);
    *out = c;
    return TCA_OK;
}

void tca_context_free(tca_context *c) {
    if (c == NULL) return;
    void *bufs[] = {c->kv_k, c->kv_v, c->x, c->xn, c->xq, c->q, c->kf, c->vf, c->att, c->gate, c->up,
                    c->rope_cos, c->rope_sin, c->rope_inv_freq, c->attn_scratch, c->attn_qpos, c->split_state,
                    c->gemm_scratch};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    tca_sparse_free(c->sparse);
    free(c);
}

int64_t tca_context_pos(const tca_context *c) { return c->pos; }
int tca_context_n_ctx(const tca_context *c) { return c->n_ctx; }
int tca_context_n_threads(const tca_context *c) { return c->n_threads; }
int tca_default_threads(void) { return omp_get_max_threads(); }
uint64_t tca_context_scratch_bytes(const tca_context *c) { return c->scratch_bytes; }
const tca_timings *tca_context_timings(const tca_context *c) { return &c->timings; }

void tca_context_reset(tca_context *c) {
    c->pos = 0;
    memset(&c->timings, 0, sizeof c->timings);
    if (c->sparse) tca_sparse_reset(c->sparse);
}

uint64_t tca_context_kv_bytes(const tca_context *c) {
    tca_cache_stats st;
    tca_context_cache_stats(c, &st);
    return st.kv_bytes;
}

void tca_context_cache_stats(const tca_context *c, tca_cache_stats *out) {
    if (c->sparse) {
        tca_sparse_stats(c->sparse, c->pos, out);
        return;
    }
    const uint64_t rows = (uint64_t)c->pos * (uint64_t)c->hp->n_layer * (uint64_t)c->hp->n_head_kv;
    memset(out, 0, sizeof *out);
    out->keep = out->layer_mean = out->layer_min = out->layer_max = 1.0;
    out->rows_held = out->rows_dense = (int64_t)rows;
    out->kv_bytes = rows * (uint64_t)c->hp->head_dim * 2 * (c->kv_type == TCA_KV_F32 ? sizeof(float) : sizeof(tca_f16));
    out->kv_bytes_dense = rows * (uint64_t)c->hp->head_dim * 2 * sizeof(tca_f16);
}

int64_t tca_context_head_positions(const tca_context *c, int layer, int kv_head, int32_t *out, int64_t cap) {
    if (layer < 0 || layer >= c->hp->n_layer || kv_head < 0 || kv_head >= c->hp->n_head_kv) return 0;
    if (!c->sparse) {
        for (int64_t i = 0; i < c->pos && i < cap; i++) out[i] = (int32_t)i;
        return c->pos;
    }
    const tca_head_cache *hc = tca_sparse_head(c->sparse, layer, kv_head);
    memcpy(out, hc->pos, (size_t)(hc->n < cap ? hc->n : cap) * sizeof(int32_t));
    return hc->n;
}

int tca_context_block_score(const tca_context *c, int layer, int kv_head, int64_t j, float *a, float *e) {
    const tca_sparse *s = c->sparse;
    if (!s || layer < 0 || layer >= c->hp->n_layer || kv_head < 0 || kv_head >= c->hp->n_head_kv || j < 0 ||
        j >= s->n_scored)
        return -1;
    const float *rec = tca_sparse_score(s, layer, kv_head, j);
    memcpy(a, rec, (size_t)s->b * sizeof(float));
    *e = rec[s->b];
    return 0;
}

int tca_context_prompt_score(const tca_context *c, int layer, int kv_head, int64_t j, float *a, float *key) {
    const tca_sparse *s = c->sparse;
    if (!s || !s->pl_scores || layer < 0 || layer >= c->hp->n_layer || kv_head < 0 || kv_head >= c->hp->n_head_kv ||
        j < 0 || j >= s->n_blocks_max)
        return -1;
    const float *rec = tca_sparse_pl_score(s, layer, kv_head, j);
    if (isnan(rec[s->b])) return -1;
    memcpy(a, rec, (size_t)s->b * sizeof(float));
    *key = rec[s->b];
    return 0;
}

const char *tca_isa_active_name(void) { return tca_isa_name(tca_kernels_active()->isa); }
