/* Reference (scalar C) quantized products: the specification the variants are tested against.
 * Signatures, shapes and the error bound: matmul.h. Exported one by one so that a variant can
 * hand a shape or type it does not cover to the reference. */
#ifndef TCA_MATMUL_REF_H
#define TCA_MATMUL_REF_H

#include <stddef.h>
#include <stdint.h>

#include "matmul.h"

/* quantize_act, one per activation type (the F32 one copies) */
void tca_quantize_act_q8_0_ref(const float *x, void *xq, int64_t n);
void tca_quantize_act_q8_1_ref(const float *x, void *xq, int64_t n);
void tca_quantize_act_q8_K_ref(const float *x, void *xq, int64_t n);
void tca_quantize_act_f32_ref(const float *x, void *xq, int64_t n);

#define TCA_QGEMM_REF_DECL(t)                                                                      \
    void tca_qgemm_##t##_ref(const void *w, size_t w_stride, const void *xq, size_t xq_stride,     \
                             float *y, int64_t ldy, int64_t rows, int64_t m, int64_t n)
TCA_QGEMM_REF_DECL(f32);
TCA_QGEMM_REF_DECL(f16);
TCA_QGEMM_REF_DECL(bf16);
TCA_QGEMM_REF_DECL(q4_0);
TCA_QGEMM_REF_DECL(q4_1);
TCA_QGEMM_REF_DECL(q5_0);
TCA_QGEMM_REF_DECL(q5_1);
TCA_QGEMM_REF_DECL(q8_0);
TCA_QGEMM_REF_DECL(q4_K);
TCA_QGEMM_REF_DECL(q5_K);
TCA_QGEMM_REF_DECL(q6_K);
#undef TCA_QGEMM_REF_DECL

/* Puts every reference kernel into the tables (indexed by the weight type; others untouched). */
void tca_matmul_ref_register(tca_quantize_act_fn *quantize_act, tca_qgemm_fn *qgemm);

/* Round half away from zero (C's roundf), the rounding of every activation quantizer. */
static inline float tca_round_half_away(float v) {
    const float t = (float)(int32_t)v; /* |v| <= 127.5 here: the cast truncates exactly */
    const float f = v - t;             /* exact: t and v share the exponent range */
    return f >= 0.5f ? t + 1.0f : f <= -0.5f ? t - 1.0f : t;
}

#endif
