/* AVX2 level: overrides the table entries that have an AVX2 variant; the rest stay ref. */
#include "kernels.h"
#include "x86/attention_x86.h"
#include "x86/elementwise_x86.h"
#include "x86/dequant_x86.h"
#include "x86/matmul_x86.h"
#include "x86/select_x86.h"

void tca_kernels_upgrade_avx2(tca_kernels *k) {
    tca_attention_register_avx2(k);
    tca_elementwise_register_avx2(k);
    k->dequant[TCA_TYPE_F16] = tca_dequant_f16_avx2;
    k->dequant[TCA_TYPE_Q4_0] = tca_dequant_q4_0_avx2;
    k->dequant[TCA_TYPE_Q4_1] = tca_dequant_q4_1_avx2;
    k->dequant[TCA_TYPE_Q5_0] = tca_dequant_q5_0_avx2;
    k->dequant[TCA_TYPE_Q8_0] = tca_dequant_q8_0_avx2;
    k->dequant[TCA_TYPE_Q4_K] = tca_dequant_q4_K_avx2;
    k->dequant[TCA_TYPE_Q5_K] = tca_dequant_q5_K_avx2;
    k->dequant[TCA_TYPE_Q6_K] = tca_dequant_q6_K_avx2;
    tca_matmul_avx2_register(k->quantize_act, k->qgemm);
    tca_select_register_avx2(k);
}
