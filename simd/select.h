/* Kernel family: TCA token selection (docs/tca.md; ../shared/docs/tca-spec.md sections 4.1, 4.2).
 *
 * A KV head's complete block of b keys is scored by the query rows of its GQA group (block-last:
 * the block's own last token; prompt-last: the prompt's last token over the whole context):
 *   s = score_dot(q, K)            raw scaled scores, one row per query head
 *   a = group_softmax_mean(s)      softmax of each row, averaged over the rows
 *   e = eff_count(a)               effective token count exp(H(a)), the block's redundancy
 *   idx = topk(a, k)               the k most attended tokens of the block
 *   gather_rows(K, idx), (V, idx)  compaction of the kept rows into the core of the cache
 *
 *   void score_dot(const float *q, int64_t ldq, int nq, const tca_f16 *k, int64_t ldk, int64_t n,
 *                  int d, float scale, float *out, int64_t ldo)
 *     out[r * ldo + j] = scale * sum_{i<d} q[r * ldq + i] * k[j * ldk + i]  (k widened from f16),
 *     r < nq, j < n. ref: float products, summed in float in ascending i (no fusion), then times
 *     scale. Variants reorder and fuse: |out - ref| <= d * 2^-22 * scale * sum_i |q_i k_i| + 1e-30.
 *   void group_softmax_mean(float *s, int64_t lds, int nq, int64_t n, float *a)
 *     Each row s[r * lds .. + n) is replaced by its softmax (the contract of elementwise.h's
 *     softmax, n >= 1, at least one finite entry per row); then a[j] = (sum over r ascending of
 *     s[r][j]) * (1.0f / nq), summed in float. Variants: a within 2e-6 relative + 1e-37 absolute.
 *   float eff_count(const float *a, int64_t n)
 *     exp(-sum_{a_j > 0} a_j * log(a_j)), for a with a_j >= 0 summing to ~1 (not renormalised).
 *     ref: the sum in double with libm log, exp in double, rounded to float once. Result in
 *     [1, n] up to rounding. Variants: within 1e-5 relative of ref.
 *   void topk(const float *a, int n, int k, int32_t *idx)
 *     The k largest entries of a[0 .. n) (1 <= k <= n <= 64), ties broken by lower index first,
 *     written to idx in ASCENDING index order (the cache keeps positions sorted). a finite.
 *     Bit-exact across variants (comparisons only).
 *   void gather_rows(const tca_f16 *src, int64_t lds, const int32_t *idx, int k, int d,
 *                    tca_f16 *dst, int64_t ldd)
 *     dst[i * ldd .. + d) = src[idx[i] * lds .. + d) for i < k; dst may equal src (with
 *     ldd == lds) when idx[i] >= i for every i (in-place compaction: rows are copied in ascending
 *     i, so they move only towards the front and none is overwritten before it is read).
 *     Bit-exact.
 *
 * No alignment is assumed; any d that is a multiple of 16, any n >= 1, nq >= 1. Kernels never
 * allocate; scratch lives in the caller's buffers. */
#ifndef TCA_SIMD_SELECT_H
#define TCA_SIMD_SELECT_H

#include <stdint.h>

#include "quant.h"

typedef void (*tca_score_dot_fn)(const float *q, int64_t ldq, int nq, const tca_f16 *k, int64_t ldk, int64_t n,
                                 int d, float scale, float *out, int64_t ldo);
typedef void (*tca_group_softmax_mean_fn)(float *s, int64_t lds, int nq, int64_t n, float *a);
typedef float (*tca_eff_count_fn)(const float *a, int64_t n);
typedef void (*tca_topk_fn)(const float *a, int n, int k, int32_t *idx);
typedef void (*tca_gather_rows_fn)(const tca_f16 *src, int64_t lds, const int32_t *idx, int k, int d, tca_f16 *dst,
                                   int64_t ldd);

#endif
