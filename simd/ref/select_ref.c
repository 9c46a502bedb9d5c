/* Reference TCA selection kernels (contract: select.h).
 *
 * Written for plain reading, not speed: score_dot widens each f16 key element where it is used,
 * topk picks the maximum k times (a different algorithm from the variants' rank counting, so the
 * two check each other). */
#include <math.h>
#include <string.h>

#include "kernels.h"
#include "ref/elementwise_ref.h"
#include "ref/select_ref.h"

void tca_score_dot_ref(const float *q, int64_t ldq, int nq, const tca_f16 *k, int64_t ldk, int64_t n, int d,
                       float scale, float *out, int64_t ldo) {
    for (int r = 0; r < nq; r++)
        for (int64_t j = 0; j < n; j++) {
            float acc = 0.0f;
            for (int i = 0; i < d; i++) acc += q[r * ldq + i] * tca_f16_to_f32(k[j * ldk + i]);
            out[r * ldo + j] = acc * scale;
        }
}

void tca_group_softmax_mean_ref(float *s, int64_t lds, int nq, int64_t n, float *a) {
    for (int r = 0; r < nq; r++) tca_softmax_ref(s + r * lds, n);
    const float inv = 1.0f / (float)nq;
    for (int64_t j = 0; j < n; j++) {
        float acc = 0.0f;
        for (int r = 0; r < nq; r++) acc += s[r * lds + j];
        a[j] = acc * inv;
    }
}

float tca_eff_count_ref(const float *a, int64_t n) {
    double h = 0.0; /* sum a log a = -entropy, in nats */
    for (int64_t j = 0; j < n; j++)
        if (a[j] > 0.0f) h += (double)a[j] * log((double)a[j]);
    return (float)exp(-h);
}

void tca_topk_ref(const float *a, int n, int k, int32_t *idx) {
    unsigned char taken[64] = {0}; /* n <= 64 by contract */
    for (int t = 0; t < k; t++) {
        int best = -1;
        for (int j = 0; j < n; j++) /* strict >: among equal values the first (lowest) index stays */
            if (!taken[j] && (best < 0 || a[j] > a[best])) best = j;
        taken[best] = 1;
    }
    int c = 0;
    for (int j = 0; j < n; j++)
        if (taken[j]) idx[c++] = j;
}

/* memmove: with dst == src a row may be copied onto itself (idx[i] == i). */
void tca_gather_rows_ref(const tca_f16 *src, int64_t lds, const int32_t *idx, int k, int d, tca_f16 *dst,
                         int64_t ldd) {
    for (int i = 0; i < k; i++) memmove(dst + i * ldd, src + idx[i] * lds, (size_t)d * sizeof *dst);
}

void tca_select_ref_register(tca_kernels *k) {
    k->score_dot = tca_score_dot_ref;
    k->group_softmax_mean = tca_group_softmax_mean_ref;
    k->eff_count = tca_eff_count_ref;
    k->topk = tca_topk_ref;
    k->gather_rows = tca_gather_rows_ref;
}
