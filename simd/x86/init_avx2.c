/* PLACEHOLDER */
#include "kernels.h"
void tca_kernels_upgrade_avx2(tca_kernels *k) { (void)k; }
