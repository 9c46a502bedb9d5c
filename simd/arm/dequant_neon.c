/* NEON (AArch64 Advanced SIMD) dequantisation (contract: dequant.h; arithmetic:
 * ref/dequant_ref.c).
 *
 * Quants are unpacked to signed bytes 16 at a time with integer ops (offsets such as Q4_0's -8
 * subtracted in the integer domain as the reference does), widened to f32 four at a time and
 * scaled with one vmulq (and one vaddq for offset types): separate roundings as in the
 * reference, never vfmaq. The K types' "- m" is written "+ (-m)", which IEEE defines to be the
 * same operation. Per-(sub-)block scale products are scalar f32, as in the reference. */
#include <arm_neon.h>
#include <stddef.h>
#include <string.h>

#include "arm/dequant_neon.h"
#include "quant.h"
#include "ref/dequant_ref.h"

/* 16 signed bytes -> dst[0..15] = d * q (+ b). */
static inline void store16(float *dst, int8x16_t q, float32x4_t d) {
    const int16x8_t lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_high_s8(q);
    vst1q_f32(dst + 0, vmulq_f32(d, vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo)))));
    vst1q_f32(dst + 4, vmulq_f32(d, vcvtq_f32_s32(vmovl_high_s16(lo))));
    vst1q_f32(dst + 8, vmulq_f32(d, vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi)))));
    vst1q_f32(dst + 12, vmulq_f32(d, vcvtq_f32_s32(vmovl_high_s16(hi))));
}

static inline void store16_affine(float *dst, int8x16_t q, float32x4_t d, float32x4_t b) {
    const int16x8_t lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_high_s8(q);
    vst1q_f32(dst + 0, vaddq_f32(vmulq_f32(d, vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo)))), b));
    vst1q_f32(dst + 4, vaddq_f32(vmulq_f32(d, vcvtq_f32_s32(vmovl_high_s16(lo))), b));
    vst1q_f32(dst + 8, vaddq_f32(vmulq_f32(d, vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi)))), b));
    vst1q_f32(dst + 12, vaddq_f32(vmulq_f32(d, vcvtq_f32_s32(vmovl_high_s16(hi))), b));
}

static inline float ld_f16(const uint8_t *p) {
    __fp16 h;
    memcpy(&h, p, sizeof h);
    return (float)h;
}

/* Bytes 0 and 1 of qh (bits 0..15) -> 0x10 in byte i of the result where bit i is set. */
static inline uint8x16_t qh16_to_0x10(uint32_t qh16) {
    static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t spread =
        vcombine_u8(vdup_n_u8((uint8_t)(qh16 & 0xff)), vdup_n_u8((uint8_t)(qh16 >> 8)));
    return vandq_u8(vtstq_u8(spread, vld1q_u8(bit)), vdupq_n_u8(0x10));
}

void tca_dequant_f16_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *s = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint16x8_t h;
        memcpy(&h, s + 2 * i, sizeof h);
        const float16x8_t v = vreinterpretq_f16_u16(h);
        vst1q_f32(dst + i, vcvt_f32_f16(vget_low_f16(v)));
        vst1q_f32(dst + i + 4, vcvt_high_f32_f16(v));
    }
    tca_dequant_f16_ref(s + 2 * i, dst + i, n - i);
}

void tca_dequant_q4_0_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q4_0), dst += TCA_QK) {
        const float32x4_t d = vdupq_n_f32(ld_f16(b + offsetof(tca_block_q4_0, d)));
        const uint8x16_t v = vld1q_u8(b + offsetof(tca_block_q4_0, qs));
        const int8x16_t eight = vdupq_n_s8(8);
        store16(dst, vsubq_s8(vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0f))), eight), d);
        store16(dst + 16, vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(v, 4)), eight), d);
    }
}

void tca_dequant_q4_1_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q4_1), dst += TCA_QK) {
        const float32x4_t d = vdupq_n_f32(ld_f16(b + offsetof(tca_block_q4_1, d)));
        const float32x4_t m = vdupq_n_f32(ld_f16(b + offsetof(tca_block_q4_1, m)));
        const uint8x16_t v = vld1q_u8(b + offsetof(tca_block_q4_1, qs));
        store16_affine(dst, vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0f))), d, m);
        store16_affine(dst + 16, vreinterpretq_s8_u8(vshrq_n_u8(v, 4)), d, m);
    }
}

void tca_dequant_q5_0_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q5_0), dst += TCA_QK) {
        const float32x4_t d = vdupq_n_f32(ld_f16(b + offsetof(tca_block_q5_0, d)));
        uint32_t qh;
        memcpy(&qh, b + offsetof(tca_block_q5_0, qh), sizeof qh);
        const uint8x16_t v = vld1q_u8(b + offsetof(tca_block_q5_0, qs));
        const uint8x16_t lo = vorrq_u8(vandq_u8(v, vdupq_n_u8(0x0f)), qh16_to_0x10(qh & 0xffff));
        const uint8x16_t hi = vorrq_u8(vshrq_n_u8(v, 4), qh16_to_0x10(qh >> 16));
        const int8x16_t sixteen = vdupq_n_s8(16);
        store16(dst, vsubq_s8(vreinterpretq_s8_u8(lo), sixteen), d);
        store16(dst + 16, vsubq_s8(vreinterpretq_s8_u8(hi), sixteen), d);
    }
}

void tca_dequant_q8_0_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q8_0), dst += TCA_QK) {
        const float32x4_t d = vdupq_n_f32(ld_f16(b + offsetof(tca_block_q8_0, d)));
        const int8_t *qs = (const int8_t *)(b + offsetof(tca_block_q8_0, qs));
        store16(dst, vld1q_s8(qs), d);
        store16(dst + 16, vld1q_s8(qs + 16), d);
    }
}

/* Q4_K/Q5_K: 32 bytes of qs hold sub-block 2c (low nibbles) and 2c + 1 (high nibbles). With
 * qh != NULL (Q5_K) bit j of qh[l] adds 16 to element l of sub-block j. */
static inline void dequant_k45(const uint8_t *d_dmin, const uint8_t *scales, const uint8_t *qh,
                               const uint8_t *qs, float *dst) {
    const float d = ld_f16(d_dmin), dmin = ld_f16(d_dmin + 2);
    const uint8x16_t low4 = vdupq_n_u8(0x0f), x10 = vdupq_n_u8(0x10);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        tca_q4k_scale_min(scales, j, &sc, &m);
        const float32x4_t vd = vdupq_n_f32(d * (float)sc), vb = vdupq_n_f32(-(dmin * (float)m));
        for (int half = 0; half < 2; half++) {
            const uint8x16_t v = vld1q_u8(qs + 32 * (j / 2) + 16 * half);
            uint8x16_t q = (j % 2) ? vshrq_n_u8(v, 4) : vandq_u8(v, low4);
            if (qh) {
                const uint8x16_t h = vld1q_u8(qh + 16 * half);
                q = vorrq_u8(q, vandq_u8(vtstq_u8(h, vdupq_n_u8((uint8_t)(1 << j))), x10));
            }
            store16_affine(dst + 32 * j + 16 * half, vreinterpretq_s8_u8(q), vd, vb);
        }
    }
}

void tca_dequant_q4_K_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK_K; i++, b += sizeof(tca_block_q4_K), dst += TCA_QK_K)
        dequant_k45(b + offsetof(tca_block_q4_K, d), b + offsetof(tca_block_q4_K, scales), NULL,
                    b + offsetof(tca_block_q4_K, qs), dst);
}

void tca_dequant_q5_K_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK_K; i++, b += sizeof(tca_block_q5_K), dst += TCA_QK_K)
        dequant_k45(b + offsetof(tca_block_q5_K, d), b + offsetof(tca_block_q5_K, scales),
                    b + offsetof(tca_block_q5_K, qh), b + offsetof(tca_block_q5_K, qs), dst);
}

/* Q6_K: element 128*h + 32*s + l takes its low nibble from ql[64*h + 32*(s % 2) + l] (nibble
 * s / 2) and its top two bits from bits 2s..2s+1 of qh[32*h + l]; 16 elements per step, each
 * step inside one 16-element sub-block (scale index g = 8*h + 2*s + step). */
void tca_dequant_q6_K_neon(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    const uint8x16_t low4 = vdupq_n_u8(0x0f), top2 = vdupq_n_u8(0x30);
    const int8x16_t bias = vdupq_n_s8(32);
    for (int64_t i = 0; i < n / TCA_QK_K; i++, b += sizeof(tca_block_q6_K), dst += TCA_QK_K) {
        const float d = ld_f16(b + offsetof(tca_block_q6_K, d));
        const int8_t *sc = (const int8_t *)(b + offsetof(tca_block_q6_K, scales));
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = b + offsetof(tca_block_q6_K, ql) + 64 * h;
            const uint8_t *qh = b + offsetof(tca_block_q6_K, qh) + 32 * h;
            for (int step = 0; step < 2; step++) {
                const uint8x16_t a = vld1q_u8(ql + 16 * step), c = vld1q_u8(ql + 32 + 16 * step);
                const uint8x16_t hb = vld1q_u8(qh + 16 * step);
                const uint8x16_t q[4] = {
                    vorrq_u8(vandq_u8(a, low4), vandq_u8(vshlq_n_u8(hb, 4), top2)),
                    vorrq_u8(vandq_u8(c, low4), vandq_u8(vshlq_n_u8(hb, 2), top2)),
                    vorrq_u8(vshrq_n_u8(a, 4), vandq_u8(hb, top2)),
                    vorrq_u8(vshrq_n_u8(c, 4), vandq_u8(vshrq_n_u8(hb, 2), top2)),
                };
                for (int s = 0; s < 4; s++) {
                    const int g = 8 * h + 2 * s + step;
                    store16(dst + 128 * h + 32 * s + 16 * step,
                            vsubq_s8(vreinterpretq_s8_u8(q[s]), bias), vdupq_n_f32(d * (float)sc[g]));
                }
            }
        }
    }
}
