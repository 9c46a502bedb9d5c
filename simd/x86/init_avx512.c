/* PLACEHOLDER */
#include "kernels.h"
void tca_kernels_upgrade_avx512(tca_kernels *k) { (void)k; }
