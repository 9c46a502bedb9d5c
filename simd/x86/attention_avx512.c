/* AVX-512 flash attention (contract: attention.h; arithmetic: ref/attention_ref.c).
 *
 * Keys are taken in tiles of BK = 64. Each tile is widened from f16 once, K transposed
 * (kt[c][j]) and V row-major, and then reused by every query row of the call: for prefill that is
 * a tile of query positions times the heads of a GQA group (~100 rows), for decode the group's
 * 3..6 rows. Per block of up to RS = 6 query rows:
 *   scores  S[r][0..64) = q_r . k_j as outer products: per dimension c, one broadcast of q_r[c]
 *           times the four ZMM of kt[c] (24 accumulators, no horizontal sums);
 *   softmax the row's tile max, the new running max, alpha = exp(m_old - m_new) (libm expf, once
 *           per row and tile) and p = exp(s - m_new) with SLEEF's Sleef_expf16_u10 (1 ulp);
 *           masked keys (causal, or past the segment end) get p = 0 through write masks, so a
 *           row that sees nothing in a tile keeps its state exactly;
 *   P.V     acc[r] = acc[r] * alpha_r + sum_j p[r][j] v_j, 6 rows x 64 dimensions in registers.
 * Calls with a single row block (nq <= 6: decode, a GQA group at one position) have no rows to
 * share a widened tile with, and transposing K costs more shuffles per key than its scores take
 * FMAs: they compute the scores as dot products along d straight from the cache rows (one
 * horizontal sum per key and row) and read (widen) V inside P.V.
 * attn_accum_f32 is the same code over f32 rows: every step that touches the cache takes a
 * constant F32 flag (its loads: widen 16 halves or load 16 floats), and the body is instantiated
 * once per element type.
 * Head dimensions above D_MAX (not in any supported model) go to the reference kernel.
 * Stack: about 130 KiB for the widened tile. */
#include <immintrin.h>
#include <math.h>
#include <sleef.h>

#include "kernels.h"
#include "ref/attention_ref.h"
#include "x86/attention_x86.h"

#define BK 64     /* keys per tile */
#define VK 4      /* ZMM vectors of scores per row: BK / 16 */
#define RS 6      /* query rows per register block */
#define DV 4      /* ZMM vectors of the head dimension per P.V register block */
#define D_MAX 256 /* largest head dimension with a tile on the stack */

typedef struct {
    _Alignas(64) float kt[D_MAX * BK]; /* kt[c * BK + j] = K[j][c]; zero for j >= tile length */
    _Alignas(64) float v[BK * D_MAX];  /* v[j * d + c] = V[j][c] */
    _Alignas(64) float p[RS * BK];     /* scores, then probabilities, of one row block */
} tile;

/* In-register transpose: r[i][j] -> r[j][i]. Unpack pairs, shuffle 4x4 blocks within each 128-bit
 * lane (u[4q + c] lane L holds column 4L + c of rows 4q..4q+3), then transpose the 4x4 grid of
 * lanes with two rounds of shuffle_f32x4. */
static inline void transpose16(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int p = 0; p < 8; p++) {
        t[2 * p] = _mm512_unpacklo_ps(r[2 * p], r[2 * p + 1]);
        t[2 * p + 1] = _mm512_unpackhi_ps(r[2 * p], r[2 * p + 1]);
    }
    for (int q = 0; q < 4; q++) {
        u[4 * q + 0] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], 0x44);
        u[4 * q + 1] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], 0xee);
        u[4 * q + 2] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0x44);
        u[4 * q + 3] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0xee);
    }
    for (int c = 0; c < 4; c++) {
        const __m512 x0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44);
        const __m512 x1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xee);
        const __m512 x2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44);
        const __m512 x3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xee);
        r[0 + c] = _mm512_shuffle_f32x4(x0, x2, 0x88);
        r[4 + c] = _mm512_shuffle_f32x4(x0, x2, 0xdd);
        r[8 + c] = _mm512_shuffle_f32x4(x1, x3, 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(x1, x3, 0xdd);
    }
}

/* Elements c .. c + 16 of a row as f32: widened from f16, or loaded (F32; rows start anywhere). */
static inline __m512 load_x16(const void *row, int64_t c, const int F32) {
    return F32 ? _mm512_loadu_ps((const float *)row + c)
               : _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const tca_f16 *)row + c)));
}

/* Widens nk <= BK rows of K (transposed, zero-padded to BK) and of V into the tile. */
static inline __attribute__((always_inline)) void load_tile(const tca_kv_view *s, int64_t j0, int64_t nk,
                                                            int d, tile *t, const int F32) {
    for (int jb = 0; jb < BK; jb += 16)
        for (int c0 = 0; c0 < d; c0 += 16) {
            __m512 r[16];
            for (int i = 0; i < 16; i++)
                r[i] = jb + i < nk ? load_x16(tca_kv_row(s->k, j0 + jb + i, s->ld, F32), c0, F32) : _mm512_setzero_ps();
            transpose16(r);
            for (int i = 0; i < 16; i++) _mm512_store_ps(t->kt + (c0 + i) * BK + jb, r[i]);
        }
    for (int64_t j = 0; j < nk; j++)
        for (int c0 = 0; c0 < d; c0 += 16)
            _mm512_store_ps(t->v + j * d + c0, load_x16(tca_kv_row(s->v, j0 + j, s->ld, F32), c0, F32));
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
    __m512 s[RS][VK];
    for (int r = 0; r < R; r++)
        for (int c = 0; c < VK; c++) s[r][c] = _mm512_setzero_ps();
    for (int c = 0; c < d; c++) {
        __m512 k[VK];
        for (int v = 0; v < VK; v++) k[v] = _mm512_load_ps(kt + c * BK + 16 * v);
        for (int r = 0; r < R; r++) {
            const __m512 qb = _mm512_set1_ps(q[r * ldq + c]);
            for (int v = 0; v < VK; v++) s[r][v] = _mm512_fmadd_ps(qb, k[v], s[r][v]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < VK; v++) _mm512_store_ps(p + r * BK + 16 * v, s[r][v]);
}

static void scores_block(const float *q, int64_t ldq, const float *kt, int d, float *p, int R) {
    switch (R) {
    case 1: scores(q, ldq, kt, d, p, 1); break;
    case 2: scores(q, ldq, kt, d, p, 2); break;
    case 3: scores(q, ldq, kt, d, p, 3); break;
    case 4: scores(q, ldq, kt, d, p, 4); break;
    case 5: scores(q, ldq, kt, d, p, 5); break;
    default: scores(q, ldq, kt, d, p, RS); break;
    }
}

static inline __mmask16 first_lanes(int64_t n) { /* lanes i < n of a 16-lane vector */
    return n >= 16 ? (__mmask16)0xffff : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

/* Online-softmax step of one row over its first `vis` (>= 1) keys of the tile: turns the raw
 * dot products p[0..16 * nvec) into probabilities against the new running max (0 past vis),
 * updates m and l, and returns the factor that rescales the row's accumulator. */
static float softmax_row(float *p, int64_t vis, int nvec, float scale, float *m, float *l) {
    __m512 s[VK];
    __m512 mx = _mm512_set1_ps(-INFINITY);
    const __m512 vscale = _mm512_set1_ps(scale);
    for (int v = 0; v < nvec; v++) {
        s[v] = _mm512_mul_ps(_mm512_load_ps(p + 16 * v), vscale);
        mx = _mm512_mask_max_ps(mx, first_lanes(vis - 16 * v), mx, s[v]);
    }
    const float tmax = _mm512_reduce_max_ps(mx);
    const float mnew = tmax > *m ? tmax : *m;
    const float alpha = expf(*m - mnew); /* 0 for an empty state (m = -inf) */
    const __m512 vm = _mm512_set1_ps(mnew);
    __m512 sum = _mm512_setzero_ps();
    for (int v = 0; v < nvec; v++) {
        const __m512 e = _mm512_maskz_mov_ps(first_lanes(vis - 16 * v),
                                             Sleef_expf16_u10(_mm512_sub_ps(s[v], vm)));
        sum = _mm512_add_ps(sum, e);
        _mm512_store_ps(p + 16 * v, e);
    }
    *l = *l * alpha + _mm512_reduce_add_ps(sum);
    *m = mnew;
    return alpha;
}

/* acc[r][dc .. dc + 16 * W) = acc * alpha_r + sum_{j < nv} p[r][j] v_j, for R rows. V row j at
 * v + j * ldv elements: f32 rows (F32 = 1: the widened tile, or an f32 cache's own rows) or, for
 * calls of one row block, the f16 cache rows themselves (F32 = 0: widened here, since each is
 * used once). */
static inline __attribute__((always_inline)) void pv(const float *p, const float *alpha, const void *v,
                                                     int64_t ldv, int dc, int64_t nv, float *acc,
                                                     int64_t ldacc, const int R, const int W, const int F32) {
    __m512 a[RS][DV];
    for (int r = 0; r < R; r++) {
        const __m512 al = _mm512_set1_ps(alpha[r]);
        for (int w = 0; w < W; w++)
            a[r][w] = _mm512_mul_ps(_mm512_loadu_ps(acc + r * ldacc + dc + 16 * w), al);
    }
    for (int64_t j = 0; j < nv; j++) {
        __m512 vj[DV];
        for (int w = 0; w < W; w++) vj[w] = load_x16(tca_kv_row(v, j, ldv, F32), dc + 16 * w, F32);
        for (int r = 0; r < R; r++) {
            const __m512 pb = _mm512_set1_ps(p[r * BK + j]);
            for (int w = 0; w < W; w++) a[r][w] = _mm512_fmadd_ps(pb, vj[w], a[r][w]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int w = 0; w < W; w++) _mm512_storeu_ps(acc + r * ldacc + dc + 16 * w, a[r][w]);
}

#define PV_W(R, F32)                                                                               \
    switch (W) {                                                                                   \
    case 1: pv(p, alpha, v, ldv, dc, nv, acc, ldacc, R, 1, F32); break;                            \
    case 2: pv(p, alpha, v, ldv, dc, nv, acc, ldacc, R, 2, F32); break;                            \
    case 3: pv(p, alpha, v, ldv, dc, nv, acc, ldacc, R, 3, F32); break;                            \
    default: pv(p, alpha, v, ldv, dc, nv, acc, ldacc, R, DV, F32); break;                          \
    }

#define PV_R(F32)                                                                                  \
    switch (R) {                                                                                   \
    case 1: PV_W(1, F32) break;                                                                    \
    case 2: PV_W(2, F32) break;                                                                    \
    case 3: PV_W(3, F32) break;                                                                    \
    case 4: PV_W(4, F32) break;                                                                    \
    case 5: PV_W(5, F32) break;                                                                    \
    default: PV_W(RS, F32) break;                                                                  \
    }

static void pv_block(const float *p, const float *alpha, const void *v, int64_t ldv, int f32, int d,
                     int64_t nv, float *acc, int64_t ldacc, int R) {
    for (int dc = 0; dc < d; dc += 16 * DV) {
        const int W = (d - dc) / 16 < DV ? (d - dc) / 16 : DV;
        if (f32) {
            PV_R(1)
        } else {
            PV_R(0)
        }
    }
}

/* Sum of each of four vectors: [sum a, sum b, sum c, sum d]. */
static inline __m128 sum4(__m512 a, __m512 b, __m512 c, __m512 d) {
    const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
    const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
    const __m512 x = _mm512_add_ps(_mm512_shuffle_ps(ab, cd, 0x44), _mm512_shuffle_ps(ab, cd, 0xee));
    const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(x), _mm512_extractf32x8_ps(x, 1));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

/* Scores of one row block straight from the cache's K rows (calls of one row block, e.g.
 * decode): p[r][j] = q_r . k_j for j < nk, four keys at a time as dot products along d (4 x R
 * vector accumulators, each K chunk loaded once for all R rows) with one horizontal sum per key
 * and row. Cheaper than widening and transposing the tile when there are too few rows to share
 * it. p[r][j] for nk <= j < round_up(nk, 4) is garbage (masked later). */
static inline __attribute__((always_inline)) void scores_rows(const float *q, int64_t ldq, const tca_kv_view *s,
                                                              int64_t j0, int64_t nk, int d, float *p,
                                                              const int R, const int F32) {
    for (int64_t j = 0; j < nk; j += 4) {
        const void *kr[4];
        for (int t = 0; t < 4; t++) kr[t] = tca_kv_row(s->k, j0 + (j + t < nk ? j + t : j), s->ld, F32);
        __m512 a[RS][4];
        for (int r = 0; r < R; r++)
            for (int t = 0; t < 4; t++) a[r][t] = _mm512_setzero_ps();
        for (int c = 0; c < d; c += 16) {
            __m512 kv[4];
            for (int t = 0; t < 4; t++) kv[t] = load_x16(kr[t], c, F32);
            for (int r = 0; r < R; r++) {
                const __m512 qv = _mm512_loadu_ps(q + r * ldq + c);
                for (int t = 0; t < 4; t++) a[r][t] = _mm512_fmadd_ps(qv, kv[t], a[r][t]);
            }
        }
        for (int r = 0; r < R; r++) _mm_storeu_ps(p + r * BK + j, sum4(a[r][0], a[r][1], a[r][2], a[r][3]));
    }
}

static inline __attribute__((always_inline)) void scores_block_rows(const float *q, int64_t ldq,
                                                                    const tca_kv_view *s, int64_t j0, int64_t nk,
                                                                    int d, float *p, int R, const int F32) {
    switch (R) {
    case 1: scores_rows(q, ldq, s, j0, nk, d, p, 1, F32); break;
    case 2: scores_rows(q, ldq, s, j0, nk, d, p, 2, F32); break;
    case 3: scores_rows(q, ldq, s, j0, nk, d, p, 3, F32); break;
    case 4: scores_rows(q, ldq, s, j0, nk, d, p, 4, F32); break;
    case 5: scores_rows(q, ldq, s, j0, nk, d, p, 5, F32); break;
    default: scores_rows(q, ldq, s, j0, nk, d, p, RS, F32); break;
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
    /* One row block (decode: a GQA group at one position): nothing to share a widened tile with,
     * so scores and P.V read the cache rows directly. */
    const int direct = nq <= RS;
    tile t;
    if (direct) /* the scores past a tile's end are never computed: keep them finite */
        for (int i = 0; i < RS * BK; i++) t.p[i] = 0.0f;
    int64_t maxpos = qpos[0];
    for (int64_t i = 1; i < nq; i++) maxpos = qpos[i] > maxpos ? qpos[i] : maxpos;
    for (int g = 0; g < nseg; g++) {
        const tca_kv_view s = tca_kv_view_at(seg, g, F32);
        const int64_t n = tca_kv_visible(&s, maxpos); /* keys that some query sees */
        for (int64_t j0 = 0; j0 < n; j0 += BK) {
            const int64_t nk = n - j0 < BK ? n - j0 : BK;
            if (!direct) load_tile(&s, j0, nk, d, &t, F32);
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
                const int nvec = (int)((nv + 15) / 16);
                if (direct)
                    scores_block_rows(q + i0 * ldq, ldq, &s, j0, nv, d, t.p, R, F32);
                else
                    scores_block(q + i0 * ldq, ldq, t.kt, d, t.p, R);
                float alpha[RS];
                for (int r = 0; r < R; r++) {
                    float *pr = t.p + r * BK;
                    if (vis[r] == 0) { /* nothing visible: p = 0 and the state stays as it is */
                        for (int v = 0; v < nvec; v++) _mm512_store_ps(pr + 16 * v, _mm512_setzero_ps());
                        alpha[r] = 1.0f;
                    } else {
                        alpha[r] = softmax_row(pr, vis[r], nvec, scale, &m[i0 + r], &l[i0 + r]);
                    }
                }
                if (direct)
                    pv_block(t.p, alpha, tca_kv_row(s.v, j0, s.ld, F32), s.ld, F32, d, nv, acc + i0 * ldacc, ldacc, R);
                else
                    pv_block(t.p, alpha, t.v, d, 1, d, nv, acc + i0 * ldacc, ldacc, R);
            }
        }
    }
}

void tca_attn_accum_avx512(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
                           const tca_kv_segment *seg, int nseg, int d, float scale,
                           float *m, float *l, float *acc, int64_t ldacc) {
    accum(q, ldq, nq, qpos, seg, nseg, d, scale, m, l, acc, ldacc, 0);
}

void tca_attn_accum_f32_avx512(const float *q, int64_t ldq, int64_t nq, const int64_t *qpos,
                               const tca_kv_segment_f32 *seg, int nseg, int d, float scale,
                               float *m, float *l, float *acc, int64_t ldacc) {
    accum(q, ldq, nq, qpos, seg, nseg, d, scale, m, l, acc, ldacc, 1);
}

void tca_attention_register_avx512(tca_kernels *k) {
    k->attn_accum = tca_attn_accum_avx512;
    k->attn_accum_f32 = tca_attn_accum_f32_avx512;
}
