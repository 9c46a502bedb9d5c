/* x86 TCA selection variants (contract: select.h). One registration per level; the kernels
 * themselves are static to their files. */
#ifndef TCA_SIMD_X86_SELECT_X86_H
#define TCA_SIMD_X86_SELECT_X86_H

struct tca_kernels;

/* Table upgrades, one call each from init_avx2.c / init_avx512.c. */
void tca_select_register_avx2(struct tca_kernels *k);
void tca_select_register_avx512(struct tca_kernels *k);

#endif
