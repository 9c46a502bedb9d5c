/* The context's buffers and the KV cache layout (library-internal). */
#ifndef TCA_FORWARD_INTERNAL_H
#define TCA_FORWARD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"
#include "model/model_internal.h"
#include "select/sparse.h"
#include "tca/context.h"

#define TCA_SGEMM_ROWS 128 /* weight rows per dequantized slice in prefill products */

struct tca_context {
    const tca_model *model;
    const tca_hparams *hp;
    const tca_kernels *k;
    int n_ctx, n_batch, n_threads;
    int64_t pos;                 /* tokens held */

    /* Dense KV cache, f16 (or f32 with kv_type TCA_KV_F32): [layer][kv_head][position][head_dim]
     * for K and for V, so that one head's keys are contiguous rows (ld = head_dim) for the
     * attention kernel. Not allocated under TCA, whose cache is `sparse`. */
    tca_kv_type kv_type;
    void *kv_k, *kv_v;
    tca_sparse *sparse;          /* TCA-Attention: the three-region cache and selection state */

    /* Activations of one batch of B = n_batch rows. */
    float *x;        /* (B, n_embd)   residual stream */
    float *xn;       /* (B, n_embd)   normed input / product output */
    void *xq;        /* (B, row bytes of the widest quantized activation row) */
    float *q;        /* (B, n_head * d) */
    float *kf, *vf;  /* (B, n_kv * d)  before the f16 store */
    float *att;      /* (B, n_head * d) attention output */
    float *gate, *up;/* (B, n_ff) */
    float *rope_cos, *rope_sin; /* (B, d/2) per row position */
    double *rope_inv_freq;      /* (d/2) base^(-2i/d) */
    /* Prefill products: batches of at least sgemm_min_rows rows use dequantize + f32 GEMM; each
     * thread dequantizes a slice of weight rows into its own gemm_scratch_floats. */
    int sgemm_min_rows;
    float *gemm_scratch;
    int64_t gemm_scratch_floats;

    /* Attention scratch, per thread: a query tile gathered as rows + its online-softmax state. */
    float *attn_scratch;         /* n_threads x attn_scratch_floats */
    int64_t attn_scratch_floats;
    int64_t *attn_qpos;          /* n_threads x attn_tile_rows */
    int attn_tile;               /* query positions per prefill tile */
    /* Decode: split-along-keys partial states, [n_kv][n_split] x (group x (2 + d)) floats. */
    float *split_state;
    int n_split;

    tca_timings timings;
    uint64_t scratch_bytes;

    /* tca_eval_rows: while set, every row at position >= rows_from gets its logits (rows_buf:
     * n_batch x n_vocab, allocated by that call) handed to rows_fn. */
    tca_rows_fn rows_fn;
    void *rows_user;
    int64_t rows_from;
    float *rows_buf;

    /* Calibration (calib/): called by every thread of a TCA prefill's region at each layer once
     * its queries, keys, values and block scores are ready and before its attention runs. */
    void (*layer_hook)(tca_context *c, int layer, void *user);
    void *layer_hook_user;
};

static inline size_t tca_kv_index(const tca_context *c, int layer, int g, int64_t pos) {
    return (((size_t)layer * c->hp->n_head_kv + g) * c->n_ctx + pos) * c->hp->head_dim;
}
static inline tca_f16 *tca_kv_k(const tca_context *c, int layer, int g, int64_t pos) {
    return (tca_f16 *)c->kv_k + tca_kv_index(c, layer, g, pos);
}
static inline tca_f16 *tca_kv_v(const tca_context *c, int layer, int g, int64_t pos) {
    return (tca_f16 *)c->kv_v + tca_kv_index(c, layer, g, pos);
}
static inline float *tca_kv_k32(const tca_context *c, int layer, int g, int64_t pos) {
    return (float *)c->kv_k + tca_kv_index(c, layer, g, pos);
}
static inline float *tca_kv_v32(const tca_context *c, int layer, int g, int64_t pos) {
    return (float *)c->kv_v + tca_kv_index(c, layer, g, pos);
}

/* Attention of the T rows of q (ld n_head * d) at positions pos0.. over the cache of `layer`,
 * into att. Dense: the dense cache. TCA: decode (T == 1) over each head's whole cache; prefill
 * over the segments of tca_sparse_prefill_segments. Called by every thread of the region. */
void tca_attention(tca_context *c, int layer, int64_t pos0, int64_t T, const float *q, float *att);
/* The prefill path for any T >= 1 (TCA's layer-major prefill may end with a one-row chunk). */
void tca_attention_prefill(tca_context *c, int layer, int64_t pos0, int64_t T, const float *q, float *att);

/* TCA's layer-major prefill of T tokens (prefill_layers.c); logits of the last one (may be NULL).
 * progress (may be NULL) is called after each layer with done0 + the layer's share of T, and total. */
void tca_prefill_layers(tca_context *c, const int32_t *tokens, int64_t T, float *logits, int64_t done0,
                        int64_t total, tca_progress_fn progress, void *user);

#endif
