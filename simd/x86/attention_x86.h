/* x86 attention variants (contract: attention.h): attn_accum (f16 cache) and attn_accum_f32
 * (f32 cache) blocked like flash attention; merge and finish stay ref (bit-identical by
 * contract, and negligible work). */
#ifndef TCA_SIMD_X86_ATTENTION_X86_H
#define TCA_SIMD_X86_ATTENTION_X86_H

#include <stdint.h>

#include "attention.h"

struct tca_kernels;

void tca_attn_accum_avx2(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
                         const tca_kv_segment *seg, int nseg, int d, float scale,
                         float *m, float *l, float *acc, int64_t ldacc);
void tca_attn_accum_avx512(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
                           const tca_kv_segment *seg, int nseg, int d, float scale,
                           float *m, float *l, float *acc, int64_t ldacc);
void tca_attn_accum_f32_avx2(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
                             const tca_kv_segment_f32 *seg, int nseg, int d, float scale,
                             float *m, float *l, float *acc, int64_t ldacc);
void tca_attn_accum_f32_avx512(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
                               const tca_kv_segment_f32 *seg, int nseg, int d, float scale,
                               float *m, float *l, float *acc, int64_t ldacc);

/* Table upgrades, one call each from init_avx2.c / init_avx512.c. */
void tca_attention_register_avx2(struct tca_kernels *k);
void tca_attention_register_avx512(struct tca_kernels *k);

#endif
