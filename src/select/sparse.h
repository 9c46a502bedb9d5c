/* The TCA KV cache and its selection driver (docs/tca.md; ../shared/docs/tca-spec.md 3, 4).
 *
 * Each (layer, KV head) holds ONE array of rows in position order: the compact part, rows
 * [0, n_compact), is the sink plus the kept tokens of every compressed block; the raw part, rows
 * [n_compact, n), is every token from raw_pos0 on (the window, block-aligned start). The whole
 * cache of a head is therefore one contiguous key range for the attention kernel (decode) or
 * a prefix of it plus one raw range (prefill). A block is compressed when it leaves the window:
 * its kept rows are gathered in place to the end of the compact part and the raw rows after it
 * move down (at most w + b rows, once per block).
 *
 * Raw positions are the same for every head (compression is by position); only n_compact (how
 * many tokens each head kept) differs. Every block's block-last scores are recorded when the
 * block completes (prefill or decode): decode compresses from them, tests compare them.
 *
 * Library-internal; used by src/forward and calibration. */
#ifndef TCA_SELECT_SPARSE_H
#define TCA_SELECT_SPARSE_H

#include <stdint.h>

#include "kernels.h"
#include "tca/budget.h"
#include "tca/context.h"

typedef struct tca_head_cache {
    tca_f16 *k, *v;   /* cap rows x head_dim */
    int32_t *pos;     /* position of each row */
    int64_t cap;      /* rows allocated */
    int64_t core_cap; /* most rows the compact part may hold (sink + core) */
    int64_t n, n_compact;
} tca_head_cache;

typedef struct tca_sparse {
    tca_budget budget;       /* copy (heads owned) */
    int b, n_counts, w;      /* block, retain counts, window */
    int64_t sink_end;        /* the sink rounded up to whole blocks */
    int n_layer, G, grp, d;
    int64_t n_ctx, n_blocks_max;
    int64_t raw_pos0;        /* first raw position (all heads) */
    tca_head_cache *heads;   /* n_layer * G */
    void *arena;             /* rows of all heads */
    float *scores;           /* [n_layer][G][n_blocks_max][b + 1]: block-last a (b floats), then e */
    int64_t n_scored;        /* blocks whose scores are recorded (complete blocks) */
    /* layer-major prefill scratch */
    float *q_all;            /* (n_ctx, n_head * d) the layer's queries, RoPE'd */
    float *x_all;            /* (n_ctx, n_embd) residual stream of the prompt */
    tca_f16 *stage_k, *stage_v; /* [G][stage_cap][d]: the layer's raw rows (old window + prompt) */
    int64_t stage_cap;
    int32_t *counts;         /* [G][n_blocks_max] retain counts of the step's blocks */
    int64_t *cum;            /* [G][n_blocks_max + 1] compact rows before each block of the step */
    int64_t *n_compact0;     /* [G] n_compact of the layer before the step */
    float *red;              /* [G][n_blocks_max] ranking keys */
    float *pl_a;             /* [G][n_ctx] prompt-last: softmax over the context (scorer prompt-last) */
    float *pl_scores;        /* prompt-last only, [n_layer][G][n_blocks_max][b + 1]: each ranked block's
                              * slice of the prompt-last softmax, then its ranking key (NaN: not ranked) */
    int64_t *order;          /* [G][n_blocks_max] */
    float *thread_scratch;   /* per thread: grp * n_ctx + 2 * n_blocks_max + b floats */
    int64_t thread_scratch_floats;
    int64_t capacity_clamps;
} tca_sparse;

/* Allocation (counted in *bytes) and release. The budget must match the model. */
tca_status tca_sparse_new(const tca_hparams *hp, const tca_budget *budget, int64_t n_ctx, int n_threads,
                          tca_sparse **out, uint64_t *bytes);
void tca_sparse_free(tca_sparse *s);
void tca_sparse_reset(tca_sparse *s);

static inline tca_head_cache *tca_sparse_head(const tca_sparse *s, int layer, int g) {
    return &s->heads[(int64_t)layer * s->G + g];
}
static inline float *tca_sparse_score(const tca_sparse *s, int layer, int g, int64_t j) {
    return s->scores + (((int64_t)layer * s->G + g) * s->n_blocks_max + j) * (s->b + 1);
}
static inline float *tca_sparse_pl_score(const tca_sparse *s, int layer, int g, int64_t j) {
    return s->pl_scores + (((int64_t)layer * s->G + g) * s->n_blocks_max + j) * (s->b + 1);
}

/* Layer-major prefill of T tokens at pos0 (all threads of the region call these in order):
 *  stage_old: copies each head's raw rows to the front of the staging buffer;
 *  (the caller writes the new K, V rows to staging rows pos0 - raw_pos0 + t and the queries to q_all)
 *  select: scores the blocks completed in this step, ranks the compressible ones, writes their
 *          kept rows to the compact part (sets counts/cum for the attention driver);
 *  (the caller runs attention with tca_sparse_prefill_segments)
 *  finish: copies the raw tail to the cache and advances raw_pos0. */
void tca_sparse_stage_old(tca_sparse *s, int layer);
void tca_sparse_prefill_select(tca_sparse *s, const tca_kernels *k, int layer, int64_t pos0, int64_t T);
void tca_sparse_prefill_finish(tca_sparse *s, int layer, int64_t pos0, int64_t T);
/* After the last layer of a prefill: the new raw start and recorded blocks. */
void tca_sparse_prefill_done(tca_sparse *s, int64_t pos0, int64_t T);

/* Where one head's selection of a prefill step goes: compact rows appended at row n (in: rows
 * held before, out: after), at most core_cap; cum[i] = rows written before the i-th leaving block
 * of the step; counts, red, order: scratch of n_blocks_max. */
typedef struct tca_compact_dst {
    tca_f16 *k, *v;
    int32_t *pos;
    int64_t n, core_cap;
    int64_t *cum;
    int32_t *counts;
    float *red;
    int64_t *order;
} tca_compact_dst;

/* The selection of head g at `layer` under retain-count distribution p for a step ending with L
 * tokens (after tca_sparse_prefill_select's scoring): ranking, retain counts, top-k, gathering.
 * The inference path calls it with the head's own budget and cache; calibration with each
 * candidate p and scratch rows. Not work-shared: one call per head, from any thread. */
void tca_sparse_select_head(tca_sparse *s, const tca_kernels *k, int layer, int g, const double *p, int64_t L,
                            tca_compact_dst *dst);

/* The key segments a query tile [t0, t_end) sees given a compact part (ck, cv; n_compact0 rows
 * before the step, cum as filled by tca_sparse_select_head) and the staging rows of head g. */
int tca_sparse_segments(const tca_sparse *s, int g, const tca_f16 *ck, const tca_f16 *cv, int64_t n_compact0,
                        const int64_t *cum, int64_t t0, int64_t t_end, tca_kv_segment *seg);

/* The (at most two) key segments that a query tile starting at position t0 and ending before
 * t_end sees in a prefill step at pos0 (spec 4.3): the compact prefix, then the raw range. */
int tca_sparse_prefill_segments(const tca_sparse *s, int layer, int g, int64_t pos0, int64_t t0, int64_t t_end,
                                tca_kv_segment *seg);

/* Decode of the token at pos: appends its K, V (f32 rows of each head, d floats each at
 * kf + g * d) to every head of `layer`, scores a block it completes (q: the token's query rows),
 * and compresses the blocks that leave the window before this token attends. Work-shared
 * over heads; every thread calls it. */
void tca_sparse_decode_append(tca_sparse *s, const tca_kernels *k, int layer, int64_t pos, const float *q,
                              const float *kf, const float *vf);
/* After the last layer of a decode step. */
void tca_sparse_decode_done(tca_sparse *s, int64_t pos);

void tca_sparse_stats(const tca_sparse *s, int64_t n_tokens, tca_cache_stats *out);

#endif
