/* checkasm-style test of the TCA selection kernels (select.h).
 *
 * Every ISA level this build and CPU have, against the reference, and the reference against
 * independent computations:
 *   score_dot           nq 1..8, n 1..300 (edge lengths and random), d in {16, 64, 128} (and
 *                       1040 once: past the variants' stack tiles), odd strides and offsets;
 *                       the contract's bound d 2^-22 scale sum|q_i k_i| against ref, and ref
 *                       within (d + 2) 2^-24 scale sum|q_i k_i| of a double dot product
 *   group_softmax_mean  nq 1..8, n 1..1000, ordinary, -inf and huge (1e30) scores; s and a
 *                       within 2e-6 relative + 1e-37 of ref; ref's s and a against a double
 *                       softmax and mean (4e-6 / 5e-6 relative)
 *   eff_count           softmax-like, sparse (zeros), one-hot, uniform, subnormal entries, n up
 *                       to 4099: within 1e-5 relative of ref; ref against a double entropy in
 *                       base 2 summed backwards (1e-12), one-hot gives 1 and uniform gives n
 *   topk                random values (few distinct: many ties) and hand-made patterns (all
 *                       equal, ties, k = n, k = 1, n = 16/32/64, one hot, +0 and -0, values a
 *                       few ulp apart): indices bit-exact against a brute-force sort made here
 *                       (value descending, index ascending), for ref and every level
 *   gather_rows         sorted and arbitrary (repeated, unsorted) indices into another buffer,
 *                       and in-place compaction (dst = src, idx[i] >= i): bit-exact against
 *                       copies made here
 * Canaries: the padding between output rows (ldo > n, lds > n, ldd > d) and the words after
 * every output must be untouched. Inputs start at odd element offsets (no alignment).
 * Seed: TCA_TEST_SEED (default fixed), printed at the start and with every failure.
 * With TCA_ISA set, the active table is tested too. No files, no Python, no threads (qemu). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "quant.h"

#define CANARY 0x7fc0dea5u
#define CANARY16 0xdea5u
#define GUARD 16

static uint64_t rng_state, seed;
static int failures;

static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double urand(void) { return (double)(rnd() >> 11) * 0x1p-53; } /* [0, 1) */
static float frand(float a) { return (float)((2.0 * urand() - 1.0) * a); } /* [-a, a) */
static int64_t irand(int64_t n) { return (int64_t)(rnd() % (uint64_t)n); }

static void report(const char *isa, const char *kernel, const char *what) {
    failures++;
    if (failures <= 30)
        fprintf(stderr, "FAIL %s %s: %s (seed %" PRIu64 ", replay with TCA_TEST_SEED=%" PRIu64 ")\n", isa, kernel,
                what, seed, seed);
}

/* A canary-filled region of n 32-bit words with GUARD words on each side. */
typedef struct { uint32_t *w; int64_t n; } region;

static region region_new(int64_t n) {
    region r = {malloc((size_t)(n + 2 * GUARD) * 4), n};
    if (!r.w) {
        fprintf(stderr, "FAIL: out of memory\n");
        exit(1);
    }
    for (int64_t i = 0; i < n + 2 * GUARD; i++) r.w[i] = CANARY;
    return r;
}
static float *region_f(region *r) { return (float *)(r->w + GUARD); }

/* 0 unless every word outside the rows [row * ld, + len) for row < rows is still the canary. */
static int rows_untouched(const region *r, int64_t rows, int64_t len, int64_t ld) {
    for (int64_t i = -GUARD; i < r->n + GUARD; i++) {
        const int in_row = i >= 0 && i / ld < rows && i % ld < len;
        if (!in_row && r->w[GUARD + i] != CANARY) return 0;
    }
    return 1;
}

static int close_to(float got, double want, double rel, double abs) {
    if (isnan(got) || isnan(want)) return 0;
    return fabs((double)got - want) <= rel * fabs(want) + abs;
}

/* A level's table and the largest deviations from ref seen (printed: the measured accuracy). */
typedef struct {
    const char *name;
    tca_kernels k;
    double sd_ratio; /* score_dot: |out - ref| / the contract's bound */
    double gsm_rel;  /* group_softmax_mean: relative difference of a (entries >= 1e-30) */
    double eff_rel;  /* eff_count: relative difference */
} level;

static void note_max(double *m, double v) { *m = v > *m ? v : *m; }

/* ---- score_dot ---------------------------------------------------------------------------- */

static void test_score_dot_case(level *lv, int nlv, int nq, int64_t n, int d) {
    char msg[200];
    const int64_t ldq = d + 1 + irand(7), ldk = d + 1 + irand(9), ldo = n + irand(5);
    float *qbuf = malloc((size_t)(nq * ldq + 3) * sizeof *qbuf);
    tca_f16 *kbuf = malloc((size_t)(n * ldk + 3) * sizeof *kbuf);
    const float *q = qbuf + 1 + irand(2); /* odd offsets */
    const tca_f16 *k = kbuf + 1 + irand(2);
    const float amp = irand(4) == 0 ? 300.0f : 2.0f;
    for (int64_t i = 0; i < nq * ldq; i++) ((float *)q)[i] = frand(amp);
    for (int64_t i = 0; i < n * ldk; i++) ((tca_f16 *)k)[i] = tca_f32_to_f16(frand(1.0f));
    const float scale = 1.0f / sqrtf((float)d);
    /* per output: the double dot product and the magnitude scale * sum |q_i k_i| */
    double *exact = malloc((size_t)(nq * n) * sizeof *exact), *mag = malloc((size_t)(nq * n) * sizeof *mag);
    for (int r = 0; r < nq; r++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0.0, m = 0.0;
            for (int i = 0; i < d; i++) {
                const double p = (double)q[r * ldq + i] * tca_f16_to_f32(k[j * ldk + i]);
                s += p;
                m += fabs(p);
            }
            exact[r * n + j] = s * scale;
            mag[r * n + j] = m * scale;
        }
    region rref = region_new(nq * ldo);
    float *want = region_f(&rref);
    lv[0].k.score_dot(q, ldq, nq, k, ldk, n, d, scale, want, ldo);
    if (!rows_untouched(&rref, nq, n, ldo)) report("ref", "score_dot", "wrote outside the output rows");
    for (int r = 0; r < nq; r++)
        for (int64_t j = 0; j < n; j++) {
            const double e = exact[r * n + j], tol = (d + 2) * 0x1p-24 * mag[r * n + j] + 1e-30;
            if (!(fabs(want[r * ldo + j] - e) <= tol)) {
                snprintf(msg, sizeof msg, "nq=%d n=%" PRId64 " d=%d: out[%d][%" PRId64 "] = %.9g, double %.9g", nq, n, d, r,
                         j, want[r * ldo + j], e);
                report("ref", "score_dot vs double", msg);
                r = nq;
                break;
            }
        }
    for (int t = 1; t < nlv; t++) {
        region rg = region_new(nq * ldo);
        float *got = region_f(&rg);
        lv[t].k.score_dot(q, ldq, nq, k, ldk, n, d, scale, got, ldo);
        if (!rows_untouched(&rg, nq, n, ldo)) report(lv[t].name, "score_dot", "wrote outside the output rows");
        for (int r = 0; r < nq; r++)
            for (int64_t j = 0; j < n; j++) {
                const double tol = d * 0x1p-22 * mag[r * n + j] + 1e-30;
                note_max(&lv[t].sd_ratio, fabs((double)got[r * ldo + j] - want[r * ldo + j]) / tol);
                if (!(fabs((double)got[r * ldo + j] - want[r * ldo + j]) <= tol)) {
                    snprintf(msg, sizeof msg, "nq=%d n=%" PRId64 " d=%d: out[%d][%" PRId64 "] = %.9g, ref %.9g", nq, n, d,
                             r, j, got[r * ldo + j], want[r * ldo + j]);
                    report(lv[t].name, "score_dot", msg);
                    r = nq;
                    break;
                }
            }
        free(rg.w);
    }
    free(rref.w);
    free(exact);
    free(mag);
    free(qbuf);
    free(kbuf);
}

static int test_score_dot(level *lv, int nlv) {
    static const int64_t ns[] = {1, 2, 3, 4, 5, 7, 15, 16, 17, 33, 63, 64, 65, 257, 300};
    static const int ds[] = {16, 64, 128};
    int cases = 0;
    for (size_t di = 0; di < sizeof ds / sizeof ds[0]; di++) {
        for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++, cases++)
            test_score_dot_case(lv, nlv, 1 + (int)irand(8), ns[ni], ds[di]);
        for (int nq = 1; nq <= 8; nq++, cases++) test_score_dot_case(lv, nlv, nq, 1 + irand(300), ds[di]);
    }
    test_score_dot_case(lv, nlv, 3, 37, 1040); /* past the variants' tiles: their fallback */
    return cases + 1;
}

/* ---- group_softmax_mean ------------------------------------------------------------------- */

static void test_gsm_case(level *lv, int nlv, int nq, int64_t n, int kind) {
    char msg[200];
    const int64_t lds = n + irand(5);
    float *in = malloc((size_t)(nq * lds) * sizeof *in);
    for (int r = 0; r < nq; r++)
        for (int64_t j = 0; j < lds; j++) {
            float x = frand(12.0f);
            if (kind == 1 && irand(3) == 0 && j != (r * 7) % n) x = -INFINITY; /* one finite entry kept */
            if (kind == 2) x = 1e30f + frand(1e24f);
            in[r * lds + j] = x;
        }
    /* double softmax of each row and the mean over rows */
    double *p = malloc((size_t)(nq * n) * sizeof *p), *mean = calloc((size_t)n, sizeof *mean);
    for (int r = 0; r < nq; r++) {
        double mx = -INFINITY, sum = 0.0;
        for (int64_t j = 0; j < n; j++) mx = in[r * lds + j] > mx ? in[r * lds + j] : mx;
        for (int64_t j = 0; j < n; j++) sum += exp(in[r * lds + j] - mx);
        for (int64_t j = 0; j < n; j++) {
            p[r * n + j] = exp(in[r * lds + j] - mx) / sum;
            mean[j] += p[r * n + j] / nq;
        }
    }
    float *want_s = NULL, *want_a = NULL;
    for (int t = 0; t < nlv; t++) {
        region rs = region_new(nq * lds), ra = region_new(n);
        float *s = region_f(&rs), *a = region_f(&ra);
        for (int r = 0; r < nq; r++) memcpy(s + r * lds, in + r * lds, (size_t)n * sizeof *s);
        lv[t].k.group_softmax_mean(s, lds, nq, n, a);
        if (!rows_untouched(&rs, nq, n, lds)) report(lv[t].name, "group_softmax_mean", "wrote outside the rows of s");
        if (!rows_untouched(&ra, 1, n, n)) report(lv[t].name, "group_softmax_mean", "wrote outside a");
        if (t == 0) {
            want_s = malloc((size_t)(nq * lds) * sizeof *want_s);
            want_a = malloc((size_t)n * sizeof *want_a);
            memcpy(want_s, s, (size_t)(nq * lds) * sizeof *s);
            memcpy(want_a, a, (size_t)n * sizeof *a);
            for (int r = 0; r < nq; r++)
                for (int64_t j = 0; j < n; j++)
                    if (!close_to(s[r * lds + j], p[r * n + j], 4e-6, 1e-44)) {
                        snprintf(msg, sizeof msg, "kind %d nq=%d n=%" PRId64 ": s[%d][%" PRId64 "] = %.9g, double %.9g", kind,
                                 nq, n, r, j, s[r * lds + j], p[r * n + j]);
                        report("ref", "group_softmax_mean vs double", msg);
                        r = nq;
                        break;
                    }
            for (int64_t j = 0; j < n; j++)
                if (!close_to(a[j], mean[j], 5e-6, 1e-44)) {
                    snprintf(msg, sizeof msg, "kind %d nq=%d n=%" PRId64 ": a[%" PRId64 "] = %.9g, double %.9g", kind, nq, n,
                             j, a[j], mean[j]);
                    report("ref", "group_softmax_mean vs double", msg);
                    break;
                }
        } else {
            for (int r = 0; r < nq; r++)
                for (int64_t j = 0; j < n; j++)
                    if (!close_to(s[r * lds + j], want_s[r * lds + j], 2e-6, 1e-37)) {
                        snprintf(msg, sizeof msg, "kind %d nq=%d n=%" PRId64 ": s[%d][%" PRId64 "] = %.9g, ref %.9g", kind, nq,
                                 n, r, j, s[r * lds + j], want_s[r * lds + j]);
                        report(lv[t].name, "group_softmax_mean", msg);
                        r = nq;
                        break;
                    }
            for (int64_t j = 0; j < n; j++)
                if (want_a[j] >= 1e-30f) note_max(&lv[t].gsm_rel, fabs((double)a[j] - want_a[j]) / want_a[j]);
            for (int64_t j = 0; j < n; j++)
                if (!close_to(a[j], want_a[j], 2e-6, 1e-37)) {
                    snprintf(msg, sizeof msg, "kind %d nq=%d n=%" PRId64 ": a[%" PRId64 "] = %.9g, ref %.9g", kind, nq, n, j,
                             a[j], want_a[j]);
                    report(lv[t].name, "group_softmax_mean", msg);
                    break;
                }
        }
        free(rs.w);
        free(ra.w);
    }
    free(want_s);
    free(want_a);
    free(p);
    free(mean);
    free(in);
}

static int test_gsm(level *lv, int nlv) {
    static const int64_t ns[] = {1, 2, 3, 7, 8, 15, 16, 17, 33, 64, 100, 300, 1000};
    int cases = 0;
    for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
        for (int kind = 0; kind < 3; kind++, cases++) test_gsm_case(lv, nlv, 1 + (int)irand(8), ns[ni], kind);
    for (int nq = 1; nq <= 8; nq++, cases++) test_gsm_case(lv, nlv, nq, 1 + irand(300), 0);
    return cases;
}

/* ---- eff_count ---------------------------------------------------------------------------- */

enum { E_SOFT, E_SPARSE, E_ONEHOT, E_UNIFORM, E_TINY, E_COUNT };

static int test_eff_count(level *lv, int nlv) {
    static const int64_t ns[] = {1, 2, 3, 7, 8, 15, 16, 17, 33, 64, 100, 576, 4099};
    char msg[200];
    int cases = 0;
    for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
        for (int kind = 0; kind < E_COUNT; kind++, cases++) {
            const int64_t n = ns[ni];
            float *buf = malloc((size_t)(n + 1) * sizeof *buf), *a = buf + 1;
            double *w = malloc((size_t)n * sizeof *w), tot = 0.0;
            for (int64_t j = 0; j < n; j++) {
                w[j] = exp(frand(kind == E_SOFT ? 6.0f : 2.0f));
                if (kind == E_SPARSE && irand(2)) w[j] = 0.0;
                if (kind == E_ONEHOT) w[j] = j == n / 3;
                if (kind == E_UNIFORM) w[j] = 1.0;
                tot += w[j];
            }
            if (tot == 0.0) w[0] = tot = 1.0;
            for (int64_t j = 0; j < n; j++) a[j] = (float)(w[j] / tot);
            if (kind == E_TINY)
                for (int64_t j = 1; j < n; j += 3) a[j] = 1e-41f; /* subnormal probabilities */
            const float want = lv[0].k.eff_count(a, n);
            /* entropy in bits, summed from the end, then e^(H ln 2) */
            double hb = 0.0;
            for (int64_t j = n - 1; j >= 0; j--)
                if (a[j] > 0.0f) hb -= (double)a[j] * log2((double)a[j]);
            const double e = exp(hb * 0.69314718055994530942);
            if (!close_to(want, e, 1e-7, 0.0) || (kind == E_ONEHOT && want != 1.0f) ||
                (kind == E_UNIFORM && !close_to(want, (double)n, 1e-6, 0.0))) {
                snprintf(msg, sizeof msg, "kind %d n=%" PRId64 ": %.9g, double %.9g", kind, n, want, e);
                report("ref", "eff_count vs double", msg);
            }
            for (int t = 1; t < nlv; t++) {
                const float got = lv[t].k.eff_count(a, n);
                note_max(&lv[t].eff_rel, fabs((double)got - want) / want);
                if (!close_to(got, want, 1e-5, 0.0)) {
                    snprintf(msg, sizeof msg, "kind %d n=%" PRId64 ": %.9g, ref %.9g", kind, n, got, want);
                    report(lv[t].name, "eff_count", msg);
                }
            }
            free(buf);
            free(w);
        }
    return cases;
}

/* ---- topk --------------------------------------------------------------------------------- */

/* The k largest of a[0 .. n): order all indices by value descending then index ascending
 * (insertion sort), keep the first k, and sort those ascending. */
static void topk_brute(const float *a, int n, int k, int32_t *out) {
    int32_t ord[64];
    for (int j = 0; j < n; j++) {
        int p = j;
        while (p > 0 && (a[ord[p - 1]] < a[j])) { /* equal values keep index order */
            ord[p] = ord[p - 1];
            p--;
        }
        ord[p] = j;
    }
    for (int i = 0; i < k; i++) {
        int p = i;
        const int32_t v = ord[i];
        while (p > 0 && out[p - 1] > v) {
            out[p] = out[p - 1];
            p--;
        }
        out[p] = v;
    }
}

enum { T_RANDOM, T_FEW, T_EQUAL, T_ONEHOT, T_ZEROS, T_ULPS, T_SORTED_UP, T_COUNT };

static void topk_fill(float *a, int n, int kind) {
    for (int j = 0; j < n; j++) switch (kind) {
        case T_RANDOM: a[j] = frand(1.0f); break;
        case T_FEW: a[j] = (float)irand(3) * 0.25f; break; /* three distinct values: many ties */
        case T_EQUAL: a[j] = 0.015625f; break;
        case T_ONEHOT: a[j] = j == n / 2 ? 1.0f : 0.0f; break;
        case T_ZEROS: a[j] = irand(2) ? 0.0f : -0.0f; break; /* +0 == -0: pure ties */
        case T_ULPS: a[j] = nextafterf(0.5f, (float)irand(2)) + (float)irand(2) * 0x1p-24f; break;
        default: a[j] = (float)j; break; /* ascending: the top k are the last ones */
        }
}

static int test_topk(const level *lv, int nlv) {
    char msg[300];
    int cases = 0;
    for (int kind = 0; kind < T_COUNT; kind++)
        for (int trial = 0; trial < 60; trial++, cases++) {
            /* hand-made sizes first (n = 1, 16, 32, 64 with k = 1 and k = n), then random ones */
            static const int hn[] = {1, 16, 32, 64, 16, 32, 64, 64, 63, 17};
            static const int hk[] = {1, 1, 1, 1, 16, 32, 64, 32, 1, 9};
            const int n = trial < 10 ? hn[trial] : 1 + (int)irand(64);
            const int k = trial < 10 ? hk[trial] : 1 + (int)irand(n);
            float buf[65], *a = buf + 1;
            topk_fill(a, n, kind);
            int32_t want[64];
            topk_brute(a, n, k, want);
            for (int t = 0; t < nlv; t++) {
                int32_t got[64 + GUARD];
                for (int i = 0; i < 64 + GUARD; i++) got[i] = (int32_t)CANARY;
                lv[t].k.topk(a, n, k, got);
                int bad = -1;
                for (int i = 0; i < k && bad < 0; i++)
                    if (got[i] != want[i]) bad = i;
                int spill = 0;
                for (int i = k; i < 64 + GUARD; i++) spill |= got[i] != (int32_t)CANARY;
                if (bad >= 0 || spill) {
                    int len = snprintf(msg, sizeof msg, "kind %d n=%d k=%d: %s", kind, n, k,
                                       spill ? "wrote past idx[k - 1]" : "idx");
                    for (int i = 0; bad >= 0 && i < k && len < 240; i++)
                        len += snprintf(msg + len, sizeof msg - (size_t)len, " %d/%d", got[i], want[i]);
                    report(lv[t].name, "topk vs sort (got/want)", msg);
                }
            }
        }
    return cases;
}

/* ---- gather_rows -------------------------------------------------------------------------- */

static int test_gather(const level *lv, int nlv) {
    static const int ds[] = {16, 64, 128, 144};
    char msg[200];
    int cases = 0;
    for (size_t di = 0; di < sizeof ds / sizeof ds[0]; di++)
        for (int trial = 0; trial < 12; trial++)
            for (int inplace = 0; inplace < 2; inplace++, cases++) {
                const int d = ds[di], n = 1 + (int)irand(64), k = 1 + (int)irand(n);
                const int64_t lds = d + 1 + irand(9), ldd = inplace ? lds : d + irand(7);
                int32_t idx[64];
                if (inplace || trial % 2 == 0) { /* ascending distinct (topk's output): idx[i] >= i */
                    int c = 0;
                    for (int j = 0; j < n && c < k; j++)
                        if (irand(n - j) < k - c) idx[c++] = j;
                    if (trial == 1) /* the first rows already in place */
                        for (int i = 0; i < k; i++) idx[i] = i;
                } else {
                    for (int i = 0; i < k; i++) idx[i] = (int32_t)irand(n); /* any order, repeats */
                }
                tca_f16 *orig = malloc((size_t)(n * lds) * sizeof *orig);
                for (int64_t i = 0; i < n * lds; i++) orig[i] = (tca_f16)rnd();
                for (int t = 0; t < nlv; t++) {
                    /* src (+ dst) in one canary-filled f16 buffer, at odd offsets */
                    const int64_t srcw = n * lds, dstw = inplace ? 0 : k * ldd;
                    const int64_t off = 1 + 2 * irand(3), total = GUARD + off + srcw + GUARD + dstw + GUARD;
                    tca_f16 *mem = malloc((size_t)total * sizeof *mem);
                    for (int64_t i = 0; i < total; i++) mem[i] = CANARY16;
                    tca_f16 *src = mem + GUARD + off, *dst = inplace ? src : src + srcw + GUARD;
                    memcpy(src, orig, (size_t)srcw * sizeof *src);
                    lv[t].k.gather_rows(src, lds, idx, k, d, dst, ldd);
                    int bad = 0;
                    for (int64_t i = 0; i < total && !bad; i++) {
                        tca_f16 want = CANARY16;
                        const tca_f16 *pi = mem + i;
                        if (pi >= dst && pi < dst + (int64_t)k * ldd && (pi - dst) % ldd < d) {
                            const int64_t row = (pi - dst) / ldd, c = (pi - dst) % ldd;
                            want = orig[idx[row] * lds + c];
                        } else if (pi >= src && pi < src + srcw) {
                            want = orig[pi - src]; /* src rows that are not overwritten keep their values */
                        }
                        if (mem[i] != want) {
                            snprintf(msg, sizeof msg, "%s d=%d n=%d k=%d: word %" PRId64 " = 0x%04x, want 0x%04x",
                                     inplace ? "in place" : "separate", d, n, k, i, mem[i], want);
                            report(lv[t].name, "gather_rows", msg);
                            bad = 1;
                        }
                    }
                    free(mem);
                }
                free(orig);
            }
    return cases;
}

int main(void) {
    const char *env_seed = getenv("TCA_TEST_SEED");
    seed = env_seed && *env_seed ? strtoull(env_seed, NULL, 10) : 20261129u;
    rng_state = seed;
    printf("test_select: seed %" PRIu64 "\n", seed);

    level lv[TCA_ISA_COUNT + 1];
    memset(lv, 0, sizeof lv);
    int nlv = 0;
    lv[0].name = "ref";
    if (tca_kernels_fill(TCA_ISA_REF, &lv[0].k) != 0 || !lv[0].k.score_dot || !lv[0].k.group_softmax_mean ||
        !lv[0].k.eff_count || !lv[0].k.topk || !lv[0].k.gather_rows) {
        fprintf(stderr, "FAIL: no reference selection kernels\n");
        return 1;
    }
    nlv = 1;
    printf("levels tested:");
    for (int isa = TCA_ISA_REF + 1; isa < TCA_ISA_COUNT; isa++)
        if (tca_kernels_fill((tca_isa)isa, &lv[nlv].k) == 0) {
            lv[nlv++].name = tca_isa_name((tca_isa)isa);
            printf(" %s", tca_isa_name((tca_isa)isa));
        }
    printf(" (others not built or not on this CPU)\n");
    const char *forced = getenv("TCA_ISA");
    if (forced && *forced) {
        lv[nlv].k = *tca_kernels_active();
        lv[nlv++].name = "active";
        printf("TCA_ISA=%s: active level %s%s\n", forced, tca_isa_name(lv[nlv - 1].k.isa),
               tca_kernels_isa_forced_ok() ? "" : " (fallback: level not available)");
    }
    const int c_sd = test_score_dot(lv, nlv), c_gsm = test_gsm(lv, nlv), c_eff = test_eff_count(lv, nlv);
    const int c_topk = test_topk(lv, nlv), c_gather = test_gather(lv, nlv);
    printf("cases per level: score_dot %d, group_softmax_mean %d, eff_count %d, topk %d, gather_rows %d\n", c_sd,
           c_gsm, c_eff, c_topk, c_gather);
    for (int t = 1; t < nlv; t++)
        printf("%s: largest deviation from ref: score_dot %.3g of the bound, group_softmax_mean a %.3g relative, "
               "eff_count %.3g relative; topk, gather_rows identical\n",
               lv[t].name, lv[t].sd_ratio, lv[t].gsm_rel, lv[t].eff_rel);
    if (failures) {
        fprintf(stderr, "%d failure(s); seed %" PRIu64 "\n", failures, seed);
        return 1;
    }
    printf("all within bounds\n");
    return 0;
}
