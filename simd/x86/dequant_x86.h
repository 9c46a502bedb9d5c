/* x86 dequantisation variants (contract: dequant.h). Each one is bit-identical to its `_ref`
 * counterpart and is put into the table by init_avx2.c / init_avx512.c. */
#ifndef TCA_SIMD_X86_DEQUANT_X86_H
#define TCA_SIMD_X86_DEQUANT_X86_H

#include <stdint.h>

/* AVX2 + FMA + F16C (dequant_avx2.c) */
void tca_dequant_f16_avx2(const void *src, float *dst, int64_t n);
void tca_dequant_q4_0_avx2(const void *src, float *dst, int64_t n);
void tca_dequant_q4_1_avx2(const void *src, float *dst, int64_t n);
void tca_dequant_q5_0_avx2(const void *src, float *dst, int64_t n);
void tca_dequant_q8_0_avx2(const void *src, float *dst, int64_t n);
void tca_dequant_q4_K_avx2(const void *src, float *dst, int64_t n);
void tca_dequant_q5_K_avx2(const void *src, float *dst, int64_t n);
void tca_dequant_q6_K_avx2(const void *src, float *dst, int64_t n);

/* AVX-512 F/BW/VL/DQ (dequant_avx512.c) */
void tca_dequant_f16_avx512(const void *src, float *dst, int64_t n);
void tca_dequant_q4_0_avx512(const void *src, float *dst, int64_t n);
void tca_dequant_q4_1_avx512(const void *src, float *dst, int64_t n);
void tca_dequant_q5_0_avx512(const void *src, float *dst, int64_t n);
void tca_dequant_q8_0_avx512(const void *src, float *dst, int64_t n);
void tca_dequant_q4_K_avx512(const void *src, float *dst, int64_t n);
void tca_dequant_q5_K_avx512(const void *src, float *dst, int64_t n);
void tca_dequant_q6_K_avx512(const void *src, float *dst, int64_t n);

#endif
