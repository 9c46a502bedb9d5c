/* AVX2 TCA selection kernels (contract: select.h; arithmetic: ref/select_ref.c).
 *
 * score_dot: the f16 keys are widened once into a tile on the stack (TILE_F floats, 16 KiB: half
 *   of L1, next to the q rows) and every block of RB query rows runs over the whole tile, so a key
 *   is converted once whatever nq is. The register block is RB = 3 rows x KB = 4 keys: 12
 *   accumulators, 3 q vectors and one key vector at a time (all 16 YMM), 7 loads per 12 FMAs
 *   (2 x 4 let the compiler fold the key loads into the FMAs: 10 loads per 8 FMAs, with two
 *   256-bit loads a cycle the tighter limit); then one hadd reduction turns a row's 4
 *   accumulators into its 4 contiguous scores. Keys past n in the last block are zero rows whose
 *   scores are never stored. Head dimensions above TILE_F / KB go to the reference kernel.
 * group_softmax_mean: softmax_avx2's passes (elementwise_avx2.c: SLEEF expf, the sum in double,
 *   1 / sum rounded once) per row; the normalising pass also adds the row into a, rows in
 *   ascending order, so the mean rounds exactly as the reference's given the same probabilities.
 * eff_count: a log a in float with SLEEF's logf (1 ulp), summed in double: relative error of the
 *   entropy ~2e-7, so exp(H) is within ~2e-7 H of the reference (H <= log n).
 * topk: rank counting, 8 candidates j per vector against every a_i broadcast:
 *   rank_j = #{i : a_i > a_j or (a_i == a_j and i < j)}; the ranks are a permutation of 0..n-1,
 *   so exactly the k entries with rank < k are kept, and the movemask bits give them in
 *   ascending order. Comparisons only: identical to ref.
 * gather_rows: 32-byte copies (d is a multiple of 16), each loaded before it is stored: moving a
 *   row towards the front (dst <= src) never overwrites what is still to be read. */
#include <immintrin.h>
#include <math.h>
#include <sleef.h>

#include "kernels.h"
#include "ref/select_ref.h"
#include "x86/select_x86.h"

#define TILE_F 4096 /* floats in the widened key tile */
#define KB 4        /* keys per register block */
#define RB 3        /* query rows per register block */

static inline __m256i first_lanes(int64_t n) { /* all-ones in lanes i < n */
    const int32_t c = n > 8 ? 8 : n < 0 ? 0 : (int32_t)n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline __m128i first_lanes4(int64_t n) {
    const int32_t c = n > 4 ? 4 : n < 0 ? 0 : (int32_t)n;
    return _mm_cmpgt_epi32(_mm_set1_epi32(c), _mm_setr_epi32(0, 1, 2, 3));
}

static inline double hsum_pd(__m256d v) {
    __m128d x = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(x, _mm_unpackhi_pd(x, x)));
}

static inline float hmax(__m256 v) {
    __m128 x = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_max_ps(x, _mm_movehl_ps(x, x));
    return _mm_cvtss_f32(_mm_max_ss(x, _mm_movehdup_ps(x)));
}

/* (sum of a0, sum of a1, sum of a2, sum of a3) */
static inline __m128 hsum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

/* Scores of R rows against the nkp (a multiple of KB) widened keys kt[j * d + c]; the first nk
 * are stored to out[r * ldo + j]. */
static inline __attribute__((always_inline)) void score_block(const float *q, int64_t ldq, const float *kt, int d,
                                                              int64_t nkp, int64_t nk, float scale, float *out,
                                                              int64_t ldo, const int R) {
    const __m128 vs = _mm_set1_ps(scale);
    for (int64_t jb = 0; jb < nkp; jb += KB) {
        __m256 acc[RB][KB];
        for (int r = 0; r < R; r++)
            for (int t = 0; t < KB; t++) acc[r][t] = _mm256_setzero_ps();
        const float *kb = kt + jb * d;
        for (int c = 0; c < d; c += 8) {
            __m256 qv[RB];
            for (int r = 0; r < R; r++) qv[r] = _mm256_loadu_ps(q + r * ldq + c);
            for (int t = 0; t < KB; t++) {
                const __m256 kv = _mm256_load_ps(kb + t * d + c);
                for (int r = 0; r < R; r++) acc[r][t] = _mm256_fmadd_ps(qv[r], kv, acc[r][t]);
            }
        }
        for (int r = 0; r < R; r++) {
            const __m128 s = _mm_mul_ps(hsum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]), vs);
            if (jb + KB <= nk)
                _mm_storeu_ps(out + r * ldo + jb, s);
            else
                _mm_maskstore_ps(out + r * ldo + jb, first_lanes4(nk - jb), s);
        }
    }
}

static void score_dot_avx2(const float *q, int64_t ldq, int nq, const tca_f16 *k, int64_t ldk, int64_t n, int d,
                           float scale, float *out, int64_t ldo) {
    if (d > TILE_F / KB) {
        tca_score_dot_ref(q, ldq, nq, k, ldk, n, d, scale, out, ldo);
        return;
    }
    _Alignas(32) float kt[TILE_F]; /* kt[j * d + c] = K[j0 + j][c] */
    const int64_t tk = (TILE_F / d) / KB * KB; /* keys per tile */
    for (int64_t j0 = 0; j0 < n; j0 += tk) {
        const int64_t nk = n - j0 < tk ? n - j0 : tk, nkp = (nk + KB - 1) / KB * KB;
        for (int64_t j = 0; j < nkp; j++)
            for (int c = 0; c < d; c += 8)
                _mm256_store_ps(kt + j * d + c, j < nk ? _mm256_cvtph_ps(_mm_loadu_si128(
                                                             (const __m128i *)(k + (j0 + j) * ldk + c)))
                                                       : _mm256_setzero_ps());
        int r = 0;
        for (; r + RB <= nq; r += RB) score_block(q + r * ldq, ldq, kt, d, nkp, nk, scale, out + r * ldo + j0, ldo, RB);
        switch (nq - r) {
        case 2: score_block(q + r * ldq, ldq, kt, d, nkp, nk, scale, out + r * ldo + j0, ldo, 2); break;
        case 1: score_block(q + r * ldq, ldq, kt, d, nkp, nk, scale, out + r * ldo + j0, ldo, 1); break;
        default: break;
        }
    }
}

/* Turns row x[0 .. n) into exp(x - max) and returns 1 / sum, rounded once to f32. */
static float exp_row(float *x, int64_t n) {
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256 mx = ninf;
    for (int64_t i = 0; i < n; i += 8) {
        const __m256i m = first_lanes(n - i);
        mx = _mm256_max_ps(mx, _mm256_blendv_ps(ninf, _mm256_maskload_ps(x + i, m), _mm256_castsi256_ps(m)));
    }
    const __m256 vm = _mm256_set1_ps(hmax(mx));
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    for (int64_t i = 0; i < n; i += 8) {
        const __m256i m = first_lanes(n - i);
        const __m256 e = _mm256_and_ps(_mm256_castsi256_ps(m),
                                       Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), vm)));
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
        _mm256_maskstore_ps(x + i, m, e);
    }
    return (float)(1.0 / hsum_pd(_mm256_add_pd(s0, s1)));
}

static void group_softmax_mean_avx2(float *s, int64_t lds, int nq, int64_t n, float *a) {
    const __m256 vinq = _mm256_set1_ps(1.0f / (float)nq);
    for (int r = 0; r < nq; r++) {
        float *x = s + r * lds;
        const __m256 inv = _mm256_set1_ps(exp_row(x, n));
        for (int64_t i = 0; i < n; i += 8) {
            const __m256i m = first_lanes(n - i);
            const __m256 p = _mm256_mul_ps(_mm256_maskload_ps(x + i, m), inv);
            _mm256_maskstore_ps(x + i, m, p);
            __m256 acc = r == 0 ? p : _mm256_add_ps(_mm256_maskload_ps(a + i, m), p);
            if (r == nq - 1) acc = _mm256_mul_ps(acc, vinq);
            _mm256_maskstore_ps(a + i, m, acc);
        }
    }
}

static float eff_count_avx2(const float *a, int64_t n) {
    const __m256 zero = _mm256_setzero_ps();
    __m256d h0 = _mm256_setzero_pd(), h1 = _mm256_setzero_pd();
    for (int64_t i = 0; i < n; i += 8) {
        const __m256 v = _mm256_maskload_ps(a + i, first_lanes(n - i)); /* 0 past n */
        const __m256 t = _mm256_and_ps(_mm256_cmp_ps(v, zero, _CMP_GT_OQ), _mm256_mul_ps(v, Sleef_logf8_u10avx2(v)));
        h0 = _mm256_add_pd(h0, _mm256_cvtps_pd(_mm256_castps256_ps128(t)));
        h1 = _mm256_add_pd(h1, _mm256_cvtps_pd(_mm256_extractf128_ps(t, 1)));
    }
    return (float)exp(-hsum_pd(_mm256_add_pd(h0, h1)));
}

static void topk_avx2(const float *a, int n, int k, int32_t *idx) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), vk = _mm256_set1_epi32(k);
    int c = 0;
    for (int jb = 0; jb < n; jb += 8) {
        const __m256i valid = first_lanes(n - jb), j = _mm256_add_epi32(lane, _mm256_set1_epi32(jb));
        const __m256 aj = _mm256_maskload_ps(a + jb, valid);
        __m256i rank = _mm256_setzero_si256();
        for (int i = 0; i < n; i++) {
            const __m256 ai = _mm256_broadcast_ss(a + i);
            const __m256 before = _mm256_castsi256_ps(_mm256_cmpgt_epi32(j, _mm256_set1_epi32(i))); /* i < j */
            const __m256 ahead = _mm256_or_ps(_mm256_cmp_ps(ai, aj, _CMP_GT_OQ),
                                              _mm256_and_ps(before, _mm256_cmp_ps(ai, aj, _CMP_EQ_OQ)));
            rank = _mm256_sub_epi32(rank, _mm256_castps_si256(ahead)); /* the mask is -1 */
        }
        unsigned bits = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_and_si256(valid, _mm256_cmpgt_epi32(vk, rank))));
        for (; bits; bits &= bits - 1) idx[c++] = jb + __builtin_ctz(bits);
    }
}

static void gather_rows_avx2(const tca_f16 *src, int64_t lds, const int32_t *idx, int k, int d, tca_f16 *dst,
                             int64_t ldd) {
    for (int i = 0; i < k; i++) {
        const tca_f16 *s = src + idx[i] * lds;
        tca_f16 *t = dst + i * ldd;
        if (s == t) continue; /* in place and already there */
        for (int c = 0; c < d; c += 16)
            _mm256_storeu_si256((__m256i *)(t + c), _mm256_loadu_si256((const __m256i *)(s + c)));
    }
}

void tca_select_register_avx2(tca_kernels *k) {
    k->score_dot = score_dot_avx2;
    k->group_softmax_mean = group_softmax_mean_avx2;
    k->eff_count = eff_count_avx2;
    k->topk = topk_avx2;
    k->gather_rows = gather_rows_avx2;
}
