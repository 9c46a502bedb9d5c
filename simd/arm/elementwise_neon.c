/* AArch64 NEON elementwise kernels (contract: elementwise.h; arithmetic: ref/elementwise_ref.c).
 * Tails: the exact kernels (rmsnorm's products, rope, f32_to_f16) finish with the reference's
 * scalar arithmetic; the exp kernels run their tail through a zero-padded 4-lane vector so that
 * every element goes through the same exp. */
#include <arm_neon.h>
#include <math.h>
#include <string.h>

#include "arm/attention_neon.h"
#include "arm/exp_neon.h"
#include "kernels.h"
#include "ref/elementwise_ref.h"

static void rmsnorm_neon(const float *x, const float *w, float *y, int64_t n, float eps) {
    float64x2_t a0 = vdupq_n_f64(0.0), a1 = vdupq_n_f64(0.0);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t v = vld1q_f32(x + i);
        const float64x2_t lo = vcvt_f64_f32(vget_low_f32(v)), hi = vcvt_high_f64_f32(v);
        a0 = vfmaq_f64(a0, lo, lo); /* the square is exact in double: fusing changes nothing */
        a1 = vfmaq_f64(a1, hi, hi);
    }
    double ss = vaddvq_f64(vaddq_f64(a0, a1));
    for (int64_t t = i; t < n; t++) ss += (double)x[t] * (double)x[t];
    const float s = tca_rmsnorm_scale(ss, n, eps);
    for (i = 0; i + 4 <= n; i += 4) vst1q_f32(y + i, vmulq_f32(vmulq_n_f32(vld1q_f32(x + i), s), vld1q_f32(w + i)));
    for (; i < n; i++) y[i] = x[i] * s * w[i];
}

static void rope_neon(float *x, int64_t n_heads, int d, const float *cos, const float *sin, int neox) {
    const int half = d / 2;
    for (int64_t h = 0; h < n_heads; h++) {
        float *xh = x + h * d;
        int i = 0;
        if (neox) { /* x[i] and x[i + d/2] */
            for (; i + 4 <= half; i += 4) {
                const float32x4_t a = vld1q_f32(xh + i), b = vld1q_f32(xh + half + i);
                const float32x4_t c = vld1q_f32(cos + i), s = vld1q_f32(sin + i);
                vst1q_f32(xh + i, vsubq_f32(vmulq_f32(a, c), vmulq_f32(b, s)));
                vst1q_f32(xh + half + i, vaddq_f32(vmulq_f32(a, s), vmulq_f32(b, c)));
            }
        } else { /* (x[2i], x[2i+1]): ld2/st2 split and rejoin the pairs */
            for (; i + 4 <= half; i += 4) {
                const float32x4x2_t v = vld2q_f32(xh + 2 * i);
                const float32x4_t c = vld1q_f32(cos + i), s = vld1q_f32(sin + i);
                float32x4x2_t o;
                o.val[0] = vsubq_f32(vmulq_f32(v.val[0], c), vmulq_f32(v.val[1], s));
                o.val[1] = vaddq_f32(vmulq_f32(v.val[0], s), vmulq_f32(v.val[1], c));
                vst2q_f32(xh + 2 * i, o);
            }
        }
        if (i < half) /* the remaining pairs of this head, as the reference does them */
            for (; i < half; i++) {
                float *a = neox ? xh + i : xh + 2 * i, *b = a + (neox ? half : 1);
                const float x0 = *a, x1 = *b;
                *a = x0 * cos[i] - x1 * sin[i];
                *b = x0 * sin[i] + x1 * cos[i];
            }
    }
}

static inline float32x4_t silu_mul4(float32x4_t g, float32x4_t u) {
    const float32x4_t e = tca_exp_neon(vnegq_f32(g));
    return vmulq_f32(vdivq_f32(g, vaddq_f32(vdupq_n_f32(1.0f), e)), u);
}

static void silu_mul_neon(const float *g, const float *u, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, silu_mul4(vld1q_f32(g + i), vld1q_f32(u + i)));
    if (i < n) {
        float gt[4] = {0}, ut[4] = {0}, yt[4];
        memcpy(gt, g + i, (size_t)(n - i) * sizeof *g);
        memcpy(ut, u + i, (size_t)(n - i) * sizeof *u);
        vst1q_f32(yt, silu_mul4(vld1q_f32(gt), vld1q_f32(ut)));
        memcpy(y + i, yt, (size_t)(n - i) * sizeof *y);
    }
}

static void softmax_neon(float *x, int64_t n) {
    float mx = x[0];
    int64_t i = 0;
    if (n >= 4) {
        float32x4_t vmx = vld1q_f32(x);
        for (i = 4; i + 4 <= n; i += 4) vmx = vmaxq_f32(vmx, vld1q_f32(x + i));
        mx = vmaxvq_f32(vmx);
    }
    for (; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    const float32x4_t vm = vdupq_n_f32(mx);
    float64x2_t s0 = vdupq_n_f64(0.0), s1 = vdupq_n_f64(0.0);
    for (i = 0; i + 4 <= n; i += 4) {
        const float32x4_t e = tca_exp_neon(vsubq_f32(vld1q_f32(x + i), vm));
        s0 = vaddq_f64(s0, vcvt_f64_f32(vget_low_f32(e)));
        s1 = vaddq_f64(s1, vcvt_high_f64_f32(e));
        vst1q_f32(x + i, e);
    }
    double sum = vaddvq_f64(vaddq_f64(s0, s1));
    if (i < n) {
        float t[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY}; /* padding: exp(-inf) = 0 */
        memcpy(t, x + i, (size_t)(n - i) * sizeof *x);
        vst1q_f32(t, tca_exp_neon(vsubq_f32(vld1q_f32(t), vm)));
        for (int64_t k = 0; k < n - i; k++) sum += t[k];
        memcpy(x + i, t, (size_t)(n - i) * sizeof *x);
    }
    const float inv = (float)(1.0 / sum);
    for (i = 0; i + 4 <= n; i += 4) vst1q_f32(x + i, vmulq_n_f32(vld1q_f32(x + i), inv));
    for (; i < n; i++) x[i] *= inv;
}

/* FCVTN rounds per FPCR (nearest even on Linux), keeps subnormals and, with default-NaN mode off
 * (Linux), quietens NaN keeping its top payload bits: the reference's rule. */
static void f32_to_f16_neon(const float *x, tca_f16 *y, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1_u16(y + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(x + i))));
    for (; i < n; i++) y[i] = tca_f32_to_f16(x[i]);
}

void tca_elementwise_register_neon(tca_kernels *k) {
    k->rmsnorm = rmsnorm_neon;
    k->rope = rope_neon;
    k->silu_mul = silu_mul_neon;
    k->softmax = softmax_neon;
    k->f32_to_f16 = f32_to_f16_neon;
}
