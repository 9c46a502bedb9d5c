/* TCA online token selection (sparse.h; ../shared/docs/tca-spec.md 4): block scoring, ranking at
 * prefill, thresholds in decode, compaction of the kept rows. Every function is called by all
 * threads of the forward pass's OpenMP region and shares its work with `omp for`. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "policy.h"
#include "sparse.h"

static float *thread_scratch(const tca_sparse *s) {
    return s->thread_scratch + (int64_t)omp_get_thread_num() * s->thread_scratch_floats;
}
static tca_f16 *stage_k(const tca_sparse *s, int g) { return s->stage_k + (int64_t)g * s->stage_cap * s->d; }
static tca_f16 *stage_v(const tca_sparse *s, int g) { return s->stage_v + (int64_t)g * s->stage_cap * s->d; }

/* The prompt-last softmax of head g from position pos on (pl_a spans the compact part, then the staging rows). */
static const float *prompt_last_a(const tca_sparse *s, int g, int64_t pos) {
    return s->pl_a + (int64_t)g * (s->n_ctx + s->w + 2 * s->b) + s->n_compact0[g] + (pos - s->raw_pos0);
}

/* Block-last score of block j from its last token's query rows (the group's grp heads, d apart)
 * and its b keys: a (b floats) then e, into the block's record. */
static void score_block(const tca_sparse *s, const tca_kernels *k, int layer, int g, int64_t j, const float *q,
                        const tca_f16 *keys) {
    float *sc = thread_scratch(s), *rec = tca_sparse_score(s, layer, g, j);
    k->score_dot(q, s->d, s->grp, keys, s->d, s->b, s->d, 1.0f / sqrtf((float)s->d), sc, s->b);
    k->group_softmax_mean(sc, s->b, s->grp, s->b, rec);
    rec[s->b] = k->eff_count(rec, s->b);
}

/* Largest power of two <= k that leaves one compact row for every block that may still come,
 * in a compact part holding n of at most core_cap rows. */
static int fit_count(tca_sparse *s, int64_t core_cap, int64_t n, int64_t j, int k) {
    const int64_t allowed = core_cap - n - (s->n_blocks_max - j - 1);
    if (k <= allowed) return k;
    int fit = 1;
    while (fit * 2 <= allowed) fit *= 2;
#pragma omp atomic
    s->capacity_clamps++;
    return fit;
}

/* Blocks [*jf, *jl) leave the window in a step that ends with L tokens held. */
static void leaving_blocks(const tca_sparse *s, int64_t L, int64_t *jf, int64_t *jl) {
    *jf = s->raw_pos0 / s->b;
    *jl = L >= s->w ? (L - s->w) / s->b : 0;
    if (*jl < *jf) *jl = *jf;
}

void tca_sparse_stage_old(tca_sparse *s, int layer) {
#pragma omp for schedule(static)
    for (int g = 0; g < s->G; g++) {
        const tca_head_cache *hc = tca_sparse_head(s, layer, g);
        const size_t bytes = (size_t)(hc->n - hc->n_compact) * (size_t)s->d * sizeof(tca_f16);
        memcpy(stage_k(s, g), hc->k + hc->n_compact * s->d, bytes);
        memcpy(stage_v(s, g), hc->v + hc->n_compact * s->d, bytes);
        s->n_compact0[g] = hc->n_compact;
    }
}

/* Ranking keys of the blocks [jr0, jl) of head g: block-last e, or from the prompt-last softmax
 * (its block slice renormalised: e, or the slice's mass). */
static void ranking_keys(const tca_sparse *s, const tca_kernels *k, int layer, int g, int64_t jr0, int64_t jl,
                         float *red) {
    for (int64_t j = jr0; j < jl; j++) {
        if (s->budget.scorer == TCA_SCORER_BLOCK_LAST) {
            red[j - jr0] = tca_sparse_score(s, layer, g, j)[s->b];
            continue;
        }
        const float *a = prompt_last_a(s, g, j * s->b);
        float mass = 0, *norm = thread_scratch(s);
        for (int t = 0; t < s->b; t++) mass += a[t];
        if (s->budget.redundancy == TCA_REDUNDANCY_MASS) {
            red[j - jr0] = mass;
            continue;
        }
        for (int t = 0; t < s->b; t++) norm[t] = mass > 0 ? a[t] / mass : 1.0f / s->b;
        red[j - jr0] = k->eff_count(norm, s->b);
    }
}

/* Keep what the ranked blocks of head g were ranked by, for tca_context_prompt_score: each
 * block's slice of the prompt-last softmax and its ranking key (red, from the selection). */
static void record_prompt_scores(const tca_sparse *s, int layer, int g, int64_t L, const float *red) {
    int64_t jf, jl;
    leaving_blocks(s, L, &jf, &jl);
    const int64_t jr0 = jf > s->sink_end / s->b ? jf : s->sink_end / s->b;
    for (int64_t j = jr0; j < jl; j++) {
        float *rec = tca_sparse_pl_score(s, layer, g, j);
        memcpy(rec, prompt_last_a(s, g, j * s->b), (size_t)s->b * sizeof *rec);
        rec[s->b] = red[j - jr0];
    }
}

void tca_sparse_prefill_select(tca_sparse *s, const tca_kernels *k, int layer, int64_t pos0, int64_t T) {
    const int b = s->b, d = s->d, G = s->G;
    const int64_t L = pos0 + T, qd = (int64_t)G * s->grp * d;
    const float scale = 1.0f / sqrtf((float)d);
    /* 1. block-last scores of every block completed in this step (recorded for decode and tests) */
    const int64_t j0 = pos0 / b, j1 = L / b;
#pragma omp for schedule(static)
    for (int64_t task = 0; task < (j1 - j0) * G; task++) {
        const int g = (int)(task % G);
        const int64_t j = j0 + task / G, last = (j + 1) * b - 1;
        score_block(s, k, layer, g, j, s->q_all + (last - pos0) * qd + (int64_t)g * s->grp * d,
                    stage_k(s, g) + (j * b - s->raw_pos0) * d);
    }
    int64_t jf, jl;
    leaving_blocks(s, L, &jf, &jl);
    const int64_t jr0 = jf > s->sink_end / b ? jf : s->sink_end / b; /* ranked: past the sink */
    /* 2. prompt-last: the last query over everything held, once per head */
    if (s->budget.scorer == TCA_SCORER_PROMPT_LAST && jl > jr0) {
#pragma omp for schedule(dynamic, 1)
        for (int g = 0; g < G; g++) {
            const tca_head_cache *hc = tca_sparse_head(s, layer, g);
            const int64_t n_c = s->n_compact0[g], n_st = L - s->raw_pos0, n_tot = n_c + n_st;
            const float *q = s->q_all + (T - 1) * qd + (int64_t)g * s->grp * d;
            float *sc = thread_scratch(s);
            if (n_c > 0) k->score_dot(q, d, s->grp, hc->k, d, n_c, d, scale, sc, n_tot);
            k->score_dot(q, d, s->grp, stage_k(s, g), d, n_st, d, scale, sc + n_c, n_tot);
            k->group_softmax_mean(sc, n_tot, s->grp, n_tot, s->pl_a + (int64_t)g * (s->n_ctx + s->w + 2 * b));
        }
    }
    /* 3. per head: retain counts by ranking, then the kept rows appended to the compact part */
#pragma omp for schedule(dynamic, 1)
    for (int g = 0; g < G; g++) {
        tca_head_cache *hc = tca_sparse_head(s, layer, g);
        tca_compact_dst dst = {hc->k, hc->v, hc->pos, hc->n_compact, hc->core_cap,
                               s->cum + (int64_t)g * (s->n_blocks_max + 1), s->counts + (int64_t)g * s->n_blocks_max,
                               s->red + (int64_t)g * s->n_blocks_max, s->order + (int64_t)g * s->n_blocks_max};
        tca_sparse_select_head(s, k, layer, g, s->budget.heads[(int64_t)layer * G + g].p, L, &dst);
        hc->n_compact = dst.n;
        if (s->budget.scorer == TCA_SCORER_PROMPT_LAST && s->budget.method == TCA_METHOD_TCA)
            record_prompt_scores(s, layer, g, L, dst.red);
    }
}

/* Kth largest of x[0..n) (1 <= K <= n), reordering x (quickselect). */
static float kth_largest(float *x, int64_t n, int64_t K) {
    int64_t lo = 0, hi = n - 1;
    const int64_t want = K - 1;
    while (lo < hi) {
        const float pivot = x[lo + (hi - lo) / 2];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (x[i] > pivot) i++;
            while (x[j] < pivot) j--;
            if (i <= j) {
                const float t = x[i];
                x[i++] = x[j];
                x[j--] = t;
            }
        }
        if (want <= j) hi = j;
        else if (want >= i) lo = i;
        else return x[want];
    }
    return x[want];
}

/* SnapKV-like retain counts of the n_r blocks from jr0 (tca_method): the head's top core_frac of
 * their tokens by the prompt-last softmax, one top-k over all of them; ties at the cut go to the
 * earlier tokens. The top-k inside each block then picks exactly those tokens. */
static void snapkv_counts(const tca_sparse *s, int g, int64_t jr0, int64_t n_r, int32_t *counts) {
    const int b = s->b;
    const int64_t n = n_r * b, K = llround(s->budget.core_frac * (double)n);
    const float *a = prompt_last_a(s, g, jr0 * b);
    if (K <= 0 || K >= n) {
        for (int64_t i = 0; i < n_r; i++) counts[i] = K <= 0 ? 0 : b;
        return;
    }
    float *tmp = thread_scratch(s) + b; /* the scratch holds grp * n_ctx floats after the first b */
    memcpy(tmp, a, (size_t)n * sizeof(float));
    const float cut = kth_largest(tmp, n, K);
    int64_t above = 0;
    for (int64_t t = 0; t < n; t++) above += a[t] > cut;
    int64_t ties = K - above;
    for (int64_t i = 0; i < n_r; i++) {
        int c = 0;
        for (int t = 0; t < b; t++) {
            const float v = a[i * b + t];
            if (v > cut || (v == cut && ties > 0 && ties--)) c++;
        }
        counts[i] = c;
    }
}

void tca_sparse_select_head(tca_sparse *s, const tca_kernels *k, int layer, int g, const double *p, int64_t L,
                            tca_compact_dst *dst) {
    const int b = s->b, d = s->d;
    int64_t jf, jl;
    leaving_blocks(s, L, &jf, &jl);
    const int64_t jr0 = jf > s->sink_end / b ? jf : s->sink_end / b, n_r = jl - jr0;
    if (n_r > 0 && s->budget.method == TCA_METHOD_STREAMING) {
        memset(dst->counts, 0, (size_t)n_r * sizeof *dst->counts);
    } else if (n_r > 0 && s->budget.method == TCA_METHOD_SNAPKV) {
        snapkv_counts(s, g, jr0, n_r, dst->counts);
    } else if (n_r > 0) {
        ranking_keys(s, k, layer, g, jr0, jl, dst->red);
        tca_assign_counts(b, p, dst->red, n_r, dst->counts, dst->order);
    }
    dst->cum[0] = 0;
    for (int64_t j = jf; j < jl; j++) {
        const int64_t src = j * b - s->raw_pos0;
        int kk = j < jr0 ? b : fit_count(s, dst->core_cap, dst->n, j, dst->counts[j - jr0]);
        int32_t idx[64];
        if (kk == b) {
            for (int t = 0; t < b; t++) idx[t] = t;
        } else if (kk > 0) {
            const float *a = tca_sparse_score(s, layer, g, j);
            float *norm = thread_scratch(s);
            if (s->budget.scorer == TCA_SCORER_PROMPT_LAST) {
                const float *pa = prompt_last_a(s, g, j * b);
                float mass = 0;
                for (int t = 0; t < b; t++) mass += pa[t];
                for (int t = 0; t < b; t++) norm[t] = mass > 0 ? pa[t] / mass : 1.0f / b;
                a = norm;
            }
            k->topk(a, b, kk, idx);
        }
        if (kk > 0) {
            k->gather_rows(stage_k(s, g) + src * d, d, idx, kk, d, dst->k + dst->n * d, d);
            k->gather_rows(stage_v(s, g) + src * d, d, idx, kk, d, dst->v + dst->n * d, d);
        }
        for (int t = 0; t < kk; t++) dst->pos[dst->n + t] = (int32_t)(j * b + idx[t]);
        dst->n += kk;
        dst->cum[j - jf + 1] = dst->cum[j - jf] + kk;
    }
}

int tca_sparse_segments(const tca_sparse *s, int g, const tca_f16 *ck, const tca_f16 *cv, int64_t n_compact0,
                        const int64_t *cum, int64_t t0, int64_t t_end, tca_kv_segment *seg) {
    const int64_t w = s->budget.prefill_window > s->w ? s->budget.prefill_window : s->w;
    int64_t R = t0 / s->b * s->b - w; /* block-aligned: cum counts whole blocks before it */
    if (R < s->raw_pos0) R = s->raw_pos0;
    const int64_t prefix = n_compact0 + cum[(R - s->raw_pos0) / s->b];
    const int64_t off = (R - s->raw_pos0) * s->d;
    seg[0] = (tca_kv_segment){ck, cv, prefix, s->d, 0, 0};
    seg[1] = (tca_kv_segment){stage_k(s, g) + off, stage_v(s, g) + off, t_end - R, s->d, R, 1};
    return 2;
}

int tca_sparse_prefill_segments(const tca_sparse *s, int layer, int g, int64_t pos0, int64_t t0, int64_t t_end,
                                tca_kv_segment *seg) {
    (void)pos0;
    const tca_head_cache *hc = tca_sparse_head(s, layer, g);
    return tca_sparse_segments(s, g, hc->k, hc->v, s->n_compact0[g], s->cum + (int64_t)g * (s->n_blocks_max + 1), t0,
                               t_end, seg);
}

void tca_sparse_prefill_finish(tca_sparse *s, int layer, int64_t pos0, int64_t T) {
    int64_t jf, jl;
    leaving_blocks(s, pos0 + T, &jf, &jl);
    const int64_t tail0 = jl * s->b - s->raw_pos0, n_tail = pos0 + T - jl * s->b;
#pragma omp for schedule(static)
    for (int g = 0; g < s->G; g++) {
        tca_head_cache *hc = tca_sparse_head(s, layer, g);
        const size_t bytes = (size_t)n_tail * (size_t)s->d * sizeof(tca_f16);
        memcpy(hc->k + hc->n_compact * s->d, stage_k(s, g) + tail0 * s->d, bytes);
        memcpy(hc->v + hc->n_compact * s->d, stage_v(s, g) + tail0 * s->d, bytes);
        for (int64_t t = 0; t < n_tail; t++) hc->pos[hc->n_compact + t] = (int32_t)(jl * s->b + t);
        hc->n = hc->n_compact + n_tail;
    }
}

void tca_sparse_prefill_done(tca_sparse *s, int64_t pos0, int64_t T) {
    int64_t jf, jl;
    leaving_blocks(s, pos0 + T, &jf, &jl);
    s->raw_pos0 = jl * s->b;
    s->n_scored = (pos0 + T) / s->b;
}

/* Decode retain count of block j of a head with redundancy e (spec 4.2): thresholds from the
 * quantiles of every block this head has scored so far in the sequence (the prompt's, refreshed
 * as decode goes on); the budget file's calibrated thresholds while fewer than 4 per retain count
 * have been seen; the median count of p when there is nothing at all. */
static int decode_count(const tca_sparse *s, int layer, int g, int64_t n_complete, float e) {
    const tca_head_budget *hb = &s->budget.heads[(int64_t)layer * s->G + g];
    const int64_t jr0 = s->sink_end / s->b, n_hist = n_complete > jr0 ? n_complete - jr0 : 0;
    double thr[TCA_MAX_COUNTS - 1];
    if (n_hist >= 4 * s->n_counts || (n_hist > 0 && !hb->has_thresholds)) {
        float *hist = thread_scratch(s) + s->b, *sorted = hist + s->n_blocks_max;
        for (int64_t j = 0; j < n_hist; j++) hist[j] = tca_sparse_score(s, layer, g, jr0 + j)[s->b];
        tca_thresholds_from(s->b, hb->p, hist, n_hist, thr, sorted);
    } else if (hb->has_thresholds) {
        memcpy(thr, hb->thresholds, sizeof thr);
    } else {
        double cum = 0;
        for (int ci = 0; ci < s->n_counts; ci++)
            if ((cum += hb->p[ci]) >= 0.5) return 1 << ci;
        return s->b;
    }
    return tca_count_from_thresholds(s->b, thr, e);
}

void tca_sparse_decode_append(tca_sparse *s, const tca_kernels *k, int layer, int64_t pos, const float *q,
                              const float *kf, const float *vf) {
    const int b = s->b, d = s->d;
    const int64_t limit = pos / b * b - s->w; /* blocks ending at or before it leave the window */
#pragma omp for schedule(static)
    for (int g = 0; g < s->G; g++) {
        tca_head_cache *hc = tca_sparse_head(s, layer, g);
        k->f32_to_f16(kf + g * d, hc->k + hc->n * d, d);
        k->f32_to_f16(vf + g * d, hc->v + hc->n * d, d);
        hc->pos[hc->n++] = (int32_t)pos;
        if ((pos + 1) % b == 0)
            score_block(s, k, layer, g, pos / b, q + (int64_t)g * s->grp * d, hc->k + (hc->n - b) * d);
        for (int64_t front = s->raw_pos0; front + b <= limit; front += b) {
            const int64_t j = front / b;
            if (front < s->sink_end) {
                hc->n_compact += b;
                continue;
            }
            const float *rec = tca_sparse_score(s, layer, g, j);
            /* baselines: StreamingLLM keeps nothing, SnapKV every generated token */
            const int want = s->budget.method == TCA_METHOD_STREAMING ? 0
                             : s->budget.method == TCA_METHOD_SNAPKV  ? b
                                                                      : decode_count(s, layer, g, (pos + 1) / b, rec[b]);
            const int kk = fit_count(s, hc->core_cap, hc->n_compact, j, want);
            if (kk < b) {
                int32_t idx[64];
                const int64_t c0 = hc->n_compact;
                if (kk > 0) {
                    k->topk(rec, b, kk, idx);
                    k->gather_rows(hc->k + c0 * d, d, idx, kk, d, hc->k + c0 * d, d);
                    k->gather_rows(hc->v + c0 * d, d, idx, kk, d, hc->v + c0 * d, d);
                }
                for (int t = 0; t < kk; t++) hc->pos[c0 + t] = hc->pos[c0 + idx[t]];
                const int64_t rest = hc->n - (c0 + b);
                memmove(hc->k + (c0 + kk) * d, hc->k + (c0 + b) * d, (size_t)(rest * d) * sizeof(tca_f16));
                memmove(hc->v + (c0 + kk) * d, hc->v + (c0 + b) * d, (size_t)(rest * d) * sizeof(tca_f16));
                memmove(hc->pos + c0 + kk, hc->pos + c0 + b, (size_t)rest * sizeof(int32_t));
                hc->n -= b - kk;
            }
            hc->n_compact += kk;
        }
    }
}

void tca_sparse_decode_done(tca_sparse *s, int64_t pos) {
    const int64_t limit = pos / s->b * s->b - s->w;
    if (limit > s->raw_pos0) s->raw_pos0 = limit;
    s->n_scored = (pos + 1) / s->b;
}
