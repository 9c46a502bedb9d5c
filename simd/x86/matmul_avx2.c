/* AVX2 quantized products (contract: matmul.h; arithmetic: ref/matmul_ref.c).
 *
 * Integer block dots with vpmaddubsw (u8 x s8 -> pairs of int16) and vpmaddwd (-> int32):
 *  - 4- and 5-bit weights are kept unsigned (0..15, 0..31) so they can be the u8 operand, and
 *    the format's offset (8, 16) comes back as offset * sum(activation block), computed once per
 *    activation block and shared by the R weight rows of the tile. Pairs stay far from int16
 *    saturation (2 * 31 * 127).
 *  - Q8_0 weights are signed: the dot is maddubs(|w|, sign(a, w)) (|w| <= 128, a in -127..127, so
 *    a pair is at most 2 * 128 * 127 < 2^15).
 *  - K types: the sub-block scales multiply in vpmaddwd (scale as the int16 operand), so a whole
 *    256-element super-block is one int32 sum per lane and one float step, as in the reference.
 * Floats: one f32 FMA per block (legacy) or per super-block (K) into 8-lane accumulators,
 * summed horizontally at the end: only the summation order differs from ref.
 * Register tiles are R weight rows x M activation rows (matmul_drive.h); the activation quants
 * are read as memory operands and each unpacked weight block is reused for the M rows. */
#include <immintrin.h>
#include <string.h>

#include "matmul_drive.h"
#include "quant.h"
#include "ref/matmul_ref.h"
#include "x86/matmul_x86.h"

#define AI static inline __attribute__((always_inline))
#define UNROLL _Pragma("GCC unroll 4")

/* weight rows per L2 chunk for m > 1 (see matmul_drive.h): 16 rows of the widest real row
 * (8960 Q6_K elements, 7.3 KB) is 118 KB, well inside Zen 3's 512 KB L2 */
#define RCHUNK 16

/* Software prefetch of the weight bytes a step will need later: PF_DIST ahead in the same row
 * (long rows) and the same offset in the rows of the next tile, R rows down (short rows, where
 * "ahead in the row" is a row the tile is already reading). Decode streams R rows at once from
 * DRAM and the hardware prefetchers alone left it well below the read bandwidth: together these
 * gave 1.3-2x on Zen 3 (bench_matmul, m = 1). Prefetches never fault, so running past the
 * matrix is harmless. */
#define PF_DIST 1024
#define PREFETCH_AHEAD(p, step)                                                                   \
    do {                                                                                          \
        for (size_t pf_ = 0; pf_ < (step); pf_ += 64)                                             \
            _mm_prefetch((const char *)(p) + PF_DIST + pf_, _MM_HINT_T0);                        \
    } while (0)
#define PREFETCH_NEXT(p, step, dist)                                                              \
    do {                                                                                          \
        for (size_t pf_ = 0; pf_ < (step); pf_ += 64)                                             \
            _mm_prefetch((const char *)(p) + (dist) + pf_, _MM_HINT_T1);                         \
    } while (0)

AI float f16_at(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

AI float f32_at(const uint8_t *p) {
    float f;
    memcpy(&f, p, 4);
    return f;
}

AI float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AI int hsum8i(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* ---- activation quantizers: the reference's operations, 8 lanes at a time ---------------- */

AI __m256 round_half_away(__m256 v) {
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 f = _mm256_sub_ps(v, t); /* exact */
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 up = _mm256_and_ps(_mm256_cmp_ps(f, _mm256_set1_ps(0.5f), _CMP_GE_OQ), one);
    const __m256 dn = _mm256_and_ps(_mm256_cmp_ps(f, _mm256_set1_ps(-0.5f), _CMP_LE_OQ), one);
    return _mm256_sub_ps(_mm256_add_ps(t, up), dn);
}

/* max |x| over 32 * k floats, k = 1 or 8 */
AI float absmax(const float *x, int k) {
    const __m256 mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 m = _mm256_setzero_ps();
    for (int j = 0; j < 4 * k; j++) m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(x + 8 * j), mask));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* 32 floats times id -> 32 int8 at q; returns the 32 quants as int8 */
AI __m256i quant32(const float *x, float id, int8_t *q) {
    const __m256 vid = _mm256_set1_ps(id);
    __m256i v[4];
    for (int j = 0; j < 4; j++)
        v[j] = _mm256_cvtps_epi32(round_half_away(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * j), vid)));
    const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
    const __m256i r = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)q, r);
    return r;
}

/* per 16 quants: lanes 0..3 of the result sum quants 0..15, lanes 4..7 quants 16..31 */
AI __m256i sum4(__m256i q) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q), _mm256_set1_epi16(1));
}

AI void st_f16(uint8_t *p, float f) {
    const tca_f16 h = tca_f32_to_f16(f);
    memcpy(p, &h, 2);
}

static void quantize_q8_0(const float *x, void *xq, int64_t n) {
    uint8_t *b = xq;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q8_0), x += TCA_QK) {
        const float d = absmax(x, 1) / 127.0f;
        quant32(x, d != 0.0f ? 1.0f / d : 0.0f, (int8_t *)(b + offsetof(tca_block_q8_0, qs)));
        st_f16(b + offsetof(tca_block_q8_0, d), d);
    }
}

static void quantize_q8_1(const float *x, void *xq, int64_t n) {
    uint8_t *b = xq;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q8_1), x += TCA_QK) {
        const float d = absmax(x, 1) / 127.0f;
        const __m256i q = quant32(x, d != 0.0f ? 1.0f / d : 0.0f, (int8_t *)(b + offsetof(tca_block_q8_1, qs)));
        st_f16(b + offsetof(tca_block_q8_1, d), d);
        st_f16(b + offsetof(tca_block_q8_1, s), d * (float)hsum8i(sum4(q)));
    }
}

static void quantize_q8_K(const float *x, void *xq, int64_t n) {
    uint8_t *b = xq;
    for (int64_t i = 0; i < n / TCA_QK_K; i++, b += sizeof(tca_block_q8_K), x += TCA_QK_K) {
        const float d = absmax(x, 8) / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        memcpy(b + offsetof(tca_block_q8_K, d), &d, 4);
        int16_t bs[16];
        for (int k = 0; k < 8; k++) {
            const __m256i s = sum4(quant32(x + 32 * k, id, (int8_t *)(b + offsetof(tca_block_q8_K, qs)) + 32 * k));
            const __m256i h = _mm256_hadd_epi32(s, s);
            const __m256i h2 = _mm256_hadd_epi32(h, h);
            bs[2 * k] = (int16_t)_mm256_extract_epi32(h2, 0);
            bs[2 * k + 1] = (int16_t)_mm256_extract_epi32(h2, 4);
        }
        memcpy(b + offsetof(tca_block_q8_K, bsums), bs, sizeof bs);
    }
}

/* ---- legacy types: 32-element blocks, activation Q8_0 (Q8_1 for Q4_1) ------------------- */

/* 16 bytes of nibbles -> 32 bytes 0..15: low nibbles (elements 0..15), then high nibbles */
AI __m256i nibbles32(const uint8_t *p) {
    const __m128i v = _mm_loadu_si128((const __m128i *)p), m = _mm_set1_epi8(0x0f);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m), _mm_and_si128(v, m));
}

/* bit e of qh -> 0x10 in byte e */
AI __m256i qh_0x10v(uint32_t qh) {
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32((int)qh),
        _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(0x10));
}

/* the same for the little-endian 32-bit qh field at p */
AI __m256i qh_0x10(const uint8_t *p) {
    uint32_t qh;
    memcpy(&qh, p, 4);
    return qh_0x10v(qh);
}

/* type-specific facts, constant after inlining */
AI size_t wblock_bytes(int t) {
    return t == TCA_TYPE_Q4_0 ? sizeof(tca_block_q4_0) : t == TCA_TYPE_Q4_1 ? sizeof(tca_block_q4_1)
         : t == TCA_TYPE_Q5_0 ? sizeof(tca_block_q5_0) : sizeof(tca_block_q8_0);
}

/* One block per weight row and activation row (Q8_0, and the odd last block of the others). */
AI void legacy_step1(int t, int R, int M, const uint8_t *w, size_t ws, const uint8_t *x, size_t xs, int64_t b,
                     __m256 acc[4][4], float accm[4][4]) {
    const size_t wb = wblock_bytes(t);
    const size_t xb = t == TCA_TYPE_Q4_1 ? sizeof(tca_block_q8_1) : sizeof(tca_block_q8_0);
    const size_t xq_off = t == TCA_TYPE_Q4_1 ? offsetof(tca_block_q8_1, qs) : offsetof(tca_block_q8_0, qs);
    const int offset_shift = t == TCA_TYPE_Q4_0 ? 3 : t == TCA_TYPE_Q5_0 ? 4 : 0; /* offset 8 / 16 */
    const __m256i ones16 = _mm256_set1_epi16(1);
    __m256i u[4], sgn[4];
    __m256 dw[4];
    float mw[4];
    UNROLL for (int r = 0; r < R; r++) {
        const uint8_t *blk = w + (size_t)r * ws + (size_t)b * wb;
        PREFETCH_AHEAD(blk, wb);
        PREFETCH_NEXT(blk, wb, (size_t)R * ws);
        dw[r] = _mm256_set1_ps(f16_at(blk));
        if (t == TCA_TYPE_Q4_0) {
            u[r] = nibbles32(blk + offsetof(tca_block_q4_0, qs));
        } else if (t == TCA_TYPE_Q4_1) {
            mw[r] = f16_at(blk + offsetof(tca_block_q4_1, m));
            u[r] = nibbles32(blk + offsetof(tca_block_q4_1, qs));
        } else if (t == TCA_TYPE_Q5_0) {
            u[r] = _mm256_or_si256(nibbles32(blk + offsetof(tca_block_q5_0, qs)),
                                   qh_0x10(blk + offsetof(tca_block_q5_0, qh)));
        } else {
            sgn[r] = _mm256_loadu_si256((const __m256i *)(blk + offsetof(tca_block_q8_0, qs)));
            u[r] = _mm256_abs_epi8(sgn[r]);
        }
    }
    UNROLL for (int i = 0; i < M; i++) {
        const uint8_t *xblk = x + (size_t)i * xs + (size_t)b * xb;
        const __m256i a = _mm256_loadu_si256((const __m256i *)(xblk + xq_off));
        const __m256 da = _mm256_set1_ps(f16_at(xblk));
        __m256i corr = _mm256_setzero_si256();
        if (offset_shift) corr = _mm256_slli_epi32(sum4(a), offset_shift);
        const float s = t == TCA_TYPE_Q4_1 ? f16_at(xblk + offsetof(tca_block_q8_1, s)) : 0.0f;
        UNROLL for (int r = 0; r < R; r++) {
            __m256i p;
            if (t == TCA_TYPE_Q8_0)
                p = _mm256_madd_epi16(_mm256_maddubs_epi16(u[r], _mm256_sign_epi8(a, sgn[r])), ones16);
            else
                p = _mm256_madd_epi16(_mm256_maddubs_epi16(u[r], a), ones16);
            if (offset_shift) p = _mm256_sub_epi32(p, corr);
            acc[r][i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(dw[r], da), acc[r][i]);
            if (t == TCA_TYPE_Q4_1) accm[r][i] += mw[r] * s;
        }
    }
}

/* [lo(p0) | lo(p1)]: two 16-byte loads into one YMM */
AI __m256i load2x16(const uint8_t *p0, const uint8_t *p1) {
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)p0)),
                                   _mm_loadu_si128((const __m128i *)p1), 1);
}

/* f16 pairs (bits) -> f32 lanes: [v0 x4 | v1 x4] for the 32-bit word h = v0 | v1 << 16 */
AI __m256 f16pair_x4(uint32_t h) {
    const __m256 v = _mm256_castps128_ps256(_mm_cvtph_ps(_mm_cvtsi32_si128((int)h)));
    return _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1));
}

AI uint32_t ld_u16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return h;
}

/* Two consecutive blocks of a nibble type (Q4_0, Q4_1, Q5_0) at once: weight nibbles of both
 * blocks share one YMM ([block b | block b+1] low nibbles, and high nibbles), the activation
 * halves are paired to match, so one maddubs pair, one int16 add (each half-sum <= 2 * 31 * 127,
 * their sum < 2^15) and one vpmaddwd give 4 int32 lanes per block, and the float step (convert,
 * scale, FMA) is shared by the two blocks. */
AI void legacy_step2(int t, int R, int M, const uint8_t *w, size_t ws, const uint8_t *x, size_t xs, int64_t b,
                     __m256 acc[4][4]) {
    const size_t wb = wblock_bytes(t);
    const size_t xb = t == TCA_TYPE_Q4_1 ? sizeof(tca_block_q8_1) : sizeof(tca_block_q8_0);
    const size_t xq_off = t == TCA_TYPE_Q4_1 ? offsetof(tca_block_q8_1, qs) : offsetof(tca_block_q8_0, qs);
    const size_t oq = t == TCA_TYPE_Q4_0 ? offsetof(tca_block_q4_0, qs)
                    : t == TCA_TYPE_Q4_1 ? offsetof(tca_block_q4_1, qs) : offsetof(tca_block_q5_0, qs);
    const __m256i m4 = _mm256_set1_epi8(0x0f), ones16 = _mm256_set1_epi16(1);
    const __m256i off8 = _mm256_set1_epi8(t == TCA_TYPE_Q4_0 ? 8 : 16);
    __m256i lo[4], hi[4];
    __m256 dw[4], mw[4];
    UNROLL for (int r = 0; r < R; r++) {
        const uint8_t *b0 = w + (size_t)r * ws + (size_t)b * wb, *b1 = b0 + wb;
        PREFETCH_AHEAD(b0, 2 * wb);
        PREFETCH_NEXT(b0, 2 * wb, (size_t)R * ws);
        const __m256i v = load2x16(b0 + oq, b1 + oq);
        lo[r] = _mm256_and_si256(v, m4);
        hi[r] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        if (t == TCA_TYPE_Q5_0) {
            uint32_t h0, h1;
            memcpy(&h0, b0 + offsetof(tca_block_q5_0, qh), 4);
            memcpy(&h1, b1 + offsetof(tca_block_q5_0, qh), 4);
            /* bits of elements 0..15 (then 16..31) of both blocks */
            lo[r] = _mm256_or_si256(lo[r], qh_0x10v((h0 & 0xffffu) | h1 << 16));
            hi[r] = _mm256_or_si256(hi[r], qh_0x10v(h0 >> 16 | (h1 & 0xffff0000u)));
        }
        if (t == TCA_TYPE_Q4_1) {
            uint32_t dm0, dm1; /* d, m of each block: [d0 m0 d1 m1] in one conversion */
            memcpy(&dm0, b0, 4);
            memcpy(&dm1, b1, 4);
            const __m256 v4 = _mm256_castps128_ps256(_mm_cvtph_ps(_mm_set_epi32(0, 0, (int)dm1, (int)dm0)));
            dw[r] = _mm256_permutevar8x32_ps(v4, _mm256_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2));
            mw[r] = _mm256_permutevar8x32_ps(v4, _mm256_setr_epi32(1, 1, 1, 1, 3, 3, 3, 3));
        } else {
            dw[r] = f16pair_x4(ld_u16(b0) | ld_u16(b1) << 16);
        }
    }
    UNROLL for (int i = 0; i < M; i++) {
        const uint8_t *x0 = x + (size_t)i * xs + (size_t)b * xb, *x1 = x0 + xb;
        const __m256i alo = load2x16(x0 + xq_off, x1 + xq_off);
        const __m256i ahi = load2x16(x0 + xq_off + 16, x1 + xq_off + 16);
        const __m256 da = f16pair_x4(ld_u16(x0) | ld_u16(x1) << 16);
        __m256i corr = _mm256_setzero_si256();
        __m256 sv = _mm256_setzero_ps();
        if (t != TCA_TYPE_Q4_1)
            corr = _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(off8, alo), _mm256_maddubs_epi16(off8, ahi)), ones16);
        else /* [s0 0 0 0 | s1 0 0 0]: the min term enters one lane per block */
            sv = _mm256_permutevar8x32_ps(
                _mm256_zextps128_ps256(_mm_cvtph_ps(_mm_cvtsi32_si128((int)(ld_u16(x0 + offsetof(tca_block_q8_1, s)) |
                                                                          ld_u16(x1 + offsetof(tca_block_q8_1, s)) << 16)))),
                _mm256_setr_epi32(0, 2, 2, 2, 1, 2, 2, 2));
        UNROLL for (int r = 0; r < R; r++) {
            __m256i p = _mm256_madd_epi16(
                _mm256_add_epi16(_mm256_maddubs_epi16(lo[r], alo), _mm256_maddubs_epi16(hi[r], ahi)), ones16);
            if (t != TCA_TYPE_Q4_1) p = _mm256_sub_epi32(p, corr);
            acc[r][i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(dw[r], da), acc[r][i]);
            if (t == TCA_TYPE_Q4_1) acc[r][i] = _mm256_fmadd_ps(mw[r], sv, acc[r][i]);
        }
    }
}

AI void legacy_tile(int t, int R, int M, const uint8_t *w, size_t ws, const uint8_t *x, size_t xs,
                    float *y, int64_t ldy, int64_t n) {
    __m256 acc[4][4];
    float accm[4][4];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < M; i++) {
        acc[r][i] = _mm256_setzero_ps();
        accm[r][i] = 0.0f;
    }
    const int64_t nb = n / TCA_QK;
    int64_t b = 0;
    if (t != TCA_TYPE_Q8_0)
        for (; b + 2 <= nb; b += 2) legacy_step2(t, R, M, w, ws, x, xs, b, acc);
    for (; b < nb; b++) legacy_step1(t, R, M, w, ws, x, xs, b, acc, accm);
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < M; i++)
        y[i * ldy + r] = hsum8(acc[r][i]) + accm[r][i];
}

#define Q4_0_BODY(R, M, ...) legacy_tile(TCA_TYPE_Q4_0, R, M, __VA_ARGS__)
#define Q4_1_BODY(R, M, ...) legacy_tile(TCA_TYPE_Q4_1, R, M, __VA_ARGS__)
#define Q5_0_BODY(R, M, ...) legacy_tile(TCA_TYPE_Q5_0, R, M, __VA_ARGS__)
#define Q8_0_BODY(R, M, ...) legacy_tile(TCA_TYPE_Q8_0, R, M, __VA_ARGS__)
TCA_TILE_SET(tiles_q4_0, Q4_0_BODY)
TCA_TILE_SET(tiles_q4_1, Q4_1_BODY)
TCA_TILE_SET(tiles_q5_0, Q5_0_BODY)
TCA_TILE_SET(tiles_q8_0, Q8_0_BODY)

/* ---- K types: 256-element super-blocks, activation Q8_K ---------------------------------- */

/* Q4_K/Q5_K: the 8 six-bit scales (as 16-bit lanes, both 128-bit halves) and the 8 mins each
 * duplicated (m0 m0 m1 m1 ... m7 m7, to pair with the activation's 16 bsums) */
AI void q4k_scales(const uint8_t *p, __m256i *sc, __m256i *mins) {
    uint32_t s0, s1, s2;
    memcpy(&s0, p, 4);
    memcpy(&s1, p + 4, 4);
    memcpy(&s2, p + 8, 4);
    const uint32_t sc_lo = s0 & 0x3f3f3f3fu, sc_hi = (s2 & 0x0f0f0f0fu) | ((s0 >> 2) & 0x30303030u);
    const uint32_t m_lo = s1 & 0x3f3f3f3fu, m_hi = ((s2 >> 4) & 0x0f0f0f0fu) | ((s1 >> 2) & 0x30303030u);
    const __m128i sc16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)((uint64_t)sc_hi << 32 | sc_lo)));
    const __m128i m16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)((uint64_t)m_hi << 32 | m_lo)));
    *sc = _mm256_broadcastsi128_si256(sc16);
    *mins = _mm256_set_m128i(_mm_unpackhi_epi16(m16, m16), _mm_unpacklo_epi16(m16, m16));
}

/* 16-bit lane j of both halves of src, broadcast to all 16 lanes */
AI __m256i bcast16(__m256i src, int j) {
    return _mm256_shuffle_epi8(src, _mm256_set1_epi16((short)(0x0100 * (2 * j + 1) + 2 * j)));
}

AI size_t kblock_bytes(int t) {
    return t == TCA_TYPE_Q4_K ? sizeof(tca_block_q4_K) : t == TCA_TYPE_Q5_K ? sizeof(tca_block_q5_K)
                                                                             : sizeof(tca_block_q6_K);
}

AI void k_tile(int t, int R, int M, const uint8_t *w, size_t ws, const uint8_t *x, size_t xs,
               float *y, int64_t ldy, int64_t n) {
    const size_t wb = kblock_bytes(t), xb = sizeof(tca_block_q8_K);
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256 acc[4][4];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < M; i++) acc[r][i] = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / TCA_QK_K; b++) {
        const uint8_t *blk[4];
        __m256i sc[4], mins[4], isum[4][4], sc6lo[4], sc6hi[4];
        UNROLL for (int r = 0; r < R; r++) {
            blk[r] = w + (size_t)r * ws + (size_t)b * wb;
            PREFETCH_AHEAD(blk[r], wb);
            PREFETCH_NEXT(blk[r], wb, (size_t)R * ws);
            if (t == TCA_TYPE_Q6_K) {
                /* 16 signed scales as int32 lanes holding the scale in both 16-bit halves */
                const __m128i s8 = _mm_loadu_si128((const __m128i *)(blk[r] + offsetof(tca_block_q6_K, scales)));
                sc[r] = _mm256_cvtepi8_epi16(s8);
                mins[r] = sc[r]; /* kept for the -32 offset: sum_g sc_g bsum_g */
                /* scales 0..7 and 8..15 as int32 lanes holding the scale in both 16-bit halves,
                 * so one vpermd gives a chunk's two sub-block scales as 16-bit lanes */
                const __m256i lo32 = _mm256_cvtepi8_epi32(s8), hi32 = _mm256_cvtepi8_epi32(_mm_srli_si128(s8, 8));
                const __m256i low16 = _mm256_set1_epi32(0xffff);
                sc6lo[r] = _mm256_or_si256(_mm256_and_si256(lo32, low16), _mm256_slli_epi32(lo32, 16));
                sc6hi[r] = _mm256_or_si256(_mm256_and_si256(hi32, low16), _mm256_slli_epi32(hi32, 16));
            } else {
                q4k_scales(blk[r] + (t == TCA_TYPE_Q4_K ? offsetof(tca_block_q4_K, scales) : offsetof(tca_block_q5_K, scales)),
                           &sc[r], &mins[r]);
            }
        }
        UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < M; i++) isum[r][i] = _mm256_setzero_si256();
        if (t == TCA_TYPE_Q6_K) {
            UNROLL for (int h = 0; h < 2; h++) {
                __m256i u[4][4], scv[4][4]; /* [r][s] */
                UNROLL for (int r = 0; r < R; r++) {
                    const uint8_t *ql = blk[r] + offsetof(tca_block_q6_K, ql) + 64 * h;
                    const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
                    const __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
                    const __m256i qh = _mm256_loadu_si256((const __m256i *)(blk[r] + offsetof(tca_block_q6_K, qh) + 32 * h));
                    const __m256i m30 = _mm256_set1_epi8(0x30);
                    u[r][0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30));
                    u[r][1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30));
                    u[r][2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(qh, m30));
                    u[r][3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                              _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30));
                    /* chunk k = 4h + s covers sub-blocks 2k (low 128 bits) and 2k + 1 (high) */
                    UNROLL for (int s = 0; s < 4; s++)
                        scv[r][s] = _mm256_permutevar8x32_epi32(h ? sc6hi[r] : sc6lo[r],
                                                                _mm256_setr_epi32(2 * s, 2 * s, 2 * s, 2 * s, 2 * s + 1,
                                                                                  2 * s + 1, 2 * s + 1, 2 * s + 1));
                }
                UNROLL for (int s = 0; s < 4; s++) UNROLL for (int i = 0; i < M; i++) {
                    const __m256i a = _mm256_loadu_si256(
                        (const __m256i *)(x + (size_t)i * xs + (size_t)b * xb + offsetof(tca_block_q8_K, qs) + 128 * h + 32 * s));
                    UNROLL for (int r = 0; r < R; r++)
                        isum[r][i] = _mm256_add_epi32(isum[r][i], _mm256_madd_epi16(_mm256_maddubs_epi16(u[r][s], a), scv[r][s]));
                }
            }
        } else {
            UNROLL for (int c = 0; c < 4; c++) {
                __m256i u[4][2], scv[4][2];
                UNROLL for (int r = 0; r < R; r++) {
                    const uint8_t *qs = blk[r] + (t == TCA_TYPE_Q4_K ? offsetof(tca_block_q4_K, qs) : offsetof(tca_block_q5_K, qs));
                    const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
                    u[r][0] = _mm256_and_si256(q, m4);
                    u[r][1] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
                    if (t == TCA_TYPE_Q5_K) {
                        /* bit j of qh[l] is bit 4 of element 32j + l; j = 2c, 2c + 1 */
                        const __m256i qh = _mm256_loadu_si256((const __m256i *)(blk[r] + offsetof(tca_block_q5_K, qh)));
                        const __m256i one = _mm256_set1_epi8(1);
                        const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one), 4);
                        const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one), 4);
                        u[r][0] = _mm256_or_si256(u[r][0], h0);
                        u[r][1] = _mm256_or_si256(u[r][1], h1);
                    }
                    scv[r][0] = bcast16(sc[r], 2 * c);
                    scv[r][1] = bcast16(sc[r], 2 * c + 1);
                }
                UNROLL for (int k = 0; k < 2; k++) UNROLL for (int i = 0; i < M; i++) {
                    const __m256i a = _mm256_loadu_si256(
                        (const __m256i *)(x + (size_t)i * xs + (size_t)b * xb + offsetof(tca_block_q8_K, qs) + 64 * c + 32 * k));
                    UNROLL for (int r = 0; r < R; r++)
                        isum[r][i] = _mm256_add_epi32(isum[r][i], _mm256_madd_epi16(_mm256_maddubs_epi16(u[r][k], a), scv[r][k]));
                }
            }
        }
        UNROLL for (int i = 0; i < M; i++) {
            const uint8_t *xblk = x + (size_t)i * xs + (size_t)b * xb;
            const float dx = f32_at(xblk + offsetof(tca_block_q8_K, d));
            const __m256i bsums = _mm256_loadu_si256((const __m256i *)(xblk + offsetof(tca_block_q8_K, bsums)));
            UNROLL for (int r = 0; r < R; r++) {
                const __m256i ms = _mm256_madd_epi16(bsums, mins[r]);
                if (t == TCA_TYPE_Q6_K) {
                    const __m256i is = _mm256_sub_epi32(isum[r][i], _mm256_slli_epi32(ms, 5));
                    const float d = f16_at(blk[r] + offsetof(tca_block_q6_K, d));
                    acc[r][i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), _mm256_set1_ps(d * dx), acc[r][i]);
                } else {
                    const size_t od = t == TCA_TYPE_Q4_K ? offsetof(tca_block_q4_K, d) : offsetof(tca_block_q5_K, d);
                    const size_t odm = t == TCA_TYPE_Q4_K ? offsetof(tca_block_q4_K, dmin) : offsetof(tca_block_q5_K, dmin);
                    acc[r][i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r][i]), _mm256_set1_ps(f16_at(blk[r] + od) * dx), acc[r][i]);
                    acc[r][i] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(ms), _mm256_set1_ps(f16_at(blk[r] + odm) * dx), acc[r][i]);
                }
            }
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < M; i++) y[i * ldy + r] = hsum8(acc[r][i]);
}

#define Q4_K_BODY(R, M, ...) k_tile(TCA_TYPE_Q4_K, R, M, __VA_ARGS__)
#define Q5_K_BODY(R, M, ...) k_tile(TCA_TYPE_Q5_K, R, M, __VA_ARGS__)
#define Q6_K_BODY(R, M, ...) k_tile(TCA_TYPE_Q6_K, R, M, __VA_ARGS__)
TCA_TILE_SET_RM(tiles_q4_K, Q4_K_BODY, 1, 4)
TCA_TILE_SET_RM(tiles_q5_K, Q5_K_BODY, 1, 4)
TCA_TILE_SET_RM(tiles_q6_K, Q6_K_BODY, 1, 4)

/* ---- F32 / F16 weights, F32 activations -------------------------------------------------- */

AI __m256 ld8w(int t, const uint8_t *p) {
    return t == TCA_TYPE_F16 ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)) : _mm256_loadu_ps((const float *)p);
}

AI void f_tile(int t, int R, int M, const uint8_t *w, size_t ws, const uint8_t *x, size_t xs, float *y,
               int64_t ldy, int64_t n) {
    const int es = t == TCA_TYPE_F16 ? 2 : 4;
    __m256 acc[4][4];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < M; i++) acc[r][i] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= n; k += 8) {
        __m256 wv[4];
        UNROLL for (int r = 0; r < R; r++) wv[r] = ld8w(t, w + (size_t)r * ws + (size_t)k * es);
        UNROLL for (int i = 0; i < M; i++) {
            const __m256 xv = _mm256_loadu_ps((const float *)(x + (size_t)i * xs) + k);
            UNROLL for (int r = 0; r < R; r++) acc[r][i] = _mm256_fmadd_ps(wv[r], xv, acc[r][i]);
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < M; i++) {
        float s = hsum8(acc[r][i]);
        for (int64_t j = k; j < n; j++) {
            const uint8_t *wp = w + (size_t)r * ws + (size_t)j * es;
            const float wj = t == TCA_TYPE_F16 ? f16_at(wp) : f32_at(wp);
            s += wj * f32_at(x + (size_t)i * xs + (size_t)j * 4);
        }
        y[i * ldy + r] = s;
    }
}

#define F32_BODY(R, M, ...) f_tile(TCA_TYPE_F32, R, M, __VA_ARGS__)
#define F16_BODY(R, M, ...) f_tile(TCA_TYPE_F16, R, M, __VA_ARGS__)
TCA_TILE_SET(tiles_f32, F32_BODY)
TCA_TILE_SET(tiles_f16, F16_BODY)

#define DEFINE_QGEMM(t)                                                                            \
    static void qgemm_##t(const void *w, size_t w_stride, const void *xq, size_t xq_stride,        \
                          float *y, int64_t ldy, int64_t rows, int64_t m, int64_t n) {             \
        tca_qgemm_drive(&tiles_##t, RCHUNK, w, w_stride, xq, xq_stride, y, ldy, rows, m, n);      \
    }
DEFINE_QGEMM(f32)
DEFINE_QGEMM(f16)
DEFINE_QGEMM(q4_0)
DEFINE_QGEMM(q4_1)
DEFINE_QGEMM(q5_0)
DEFINE_QGEMM(q8_0)
DEFINE_QGEMM(q4_K)
DEFINE_QGEMM(q5_K)
DEFINE_QGEMM(q6_K)

void tca_matmul_avx2_register(tca_quantize_act_fn *quantize_act, tca_qgemm_fn *qgemm) {
    qgemm[TCA_TYPE_F32] = qgemm_f32;
    qgemm[TCA_TYPE_F16] = qgemm_f16;
    qgemm[TCA_TYPE_Q4_0] = qgemm_q4_0;
    qgemm[TCA_TYPE_Q4_1] = qgemm_q4_1;
    qgemm[TCA_TYPE_Q5_0] = qgemm_q5_0;
    qgemm[TCA_TYPE_Q8_0] = qgemm_q8_0;
    qgemm[TCA_TYPE_Q4_K] = qgemm_q4_K;
    qgemm[TCA_TYPE_Q5_K] = qgemm_q5_K;
    qgemm[TCA_TYPE_Q6_K] = qgemm_q6_K;
    static const int q8_0_users[] = {TCA_TYPE_Q4_0, TCA_TYPE_Q5_0, TCA_TYPE_Q8_0};
    for (size_t k = 0; k < sizeof q8_0_users / sizeof q8_0_users[0]; k++) quantize_act[q8_0_users[k]] = quantize_q8_0;
    quantize_act[TCA_TYPE_Q4_1] = quantize_q8_1;
    quantize_act[TCA_TYPE_Q5_1] = quantize_q8_1;
    quantize_act[TCA_TYPE_Q4_K] = quantize_q8_K;
    quantize_act[TCA_TYPE_Q5_K] = quantize_q8_K;
    quantize_act[TCA_TYPE_Q6_K] = quantize_q8_K;
}
