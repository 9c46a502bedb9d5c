#include "kernels.h"
#include "ref/dequant_ref.h"

void tca_kernels_init_ref(tca_kernels *k) {
    tca_dequant_ref_register(k->dequant);
}
