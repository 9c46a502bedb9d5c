/* Reference attention (contract: attention.h).
 *
 * Per query row and call, two passes over the visible keys: the first finds the call's largest
 * score, the second adds exp(score - max) and exp(score - max) * v to the state after rescaling
 * the state once to the new max. One rescale per call keeps the reference at least as accurate
 * as any tiled variant. Scores are scale * (q . k), the dot product summed in key-dimension order
 * in f32 with K and V widened exactly from f16 (attn_accum) or read as they are (attn_accum_f32):
 * one body serves both, so on f16 values stored as f32 the two give bit-identical results. */
#include <math.h>

#include "kernels.h"
#include "ref/attention_ref.h"

/* Element c of a K or V row, exactly as f32. */
static inline float elem(const void *row, int c, int f32) {
    return f32 ? ((const float *)row)[c] : tca_f16_to_f32(((const tca_f16 *)row)[c]);
}

static inline float score(const float *q, const void *k, int d, float scale, int f32) {
    float s = 0.0f;
    for (int c = 0; c < d; c++) s += q[c] * elem(k, c, f32);
    return scale * s;
}

/* attn_accum over seg[0..nseg) of tca_kv_segment (f32 = 0) or tca_kv_segment_f32 (f32 = 1). */
static inline void accum(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
                         const void *seg, int nseg, int d, float scale,
                         float *m, float *l, float *acc, int64_t ldacc, int f32) {
    for (int64_t i = 0; i < nq; i++) {
        const float *qi = q + i * ldq;
        float *ai = acc + i * ldacc;
        float mx = -INFINITY;
        for (int g = 0; g < nseg; g++) {
            const tca_kv_view s = tca_kv_view_at(seg, g, f32);
            const int64_t nv = tca_kv_visible(&s, qpos[i]);
            for (int64_t j = 0; j < nv; j++) {
                const float sc = score(qi, tca_kv_row(s.k, j, s.ld, f32), d, scale, f32);
                if (sc > mx) mx = sc;
            }
        }
        if (mx == -INFINITY) continue; /* no visible key: the state is unchanged */
        const float mnew = mx > m[i] ? mx : m[i];
        const float c = expf(m[i] - mnew); /* 0 when the state was empty (m = -inf) */
        l[i] *= c;
        for (int k = 0; k < d; k++) ai[k] *= c;
        m[i] = mnew;
        for (int g = 0; g < nseg; g++) {
            const tca_kv_view s = tca_kv_view_at(seg, g, f32);
            const int64_t nv = tca_kv_visible(&s, qpos[i]);
            for (int64_t j = 0; j < nv; j++) {
                const float p = expf(score(qi, tca_kv_row(s.k, j, s.ld, f32), d, scale, f32) - mnew);
                const void *vj = tca_kv_row(s.v, j, s.ld, f32);
                l[i] += p;
                for (int k = 0; k < d; k++) ai[k] += p * elem(vj, k, f32);
            }
        }
    }
}

void tca_attn_accum_ref(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
                        const tca_kv_segment *seg, int nseg, int d, float scale,
                        float *m, float *l, float *acc, int64_t ldacc) {
    accum(q, ldq, nq, qpos, seg, nseg, d, scale, m, l, acc, ldacc, 0);
}

void tca_attn_accum_f32_ref(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
                            const tca_kv_segment_f32 *seg, int nseg, int d, float scale,
                            float *m, float *l, float *acc, int64_t ldacc) {
    accum(q, ldq, nq, qpos, seg, nseg, d, scale, m, l, acc, ldacc, 1);
}

void tca_attn_merge_ref(int64_t nq, int d, float *m, float *l, float *acc, int64_t ldacc,
                        const float *m2, const float *l2, const float *acc2, int64_t ldacc2) {
    for (int64_t i = 0; i < nq; i++) {
        const float mx = m2[i] > m[i] ? m2[i] : m[i];
        if (mx == -INFINITY) continue; /* both empty: exp(-inf - -inf) would be NaN */
        const float c1 = expf(m[i] - mx), c2 = expf(m2[i] - mx);
        float *a = acc + i * ldacc;
        const float *b = acc2 + i * ldacc2;
        for (int k = 0; k < d; k++) a[k] = a[k] * c1 + b[k] * c2;
        l[i] = l[i] * c1 + l2[i] * c2;
        m[i] = mx;
    }
}

void tca_attn_finish_ref(int64_t nq, int d, const float *l, const float *acc, int64_t ldacc,
                         float *out, int64_t ldo) {
    for (int64_t i = 0; i < nq; i++)
        for (int k = 0; k < d; k++) out[i * ldo + k] = l[i] > 0.0f ? acc[i * ldacc + k] / l[i] : 0.0f;
}

void tca_attention_ref_register(tca_kernels *k) {
    k->attn_accum = tca_attn_accum_ref;
    k->attn_accum_f32 = tca_attn_accum_f32_ref;
    k->attn_merge = tca_attn_merge_ref;
    k->attn_finish = tca_attn_finish_ref;
}
