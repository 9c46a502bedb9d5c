/* Dense attention driver: splits the work of one layer across threads and calls the flash
 * attention kernel (simd/attention.h) on slices.
 *
 * Prefill (T > 1): tasks are (KV head, tile of attn_tile query positions); a task gathers the
 * tile's query rows of the whole GQA group (positions x group heads share one K/V stream, so each
 * key tile is converted once for all of them) and runs them over the causal key range.
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

static void prefill(tca_context *c, int layer, int64_t pos0, int64_t T) {
    const tca_hparams *hp = c->hp;
    const int d = hp->head_dim, G = hp->n_head_kv, grp = hp->n_head / G;
    const int64_t ldq = (int64_t)hp->n_head * d, tile = c->attn_tile;
    const int64_t n_tiles = (T + tile - 1) / tile, n_tasks = n_tiles * G;
    const float scale = 1.0f / sqrtf((float)d);
    /* Later tiles see more keys: hand them out first so the dynamic schedule balances. */
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < n_tasks; task++) {
        const int64_t ti = n_tiles - 1 - task / G;
        const int g = (int)(task % G);
        const int64_t t0 = ti * tile, nt = T - t0 < tile ? T - t0 : tile, rows = nt * grp;
        float *qb = c->attn_scratch + (int64_t)omp_get_thread_num() * c->attn_scratch_floats;
        float *m = qb + rows * d, *l = m + rows, *acc = l + rows;
        int64_t *qpos = c->attn_qpos + (int64_t)omp_get_thread_num() * tile * grp;
        for (int64_t t = 0; t < nt; t++)
            for (int h = 0; h < grp; h++) {
                memcpy(qb + (t * grp + h) * d, c->q + (t0 + t) * ldq + (int64_t)(g * grp + h) * d, (size_t)d * 4);
                qpos[t * grp + h] = pos0 + t0 + t;
            }
        init_state(m, l, acc, rows, d);
        const tca_kv_segment seg = {tca_kv_k(c, layer, g, 0), tca_kv_v(c, layer, g, 0), pos0 + t0 + nt, d, 0, 1};
        c->k->attn_accum(qb, d, rows, qpos, &seg, 1, d, scale, m, l, acc, d);
        /* finish into the gathered-query buffer (no longer needed), then scatter to att */
        c->k->attn_finish(rows, d, l, acc, d, qb, d);
        for (int64_t t = 0; t < nt; t++)
            for (int h = 0; h < grp; h++)
                memcpy(c->att + (t0 + t) * ldq + (int64_t)(g * grp + h) * d, qb + (t * grp + h) * d, (size_t)d * 4);
    }
}

static void decode(tca_context *c, int layer, int64_t pos) {
    const tca_hparams *hp = c->hp;
    const int d = hp->head_dim, G = hp->n_head_kv, grp = hp->n_head / G, S = c->n_split;
    const int64_t n_keys = pos + 1, state = (int64_t)grp * (2 + d);
    const float scale = 1.0f / sqrtf((float)d);
#pragma omp for schedule(static)
    for (int64_t task = 0; task < (int64_t)G * S; task++) {
        const int g = (int)(task / S), s = (int)(task % S);
        const int64_t k0 = n_keys * s / S, k1 = n_keys * (s + 1) / S;
        float *m = c->split_state + task * state, *l = m + grp, *acc = l + grp;
        int64_t qpos[64];
        for (int h = 0; h < grp; h++) qpos[h] = pos;
        init_state(m, l, acc, grp, d);
        const tca_kv_segment seg = {tca_kv_k(c, layer, g, k0), tca_kv_v(c, layer, g, k0), k1 - k0, d, k0, 1};
        if (k1 > k0)
            c->k->attn_accum(c->q + (int64_t)g * grp * d, d, grp, qpos, &seg, 1, d, scale, m, l, acc, d);
    }
#pragma omp for schedule(static)
    for (int g = 0; g < G; g++) {
        float *m = c->split_state + (int64_t)g * S * state, *l = m + grp, *acc = l + grp;
        for (int s = 1; s < S; s++) {
            const float *m2 = m + s * state, *l2 = m2 + grp, *acc2 = l2 + grp;
            c->k->attn_merge(grp, d, m, l, acc, d, m2, l2, acc2, d);
        }
        c->k->attn_finish(grp, d, l, acc, d, c->att + (int64_t)g * grp * d, d);
    }
}

void tca_attention(tca_context *c, int layer, int64_t pos0, int64_t T) {
    if (T == 1)
        decode(c, layer, pos0);
    else
        prefill(c, layer, pos0, T);
}
