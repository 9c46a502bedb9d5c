/* Kernel family: attention over a KV cache with an online softmax (flash attention).
 *
 * One call accumulates a list of key/value segments into the running softmax state of `nq` query
 * rows that share one KV head (the query heads of a GQA group, times the query positions of a
 * chunk). The same kernel serves dense prefill (query tiles x key tiles), TCA sparse attention
 * (the segments are the sink + core prefix and one raw range), and split-along-keys decode
 * (each thread accumulates a key range; tca attn_merge combines the partial states).
 *
 *   typedef struct { const tca_f16 *k, *v; int64_t n, ld; int64_t pos0; int causal; } tca_kv_segment;
 *     k, v: n rows of d values (f16), row j at k + j * ld (ld >= d, in elements).
 *     causal = 1: row j has position pos0 + j and is visible to a query at position p only when
 *     pos0 + j <= p. causal = 0: every row is visible to every query (the prefix of a TCA cache,
 *     whose positions all lie before the queries).
 *
 *   void attn_accum(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
 *                   const tca_kv_segment *seg, int nseg, int d, float scale,
 *                   float *m, float *l, float *acc, int64_t ldacc)
 *     q: nq rows of d floats (row i at q + i * ldq), already RoPE'd; qpos[i] its position.
 *     State per query row i: running max m[i] (start -INFINITY), running sum l[i] (start 0),
 *     unnormalised output acc[i * ldacc .. + d) (start 0). scores = scale * q . k.
 *     A row that sees no key keeps m = -inf, l = 0, acc = 0.
 *
 *   void attn_merge(int64_t nq, int d, float *m, float *l, float *acc, int64_t ldacc,
 *                   const float *m2, const float *l2, const float *acc2, int64_t ldacc2)
 *     Folds state 2 into state 1 (flash-decoding's combine step).
 *
 *   void attn_finish(int64_t nq, int d, const float *l, const float *acc, int64_t ldacc,
 *                    float *out, int64_t ldo)
 *     out[i] = acc[i] / l[i] (zeros when l[i] == 0).
 *
 * d: 64 or 128 in the supported models; kernels handle any d that is a multiple of 16.
 * Variants match `_ref` within a relative error of 1e-5 (exp rounding and summation order). */
#ifndef TCA_SIMD_ATTENTION_H
#define TCA_SIMD_ATTENTION_H

#include <stdint.h>

#include "quant.h"

typedef struct tca_kv_segment {
    const tca_f16 *k, *v;
    int64_t n, ld;
    int64_t pos0;
    int causal;
} tca_kv_segment;

typedef void (*tca_attn_accum_fn)(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
                                  const tca_kv_segment *seg, int nseg, int d, float scale,
                                  float *m, float *l, float *acc, int64_t ldacc);
typedef void (*tca_attn_merge_fn)(int64_t nq, int d, float *m, float *l, float *acc, int64_t ldacc,
                                  const float *m2, const float *l2, const float *acc2, int64_t ldacc2);
typedef void (*tca_attn_finish_fn)(int64_t nq, int d, const float *l, const float *acc,
                                   int64_t ldacc, float *out, int64_t ldo);

#endif
