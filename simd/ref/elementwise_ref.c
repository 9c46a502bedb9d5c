/* Reference elementwise kernels (contract: elementwise.h).
 *
 * Sums that set a scale for a whole row (rmsnorm's sum of squares, softmax's denominator) are
 * accumulated in double: each f32 square is exact in double, so the result barely depends on the
 * summation order and variants that sum in another order round the scale to the same float in
 * all but rare cases. */
#include <math.h>

#include "kernels.h"
#include "ref/elementwise_ref.h"

float tca_rmsnorm_scale(double sum_sq, int64_t n, float eps) {
    return (float)(1.0 / sqrt(sum_sq / (double)n + (double)eps));
}

void tca_rmsnorm_ref(const float *x, const float *w, float *y, int64_t n, float eps) {
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++) ss += (double)x[i] * (double)x[i];
    const float s = tca_rmsnorm_scale(ss, n, eps);
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * s * w[i];
}

void tca_rope_ref(float *x, int64_t n_heads, int d, const float *cos, const float *sin, int neox) {
    const int half = d / 2;
    /* element i of a pair sits at a[i * step] and its partner at b[i * step] */
    const int step = neox ? 1 : 2, off = neox ? half : 1;
    for (int64_t h = 0; h < n_heads; h++) {
        float *xh = x + h * d;
        for (int i = 0; i < half; i++) {
            float *a = xh + i * step, *b = a + off;
            const float x0 = *a, x1 = *b;
            *a = x0 * cos[i] - x1 * sin[i];
            *b = x0 * sin[i] + x1 * cos[i];
        }
    }
}

void tca_silu_mul_ref(const float *g, const float *u, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

void tca_softmax_ref(float *x, int64_t n) {
    float mx = x[0];
    for (int64_t i = 1; i < n; i++)
        if (x[i] > mx) mx = x[i];
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - mx);
        sum += x[i];
    }
    const float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
}

void tca_f32_to_f16_ref(const float *x, tca_f16 *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = tca_f32_to_f16(x[i]);
}

void tca_elementwise_ref_register(tca_kernels *k) {
    k->rmsnorm = tca_rmsnorm_ref;
    k->rope = tca_rope_ref;
    k->silu_mul = tca_silu_mul_ref;
    k->softmax = tca_softmax_ref;
    k->f32_to_f16 = tca_f32_to_f16_ref;
}
