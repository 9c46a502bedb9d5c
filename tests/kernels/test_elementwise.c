/* checkasm-style test of the elementwise kernels (elementwise.h).
 *
 * Every ISA level this build and CPU have, against the reference, on random rows of the lengths
 * 1, 2, 3, 7, 15, 16, 17, 33, 64, 100, 576, 1536, 4099 (vector tails), at random element offsets
 * (no alignment), with canaries after the output, in place where the contract allows it:
 *   rmsnorm     x of mixed magnitudes (up to 1e18: squares overflow f32, not the double sum);
 *               within 1 ulp of ref per element (almost always bit-identical)
 *   rope        d in {2, 6, 16, 34, 64, 128} x 1, 3, 7 heads, both pairings: bit-identical
 *   silu_mul    g in [-110, 110] (exp overflow/underflow edges): relative 1e-6, absolute |g u| 2^-128
 *   softmax     ordinary, huge (1e30) and -inf entries: relative 1e-6, absolute 1e-37
 *   f32_to_f16  random bit patterns (NaN, inf, subnormals), exact f16 ties, the overflow edge:
 *               bit-identical
 * And the reference against independent computations: rmsnorm, rope, silu_mul and softmax in
 * double (stated ulp bounds), f32_to_f16 by checking that no neighbouring f16 is nearer (ties
 * to the even one).
 * Seed: TCA_TEST_SEED (default fixed), printed at the start and with every failure.
 * With TCA_ISA set, the active table is tested too. No files, no Python, no threads (qemu). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "quant.h"

#define GUARD 16
#define MAXOFF 16
#define CANARY 0x7fc0dea5u
#define CANARY16 0xdea5u

static uint64_t rng_state, seed;
static int failures;

static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double urand(void) { return (double)(rnd() >> 11) * 0x1p-53; }
static float frand(float a) { return (float)((2.0 * urand() - 1.0) * a); }
static int64_t irand(int64_t n) { return (int64_t)(rnd() % (uint64_t)n); }
static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

static void report(const char *isa, const char *kernel, int64_t n, const char *what) {
    failures++;
    if (failures <= 30)
        fprintf(stderr, "FAIL %s %s n=%" PRId64 ": %s (seed %" PRIu64 ", replay with TCA_TEST_SEED=%" PRIu64 ")\n",
                isa, kernel, n, what, seed, seed);
}

static const int64_t lens[] = {1, 2, 3, 7, 15, 16, 17, 33, 64, 100, 576, 1536, 4099};
#define NLENS (sizeof lens / sizeof lens[0])
#define MAXN 4099

/* Buffers: GUARD + MAXOFF + MAXN + GUARD words, canary-filled; a row starts at GUARD + off. */
typedef struct { uint32_t *w; int off; } buf;

static float *buf_reset(buf *b) {
    for (int i = 0; i < GUARD + MAXOFF + MAXN + GUARD; i++) b->w[i] = CANARY;
    b->off = (int)irand(MAXOFF);
    return (float *)(b->w + GUARD + b->off);
}

/* 0 when every word outside [GUARD + off, + n) is still the canary. */
static int canaries_ok(const buf *b, int64_t n) {
    for (int64_t i = 0; i < GUARD + MAXOFF + MAXN + GUARD; i++)
        if ((i < GUARD + b->off || i >= GUARD + b->off + n) && b->w[i] != CANARY) return 0;
    return 1;
}

static int is_nan32(uint32_t u) { return (u & 0x7fffffffu) > 0x7f800000u; }

/* |got - want| <= rel |want| + abs (NaN only against NaN, infinities only exactly). */
static int close_to(float got, double want, double rel, double abs) {
    if (isnan(want)) return isnan(got);
    if (isinf(want) || isinf(got)) return (double)got == want;
    return fabs((double)got - want) <= rel * fabs(want) + abs;
}

static int ulps_apart(float a, float b) { /* for finite floats of the same sign or zero */
    int32_t ia = (int32_t)f2u(a), ib = (int32_t)f2u(b);
    if (ia < 0) ia = (int32_t)0x80000000 - ia;
    if (ib < 0) ib = (int32_t)0x80000000 - ib;
    const int64_t d = (int64_t)ia - ib;
    return d < 0 ? (int)(d < -1000000 ? 1000000 : -d) : (int)(d > 1000000 ? 1000000 : d);
}

/* ---- rmsnorm ---------------------------------------------------------------------------- */

static void fill_mixed(float *x, int64_t n) { /* magnitudes from 1e-30 to 1e18 */
    const int kind = (int)irand(4);
    for (int64_t i = 0; i < n; i++) {
        x[i] = frand(3.0f);
        if (kind == 1) x[i] *= 1e18f;
        if (kind == 2) x[i] *= 1e-30f;
        if (kind == 3 && irand(10) == 0) x[i] *= 1e6f;
    }
}

static void test_rmsnorm(const char *isa, const tca_kernels *k, const tca_kernels *ref, buf *bx, buf *bw,
                         buf *by, buf *bref, int check_ref) {
    char msg[160];
    for (size_t li = 0; li < NLENS; li++)
        for (int inplace = 0; inplace < 2; inplace++) {
            const int64_t n = lens[li];
            float *x = buf_reset(bx), *w = buf_reset(bw), *want = buf_reset(bref);
            fill_mixed(x, n);
            for (int64_t i = 0; i < n; i++) w[i] = frand(2.0f);
            const float eps = irand(2) ? 1e-5f : 1e-6f;
            ref->rmsnorm(x, w, want, n, eps);
            float *y;
            if (inplace) {
                y = buf_reset(by);
                memcpy(y, x, (size_t)n * 4);
                k->rmsnorm(y, w, y, n, eps);
            } else {
                y = buf_reset(by);
                k->rmsnorm(x, w, y, n, eps);
            }
            if (!canaries_ok(by, n)) {
                report(isa, "rmsnorm", n, "wrote outside y");
                continue;
            }
            for (int64_t i = 0; i < n; i++)
                if (f2u(y[i]) != f2u(want[i]) && ulps_apart(y[i], want[i]) > 1) {
                    snprintf(msg, sizeof msg, "%sy[%" PRId64 "] = %.9g, ref %.9g", inplace ? "in place: " : "", i, y[i], want[i]);
                    report(isa, "rmsnorm", n, msg);
                    break;
                }
            if (!check_ref) continue;
            double ss = 0.0; /* independent: long double would be no better for exact squares */
            for (int64_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
            const double s = 1.0 / sqrt(ss / n + eps);
            for (int64_t i = 0; i < n; i++) /* three roundings of ~2^-24 each */
                if (!close_to(want[i], (double)x[i] * s * w[i], 2e-7, 1e-44)) {
                    snprintf(msg, sizeof msg, "ref y[%" PRId64 "] = %.9g, double %.9g", i, want[i], (double)x[i] * s * w[i]);
                    report("ref", "rmsnorm vs double", n, msg);
                    break;
                }
        }
}

/* ---- rope -------------------------------------------------------------------------------- */

static void test_rope(const char *isa, const tca_kernels *k, const tca_kernels *ref, buf *bx, buf *bref,
                      buf *bc, buf *bs, int check_ref) {
    static const int ds[] = {2, 6, 16, 34, 64, 128};
    static const int64_t heads[] = {1, 3, 7};
    char msg[200];
    for (size_t di = 0; di < sizeof ds / sizeof ds[0]; di++)
        for (size_t hi = 0; hi < sizeof heads / sizeof heads[0]; hi++)
            for (int neox = 0; neox < 2; neox++) {
                const int d = ds[di];
                const int64_t nh = heads[hi], n = nh * d;
                float *x = buf_reset(bx), *want = buf_reset(bref), *c = buf_reset(bc), *s = buf_reset(bs);
                const double pos = (double)irand(100000);
                for (int i = 0; i < d / 2; i++) { /* as the driver: angles in double, rounded */
                    const double th = pos * pow(10000.0, -2.0 * i / d);
                    c[i] = (float)cos(th);
                    s[i] = (float)sin(th);
                }
                for (int64_t i = 0; i < n; i++) x[i] = frand(irand(2) ? 4.0f : 1000.0f);
                memcpy(want, x, (size_t)n * 4);
                ref->rope(want, nh, d, c, s, neox);
                float *orig = malloc((size_t)n * 4);
                memcpy(orig, x, (size_t)n * 4);
                k->rope(x, nh, d, c, s, neox);
                if (!canaries_ok(bx, n) || !canaries_ok(bc, d / 2) || !canaries_ok(bs, d / 2)) {
                    report(isa, neox ? "rope neox" : "rope pairs", n, "wrote outside x (or into cos/sin)");
                    free(orig);
                    continue;
                }
                for (int64_t i = 0; i < n; i++)
                    if (f2u(x[i]) != f2u(want[i])) {
                        snprintf(msg, sizeof msg, "d=%d heads=%" PRId64 ": x[%" PRId64 "] = %.9g, ref %.9g (bit-exact)", d, nh, i,
                                 x[i], want[i]);
                        report(isa, neox ? "rope neox" : "rope pairs", n, msg);
                        break;
                    }
                if (check_ref) /* the rotation in double from the same f32 cos/sin */
                    for (int64_t h = 0; h < nh; h++)
                        for (int i = 0; i < d / 2; i++) {
                            const int64_t a = h * d + (neox ? i : 2 * i), b = a + (neox ? d / 2 : 1);
                            const double x0 = orig[a], x1 = orig[b];
                            const double e0 = x0 * c[i] - x1 * s[i], e1 = x0 * s[i] + x1 * c[i];
                            /* two products and a sum, each rounded: 1 ulp of the larger term */
                            const double t0 = 0x1p-23 * (fabs(x0 * c[i]) + fabs(x1 * s[i]));
                            const double t1 = 0x1p-23 * (fabs(x0 * s[i]) + fabs(x1 * c[i]));
                            if (fabs(want[a] - e0) > t0 || fabs(want[b] - e1) > t1) {
                                snprintf(msg, sizeof msg, "d=%d neox=%d pair %d: %.9g %.9g, double %.9g %.9g", d, neox, i,
                                         want[a], want[b], e0, e1);
                                report("ref", "rope vs double", n, msg);
                                h = nh;
                                break;
                            }
                        }
                free(orig);
            }
}

/* ---- silu_mul ----------------------------------------------------------------------------- */

/* Where exp(-g) overflows f32 (g < -88.72) the kernels give 0 for |g u| e^g < |g u| 2^-128:
 * the contract's absolute term. */
static double silu_abs(float g, float u) { return fabs((double)g * u) * 0x1p-128 + 1e-44; }

static void test_silu(const char *isa, const tca_kernels *k, const tca_kernels *ref, buf *bg, buf *bu, buf *by,
                      buf *bref, int check_ref) {
    char msg[160];
    for (size_t li = 0; li < NLENS; li++)
        for (int mode = 0; mode < 3; mode++) { /* 0: y separate, 1: y = g, 2: y = u */
            const int64_t n = lens[li];
            float *g = buf_reset(bg), *u = buf_reset(bu), *want = buf_reset(bref);
            for (int64_t i = 0; i < n; i++) {
                g[i] = irand(4) ? frand(8.0f) : frand(110.0f);
                u[i] = frand(3.0f);
            }
            ref->silu_mul(g, u, want, n);
            float *y = buf_reset(by);
            buf *out = by;
            if (mode == 0) {
                k->silu_mul(g, u, y, n);
            } else {
                float *gg = malloc((size_t)n * 4), *uu = malloc((size_t)n * 4);
                memcpy(gg, g, (size_t)n * 4);
                memcpy(uu, u, (size_t)n * 4);
                out = mode == 1 ? bg : bu;
                k->silu_mul(g, u, mode == 1 ? g : u, n);
                y = mode == 1 ? g : u;
                g = gg; /* the inputs, for the double check below */
                u = uu;
            }
            if (!canaries_ok(out, n)) report(isa, "silu_mul", n, "wrote outside y");
            for (int64_t i = 0; i < n; i++)
                if (!close_to(y[i], want[i], 1e-6, silu_abs(g[i], u[i]))) {
                    snprintf(msg, sizeof msg, "mode %d: y[%" PRId64 "] = %.9g, ref %.9g (g %.9g)", mode, i, y[i], want[i], g[i]);
                    report(isa, "silu_mul", n, msg);
                    break;
                }
            if (check_ref && mode == 0)
                for (int64_t i = 0; i < n; i++) {
                    const double e = (double)g[i] / (1.0 + exp(-(double)g[i])) * u[i];
                    if (!close_to(want[i], e, 6e-7, silu_abs(g[i], u[i]))) {
                        snprintf(msg, sizeof msg, "ref y[%" PRId64 "] = %.9g, double %.9g (g %.9g)", i, want[i], e, g[i]);
                        report("ref", "silu_mul vs double", n, msg);
                        break;
                    }
                }
            if (mode != 0) {
                free(g);
                free(u);
            }
        }
}

/* ---- softmax ------------------------------------------------------------------------------ */

static void test_softmax(const char *isa, const tca_kernels *k, const tca_kernels *ref, buf *bx, buf *bref,
                         int check_ref) {
    char msg[160];
    for (size_t li = 0; li < NLENS; li++)
        for (int kind = 0; kind < 3; kind++) { /* ordinary, huge, with -inf entries */
            const int64_t n = lens[li];
            float *x = buf_reset(bx), *want = buf_reset(bref);
            for (int64_t i = 0; i < n; i++) {
                x[i] = frand(20.0f);
                if (kind == 1) x[i] = 1e30f + frand(1e24f);
                if (kind == 2 && irand(3) == 0 && i != n / 2) x[i] = -INFINITY;
            }
            double *in = malloc((size_t)n * sizeof *in);
            for (int64_t i = 0; i < n; i++) in[i] = x[i];
            memcpy(want, x, (size_t)n * 4);
            ref->softmax(want, n);
            k->softmax(x, n);
            if (!canaries_ok(bx, n)) report(isa, "softmax", n, "wrote outside x");
            for (int64_t i = 0; i < n; i++)
                if (!close_to(x[i], want[i], 1e-6, 1e-37)) {
                    snprintf(msg, sizeof msg, "kind %d: x[%" PRId64 "] = %.9g, ref %.9g", kind, i, x[i], want[i]);
                    report(isa, "softmax", n, msg);
                    break;
                }
            if (check_ref) {
                double mx = -INFINITY, sum = 0.0;
                for (int64_t i = 0; i < n; i++) mx = in[i] > mx ? in[i] : mx;
                for (int64_t i = 0; i < n; i++) sum += exp(in[i] - mx);
                for (int64_t i = 0; i < n; i++) {
                    /* x - max rounded in f32 (<= 2^-24 relative of |x - max|, moving exp by
                     * that times |x - max| <= 40 here), expf, 1/sum and the product */
                    const double e = exp(in[i] - mx) / sum;
                    if (!close_to(want[i], e, 4e-6, 1e-44)) {
                        snprintf(msg, sizeof msg, "ref x[%" PRId64 "] = %.9g, double %.9g", i, want[i], e);
                        report("ref", "softmax vs double", n, msg);
                        break;
                    }
                }
            }
            free(in);
        }
}

/* ---- f32_to_f16 --------------------------------------------------------------------------- */

static float random_f16_input(void) {
    switch (irand(6)) {
    case 0: return u2f((uint32_t)rnd()); /* any bit pattern: NaN, inf, subnormal, huge */
    case 1: { /* an exact tie between two f16 values */
        const uint16_t h = (uint16_t)(irand(0x7bff) | (irand(2) << 15));
        return (float)(((double)tca_f16_to_f32(h) + tca_f16_to_f32((uint16_t)(h + 1))) / 2);
    }
    case 2: return (float)(65504.0 + frand(32.0f)); /* the overflow edge (65520 rounds to inf) */
    case 3: return frand(1e-4f);                     /* f16 subnormals */
    case 4: return (float)ldexp(frand(1.0f), -24 - (int)irand(3)); /* below the smallest subnormal */
    default: return frand(100.0f);
    }
}

/* Whether h is a correctly rounded f16 of finite x: no neighbour nearer, ties to even. */
static int f16_nearest(float x, uint16_t h) {
    const uint16_t sign = f2u(x) >> 31 ? 0x8000 : 0;
    if ((h & 0x8000) != sign && (h & 0x7fff) != 0) return 0;
    const double ax = fabs((double)x);
    if ((h & 0x7fff) == 0x7c00) return ax >= 65520.0;
    if ((h & 0x7fff) > 0x7c00) return 0;
    const double e = fabs(ax - fabs((double)tca_f16_to_f32(h)));
    const uint16_t mag = h & 0x7fff;
    for (int dlt = -1; dlt <= 1; dlt += 2) {
        if (mag == 0 && dlt < 0) continue;
        const uint16_t nb = (uint16_t)(mag + dlt);
        const double en = nb >= 0x7c00 ? 65536.0 - ax : fabs(ax - tca_f16_to_f32(nb));
        if (en < e || (en == e && (mag & 1))) return 0;
    }
    return 1;
}

static void test_f16(const char *isa, const tca_kernels *k, const tca_kernels *ref, buf *bx, buf *by16,
                     int check_ref) {
    char msg[160];
    for (size_t li = 0; li < NLENS; li++) {
        const int64_t n = lens[li];
        float *x = buf_reset(bx);
        for (int64_t i = 0; i < n; i++) x[i] = random_f16_input();
        uint16_t *want = malloc((size_t)n * 2);
        ref->f32_to_f16(x, want, n);
        uint16_t *y16 = (uint16_t *)by16->w;
        for (int i = 0; i < 2 * (GUARD + MAXOFF + MAXN + GUARD); i++) y16[i] = CANARY16;
        const int off = (int)irand(MAXOFF);
        uint16_t *y = y16 + GUARD + off;
        k->f32_to_f16(x, y, n);
        for (int64_t i = 0; i < 2 * (GUARD + MAXOFF + MAXN + GUARD); i++)
            if ((i < GUARD + off || i >= GUARD + off + n) && y16[i] != CANARY16) {
                report(isa, "f32_to_f16", n, "wrote outside y");
                break;
            }
        for (int64_t i = 0; i < n; i++)
            if (y[i] != want[i]) {
                snprintf(msg, sizeof msg, "y[%" PRId64 "] = 0x%04x, ref 0x%04x (x %.9g, 0x%08x)", i, y[i], want[i], x[i], f2u(x[i]));
                report(isa, "f32_to_f16", n, msg);
                break;
            }
        if (check_ref)
            for (int64_t i = 0; i < n; i++) {
                const uint32_t u = f2u(x[i]);
                const int ok = is_nan32(u) ? want[i] == (uint16_t)((u >> 16 & 0x8000) | 0x7e00 | ((u & 0x7fffff) >> 13))
                                           : f16_nearest(x[i], want[i]);
                if (!ok) {
                    snprintf(msg, sizeof msg, "ref 0x%04x for x %.9g (0x%08x): not the nearest even f16", want[i], x[i], u);
                    report("ref", "f32_to_f16 rounding", n, msg);
                    break;
                }
            }
        free(want);
    }
}

int main(void) {
    const char *env_seed = getenv("TCA_TEST_SEED");
    seed = env_seed && *env_seed ? strtoull(env_seed, NULL, 10) : 20251129u;
    rng_state = seed;
    printf("test_elementwise: seed %" PRIu64 "\n", seed);

    buf b[8];
    for (int i = 0; i < 8; i++) {
        b[i].w = malloc((GUARD + MAXOFF + MAXN + GUARD) * 4);
        if (!b[i].w) {
            fprintf(stderr, "FAIL: out of memory\n");
            return 1;
        }
    }
    tca_kernels ref;
    if (tca_kernels_fill(TCA_ISA_REF, &ref) != 0 || !ref.rmsnorm || !ref.rope || !ref.silu_mul || !ref.softmax ||
        !ref.f32_to_f16) {
        fprintf(stderr, "FAIL: no reference elementwise kernels\n");
        return 1;
    }
    tca_kernels tabs[TCA_ISA_COUNT + 1];
    const char *names[TCA_ISA_COUNT + 1];
    int ntab = 0;
    tabs[ntab] = ref;
    names[ntab++] = "ref";
    printf("levels tested:");
    for (int isa = TCA_ISA_REF + 1; isa < TCA_ISA_COUNT; isa++)
        if (tca_kernels_fill((tca_isa)isa, &tabs[ntab]) == 0) {
            names[ntab++] = tca_isa_name((tca_isa)isa);
            printf(" %s", tca_isa_name((tca_isa)isa));
        }
    printf(" (others not built or not on this CPU)\n");
    const char *forced = getenv("TCA_ISA");
    if (forced && *forced) {
        tabs[ntab] = *tca_kernels_active();
        names[ntab++] = "active";
        printf("TCA_ISA=%s: active level %s%s\n", forced, tca_isa_name(tabs[ntab - 1].isa),
               tca_kernels_isa_forced_ok() ? "" : " (fallback: level not available)");
    }
    for (int t = 0; t < ntab; t++) {
        const int check_ref = t == 0; /* the reference against double once */
        test_rmsnorm(names[t], &tabs[t], &ref, &b[0], &b[1], &b[2], &b[3], check_ref);
        test_rope(names[t], &tabs[t], &ref, &b[0], &b[3], &b[4], &b[5], check_ref);
        test_silu(names[t], &tabs[t], &ref, &b[0], &b[1], &b[2], &b[3], check_ref);
        test_softmax(names[t], &tabs[t], &ref, &b[0], &b[3], check_ref);
        test_f16(names[t], &tabs[t], &ref, &b[0], &b[6], check_ref);
        printf("%s: rmsnorm %zu x 2, rope 36, silu_mul %zu x 3, softmax %zu x 3, f32_to_f16 %zu cases\n", names[t], NLENS,
               NLENS, NLENS, NLENS);
    }
    for (int i = 0; i < 8; i++) free(b[i].w);
    if (failures) {
        fprintf(stderr, "%d failure(s); seed %" PRIu64 "\n", failures, seed);
        return 1;
    }
    printf("all within bounds\n");
    return 0;
}
