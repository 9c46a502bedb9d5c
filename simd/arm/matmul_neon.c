/* AArch64 NEON quantized products (contract: matmul.h; arithmetic: ref/matmul_ref.c).
 *
 * Plain ARMv8-A (no dot-product extension), so it runs on every AArch64 core and under
 * qemu-aarch64: 8 x 8-bit products with vmull_s8 (each at most 128 * 127, exact in int16) and
 * pairwise accumulation into int32 lanes with vpadalq_s16. Weights are unpacked to signed bytes
 * with the format's offset removed in the integer domain (Q4_1/Q4_K/Q5_K stay unsigned 0..31,
 * their offsets are the separate min terms), so no sum correction is needed. K-type sub-block
 * scales multiply the int32 sub-block dot (vmlaq), giving one int32 sum per super-block and one
 * float step, as in the reference; legacy types take one f32 FMA per block. Only the float
 * summation order differs from ref.
 * The activation quantizers are bit-identical to ref: vrndaq_f32 is round-half-away (C's
 * roundf), and the scale is computed with the same scalar f32 operations. */
#include <arm_neon.h>
#include <string.h>

#include "matmul_drive.h"
#include "quant.h"
#include "ref/matmul_ref.h"
#include "arm/matmul_neon.h"

#define AI static inline __attribute__((always_inline))
#define UNROLL _Pragma("GCC unroll 4")
#define RCHUNK 16

AI float f16_at(const uint8_t *p) {
    __fp16 h;
    memcpy(&h, p, 2);
    return (float)h;
}

AI float f32_at(const uint8_t *p) {
    float f;
    memcpy(&f, p, 4);
    return f;
}

AI void st_f16(uint8_t *p, float f) {
    const tca_f16 h = tca_f32_to_f16(f);
    memcpy(p, &h, 2);
}

/* ---- activation quantizers ----------------------------------------------------------------- */

AI float absmax(const float *x, int k) {
    float32x4_t m = vdupq_n_f32(0.0f);
    for (int j = 0; j < k; j += 4) m = vmaxq_f32(m, vabsq_f32(vld1q_f32(x + j)));
    return vmaxvq_f32(m);
}

/* 32 floats times id -> 32 int8 at q; returns their sum */
AI int quant32(const float *x, float id, int8_t *q) {
    int8x16_t out[2];
    for (int h = 0; h < 2; h++) {
        int32x4_t v[4];
        for (int j = 0; j < 4; j++) v[j] = vcvtq_s32_f32(vrndaq_f32(vmulq_f32(vld1q_f32(x + 16 * h + 4 * j), vdupq_n_f32(id))));
        const int16x8_t a = vcombine_s16(vqmovn_s32(v[0]), vqmovn_s32(v[1]));
        const int16x8_t b = vcombine_s16(vqmovn_s32(v[2]), vqmovn_s32(v[3]));
        out[h] = vcombine_s8(vqmovn_s16(a), vqmovn_s16(b));
        vst1q_s8(q + 16 * h, out[h]);
    }
    return vaddlvq_s8(out[0]) + vaddlvq_s8(out[1]);
}

static void quantize_q8_0(const float *x, void *xq, int64_t n) {
    uint8_t *b = xq;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q8_0), x += TCA_QK) {
        const float d = absmax(x, TCA_QK) / 127.0f;
        quant32(x, d != 0.0f ? 1.0f / d : 0.0f, (int8_t *)(b + offsetof(tca_block_q8_0, qs)));
        st_f16(b + offsetof(tca_block_q8_0, d), d);
    }
}

static void quantize_q8_1(const float *x, void *xq, int64_t n) {
    uint8_t *b = xq;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q8_1), x += TCA_QK) {
        const float d = absmax(x, TCA_QK) / 127.0f;
        const int sum = quant32(x, d != 0.0f ? 1.0f / d : 0.0f, (int8_t *)(b + offsetof(tca_block_q8_1, qs)));
        st_f16(b + offsetof(tca_block_q8_1, d), d);
        st_f16(b + offsetof(tca_block_q8_1, s), d * (float)sum);
    }
}

static void quantize_q8_K(const float *x, void *xq, int64_t n) {
    uint8_t *b = xq;
    for (int64_t i = 0; i < n / TCA_QK_K; i++, b += sizeof(tca_block_q8_K), x += TCA_QK_K) {
        const float d = absmax(x, TCA_QK_K) / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        int8_t *q = (int8_t *)(b + offsetof(tca_block_q8_K, qs));
        memcpy(b + offsetof(tca_block_q8_K, d), &d, 4);
        int16_t bs[16];
        for (int k = 0; k < 8; k++) {
            quant32(x + 32 * k, id, q + 32 * k);
            bs[2 * k] = (int16_t)vaddlvq_s8(vld1q_s8(q + 32 * k));
            bs[2 * k + 1] = (int16_t)vaddlvq_s8(vld1q_s8(q + 32 * k + 16));
        }
        memcpy(b + offsetof(tca_block_q8_K, bsums), bs, sizeof bs);
    }
}

/* ---- integer dot of 16 signed bytes, accumulated into 4 int32 lanes -------------------------- */

AI int32x4_t dot16(int32x4_t acc, int8x16_t a, int8x16_t b) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_high_s8(a, b));
}

/* ---- legacy types --------------------------------------------------------------------------- */

/* bit e of the little-endian 32-bit qh -> 0x10 in byte e, for e = 16h .. 16h + 15 */
AI uint8x16_t qh_0x10(uint32_t qh, int h) {
    static const uint8_t idx[2][16] = {{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1},
                                       {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3}};
    static const uint8_t bits[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t bytes = vqtbl1q_u8(vreinterpretq_u8_u32(vdupq_n_u32(qh)), vld1q_u8(idx[h]));
    return vandq_u8(vtstq_u8(bytes, vld1q_u8(bits)), vdupq_n_u8(0x10));
}

AI size_t wblock_bytes(int t) {
    return t == TCA_TYPE_Q4_0 ? sizeof(tca_block_q4_0) : t == TCA_TYPE_Q4_1 ? sizeof(tca_block_q4_1)
         : t == TCA_TYPE_Q5_0 ? sizeof(tca_block_q5_0) : sizeof(tca_block_q8_0);
}

AI void legacy_tile(int t, int R, int M, const uint8_t *w, size_t ws, const uint8_t *x, size_t xs,
                    float *y, int64_t ldy, int64_t n) {
    const size_t wb = wblock_bytes(t);
    const size_t xb = t == TCA_TYPE_Q4_1 ? sizeof(tca_block_q8_1) : sizeof(tca_block_q8_0);
    const size_t xq_off = t == TCA_TYPE_Q4_1 ? offsetof(tca_block_q8_1, qs) : offsetof(tca_block_q8_0, qs);
    const uint8x16_t m4 = vdupq_n_u8(0x0f);
    float32x4_t acc[4][4];
    float accm[4][4];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < M; i++) {
        acc[r][i] = vdupq_n_f32(0.0f);
        accm[r][i] = 0.0f;
    }
    for (int64_t b = 0; b < n / TCA_QK; b++) {
        int8x16_t wl[4], wh[4];
        float dw[4], mw[4];
        UNROLL for (int r = 0; r < R; r++) {
            const uint8_t *blk = w + (size_t)r * ws + (size_t)b * wb;
            dw[r] = f16_at(blk);
            if (t == TCA_TYPE_Q8_0) {
                wl[r] = vld1q_s8((const int8_t *)(blk + offsetof(tca_block_q8_0, qs)));
                wh[r] = vld1q_s8((const int8_t *)(blk + offsetof(tca_block_q8_0, qs)) + 16);
                continue;
            }
            const size_t oq = t == TCA_TYPE_Q4_0 ? offsetof(tca_block_q4_0, qs)
                            : t == TCA_TYPE_Q4_1 ? offsetof(tca_block_q4_1, qs) : offsetof(tca_block_q5_0, qs);
            const uint8x16_t q = vld1q_u8(blk + oq);
            uint8x16_t lo = vandq_u8(q, m4), hi = vshrq_n_u8(q, 4);
            if (t == TCA_TYPE_Q5_0) {
                uint32_t qh;
                memcpy(&qh, blk + offsetof(tca_block_q5_0, qh), 4);
                lo = vorrq_u8(lo, qh_0x10(qh, 0));
                hi = vorrq_u8(hi, qh_0x10(qh, 1));
            }
            if (t == TCA_TYPE_Q4_1) mw[r] = f16_at(blk + offsetof(tca_block_q4_1, m));
            const int8x16_t off = vdupq_n_s8(t == TCA_TYPE_Q4_0 ? 8 : t == TCA_TYPE_Q5_0 ? 16 : 0);
            wl[r] = vsubq_s8(vreinterpretq_s8_u8(lo), off);
            wh[r] = vsubq_s8(vreinterpretq_s8_u8(hi), off);
        }
        UNROLL for (int i = 0; i < M; i++) {
            const uint8_t *xblk = x + (size_t)i * xs + (size_t)b * xb;
            const int8x16_t a0 = vld1q_s8((const int8_t *)(xblk + xq_off));
            const int8x16_t a1 = vld1q_s8((const int8_t *)(xblk + xq_off) + 16);
            const float da = f16_at(xblk);
            const float s = t == TCA_TYPE_Q4_1 ? f16_at(xblk + offsetof(tca_block_q8_1, s)) : 0.0f;
            UNROLL for (int r = 0; r < R; r++) {
                const int32x4_t p = dot16(dot16(vdupq_n_s32(0), wl[r], a0), wh[r], a1);
                acc[r][i] = vfmaq_f32(acc[r][i], vcvtq_f32_s32(p), vdupq_n_f32(dw[r] * da));
                if (t == TCA_TYPE_Q4_1) accm[r][i] += mw[r] * s;
            }
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < M; i++)
        y[i * ldy + r] = vaddvq_f32(acc[r][i]) + accm[r][i];
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

/* the 8 six-bit scales and mins of a Q4_K/Q5_K super-block (layout: ref/dequant_ref.h) */
AI void q4k_scales(const uint8_t *p, uint8_t sc[8], int16x8_t *mins) {
    uint32_t s0, s1, s2;
    memcpy(&s0, p, 4);
    memcpy(&s1, p + 4, 4);
    memcpy(&s2, p + 8, 4);
    const uint32_t v[4] = {s0 & 0x3f3f3f3fu, (s2 & 0x0f0f0f0fu) | ((s0 >> 2) & 0x30303030u), s1 & 0x3f3f3f3fu,
                           ((s2 >> 4) & 0x0f0f0f0fu) | ((s1 >> 2) & 0x30303030u)};
    memcpy(sc, v, 8);
    uint8_t m[8];
    memcpy(m, v + 2, 8);
    *mins = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(m)));
}

AI size_t kblock_bytes(int t) {
    return t == TCA_TYPE_Q4_K ? sizeof(tca_block_q4_K) : t == TCA_TYPE_Q5_K ? sizeof(tca_block_q5_K)
                                                                             : sizeof(tca_block_q6_K);
}

AI void k_tile(int t, int R, int M, const uint8_t *w, size_t ws, const uint8_t *x, size_t xs, float *y,
               int64_t ldy, int64_t n) {
    const size_t wb = kblock_bytes(t), xb = sizeof(tca_block_q8_K);
    const uint8x16_t m4 = vdupq_n_u8(0x0f);
    float32x4_t acc[4][4];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < M; i++) acc[r][i] = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < n / TCA_QK_K; b++) {
        const uint8_t *blk[4];
        uint8_t sc[4][8];
        int16x8_t mins[4];
        int32x4_t isum[4][4];
        UNROLL for (int r = 0; r < R; r++) {
            blk[r] = w + (size_t)r * ws + (size_t)b * wb;
            if (t != TCA_TYPE_Q6_K)
                q4k_scales(blk[r] + (t == TCA_TYPE_Q4_K ? offsetof(tca_block_q4_K, scales) : offsetof(tca_block_q5_K, scales)),
                           sc[r], &mins[r]);
            UNROLL for (int i = 0; i < M; i++) isum[r][i] = vdupq_n_s32(0);
        }
        const int8_t *xq[4];
        UNROLL for (int i = 0; i < M; i++) xq[i] = (const int8_t *)(x + (size_t)i * xs + (size_t)b * xb + offsetof(tca_block_q8_K, qs));
        if (t == TCA_TYPE_Q6_K) {
            for (int h = 0; h < 2; h++)
                for (int k = 0; k < 2; k++) { /* 16-element halves of each 32-element chunk */
                    int8x16_t u[4][4];
                    int scl[4][4];
                    UNROLL for (int r = 0; r < R; r++) {
                        const uint8_t *ql = blk[r] + offsetof(tca_block_q6_K, ql) + 64 * h + 16 * k;
                        const uint8x16_t l0 = vld1q_u8(ql), l1 = vld1q_u8(ql + 32);
                        const uint8x16_t qh = vld1q_u8(blk[r] + offsetof(tca_block_q6_K, qh) + 32 * h + 16 * k);
                        const uint8x16_t m3 = vdupq_n_u8(3);
                        const uint8x16_t v0 = vorrq_u8(vandq_u8(l0, m4), vshlq_n_u8(vandq_u8(qh, m3), 4));
                        const uint8x16_t v1 = vorrq_u8(vandq_u8(l1, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(qh, 2), m3), 4));
                        const uint8x16_t v2 = vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(qh, 4), m3), 4));
                        const uint8x16_t v3 = vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vshrq_n_u8(qh, 6), 4));
                        const int8x16_t off = vdupq_n_s8(32);
                        u[r][0] = vsubq_s8(vreinterpretq_s8_u8(v0), off);
                        u[r][1] = vsubq_s8(vreinterpretq_s8_u8(v1), off);
                        u[r][2] = vsubq_s8(vreinterpretq_s8_u8(v2), off);
                        u[r][3] = vsubq_s8(vreinterpretq_s8_u8(v3), off);
                        const int8_t *scales = (const int8_t *)(blk[r] + offsetof(tca_block_q6_K, scales));
                        UNROLL for (int s = 0; s < 4; s++) scl[r][s] = scales[8 * h + 2 * s + k];
                    }
                    UNROLL for (int s = 0; s < 4; s++) UNROLL for (int i = 0; i < M; i++) {
                        const int8x16_t a = vld1q_s8(xq[i] + 128 * h + 32 * s + 16 * k);
                        UNROLL for (int r = 0; r < R; r++)
                            isum[r][i] = vmlaq_n_s32(isum[r][i], dot16(vdupq_n_s32(0), u[r][s], a), scl[r][s]);
                    }
                }
        } else {
            for (int j = 0; j < 8; j++) {
                int8x16_t u0[4], u1[4];
                UNROLL for (int r = 0; r < R; r++) {
                    const uint8_t *qs = blk[r] + (t == TCA_TYPE_Q4_K ? offsetof(tca_block_q4_K, qs) : offsetof(tca_block_q5_K, qs)) + 32 * (j / 2);
                    uint8x16_t q0 = vld1q_u8(qs), q1 = vld1q_u8(qs + 16);
                    if (j % 2) {
                        q0 = vshrq_n_u8(q0, 4);
                        q1 = vshrq_n_u8(q1, 4);
                    } else {
                        q0 = vandq_u8(q0, m4);
                        q1 = vandq_u8(q1, m4);
                    }
                    if (t == TCA_TYPE_Q5_K) { /* bit j of qh[l] is bit 4 of element 32j + l */
                        const uint8_t *qh = blk[r] + offsetof(tca_block_q5_K, qh);
                        const uint8x16_t bit = vdupq_n_u8((uint8_t)(1u << j)), b4 = vdupq_n_u8(0x10);
                        q0 = vorrq_u8(q0, vandq_u8(vtstq_u8(vld1q_u8(qh), bit), b4));
                        q1 = vorrq_u8(q1, vandq_u8(vtstq_u8(vld1q_u8(qh + 16), bit), b4));
                    }
                    u0[r] = vreinterpretq_s8_u8(q0);
                    u1[r] = vreinterpretq_s8_u8(q1);
                }
                UNROLL for (int i = 0; i < M; i++) {
                    const int8x16_t a0 = vld1q_s8(xq[i] + 32 * j), a1 = vld1q_s8(xq[i] + 32 * j + 16);
                    UNROLL for (int r = 0; r < R; r++)
                        isum[r][i] = vmlaq_n_s32(isum[r][i], dot16(dot16(vdupq_n_s32(0), u0[r], a0), u1[r], a1), sc[r][j]);
                }
            }
        }
        UNROLL for (int i = 0; i < M; i++) {
            const uint8_t *xblk = x + (size_t)i * xs + (size_t)b * xb;
            const float dx = f32_at(xblk + offsetof(tca_block_q8_K, d));
            int16_t bs[16];
            memcpy(bs, xblk + offsetof(tca_block_q8_K, bsums), sizeof bs);
            const int16x8_t bsum8 = vpaddq_s16(vld1q_s16(bs), vld1q_s16(bs + 8)); /* per 32: sums of 2 */
            UNROLL for (int r = 0; r < R; r++) {
                if (t == TCA_TYPE_Q6_K) {
                    const float d = f16_at(blk[r] + offsetof(tca_block_q6_K, d));
                    acc[r][i] = vfmaq_f32(acc[r][i], vcvtq_f32_s32(isum[r][i]), vdupq_n_f32(d * dx));
                } else {
                    const size_t od = t == TCA_TYPE_Q4_K ? offsetof(tca_block_q4_K, d) : offsetof(tca_block_q5_K, d);
                    const size_t odm = t == TCA_TYPE_Q4_K ? offsetof(tca_block_q4_K, dmin) : offsetof(tca_block_q5_K, dmin);
                    const int32x4_t ms = vaddq_s32(vmull_s16(vget_low_s16(bsum8), vget_low_s16(mins[r])),
                                                   vmull_high_s16(bsum8, mins[r]));
                    acc[r][i] = vfmaq_f32(acc[r][i], vcvtq_f32_s32(isum[r][i]), vdupq_n_f32(f16_at(blk[r] + od) * dx));
                    acc[r][i] = vfmsq_f32(acc[r][i], vcvtq_f32_s32(ms), vdupq_n_f32(f16_at(blk[r] + odm) * dx));
                }
            }
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < M; i++) y[i * ldy + r] = vaddvq_f32(acc[r][i]);
}

#define Q4_K_BODY(R, M, ...) k_tile(TCA_TYPE_Q4_K, R, M, __VA_ARGS__)
#define Q5_K_BODY(R, M, ...) k_tile(TCA_TYPE_Q5_K, R, M, __VA_ARGS__)
#define Q6_K_BODY(R, M, ...) k_tile(TCA_TYPE_Q6_K, R, M, __VA_ARGS__)
TCA_TILE_SET(tiles_q4_K, Q4_K_BODY)
TCA_TILE_SET(tiles_q5_K, Q5_K_BODY)
TCA_TILE_SET(tiles_q6_K, Q6_K_BODY)

/* ---- F32 / F16 weights ---------------------------------------------------------------------- */

AI float32x4_t ld4w(int t, const uint8_t *p) {
    if (t == TCA_TYPE_F16) {
        uint16_t h[4];
        memcpy(h, p, 8);
        return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h)));
    }
    float f[4];
    memcpy(f, p, 16);
    return vld1q_f32(f);
}

AI void f_tile(int t, int R, int M, const uint8_t *w, size_t ws, const uint8_t *x, size_t xs, float *y,
               int64_t ldy, int64_t n) {
    const int es = t == TCA_TYPE_F16 ? 2 : 4;
    float32x4_t acc[4][4];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < M; i++) acc[r][i] = vdupq_n_f32(0.0f);
    int64_t k = 0;
    for (; k + 4 <= n; k += 4) {
        float32x4_t wv[4];
        UNROLL for (int r = 0; r < R; r++) wv[r] = ld4w(t, w + (size_t)r * ws + (size_t)k * es);
        UNROLL for (int i = 0; i < M; i++) {
            const float32x4_t xv = ld4w(TCA_TYPE_F32, x + (size_t)i * xs + (size_t)k * 4);
            UNROLL for (int r = 0; r < R; r++) acc[r][i] = vfmaq_f32(acc[r][i], wv[r], xv);
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int i = 0; i < M; i++) {
        float s = vaddvq_f32(acc[r][i]);
        for (int64_t j = k; j < n; j++) {
            const uint8_t *wp = w + (size_t)r * ws + (size_t)j * es;
            s += (t == TCA_TYPE_F16 ? f16_at(wp) : f32_at(wp)) * f32_at(x + (size_t)i * xs + (size_t)j * 4);
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

void tca_matmul_neon_register(tca_quantize_act_fn *quantize_act, tca_qgemm_fn *qgemm) {
    qgemm[TCA_TYPE_F32] = qgemm_f32;
    qgemm[TCA_TYPE_F16] = qgemm_f16;
    qgemm[TCA_TYPE_Q4_0] = qgemm_q4_0;
    qgemm[TCA_TYPE_Q4_1] = qgemm_q4_1;
    qgemm[TCA_TYPE_Q5_0] = qgemm_q5_0;
    qgemm[TCA_TYPE_Q8_0] = qgemm_q8_0;
    qgemm[TCA_TYPE_Q4_K] = qgemm_q4_K;
    qgemm[TCA_TYPE_Q5_K] = qgemm_q5_K;
    qgemm[TCA_TYPE_Q6_K] = qgemm_q6_K;
    quantize_act[TCA_TYPE_Q4_0] = quantize_q8_0;
    quantize_act[TCA_TYPE_Q5_0] = quantize_q8_0;
    quantize_act[TCA_TYPE_Q8_0] = quantize_q8_0;
    quantize_act[TCA_TYPE_Q4_1] = quantize_q8_1;
    quantize_act[TCA_TYPE_Q5_1] = quantize_q8_1;
    quantize_act[TCA_TYPE_Q4_K] = quantize_q8_K;
    quantize_act[TCA_TYPE_Q5_K] = quantize_q8_K;
    quantize_act[TCA_TYPE_Q6_K] = quantize_q8_K;
}
