/* AArch64 NEON attention and elementwise variants (contracts: attention.h, elementwise.h). */
#ifndef TCA_SIMD_ARM_ATTENTION_NEON_H
#define TCA_SIMD_ARM_ATTENTION_NEON_H

#include <stdint.h>

#include "attention.h"

struct tca_kernels;

void tca_attn_accum_neon(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
                         const tca_kv_segment *seg, int nseg, int d, float scale,
                         float *m, float *l, float *acc, int64_t ldacc);
void tca_attn_accum_f32_neon(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
                             const tca_kv_segment_f32 *seg, int nseg, int d, float scale,
                             float *m, float *l, float *acc, int64_t ldacc);

/* Table upgrades, one call each from init_neon.c. */
void tca_attention_register_neon(struct tca_kernels *k);
void tca_elementwise_register_neon(struct tca_kernels *k);

#endif
