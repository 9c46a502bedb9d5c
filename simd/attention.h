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
 *     A row that sees no key (in this call) keeps its state exactly; a fresh one stays
 *     m = -inf, l = 0, acc = 0. Rows may have different positions (causal prefill tiles).
 *     Variants widen a key tile once and reuse it for all nq rows, so one call with all the
 *     rows of a GQA group (and of a query chunk) is much cheaper than one call per row. They
 *     keep the widened tile on the stack (up to ~130 KiB for d <= 256) and hand d > 256 to ref.
 *
 *   void attn_merge(int64_t nq, int d, float *m, float *l, float *acc, int64_t ldacc,
 *                   const float *m2, const float *l2, const float *acc2, int64_t ldacc2)
 *     Folds state 2 into state 1 (flash-decoding's combine step): with m = max(m1, m2),
 *     acc = acc1 e^(m1-m) + acc2 e^(m2-m), l likewise; two empty states stay empty.
 *
 *   void attn_finish(int64_t nq, int d, const float *l, const float *acc, int64_t ldacc,
 *                    float *out, int64_t ldo)
 *     out[i] = acc[i] / l[i] (zeros when l[i] == 0).
 *
 * d: 64 or 128 in the supported models; kernels handle any d that is a multiple of 16, any nq >= 0,
 * any segment length n >= 0 (empty segments are allowed) and any nseg >= 0.
 * Inputs: q, k, v finite and every visible score finite (|scale * q . k| < FLT_MAX); scores of any
 * magnitude below that are safe (the running max is subtracted before exp). Rows of q, acc and
 * the state must not alias k or v; acc and acc2 must not overlap.
 * Alignment: none assumed (rows may start anywhere; ld counts elements).
 *
 * Accuracy: exp rounding and summation order differ between variants, so after attn_finish a
 * variant's output o matches the reference's o_ref per element within
 *     |o - o_ref| <= (1e-5 + 4 * d * 2^-24 * S) * max |v|
 * where S = max over the visible keys of scale * sum_k |q_k k_k| (d * 2^-24 * S bounds the
 * rounding error of one score in any summation order; a score error e moves the softmax weights
 * by a factor within exp(+-e)) and max |v| is over the visible value rows. For scores of
 * ordinary size (|s| < 30) the first term dominates. The reference rescales the running state
 * once per call (two passes: the call's max, then the sums); a variant rescales once per key tile
 * in which the running max rises, each adding up to ~2^-23 relative error, so a call whose max
 * rises in hundreds of tiles can exceed the first term (not seen with real attention scores).
 * attn_merge and attn_finish are bit-identical across variants (per-row scalar expf, then one
 * multiply, add or divide per element, never fused).
 *
 *   void attn_accum_f32(... same arguments, const tca_kv_segment_f32 *seg ...)
 *     The same contract over an f32 cache (tca_kv_segment_f32: k, v are float rows, ld in
 *     floats): the KV cache option --kv-type f32. Same accuracy bound against attn_accum_f32's
 *     ref, with S and max |v| taken over the f32 values. Each level computes it with the same
 *     code as its attn_accum, only the loads differ, so on a cache holding f16 values widened to
 *     f32 it returns bit for bit the state that attn_accum of the same level returns on the f16
 *     cache (tested): an f16 and an f32 run differ only by the rounding of the stored K and V. */
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
typedef struct tca_kv_segment_f32 {
    const float *k, *v;
    int64_t n, ld;
    int64_t pos0;
    int causal;
} tca_kv_segment_f32;

typedef void (*tca_attn_accum_f32_fn)(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
                                      const tca_kv_segment_f32 *seg, int nseg, int d, float scale,
                                      float *m, float *l, float *acc, int64_t ldacc);
typedef void (*tca_attn_merge_fn)(int64_t nq, int d, float *m, float *l, float *acc, int64_t ldacc,
                                  const float *m2, const float *l2, const float *acc2, int64_t ldacc2);
typedef void (*tca_attn_finish_fn)(int64_t nq, int d, const float *l, const float *acc,
                                   int64_t ldacc, float *out, int64_t ldo);

#endif
