/* x86 elementwise variants (contract: elementwise.h). */
#ifndef TCA_SIMD_X86_ELEMENTWISE_X86_H
#define TCA_SIMD_X86_ELEMENTWISE_X86_H

#include <stdint.h>

#include "elementwise.h"

struct tca_kernels;

/* Table upgrades, one call each from init_avx2.c / init_avx512.c. */
void tca_elementwise_register_avx2(struct tca_kernels *k);
void tca_elementwise_register_avx512(struct tca_kernels *k);

#endif
