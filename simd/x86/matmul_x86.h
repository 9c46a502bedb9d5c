/* x86 quantized-product variants (contract: matmul.h), put into the table by init_avx2.c,
 * init_avx512.c and (VNNI) init_avx512.c's sub-level. */
#ifndef TCA_SIMD_X86_MATMUL_X86_H
#define TCA_SIMD_X86_MATMUL_X86_H

#include "matmul.h"

/* AVX2 + FMA + F16C (matmul_avx2.c): fills every entry it has a variant for */
void tca_matmul_avx2_register(tca_quantize_act_fn *quantize_act, tca_qgemm_fn *qgemm);

/* AVX-512 F/BW/VL/DQ (matmul_avx512.c) */
void tca_matmul_avx512_register(tca_quantize_act_fn *quantize_act, tca_qgemm_fn *qgemm);

/* AVX-512 VNNI on top of the above (matmul_avx512vnni.c); only when the CPU has avx512vnni */
void tca_matmul_avx512vnni_register(tca_quantize_act_fn *quantize_act, tca_qgemm_fn *qgemm);

#endif
