/* Reference (scalar C) attention kernels: the specification of attention.h. The variants reuse
 * attn_merge and attn_finish where they have nothing to gain from vectors. */
#ifndef TCA_ATTENTION_REF_H
#define TCA_ATTENTION_REF_H

#include <stdint.h>

#include "attention.h"

struct tca_kernels;

void tca_attn_accum_ref(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
                        const tca_kv_segment *seg, int nseg, int d, float scale,
                        float *m, float *l, float *acc, int64_t ldacc);
void tca_attn_merge_ref(int64_t nq, int d, float *m, float *l, float *acc, int64_t ldacc,
                        const float *m2, const float *l2, const float *acc2, int64_t ldacc2);
void tca_attn_finish_ref(int64_t nq, int d, const float *l, const float *acc, int64_t ldacc,
                         float *out, int64_t ldo);

/* Number of rows of a segment that a query at position p sees: a prefix of the segment, since
 * positions rise with the row index (causal) or every row is visible (non-causal). */
static inline int64_t tca_kv_visible(const tca_kv_segment *s, int64_t p) {
    if (!s->causal) return s->n;
    const int64_t v = p - s->pos0 + 1;
    return v < 0 ? 0 : v > s->n ? s->n : v;
}

/* Fills the attention entries of the table. */
void tca_attention_ref_register(struct tca_kernels *k);

#endif
