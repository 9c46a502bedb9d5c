/* Reference dequantisation: the GGUF block formats (layouts in quant.h) decoded one element at a
 * time, in the arithmetic of the format's reference decoder (ggml's dequantize_row_*, and the
 * numpy port in gguf-py's gguf.quants, which tests/kernels/check_dequant_ref.py compares with).
 *
 * Rounding: an f16 scale has 11 significant bits (a subnormal f16 is a normal f32), sub-scales
 * 4 to 8 and quants 2 to 6, so d * sc is always exact in f32 and so is every product here except
 * Q6_K's (d*sc)*q (up to 25 bits: one rounding of the exact d*sc*q) and Q8_K's (f32 scale). The
 * only other rounding is the final add/subtract of the offset (Q4_1, Q5_1, Q2_K, Q4_K, Q5_K).
 * Hence mul-then-add and a fused multiply-add give the same bits here; the simd library is
 * still compiled with -ffp-contract=off so that the reference means exactly what it says. A
 * variant may regroup an exact product but must keep every rounding step.
 *
 * Blocks sit at any byte offset inside a file, so fields are read through memcpy rather than
 * through a (possibly misaligned) struct pointer. Element e of a block is written to dst[e]. */
#include "ref/dequant_ref.h"

#include <stddef.h>
#include <string.h>

#include "quant.h"

static inline float ld_f16(const uint8_t *p) {
    tca_f16 h;
    memcpy(&h, p, sizeof h);
    return tca_f16_to_f32(h);
}

void tca_dequant_f32_ref(const void *src, float *dst, int64_t n) {
    if (n > 0) memcpy(dst, src, (size_t)n * sizeof(float));
}

void tca_dequant_f16_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *s = src;
    for (int64_t i = 0; i < n; i++) dst[i] = ld_f16(s + 2 * i);
}

void tca_dequant_bf16_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *s = src;
    for (int64_t i = 0; i < n; i++) {
        tca_bf16 h;
        memcpy(&h, s + 2 * i, sizeof h);
        dst[i] = tca_bf16_to_f32(h);
    }
}

/* Q4_0: 32 elements; byte j of qs holds element j (low nibble) and j + 16 (high nibble);
 * y = d * (q - 8). */
void tca_dequant_q4_0_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q4_0), dst += TCA_QK) {
        const float d = ld_f16(b + offsetof(tca_block_q4_0, d));
        const uint8_t *qs = b + offsetof(tca_block_q4_0, qs);
        for (int j = 0; j < TCA_QK / 2; j++) {
            dst[j] = d * (float)((qs[j] & 0x0f) - 8);
            dst[j + TCA_QK / 2] = d * (float)((qs[j] >> 4) - 8);
        }
    }
}

/* Q4_1: as Q4_0 with unsigned quants and an offset: y = d * q + m. */
void tca_dequant_q4_1_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q4_1), dst += TCA_QK) {
        const float d = ld_f16(b + offsetof(tca_block_q4_1, d));
        const float m = ld_f16(b + offsetof(tca_block_q4_1, m));
        const uint8_t *qs = b + offsetof(tca_block_q4_1, qs);
        for (int j = 0; j < TCA_QK / 2; j++) {
            dst[j] = d * (float)(qs[j] & 0x0f) + m;
            dst[j + TCA_QK / 2] = d * (float)(qs[j] >> 4) + m;
        }
    }
}

/* Q5_0/Q5_1: nibbles as Q4_x; bit e of the little-endian 32-bit qh is bit 4 of element e. */
static inline uint32_t ld_u32le(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void tca_dequant_q5_0_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q5_0), dst += TCA_QK) {
        const float d = ld_f16(b + offsetof(tca_block_q5_0, d));
        const uint32_t qh = ld_u32le(b + offsetof(tca_block_q5_0, qh));
        const uint8_t *qs = b + offsetof(tca_block_q5_0, qs);
        for (int j = 0; j < TCA_QK / 2; j++) {
            const int lo = (qs[j] & 0x0f) | (int)((qh >> j) & 1) << 4;
            const int hi = (qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            dst[j] = d * (float)(lo - 16);
            dst[j + TCA_QK / 2] = d * (float)(hi - 16);
        }
    }
}

void tca_dequant_q5_1_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q5_1), dst += TCA_QK) {
        const float d = ld_f16(b + offsetof(tca_block_q5_1, d));
        const float m = ld_f16(b + offsetof(tca_block_q5_1, m));
        const uint32_t qh = ld_u32le(b + offsetof(tca_block_q5_1, qh));
        const uint8_t *qs = b + offsetof(tca_block_q5_1, qs);
        for (int j = 0; j < TCA_QK / 2; j++) {
            const int lo = (qs[j] & 0x0f) | (int)((qh >> j) & 1) << 4;
            const int hi = (qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            dst[j] = d * (float)lo + m;
            dst[j + TCA_QK / 2] = d * (float)hi + m;
        }
    }
}

/* Q8_0: 32 signed bytes, y = d * q. */
void tca_dequant_q8_0_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q8_0), dst += TCA_QK) {
        const float d = ld_f16(b + offsetof(tca_block_q8_0, d));
        const int8_t *qs = (const int8_t *)(b + offsetof(tca_block_q8_0, qs));
        for (int j = 0; j < TCA_QK; j++) dst[j] = d * (float)qs[j];
    }
}

/* Q8_1: as Q8_0; s (d times the sum of the quants, for dot products) is not needed here. */
void tca_dequant_q8_1_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q8_1), dst += TCA_QK) {
        const float d = ld_f16(b + offsetof(tca_block_q8_1, d));
        const int8_t *qs = (const int8_t *)(b + offsetof(tca_block_q8_1, qs));
        for (int j = 0; j < TCA_QK; j++) dst[j] = d * (float)qs[j];
    }
}

/* Q2_K: 256 elements in 16 sub-blocks of 16. Element e = 128*h + 32*s + l (h 0..1, s 0..3,
 * l 0..31) is bits 2s..2s+1 of qs[32*h + l]. Sub-block g = e / 16 has scale byte g: low nibble
 * scales d, high nibble scales dmin. y = (d * sc) * q - (dmin * m). */
void tca_dequant_q2_K_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK_K; i++, b += sizeof(tca_block_q2_K), dst += TCA_QK_K) {
        const float d = ld_f16(b + offsetof(tca_block_q2_K, d));
        const float dmin = ld_f16(b + offsetof(tca_block_q2_K, dmin));
        const uint8_t *scales = b + offsetof(tca_block_q2_K, scales);
        const uint8_t *qs = b + offsetof(tca_block_q2_K, qs);
        for (int e = 0; e < TCA_QK_K; e++) {
            const int h = e / 128, s = (e / 32) % 4, l = e % 32;
            const int q = (qs[32 * h + l] >> (2 * s)) & 3;
            const uint8_t sc = scales[e / 16];
            const float dl = d * (float)(sc & 0x0f);
            const float ml = dmin * (float)(sc >> 4);
            dst[e] = dl * (float)q - ml;
        }
    }
}

/* Q3_K: 256 elements in 16 sub-blocks of 16. Low 2 bits of element e = 128*h + 32*s + l as in
 * Q2_K; bit (e / 32) of hmask[e % 32] SET means "no offset", clear means subtract 4: q in -4..3.
 * 6-bit scales (stored +32): scale g takes its low nibble from byte g (g < 8, low nibble) or
 * byte g - 8 (high nibble), and its top 2 bits from byte 8 + g % 4, bits 2*(g / 4)..+1.
 * y = (d * (sc - 32)) * q. */
void tca_dequant_q3_K_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK_K; i++, b += sizeof(tca_block_q3_K), dst += TCA_QK_K) {
        const float d = ld_f16(b + offsetof(tca_block_q3_K, d));
        const uint8_t *hmask = b + offsetof(tca_block_q3_K, hmask);
        const uint8_t *qs = b + offsetof(tca_block_q3_K, qs);
        const uint8_t *packed = b + offsetof(tca_block_q3_K, scales);
        float dl[16];
        for (int g = 0; g < 16; g++) {
            const int lo = (g < 8 ? packed[g] : packed[g - 8] >> 4) & 0x0f;
            const int hi = (packed[8 + g % 4] >> (2 * (g / 4))) & 3;
            dl[g] = d * (float)((lo | hi << 4) - 32);
        }
        for (int e = 0; e < TCA_QK_K; e++) {
            const int h = e / 128, s = (e / 32) % 4, l = e % 32;
            const int low = (qs[32 * h + l] >> (2 * s)) & 3;
            const int high_set = (hmask[l] >> (e / 32)) & 1;
            dst[e] = dl[e / 16] * (float)(low - (high_set ? 0 : 4));
        }
    }
}

/* Q4_K: 256 elements in 8 sub-blocks of 32. Element e = 64*c + 32*k + l (c 0..3, k 0..1) is
 * nibble k of qs[32*c + l] and belongs to sub-block j = 2c + k with 6-bit scale sc and min m
 * (tca_q4k_scale_min). y = (d * sc) * q - (dmin * m). */
void tca_dequant_q4_K_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK_K; i++, b += sizeof(tca_block_q4_K), dst += TCA_QK_K) {
        const float d = ld_f16(b + offsetof(tca_block_q4_K, d));
        const float dmin = ld_f16(b + offsetof(tca_block_q4_K, dmin));
        const uint8_t *scales = b + offsetof(tca_block_q4_K, scales);
        const uint8_t *qs = b + offsetof(tca_block_q4_K, qs);
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            tca_q4k_scale_min(scales, j, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            const uint8_t *q = qs + 32 * (j / 2);
            const int shift = 4 * (j % 2);
            for (int l = 0; l < 32; l++) dst[32 * j + l] = d1 * (float)((q[l] >> shift) & 0x0f) - m1;
        }
    }
}

/* Q5_K: Q4_K plus a fifth bit: bit j of qh[l] is bit 4 of element 32*j + l. */
void tca_dequant_q5_K_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK_K; i++, b += sizeof(tca_block_q5_K), dst += TCA_QK_K) {
        const float d = ld_f16(b + offsetof(tca_block_q5_K, d));
        const float dmin = ld_f16(b + offsetof(tca_block_q5_K, dmin));
        const uint8_t *scales = b + offsetof(tca_block_q5_K, scales);
        const uint8_t *qh = b + offsetof(tca_block_q5_K, qh);
        const uint8_t *qs = b + offsetof(tca_block_q5_K, qs);
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            tca_q4k_scale_min(scales, j, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            const uint8_t *q = qs + 32 * (j / 2);
            const int shift = 4 * (j % 2);
            for (int l = 0; l < 32; l++) {
                const int v = ((q[l] >> shift) & 0x0f) | ((qh[l] >> j) & 1) << 4;
                dst[32 * j + l] = d1 * (float)v - m1;
            }
        }
    }
}

/* Q6_K: 256 elements in 16 sub-blocks of 16 with signed 8-bit scales. Element
 * e = 128*h + 32*s + l (h 0..1, s 0..3, l 0..31): low 4 bits are nibble s / 2 of
 * ql[64*h + 32*(s % 2) + l], high 2 bits are bits 2s..2s+1 of qh[32*h + l]; q is stored +32.
 * y = (d * sc) * (q - 32). */
void tca_dequant_q6_K_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK_K; i++, b += sizeof(tca_block_q6_K), dst += TCA_QK_K) {
        const float d = ld_f16(b + offsetof(tca_block_q6_K, d));
        const uint8_t *ql = b + offsetof(tca_block_q6_K, ql);
        const uint8_t *qh = b + offsetof(tca_block_q6_K, qh);
        const int8_t *scales = (const int8_t *)(b + offsetof(tca_block_q6_K, scales));
        for (int e = 0; e < TCA_QK_K; e++) {
            const int h = e / 128, s = (e / 32) % 4, l = e % 32;
            const int low = (ql[64 * h + 32 * (s % 2) + l] >> (4 * (s / 2))) & 0x0f;
            const int high = (qh[32 * h + l] >> (2 * s)) & 3;
            dst[e] = d * (float)scales[e / 16] * (float)((low | high << 4) - 32);
        }
    }
}

/* Q8_K: an f32 scale and 256 signed bytes (the block sums are not needed to decode). */
void tca_dequant_q8_K_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK_K; i++, b += sizeof(tca_block_q8_K), dst += TCA_QK_K) {
        float d;
        memcpy(&d, b + offsetof(tca_block_q8_K, d), sizeof d);
        const int8_t *qs = (const int8_t *)(b + offsetof(tca_block_q8_K, qs));
        for (int j = 0; j < TCA_QK_K; j++) dst[j] = d * (float)qs[j];
    }
}

void tca_dequant_ref_register(tca_dequant_fn *table) {
    table[TCA_TYPE_F32] = tca_dequant_f32_ref;
    table[TCA_TYPE_F16] = tca_dequant_f16_ref;
    table[TCA_TYPE_BF16] = tca_dequant_bf16_ref;
    table[TCA_TYPE_Q4_0] = tca_dequant_q4_0_ref;
    table[TCA_TYPE_Q4_1] = tca_dequant_q4_1_ref;
    table[TCA_TYPE_Q5_0] = tca_dequant_q5_0_ref;
    table[TCA_TYPE_Q5_1] = tca_dequant_q5_1_ref;
    table[TCA_TYPE_Q8_0] = tca_dequant_q8_0_ref;
    table[TCA_TYPE_Q8_1] = tca_dequant_q8_1_ref;
    table[TCA_TYPE_Q2_K] = tca_dequant_q2_K_ref;
    table[TCA_TYPE_Q3_K] = tca_dequant_q3_K_ref;
    table[TCA_TYPE_Q4_K] = tca_dequant_q4_K_ref;
    table[TCA_TYPE_Q5_K] = tca_dequant_q5_K_ref;
    table[TCA_TYPE_Q6_K] = tca_dequant_q6_K_ref;
    table[TCA_TYPE_Q8_K] = tca_dequant_q8_K_ref;
}
