/* Reference (scalar C) dequantisation kernels: the specification every variant must match bit
 * for bit. Signatures and tail rules: dequant.h. Exported one by one so that variants can hand
 * a tail that is shorter than their vector width to the reference. */
#ifndef TCA_DEQUANT_REF_H
#define TCA_DEQUANT_REF_H

#include <stdint.h>

#include "dequant.h"
#include "quant.h"

void tca_dequant_f32_ref(const void *src, float *dst, int64_t n);
void tca_dequant_f16_ref(const void *src, float *dst, int64_t n);
void tca_dequant_bf16_ref(const void *src, float *dst, int64_t n);
void tca_dequant_q4_0_ref(const void *src, float *dst, int64_t n);
void tca_dequant_q4_1_ref(const void *src, float *dst, int64_t n);
void tca_dequant_q5_0_ref(const void *src, float *dst, int64_t n);
void tca_dequant_q5_1_ref(const void *src, float *dst, int64_t n);
void tca_dequant_q8_0_ref(const void *src, float *dst, int64_t n);
void tca_dequant_q8_1_ref(const void *src, float *dst, int64_t n);
void tca_dequant_q2_K_ref(const void *src, float *dst, int64_t n);
void tca_dequant_q3_K_ref(const void *src, float *dst, int64_t n);
void tca_dequant_q4_K_ref(const void *src, float *dst, int64_t n);
void tca_dequant_q5_K_ref(const void *src, float *dst, int64_t n);
void tca_dequant_q6_K_ref(const void *src, float *dst, int64_t n);
void tca_dequant_q8_K_ref(const void *src, float *dst, int64_t n);

/* Puts every reference kernel into table[type] (indexed by tca_type; other entries untouched). */
void tca_dequant_ref_register(tca_dequant_fn *table);

/* The 6-bit sub-block scale and min j (0..7) of a Q4_K/Q5_K super-block, unpacked from its
 * 12 packed bytes: bytes 0-3 hold the low 6 bits of scales 0-3, bytes 4-7 those of mins 0-3;
 * scales/mins 4-7 take their low 4 bits from bytes 8-11 and their top 2 bits from the spare
 * top bits of bytes 0-3 (scales) and 4-7 (mins). Shared with the variants: decoding the scales
 * is scalar work per 256 elements, not worth vectorising. */
static inline void tca_q4k_scale_min(const uint8_t *scales, int j, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = scales[j] & 63;
        *m = scales[j + 4] & 63;
    } else {
        *sc = (uint8_t)((scales[j + 4] & 0x0f) | ((scales[j - 4] >> 6) << 4));
        *m = (uint8_t)((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4));
    }
}

#endif
