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
 *     x: n finite floats; xq: tca_type_row_bytes(act type, n) bytes, any alignment. n: a multiple
 *     of the weight type's block size. Per activation block (32, Q8_K: 256): amax = max |x|,
 *     d = amax / 127, id = 1 / d (0 when d = 0), q = round_half_away(x * id), all in f32 (ggml's
 *     symmetric scheme; Q8_K here uses the same d = amax / 127, not ggml's signed-max variant).
 *     Q8_0/Q8_1 store f16(d); Q8_1 also s = f16(d * sum q); Q8_K stores d in f32 and bsums.
 *     Every variant is bit-identical to the reference.
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
 *     The reference equals the exact dot of the dequantized weight and the dequantized
 *     activation within the same bound, except that Q4_1/Q5_1 use Q8_1's f16-rounded s for the
 *     min term (an extra |m| |s - f16(d) sum q| per block).
 *
 * Drivers (src/) split `rows` across threads in multiples of 16 and call the kernel per slice.
 * Variants: ref/matmul_ref.c (the specification), x86/matmul_avx2.c, x86/matmul_avx512.c (also
 * built with VNNI as a sub-level of the avx512 level, chosen by the avx512vnni CPU bit;
 * TCA_AVX512VNNI=0 keeps the plain AVX-512 kernels), arm/matmul_neon.c. Register tiles and the
 * loop nest they share: matmul_drive.h. */
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
