/* AVX2 elementwise kernels (contract: elementwise.h; arithmetic: ref/elementwise_ref.c).
 * Tails use AVX's vmaskmovps (masked-off lanes load as 0 and are never stored). */
#include <immintrin.h>
#include <math.h>
#include <sleef.h>
#include <string.h>

#include "kernels.h"
#include "ref/elementwise_ref.h"
#include "x86/elementwise_x86.h"

static inline __m256i first_lanes(int64_t n) { /* all-ones in lanes i < n */
    const int32_t c = n > 8 ? 8 : (int32_t)n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline __m128i first_lanes4(int64_t n) {
    const int32_t c = n > 4 ? 4 : (int32_t)n;
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

static void rmsnorm_avx2(const float *x, const float *w, float *y, int64_t n, float eps) {
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    for (int64_t i = 0; i < n; i += 8) {
        const __m256 v = _mm256_maskload_ps(x + i, first_lanes(n - i));
        const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
        a0 = _mm256_fmadd_pd(lo, lo, a0); /* the square is exact in double: fusing changes nothing */
        a1 = _mm256_fmadd_pd(hi, hi, a1);
    }
    const __m256 s = _mm256_set1_ps(tca_rmsnorm_scale(hsum_pd(_mm256_add_pd(a0, a1)), n, eps));
    for (int64_t i = 0; i < n; i += 8) {
        const __m256i k = first_lanes(n - i);
        const __m256 v = _mm256_mul_ps(_mm256_mul_ps(_mm256_maskload_ps(x + i, k), s), _mm256_maskload_ps(w + i, k));
        _mm256_maskstore_ps(y + i, k, v);
    }
}

/* neox = 1: x[i] and x[i + d/2] are partners; cos/sin line up with the first half. */
static void rope_neox(float *xh, int half, const float *cos, const float *sin) {
    for (int i = 0; i < half; i += 8) {
        const __m256i k = first_lanes(half - i);
        const __m256 a = _mm256_maskload_ps(xh + i, k), b = _mm256_maskload_ps(xh + half + i, k);
        const __m256 c = _mm256_maskload_ps(cos + i, k), s = _mm256_maskload_ps(sin + i, k);
        _mm256_maskstore_ps(xh + i, k, _mm256_sub_ps(_mm256_mul_ps(a, c), _mm256_mul_ps(b, s)));
        _mm256_maskstore_ps(xh + half + i, k, _mm256_add_ps(_mm256_mul_ps(a, s), _mm256_mul_ps(b, c)));
    }
}

/* neox = 0: (x[2i], x[2i+1]) pairs, as x * c + swap(x) * (-s, s) with c and s repeated per pair:
 * bit-identical to the reference (see elementwise_avx512.c). */
static void rope_pairs(float *xh, int d, const float *cos, const float *sin) {
    const __m256i dup = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
    const __m256 neg_even = _mm256_castsi256_ps(_mm256_setr_epi32((int)0x80000000, 0, (int)0x80000000, 0,
                                                                   (int)0x80000000, 0, (int)0x80000000, 0));
    for (int i = 0; i < d; i += 8) {
        const __m256i k = first_lanes(d - i);
        const __m128i kh = first_lanes4((d - i) / 2);
        const __m256 x = _mm256_maskload_ps(xh + i, k);
        const __m256 c = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_maskload_ps(cos + i / 2, kh)), dup);
        const __m256 s = _mm256_xor_ps(
            _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_maskload_ps(sin + i / 2, kh)), dup), neg_even);
        const __m256 xs = _mm256_permute_ps(x, 0xb1);
        _mm256_maskstore_ps(xh + i, k, _mm256_add_ps(_mm256_mul_ps(x, c), _mm256_mul_ps(xs, s)));
    }
}

static void rope_avx2(float *x, int64_t n_heads, int d, const float *cos, const float *sin, int neox) {
    for (int64_t h = 0; h < n_heads; h++) {
        if (neox)
            rope_neox(x + h * d, d / 2, cos, sin);
        else
            rope_pairs(x + h * d, d, cos, sin);
    }
}

static void silu_mul_avx2(const float *g, const float *u, float *y, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    for (int64_t i = 0; i < n; i += 8) {
        const __m256i k = first_lanes(n - i);
        const __m256 gv = _mm256_maskload_ps(g + i, k), uv = _mm256_maskload_ps(u + i, k);
        const __m256 e = Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_setzero_ps(), gv));
        _mm256_maskstore_ps(y + i, k, _mm256_mul_ps(_mm256_div_ps(gv, _mm256_add_ps(one, e)), uv));
    }
}

static void softmax_avx2(float *x, int64_t n) {
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256 mx = ninf;
    for (int64_t i = 0; i < n; i += 8) {
        const __m256i k = first_lanes(n - i);
        mx = _mm256_max_ps(mx, _mm256_blendv_ps(ninf, _mm256_maskload_ps(x + i, k), _mm256_castsi256_ps(k)));
    }
    const __m256 vm = _mm256_set1_ps(hmax(mx));
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    for (int64_t i = 0; i < n; i += 8) {
        const __m256i k = first_lanes(n - i);
        const __m256 e = _mm256_and_ps(_mm256_castsi256_ps(k),
                                       Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_maskload_ps(x + i, k), vm)));
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
        _mm256_maskstore_ps(x + i, k, e);
    }
    const __m256 inv = _mm256_set1_ps((float)(1.0 / hsum_pd(_mm256_add_pd(s0, s1))));
    for (int64_t i = 0; i < n; i += 8) {
        const __m256i k = first_lanes(n - i);
        _mm256_maskstore_ps(x + i, k, _mm256_mul_ps(_mm256_maskload_ps(x + i, k), inv));
    }
}

/* F16C's VCVTPS2PH rounds to nearest even, keeps subnormals and quietens NaN keeping its top
 * payload bits: the reference's rule. */
static void f32_to_f16_avx2(const float *x, tca_f16 *y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    if (i < n) {
        uint16_t h[8];
        _mm_storeu_si128((__m128i *)h, _mm256_cvtps_ph(_mm256_maskload_ps(x + i, first_lanes(n - i)),
                                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        memcpy(y + i, h, (size_t)(n - i) * sizeof *h);
    }
}

void tca_elementwise_register_avx2(tca_kernels *k) {
    k->rmsnorm = rmsnorm_avx2;
    k->rope = rope_avx2;
    k->silu_mul = silu_mul_avx2;
    k->softmax = softmax_avx2;
    k->f32_to_f16 = f32_to_f16_avx2;
}
