/* Kernel family: dequantisation of one GGUF tensor row (or a run of rows) to f32.
 *
 *   void dequant(const void *src, float *dst, int64_t n)
 *
 * src: n elements of the type in its on-disk block layout (quant.h), any alignment (blocks of
 *      18, 20, 22, 34 ... bytes are not naturally aligned inside a file).
 * dst: n floats, any alignment, must not overlap src.
 * n:   a multiple of the type's block size (32 for the legacy types, 256 for the K types, 1 for
 *      F32/F16/BF16); n == 0 writes nothing. Callers check divisibility (tca_type_row_bytes).
 * The result is exact: every variant produces bit-identical output to the `_ref` kernel, which
 * follows the reference arithmetic of the format (d * q, d * q + m, ... in f32). */
#ifndef TCA_SIMD_DEQUANT_H
#define TCA_SIMD_DEQUANT_H

#include <stdint.h>

typedef void (*tca_dequant_fn)(const void *src, float *dst, int64_t n);

#endif
