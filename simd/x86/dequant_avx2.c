/* AVX2 + F16C dequantisation (contract: dequant.h; arithmetic: ref/dequant_ref.c).
 *
 * Each block's quants are unpacked to signed bytes with integer ops (offsets such as Q4_0's -8
 * are subtracted in the integer domain, as the reference does, so a zero quant gives +0 and
 * signs of zero match), widened 8 at a time to f32 and scaled: y = d * q (+ b). The per-block
 * (or per-sub-block) scale products d * sc are computed in scalar f32 exactly as in the
 * reference; every vector multiply or add is a separate rounding like the reference's. The
 * K types' "- m" is written "+ (-m)", which IEEE defines to be the same operation. */
#include <immintrin.h>
#include <stddef.h>
#include <string.h>

#include "ref/dequant_ref.h"
#include "x86/dequant_x86.h"

/* 8 signed bytes (low half of q8) -> f32, times d, plus b. */
static inline void store8(float *dst, __m128i q8, __m256 d, __m256 b) {
    const __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8));
    _mm256_storeu_ps(dst, _mm256_add_ps(_mm256_mul_ps(d, q), b));
}

static inline void store8_nob(float *dst, __m128i q8, __m256 d) {
    _mm256_storeu_ps(dst, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8))));
}

/* 32 signed bytes -> dst[0..31] = d * q: elements 0..15 scaled by d0, 16..31 by d1. */
static inline void store32(float *dst, __m256i q, float d0, float d1) {
    const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    const __m256 v0 = _mm256_set1_ps(d0), v1 = _mm256_set1_ps(d1);
    store8_nob(dst + 0, lo, v0);
    store8_nob(dst + 8, _mm_srli_si128(lo, 8), v0);
    store8_nob(dst + 16, hi, v1);
    store8_nob(dst + 24, _mm_srli_si128(hi, 8), v1);
}

/* 32 signed bytes -> dst[0..31] = d * q + b. */
static inline void store32_affine(float *dst, __m256i q, float d, float b) {
    const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    const __m256 vd = _mm256_set1_ps(d), vb = _mm256_set1_ps(b);
    store8(dst + 0, lo, vd, vb);
    store8(dst + 8, _mm_srli_si128(lo, 8), vd, vb);
    store8(dst + 16, hi, vd, vb);
    store8(dst + 24, _mm_srli_si128(hi, 8), vd, vb);
}

/* 16 packed bytes of nibbles -> 32 bytes: low nibbles (elements 0..15), then high nibbles. */
static inline __m256i unpack_nibbles16(const uint8_t *p) {
    const __m128i v = _mm_loadu_si128((const __m128i *)p), m = _mm_set1_epi8(0x0f);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m), _mm_and_si128(v, m));
}

/* Bit i of the 32-bit little-endian qh -> 0x10 in byte i, else 0. */
static inline __m256i qh_bits_to_0x10(const uint8_t *qh_bytes) {
    uint32_t qh;
    memcpy(&qh, qh_bytes, sizeof qh);
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32((int)qh),
        _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit),
                            _mm256_set1_epi8(0x10));
}

static inline float ld_f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, sizeof h);
    return _cvtsh_ss(h);
}

void tca_dequant_f16_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *s = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + 2 * i))));
    tca_dequant_f16_ref(s + 2 * i, dst + i, n - i);
}

void tca_dequant_q4_0_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q4_0), dst += TCA_QK) {
        const float d = ld_f16(b + offsetof(tca_block_q4_0, d));
        const __m256i q = _mm256_sub_epi8(unpack_nibbles16(b + offsetof(tca_block_q4_0, qs)),
                                          _mm256_set1_epi8(8));
        store32(dst, q, d, d);
    }
}

void tca_dequant_q4_1_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q4_1), dst += TCA_QK) {
        const float d = ld_f16(b + offsetof(tca_block_q4_1, d));
        const float m = ld_f16(b + offsetof(tca_block_q4_1, m));
        store32_affine(dst, unpack_nibbles16(b + offsetof(tca_block_q4_1, qs)), d, m);
    }
}

void tca_dequant_q5_0_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q5_0), dst += TCA_QK) {
        const float d = ld_f16(b + offsetof(tca_block_q5_0, d));
        const __m256i q = _mm256_or_si256(unpack_nibbles16(b + offsetof(tca_block_q5_0, qs)),
                                          qh_bits_to_0x10(b + offsetof(tca_block_q5_0, qh)));
        store32(dst, _mm256_sub_epi8(q, _mm256_set1_epi8(16)), d, d);
    }
}

void tca_dequant_q8_0_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q8_0), dst += TCA_QK) {
        const float d = ld_f16(b + offsetof(tca_block_q8_0, d));
        store32(dst, _mm256_loadu_si256((const __m256i *)(b + offsetof(tca_block_q8_0, qs))), d, d);
    }
}

/* Q4_K/Q5_K: 32 bytes of qs hold sub-block 2c (low nibbles) and 2c + 1 (high nibbles). With
 * qh != NULL (Q5_K) bit j of qh[l] adds 16 to element l of sub-block j. */
static inline void dequant_k45(const uint8_t *d_dmin, const uint8_t *scales, const uint8_t *qh,
                               const uint8_t *qs, float *dst) {
    const float d = ld_f16(d_dmin), dmin = ld_f16(d_dmin + 2);
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i hbits = qh ? _mm256_loadu_si256((const __m256i *)qh) : _mm256_setzero_si256();
    for (int c = 0; c < 4; c++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
        __m256i q[2] = {_mm256_and_si256(v, low4), _mm256_and_si256(_mm256_srli_epi16(v, 4), low4)};
        for (int k = 0; k < 2; k++) {
            const int j = 2 * c + k;
            if (qh) {
                const __m256i bit = _mm256_set1_epi8((char)(1 << j));
                const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(hbits, bit), bit);
                q[k] = _mm256_or_si256(q[k], _mm256_and_si256(set, _mm256_set1_epi8(0x10)));
            }
            uint8_t sc, m;
            tca_q4k_scale_min(scales, j, &sc, &m);
            store32_affine(dst + 32 * j, q[k], d * (float)sc, -(dmin * (float)m));
        }
    }
}

void tca_dequant_q4_K_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK_K; i++, b += sizeof(tca_block_q4_K), dst += TCA_QK_K)
        dequant_k45(b + offsetof(tca_block_q4_K, d), b + offsetof(tca_block_q4_K, scales), NULL,
                    b + offsetof(tca_block_q4_K, qs), dst);
}

void tca_dequant_q5_K_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / TCA_QK_K; i++, b += sizeof(tca_block_q5_K), dst += TCA_QK_K)
        dequant_k45(b + offsetof(tca_block_q5_K, d), b + offsetof(tca_block_q5_K, scales),
                    b + offsetof(tca_block_q5_K, qh), b + offsetof(tca_block_q5_K, qs), dst);
}

/* Q6_K: per half h, 64 bytes of ql and 32 of qh give four runs of 32 elements (s = 0..3):
 * low nibbles of ql[0..31], ql[32..63], then their high nibbles; qh bits 2s..2s+1 on top. */
void tca_dequant_q6_K_avx2(const void *src, float *dst, int64_t n) {
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
