/* NEON level: overrides the table entries that have a NEON variant; the rest stay ref. */
#include "arm/attention_neon.h"
#include "arm/dequant_neon.h"
#include "arm/matmul_neon.h"
#include "arm/select_neon.h"
#include "kernels.h"

void tca_kernels_upgrade_neon(tca_kernels *k) {
    tca_attention_register_neon(k);
    tca_elementwise_register_neon(k);
    k->dequant[TCA_TYPE_F16] = tca_dequant_f16_neon;
    k->dequant[TCA_TYPE_Q4_0] = tca_dequant_q4_0_neon;
    k->dequant[TCA_TYPE_Q4_1] = tca_dequant_q4_1_neon;
    k->dequant[TCA_TYPE_Q5_0] = tca_dequant_q5_0_neon;
    k->dequant[TCA_TYPE_Q8_0] = tca_dequant_q8_0_neon;
    k->dequant[TCA_TYPE_Q4_K] = tca_dequant_q4_K_neon;
    k->dequant[TCA_TYPE_Q5_K] = tca_dequant_q5_K_neon;
    k->dequant[TCA_TYPE_Q6_K] = tca_dequant_q6_K_neon;
    tca_matmul_neon_register(k->quantize_act, k->qgemm);
    tca_select_register_neon(k);
}
