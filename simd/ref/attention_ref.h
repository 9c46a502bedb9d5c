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
void tca_attn_accum_f32_ref(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
                            const tca_kv_segment_f32 *seg, int nseg, int d, float scale,
                            float *m, float *l, float *acc, int64_t ldacc);
void tca_attn_merge_ref(int64_t nq, int d, float *m, float *l, float *acc, int64_t ldacc,
                        const float *m2, const float *l2, const float *acc2, int64_t ldacc2);
void tca_attn_finish_ref(int64_t nq, int d, const float *l, const float *acc, int64_t ldacc,
                         float *out, int64_t ldo);

/* One segment of either cache type as the kernel bodies see it. Each body is written once and
 * instantiated per element type (a constant `f32` flag: 1 = float rows, 0 = tca_f16 rows), so the
 * f16 and f32 kernels share every step but the loads. k, v: row j at k + j * ld elements. */
typedef struct tca_kv_view {
    const void *k, *v;
    int64_t n, ld;
    int64_t pos0;
    int causal;
} tca_kv_view;

/* Segment g of a list of tca_kv_segment (f32 = 0) or tca_kv_segment_f32 (f32 = 1). */
static inline tca_kv_view tca_kv_view_at(const void *seg, int g, int f32) {
    if (f32) {
        const tca_kv_segment_f32 *s = (const tca_kv_segment_f32 *)seg + g;
        return (tca_kv_view){s->k, s->v, s->n, s->ld, s->pos0, s->causal};
    }
    const tca_kv_segment *s = (const tca_kv_segment *)seg + g;
    return (tca_kv_view){s->k, s->v, s->n, s->ld, s->pos0, s->causal};
}

/* Row j of a K or V array of the given element type. */
static inline const void *tca_kv_row(const void *base, int64_t j, int64_t ld, int f32) {
    return (const char *)base + j * ld * (f32 ? (int64_t)sizeof(float) : (int64_t)sizeof(tca_f16));
}

/* Number of rows of a segment that a query at position p sees: a prefix of the segment, since
 * positions rise with the row index (causal) or every row is visible (non-causal). */
static inline int64_t tca_kv_visible(const tca_kv_view *s, int64_t p) {
    if (!s->causal) return s->n;
    const int64_t v = p - s->pos0 + 1;
    return v < 0 ? 0 : v > s->n ? s->n : v;
}

/* Fills the attention entries of the table. */
void tca_attention_ref_register(struct tca_kernels *k);

#endif
