/* AArch64 NEON quantized-product variants (contract: matmul.h), put into the table by
 * init_neon.c. */
#ifndef TCA_SIMD_ARM_MATMUL_NEON_H
#define TCA_SIMD_ARM_MATMUL_NEON_H

#include "matmul.h"

/* fills every entry it has a variant for */
void tca_matmul_neon_register(tca_quantize_act_fn *quantize_act, tca_qgemm_fn *qgemm);

#endif
