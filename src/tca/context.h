/* An inference context: the KV cache and scratch of one sequence over a loaded model, sized once
 * at creation (no allocation per token). tca_eval appends tokens to the sequence: many at once
 * is a prefill (batched, n_batch rows per step), one at a time is decode. */
#ifndef TCA_CONTEXT_H
#define TCA_CONTEXT_H

#include <stdint.h>

#include "tca/model.h"
#include "tca/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tca_context tca_context;

typedef struct tca_context_params {
    int n_ctx;      /* most tokens the sequence may hold; 0: the model's trained context */
    int n_threads;  /* 0: every core (omp_get_max_threads) */
    int n_batch;    /* prompt rows per forward step; 0: 512 */
} tca_context_params;

/* Where the time of tca_eval went, in seconds, accumulated since the last reset. */
typedef struct tca_timings {
    double matmul;   /* weight products (incl. activation quantization) */
    double attn;     /* attention over the KV cache */
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

int64_t tca_context_pos(const tca_context *c);   /* tokens held */
int tca_context_n_ctx(const tca_context *c);
int tca_context_n_threads(const tca_context *c);
void tca_context_reset(tca_context *c);          /* empties the sequence and the timings */
uint64_t tca_context_kv_bytes(const tca_context *c);      /* bytes of K and V held now */
uint64_t tca_context_scratch_bytes(const tca_context *c); /* allocated at creation, all buffers */
const tca_timings *tca_context_timings(const tca_context *c);

/* Name of the kernel level in use ("avx512", "avx2", "neon", "ref"); TCA_ISA overrides it. */
const char *tca_isa_active_name(void);

#ifdef __cplusplus
}
#endif
#endif
