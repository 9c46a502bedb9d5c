/* AArch64 NEON TCA selection kernels (contract: select.h; arithmetic: ref/select_ref.c).
 *
 * The scheme of x86/select_avx512.c with 4-lane vectors and 32 registers:
 * score_dot: keys widened once (vcvt_f32_f16) into a 16 KiB tile, register blocks of RB = 4 rows
 *   x KB = 4 keys (16 accumulators, 4 q vectors and one key vector at a time), each row's 4
 *   accumulators reduced to its 4 contiguous scores by two pairwise adds.
 * group_softmax_mean: softmax_neon's passes (exp_neon.h, the sum in double, tails through a
 *   -inf-padded vector so every element goes through the same exp) per row; the normalising pass
 *   adds the row into a, rows ascending, as the reference.
 * eff_count: a log a with the logf below (no SLEEF in the aarch64 cross build), summed in double.
 * topk: rank counting over 4 candidates per vector; the kept lanes become a bit mask whose bits
 *   give the indices in ascending order. Comparisons only: identical to ref.
 * gather_rows: 16-half pieces (d is a multiple of 16), each loaded before it is stored (safe for
 *   in-place compaction, dst <= src). */
#include <arm_neon.h>
#include <math.h>
#include <string.h>

#include "arm/exp_neon.h"
#include "arm/select_neon.h"
#include "kernels.h"
#include "ref/select_ref.h"

#define TILE_F 4096 /* floats in the widened key tile */
#define KB 4        /* keys per register block */
#define RB 4        /* query rows per register block */

/* Natural log of x > 0 (finite; results for x <= 0 are meaningless and masked by the caller).
 * Cephes logf: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(m) = f - f^2/2 + f^3 P(f) with
 * f = m - 1, plus e ln2 with ln2 in two parts; relative error ~1e-7. Subnormals are scaled by
 * 2^25 first so that the exponent field gives e. */
static inline float32x4_t log_neon(float32x4_t x) {
    const uint32x4_t sub = vcltq_f32(x, vdupq_n_f32(0x1p-126f));
    x = vbslq_f32(sub, vmulq_f32(x, vdupq_n_f32(0x1p25f)), x);
    const int32x4_t bits = vreinterpretq_s32_f32(x);
    int32x4_t e = vsubq_s32(vshrq_n_s32(bits, 23), vdupq_n_s32(126)); /* x = m 2^e, m in [0.5, 1) */
    e = vsubq_s32(e, vandq_s32(vreinterpretq_s32_u32(sub), vdupq_n_s32(25)));
    float32x4_t m = vreinterpretq_f32_s32(vorrq_s32(vandq_s32(bits, vdupq_n_s32(0x007fffff)), vdupq_n_s32(0x3f000000)));
    /* m < sqrt(1/2): use 2m (e - 1) so that f = m - 1 stays in [-0.29, 0.41) */
    const uint32x4_t lo = vcltq_f32(m, vdupq_n_f32(0.707106781186547524f));
    e = vaddq_s32(e, vreinterpretq_s32_u32(lo)); /* the mask is -1 */
    const float32x4_t f = vsubq_f32(vbslq_f32(lo, vaddq_f32(m, m), m), vdupq_n_f32(1.0f));
    const float32x4_t z = vmulq_f32(f, f), fe = vcvtq_f32_s32(e);
    float32x4_t p = vdupq_n_f32(7.0376836292e-2f);
    p = vfmaq_f32(vdupq_n_f32(-1.1514610310e-1f), p, f);
    p = vfmaq_f32(vdupq_n_f32(1.1676998740e-1f), p, f);
    p = vfmaq_f32(vdupq_n_f32(-1.2420140846e-1f), p, f);
    p = vfmaq_f32(vdupq_n_f32(1.4249322787e-1f), p, f);
    p = vfmaq_f32(vdupq_n_f32(-1.6668057665e-1f), p, f);
    p = vfmaq_f32(vdupq_n_f32(2.0000714765e-1f), p, f);
    p = vfmaq_f32(vdupq_n_f32(-2.4999993993e-1f), p, f);
    p = vfmaq_f32(vdupq_n_f32(3.3333331174e-1f), p, f);
    float32x4_t y = vmulq_f32(vmulq_f32(p, f), z);
    y = vfmaq_f32(y, fe, vdupq_n_f32(-2.12194440e-4f));
    y = vfmsq_f32(y, z, vdupq_n_f32(0.5f));
    return vfmaq_f32(vaddq_f32(f, y), fe, vdupq_n_f32(0.693359375f));
}

/* Scores of R rows against the nkp (a multiple of KB) widened keys kt[j * d + c]; the first nk
 * are stored to out[r * ldo + j]. */
static inline __attribute__((always_inline)) void score_block(const float *q, int64_t ldq, const float *kt, int d,
                                                              int64_t nkp, int64_t nk, float scale, float *out,
                                                              int64_t ldo, const int R) {
    for (int64_t jb = 0; jb < nkp; jb += KB) {
        float32x4_t acc[RB][KB];
        for (int r = 0; r < R; r++)
            for (int t = 0; t < KB; t++) acc[r][t] = vdupq_n_f32(0.0f);
        const float *kb = kt + jb * d;
        for (int c = 0; c < d; c += 4) {
            float32x4_t qv[RB];
            for (int r = 0; r < R; r++) qv[r] = vld1q_f32(q + r * ldq + c);
            for (int t = 0; t < KB; t++) {
                const float32x4_t kv = vld1q_f32(kb + t * d + c);
                for (int r = 0; r < R; r++) acc[r][t] = vfmaq_f32(acc[r][t], qv[r], kv);
            }
        }
        for (int r = 0; r < R; r++) {
            const float32x4_t s = vmulq_n_f32(
                vpaddq_f32(vpaddq_f32(acc[r][0], acc[r][1]), vpaddq_f32(acc[r][2], acc[r][3])), scale);
            if (jb + KB <= nk) {
                vst1q_f32(out + r * ldo + jb, s);
            } else {
                float t[KB];
                vst1q_f32(t, s);
                memcpy(out + r * ldo + jb, t, (size_t)(nk - jb) * sizeof *t);
            }
        }
    }
}

static void score_dot_neon(const float *q, int64_t ldq, int nq, const tca_f16 *k, int64_t ldk, int64_t n, int d,
                           float scale, float *out, int64_t ldo) {
    if (d > TILE_F / KB) {
        tca_score_dot_ref(q, ldq, nq, k, ldk, n, d, scale, out, ldo);
        return;
    }
    _Alignas(16) float kt[TILE_F]; /* kt[j * d + c] = K[j0 + j][c] */
    const int64_t tk = (TILE_F / d) / KB * KB; /* keys per tile */
    for (int64_t j0 = 0; j0 < n; j0 += tk) {
        const int64_t nk = n - j0 < tk ? n - j0 : tk, nkp = (nk + KB - 1) / KB * KB;
        for (int64_t j = 0; j < nkp; j++)
            for (int c = 0; c < d; c += 4)
                vst1q_f32(kt + j * d + c, j < nk ? vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(k + (j0 + j) * ldk + c)))
                                                 : vdupq_n_f32(0.0f));
        int r = 0;
        for (; r + RB <= nq; r += RB) score_block(q + r * ldq, ldq, kt, d, nkp, nk, scale, out + r * ldo + j0, ldo, RB);
        switch (nq - r) {
        case 3: score_block(q + r * ldq, ldq, kt, d, nkp, nk, scale, out + r * ldo + j0, ldo, 3); break;
        case 2: score_block(q + r * ldq, ldq, kt, d, nkp, nk, scale, out + r * ldo + j0, ldo, 2); break;
        case 1: score_block(q + r * ldq, ldq, kt, d, nkp, nk, scale, out + r * ldo + j0, ldo, 1); break;
        default: break;
        }
    }
}

/* Turns row x[0 .. n) into exp(x - max) and returns 1 / sum, rounded once to f32. */
static float exp_row(float *x, int64_t n) {
    float mx = x[0];
    int64_t i = 0;
    if (n >= 4) {
        float32x4_t vmx = vld1q_f32(x);
        for (i = 4; i + 4 <= n; i += 4) vmx = vmaxq_f32(vmx, vld1q_f32(x + i));
        mx = vmaxvq_f32(vmx);
    }
    for (; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    const float32x4_t vm = vdupq_n_f32(mx);
    float64x2_t s0 = vdupq_n_f64(0.0), s1 = vdupq_n_f64(0.0);
    for (i = 0; i + 4 <= n; i += 4) {
        const float32x4_t e = tca_exp_neon(vsubq_f32(vld1q_f32(x + i), vm));
        s0 = vaddq_f64(s0, vcvt_f64_f32(vget_low_f32(e)));
        s1 = vaddq_f64(s1, vcvt_high_f64_f32(e));
        vst1q_f32(x + i, e);
    }
    double sum = vaddvq_f64(vaddq_f64(s0, s1));
    if (i < n) {
        float t[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY}; /* padding: exp(-inf) = 0 */
        memcpy(t, x + i, (size_t)(n - i) * sizeof *x);
        vst1q_f32(t, tca_exp_neon(vsubq_f32(vld1q_f32(t), vm)));
        for (int64_t c = 0; c < n - i; c++) sum += t[c];
        memcpy(x + i, t, (size_t)(n - i) * sizeof *x);
    }
    return (float)(1.0 / sum);
}

static void group_softmax_mean_neon(float *s, int64_t lds, int nq, int64_t n, float *a) {
    const float inq = 1.0f / (float)nq;
    for (int r = 0; r < nq; r++) {
        float *x = s + r * lds;
        const float inv = exp_row(x, n);
        const int first = r == 0, last = r == nq - 1;
        int64_t i = 0;
        for (; i + 4 <= n; i += 4) {
            const float32x4_t p = vmulq_n_f32(vld1q_f32(x + i), inv);
            vst1q_f32(x + i, p);
            float32x4_t acc = first ? p : vaddq_f32(vld1q_f32(a + i), p);
            if (last) acc = vmulq_n_f32(acc, inq);
            vst1q_f32(a + i, acc);
        }
        for (; i < n; i++) { /* the same roundings, one element at a time */
            const float p = x[i] * inv;
            x[i] = p;
            float acc = first ? p : a[i] + p;
            if (last) acc *= inq;
            a[i] = acc;
        }
    }
}

static float eff_count_neon(const float *a, int64_t n) {
    float64x2_t h0 = vdupq_n_f64(0.0), h1 = vdupq_n_f64(0.0);
    for (int64_t i = 0; i < n; i += 4) {
        float32x4_t v;
        if (i + 4 <= n) {
            v = vld1q_f32(a + i);
        } else {
            float t[4] = {0.0f, 0.0f, 0.0f, 0.0f}; /* padding: a = 0 contributes nothing */
            memcpy(t, a + i, (size_t)(n - i) * sizeof *t);
            v = vld1q_f32(t);
        }
        const uint32x4_t pos = vcgtq_f32(v, vdupq_n_f32(0.0f));
        const float32x4_t t = vreinterpretq_f32_u32(vandq_u32(pos, vreinterpretq_u32_f32(vmulq_f32(v, log_neon(v)))));
        h0 = vaddq_f64(h0, vcvt_f64_f32(vget_low_f32(t)));
        h1 = vaddq_f64(h1, vcvt_high_f64_f32(t));
    }
    return (float)exp(-vaddvq_f64(vaddq_f64(h0, h1)));
}

static void topk_neon(const float *a, int n, int k, int32_t *idx) {
    static const uint32_t lane_init[4] = {0, 1, 2, 3}, bit_init[4] = {1, 2, 4, 8};
    const uint32x4_t lane = vld1q_u32(lane_init), bit = vld1q_u32(bit_init), vk = vdupq_n_u32((uint32_t)k);
    int c = 0;
    for (int jb = 0; jb < n; jb += 4) {
        float t[4] = {0.0f, 0.0f, 0.0f, 0.0f}; /* lanes past n are never kept */
        memcpy(t, a + jb, (size_t)(n - jb < 4 ? n - jb : 4) * sizeof *t);
        const float32x4_t aj = vld1q_f32(t);
        const uint32x4_t j = vaddq_u32(lane, vdupq_n_u32((uint32_t)jb));
        const uint32x4_t valid = vcltq_u32(j, vdupq_n_u32((uint32_t)n));
        uint32x4_t rank = vdupq_n_u32(0);
        for (int i = 0; i < n; i++) {
            const float32x4_t ai = vdupq_n_f32(a[i]);
            const uint32x4_t before = vcgtq_u32(j, vdupq_n_u32((uint32_t)i)); /* i < j */
            const uint32x4_t ahead = vorrq_u32(vcgtq_f32(ai, aj), vandq_u32(before, vceqq_f32(ai, aj)));
            rank = vsubq_u32(rank, ahead); /* the mask is -1 */
        }
        unsigned bits = vaddvq_u32(vandq_u32(vandq_u32(valid, vcltq_u32(rank, vk)), bit));
        for (; bits; bits &= bits - 1) idx[c++] = jb + __builtin_ctz(bits);
    }
}

static void gather_rows_neon(const tca_f16 *src, int64_t lds, const int32_t *idx, int k, int d, tca_f16 *dst,
                             int64_t ldd) {
    for (int i = 0; i < k; i++) {
        const tca_f16 *s = src + idx[i] * lds;
        tca_f16 *t = dst + i * ldd;
        if (s == t) continue; /* in place and already there */
        for (int c = 0; c < d; c += 16) {
            const uint16x8_t v0 = vld1q_u16(s + c), v1 = vld1q_u16(s + c + 8);
            vst1q_u16(t + c, v0);
            vst1q_u16(t + c + 8, v1);
        }
    }
}

void tca_select_register_neon(tca_kernels *k) {
    k->score_dot = score_dot_neon;
    k->group_softmax_mean = group_softmax_mean_neon;
    k->eff_count = eff_count_neon;
    k->topk = topk_neon;
    k->gather_rows = gather_rows_neon;
}
