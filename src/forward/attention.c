/* Attention driver: splits the work of one layer across threads and calls the flash attention
 * kernel (simd/attention.h) on slices, over the dense cache or TCA's sparse one.
 *
 * Prefill (T > 1): tasks are (KV head, tile of query positions); a task gathers the tile's query
 * rows of the whole GQA group (positions x group heads share one K/V stream, so each key tile is
 * converted once for all of them) and runs them over the keys the tile sees: the causal range of
 * the dense cache, or under TCA the compact prefix plus one raw range (tiles are one TCA block,
 * so every query of a tile sees the same keys up to causality, as in decode).
 * Decode (T == 1): the group's query rows are few, so the keys are split across threads
 * (flash-decoding) and the partial softmax states are merged per head afterwards. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "forward_internal.h"

static void init_state(float *m, float *l, float *acc, int64_t rows, int d) {
    for (int64_t i = 0; i < rows; i++) {
        m[i] = -INFINITY;
        l[i] = 0.0f;
    }
    memset(acc, 0, (size_t)rows * (size_t)d * sizeof(float));
}

/* Keys [k0, k0 + n) of head g of the dense cache (f16 or f32) into the state of nq rows. */
static void accum_dense(tca_context *c, int layer, int g, int64_t k0, int64_t n, const float *q, int64_t ldq,
                        int64_t nq, const int64_t *qpos, float *m, float *l, float *acc) {
    const int d = c->hp->head_dim;
    const float scale = 1.0f / sqrtf((float)d);
    if (c->kv_type == TCA_KV_F32) {
        const tca_kv_segment_f32 seg = {tca_kv_k32(c, layer, g, k0), tca_kv_v32(c, layer, g, k0), n, d, k0, 1};
        c->k->attn_accum_f32(q, ldq, nq, qpos, &seg, 1, d, scale, m, l, acc, d);
    } else {
        const tca_kv_segment seg = {tca_kv_k(c, layer, g, k0), tca_kv_v(c, layer, g, k0), n, d, k0, 1};
        c->k->attn_accum(q, ldq, nq, qpos, &seg, 1, d, scale, m, l, acc, d);
    }
}

/* Query tiles of a prefill step: dense tiles are attn_tile positions from pos0; TCA tiles end
 * at block boundaries (the first may be short when pos0 is not block-aligned). */
static int64_t tile_start(const tca_context *c, int64_t pos0, int64_t i) {
    if (!c->sparse) return pos0 + i * c->attn_tile;
    const int64_t b = c->sparse->b, first_end = (pos0 / b + 1) * b;
    return i == 0 ? pos0 : first_end + (i - 1) * b;
}

static void prefill(tca_context *c, int layer, int64_t pos0, int64_t T, const float *q, float *att) {
    const tca_hparams *hp = c->hp;
    const int d = hp->head_dim, G = hp->n_head_kv, grp = hp->n_head / G;
    const int64_t ldq = (int64_t)hp->n_head * d, end = pos0 + T;
    int64_t n_tiles = 0;
    while (tile_start(c, pos0, n_tiles) < end) n_tiles++;
    const int64_t n_tasks = n_tiles * G;
    const float scale = 1.0f / sqrtf((float)d);
    /* Later tiles see more keys: hand them out first so the dynamic schedule balances. */
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < n_tasks; task++) {
        const int64_t ti = n_tiles - 1 - task / G;
        const int g = (int)(task % G);
        const int64_t p0 = tile_start(c, pos0, ti), p1 = ti + 1 < n_tiles ? tile_start(c, pos0, ti + 1) : end;
        const int64_t t0 = p0 - pos0, nt = p1 - p0, rows = nt * grp;
        float *qb = c->attn_scratch + (int64_t)omp_get_thread_num() * c->attn_scratch_floats;
        float *m = qb + rows * d, *l = m + rows, *acc = l + rows;
        int64_t *qpos = c->attn_qpos + (int64_t)omp_get_thread_num() * c->attn_tile * grp;
        for (int64_t t = 0; t < nt; t++)
            for (int h = 0; h < grp; h++) {
                memcpy(qb + (t * grp + h) * d, q + (t0 + t) * ldq + (int64_t)(g * grp + h) * d, (size_t)d * 4);
                qpos[t * grp + h] = p0 + t;
            }
        init_state(m, l, acc, rows, d);
        if (c->sparse) {
            tca_kv_segment seg[2];
            int nseg = tca_sparse_prefill_segments(c->sparse, layer, g, pos0, p0, p1, seg);
            c->k->attn_accum(qb, d, rows, qpos, seg, nseg, d, scale, m, l, acc, d);
        } else {
            accum_dense(c, layer, g, 0, p1, qb, d, rows, qpos, m, l, acc);
        }
        /* finish into the gathered-query buffer (no longer needed), then scatter to att */
        c->k->attn_finish(rows, d, l, acc, d, qb, d);
        for (int64_t t = 0; t < nt; t++)
            for (int h = 0; h < grp; h++)
                memcpy(att + (t0 + t) * ldq + (int64_t)(g * grp + h) * d, qb + (t * grp + h) * d, (size_t)d * 4);
    }
}

static void decode(tca_context *c, int layer, int64_t pos, const float *q, float *att) {
    const tca_hparams *hp = c->hp;
    const int d = hp->head_dim, G = hp->n_head_kv, grp = hp->n_head / G, S = c->n_split;
    const int64_t state = (int64_t)grp * (2 + d);
    const float scale = 1.0f / sqrtf((float)d);
#pragma omp for schedule(static)
    for (int64_t task = 0; task < (int64_t)G * S; task++) {
        const int g = (int)(task / S), s = (int)(task % S);
        /* TCA: every row of the head's cache is at or before pos (its rows are not consecutive
         * positions, so no causal mask: none is needed) */
        const tca_head_cache *hc = c->sparse ? tca_sparse_head(c->sparse, layer, g) : NULL;
        const int64_t n_keys = hc ? hc->n : pos + 1;
        const int64_t k0 = n_keys * s / S, k1 = n_keys * (s + 1) / S;
        float *m = c->split_state + task * state, *l = m + grp, *acc = l + grp;
        int64_t qpos[64];
        for (int h = 0; h < grp; h++) qpos[h] = pos;
        init_state(m, l, acc, grp, d);
        if (k1 <= k0) continue;
        const float *qg = q + (int64_t)g * grp * d;
        if (hc) {
            const tca_kv_segment seg = {hc->k + k0 * d, hc->v + k0 * d, k1 - k0, d, 0, 0};
            c->k->attn_accum(qg, d, grp, qpos, &seg, 1, d, scale, m, l, acc, d);
        } else {
            accum_dense(c, layer, g, k0, k1 - k0, qg, d, grp, qpos, m, l, acc);
        }
    }
#pragma omp for schedule(static)
    for (int g = 0; g < G; g++) {
        float *m = c->split_state + (int64_t)g * S * state, *l = m + grp, *acc = l + grp;
        for (int s = 1; s < S; s++) {
            const float *m2 = m + s * state, *l2 = m2 + grp, *acc2 = l2 + grp;
            c->k->attn_merge(grp, d, m, l, acc, d, m2, l2, acc2, d);
        }
        c->k->attn_finish(grp, d, l, acc, d, att + (int64_t)g * grp * d, d);
    }
}

void tca_attention(tca_context *c, int layer, int64_t pos0, int64_t T, const float *q, float *att) {
    if (T == 1)
        decode(c, layer, pos0, q, att);
    else
        prefill(c, layer, pos0, T, q, att);
}

void tca_attention_prefill(tca_context *c, int layer, int64_t pos0, int64_t T, const float *q, float *att) {
    prefill(c, layer, pos0, T, q, att);
}
