/* AArch64 NEON dequantisation variants (contract: dequant.h). Each one is bit-identical to its
 * `_ref` counterpart and is put into the table by init_neon.c. */
#ifndef TCA_SIMD_ARM_DEQUANT_NEON_H
#define TCA_SIMD_ARM_DEQUANT_NEON_H

#include <stdint.h>

void tca_dequant_f16_neon(const void *src, float *dst, int64_t n);
void tca_dequant_q4_0_neon(const void *src, float *dst, int64_t n);
void tca_dequant_q4_1_neon(const void *src, float *dst, int64_t n);
void tca_dequant_q5_0_neon(const void *src, float *dst, int64_t n);
void tca_dequant_q8_0_neon(const void *src, float *dst, int64_t n);
void tca_dequant_q4_K_neon(const void *src, float *dst, int64_t n);
void tca_dequant_q5_K_neon(const void *src, float *dst, int64_t n);
void tca_dequant_q6_K_neon(const void *src, float *dst, int64_t n);

#endif
