/* AVX-512 level: applied after the AVX2 upgrade (dispatch.c), so a type without an AVX-512
 * variant keeps its AVX2 one. */
#include "kernels.h"
#include "x86/attention_x86.h"
#include "x86/elementwise_x86.h"
#include "x86/dequant_x86.h"
#include "x86/matmul_x86.h"
#include "x86/select_x86.h"

void tca_kernels_upgrade_avx512(tca_kernels *k) {
    tca_attention_register_avx512(k);
    tca_elementwise_register_avx512(k);
    k->dequant[TCA_TYPE_F16] = tca_dequant_f16_avx512;
    k->dequant[TCA_TYPE_Q4_0] = tca_dequant_q4_0_avx512;
    k->dequant[TCA_TYPE_Q4_1] = tca_dequant_q4_1_avx512;
    k->dequant[TCA_TYPE_Q5_0] = tca_dequant_q5_0_avx512;
    k->dequant[TCA_TYPE_Q8_0] = tca_dequant_q8_0_avx512;
    k->dequant[TCA_TYPE_Q4_K] = tca_dequant_q4_K_avx512;
    k->dequant[TCA_TYPE_Q5_K] = tca_dequant_q5_K_avx512;
    k->dequant[TCA_TYPE_Q6_K] = tca_dequant_q6_K_avx512;
    tca_matmul_avx512_register(k->quantize_act, k->qgemm);
    tca_select_register_avx512(k);
}
