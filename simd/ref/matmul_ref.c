/* Reference quantized products (contract: matmul.h).
 *
 * Activation quantizers (ggml's symmetric 8-bit schemes): per block, amax = max |x|,
 * d = amax / 127, id = 1 / d (0 for an all-zero block), q = round_half_away(x * id), computed in
 * f32 in exactly that order so that every variant can reproduce the bytes. Q8_0/Q8_1 store d as
 * f16 (the dequantized activation is f16(d) * q); Q8_1 also stores s = f16(d * sum(q)) with the
 * unrounded d; Q8_K keeps d in f32 and the sums of each 16 quants in bsums. |x * id| <= 127 up
 * to two roundings, so q never leaves [-127, 127] and needs no clamp.
 *
 * Products: per weight block an exact integer dot of the quants, then one f32 scale step, added
 * to an f32 accumulator in block order (the order the variants are free to change):
 *   Q4_0, Q5_0, Q8_0 (act Q8_0):  acc += (dw * dx) * isum(qw - offset, qx)
 *   Q4_1, Q5_1       (act Q8_1):  acc += (dw * dx) * isum(qw, qx) + m * s
 *   Q4_K, Q5_K       (act Q8_K):  acc += (d * dx) * sum_j sc_j isum_j - (dmin * dx) * sum_j m_j bsum_j
 *   Q6_K             (act Q8_K):  acc += (d * dx) * sum_g sc_g isum_g(qw - 32, qx)
 *   F32, F16, BF16   (act F32):   acc += w * x, element by element.
 * The K types' integer sums fit in int32 (|sum| <= 256 * 63 * 127 * 128 < 2^31). Q8_1's s is
 * rounded to f16, so Q4_1/Q5_1 differ from the exact dot of the dequantized operands by up to
 * 2^-11 |m s| per block (the test allows for it); all other types only by f32 roundings. */
#include "ref/matmul_ref.h"

#include <math.h>
#include <string.h>

#include "quant.h"
#include "ref/dequant_ref.h"

int tca_act_type(int weight_type) {
    switch (weight_type) {
    case TCA_TYPE_Q4_0:
    case TCA_TYPE_Q5_0:
    case TCA_TYPE_Q8_0: return TCA_TYPE_Q8_0;
    case TCA_TYPE_Q4_1:
    case TCA_TYPE_Q5_1: return TCA_TYPE_Q8_1;
    case TCA_TYPE_Q4_K:
    case TCA_TYPE_Q5_K:
    case TCA_TYPE_Q6_K: return TCA_TYPE_Q8_K;
    case TCA_TYPE_F32:
    case TCA_TYPE_F16:
    case TCA_TYPE_BF16: return TCA_TYPE_F32;
    default: return -1;
    }
}

static inline float ld_f16(const uint8_t *p) {
    tca_f16 h;
    memcpy(&h, p, sizeof h);
    return tca_f16_to_f32(h);
}

static inline void st_f16(uint8_t *p, float f) {
    const tca_f16 h = tca_f32_to_f16(f);
    memcpy(p, &h, sizeof h);
}

/* One block of k floats: returns d (f32) and writes q[0..k-1]; *sum = sum of q. */
static float quantize_block(const float *x, int8_t *q, int k, int *sum) {
    float amax = 0.0f;
    for (int j = 0; j < k; j++) amax = fmaxf(amax, fabsf(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    int s = 0;
    for (int j = 0; j < k; j++) {
        q[j] = (int8_t)tca_round_half_away(x[j] * id);
        s += q[j];
    }
    *sum = s;
    return d;
}

void tca_quantize_act_q8_0_ref(const float *x, void *xq, int64_t n) {
    uint8_t *b = xq;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q8_0), x += TCA_QK) {
        int sum;
        const float d = quantize_block(x, (int8_t *)(b + offsetof(tca_block_q8_0, qs)), TCA_QK, &sum);
        st_f16(b + offsetof(tca_block_q8_0, d), d);
    }
}

void tca_quantize_act_q8_1_ref(const float *x, void *xq, int64_t n) {
    uint8_t *b = xq;
    for (int64_t i = 0; i < n / TCA_QK; i++, b += sizeof(tca_block_q8_1), x += TCA_QK) {
        int sum;
        const float d = quantize_block(x, (int8_t *)(b + offsetof(tca_block_q8_1, qs)), TCA_QK, &sum);
        st_f16(b + offsetof(tca_block_q8_1, d), d);
        st_f16(b + offsetof(tca_block_q8_1, s), d * (float)sum);
    }
}

void tca_quantize_act_q8_K_ref(const float *x, void *xq, int64_t n) {
    uint8_t *b = xq;
    for (int64_t i = 0; i < n / TCA_QK_K; i++, b += sizeof(tca_block_q8_K), x += TCA_QK_K) {
        int8_t *q = (int8_t *)(b + offsetof(tca_block_q8_K, qs));
        int sum;
        const float d = quantize_block(x, q, TCA_QK_K, &sum);
        memcpy(b + offsetof(tca_block_q8_K, d), &d, sizeof d);
        for (int g = 0; g < TCA_QK_K / 16; g++) {
            int16_t s = 0;
            for (int j = 0; j < 16; j++) s = (int16_t)(s + q[16 * g + j]);
            memcpy(b + offsetof(tca_block_q8_K, bsums) + 2 * g, &s, sizeof s);
        }
    }
}

void tca_quantize_act_f32_ref(const float *x, void *xq, int64_t n) {
    if (n > 0) memcpy(xq, x, (size_t)n * sizeof(float));
}

/* The row/column loops shared by every type: y[i * ldy + r] = DOT(weight row r, act row i). */
#define FOR_EACH_OUTPUT(DOT)                                                                       \
    for (int64_t i = 0; i < m; i++)                                                                \
        for (int64_t r = 0; r < rows; r++)                                                         \
            y[i * ldy + r] = DOT((const uint8_t *)w + (size_t)r * w_stride,                       \
                                 (const uint8_t *)xq + (size_t)i * xq_stride, n)

static float dot_f32(const uint8_t *w, const uint8_t *x, int64_t n) {
    float acc = 0.0f;
    for (int64_t j = 0; j < n; j++) {
        float a, b;
        memcpy(&a, w + 4 * j, 4);
        memcpy(&b, x + 4 * j, 4);
        acc += a * b;
    }
    return acc;
}

static float dot_f16(const uint8_t *w, const uint8_t *x, int64_t n) {
    float acc = 0.0f;
    for (int64_t j = 0; j < n; j++) {
        float b;
        memcpy(&b, x + 4 * j, 4);
        acc += ld_f16(w + 2 * j) * b;
    }
    return acc;
}

static float dot_bf16(const uint8_t *w, const uint8_t *x, int64_t n) {
    float acc = 0.0f;
    for (int64_t j = 0; j < n; j++) {
        tca_bf16 h;
        float b;
        memcpy(&h, w + 2 * j, 2);
        memcpy(&b, x + 4 * j, 4);
        acc += tca_bf16_to_f32(h) * b;
    }
    return acc;
}

/* Legacy types: 32 weight quants as ints (offset already removed for the symmetric types). */
static void q4_vals(const uint8_t *qs, int *v, int offset) {
    for (int j = 0; j < 16; j++) {
        v[j] = (qs[j] & 0x0f) - offset;
        v[j + 16] = (qs[j] >> 4) - offset;
    }
}

static void q5_vals(const uint8_t *qh4, const uint8_t *qs, int *v, int offset) {
    const uint32_t qh = (uint32_t)qh4[0] | (uint32_t)qh4[1] << 8 | (uint32_t)qh4[2] << 16 | (uint32_t)qh4[3] << 24;
    for (int j = 0; j < 16; j++) {
        v[j] = ((qs[j] & 0x0f) | (int)((qh >> j) & 1) << 4) - offset;
        v[j + 16] = ((qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4) - offset;
    }
}

static int isum32(const int *v, const int8_t *q) {
    int s = 0;
    for (int j = 0; j < TCA_QK; j++) s += v[j] * q[j];
    return s;
}

static float dot_q4_0(const uint8_t *w, const uint8_t *x, int64_t n) {
    float acc = 0.0f;
    for (int64_t b = 0; b < n / TCA_QK; b++, w += sizeof(tca_block_q4_0), x += sizeof(tca_block_q8_0)) {
        int v[TCA_QK];
        q4_vals(w + offsetof(tca_block_q4_0, qs), v, 8);
        const int s = isum32(v, (const int8_t *)(x + offsetof(tca_block_q8_0, qs)));
        acc += ld_f16(w + offsetof(tca_block_q4_0, d)) * ld_f16(x + offsetof(tca_block_q8_0, d)) * (float)s;
    }
    return acc;
}

static float dot_q5_0(const uint8_t *w, const uint8_t *x, int64_t n) {
    float acc = 0.0f;
    for (int64_t b = 0; b < n / TCA_QK; b++, w += sizeof(tca_block_q5_0), x += sizeof(tca_block_q8_0)) {
        int v[TCA_QK];
        q5_vals(w + offsetof(tca_block_q5_0, qh), w + offsetof(tca_block_q5_0, qs), v, 16);
        const int s = isum32(v, (const int8_t *)(x + offsetof(tca_block_q8_0, qs)));
        acc += ld_f16(w + offsetof(tca_block_q5_0, d)) * ld_f16(x + offsetof(tca_block_q8_0, d)) * (float)s;
    }
    return acc;
}

static float dot_q8_0(const uint8_t *w, const uint8_t *x, int64_t n) {
    float acc = 0.0f;
    for (int64_t b = 0; b < n / TCA_QK; b++, w += sizeof(tca_block_q8_0), x += sizeof(tca_block_q8_0)) {
        const int8_t *qw = (const int8_t *)(w + offsetof(tca_block_q8_0, qs));
        const int8_t *qx = (const int8_t *)(x + offsetof(tca_block_q8_0, qs));
        int s = 0;
        for (int j = 0; j < TCA_QK; j++) s += qw[j] * qx[j];
        acc += ld_f16(w + offsetof(tca_block_q8_0, d)) * ld_f16(x + offsetof(tca_block_q8_0, d)) * (float)s;
    }
    return acc;
}

static float dot_q4_1(const uint8_t *w, const uint8_t *x, int64_t n) {
    float acc = 0.0f;
    for (int64_t b = 0; b < n / TCA_QK; b++, w += sizeof(tca_block_q4_1), x += sizeof(tca_block_q8_1)) {
        int v[TCA_QK];
        q4_vals(w + offsetof(tca_block_q4_1, qs), v, 0);
        const int s = isum32(v, (const int8_t *)(x + offsetof(tca_block_q8_1, qs)));
        acc += ld_f16(w + offsetof(tca_block_q4_1, d)) * ld_f16(x + offsetof(tca_block_q8_1, d)) * (float)s +
               ld_f16(w + offsetof(tca_block_q4_1, m)) * ld_f16(x + offsetof(tca_block_q8_1, s));
    }
    return acc;
}

static float dot_q5_1(const uint8_t *w, const uint8_t *x, int64_t n) {
    float acc = 0.0f;
    for (int64_t b = 0; b < n / TCA_QK; b++, w += sizeof(tca_block_q5_1), x += sizeof(tca_block_q8_1)) {
        int v[TCA_QK];
        q5_vals(w + offsetof(tca_block_q5_1, qh), w + offsetof(tca_block_q5_1, qs), v, 0);
        const int s = isum32(v, (const int8_t *)(x + offsetof(tca_block_q8_1, qs)));
        acc += ld_f16(w + offsetof(tca_block_q5_1, d)) * ld_f16(x + offsetof(tca_block_q8_1, d)) * (float)s +
               ld_f16(w + offsetof(tca_block_q5_1, m)) * ld_f16(x + offsetof(tca_block_q8_1, s));
    }
    return acc;
}

static inline float ld_f32(const uint8_t *p) {
    float f;
    memcpy(&f, p, sizeof f);
    return f;
}

static inline int ld_i16(const uint8_t *p) {
    int16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Q4_K and Q5_K: sub-block j (32 elements) has 6-bit scale sc_j and min m_j; the min term uses
 * the activation's per-16 sums (bsums 2j and 2j + 1 cover sub-block j). */
static float dot_q45_K(const uint8_t *w, const uint8_t *x, int64_t n, int five) {
    const size_t wb = five ? sizeof(tca_block_q5_K) : sizeof(tca_block_q4_K);
    const size_t o_d = five ? offsetof(tca_block_q5_K, d) : offsetof(tca_block_q4_K, d);
    const size_t o_dmin = five ? offsetof(tca_block_q5_K, dmin) : offsetof(tca_block_q4_K, dmin);
    const size_t o_sc = five ? offsetof(tca_block_q5_K, scales) : offsetof(tca_block_q4_K, scales);
    const size_t o_qs = five ? offsetof(tca_block_q5_K, qs) : offsetof(tca_block_q4_K, qs);
    float acc = 0.0f;
    for (int64_t b = 0; b < n / TCA_QK_K; b++, w += wb, x += sizeof(tca_block_q8_K)) {
        const uint8_t *qs = w + o_qs, *qh = w + offsetof(tca_block_q5_K, qh);
        const int8_t *qx = (const int8_t *)(x + offsetof(tca_block_q8_K, qs));
        int32_t isum = 0, msum = 0;
        for (int j = 0; j < 8; j++) {
            uint8_t sc, mn;
            tca_q4k_scale_min(w + o_sc, j, &sc, &mn);
            const uint8_t *q = qs + 32 * (j / 2);
            const int shift = 4 * (j % 2);
            int s = 0;
            for (int l = 0; l < 32; l++) {
                int v = (q[l] >> shift) & 0x0f;
                if (five) v |= ((qh[l] >> j) & 1) << 4;
                s += v * qx[32 * j + l];
            }
            isum += sc * s;
            msum += mn * (ld_i16(x + offsetof(tca_block_q8_K, bsums) + 4 * j) +
                          ld_i16(x + offsetof(tca_block_q8_K, bsums) + 4 * j + 2));
        }
        const float dx = ld_f32(x + offsetof(tca_block_q8_K, d));
        acc += ld_f16(w + o_d) * dx * (float)isum - ld_f16(w + o_dmin) * dx * (float)msum;
    }
    return acc;
}

static float dot_q4_K(const uint8_t *w, const uint8_t *x, int64_t n) { return dot_q45_K(w, x, n, 0); }
static float dot_q5_K(const uint8_t *w, const uint8_t *x, int64_t n) { return dot_q45_K(w, x, n, 1); }

/* Q6_K: element e = 128h + 32s + l, 6-bit quant stored +32, signed 8-bit scale per 16. */
static float dot_q6_K(const uint8_t *w, const uint8_t *x, int64_t n) {
    float acc = 0.0f;
    for (int64_t b = 0; b < n / TCA_QK_K; b++, w += sizeof(tca_block_q6_K), x += sizeof(tca_block_q8_K)) {
        const uint8_t *ql = w + offsetof(tca_block_q6_K, ql), *qh = w + offsetof(tca_block_q6_K, qh);
        const int8_t *sc = (const int8_t *)(w + offsetof(tca_block_q6_K, scales));
        const int8_t *qx = (const int8_t *)(x + offsetof(tca_block_q8_K, qs));
        int32_t isum = 0;
        for (int g = 0; g < 16; g++) {
            int s = 0;
            for (int k = 0; k < 16; k++) {
                const int e = 16 * g + k, h = e / 128, sb = (e / 32) % 4, l = e % 32;
                const int low = (ql[64 * h + 32 * (sb % 2) + l] >> (4 * (sb / 2))) & 0x0f;
                const int high = (qh[32 * h + l] >> (2 * sb)) & 3;
                s += ((low | high << 4) - 32) * qx[e];
            }
            isum += sc[g] * s;
        }
        acc += ld_f16(w + offsetof(tca_block_q6_K, d)) * ld_f32(x + offsetof(tca_block_q8_K, d)) * (float)isum;
    }
    return acc;
}

#define DEFINE_QGEMM_REF(t)                                                                        \
    void tca_qgemm_##t##_ref(const void *w, size_t w_stride, const void *xq, size_t xq_stride,     \
                             float *y, int64_t ldy, int64_t rows, int64_t m, int64_t n) {          \
        FOR_EACH_OUTPUT(dot_##t);                                                                  \
    }
DEFINE_QGEMM_REF(f32)
DEFINE_QGEMM_REF(f16)
DEFINE_QGEMM_REF(bf16)
DEFINE_QGEMM_REF(q4_0)
DEFINE_QGEMM_REF(q4_1)
DEFINE_QGEMM_REF(q5_0)
DEFINE_QGEMM_REF(q5_1)
DEFINE_QGEMM_REF(q8_0)
DEFINE_QGEMM_REF(q4_K)
DEFINE_QGEMM_REF(q5_K)
DEFINE_QGEMM_REF(q6_K)

void tca_matmul_ref_register(tca_quantize_act_fn *quantize_act, tca_qgemm_fn *qgemm) {
    static const struct { int type; tca_qgemm_fn fn; } kernels[] = {
        {TCA_TYPE_F32, tca_qgemm_f32_ref},   {TCA_TYPE_F16, tca_qgemm_f16_ref},
        {TCA_TYPE_BF16, tca_qgemm_bf16_ref}, {TCA_TYPE_Q4_0, tca_qgemm_q4_0_ref},
        {TCA_TYPE_Q4_1, tca_qgemm_q4_1_ref}, {TCA_TYPE_Q5_0, tca_qgemm_q5_0_ref},
        {TCA_TYPE_Q5_1, tca_qgemm_q5_1_ref}, {TCA_TYPE_Q8_0, tca_qgemm_q8_0_ref},
        {TCA_TYPE_Q4_K, tca_qgemm_q4_K_ref}, {TCA_TYPE_Q5_K, tca_qgemm_q5_K_ref},
        {TCA_TYPE_Q6_K, tca_qgemm_q6_K_ref},
    };
    for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++) {
        const int t = kernels[k].type;
        qgemm[t] = kernels[k].fn;
        switch (tca_act_type(t)) {
        case TCA_TYPE_Q8_0: quantize_act[t] = tca_quantize_act_q8_0_ref; break;
        case TCA_TYPE_Q8_1: quantize_act[t] = tca_quantize_act_q8_1_ref; break;
        case TCA_TYPE_Q8_K: quantize_act[t] = tca_quantize_act_q8_K_ref; break;
        default: quantize_act[t] = tca_quantize_act_f32_ref; break;
        }
    }
}
