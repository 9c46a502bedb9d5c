/* checkasm-style test of the quantized products (matmul.h).
 *
 * For every weight type with a product kernel:
 *   1. the reference itself, against an independent computation: the weight row and the
 *      quantized activation row are decoded with the dequant reference kernels and dotted in
 *      double; |ref - exact| must stay within 1e-5 * sum |w| |x| (plus, for Q4_1/Q5_1, the
 *      f16 rounding of Q8_1's s, computed per block from the bytes);
 *   2. every ISA level this build and CPU have (tca_kernels_fill) whose table entry differs from
 *      ref: quantize_act must give the reference's bytes exactly, and qgemm must match ref within
 *      matmul.h's bound 1e-5 * sum |w| |x| per output.
 * Shapes: n of 1, 3 and 7 blocks plus 576, 896 (and 1536 for the 256-element K types) where n is a
 * whole number of blocks; rows in {1, 3, 16, 17, 33}; m in {1, 2, 5, 16, 33}. Weights are random
 * valid blocks (random bytes with realistic f16 scales), activations random floats with an
 * all-zero block and outliers. Weight rows, activation rows and y sit at random byte/float
 * offsets with padded strides; canaries fill y's row gaps and both ends and must stay untouched.
 * Seed: TCA_TEST_SEED (default fixed), printed at the start and with every failure.
 * Needs no files, no Python and no threads, so it runs under qemu-aarch64 too. */
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "quant.h"

#define GUARD 16
#define MAX_OFF 64      /* byte misalignment of weights and activations */
#define MAX_ROWS 33
#define MAX_M 33
#define MAX_N 1792
#define MAX_LDY_PAD 3
#define CANARY 0x7fc0dea5u
#define REL_BOUND 1e-5

static uint64_t rng_state, seed;
static int failures;
static long cases_run;

static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double urand(void) { return (double)(rnd() >> 11) * 0x1.0p-53; } /* [0, 1) */

static void fail(const char *isa, const char *type, int64_t n, int64_t rows, int64_t m, const char *what) {
    failures++;
    if (failures <= 30)
        fprintf(stderr, "FAIL %s %s n=%" PRId64 " rows=%" PRId64 " m=%" PRId64 ": %s (replay with TCA_TEST_SEED=%" PRIu64 ")\n",
                isa, type, n, rows, m, what, seed);
}

static void put_f16(uint8_t *p, float f) {
    const tca_f16 h = tca_f32_to_f16(f);
    memcpy(p, &h, 2);
}

/* A random f16 scale of magnitude 2^-12 .. 2^-4, either sign (sign only where allowed). */
static float rand_scale(int allow_negative) {
    const float mag = (float)ldexp(1.0 + urand(), -4 - (int)(rnd() % 9));
    return allow_negative && (rnd() & 1) ? -mag : mag;
}

/* Offsets of the f16 scale fields in a block: d, then a second one (m / dmin) or -1. */
static void scale_fields(int type, int *d, int *d2) {
    *d2 = -1;
    switch (type) {
    case TCA_TYPE_Q4_0: *d = offsetof(tca_block_q4_0, d); break;
    case TCA_TYPE_Q4_1: *d = offsetof(tca_block_q4_1, d); *d2 = offsetof(tca_block_q4_1, m); break;
    case TCA_TYPE_Q5_0: *d = offsetof(tca_block_q5_0, d); break;
    case TCA_TYPE_Q5_1: *d = offsetof(tca_block_q5_1, d); *d2 = offsetof(tca_block_q5_1, m); break;
    case TCA_TYPE_Q8_0: *d = offsetof(tca_block_q8_0, d); break;
    case TCA_TYPE_Q4_K: *d = offsetof(tca_block_q4_K, d); *d2 = offsetof(tca_block_q4_K, dmin); break;
    case TCA_TYPE_Q5_K: *d = offsetof(tca_block_q5_K, d); *d2 = offsetof(tca_block_q5_K, dmin); break;
    case TCA_TYPE_Q6_K: *d = offsetof(tca_block_q6_K, d); break;
    default: *d = -1; break;
    }
}

/* One random valid weight row of n elements at dst. */
static void random_weights(int type, uint8_t *dst, int64_t n) {
    const tca_type_traits *tr = tca_type_info((uint32_t)type);
    if (type == TCA_TYPE_F32 || type == TCA_TYPE_F16 || type == TCA_TYPE_BF16) {
        for (int64_t j = 0; j < n; j++) {
            const float v = (float)(2.0 * urand() - 1.0);
            if (type == TCA_TYPE_F32) {
                memcpy(dst + 4 * j, &v, 4);
            } else if (type == TCA_TYPE_F16) {
                put_f16(dst + 2 * j, v);
            } else {
                uint32_t u;
                memcpy(&u, &v, 4);
                const uint16_t h = (uint16_t)(u >> 16);
                memcpy(dst + 2 * j, &h, 2);
            }
        }
        return;
    }
    const int64_t blocks = n / tr->block_elems;
    for (int64_t i = 0; i < blocks * tr->block_bytes; i++) dst[i] = (uint8_t)rnd();
    int od, od2;
    scale_fields(type, &od, &od2);
    for (int64_t b = 0; b < blocks; b++) {
        uint8_t *blk = dst + b * tr->block_bytes;
        put_f16(blk + od, rand_scale(1));
        /* Q4_1/Q5_1's m is an offset of either sign; the K types' dmin is positive in practice
         * but any value is valid */
        if (od2 >= 0) put_f16(blk + od2, rand_scale(1));
    }
}

/* n random activations: uniform, with an all-zero block and a few outliers. */
static void random_acts(float *x, int64_t n, int block) {
    for (int64_t j = 0; j < n; j++) x[j] = (float)(2.0 * urand() - 1.0);
    if (n >= 2 * block && (rnd() & 1)) memset(x + block, 0, (size_t)block * sizeof(float));
    for (int k = 0; k < 3; k++) x[rnd() % (uint64_t)n] = (float)(40.0 * (urand() - 0.5));
}

/* Per-block rounding allowance of Q8_1's s = f16(d * sum q): sum over blocks of
 * |m| * |s - f16(d) * sum q| (exactly what the reference adds beyond the exact dot). */
static double q8_1_s_slack(int type, const uint8_t *w, const uint8_t *xq, int64_t n) {
    if (type != TCA_TYPE_Q4_1 && type != TCA_TYPE_Q5_1) return 0.0;
    const size_t wb = type == TCA_TYPE_Q4_1 ? sizeof(tca_block_q4_1) : sizeof(tca_block_q5_1);
    const size_t om = type == TCA_TYPE_Q4_1 ? offsetof(tca_block_q4_1, m) : offsetof(tca_block_q5_1, m);
    double slack = 0.0;
    for (int64_t b = 0; b < n / TCA_QK; b++) {
        const uint8_t *xb = xq + b * sizeof(tca_block_q8_1), *wb_ = w + b * wb;
        tca_f16 hm, hd, hs;
        memcpy(&hm, wb_ + om, 2);
        memcpy(&hd, xb + offsetof(tca_block_q8_1, d), 2);
        memcpy(&hs, xb + offsetof(tca_block_q8_1, s), 2);
        long sum = 0;
        for (int j = 0; j < TCA_QK; j++) sum += ((const int8_t *)(xb + offsetof(tca_block_q8_1, qs)))[j];
        slack += fabs((double)tca_f16_to_f32(hm)) *
                 fabs((double)tca_f16_to_f32(hs) - (double)tca_f16_to_f32(hd) * (double)sum);
    }
    return slack;
}

typedef struct {
    float *x;            /* MAX_M * MAX_N activations */
    uint32_t *y_ref, *y_var;
    float *wdeq, *xdeq;  /* one dequantized row each */
} buffers;

static const int64_t rows_list[] = {1, 3, 16, 17, 33};
static const int64_t m_list[] = {1, 2, 5, 16, 33};
#define N_ROWS (sizeof rows_list / sizeof rows_list[0])
#define N_M (sizeof m_list / sizeof m_list[0])

static void run_case_in(const tca_kernels *ref, const tca_kernels *var, int type, int64_t n, int64_t rows,
                        int64_t m, int check_ref, buffers *b, uint8_t *w, size_t w_stride, uint8_t *xr,
                        uint8_t *xv, size_t xq_stride, const char *isa, const char *tname, size_t xrow);

/* One shape for one type: ref vs exact (check_ref) and/or variant vs ref (var != NULL). */
static void run_case(const tca_kernels *ref, const tca_kernels *var, int type, int64_t n,
                     int64_t rows, int64_t m, int check_ref, buffers *b) {
    const char *tname = tca_type_info((uint32_t)type)->name;
    const char *isa = var ? tca_isa_name(var->isa) : "ref";
    const int at = tca_act_type(type);
    const size_t wrow = (size_t)tca_type_row_bytes((uint32_t)type, n);
    const size_t xrow = (size_t)tca_type_row_bytes((uint32_t)at, n);
    const size_t w_stride = wrow + rnd() % 17, xq_stride = xrow + rnd() % 17;
    /* each buffer ends where its last row ends, so an over-read is visible to sanitizers */
    const size_t w_off = rnd() % MAX_OFF, xr_off = rnd() % MAX_OFF, xv_off = rnd() % MAX_OFF;
    uint8_t *wbuf = malloc(w_off + (size_t)(rows - 1) * w_stride + wrow);
    uint8_t *xrbuf = malloc(xr_off + (size_t)(m - 1) * xq_stride + xrow);
    uint8_t *xvbuf = malloc(xv_off + (size_t)(m - 1) * xq_stride + xrow);
    if (!wbuf || !xrbuf || !xvbuf) {
        fail(isa, tname, n, rows, m, "out of memory");
        free(wbuf);
        free(xrbuf);
        free(xvbuf);
        return;
    }
    run_case_in(ref, var, type, n, rows, m, check_ref, b, wbuf + w_off, w_stride, xrbuf + xr_off, xvbuf + xv_off,
                xq_stride, isa, tname, xrow);
    free(wbuf);
    free(xrbuf);
    free(xvbuf);
}

static void run_case_in(const tca_kernels *ref, const tca_kernels *var, int type, int64_t n, int64_t rows,
                        int64_t m, int check_ref, buffers *b, uint8_t *w, size_t w_stride, uint8_t *xr,
                        uint8_t *xv, size_t xq_stride, const char *isa, const char *tname, size_t xrow) {
    const int at = tca_act_type(type);
    const int64_t ldy = rows + (int64_t)(rnd() % (MAX_LDY_PAD + 1));
    const int64_t yoff = (int64_t)(rnd() % 16);
    const int block = tca_type_info((uint32_t)at)->block_elems;
    char msg[256];

    for (int64_t r = 0; r < rows; r++) random_weights(type, w + r * w_stride, n);
    for (int64_t i = 0; i < m; i++) random_acts(b->x + i * n, n, block > 1 ? block : 32);

    for (int64_t i = 0; i < m; i++) ref->quantize_act[type](b->x + i * n, xr + i * xq_stride, n);
    if (var) {
        for (int64_t i = 0; i < m; i++) {
            var->quantize_act[type](b->x + i * n, xv + i * xq_stride, n);
            if (memcmp(xv + i * xq_stride, xr + i * xq_stride, xrow) != 0) {
                size_t k = 0;
                while (xv[i * xq_stride + k] == xr[i * xq_stride + k]) k++;
                snprintf(msg, sizeof msg, "quantize_act row %" PRId64 " differs from ref at byte %zu of %zu", i, k, xrow);
                fail(isa, tname, n, rows, m, msg);
                return;
            }
        }
    }

    const int64_t ytotal = GUARD + yoff + m * ldy + GUARD;
    for (int64_t k = 0; k < ytotal; k++) b->y_ref[k] = b->y_var[k] = CANARY;
    float *yr = (float *)(b->y_ref + GUARD), *yv = (float *)(b->y_var + GUARD + yoff);
    ref->qgemm[type](w, w_stride, xr, xq_stride, yr, ldy, rows, m, n);
    if (var) {
        var->qgemm[type](w, w_stride, xv, xq_stride, yv, ldy, rows, m, n);
        for (int64_t k = 0; k < ytotal; k++) {
            const int64_t rel = k - GUARD - yoff; /* index into y */
            const int inside = rel >= 0 && rel < m * ldy && rel % ldy < rows;
            if (!inside && b->y_var[k] != CANARY) {
                snprintf(msg, sizeof msg, "wrote outside the output (y index %" PRId64 ", ldy %" PRId64 ")", rel, ldy);
                fail(isa, tname, n, rows, m, msg);
                return;
            }
        }
    }
    cases_run++;

    /* Bounds need sum |w| |x| of the dequantized operands, and the exact dot for check_ref. */
    for (int64_t r = 0; r < rows; r++) {
        ref->dequant[type](w + r * w_stride, b->wdeq, n);
        for (int64_t i = 0; i < m; i++) {
            ref->dequant[at](xr + i * xq_stride, b->xdeq, n);
            double exact = 0.0, mag = 0.0;
            for (int64_t j = 0; j < n; j++) {
                exact += (double)b->wdeq[j] * (double)b->xdeq[j];
                mag += fabs((double)b->wdeq[j] * (double)b->xdeq[j]);
            }
            const double bound = REL_BOUND * mag + 1e-30;
            const double got_ref = yr[i * ldy + r];
            if (check_ref) {
                const double slack = q8_1_s_slack(type, w + r * w_stride, xr + i * xq_stride, n);
                if (!(fabs(got_ref - exact) <= bound + slack * (1.0 + 1e-6))) {
                    snprintf(msg, sizeof msg, "ref y[%" PRId64 "][%" PRId64 "] = %.9g, exact dot of dequantized operands %.9g, "
                             "bound %.3g (+ s slack %.3g)", i, r, got_ref, exact, bound, slack);
                    fail("ref", tname, n, rows, m, msg);
                    return;
                }
            }
            if (var) {
                const double got = yv[i * ldy + r];
                if (!(fabs(got - got_ref) <= bound)) {
                    snprintf(msg, sizeof msg, "y[%" PRId64 "][%" PRId64 "] = %.9g, ref %.9g, |diff| %.3g > bound %.3g",
                             i, r, got, got_ref, fabs(got - got_ref), bound);
                    fail(isa, tname, n, rows, m, msg);
                    return;
                }
            }
        }
    }
}

/* All shapes for one type; returns the number of cases. */
static void run_type(const tca_kernels *ref, const tca_kernels *var, int type, buffers *b) {
    const tca_type_traits *tr = tca_type_info((uint32_t)type);
    const int be = tr->block_elems;
    int64_t ns[8];
    int nn = 0;
    ns[nn++] = be;
    ns[nn++] = 3 * be;
    ns[nn++] = 7 * be;
    const int64_t extra[] = {576, 896, 1536};
    for (size_t k = 0; k < 3; k++)
        if (extra[k] % be == 0 && extra[k] > 7 * be && (extra[k] != 1536 || be == TCA_QK_K)) ns[nn++] = extra[k];
    for (int a = 0; a < nn; a++)
        for (size_t r = 0; r < N_ROWS; r++)
            for (size_t i = 0; i < N_M; i++)
                run_case(ref, var, type, ns[a], rows_list[r], m_list[i], var == NULL, b);
}

int main(void) {
    const char *env_seed = getenv("TCA_TEST_SEED");
    seed = env_seed && *env_seed ? strtoull(env_seed, NULL, 10) : 20251129u;
    rng_state = seed;
    printf("test_matmul: seed %" PRIu64 "\n", seed);

    buffers b;
    b.x = malloc((size_t)MAX_M * MAX_N * sizeof(float));
    const size_t ny = GUARD + 16 + (size_t)MAX_M * (MAX_ROWS + MAX_LDY_PAD) + GUARD;
    b.y_ref = malloc(ny * sizeof(uint32_t));
    b.y_var = malloc(ny * sizeof(uint32_t));
    b.wdeq = malloc(MAX_N * sizeof(float));
    b.xdeq = malloc(MAX_N * sizeof(float));
    if (!b.x || !b.y_ref || !b.y_var || !b.wdeq || !b.xdeq) {
        fprintf(stderr, "FAIL: out of memory\n");
        return 1;
    }

    tca_kernels ref;
    if (tca_kernels_fill(TCA_ISA_REF, &ref) != 0) {
        fprintf(stderr, "FAIL: the ref level is not available\n");
        return 1;
    }
    /* the table and tca_act_type agree, and the required types have kernels */
    static const int required[] = {TCA_TYPE_F32, TCA_TYPE_F16, TCA_TYPE_Q4_0, TCA_TYPE_Q4_1, TCA_TYPE_Q5_0,
                                   TCA_TYPE_Q8_0, TCA_TYPE_Q4_K, TCA_TYPE_Q5_K, TCA_TYPE_Q6_K};
    for (size_t k = 0; k < sizeof required / sizeof required[0]; k++)
        if (ref.qgemm[required[k]] == NULL || ref.quantize_act[required[k]] == NULL)
            fail("ref", tca_type_info((uint32_t)required[k])->name, 0, 0, 0, "no reference product kernel");
    for (int t = 0; t < TCA_TYPE_COUNT; t++)
        if ((ref.qgemm[t] != NULL) != (tca_act_type(t) >= 0) || (ref.qgemm[t] != NULL) != (ref.quantize_act[t] != NULL))
            fail("ref", tca_type_info((uint32_t)t) ? tca_type_info((uint32_t)t)->name : "?", 0, 0, 0,
                 "qgemm, quantize_act and tca_act_type disagree on whether the type has a product");

    long before = cases_run;
    printf("ref vs exact dot of dequantized operands:");
    for (int t = 0; t < TCA_TYPE_COUNT; t++)
        if (ref.qgemm[t]) {
            run_type(&ref, NULL, t, &b);
            printf(" %s", tca_type_info((uint32_t)t)->name);
        }
    printf(" (%ld cases)\n", cases_run - before);

    printf("levels tested:");
    for (int isa = TCA_ISA_REF + 1; isa < TCA_ISA_COUNT; isa++) {
        tca_kernels k;
        if (tca_kernels_fill((tca_isa)isa, &k) == 0) printf(" %s", tca_isa_name((tca_isa)isa));
    }
    printf(" (others not built or not on this CPU)\n");
    for (int isa = TCA_ISA_REF + 1; isa < TCA_ISA_COUNT; isa++) {
        tca_kernels k;
        if (tca_kernels_fill((tca_isa)isa, &k) != 0) continue;
        before = cases_run;
        char names[256] = "";
        for (int t = 0; t < TCA_TYPE_COUNT; t++) {
            if (!ref.qgemm[t]) continue;
            if (!k.qgemm[t] || !k.quantize_act[t]) {
                fail(tca_isa_name(k.isa), tca_type_info((uint32_t)t)->name, 0, 0, 0, "no kernel in the table");
                continue;
            }
            if (k.qgemm[t] == ref.qgemm[t] && k.quantize_act[t] == ref.quantize_act[t]) continue;
            snprintf(names + strlen(names), sizeof names - strlen(names), " %s", tca_type_info((uint32_t)t)->name);
            run_type(&ref, &k, t, &b);
        }
        printf("%s: %ld cases vs ref:%s\n", tca_isa_name(k.isa), cases_run - before, names[0] ? names : " (no variants)");
    }

    free(b.x);
    free(b.y_ref);
    free(b.y_var);
    free(b.wdeq);
    free(b.xdeq);
    if (failures) {
        fprintf(stderr, "%d failure(s); seed %" PRIu64 "\n", failures, seed);
        return 1;
    }
    printf("all %ld cases within bounds\n", cases_run);
    return 0;
}
