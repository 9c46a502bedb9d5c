/* Reference attention (contract: attention.h).
 *
 * Per query row and call, two passes over the visible keys: the first finds the call's largest
 * score, the second adds exp(score - max) and exp(score - max) * v to the state after rescaling
 * the state once to the new max. One rescale per call keeps the reference at least as accurate
 * as any tiled variant. Scores are scale * (q . k), the dot product summed in key-dimension order
 * in f32 with K and V widened exactly from f16. */
#include <math.h>

#include "kernels.h"
#include "ref/attention_ref.h"

static float score(const float *q, const tca_f16 *k, int d, float scale) {
    float s = 0.0f;
    for (int c = 0; c < d; c++) s += q[c] * tca_f16_to_f32(k[c]);
    return scale * s;
}

void tca_attn_accum_ref(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
                        const tca_kv_segment *seg, int nseg, int d, float scale,
                        float *m, float *l, float *acc, int64_t ldacc) {
    for (int64_t i = 0; i < nq; i++) {
        const float *qi = q + i * ldq;
        float *ai = acc + i * ldacc;
        float mx = -INFINITY;
        for (int g = 0; g < nseg; g++) {
            const int64_t nv = tca_kv_visible(&seg[g], qpos[i]);
            for (int64_t j = 0; j < nv; j++) {
                const float s = score(qi, seg[g].k + j * seg[g].ld, d, scale);
                if (s > mx) mx = s;
            }
        }
        if (mx == -INFINITY) continue; /* no visible key: the state is unchanged */
        const float mnew = mx > m[i] ? mx : m[i];
        const float c = expf(m[i] - mnew); /* 0 when the state was empty (m = -inf) */
        l[i] *= c;
        for (int k = 0; k < d; k++) ai[k] *= c;
        m[i] = mnew;
        for (int g = 0; g < nseg; g++) {
            const int64_t nv = tca_kv_visible(&seg[g], qpos[i]);
            for (int64_t j = 0; j < nv; j++) {
                const float p = expf(score(qi, seg[g].k + j * seg[g].ld, d, scale) - mnew);
                const tca_f16 *vj = seg[g].v + j * seg[g].ld;
                l[i] += p;
                for (int k = 0; k < d; k++) ai[k] += p * tca_f16_to_f32(vj[k]);
            }
        }
    }
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
    k->attn_merge = tca_attn_merge_ref;
    k->attn_finish = tca_attn_finish_ref;
}
