#include "kernels.h"
#include "ref/attention_ref.h"
#include "ref/elementwise_ref.h"
#include "ref/dequant_ref.h"
#include "ref/matmul_ref.h"
#include "ref/select_ref.h"

void tca_kernels_init_ref(tca_kernels *k) {
    tca_attention_ref_register(k);
    tca_elementwise_ref_register(k);
    tca_dequant_ref_register(k->dequant);
    tca_matmul_ref_register(k->quantize_act, k->qgemm);
    tca_select_ref_register(k);
}
