/* AVX-512 quantized products (contract: matmul.h; arithmetic: ref/matmul_ref.c).
 *
 * This file is compiled twice (simd/meson.build): with AVX-512 F/BW/VL/DQ only, and with
 * -mavx512vnni -DTCA_MATMUL_VNNI for the VNNI sub-level that init_avx512.c installs when the
 * CPU reports avx512vnni. The integer schemes:
 *  - K types, 64 elements (two 32-element sub-blocks, or four 16-element ones for Q6_K) per ZMM:
 *    vpmaddubsw (unsigned weight quants 0..63 x signed activation) -> int16 pairs, then the
 *    sub-block scales as the int16 operand of vpmaddwd (VNNI: vpdpwssd, which also accumulates).
 *    Q6_K's -32 offset and Q4_K/Q5_K's mins come from the activation's bsums, as in AVX2.
 *  - Legacy nibble types (Q4_0, Q4_1, Q5_0), four 32-element blocks per step: the low nibbles
 *    of the four blocks in one ZMM, the high nibbles in another, the activation halves gathered
 *    to match. Unsigned quants (0..15, 0..31) times signed activations: VNNI vpdpbusd, else
 *    vpmaddubsw + vpmaddwd; the offset (8, 16) comes back as offset * sum(activation block),
 *    computed once per activation block for the R weight rows of the tile.
 *  - Q8_0 (two blocks per ZMM; not installed: the AVX2 kernel measured faster, see the
 *    registration): VNNI vpdpbusd of w + 128 minus 128 * sum(activation); without VNNI the
 *    weight's sign moves onto the activation (AVX-512 has no vpsignb: a masked negate).
 *    Sums of 4 products cannot overflow int32.
 * Floats: one FMA per group of blocks (legacy) or per super-block (K), 16 lanes, reduced at the
 * end: only the f32 summation order differs from ref. Activation quantizers: the AVX2 ones
 * (this level inherits them; they are not the bottleneck). */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "matmul_drive.h"
#include "quant.h"
#include "ref/matmul_ref.h"
#include "x86/matmul_x86.h"

#define AI static inline __attribute__((always_inline))
#define UNROLL _Pragma("GCC unroll 4")
#define RCHUNK 16

/* Software prefetch of the weight bytes a step will need later, as in matmul_avx2.c: PF_DIST
 * ahead in the row and the same offset in the next tile's rows (decode streams R rows from DRAM
 * and the hardware prefetchers alone stay below the read bandwidth). */
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

#ifdef TCA_MATMUL_VNNI
#define VNNI 1
#define REGISTER_FN tca_matmul_avx512vnni_register
#else
#define VNNI 0
#define REGISTER_FN register_avx512
#endif

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

/* int16 pairs of u8 x s8 products times int16 scales, added to int32 lanes */
AI __m512i dot_scaled(__m512i acc, __m512i u, __m512i a, __m512i scv) {
#if VNNI
    return _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(u, a), scv);
#else
    return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(u, a), scv));
#endif
}

/* sum of u8 x s8 products per group of 4 bytes -> int32 lanes (u <= 31, or VNNI any u8) */
AI __m512i dot4(__m512i u, __m512i a) {
#if VNNI
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, a);
#else
    return _mm512_madd_epi16(_mm512_maddubs_epi16(u, a), _mm512_set1_epi16(1));
#endif
}

/* ---- legacy types: Q8_0 two 32-element blocks per ZMM, the nibble types four ----------------- */

AI size_t wblock_bytes(int t) {
    return t == TCA_TYPE_Q4_0 ? sizeof(tca_block_q4_0) : t == TCA_TYPE_Q4_1 ? sizeof(tca_block_q4_1)
         : t == TCA_TYPE_Q5_0 ? sizeof(tca_block_q5_0) : sizeof(tca_block_q8_0);
}

AI size_t wq_off(int t) {
    return t == TCA_TYPE_Q4_0 ? offsetof(tca_block_q4_0, qs) : t == TCA_TYPE_Q4_1 ? offsetof(tca_block_q4_1, qs)
         : t == TCA_TYPE_Q5_0 ? offsetof(tca_block_q5_0, qs) : offsetof(tca_block_q8_0, qs);
}

/* 64 bytes from two 32-byte halves; `two` = 0: the upper half is zero and not read */
AI __m512i load2x32(const uint8_t *p0, const uint8_t *p1, int two) {
    const __m512i lo = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)p0));
    return two ? _mm512_inserti64x4(lo, _mm256_loadu_si256((const __m256i *)p1), 1)
               : _mm512_zextsi256_si512(_mm256_loadu_si256((const __m256i *)p0));
}

/* Weights of blocks b0 (and b1 when two) as 64 bytes in element order. Q4_x/Q5_0: unsigned
 * quants (0..15 / 0..31); Q8_0: VNNI: w + 128 (unsigned), else the signed bytes. */
AI __m512i unpack_pair(int t, const uint8_t *b0, const uint8_t *b1, int two) {
    if (t == TCA_TYPE_Q8_0) {
        const __m512i w = load2x32(b0 + wq_off(t), b1 + wq_off(t), two);
        return VNNI ? _mm512_xor_si512(w, _mm512_set1_epi8((char)0x80)) : w;
    }
    /* lanes [q0, q0, q1, q1] of 16 bytes, then nibble 0 in lanes 0, 2 and nibble 1 in 1, 3 */
    const __m128i q0 = _mm_loadu_si128((const __m128i *)(b0 + wq_off(t)));
    const __m128i q1 = two ? _mm_loadu_si128((const __m128i *)(b1 + wq_off(t))) : _mm_setzero_si128();
    __m512i z = _mm512_castsi128_si512(q0);
    z = _mm512_inserti32x4(z, q0, 1);
    z = _mm512_inserti32x4(z, q1, 2);
    z = _mm512_inserti32x4(z, q1, 3);
    z = _mm512_and_si512(_mm512_srlv_epi16(z, _mm512_set_epi64(4 * 0x0001000100010001ll, 4 * 0x0001000100010001ll, 0, 0,
                                                                4 * 0x0001000100010001ll, 4 * 0x0001000100010001ll, 0, 0)),
                         _mm512_set1_epi8(0x0f));
    if (t == TCA_TYPE_Q5_0) {
        uint32_t h0, h1 = 0;
        memcpy(&h0, b0 + offsetof(tca_block_q5_0, qh), 4);
        if (two) memcpy(&h1, b1 + offsetof(tca_block_q5_0, qh), 4);
        z = _mm512_or_si512(z, _mm512_maskz_mov_epi8(((__mmask64)h1 << 32) | h0, _mm512_set1_epi8(0x10)));
    }
    return z;
}

/* lanes 0..7 = a, lanes 8..15 = b */
AI __m512 pair_ps(float a, float b) {
    return _mm512_insertf32x8(_mm512_set1_ps(a), _mm256_set1_ps(b), 1);
}

AI void legacy_step(int t, int R, int M, int two, const uint8_t *w, size_t ws, const uint8_t *x, size_t xs,
                    int64_t b, __m512 acc[4][4], float accm[4][4]) {
    const size_t wb = wblock_bytes(t);
    const size_t xb = t == TCA_TYPE_Q4_1 ? sizeof(tca_block_q8_1) : sizeof(tca_block_q8_0);
    const size_t xq_off = t == TCA_TYPE_Q4_1 ? offsetof(tca_block_q8_1, qs) : offsetof(tca_block_q8_0, qs);
    /* offset subtracted from the unsigned weight quants, as a shift of the activation sum */
    const int sh = t == TCA_TYPE_Q4_0 ? 3 : t == TCA_TYPE_Q5_0 ? 4 : (t == TCA_TYPE_Q8_0 && VNNI) ? 7 : 0;
    __m512i u[4];
    __m512 dw[4];
    float mw[4][2];
    UNROLL for (int r = 0; r < R; r++) {
        const uint8_t *b0 = w + (size_t)r * ws + (size_t)b * wb, *b1 = b0 + wb;
        u[r] = unpack_pair(t, b0, b1, two);
        dw[r] = pair_ps(f16_at(b0), two ? f16_at(b1) : 0.0f);
        if (t == TCA_TYPE_Q4_1) {
            mw[r][0] = f16_at(b0 + offsetof(tca_block_q4_1, m));
            mw[r][1] = two ? f16_at(b1 + offsetof(tca_block_q4_1, m)) : 0.0f;
        }
    }
    UNROLL for (int i = 0; i < M; i++) {
        const uint8_t *x0 = x + (size_t)i * xs + (size_t)b * xb, *x1 = x0 + xb;
        const __m512i a = load2x32(x0 + xq_off, x1 + xq_off, two);
        const __m512 da = pair_ps(f16_at(x0), two ? f16_at(x1) : 0.0f);
        __m512i corr = _mm512_setzero_si512();
        if (sh) corr = _mm512_slli_epi32(dot4(_mm512_set1_epi8(1), a), sh);
        UNROLL for (int r = 0; r < R; r++) {
            __m512i p;
            if (t == TCA_TYPE_Q8_0 && !VNNI) {
                /* |w| x (a with w's sign): |w| <= 128 as u8, products exact in int16 pairs */
                const __m512i sa = _mm512_mask_sub_epi8(a, _mm512_movepi8_mask(u[r]), _mm512_setzero_si512(), a);
                p = _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_abs_epi8(u[r]), sa), _mm512_set1_epi16(1));
            } else {
                p = dot4(u[r], a);
            }
            if (sh) p = _mm512_sub_epi32(p, corr);
            acc[r][i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(dw[r], da), acc[r][i]);
            if (t == TCA_TYPE_Q4_1) {
                accm[r][i] += mw[r][0] * f16_at(x0 + offsetof(tca_block_q8_1, s));
                if (two) accm[r][i] += mw[r][1] * f16_at(x1 + offsetof(tca_block_q8_1, s));
            }
        }
    }
}

/* Four consecutive blocks of a nibble type (Q4_0, Q4_1, Q5_0) per step (nblk < 4: the first
 * nblk, the rest zero and not read): the low nibbles of the four blocks share one ZMM (16 bytes
 * each), the high nibbles another, and the activation halves are gathered to match, so the
 * integer dot is two vpdpbusd (or two vpmaddubsw, an int16 add (< 2 * 2 * 31 * 127) and one
 * vpmaddwd) per weight row and activation row, giving 4 int32 lanes per block, and one convert,
 * scale and FMA serve all four blocks. */
AI __m512i load4x16(const uint8_t *p, size_t stride, int nblk) {
    __m512i z = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)p));
    if (nblk < 4) z = _mm512_zextsi128_si512(_mm_loadu_si128((const __m128i *)p));
    if (nblk > 1) z = _mm512_inserti32x4(z, _mm_loadu_si128((const __m128i *)(p + stride)), 1);
    if (nblk > 2) z = _mm512_inserti32x4(z, _mm_loadu_si128((const __m128i *)(p + 2 * stride)), 2);
    if (nblk > 3) z = _mm512_inserti32x4(z, _mm_loadu_si128((const __m128i *)(p + 3 * stride)), 3);
    return z;
}

/* up to 4 f16 values at p, p + stride, ... -> f32 lanes [v0 x4 | v1 x4 | v2 x4 | v3 x4] */
AI __m512 f16x4_x4(const uint8_t *p, size_t stride, int nblk) {
    uint16_t h[4] = {0, 0, 0, 0};
    for (int k = 0; k < nblk; k++) memcpy(&h[k], p + k * stride, 2);
    uint64_t bits;
    memcpy(&bits, h, 8);
    const __m512 v = _mm512_castps128_ps512(_mm_cvtph_ps(_mm_cvtsi64_si128((long long)bits)));
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), v);
}

AI void legacy_step4(int t, int R, int M, int nblk, const uint8_t *w, size_t ws, const uint8_t *x, size_t xs,
                     int64_t b, __m512 acc[4][4]) {
    const size_t wb = wblock_bytes(t);
    const size_t xb = t == TCA_TYPE_Q4_1 ? sizeof(tca_block_q8_1) : sizeof(tca_block_q8_0);
    const size_t xq_off = t == TCA_TYPE_Q4_1 ? offsetof(tca_block_q8_1, qs) : offsetof(tca_block_q8_0, qs);
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    const __m512i off8 = _mm512_set1_epi8(t == TCA_TYPE_Q4_0 ? 8 : 16);
    __m512i lo[4], hi[4];
    __m512 dw[4], mw[4];
    UNROLL for (int r = 0; r < R; r++) {
        const uint8_t *b0 = w + (size_t)r * ws + (size_t)b * wb;
        PREFETCH_AHEAD(b0, (size_t)nblk * wb);
        PREFETCH_NEXT(b0, (size_t)nblk * wb, (size_t)R * ws);
        const __m512i v = load4x16(b0 + wq_off(t), wb, nblk);
        lo[r] = _mm512_and_si512(v, m4);
        hi[r] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        if (t == TCA_TYPE_Q5_0) {
            uint64_t ml = 0, mh = 0; /* bit 4 of elements 0..15 / 16..31, 16 bits per block */
            for (int k = 0; k < nblk; k++) {
                uint32_t qh;
                memcpy(&qh, b0 + k * wb + offsetof(tca_block_q5_0, qh), 4);
                ml |= (uint64_t)(qh & 0xffffu) << (16 * k);
                mh |= (uint64_t)(qh >> 16) << (16 * k);
            }
            /* the masks select bytes, and byte e of a 16-byte lane is element e of its half */
            lo[r] = _mm512_or_si512(lo[r], _mm512_maskz_mov_epi8(ml, _mm512_set1_epi8(0x10)));
            hi[r] = _mm512_or_si512(hi[r], _mm512_maskz_mov_epi8(mh, _mm512_set1_epi8(0x10)));
        }
        dw[r] = f16x4_x4(b0, wb, nblk);
        if (t == TCA_TYPE_Q4_1) mw[r] = f16x4_x4(b0 + offsetof(tca_block_q4_1, m), wb, nblk);
    }
    UNROLL for (int i = 0; i < M; i++) {
        const uint8_t *x0 = x + (size_t)i * xs + (size_t)b * xb;
        const __m512i alo = load4x16(x0 + xq_off, xb, nblk);
        const __m512i ahi = load4x16(x0 + xq_off + 16, xb, nblk);
        const __m512 da = f16x4_x4(x0, xb, nblk);
        __m512i corr = _mm512_setzero_si512();
        __m512 sv = _mm512_setzero_ps();
        if (t != TCA_TYPE_Q4_1) {
#if VNNI
            corr = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), off8, alo), off8, ahi);
#else
            corr = _mm512_madd_epi16(_mm512_add_epi16(_mm512_maddubs_epi16(off8, alo), _mm512_maddubs_epi16(off8, ahi)),
                                     _mm512_set1_epi16(1));
#endif
        } else { /* s of each block in the first of its 4 lanes: the min term enters once */
            sv = _mm512_maskz_mov_ps(0x1111, f16x4_x4(x0 + offsetof(tca_block_q8_1, s), xb, nblk));
        }
        UNROLL for (int r = 0; r < R; r++) {
#if VNNI
            __m512i p = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo[r], alo), hi[r], ahi);
#else
            __m512i p = _mm512_madd_epi16(_mm512_add_epi16(_mm512_maddubs_epi16(lo[r], alo), _mm512_maddubs_epi16(hi[r], ahi)),
                                          _mm512_set1_epi16(1));
#endif
            if (t != TCA_TYPE_Q4_1) p = _mm512_sub_epi32(p, corr);
            acc[r][i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(dw[r], da), acc[r][i]);
            if (t == TCA_TYPE_Q4_1) acc[r][i] = _mm512_fmadd_ps(mw[r], sv, acc[r][i]);
        }
    }
}

AI void legacy_tile(int t, int R, int M, const uint8_t *w, size_t ws, const uint8_t *x, size_t xs,
                    float *y, int64_t ldy, int64_t n) {
    __m512 acc[4][4];
    float accm[4][4];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < M; i++) {
        acc[r][i] = _mm512_setzero_ps();
        accm[r][i] = 0.0f;
    }
    const int64_t nb = n / TCA_QK;
    int64_t b = 0;
    if (t == TCA_TYPE_Q8_0) {
        for (; b + 2 <= nb; b += 2) legacy_step(t, R, M, 1, w, ws, x, xs, b, acc, accm);
        if (b < nb) legacy_step(t, R, M, 0, w, ws, x, xs, b, acc, accm);
    } else {
        for (; b + 4 <= nb; b += 4) legacy_step4(t, R, M, 4, w, ws, x, xs, b, acc);
        for (; b < nb; b++) legacy_step4(t, R, M, 1, w, ws, x, xs, b, acc);
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < M; i++)
        y[i * ldy + r] = _mm512_reduce_add_ps(acc[r][i]) + accm[r][i];
}

#define Q4_0_BODY(R, M, ...) legacy_tile(TCA_TYPE_Q4_0, R, M, __VA_ARGS__)
#define Q4_1_BODY(R, M, ...) legacy_tile(TCA_TYPE_Q4_1, R, M, __VA_ARGS__)
#define Q5_0_BODY(R, M, ...) legacy_tile(TCA_TYPE_Q5_0, R, M, __VA_ARGS__)
#define Q8_0_BODY(R, M, ...) legacy_tile(TCA_TYPE_Q8_0, R, M, __VA_ARGS__)
TCA_TILE_SET(tiles_q4_0, Q4_0_BODY)
TCA_TILE_SET(tiles_q4_1, Q4_1_BODY)
TCA_TILE_SET(tiles_q5_0, Q5_0_BODY)
TCA_TILE_SET(tiles_q8_0, Q8_0_BODY)

/* ---- K types -------------------------------------------------------------------------------- */

/* Q4_K/Q5_K: the 8 scales as int16 lanes 0..7 of a ZMM, the 8 mins duplicated to pair with the
 * 16 bsums (m0 m0 m1 m1 ... m7 m7) in a YMM */
AI void q4k_scales(const uint8_t *p, __m512i *sc, __m256i *mins) {
    uint32_t s0, s1, s2;
    memcpy(&s0, p, 4);
    memcpy(&s1, p + 4, 4);
    memcpy(&s2, p + 8, 4);
    const uint32_t sc_lo = s0 & 0x3f3f3f3fu, sc_hi = (s2 & 0x0f0f0f0fu) | ((s0 >> 2) & 0x30303030u);
    const uint32_t m_lo = s1 & 0x3f3f3f3fu, m_hi = ((s2 >> 4) & 0x0f0f0f0fu) | ((s1 >> 2) & 0x30303030u);
    const __m128i sc16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)((uint64_t)sc_hi << 32 | sc_lo)));
    const __m128i m16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)((uint64_t)m_hi << 32 | m_lo)));
    *sc = _mm512_castsi128_si512(sc16);
    *mins = _mm256_set_m128i(_mm_unpackhi_epi16(m16, m16), _mm_unpacklo_epi16(m16, m16));
}

/* int16 lanes: 16 x s[j0] then 16 x s[j0 + 1] (two 32-element sub-blocks) */
AI __m512i scales_2x16(__m512i s, int j0) {
    const __m512i idx = _mm512_mask_blend_epi16(0xffff0000u, _mm512_set1_epi16((short)j0), _mm512_set1_epi16((short)(j0 + 1)));
    return _mm512_permutexvar_epi16(idx, s);
}

/* int16 lanes: 8 x s[j0], 8 x s[j0 + 1], 8 x s[j0 + 2], 8 x s[j0 + 3] (four 16-element ones) */
AI __m512i scales_4x8(__m512i s, int j0) {
    const __m512i idx = _mm512_add_epi16(_mm512_set1_epi16((short)j0),
                                         _mm512_set_epi64(0x0003000300030003ll, 0x0003000300030003ll, 0x0002000200020002ll,
                                                          0x0002000200020002ll, 0x0001000100010001ll, 0x0001000100010001ll, 0, 0));
    return _mm512_permutexvar_epi16(idx, s);
}

AI size_t kblock_bytes(int t) {
    return t == TCA_TYPE_Q4_K ? sizeof(tca_block_q4_K) : t == TCA_TYPE_Q5_K ? sizeof(tca_block_q5_K)
                                                                             : sizeof(tca_block_q6_K);
}

AI void k_tile(int t, int R, int M, const uint8_t *w, size_t ws, const uint8_t *x, size_t xs,
               float *y, int64_t ldy, int64_t n) {
    const size_t wb = kblock_bytes(t), xb = sizeof(tca_block_q8_K);
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    __m512 acc[4][4];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < M; i++) acc[r][i] = _mm512_setzero_ps();
    for (int64_t b = 0; b < n / TCA_QK_K; b++) {
        const uint8_t *blk[4];
        __m512i sc[4], isum[4][4];
        __m256i mins[4];
        UNROLL for (int r = 0; r < R; r++) {
            blk[r] = w + (size_t)r * ws + (size_t)b * wb;
            PREFETCH_AHEAD(blk[r], wb);
            PREFETCH_NEXT(blk[r], wb, (size_t)R * ws);
            if (t == TCA_TYPE_Q6_K) {
                const __m128i s8 = _mm_loadu_si128((const __m128i *)(blk[r] + offsetof(tca_block_q6_K, scales)));
                mins[r] = _mm256_cvtepi8_epi16(s8); /* for the -32 offset: sum_g sc_g bsum_g */
                sc[r] = _mm512_castsi256_si512(mins[r]);
            } else {
                q4k_scales(blk[r] + (t == TCA_TYPE_Q4_K ? offsetof(tca_block_q4_K, scales) : offsetof(tca_block_q5_K, scales)),
                           &sc[r], &mins[r]);
            }
            UNROLL for (int i = 0; i < M; i++) isum[r][i] = _mm512_setzero_si512();
        }
        const uint8_t *xq[4];
        UNROLL for (int i = 0; i < M; i++) xq[i] = x + (size_t)i * xs + (size_t)b * xb + offsetof(tca_block_q8_K, qs);
        if (t == TCA_TYPE_Q6_K) {
            UNROLL for (int h = 0; h < 2; h++) {
                __m512i u[4][2], scv[4][2];
                UNROLL for (int r = 0; r < R; r++) {
                    const uint8_t *ql = blk[r] + offsetof(tca_block_q6_K, ql) + 64 * h;
                    const __m512i l = _mm512_loadu_si512(ql); /* [l0 | l1], 32 bytes each */
                    const __m512i qh = _mm512_broadcast_i64x4(
                        _mm256_loadu_si256((const __m256i *)(blk[r] + offsetof(tca_block_q6_K, qh) + 32 * h)));
                    const __m512i m30 = _mm512_set1_epi8(0x30);
                    const long long w2 = 0x0002000200020002ll, w4 = 0x0004000400040004ll; /* 16-bit counts */
                    /* chunks s = 0 (lower 256 bits) and 1: low nibbles of l0 / l1, qh bits 0-1 / 2-3 */
                    u[r][0] = _mm512_or_si512(_mm512_and_si512(l, m4),
                                              _mm512_and_si512(_mm512_sllv_epi16(qh, _mm512_set_epi64(w2, w2, w2, w2, w4, w4, w4, w4)), m30));
                    /* chunks s = 2 and 3: high nibbles, qh bits 4-5 / 6-7 */
                    u[r][1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
                                              _mm512_and_si512(_mm512_srlv_epi16(qh, _mm512_set_epi64(w2, w2, w2, w2, 0, 0, 0, 0)), m30));
                    scv[r][0] = scales_4x8(sc[r], 8 * h);
                    scv[r][1] = scales_4x8(sc[r], 8 * h + 4);
                }
                UNROLL for (int p = 0; p < 2; p++) UNROLL for (int i = 0; i < M; i++) {
                    const __m512i a = _mm512_loadu_si512(xq[i] + 128 * h + 64 * p);
                    UNROLL for (int r = 0; r < R; r++) isum[r][i] = dot_scaled(isum[r][i], u[r][p], a, scv[r][p]);
                }
            }
        } else {
            UNROLL for (int c = 0; c < 4; c++) {
                __m512i u[4], scv[4];
                UNROLL for (int r = 0; r < R; r++) {
                    const uint8_t *qs = blk[r] + (t == TCA_TYPE_Q4_K ? offsetof(tca_block_q4_K, qs) : offsetof(tca_block_q5_K, qs));
                    const __m512i q = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(qs + 32 * c)));
                    /* low nibbles (sub-block 2c) in the lower 256 bits, high (2c + 1) above */
                    u[r] = _mm512_and_si512(_mm512_srlv_epi16(q, _mm512_set_epi64(0x0004000400040004ll, 0x0004000400040004ll,
                                                                               0x0004000400040004ll, 0x0004000400040004ll, 0, 0, 0, 0)),
                                            m4);
                    if (t == TCA_TYPE_Q5_K) { /* bit j of qh[l] is bit 4 of element 32j + l */
                        const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(blk[r] + offsetof(tca_block_q5_K, qh))));
                        const __m512i cnt = _mm512_mask_blend_epi16(0xffff0000u, _mm512_set1_epi16((short)(2 * c)),
                                                                    _mm512_set1_epi16((short)(2 * c + 1)));
                        const __m512i hb = _mm512_and_si512(_mm512_srlv_epi16(qh, cnt), _mm512_set1_epi8(1));
                        u[r] = _mm512_or_si512(u[r], _mm512_slli_epi16(hb, 4));
                    }
                    scv[r] = scales_2x16(sc[r], 2 * c);
                }
                UNROLL for (int i = 0; i < M; i++) {
                    const __m512i a = _mm512_loadu_si512(xq[i] + 64 * c);
                    UNROLL for (int r = 0; r < R; r++) isum[r][i] = dot_scaled(isum[r][i], u[r], a, scv[r]);
                }
            }
        }
        UNROLL for (int i = 0; i < M; i++) {
            const uint8_t *xblk = x + (size_t)i * xs + (size_t)b * xb;
            const float dx = f32_at(xblk + offsetof(tca_block_q8_K, d));
            const __m256i bsums = _mm256_loadu_si256((const __m256i *)(xblk + offsetof(tca_block_q8_K, bsums)));
            UNROLL for (int r = 0; r < R; r++) {
                const __m512i ms = _mm512_zextsi256_si512(_mm256_madd_epi16(bsums, mins[r]));
                if (t == TCA_TYPE_Q6_K) {
                    const __m512i is = _mm512_sub_epi32(isum[r][i], _mm512_slli_epi32(ms, 5));
                    const float d = f16_at(blk[r] + offsetof(tca_block_q6_K, d));
                    acc[r][i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(is), _mm512_set1_ps(d * dx), acc[r][i]);
                } else {
                    const size_t od = t == TCA_TYPE_Q4_K ? offsetof(tca_block_q4_K, d) : offsetof(tca_block_q5_K, d);
                    const size_t odm = t == TCA_TYPE_Q4_K ? offsetof(tca_block_q4_K, dmin) : offsetof(tca_block_q5_K, dmin);
                    acc[r][i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[r][i]), _mm512_set1_ps(f16_at(blk[r] + od) * dx), acc[r][i]);
                    acc[r][i] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(ms), _mm512_set1_ps(f16_at(blk[r] + odm) * dx), acc[r][i]);
                }
            }
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < M; i++) y[i * ldy + r] = _mm512_reduce_add_ps(acc[r][i]);
}

#define Q4_K_BODY(R, M, ...) k_tile(TCA_TYPE_Q4_K, R, M, __VA_ARGS__)
#define Q5_K_BODY(R, M, ...) k_tile(TCA_TYPE_Q5_K, R, M, __VA_ARGS__)
#define Q6_K_BODY(R, M, ...) k_tile(TCA_TYPE_Q6_K, R, M, __VA_ARGS__)
TCA_TILE_SET(tiles_q4_K, Q4_K_BODY)
TCA_TILE_SET(tiles_q5_K, Q5_K_BODY)
TCA_TILE_SET(tiles_q6_K, Q6_K_BODY)

/* ---- F32 / F16 weights: 16 lanes, masked tails -------------------------------------------- */

AI __m512 ld16w(int t, const uint8_t *p, __mmask16 k) {
    return t == TCA_TYPE_F16 ? _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, p)) : _mm512_maskz_loadu_ps(k, p);
}

AI void f_tile(int t, int R, int M, const uint8_t *w, size_t ws, const uint8_t *x, size_t xs, float *y,
               int64_t ldy, int64_t n) {
    const int es = t == TCA_TYPE_F16 ? 2 : 4;
    __m512 acc[4][4];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < M; i++) acc[r][i] = _mm512_setzero_ps();
    for (int64_t k = 0; k < n; k += 16) {
        const __mmask16 km = n - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - k)) - 1);
        __m512 wv[4];
        UNROLL for (int r = 0; r < R; r++) wv[r] = ld16w(t, w + (size_t)r * ws + (size_t)k * es, km);
        UNROLL for (int i = 0; i < M; i++) {
            const __m512 xv = _mm512_maskz_loadu_ps(km, x + (size_t)i * xs + (size_t)k * 4);
            UNROLL for (int r = 0; r < R; r++) acc[r][i] = _mm512_fmadd_ps(wv[r], xv, acc[r][i]);
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < M; i++) y[i * ldy + r] = _mm512_reduce_add_ps(acc[r][i]);
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

#if VNNI
void REGISTER_FN(tca_quantize_act_fn *quantize_act, tca_qgemm_fn *qgemm) {
#else
static void REGISTER_FN(tca_quantize_act_fn *quantize_act, tca_qgemm_fn *qgemm) {
#endif
    (void)quantize_act; /* the AVX2 quantizers stay */
    qgemm[TCA_TYPE_F32] = qgemm_f32;
    qgemm[TCA_TYPE_F16] = qgemm_f16;
    qgemm[TCA_TYPE_Q4_0] = qgemm_q4_0;
    qgemm[TCA_TYPE_Q4_1] = qgemm_q4_1;
    qgemm[TCA_TYPE_Q5_0] = qgemm_q5_0;
    /* Q8_0 stays with the AVX2 kernel: measured faster on a Sapphire Rapids core (decode
     * 20.9 vs 16.5 GB/s in cache, m = 64: 24.1 vs 21.8 GMAC/s) */
    (void)qgemm_q8_0;
    qgemm[TCA_TYPE_Q4_K] = qgemm_q4_K;
    qgemm[TCA_TYPE_Q5_K] = qgemm_q5_K;
    qgemm[TCA_TYPE_Q6_K] = qgemm_q6_K;
}

#if !VNNI
/* The AVX-512 level, with its VNNI sub-level when it was built (TCA_HAVE_AVX512VNNI, set by
 * simd/meson.build) and the CPU has avx512vnni. TCA_AVX512VNNI=0 in the environment keeps the
 * plain AVX-512 kernels (the kernel tests run both). */
void tca_matmul_avx512_register(tca_quantize_act_fn *quantize_act, tca_qgemm_fn *qgemm) {
    register_avx512(quantize_act, qgemm);
#if TCA_HAVE_AVX512VNNI
    const char *env = getenv("TCA_AVX512VNNI");
    if (tca_cpu_detect()->avx512vnni && !(env && strcmp(env, "0") == 0)) tca_matmul_avx512vnni_register(quantize_act, qgemm);
#endif
}
#endif
