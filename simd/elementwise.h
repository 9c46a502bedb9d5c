/* Kernel family: the small per-row operations of a transformer layer. Each works on one row
 * (drivers loop over rows and threads); in-place calls are allowed where noted. No alignment is
 * assumed; every length >= 1 is handled (vector tails are the kernel's job).
 *
 *   void rmsnorm(const float *x, const float *w, float *y, int64_t n, float eps)
 *     y = x * s * w (two f32 multiplies, in that order) with s = 1 / sqrt(sum(x^2) / n + eps),
 *     the sum of the (exact) squares accumulated in double and s rounded once to f32
 *     (tca_rmsnorm_scale in ref/elementwise_ref.h). Variants may reorder the double sum: they
 *     agree with ref to 1 ulp per element (almost always bit-identical). y may equal x.
 *   void rope(float *x, int64_t n_heads, int d, const float *cos, const float *sin, int neox)
 *     Rotates n_heads consecutive head vectors of d floats (d even) in place at one position.
 *     cos/sin hold d/2 values (the driver computes them once per position, in double, then
 *     rounds). Pairing: neox = 0: (x[2i], x[2i+1]) (llama's GGUF layout); neox = 1:
 *     (x[i], x[i + d/2]) (qwen2). Exact: x0*c - x1*s and x0*s + x1*c with no fused rounding, so
 *     variants are bit-identical.
 *   void silu_mul(const float *g, const float *u, float *y, int64_t n)
 *     y = g / (1 + exp(-g)) * u (SLEEF expf in the x86 variants, a polynomial expf in NEON:
 *     relative error 1e-6; where exp(-g) overflows f32, g < -88.72, the result may be 0 instead
 *     of |g u| e^g < |g u| 2^-128).
 *     y may equal g or u.
 *   void softmax(float *x, int64_t n)
 *     In place: x = exp(x - max) * (1 / sum), the sum accumulated in double, 1 / sum rounded to
 *     f32 once; n >= 1 and at least one x finite (-inf entries give 0). Relative error 1e-6
 *     (exp rounding), absolute 1e-37 for subnormal results.
 *   void f32_to_f16(const float *x, tca_f16 *y, int64_t n)
 *     Round to nearest even, overflow to inf, f16 subnormals kept; NaN keeps its sign and the top
 *     10 mantissa bits and becomes quiet (the x86 F16C and AArch64 FCVT rule): bit-identical across
 *     variants (used to store K and V).
 */
#ifndef TCA_SIMD_ELEMENTWISE_H
#define TCA_SIMD_ELEMENTWISE_H

#include <stdint.h>

#include "quant.h"

typedef void (*tca_rmsnorm_fn)(const float *x, const float *w, float *y, int64_t n, float eps);
typedef void (*tca_rope_fn)(float *x, int64_t n_heads, int d, const float *cos, const float *sin, int neox);
typedef void (*tca_silu_mul_fn)(const float *g, const float *u, float *y, int64_t n);
typedef void (*tca_softmax_fn)(float *x, int64_t n);
typedef void (*tca_f32_to_f16_fn)(const float *x, tca_f16 *y, int64_t n);

#endif
