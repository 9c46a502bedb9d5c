/* Vector expf for the NEON kernels (softmax, silu, attention). SLEEF has no build for the aarch64
 * cross toolchain here, so this is the classic algorithm written out (as SLEEF and Cephes do):
 *   n = round(x / ln2), r = x - n ln2 (ln2 in two parts, so r is exact to ~2^-30),
 *   e^r by a degree-6 polynomial on |r| <= ln2/2 (Cephes expf coefficients),
 *   e^x = e^r * 2^(n/2) * 2^(n - n/2): two exponent scalings, so results down in the f16
 *   subnormal range (x < -87.3, n < -126) are formed without the 2^n factor underflowing first.
 * x is clamped to [-104, 89] first: e^-104 < 2^-149 rounds to 0 and e^89 > FLT_MAX overflows to
 * inf, so -inf gives 0 and +inf gives inf. Relative error within 2 ulp for normal results
 * (test_elementwise checks 1e-6 against libm through silu_mul and softmax). */
#ifndef TCA_SIMD_ARM_EXP_NEON_H
#define TCA_SIMD_ARM_EXP_NEON_H

#include <arm_neon.h>

static inline float32x4_t tca_exp_neon(float32x4_t x) {
    x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-104.0f)), vdupq_n_f32(89.0f));
    const float32x4_t n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(1.44269504088896341f)));
    float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(0.693359375f));
    r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));
    float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
    p = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), p, r);
    p = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), p, r);
    p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, vmulq_f32(r, r));
    const int32x4_t ni = vcvtq_s32_f32(n);
    const int32x4_t n1 = vshrq_n_s32(ni, 1), n2 = vsubq_s32(ni, n1);
    const float32x4_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, vdupq_n_s32(127)), 23));
    const float32x4_t s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, vdupq_n_s32(127)), 23));
    return vmulq_f32(vmulq_f32(p, s1), s2);
}

#endif
