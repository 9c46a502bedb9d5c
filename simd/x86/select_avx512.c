/* AVX-512 TCA selection kernels (contract: select.h; arithmetic: ref/select_ref.c).
 *
 * The scheme of select_avx2.c with 16-lane vectors, 32 registers and mask registers:
 * score_dot: keys widened once into a 16 KiB tile, register blocks of RB = 4 rows x KB = 4 keys
 *   (16 accumulators, 4 q vectors and one key vector at a time: 8 loads per 16 FMAs; d is a
 *   multiple of 16, so a row is whole vectors), reduced by folding 512 -> 256 bits and one hadd
 *   tree per row.
 * group_softmax_mean: softmax_avx512's passes (SLEEF expf16, double sum) per row; the normalising
 *   pass adds the row into a, rows ascending, as the reference.
 * eff_count: a log a with SLEEF's logf16 (1 ulp) in float, summed in double.
 * topk: rank counting over 16 candidates per vector with mask compares; the kept lanes are
 *   compressed in register and stored under a prefix mask (not vpcompressd to memory, which is
 *   microcoded and slow on some cores), so the indices come out ascending.
 * gather_rows: 64-byte copies and a 32-byte one for an odd number of 16-half pieces, each loaded
 *   before it is stored (safe for in-place compaction, dst <= src). */
#include <immintrin.h>
#include <math.h>
#include <sleef.h>

#include "kernels.h"
#include "ref/select_ref.h"
#include "x86/select_x86.h"

#define TILE_F 4096 /* floats in the widened key tile */
#define KB 4        /* keys per register block */
#define RB 4        /* query rows per register block */

static inline __mmask16 first_lanes(int64_t n) { /* lanes i < n */
    return n >= 16 ? (__mmask16)0xffff : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

/* (sum of a0, sum of a1, sum of a2, sum of a3) */
static inline __m128 hsum4(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
#define FOLD(v) _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)))
    const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(FOLD(a0), FOLD(a1)), _mm256_hadd_ps(FOLD(a2), FOLD(a3)));
#undef FOLD
    return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

/* Scores of R rows against the nkp (a multiple of KB) widened keys kt[j * d + c]; the first nk
 * are stored to out[r * ldo + j]. */
static inline __attribute__((always_inline)) void score_block(const float *q, int64_t ldq, const float *kt, int d,
                                                              int64_t nkp, int64_t nk, float scale, float *out,
                                                              int64_t ldo, const int R) {
    const __m128 vs = _mm_set1_ps(scale);
    for (int64_t jb = 0; jb < nkp; jb += KB) {
        __m512 acc[RB][KB];
        for (int r = 0; r < R; r++)
            for (int t = 0; t < KB; t++) acc[r][t] = _mm512_setzero_ps();
        const float *kb = kt + jb * d;
        for (int c = 0; c < d; c += 16) {
            __m512 qv[RB];
            for (int r = 0; r < R; r++) qv[r] = _mm512_loadu_ps(q + r * ldq + c);
            for (int t = 0; t < KB; t++) {
                const __m512 kv = _mm512_load_ps(kb + t * d + c);
                for (int r = 0; r < R; r++) acc[r][t] = _mm512_fmadd_ps(qv[r], kv, acc[r][t]);
            }
        }
        const __mmask8 m = nk - jb >= KB ? (__mmask8)0xf : (__mmask8)((1u << (nk - jb)) - 1);
        for (int r = 0; r < R; r++)
            _mm_mask_storeu_ps(out + r * ldo + jb, m, _mm_mul_ps(hsum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]), vs));
    }
}

static void score_dot_avx512(const float *q, int64_t ldq, int nq, const tca_f16 *k, int64_t ldk, int64_t n, int d,
                             float scale, float *out, int64_t ldo) {
    if (d > TILE_F / KB) {
        tca_score_dot_ref(q, ldq, nq, k, ldk, n, d, scale, out, ldo);
        return;
    }
    _Alignas(64) float kt[TILE_F]; /* kt[j * d + c] = K[j0 + j][c] */
    const int64_t tk = (TILE_F / d) / KB * KB; /* keys per tile */
    for (int64_t j0 = 0; j0 < n; j0 += tk) {
        const int64_t nk = n - j0 < tk ? n - j0 : tk, nkp = (nk + KB - 1) / KB * KB;
        for (int64_t j = 0; j < nkp; j++)
            for (int c = 0; c < d; c += 16)
                _mm512_store_ps(kt + j * d + c, j < nk ? _mm512_cvtph_ps(_mm256_loadu_si256(
                                                             (const __m256i *)(k + (j0 + j) * ldk + c)))
                                                       : _mm512_setzero_ps());
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
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = first_lanes(n - i);
        mx = _mm512_mask_max_ps(mx, m, mx, _mm512_maskz_loadu_ps(m, x + i));
    }
    const __m512 vm = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = first_lanes(n - i);
        const __m512 e = _mm512_maskz_mov_ps(m, Sleef_expf16_u10(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vm)));
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
        _mm512_mask_storeu_ps(x + i, m, e);
    }
    return (float)(1.0 / _mm512_reduce_add_pd(_mm512_add_pd(s0, s1)));
}

static void group_softmax_mean_avx512(float *s, int64_t lds, int nq, int64_t n, float *a) {
    const __m512 vinq = _mm512_set1_ps(1.0f / (float)nq);
    for (int r = 0; r < nq; r++) {
        float *x = s + r * lds;
        const __m512 inv = _mm512_set1_ps(exp_row(x, n));
        for (int64_t i = 0; i < n; i += 16) {
            const __mmask16 m = first_lanes(n - i);
            const __m512 p = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), inv);
            _mm512_mask_storeu_ps(x + i, m, p);
            __m512 acc = r == 0 ? p : _mm512_add_ps(_mm512_maskz_loadu_ps(m, a + i), p);
            if (r == nq - 1) acc = _mm512_mul_ps(acc, vinq);
            _mm512_mask_storeu_ps(a + i, m, acc);
        }
    }
}

static float eff_count_avx512(const float *a, int64_t n) {
    const __m512 zero = _mm512_setzero_ps();
    __m512d h0 = _mm512_setzero_pd(), h1 = _mm512_setzero_pd();
    for (int64_t i = 0; i < n; i += 16) {
        const __m512 v = _mm512_maskz_loadu_ps(first_lanes(n - i), a + i); /* 0 past n */
        const __m512 t = _mm512_maskz_mul_ps(_mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), v, Sleef_logf16_u10(v));
        h0 = _mm512_add_pd(h0, _mm512_cvtps_pd(_mm512_castps512_ps256(t)));
        h1 = _mm512_add_pd(h1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(t), 1))));
    }
    return (float)exp(-_mm512_reduce_add_pd(_mm512_add_pd(h0, h1)));
}

static void topk_avx512(const float *a, int n, int k, int32_t *idx) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i one = _mm512_set1_epi32(1), vk = _mm512_set1_epi32(k);
    int c = 0;
    for (int jb = 0; jb < n; jb += 16) {
        const __mmask16 valid = first_lanes(n - jb);
        const __m512i j = _mm512_add_epi32(lane, _mm512_set1_epi32(jb));
        const __m512 aj = _mm512_maskz_loadu_ps(valid, a + jb);
        __m512i rank = _mm512_setzero_si512();
        for (int i = 0; i < n; i++) {
            const __m512 ai = _mm512_set1_ps(a[i]);
            const __mmask16 before = _mm512_cmpgt_epi32_mask(j, _mm512_set1_epi32(i)); /* i < j */
            const __mmask16 ahead = _mm512_cmp_ps_mask(ai, aj, _CMP_GT_OQ) |
                                    (before & _mm512_cmp_ps_mask(ai, aj, _CMP_EQ_OQ));
            rank = _mm512_mask_add_epi32(rank, ahead, rank, one);
        }
        const __mmask16 keep = valid & _mm512_cmplt_epi32_mask(rank, vk);
        const int cnt = __builtin_popcount((unsigned)keep);
        _mm512_mask_storeu_epi32(idx + c, (__mmask16)((1u << cnt) - 1), _mm512_maskz_compress_epi32(keep, j));
        c += cnt;
    }
}

static void gather_rows_avx512(const tca_f16 *src, int64_t lds, const int32_t *idx, int k, int d, tca_f16 *dst,
                               int64_t ldd) {
    for (int i = 0; i < k; i++) {
        const tca_f16 *s = src + idx[i] * lds;
        tca_f16 *t = dst + i * ldd;
        if (s == t) continue; /* in place and already there */
        int c = 0;
        for (; c + 32 <= d; c += 32) _mm512_storeu_si512(t + c, _mm512_loadu_si512(s + c));
        if (c < d) _mm256_storeu_si256((__m256i *)(t + c), _mm256_loadu_si256((const __m256i *)(s + c)));
    }
}

void tca_select_register_avx512(tca_kernels *k) {
    k->score_dot = score_dot_avx512;
    k->group_softmax_mean = group_softmax_mean_avx512;
    k->eff_count = eff_count_avx512;
    k->topk = topk_avx512;
    k->gather_rows = gather_rows_avx512;
}
