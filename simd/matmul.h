/* Kernel family: products with quantized weights, Y = X . W^T.
 *
 * Activations are quantized on the fly to the type that pairs with the weight type, so the inner
 * loop is an integer dot product (VNNI / SDOT where present) with one float scale per block:
 *
 *   weight type            activation type (tca_act_type)
 *   Q4_0, Q5_0, Q8_0       Q8_0
 *   Q4_1, Q5_1             Q8_1   (carries s = d * sum(q) for the weight's min term)
 *   Q2_K .. Q6_K           Q8_K   (carries per-16 sums for the K types' mins)
 *   F16, BF16, F32         F32    (no quantization: the "quantizer" copies)
 *
 *   void quantize_act(const float *x, void *xq, int64_t n)
 *     x: n floats; xq: n elements in the activation type. n: a multiple of the weight type's
 *     block size. Deterministic; rounding as gguf's reference quantizers (round half away from 0).
 *
 *   void qgemm(const void *w, size_t w_stride, const void *xq, size_t xq_stride,
 *              float *y, int64_t ldy, int64_t rows, int64_t m, int64_t n)
 *     w:  `rows` weight rows of n elements, row r at (const char *)w + r * w_stride.
 *     xq: `m` activation rows (quantize_act output), row i at (const char *)xq + i * xq_stride.
 *     y:  y[i * ldy + r] = dot(activation row i, weight row r), f32, for i < m, r < rows.
 *     Any rows >= 1 and m >= 1 (tails are the kernel's job); m = 1 is the decode matvec.
 *     Reads the weight rows in place from the mmap: no alignment assumed. y must not alias.
 *     Variants may differ from `_ref` only by float summation order: the test bound is a relative
 *     error of 1e-5 of sum |w| |x| per output (the integer block dots themselves are exact).
 *
 * Drivers (src/) split `rows` across threads in multiples of 16 and call the kernel per slice. */
#ifndef TCA_SIMD_MATMUL_H
#define TCA_SIMD_MATMUL_H

#include <stddef.h>
#include <stdint.h>

typedef void (*tca_quantize_act_fn)(const float *x, void *xq, int64_t n);
typedef void (*tca_qgemm_fn)(const void *w, size_t w_stride, const void *xq, size_t xq_stride,
                             float *y, int64_t ldy, int64_t rows, int64_t m, int64_t n);

/* The activation type paired with a weight type (table above), or -1 when the weight type has
 * no product kernel. */
int tca_act_type(int weight_type);

#endif
