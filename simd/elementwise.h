/* Kernel family: the small per-row operations of a transformer layer. Each works on one row
 * (drivers loop over rows and threads); in-place calls are allowed where noted.
 *
 *   void rmsnorm(const float *x, const float *w, float *y, int64_t n, float eps)
 *     y = x / sqrt(mean(x^2) + eps) * w; the mean is accumulated in f32 (variants may reorder:
 *     relative error 1e-6). y may equal x.
 *   void rope(float *x, int64_t n_heads, int d, const float *cos, const float *sin, int neox)
 *     Rotates n_heads consecutive head vectors of d floats in place at one position. cos/sin hold
 *     d/2 values (the driver computes them once per position, in double, then rounds). Pairing:
 *     neox = 0: (x[2i], x[2i+1]) (llama's GGUF layout); neox = 1: (x[i], x[i + d/2]) (qwen2).
 *     Exact: x0*c - x1*s and x0*s + x1*c with no fused rounding, so variants are bit-identical.
 *   void silu_mul(const float *g, const float *u, float *y, int64_t n)
 *     y = g / (1 + exp(-g)) * u (SLEEF expf in the variants: relative error 1e-6). y may equal g or u.
 *   void softmax(float *x, int64_t n)
 *     In place, max-subtracted; n >= 1 (relative error 1e-6).
 *   void f32_to_f16(const float *x, tca_f16 *y, int64_t n)
 *     Round to nearest even; bit-identical across variants (used to store K and V).
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
