/* An inference context: the KV cache and scratch of one sequence over a loaded model, sized once
 * at creation (no allocation per token). tca_eval appends tokens to the sequence: many at once
 * is a prefill (batched, n_batch rows per step), one at a time is decode. */
#ifndef TCA_CONTEXT_H
#define TCA_CONTEXT_H

#include <stdint.h>

#include "tca/budget.h"
#include "tca/model.h"
#include "tca/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tca_context tca_context;

typedef enum tca_kv_type { TCA_KV_F16 = 0, TCA_KV_F32 = 1 } tca_kv_type;
typedef enum tca_attn_mode { TCA_ATTN_DENSE = 0, TCA_ATTN_TCA = 1 } tca_attn_mode;

typedef struct tca_context_params {
    int n_ctx;      /* most tokens the sequence may hold; 0: the model's trained context */
    int n_threads;  /* 0: every core (omp_get_max_threads) */
    int n_batch;    /* prompt rows per forward step; 0: 512 */
    tca_kv_type kv_type;   /* dense cache element type (TCA caches are f16) */
    tca_attn_mode attn;    /* dense, or TCA-Attention driven by `budget` */
    /* TCA: the head budgets (copied at creation; block, sink, window, scorer and redundancy are
     * taken from it). Required when attn is TCA_ATTN_TCA. */
    const tca_budget *budget;
} tca_context_params;

/* Where the time of tca_eval went, in seconds, accumulated since the last reset. */
typedef struct tca_timings {
    double matmul;   /* weight products (incl. activation quantization) */
    double attn;     /* attention over the KV cache (dense, or TCA's sparse attention) */
    double select;   /* TCA: block scoring, ranking, top-k, compaction of the cache */
    double other;    /* norms, RoPE, SwiGLU, embedding, residuals, KV stores */
    int64_t n_prefill_tokens, n_decode_tokens;
    double prefill, decode; /* wall time of tca_eval calls with n > 1 and n == 1 */
} tca_timings;

typedef void (*tca_progress_fn)(int64_t done, int64_t total, void *user);

tca_context_params tca_context_default_params(void);
tca_status tca_context_new(const tca_model *m, const tca_context_params *p, tca_context **out);
void tca_context_free(tca_context *c);

/* Runs n tokens at positions pos .. pos+n-1 and appends them to the cache. logits: NULL, or
 * n_vocab floats for the last token. TCA_ERR_RANGE (nothing run) when pos + n > n_ctx.
 * progress (may be NULL) is called after each batch with tokens done so far and n. */
tca_status tca_eval(tca_context *c, const int32_t *tokens, int64_t n, float *logits,
                    tca_progress_fn progress, void *user);

/* Evaluation (perplexity, KL against dense at every position): like tca_eval without logits,
 * but the logits of every row at position >= from are handed to fn, in position order, in
 * chunks of at most n_batch rows: logits is n_rows x n_vocab floats, valid during the call. */
typedef void (*tca_rows_fn)(int64_t pos, int64_t n_rows, const float *logits, void *user);
tca_status tca_eval_rows(tca_context *c, const int32_t *tokens, int64_t n, int64_t from, tca_rows_fn fn,
                         void *user);

int64_t tca_context_pos(const tca_context *c);   /* tokens held */
int tca_context_n_ctx(const tca_context *c);
int tca_context_n_threads(const tca_context *c);
int tca_default_threads(void);                   /* what n_threads = 0 means: every core */
void tca_context_reset(tca_context *c);          /* empties the sequence and the timings */
uint64_t tca_context_kv_bytes(const tca_context *c);      /* bytes of K and V held now */

/* What the cache holds now, against a dense cache of the same tokens: whole-cache keep ratio
 * (rows held / (tokens x layers x KV heads)) and the per-layer keep ratios' mean, min and max.
 * Dense: all 1. kv_bytes_dense: what a dense f16 cache of these tokens would take. */
typedef struct tca_cache_stats {
    double keep, layer_mean, layer_min, layer_max;
    uint64_t kv_bytes, kv_bytes_dense;
    int64_t rows_held, rows_dense;
    int64_t capacity_clamps; /* decode compressions that got a smaller retain count to fit the cache */
} tca_cache_stats;
void tca_context_cache_stats(const tca_context *c, tca_cache_stats *out);

/* TCA introspection (tests, calibration, evaluation): the positions held by one KV head of one
 * layer, ascending; returns how many (at most cap are written). Dense: 0..pos-1. */
int64_t tca_context_head_positions(const tca_context *c, int layer, int kv_head, int32_t *out, int64_t cap);
/* The block-last score vector (block floats) and redundancy e of block j of (layer, kv_head) as
 * computed when that block was completed (every block's are kept: (block + 1) floats per block);
 * 0 when recorded, -1 when not (dense, or block j not complete). */
int tca_context_block_score(const tca_context *c, int layer, int kv_head, int64_t j, float *a, float *e);
/* Scorer prompt-last: block j's slice of the prompt-last softmax (block floats, not renormalised)
 * and the ranking key its retain count came from (e of the renormalised slice, or its mass), as
 * used when the block was ranked; 0 when recorded, -1 when not (block-last, dense, or a block
 * that was never ranked: sink, window, or compressed in decode). */
int tca_context_prompt_score(const tca_context *c, int layer, int kv_head, int64_t j, float *a, float *key);
uint64_t tca_context_scratch_bytes(const tca_context *c); /* allocated at creation, all buffers */
const tca_timings *tca_context_timings(const tca_context *c);

/* Name of the kernel level in use ("avx512", "avx2", "neon", "ref"); TCA_ISA overrides it. */
const char *tca_isa_active_name(void);

#ifdef __cplusplus
}
#endif
#endif
