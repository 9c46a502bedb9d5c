/* AVX-512 (F/BW/VL/DQ) dequantisation (contract: dequant.h; arithmetic: ref/dequant_ref.c).
 *
 * Same scheme as dequant_avx2.c, 16 elements per conversion: quants unpacked to signed bytes
 * with 128/256-bit integer ops, widened to f32 in a ZMM register, scaled with one multiply and
 * (for offset types) one add, each a separate rounding as in the reference; "- m" is written
 * "+ (-m)". F16 tails use masked loads and stores instead of falling back to scalar code. */
#include <immintrin.h>
#include <stddef.h>
#include <string.h>

#include "quant.h"
#include "ref/dequant_ref.h"
#include "x86/dequant_x86.h"

/* 16 signed bytes -> dst[0..15] = d * q (+ b). */
static inline void store16(float *dst, __m128i q8, __m512 d) {
    _mm512_storeu_ps(dst, _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q8))));
}

static inline void store16_affine(float *dst, __m128i q8, __m512 d, __m512 b) {
    const __m512 q = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q8));
    _mm512_storeu_ps(dst, _mm512_add_ps(_mm512_mul_ps(d, q), b));
}

/* 32 signed bytes -> d * q: elements 0..15 scaled by d0, 16..31 by d1. */
static inline void store32(float *dst, __m256i q, float d0, float d1) {
    store16(dst, _mm256_castsi256_si128(q), _mm512_set1_ps(d0));
    store16(dst + 16, _mm256_extracti128_si256(q, 1), _mm512_set1_ps(d1));
}

static inline void store32_affine(float *dst, __m256i q, float d, float b) {
    const __m512 vd = _mm512_set1_ps(d), vb = _mm512_set1_ps(b);
    store16_affine(dst, _mm256_castsi256_si128(q), vd, vb);
    store16_affine(dst + 16, _mm256_extracti128_si256(q, 1), vd, vb);
}

/* 16 packed bytes of nibbles -> 32 bytes: low nibbles (elements 0..15), then high nibbles. */
static inline __m256i unpack_nibbles16(const uint8_t *p) {
    const __m128i v = _mm_loadu_si128((const __m128i *)p), m = _mm_set1_epi8(0x0f);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m), _mm_and_si128(v, m));
}

static inline float ld_f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, sizeof h);
    return _cvtsh_ss(h);
}

void tca_dequant_f16_avx512(const void *src, float *dst, int64_t n) {
    const uint8_t *s = src;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s + 2 * i))));
    if (i < n) { /* masked: touches neither src nor dst beyond n elements */
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(dst + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, s + 2 * i)));
    }
}

void tca_dequant_q4_0_avx512(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q4_0), dst += TCA_QK) {
        const float d = ld_f16(b + offsetof(tca_block_q4_0, d));
        const __m256i q = _mm256_sub_epi8(unpack_nibbles16(b + offsetof(tca_block_q4_0, qs)),
                                          _mm256_set1_epi8(8));
        store32(dst, q, d, d);
    }
}

void tca_dequant_q4_1_avx512(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q4_1), dst += TCA_QK) {
        const float d = ld_f16(b + offsetof(tca_block_q4_1, d));
        const float m = ld_f16(b + offsetof(tca_block_q4_1, m));
        store32_affine(dst, unpack_nibbles16(b + offsetof(tca_block_q4_1, qs)), d, m);
    }
}

/* Q5_0: the 32 bits of qh form a byte mask directly (AVX512BW): byte i = 0x10 if bit i set. */
void tca_dequant_q5_0_avx512(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q5_0), dst += TCA_QK) {
        const float d = ld_f16(b + offsetof(tca_block_q5_0, d));
        uint32_t qh;
        memcpy(&qh, b + offsetof(tca_block_q5_0, qh), sizeof qh);
        const __m256i hb = _mm256_maskz_mov_epi8((__mmask32)qh, _mm256_set1_epi8(0x10));
        const __m256i q = _mm256_or_si256(unpack_nibbles16(b + offsetof(tca_block_q5_0, qs)), hb);
        store32(dst, _mm256_sub_epi8(q, _mm256_set1_epi8(16)), d, d);
    }
}

void tca_dequant_q8_0_avx512(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q8_0), dst += TCA_QK) {
        const float d = ld_f16(b + offsetof(tca_block_q8_0, d));
        store32(dst, _mm256_loadu_si256((const __m256i *)(b + offsetof(tca_block_q8_0, qs))), d, d);
    }
}

/* Q4_K/Q5_K: as in dequant_avx2.c; with qh != NULL (Q5_K) bit j of qh[l] adds 16 to element l
 * of sub-block j, tested with a byte mask compare. */
static inline void dequant_k45(const uint8_t *d_dmin, const uint8_t *scales, const uint8_t *qh,
                               const uint8_t *qs, float *dst) {
    const float d = ld_f16(d_dmin), dmin = ld_f16(d_dmin + 2);
    const __m256i low4 = _mm256_set1_epi8(0x0f), x10 = _mm256_set1_epi8(0x10);
    const __m256i hbits = qh ? _mm256_loadu_si256((const __m256i *)qh) : _mm256_setzero_si256();
    for (int c = 0; c < 4; c++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
        __m256i q[2] = {_mm256_and_si256(v, low4), _mm256_and_si256(_mm256_srli_epi16(v, 4), low4)};
        for (int k = 0; k < 2; k++) {
            const int j = 2 * c + k;
            if (qh) {
                const __mmask32 set = _mm256_test_epi8_mask(hbits, _mm256_set1_epi8((char)(1 << j)));
                q[k] = _mm256_mask_mov_epi8(q[k], set, _mm256_or_si256(q[k], x10));
            }
            uint8_t sc, m;
            tca_q4k_scale_min(scales, j, &sc, &m);
            store32_affine(dst + 32 * j, q[k], d * (float)sc, -(dmin * (float)m));
        }
    }
}

void tca_dequant_q4_K_avx512(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK_K; i++, b += sizeof(tca_block_q4_K), dst += TCA_QK_K)
        dequant_k45(b + offsetof(tca_block_q4_K, d), b + offsetof(tca_block_q4_K, scales), NULL,
                    b + offsetof(tca_block_q4_K, qs), dst);
}

void tca_dequant_q5_K_avx512(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK_K; i++, b += sizeof(tca_block_q5_K), dst += TCA_QK_K)
        dequant_k45(b + offsetof(tca_block_q5_K, d), b + offsetof(tca_block_q5_K, scales),
                    b + offsetof(tca_block_q5_K, qh), b + offsetof(tca_block_q5_K, qs), dst);
}

/* Q6_K: layout as in dequant_avx2.c. */
void tca_dequant_q6_K_avx512(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    const __m256i low4 = _mm256_set1_epi8(0x0f), top2 = _mm256_set1_epi8(0x30);
    for (int64_t i = 0; i < n / TCA_QK_K; i++, b += sizeof(tca_block_q6_K), dst += TCA_QK_K) {
        const float d = ld_f16(b + offsetof(tca_block_q6_K, d));
        const int8_t *sc = (const int8_t *)(b + offsetof(tca_block_q6_K, scales));
        float ds[16];
        for (int g = 0; g < 16; g++) ds[g] = d * (float)sc[g];
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = b + offsetof(tca_block_q6_K, ql) + 64 * h;
            const __m256i a = _mm256_loadu_si256((const __m256i *)ql);
            const __m256i c = _mm256_loadu_si256((const __m256i *)(ql + 32));
            const __m256i hb = _mm256_loadu_si256(
                (const __m256i *)(b + offsetof(tca_block_q6_K, qh) + 32 * h));
            /* epi16 shifts move bits across byte boundaries; the masks keep only each byte's own */
            const __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(a, low4), _mm256_and_si256(_mm256_slli_epi16(hb, 4), top2)),
                _mm256_or_si256(_mm256_and_si256(c, low4), _mm256_and_si256(_mm256_slli_epi16(hb, 2), top2)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 4), low4), _mm256_and_si256(hb, top2)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(c, 4), low4),
                                _mm256_and_si256(_mm256_srli_epi16(hb, 2), top2)),
            };
            for (int s = 0; s < 4; s++) {
                const int g = 8 * h + 2 * s;
                store32(dst + 128 * h + 32 * s, _mm256_sub_epi8(q[s], _mm256_set1_epi8(32)), ds[g],
                        ds[g + 1]);
            }
        }
    }
}
