/* AVX2 flash attention (contract: attention.h; arithmetic: ref/attention_ref.c).
 *
 * The scheme of attention_avx512.c with 8-lane vectors and 16 registers: key tiles of BK = 32
 * (widened once, K transposed, V row-major), register blocks of RS = 2 query rows (scores: 2 rows
 * x 4 YMM of keys; P.V: 2 rows x 32 dimensions), SLEEF's Sleef_expf8_u10avx2 for the
 * probabilities, masks by blend/and since AVX2 has no mask registers.
 * Calls of at most RD = 6 rows (decode: a GQA group at one position) skip the tile: with so few
 * rows the K transpose costs more than the scores, so those take dot products along d straight
 * from the cache rows (two keys x 6 rows of accumulators, one horizontal sum per key and row) and
 * P.V widens V as it goes.
 * attn_accum_f32 is the same code over f32 rows: every step that touches the cache takes a
 * constant F32 flag (its two loads: widen 8 halves or load 8 floats), and the bodies are
 * instantiated once per element type.
 * Head dimensions above D_MAX go to the reference kernel. Stack: about 66 KiB. */
#include <immintrin.h>
#include <math.h>
#include <sleef.h>

#include "kernels.h"
#include "ref/attention_ref.h"
#include "x86/attention_x86.h"

#define BK 32     /* keys per tile */
#define VK 4      /* YMM vectors of scores per row: BK / 8 */
#define RS 2      /* query rows per register block */
#define DV 4      /* YMM vectors of the head dimension per P.V register block */
#define D_MAX 256 /* largest head dimension with a tile on the stack */
#define RD 6      /* rows of a decode-shaped call, handled in one block without a tile */

typedef struct {
    _Alignas(32) float kt[D_MAX * BK]; /* kt[c * BK + j] = K[j][c]; zero for j >= tile length */
    _Alignas(32) float v[BK * D_MAX];  /* v[j * d + c] = V[j][c] */
    _Alignas(32) float p[RS * BK];     /* scores, then probabilities, of one row block */
} tile;

/* In-register 8x8 transpose: unpack pairs, shuffle 4x4 blocks within each 128-bit lane, then
 * swap lanes. */
static inline void transpose8(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int p = 0; p < 4; p++) {
        t[2 * p] = _mm256_unpacklo_ps(r[2 * p], r[2 * p + 1]);
        t[2 * p + 1] = _mm256_unpackhi_ps(r[2 * p], r[2 * p + 1]);
    }
    for (int q = 0; q < 2; q++) {
        u[4 * q + 0] = _mm256_shuffle_ps(t[4 * q], t[4 * q + 2], 0x44);
        u[4 * q + 1] = _mm256_shuffle_ps(t[4 * q], t[4 * q + 2], 0xee);
        u[4 * q + 2] = _mm256_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0x44);
        u[4 * q + 3] = _mm256_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0xee);
    }
    for (int c = 0; c < 4; c++) {
        r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
        r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    }
}

/* Elements c .. c + 8 of a cache row as f32: widened from f16, or loaded (F32). */
static inline __m256 load_x8(const void *row, int c, const int F32) {
    return F32 ? _mm256_loadu_ps((const float *)row + c)
               : _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const tca_f16 *)row + c)));
}

/* Widens nk <= BK rows of K (transposed, zero-padded to BK) and of V into the tile. */
static inline __attribute__((always_inline)) void load_tile(const tca_kv_view *s, int64_t j0, int64_t nk,
                                                            int d, tile *t, const int F32) {
    for (int jb = 0; jb < BK; jb += 8)
        for (int c0 = 0; c0 < d; c0 += 8) {
            __m256 r[8];
            for (int i = 0; i < 8; i++)
                r[i] = jb + i < nk ? load_x8(tca_kv_row(s->k, j0 + jb + i, s->ld, F32), c0, F32) : _mm256_setzero_ps();
            transpose8(r);
            for (int i = 0; i < 8; i++) _mm256_store_ps(t->kt + (c0 + i) * BK + jb, r[i]);
        }
    for (int64_t j = 0; j < nk; j++)
        for (int c0 = 0; c0 < d; c0 += 8)
            _mm256_store_ps(t->v + j * d + c0, load_x8(tca_kv_row(s->v, j0 + j, s->ld, F32), c0, F32));
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
            _mm_prefetch(k + b, _MM_HINT_T1);
            _mm_prefetch(v + b, _MM_HINT_T1);
        }
    }
}

/* p[r][0..BK) = q_r . k_j (unscaled) for R rows. */
static inline __attribute__((always_inline)) void scores(const float *q, int64_t ldq, const float *kt,
                                                         int d, float *p, const int R) {
    __m256 s[RS][VK];
    for (int r = 0; r < R; r++)
        for (int c = 0; c < VK; c++) s[r][c] = _mm256_setzero_ps();
    for (int c = 0; c < d; c++) {
        __m256 k[VK];
        for (int v = 0; v < VK; v++) k[v] = _mm256_load_ps(kt + c * BK + 8 * v);
        for (int r = 0; r < R; r++) {
            const __m256 qb = _mm256_broadcast_ss(q + r * ldq + c);
            for (int v = 0; v < VK; v++) s[r][v] = _mm256_fmadd_ps(qb, k[v], s[r][v]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < VK; v++) _mm256_store_ps(p + r * BK + 8 * v, s[r][v]);
}

static void scores_block(const float *q, int64_t ldq, const float *kt, int d, float *p, int R) {
    if (R == 1)
        scores(q, ldq, kt, d, p, 1);
    else
        scores(q, ldq, kt, d, p, RS);
}

static inline __m256 first_lanes(int64_t n) { /* all-ones in lanes i < n */
    const int32_t c = n > 8 ? 8 : n < 0 ? 0 : (int32_t)n;
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
}

static inline float hmax(__m256 v) {
    __m128 x = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_max_ps(x, _mm_movehl_ps(x, x));
    x = _mm_max_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

static inline float hsum(__m256 v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

/* Online-softmax step of one row over its first `vis` (>= 1) keys of the tile: turns the raw
 * dot products p[0..8 * nvec) into probabilities against the new running max (0 past vis),
 * updates m and l, and returns the factor that rescales the row's accumulator. */
static float softmax_row(float *p, int64_t vis, int nvec, float scale, float *m, float *l) {
    __m256 s[VK];
    const __m256 ninf = _mm256_set1_ps(-INFINITY), vscale = _mm256_set1_ps(scale);
    __m256 mx = ninf;
    for (int v = 0; v < nvec; v++) {
        s[v] = _mm256_mul_ps(_mm256_load_ps(p + 8 * v), vscale);
        mx = _mm256_max_ps(mx, _mm256_blendv_ps(ninf, s[v], first_lanes(vis - 8 * v)));
    }
    const float tmax = hmax(mx);
    const float mnew = tmax > *m ? tmax : *m;
    const float alpha = expf(*m - mnew); /* 0 for an empty state (m = -inf) */
    const __m256 vm = _mm256_set1_ps(mnew);
    __m256 sum = _mm256_setzero_ps();
    for (int v = 0; v < nvec; v++) {
        const __m256 e = _mm256_and_ps(first_lanes(vis - 8 * v), Sleef_expf8_u10avx2(_mm256_sub_ps(s[v], vm)));
        sum = _mm256_add_ps(sum, e);
        _mm256_store_ps(p + 8 * v, e);
    }
    *l = *l * alpha + hsum(sum);
    *m = mnew;
    return alpha;
}

/* acc[r][dc .. dc + 8 * W) = acc * alpha_r + sum_{j < nv} p[r][j] v_j, for R rows. */
static inline __attribute__((always_inline)) void pv(const float *p, const float *alpha, const float *v,
                                                     int d, int dc, int64_t nv, float *acc,
                                                     int64_t ldacc, const int R, const int W) {
    __m256 a[RS][DV];
    for (int r = 0; r < R; r++) {
        const __m256 al = _mm256_set1_ps(alpha[r]);
        for (int w = 0; w < W; w++)
            a[r][w] = _mm256_mul_ps(_mm256_loadu_ps(acc + r * ldacc + dc + 8 * w), al);
    }
    for (int64_t j = 0; j < nv; j++) {
        __m256 vj[DV];
        for (int w = 0; w < W; w++) vj[w] = _mm256_load_ps(v + j * d + dc + 8 * w);
        for (int r = 0; r < R; r++) {
            const __m256 pb = _mm256_broadcast_ss(p + r * BK + j);
            for (int w = 0; w < W; w++) a[r][w] = _mm256_fmadd_ps(pb, vj[w], a[r][w]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int w = 0; w < W; w++) _mm256_storeu_ps(acc + r * ldacc + dc + 8 * w, a[r][w]);
}

#define PV_W(R)                                                                                    \
    switch (W) {                                                                                   \
    case 2: pv(p, alpha, v, d, dc, nv, acc, ldacc, R, 2); break;                                   \
    default: pv(p, alpha, v, d, dc, nv, acc, ldacc, R, DV); break;                                 \
    }

static void pv_block(const float *p, const float *alpha, const float *v, int d, int64_t nv,
                     float *acc, int64_t ldacc, int R) {
    /* d is a multiple of 16, so the last block has 2 or 4 vectors */
    for (int dc = 0; dc < d; dc += 8 * DV) {
        const int W = (d - dc) / 8 < DV ? (d - dc) / 8 : DV;
        if (R == 1) {
            PV_W(1)
        } else {
            PV_W(RS)
        }
    }
}

/* [sum a, sum b] in the low half. */
static inline __m128 sum2(__m256 a, __m256 b) {
    const __m256 h = _mm256_hadd_ps(a, b);
    const __m128 x = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    return _mm_hadd_ps(x, x);
}

/* Direct scores of up to RD rows from the cache's K rows: p[r][j] = q_r . k_j for j < nk, two
 * keys at a time as dot products along d (2 x R accumulators, each K chunk loaded once for all
 * rows), one horizontal sum per key and row. p[r][nk] for odd nk is garbage (masked later). */
static inline __attribute__((always_inline)) void scores_direct(const float *q, int64_t ldq,
                                                                const tca_kv_view *s, int64_t j0, int64_t nk,
                                                                int d, float *p, const int F32, const int R) {
    for (int64_t j = 0; j < nk; j += 2) {
        const void *k0 = tca_kv_row(s->k, j0 + j, s->ld, F32);
        const void *k1 = j + 1 < nk ? tca_kv_row(s->k, j0 + j + 1, s->ld, F32) : k0;
        __m256 a[RD][2];
        for (int r = 0; r < R; r++) a[r][0] = a[r][1] = _mm256_setzero_ps();
        for (int c = 0; c < d; c += 8) {
            const __m256 kv0 = load_x8(k0, c, F32), kv1 = load_x8(k1, c, F32);
            for (int r = 0; r < R; r++) {
                const __m256 qv = _mm256_loadu_ps(q + r * ldq + c);
                a[r][0] = _mm256_fmadd_ps(qv, kv0, a[r][0]);
                a[r][1] = _mm256_fmadd_ps(qv, kv1, a[r][1]);
            }
        }
        for (int r = 0; r < R; r++) _mm_storel_pi((__m64 *)(p + r * BK + j), sum2(a[r][0], a[r][1]));
    }
}

/* Direct P.V of up to RD rows from the cache's V rows, 16 dimensions at a time (d is a multiple). */
static inline __attribute__((always_inline)) void pv_direct(const float *p, const float *alpha,
                                                            const tca_kv_view *s, int64_t j0, int d, int64_t nv,
                                                            float *acc, int64_t ldacc, const int F32, const int R) {
    for (int dc = 0; dc < d; dc += 16) {
        __m256 a[RD][2];
        for (int r = 0; r < R; r++) {
            const __m256 al = _mm256_set1_ps(alpha[r]);
            a[r][0] = _mm256_mul_ps(_mm256_loadu_ps(acc + r * ldacc + dc), al);
            a[r][1] = _mm256_mul_ps(_mm256_loadu_ps(acc + r * ldacc + dc + 8), al);
        }
        for (int64_t j = 0; j < nv; j++) {
            const void *vj = tca_kv_row(s->v, j0 + j, s->ld, F32);
            const __m256 v0 = load_x8(vj, dc, F32), v1 = load_x8(vj, dc + 8, F32);
            for (int r = 0; r < R; r++) {
                const __m256 pb = _mm256_broadcast_ss(p + r * BK + j);
                a[r][0] = _mm256_fmadd_ps(pb, v0, a[r][0]);
                a[r][1] = _mm256_fmadd_ps(pb, v1, a[r][1]);
            }
        }
        for (int r = 0; r < R; r++) {
            _mm256_storeu_ps(acc + r * ldacc + dc, a[r][0]);
            _mm256_storeu_ps(acc + r * ldacc + dc + 8, a[r][1]);
        }
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
    _Alignas(32) float p[RD * BK] = {0}; /* scores, then probabilities; zeros keep the unused tail finite */
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
            const int nvec = (int)((nv + 7) / 8);
            DIRECT_R(scores_direct, q, ldq, &s, j0, nv, d, p, F32)
            float alpha[RD];
            for (int r = 0; r < R; r++) {
                float *pr = p + r * BK;
                if (vis[r] == 0) {
                    for (int v = 0; v < nvec; v++) _mm256_store_ps(pr + 8 * v, _mm256_setzero_ps());
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
                const int nvec = (int)((nv + 7) / 8);
                scores_block(q + i0 * ldq, ldq, t.kt, d, t.p, R);
                float alpha[RS];
                for (int r = 0; r < R; r++) {
                    float *pr = t.p + r * BK;
                    if (vis[r] == 0) { /* nothing visible: p = 0 and the state stays as it is */
                        for (int v = 0; v < nvec; v++) _mm256_store_ps(pr + 8 * v, _mm256_setzero_ps());
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

void tca_attn_accum_avx2(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
                         const tca_kv_segment *seg, int nseg, int d, float scale,
                         float *m, float *l, float *acc, int64_t ldacc) {
    accum(q, ldq, nq, qpos, seg, nseg, d, scale, m, l, acc, ldacc, 0);
}

void tca_attn_accum_f32_avx2(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
                             const tca_kv_segment_f32 *seg, int nseg, int d, float scale,
                             float *m, float *l, float *acc, int64_t ldacc) {
    accum(q, ldq, nq, qpos, seg, nseg, d, scale, m, l, acc, ldacc, 1);
}

void tca_attention_register_avx2(tca_kernels *k) {
    k->attn_accum = tca_attn_accum_avx2;
    k->attn_accum_f32 = tca_attn_accum_f32_avx2;
}
