/* AVX-512 elementwise kernels (contract: elementwise.h; arithmetic: ref/elementwise_ref.c).
 * Tails use masked loads and stores (masked-off lanes load as 0 and are never stored). */
#include <immintrin.h>
#include <math.h>
#include <sleef.h>

#include "kernels.h"
#include "ref/elementwise_ref.h"
#include "x86/elementwise_x86.h"

static inline __mmask16 first_lanes(int64_t n) { /* lanes i < n */
    return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
}

/* Adds the exact squares of 16 floats to two double accumulators. */
static inline void add_squares(__m512 x, __m512d *a0, __m512d *a1) {
    const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(x));
    const __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)));
    *a0 = _mm512_fmadd_pd(lo, lo, *a0); /* the square is exact in double: fusing changes nothing */
    *a1 = _mm512_fmadd_pd(hi, hi, *a1);
}

static void rmsnorm_avx512(const float *x, const float *w, float *y, int64_t n, float eps) {
    __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();
    for (int64_t i = 0; i < n; i += 16)
        add_squares(_mm512_maskz_loadu_ps(first_lanes(n - i), x + i), &a0, &a1);
    const __m512 s = _mm512_set1_ps(tca_rmsnorm_scale(_mm512_reduce_add_pd(_mm512_add_pd(a0, a1)), n, eps));
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 k = first_lanes(n - i);
        const __m512 v = _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + i), s), _mm512_maskz_loadu_ps(k, w + i));
        _mm512_mask_storeu_ps(y + i, k, v);
    }
}

/* neox = 1: x[i] and x[i + d/2] are partners; cos/sin line up with the first half. */
static void rope_neox(float *xh, int half, const float *cos, const float *sin) {
    for (int i = 0; i < half; i += 16) {
        const __mmask16 k = first_lanes(half - i);
        const __m512 a = _mm512_maskz_loadu_ps(k, xh + i), b = _mm512_maskz_loadu_ps(k, xh + half + i);
        const __m512 c = _mm512_maskz_loadu_ps(k, cos + i), s = _mm512_maskz_loadu_ps(k, sin + i);
        _mm512_mask_storeu_ps(xh + i, k, _mm512_sub_ps(_mm512_mul_ps(a, c), _mm512_mul_ps(b, s)));
        _mm512_mask_storeu_ps(xh + half + i, k, _mm512_add_ps(_mm512_mul_ps(a, s), _mm512_mul_ps(b, c)));
    }
}

/* neox = 0: (x[2i], x[2i+1]) pairs. With c and s repeated per pair and the pair swapped,
 * out = x * c + swap(x) * (-s, s): x0*c + x1*(-s) equals x0*c - x1*s exactly, and x1*c + x0*s
 * is x0*s + x1*c with the addends swapped, so this is bit-identical to the reference. */
static void rope_pairs(float *xh, int d, const float *cos, const float *sin) {
    const __m512i dup = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m512 neg_even = _mm512_castsi512_ps(_mm512_setr_epi32(
        (int)0x80000000, 0, (int)0x80000000, 0, (int)0x80000000, 0, (int)0x80000000, 0,
        (int)0x80000000, 0, (int)0x80000000, 0, (int)0x80000000, 0, (int)0x80000000, 0));
    for (int i = 0; i < d; i += 16) {
        const __mmask16 k = first_lanes(d - i), kh = first_lanes((d - i) / 2);
        const __m512 x = _mm512_maskz_loadu_ps(k, xh + i);
        const __m512 c = _mm512_permutexvar_ps(dup, _mm512_maskz_loadu_ps(kh, cos + i / 2));
        const __m512 s = _mm512_xor_ps(_mm512_permutexvar_ps(dup, _mm512_maskz_loadu_ps(kh, sin + i / 2)), neg_even);
        const __m512 xs = _mm512_permute_ps(x, 0xb1);
        _mm512_mask_storeu_ps(xh + i, k, _mm512_add_ps(_mm512_mul_ps(x, c), _mm512_mul_ps(xs, s)));
    }
}

static void rope_avx512(float *x, int64_t n_heads, int d, const float *cos, const float *sin, int neox) {
    for (int64_t h = 0; h < n_heads; h++) {
        if (neox)
            rope_neox(x + h * d, d / 2, cos, sin);
        else
            rope_pairs(x + h * d, d, cos, sin);
    }
}

static void silu_mul_avx512(const float *g, const float *u, float *y, int64_t n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 k = first_lanes(n - i);
        const __m512 gv = _mm512_maskz_loadu_ps(k, g + i), uv = _mm512_maskz_loadu_ps(k, u + i);
        const __m512 e = Sleef_expf16_u10(_mm512_sub_ps(_mm512_setzero_ps(), gv));
        _mm512_mask_storeu_ps(y + i, k, _mm512_mul_ps(_mm512_div_ps(gv, _mm512_add_ps(one, e)), uv));
    }
}

static void softmax_avx512(float *x, int64_t n) {
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 k = first_lanes(n - i);
        mx = _mm512_mask_max_ps(mx, k, mx, _mm512_maskz_loadu_ps(k, x + i));
    }
    const __m512 vm = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 k = first_lanes(n - i);
        const __m512 e = _mm512_maskz_mov_ps(k, Sleef_expf16_u10(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), vm)));
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
        _mm512_mask_storeu_ps(x + i, k, e);
    }
    const __m512 inv = _mm512_set1_ps((float)(1.0 / _mm512_reduce_add_pd(_mm512_add_pd(s0, s1))));
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 k = first_lanes(n - i);
        _mm512_mask_storeu_ps(x + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + i), inv));
    }
}

/* VCVTPS2PH rounds to nearest even, keeps subnormals and quietens NaN keeping its top payload
 * bits: the reference's rule. */
static void f32_to_f16_avx512(const float *x, tca_f16 *y, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 k = first_lanes(n - i);
        const __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(k, x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_mask_storeu_epi16(y + i, k, h);
    }
}

void tca_elementwise_register_avx512(tca_kernels *k) {
    k->rmsnorm = rmsnorm_avx512;
    k->rope = rope_avx512;
    k->silu_mul = silu_mul_avx512;
    k->softmax = softmax_avx512;
    k->f32_to_f16 = f32_to_f16_avx512;
}
