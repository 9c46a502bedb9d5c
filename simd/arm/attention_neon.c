/* AArch64 NEON flash attention (contract: attention.h; arithmetic: ref/attention_ref.c).
 *
 * The scheme of x86/attention_avx512.c with 4-lane vectors and 32 registers: key tiles of
 * BK = 32 widened once (vcvt_f32_f16; K transposed with 4x4 trn shuffles, V row-major), register
 * blocks of RS = 2 query rows (scores: 2 rows x 8 vectors of keys, the q values taken four at a
 * time with by-lane FMAs; P.V: 2 rows x 32 dimensions), the probabilities through exp_neon.h,
 * masks by bit-select. Calls of at most RD = 6 rows (decode) skip the tile as in the x86 files:
 * dot-product scores straight from the cache's K rows (4 keys x 6 rows of accumulators, pairwise
 * adds for the sums) and V read (widened) inside P.V. Head dimensions above D_MAX go to the
 * reference kernel.
 * attn_accum_f32 is the same code over f32 rows: every step that touches the cache takes a
 * constant F32 flag (its loads: widen 4 halves or load 4 floats), and the bodies are
 * instantiated once per element type.
 * Stack: about 66 KiB. */
#include <arm_neon.h>
#include <math.h>

#include "arm/attention_neon.h"
#include "arm/exp_neon.h"
#include "kernels.h"
#include "ref/attention_ref.h"

#define BK 32     /* keys per tile */
#define VK 8      /* vectors of scores per row: BK / 4 */
#define RS 2      /* query rows per register block */
#define DV 8      /* vectors of the head dimension per P.V register block */
#define D_MAX 256 /* largest head dimension with a tile on the stack */
#define RD 6      /* rows of a decode-shaped call, handled in one block without a tile */

typedef struct {
    _Alignas(16) float kt[D_MAX * BK]; /* kt[c * BK + j] = K[j][c]; zero for j >= tile length */
    _Alignas(16) float v[BK * D_MAX];  /* v[j * d + c] = V[j][c] */
    _Alignas(16) float p[RS * BK];     /* scores, then probabilities, of one row block */
} tile;

/* Elements c .. c + 4 of a cache row as f32: widened from f16, or loaded (F32). */
static inline float32x4_t load_x4(const void *row, int c, const int F32) {
    return F32 ? vld1q_f32((const float *)row + c) : vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const tca_f16 *)row + c)));
}

/* 4x4 transpose: trn pairs of floats, then pairs of doubles. */
static inline void transpose4(float32x4_t r[4]) {
    const float32x4_t t0 = vtrn1q_f32(r[0], r[1]), t1 = vtrn2q_f32(r[0], r[1]);
    const float32x4_t t2 = vtrn1q_f32(r[2], r[3]), t3 = vtrn2q_f32(r[2], r[3]);
    r[0] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    r[1] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
    r[2] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    r[3] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
}

/* Widens nk <= BK rows of K (transposed, zero-padded to BK) and of V into the tile. */
static inline __attribute__((always_inline)) void load_tile(const tca_kv_view *s, int64_t j0, int64_t nk,
                                                            int d, tile *t, const int F32) {
    for (int jb = 0; jb < BK; jb += 4)
        for (int c0 = 0; c0 < d; c0 += 4) {
            float32x4_t r[4];
            for (int i = 0; i < 4; i++)
                r[i] = jb + i < nk ? load_x4(tca_kv_row(s->k, j0 + jb + i, s->ld, F32), c0, F32) : vdupq_n_f32(0.0f);
            transpose4(r);
            for (int i = 0; i < 4; i++) vst1q_f32(t->kt + (c0 + i) * BK + jb, r[i]);
        }
    for (int64_t j = 0; j < nk; j++)
        for (int c0 = 0; c0 < d; c0 += 4)
            vst1q_f32(t->v + j * d + c0, load_x4(tca_kv_row(s->v, j0 + j, s->ld, F32), c0, F32));
}

/* Asks for the K and V rows [j0, j0 + nk) of the next tile while this one is computed: decode is
 * one pass over the cache, and without it each tile's loads would start only once the previous
 * tile's arithmetic ended. Into L2, not L1: a whole tile of cache rows next to the widened tile
 * would evict the latter from L1 (measured: 2x slower decode from a cache-resident head). */
static inline __attribute__((always_inline)) void prefetch_tile(const tca_kv_view *s, int64_t j0, int64_t nk,
                                                                int d, const int F32) {
    const int64_t bytes = (int64_t)d * (F32 ? 4 : 2);
    for (int64_t j = j0; j < j0 + nk; j++) {
        const char *k = tca_kv_row(s->k, j, s->ld, F32), *v = tca_kv_row(s->v, j, s->ld, F32);
        for (int64_t b = 0; b < bytes; b += 64) { /* one 64-byte line at a time */
            __builtin_prefetch(k + b, 0, 2);
            __builtin_prefetch(v + b, 0, 2);
        }
    }
}

/* p[r][0..BK) = q_r . k_j (unscaled) for R rows; d is a multiple of 16, so of 4. */
static inline __attribute__((always_inline)) void scores(const float *q, int64_t ldq, const float *kt,
                                                         int d, float *p, const int R) {
    float32x4_t s[RS][VK];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < VK; v++) s[r][v] = vdupq_n_f32(0.0f);
    for (int c = 0; c < d; c += 4) {
        float32x4_t qv[RS];
        for (int r = 0; r < R; r++) qv[r] = vld1q_f32(q + r * ldq + c);
#define SCORE_LANE(L)                                                                              \
    for (int v = 0; v < VK; v++) {                                                                 \
        const float32x4_t k = vld1q_f32(kt + (c + L) * BK + 4 * v);                                \
        for (int r = 0; r < R; r++) s[r][v] = vfmaq_laneq_f32(s[r][v], k, qv[r], L);               \
    }
        SCORE_LANE(0)
        SCORE_LANE(1)
        SCORE_LANE(2)
        SCORE_LANE(3)
#undef SCORE_LANE
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < VK; v++) vst1q_f32(p + r * BK + 4 * v, s[r][v]);
}

static inline uint32x4_t first_lanes(int64_t n) { /* all-ones in lanes i < n */
    static const uint32_t idx[4] = {0, 1, 2, 3};
    const uint32_t c = n > 4 ? 4 : n < 0 ? 0 : (uint32_t)n;
    return vcltq_u32(vld1q_u32(idx), vdupq_n_u32(c));
}

/* Online-softmax step of one row over its first `vis` (>= 1) keys of the tile: turns the raw
 * dot products p[0..4 * nvec) into probabilities against the new running max (0 past vis),
 * updates m and l, and returns the factor that rescales the row's accumulator. */
static float softmax_row(float *p, int64_t vis, int nvec, float scale, float *m, float *l) {
    float32x4_t s[VK];
    const float32x4_t ninf = vdupq_n_f32(-INFINITY);
    float32x4_t mx = ninf;
    for (int v = 0; v < nvec; v++) {
        s[v] = vmulq_n_f32(vld1q_f32(p + 4 * v), scale);
        mx = vmaxq_f32(mx, vbslq_f32(first_lanes(vis - 4 * v), s[v], ninf));
    }
    const float tmax = vmaxvq_f32(mx);
    const float mnew = tmax > *m ? tmax : *m;
    const float alpha = expf(*m - mnew); /* 0 for an empty state (m = -inf) */
    const float32x4_t vm = vdupq_n_f32(mnew);
    float32x4_t sum = vdupq_n_f32(0.0f);
    for (int v = 0; v < nvec; v++) {
        const float32x4_t e = vreinterpretq_f32_u32(vandq_u32(
            first_lanes(vis - 4 * v), vreinterpretq_u32_f32(tca_exp_neon(vsubq_f32(s[v], vm)))));
        sum = vaddq_f32(sum, e);
        vst1q_f32(p + 4 * v, e);
    }
    *l = *l * alpha + vaddvq_f32(sum);
    *m = mnew;
    return alpha;
}

/* acc[r][dc .. dc + 4 * W) = acc * alpha_r + sum_{j < nv} p[r][j] v_j, for R rows. */
static inline __attribute__((always_inline)) void pv(const float *p, const float *alpha, const float *v,
                                                     int d, int dc, int64_t nv, float *acc,
                                                     int64_t ldacc, const int R, const int W) {
    float32x4_t a[RS][DV];
    for (int r = 0; r < R; r++)
        for (int w = 0; w < W; w++) a[r][w] = vmulq_n_f32(vld1q_f32(acc + r * ldacc + dc + 4 * w), alpha[r]);
    for (int64_t j = 0; j < nv; j++) {
        float32x4_t vj[DV];
        for (int w = 0; w < W; w++) vj[w] = vld1q_f32(v + j * d + dc + 4 * w);
        for (int r = 0; r < R; r++) {
            const float pj = p[r * BK + j];
            for (int w = 0; w < W; w++) a[r][w] = vfmaq_n_f32(a[r][w], vj[w], pj);
        }
    }
    for (int r = 0; r < R; r++)
        for (int w = 0; w < W; w++) vst1q_f32(acc + r * ldacc + dc + 4 * w, a[r][w]);
}

static void pv_block(const float *p, const float *alpha, const float *v, int d, int64_t nv,
                     float *acc, int64_t ldacc, int R) {
    /* d is a multiple of 16, so the last block has 4 or 8 vectors */
    for (int dc = 0; dc < d; dc += 4 * DV) {
        const int full = d - dc >= 4 * DV;
        if (R == 1) {
            if (full)
                pv(p, alpha, v, d, dc, nv, acc, ldacc, 1, DV);
            else
                pv(p, alpha, v, d, dc, nv, acc, ldacc, 1, 4);
        } else {
            if (full)
                pv(p, alpha, v, d, dc, nv, acc, ldacc, RS, DV);
            else
                pv(p, alpha, v, d, dc, nv, acc, ldacc, RS, 4);
        }
    }
}

/* Direct scores of up to RD rows from the cache's K rows: p[r][j] = q_r . k_j for j < nk, four
 * keys at a time as dot products along d (4 x R accumulators, each K chunk loaded once for all
 * rows) and pairwise adds for the horizontal sums. p[r][j] for nk <= j < round_up(nk, 4) is
 * garbage (masked later). */
static inline __attribute__((always_inline)) void scores_direct(const float *q, int64_t ldq,
                                                                const tca_kv_view *s, int64_t j0, int64_t nk,
                                                                int d, float *p, const int F32, const int R) {
    for (int64_t j = 0; j < nk; j += 4) {
        const void *kr[4];
        for (int t = 0; t < 4; t++) kr[t] = tca_kv_row(s->k, j0 + (j + t < nk ? j + t : j), s->ld, F32);
        float32x4_t a[RD][4];
        for (int r = 0; r < R; r++)
            for (int t = 0; t < 4; t++) a[r][t] = vdupq_n_f32(0.0f);
        for (int c = 0; c < d; c += 4) {
            float32x4_t kv[4];
            for (int t = 0; t < 4; t++) kv[t] = load_x4(kr[t], c, F32);
            for (int r = 0; r < R; r++) {
                const float32x4_t qv = vld1q_f32(q + r * ldq + c);
                for (int t = 0; t < 4; t++) a[r][t] = vfmaq_f32(a[r][t], qv, kv[t]);
            }
        }
        for (int r = 0; r < R; r++)
            vst1q_f32(p + r * BK + j, vpaddq_f32(vpaddq_f32(a[r][0], a[r][1]), vpaddq_f32(a[r][2], a[r][3])));
    }
}

/* Direct P.V of up to RD rows from the cache's V rows, 16 dimensions at a time (d is a multiple). */
static inline __attribute__((always_inline)) void pv_direct(const float *p, const float *alpha,
                                                            const tca_kv_view *s, int64_t j0, int d, int64_t nv,
                                                            float *acc, int64_t ldacc, const int F32, const int R) {
    for (int dc = 0; dc < d; dc += 16) {
        float32x4_t a[RD][4];
        for (int r = 0; r < R; r++)
            for (int w = 0; w < 4; w++) a[r][w] = vmulq_n_f32(vld1q_f32(acc + r * ldacc + dc + 4 * w), alpha[r]);
        for (int64_t j = 0; j < nv; j++) {
            const void *vj = tca_kv_row(s->v, j0 + j, s->ld, F32);
            float32x4_t v[4];
            for (int w = 0; w < 4; w++) v[w] = load_x4(vj, dc + 4 * w, F32);
            for (int r = 0; r < R; r++) {
                const float pj = p[r * BK + j];
                for (int w = 0; w < 4; w++) a[r][w] = vfmaq_n_f32(a[r][w], v[w], pj);
            }
        }
        for (int r = 0; r < R; r++)
            for (int w = 0; w < 4; w++) vst1q_f32(acc + r * ldacc + dc + 4 * w, a[r][w]);
    }
}

#define DIRECT_R(F, ...)                                                                           \
    switch (R) {                                                                                   \
    case 1: F(__VA_ARGS__, 1); break;                                                              \
    case 2: F(__VA_ARGS__, 2); break;                                                              \
    case 3: F(__VA_ARGS__, 3); break;                                                              \
    case 4: F(__VA_ARGS__, 4); break;                                                              \
    case 5: F(__VA_ARGS__, 5); break;                                                              \
    default: F(__VA_ARGS__, RD); break;                                                            \
    }

/* Decode-shaped calls (nq <= RD: a GQA group at one position): too few rows to share a widened,
 * transposed tile, so scores and P.V read the cache rows directly, all rows in one block. */
static inline __attribute__((always_inline)) void accum_direct(const float *q, int64_t ldq, int64_t nq,
                                                               const int64_t *qpos, const void *seg, int nseg,
                                                               int d, float scale, float *m, float *l,
                                                               float *acc, int64_t ldacc, const int F32) {
    _Alignas(16) float p[RD * BK] = {0}; /* scores, then probabilities; zeros keep the unused tail finite */
    const int R = (int)nq;
    int64_t maxpos = qpos[0];
    for (int64_t i = 1; i < nq; i++) maxpos = qpos[i] > maxpos ? qpos[i] : maxpos;
    for (int g = 0; g < nseg; g++) {
        const tca_kv_view s = tca_kv_view_at(seg, g, F32);
        const int64_t n = tca_kv_visible(&s, maxpos);
        for (int64_t j0 = 0; j0 < n; j0 += BK) {
            const int64_t nk = n - j0 < BK ? n - j0 : BK;
            if (j0 + BK < n) prefetch_tile(&s, j0 + BK, n - j0 - BK < BK ? n - j0 - BK : BK, d, F32);
            const tca_kv_view ts = {NULL, NULL, nk, 0, s.pos0 + j0, s.causal};
            int64_t vis[RD], nv = 0;
            for (int r = 0; r < R; r++) {
                vis[r] = tca_kv_visible(&ts, qpos[r]);
                nv = vis[r] > nv ? vis[r] : nv;
            }
            if (nv == 0) continue;
            const int nvec = (int)((nv + 3) / 4);
            DIRECT_R(scores_direct, q, ldq, &s, j0, nv, d, p, F32)
            float alpha[RD];
            for (int r = 0; r < R; r++) {
                float *pr = p + r * BK;
                if (vis[r] == 0) {
                    for (int v = 0; v < nvec; v++) vst1q_f32(pr + 4 * v, vdupq_n_f32(0.0f));
                    alpha[r] = 1.0f;
                } else {
                    alpha[r] = softmax_row(pr, vis[r], nvec, scale, &m[r], &l[r]);
                }
            }
            DIRECT_R(pv_direct, p, alpha, &s, j0, d, nv, acc, ldacc, F32)
        }
    }
}

/* attn_accum over seg[0..nseg) of tca_kv_segment (F32 = 0) or tca_kv_segment_f32 (F32 = 1). */
static inline __attribute__((always_inline)) void accum(const float *q, int64_t ldq, int64_t nq,
                                                        const int64_t *qpos, const void *seg, int nseg, int d,
                                                        float scale, float *m, float *l, float *acc,
                                                        int64_t ldacc, const int F32) {
    if (d > D_MAX || d % 16 != 0 || nq <= 0) {
        if (F32)
            tca_attn_accum_f32_ref(q, ldq, nq, qpos, seg, nseg, d, scale, m, l, acc, ldacc);
        else
            tca_attn_accum_ref(q, ldq, nq, qpos, seg, nseg, d, scale, m, l, acc, ldacc);
        return;
    }
    if (nq <= RD) {
        accum_direct(q, ldq, nq, qpos, seg, nseg, d, scale, m, l, acc, ldacc, F32);
        return;
    }
    tile t;
    int64_t maxpos = qpos[0];
    for (int64_t i = 1; i < nq; i++) maxpos = qpos[i] > maxpos ? qpos[i] : maxpos;
    for (int g = 0; g < nseg; g++) {
        const tca_kv_view s = tca_kv_view_at(seg, g, F32);
        const int64_t n = tca_kv_visible(&s, maxpos); /* keys that some query sees */
        for (int64_t j0 = 0; j0 < n; j0 += BK) {
            const int64_t nk = n - j0 < BK ? n - j0 : BK;
            load_tile(&s, j0, nk, d, &t, F32);
            if (j0 + BK < n) prefetch_tile(&s, j0 + BK, n - j0 - BK < BK ? n - j0 - BK : BK, d, F32);
            /* the tile as a segment of its own, for the per-row visible counts */
            const tca_kv_view ts = {NULL, NULL, nk, 0, s.pos0 + j0, s.causal};
            for (int64_t i0 = 0; i0 < nq; i0 += RS) {
                const int R = nq - i0 < RS ? (int)(nq - i0) : RS;
                int64_t vis[RS], nv = 0;
                for (int r = 0; r < R; r++) {
                    vis[r] = tca_kv_visible(&ts, qpos[i0 + r]);
                    nv = vis[r] > nv ? vis[r] : nv;
                }
                if (nv == 0) continue;
                const int nvec = (int)((nv + 3) / 4);
                if (R == 1)
                    scores(q + i0 * ldq, ldq, t.kt, d, t.p, 1);
                else
                    scores(q + i0 * ldq, ldq, t.kt, d, t.p, RS);
                float alpha[RS];
                for (int r = 0; r < R; r++) {
                    float *pr = t.p + r * BK;
                    if (vis[r] == 0) { /* nothing visible: p = 0 and the state stays as it is */
                        for (int v = 0; v < nvec; v++) vst1q_f32(pr + 4 * v, vdupq_n_f32(0.0f));
                        alpha[r] = 1.0f;
                    } else {
                        alpha[r] = softmax_row(pr, vis[r], nvec, scale, &m[i0 + r], &l[i0 + r]);
                    }
                }
                pv_block(t.p, alpha, t.v, d, nv, acc + i0 * ldacc, ldacc, R);
            }
        }
    }
}

void tca_attn_accum_neon(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
                         const tca_kv_segment *seg, int nseg, int d, float scale,
                         float *m, float *l, float *acc, int64_t ldacc) {
    accum(q, ldq, nq, qpos, seg, nseg, d, scale, m, l, acc, ldacc, 0);
}

void tca_attn_accum_f32_neon(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
                             const tca_kv_segment_f32 *seg, int nseg, int d, float scale,
                             float *m, float *l, float *acc, int64_t ldacc) {
    accum(q, ldq, nq, qpos, seg, nseg, d, scale, m, l, acc, ldacc, 1);
}

void tca_attention_register_neon(tca_kernels *k) {
    k->attn_accum = tca_attn_accum_neon;
    k->attn_accum_f32 = tca_attn_accum_f32_neon;
}
