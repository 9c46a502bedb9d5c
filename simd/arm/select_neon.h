/* AArch64 NEON TCA selection variants (contract: select.h). */
#ifndef TCA_SIMD_ARM_SELECT_NEON_H
#define TCA_SIMD_ARM_SELECT_NEON_H

struct tca_kernels;

/* Table upgrade, one call from init_neon.c. */
void tca_select_register_neon(struct tca_kernels *k);

#endif
