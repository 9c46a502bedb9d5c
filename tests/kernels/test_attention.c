/* checkasm-style test of the attention kernels (attention.h), over an f16 cache (attn_accum) and
 * an f32 cache (attn_accum_f32).
 *
 * 1. The reference itself against an independent double-precision softmax(q K^T) V computed
 *    directly from the segments (so the specification is checked, not only copied).
 * 2. Every ISA level this build and CPU have against the reference, with the contract's bound
 *    |o - o_ref| <= (1e-5 + 4 d 2^-24 S) max|v| per row (attention.h), for
 *    d in {16, 48, 64, 128} and 272 (nq <= 3), nq in {1, ..., 7, 96}, and the segment lists
 *      causal      one causal segment, queries at the end of it (prefill chunk: heads x positions)
 *      unaligned   one causal segment whose pos0 is not a multiple of anything, queries straddling
 *                  its start (some see 1 key, some none)
 *      tca         a non-causal prefix (sink + core) + a causal raw range, with empty segments
 *      decode      all rows at one position (a GQA group), one long non-causal range
 *      blind       causal segments that start after every query: no row sees a key
 *      huge_pos    exact scores up to +-2^15 (exp overflows without max subtraction)
 *      huge_neg    exact scores all near -4096 (exp underflows to 0 without it)
 *    each run three ways: one call; split-K (the keys cut at a random point, two calls on one
 *    state); and split + attn_merge of two separate states.
 *    Every problem exists twice: with an f16 cache (attn_accum) and with an f32 cache of
 *    full-precision values (attn_accum_f32; values f16 cannot hold, so a kernel that rounded
 *    K or V through f16 would miss the bound of the tight cases).
 *    Rows that see no key must keep m = -inf, l = 0, acc = 0 and finish to 0 exactly.
 *    attn_merge and attn_finish must be bit-identical to ref (checked directly on random states,
 *    empty ones included, for every level whose entries differ from ref's).
 * 3. Each level's attn_accum_f32 on an f32 cache holding exactly the f16 cache's values widened
 *    must give bit for bit the state and output of its attn_accum on the f16 cache, in all three
 *    modes (attention.h: the two share one algorithm and differ only in the loads).
 *    Canaries: the padding between acc/out rows (ldacc, ldo > d) and the words after acc, out,
 *    m and l must be untouched. K/V and q start at odd element offsets (no alignment).
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
#define MAXSEG 6
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

static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

enum { C_CAUSAL, C_UNALIGNED, C_TCA, C_DECODE, C_BLIND, C_HUGE_POS, C_HUGE_NEG, C_COUNT };
static const char *const case_names[C_COUNT] = {"causal", "unaligned", "tca", "decode", "blind", "huge_pos", "huge_neg"};

/* A segment list in both cache types, with the same geometry (n, ld, pos0, causal) per entry. */
typedef struct {
    int n;
    tca_kv_segment h[MAXSEG];     /* f16 cache */
    tca_kv_segment_f32 f[MAXSEG]; /* f32 cache */
} seglist;

/* One problem: nq query rows against a segment list, plus the buffer geometry. */
typedef struct {
    int d, kind, exact;
    int f32; /* 0: the f16 cache is under test and the f32 one holds its values widened;
                1: the f32 cache is under test and holds full-precision values */
    int64_t nq, ldq, ldacc, ldo;
    float scale;
    float *q;       /* nq rows, row i at q + i * ldq */
    int64_t *qpos;  /* nq */
    tca_f16 *kv;    /* storage of all K and V rows of the f16 cache */
    float *kv32;    /* the same of the f32 cache, at the same element offsets */
    seglist seg;
    double *bound; /* nq: the contract's error bound per row */
    int *sees;     /* nq: whether the row sees any key */
} problem;

static tca_f16 f16_of(float x) { return tca_f32_to_f16(x); }

/* Adds a segment of n rows with row stride ld at element offset *cursor of p->kv and p->kv32;
 * values per p->kind, in the f32 cache as drawn (p->f32) or rounded to f16 like the f16 cache. */
static void add_segment(problem *p, int64_t n, int64_t pos0, int causal, int64_t *cursor) {
    const int d = p->d;
    const int64_t ld = d + 16 * irand(3);
    const int64_t k = *cursor + irand(16), v = k + n * ld + 8 + irand(16);
    *cursor = v + n * ld + 16;
    for (int64_t j = 0; j < n; j++)
        for (int c = 0; c < d; c++) {
            float kx, vx = frand(2.0f);
            if (p->exact) /* small integers: q . k is exact in f32 */
                kx = (float)(irand(5) - 2);
            else
                kx = frand(1.0f);
            if (p->kind == C_HUGE_NEG && c == 0) kx = 8.0f;
            p->kv[k + j * ld + c] = f16_of(kx);
            p->kv[v + j * ld + c] = f16_of(vx);
            p->kv32[k + j * ld + c] = p->f32 ? kx : tca_f16_to_f32(f16_of(kx));
            p->kv32[v + j * ld + c] = p->f32 ? vx : tca_f16_to_f32(f16_of(vx));
        }
    const int g = p->seg.n++;
    p->seg.h[g] = (tca_kv_segment){p->kv + k, p->kv + v, n, ld, pos0, causal};
    p->seg.f[g] = (tca_kv_segment_f32){p->kv32 + k, p->kv32 + v, n, ld, pos0, causal};
}

/* Query positions: rows are heads x positions (prefill) or one position for all rows. */
static void set_positions(problem *p, int64_t first, int one_position) {
    const int64_t npos = one_position ? 1 : (p->nq >= 32 ? 32 : p->nq);
    for (int64_t i = 0; i < p->nq; i++) p->qpos[i] = first + i % npos;
}

static void make_problem(problem *p, int kind, int d, int64_t nq, int f32) {
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->f32 = f32;
    p->d = d;
    p->nq = nq;
    p->exact = kind == C_HUGE_POS || kind == C_HUGE_NEG;
    p->scale = p->exact ? 0.125f : 1.0f / sqrtf((float)d);
    p->ldq = d + irand(5);
    p->ldacc = d + irand(17);
    p->ldo = d + irand(17);
    p->q = malloc((size_t)(nq * p->ldq + 16) * sizeof *p->q);
    p->qpos = malloc((size_t)nq * sizeof *p->qpos);
    const size_t kv_elems = (size_t)2 * 1400 * (d + 32) + 2048;
    p->kv = malloc(kv_elems * sizeof *p->kv);
    p->kv32 = malloc(kv_elems * sizeof *p->kv32);
    int64_t cur = 0;
    float *q = p->q + 1; /* odd offset: no alignment */
    for (int64_t i = 0; i < nq; i++)
        for (int c = 0; c < d; c++) {
            float x = frand(kind == C_DECODE ? 4.0f : 2.0f);
            if (p->exact) x = (float)(irand(17) - 8) * 64.0f; /* |q . k| <= 128 * 512 * 2 */
            if (kind == C_HUGE_NEG) x = c == 0 ? -4096.0f : (float)(irand(5) - 2);
            q[i * p->ldq + c] = x;
        }
    p->q = q;
    switch (kind) {
    case C_CAUSAL: { /* keys 0..L-1, queries at the last positions */
        const int64_t L = 40 + irand(260);
        add_segment(p, L, 0, 1, &cur);
        set_positions(p, L - (nq >= 32 ? 32 : nq) - irand(3), 0);
        break;
    }
    case C_UNALIGNED: { /* pos0 odd, queries straddle the start */
        const int64_t pos0 = 1000 + 2 * irand(50) + 1, L = 20 + irand(150);
        add_segment(p, L, pos0, 1, &cur);
        set_positions(p, pos0 - 3 - irand(4), 0);
        break;
    }
    case C_TCA: { /* empty, sink+core prefix, empty, raw range ending at the queries */
        const int64_t P = 30 + irand(200), R = 10 + irand(120), pos0 = 5000 + irand(999);
        add_segment(p, 0, 0, 0, &cur);
        add_segment(p, P, 0, 0, &cur);
        add_segment(p, 0, 77, 1, &cur);
        add_segment(p, R, pos0, 1, &cur);
        set_positions(p, pos0 + R - (nq >= 32 ? 32 : nq) + irand(2), 0);
        break;
    }
    case C_DECODE: { /* one position, one long range (many tiles) */
        const int64_t L = 700 + irand(700);
        add_segment(p, L, 0, 1, &cur);
        set_positions(p, L - 1 + irand(3), 1);
        break;
    }
    case C_BLIND: { /* every segment starts after every query */
        add_segment(p, 50, 4000, 1, &cur);
        add_segment(p, 0, 0, 0, &cur);
        add_segment(p, 70, 9000, 1, &cur);
        set_positions(p, 3000 + irand(100), 0);
        break;
    }
    default: { /* huge scores: a causal segment plus a non-causal one */
        add_segment(p, 30 + irand(60), 0, 0, &cur);
        const int64_t L = 60 + irand(100);
        add_segment(p, L, 100, 1, &cur);
        set_positions(p, 100 + L - (nq >= 32 ? 32 : nq), 0);
        break;
    }
    }
}

static void free_problem(problem *p) {
    free(p->bound);
    free(p->sees);
    free(p->q - 1);
    free(p->qpos);
    free(p->kv);
    free(p->kv32);
}

/* Per row: the bound scale of the contract and whether the row sees any key. */
static void row_bounds(const problem *p, int64_t i, double *bound, int *sees) {
    double S = 0.0, V = 0.0;
    *sees = 0;
    for (int g = 0; g < p->seg.n; g++) {
        const tca_kv_segment_f32 *s = &p->seg.f[g]; /* the values of the cache under test */
        for (int64_t j = 0; j < s->n; j++) {
            if (s->causal && s->pos0 + j > p->qpos[i]) break;
            *sees = 1;
            double a = 0.0;
            for (int c = 0; c < p->d; c++) {
                a += fabs((double)p->q[i * p->ldq + c] * s->k[j * s->ld + c]);
                const double vv = fabs((double)s->v[j * s->ld + c]);
                V = vv > V ? vv : V;
            }
            a *= p->scale;
            S = a > S ? a : S;
        }
    }
    if (p->exact) S = 0.0; /* scores are exact: no rounding to bound */
    *bound = (1e-5 + 4.0 * p->d * 0x1p-24 * S) * V;
}

/* Direct double-precision attention of row i: out[c] = sum_j w_j v_j[c] / sum_j w_j, from the
 * f32 list (for f16 problems it holds the f16 values exactly). */
static void direct_row(const problem *p, int64_t i, double *out) {
    double mx = -INFINITY;
    for (int pass = 0; pass < 2; pass++) {
        double l = 0.0;
        if (pass == 1)
            for (int c = 0; c < p->d; c++) out[c] = 0.0;
        for (int g = 0; g < p->seg.n; g++) {
            const tca_kv_segment_f32 *s = &p->seg.f[g];
            for (int64_t j = 0; j < s->n; j++) {
                if (s->causal && s->pos0 + j > p->qpos[i]) break;
                double sc = 0.0;
                for (int c = 0; c < p->d; c++) sc += (double)p->q[i * p->ldq + c] * s->k[j * s->ld + c];
                sc *= p->scale;
                if (pass == 0) {
                    mx = sc > mx ? sc : mx;
                    continue;
                }
                const double w = exp(sc - mx);
                l += w;
                for (int c = 0; c < p->d; c++) out[c] += w * s->v[j * s->ld + c];
            }
        }
        if (pass == 1 && l > 0)
            for (int c = 0; c < p->d; c++) out[c] /= l;
    }
}

/* State buffers with canaries: m, l: nq + GUARD; acc: nq * ldacc + GUARD; out likewise. */
typedef struct { uint32_t *m, *l, *acc, *out; } state;

static void state_alloc(state *s, const problem *p) {
    s->m = malloc((size_t)(p->nq + GUARD) * 4);
    s->l = malloc((size_t)(p->nq + GUARD) * 4);
    s->acc = malloc((size_t)(p->nq * p->ldacc + GUARD) * 4);
    s->out = malloc((size_t)(p->nq * p->ldo + GUARD) * 4);
}

static void state_reset(state *s, const problem *p) {
    for (int64_t i = 0; i < p->nq + GUARD; i++) s->m[i] = s->l[i] = CANARY;
    for (int64_t i = 0; i < p->nq * p->ldacc + GUARD; i++) s->acc[i] = CANARY;
    for (int64_t i = 0; i < p->nq * p->ldo + GUARD; i++) s->out[i] = CANARY;
    for (int64_t i = 0; i < p->nq; i++) {
        s->m[i] = f2u(-INFINITY);
        s->l[i] = 0;
        for (int c = 0; c < p->d; c++) s->acc[i * p->ldacc + c] = 0;
    }
}

static void state_free(state *s) {
    free(s->m);
    free(s->l);
    free(s->acc);
    free(s->out);
}

static void report(const char *isa, const problem *p, const char *mode, const char *what) {
    failures++;
    if (failures <= 30)
        fprintf(stderr, "FAIL %s %s %s d=%d nq=%" PRId64 " %s: %s (seed %" PRIu64 ", replay with TCA_TEST_SEED=%" PRIu64 ")\n",
                isa, p->f32 ? "attn_accum_f32" : "attn_accum", case_names[p->kind], p->d, p->nq, mode, what, seed,
                seed);
}

/* Checks the canaries of a state: returns 0 when intact. */
static int check_canaries(const char *isa, const problem *p, const char *mode, const state *s) {
    char msg[128];
    for (int64_t i = p->nq; i < p->nq + GUARD; i++)
        if (s->m[i] != CANARY || s->l[i] != CANARY) {
            snprintf(msg, sizeof msg, "wrote m or l past row %" PRId64, p->nq);
            report(isa, p, mode, msg);
            return 1;
        }
    for (int64_t i = 0; i < p->nq * p->ldacc + GUARD; i++)
        if ((i >= p->nq * p->ldacc || i % p->ldacc >= p->d) && s->acc[i] != CANARY) {
            snprintf(msg, sizeof msg, "wrote acc word %" PRId64 " outside the rows (ldacc %" PRId64 ")", i, p->ldacc);
            report(isa, p, mode, msg);
            return 1;
        }
    for (int64_t i = 0; i < p->nq * p->ldo + GUARD; i++)
        if ((i >= p->nq * p->ldo || i % p->ldo >= p->d) && s->out[i] != CANARY) {
            snprintf(msg, sizeof msg, "wrote out word %" PRId64 " outside the rows (ldo %" PRId64 ")", i, p->ldo);
            report(isa, p, mode, msg);
            return 1;
        }
    return 0;
}

/* The segment list cut at a random key: list a gets the keys before the cut, b the rest (both
 * cache types cut alike). */
static void split_segments(const problem *p, seglist *a, seglist *b) {
    int64_t total = 0;
    for (int g = 0; g < p->seg.n; g++) total += p->seg.h[g].n;
    int64_t cut = total ? irand(total + 1) : 0;
    a->n = b->n = 0;
    for (int g = 0; g < p->seg.n; g++) {
        const tca_kv_segment s = p->seg.h[g];
        const tca_kv_segment_f32 f = p->seg.f[g];
        if (cut >= s.n) {
            a->h[a->n] = s;
            a->f[a->n++] = f;
            cut -= s.n;
        } else if (cut <= 0) {
            b->h[b->n] = s;
            b->f[b->n++] = f;
        } else {
            a->h[a->n] = (tca_kv_segment){s.k, s.v, cut, s.ld, s.pos0, s.causal};
            a->f[a->n++] = (tca_kv_segment_f32){f.k, f.v, cut, f.ld, f.pos0, f.causal};
            b->h[b->n] = (tca_kv_segment){s.k + cut * s.ld, s.v + cut * s.ld, s.n - cut, s.ld, s.pos0 + cut, s.causal};
            b->f[b->n++] = (tca_kv_segment_f32){f.k + cut * f.ld, f.v + cut * f.ld, f.n - cut, f.ld, f.pos0 + cut, f.causal};
            cut = 0;
        }
    }
}

enum { M_WHOLE, M_SPLIT, M_MERGE, M_COUNT };
static const char *const mode_names[M_COUNT] = {"one call", "split-K", "split+merge"};

/* One accumulation call of table k over list L: attn_accum_f32 on its f32 cache (f32 = 1) or
 * attn_accum on its f16 cache. */
static void accum(const tca_kernels *k, const problem *p, int f32, const seglist *L, float *m, float *l, float *acc) {
    if (f32)
        k->attn_accum_f32(p->q, p->ldq, p->nq, p->qpos, L->f, L->n, p->d, p->scale, m, l, acc, p->ldacc);
    else
        k->attn_accum(p->q, p->ldq, p->nq, p->qpos, L->h, L->n, p->d, p->scale, m, l, acc, p->ldacc);
}

/* Runs one mode with table k on the cache type f32 into s (state and finished output). */
static void run_mode(const tca_kernels *k, const problem *p, int f32, int mode, state *s, state *s2,
                     const seglist *a, const seglist *b) {
    float *m = (float *)s->m, *l = (float *)s->l, *acc = (float *)s->acc;
    state_reset(s, p);
    if (mode == M_WHOLE) {
        accum(k, p, f32, &p->seg, m, l, acc);
    } else if (mode == M_SPLIT) {
        accum(k, p, f32, a, m, l, acc);
        accum(k, p, f32, b, m, l, acc);
    } else {
        state_reset(s2, p);
        accum(k, p, f32, a, m, l, acc);
        accum(k, p, f32, b, (float *)s2->m, (float *)s2->l, (float *)s2->acc);
        k->attn_merge(p->nq, p->d, m, l, acc, p->ldacc, (const float *)s2->m, (const float *)s2->l,
                      (const float *)s2->acc, p->ldacc);
    }
    k->attn_finish(p->nq, p->d, l, acc, p->ldacc, (float *)s->out, p->ldo);
}

/* Compares a finished state with the reference output; checks empty rows exactly. */
static void compare(const char *isa, const problem *p, const char *mode, const state *s, const state *ref,
                    double *worst) {
    if (check_canaries(isa, p, mode, s)) return;
    char msg[200];
    for (int64_t i = 0; i < p->nq; i++) {
        const double bound = p->bound[i];
        const int sees = p->sees[i];
        const float *o = (const float *)s->out + i * p->ldo, *r = (const float *)ref->out + i * p->ldo;
        if (!sees) {
            int bad = s->m[i] != f2u(-INFINITY) || s->l[i] != 0;
            for (int c = 0; c < p->d; c++) bad |= s->acc[i * p->ldacc + c] != 0 || f2u(o[c]) != 0;
            if (bad) {
                snprintf(msg, sizeof msg, "row %" PRId64 " sees no key but its state or output changed (m %g l %g)",
                         i, u2f(s->m[i]), u2f(s->l[i]));
                report(isa, p, mode, msg);
                return;
            }
            continue;
        }
        for (int c = 0; c < p->d; c++) {
            const double e = fabs((double)o[c] - r[c]);
            if (!(e <= bound)) { /* also catches NaN */
                snprintf(msg, sizeof msg, "out[%" PRId64 "][%d] = %.9g, ref %.9g: error %.3g > bound %.3g",
                         i, c, o[c], r[c], e, bound);
                report(isa, p, mode, msg);
                return;
            }
            if (bound > 0 && e / bound > *worst) *worst = e / bound;
        }
    }
}

/* The reference against the direct double computation (bound as for variants, the double result
 * standing in for the reference). */
static void check_ref_direct(const tca_kernels *ref, const problem *p, state *s, double *worst) {
    run_mode(ref, p, p->f32, M_WHOLE, s, NULL, NULL, NULL);
    if (check_canaries("ref", p, "vs double", s)) return;
    double *want = malloc((size_t)p->d * sizeof *want);
    char msg[200];
    for (int64_t i = 0; i < p->nq; i++) {
        const double bound = p->bound[i];
        if (!p->sees[i]) continue; /* checked exactly in compare() */
        direct_row(p, i, want);
        const float *o = (const float *)s->out + i * p->ldo;
        for (int c = 0; c < p->d; c++) {
            const double e = fabs(o[c] - want[c]);
            if (!(e <= bound)) {
                snprintf(msg, sizeof msg, "ref out[%" PRId64 "][%d] = %.9g, double %.9g: error %.3g > bound %.3g",
                         i, c, o[c], want[c], e, bound);
                report("ref", p, "vs double", msg);
                free(want);
                return;
            }
            if (bound > 0 && e / bound > *worst) *worst = e / bound;
        }
    }
    free(want);
}

/* attn_merge and attn_finish of table k against ref, bit for bit, on random states of nq rows
 * (some rows empty: m = -inf, l = 0) with ldacc = d + 3. */
static void check_merge_finish(const char *isa, const tca_kernels *k, const tca_kernels *ref) {
    enum { NQ = 9, D = 48, LD = D + 3 };
    float m[2][NQ], l[2][NQ], acc[2][NQ * LD], m2[NQ], l2[NQ], acc2[NQ * LD], out[2][NQ * LD];
    for (int i = 0; i < NQ; i++) {
        const int empty1 = irand(4) == 0, empty2 = irand(4) == 0;
        m[0][i] = empty1 ? -INFINITY : frand(50.0f);
        l[0][i] = empty1 ? 0.0f : (float)urand() * 100.0f + 1.0f;
        m2[i] = empty2 ? -INFINITY : frand(50.0f);
        l2[i] = empty2 ? 0.0f : (float)urand() * 100.0f + 1.0f;
        for (int c = 0; c < LD; c++) {
            acc[0][i * LD + c] = empty1 ? 0.0f : frand(10.0f);
            acc2[i * LD + c] = empty2 ? 0.0f : frand(10.0f);
        }
    }
    memcpy(m[1], m[0], sizeof m[0]);
    memcpy(l[1], l[0], sizeof l[0]);
    memcpy(acc[1], acc[0], sizeof acc[0]);
    memset(out, 0, sizeof out);
    const tca_kernels *t[2] = {ref, k};
    for (int j = 0; j < 2; j++) {
        t[j]->attn_merge(NQ, D, m[j], l[j], acc[j], LD, m2, l2, acc2, LD);
        t[j]->attn_finish(NQ, D, l[j], acc[j], LD, out[j], LD);
    }
    if (memcmp(m[0], m[1], sizeof m[0]) || memcmp(l[0], l[1], sizeof l[0]) || memcmp(acc[0], acc[1], sizeof acc[0]) ||
        memcmp(out[0], out[1], sizeof out[0])) {
        failures++;
        fprintf(stderr, "FAIL %s attn_merge/attn_finish: not bit-identical to ref (seed %" PRIu64 ")\n", isa, seed);
    }
}

/* attn_accum_f32 on the f32 cache of an f16 problem (its values widened) against s16, the result
 * of attn_accum on the f16 cache with the same table and mode: state and output bit for bit. */
static void check_widened(const char *isa, const tca_kernels *k, const problem *p, int mode, const state *s16,
                          state *s32, state *s2, const seglist *a, const seglist *b) {
    run_mode(k, p, 1, mode, s32, s2, a, b);
    const size_t words[4] = {(size_t)(p->nq + GUARD), (size_t)(p->nq + GUARD), (size_t)(p->nq * p->ldacc + GUARD),
                             (size_t)(p->nq * p->ldo + GUARD)};
    const uint32_t *x[4] = {s16->m, s16->l, s16->acc, s16->out}, *y[4] = {s32->m, s32->l, s32->acc, s32->out};
    static const char *const what[4] = {"m", "l", "acc", "out"};
    for (int t = 0; t < 4; t++)
        if (memcmp(x[t], y[t], words[t] * 4) != 0) {
            char msg[160];
            snprintf(msg, sizeof msg, "attn_accum_f32 on the widened f16 cache: %s differs from attn_accum's", what[t]);
            report(isa, p, mode_names[mode], msg);
            return;
        }
}

/* 16, 64, 128: the contract's sizes; 48 leaves a partial register block of the head dimension
 * (3 ZMM, 6 YMM); 272 is above the variants' tile limit (D_MAX = 256: they hand it to ref). */
static const int dims[] = {16, 48, 64, 128, 272};
/* 1..6: every row count of the variants' single-block (decode) paths, 6 = Qwen2.5's GQA group;
 * 7: one full block + 1; 96: a prefill tile of 3 heads x 32 positions. */
static const int64_t nqs[] = {1, 2, 3, 4, 5, 6, 7, 96};

/* Error ratios and run counts over all problems. */
typedef struct {
    double worst_ref[2], worst[2][8]; /* [cache type]: ref vs double; [cache type][table] vs ref */
    int cases, widened;
} tally;

/* One problem (kind, d, nq, cache type) for the tables in tabs[0..ntab) (tabs[0] is ref). */
static void run_problem(const tca_kernels *tabs, int ntab, const char *const *names, int kind, int d, int64_t nq,
                        int f32, tally *tl) {
    problem p;
    make_problem(&p, kind, d, nq, f32);
    p.bound = malloc((size_t)p.nq * sizeof *p.bound);
    p.sees = malloc((size_t)p.nq * sizeof *p.sees);
    for (int64_t i = 0; i < p.nq; i++) row_bounds(&p, i, &p.bound[i], &p.sees[i]);
    state ref_out, s, s2, s3;
    state_alloc(&ref_out, &p);
    state_alloc(&s, &p);
    state_alloc(&s2, &p);
    state_alloc(&s3, &p);
    seglist a, b;
    split_segments(&p, &a, &b);
    check_ref_direct(&tabs[0], &p, &ref_out, &tl->worst_ref[f32]);
    for (int t = 0; t < ntab; t++)
        for (int mode = 0; mode < M_COUNT; mode++) {
            const int is_ref = t == 0 && mode == M_WHOLE; /* that run is ref_out */
            if (!is_ref) {
                run_mode(&tabs[t], &p, f32, mode, &s, &s2, &a, &b);
                compare(names[t], &p, mode_names[mode], &s, &ref_out, &tl->worst[f32][t]);
                tl->cases++;
            }
            if (!f32) {
                check_widened(names[t], &tabs[t], &p, mode, is_ref ? &ref_out : &s, &s3, &s2, &a, &b);
                tl->widened++;
            }
        }
    state_free(&ref_out);
    state_free(&s);
    state_free(&s2);
    state_free(&s3);
    free_problem(&p);
}

/* All problems for the tables in tabs[0..ntab) (tabs[0] is ref), over each cache type. */
static void run_all(const tca_kernels *tabs, int ntab, const char *const *names) {
    tally tl = {0};
    for (int f32 = 0; f32 < 2; f32++)
        for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++)
            for (size_t qi = 0; qi < sizeof nqs / sizeof nqs[0]; qi++)
                for (int kind = 0; kind < C_COUNT; kind++) {
                    if (dims[di] > 128 && nqs[qi] > 3) continue; /* the fallback path: a few cases */
                    run_problem(tabs, ntab, names, kind, dims[di], nqs[qi], f32, &tl);
                }
    for (int f32 = 0; f32 < 2; f32++) {
        const char *fn = f32 ? "attn_accum_f32" : "attn_accum";
        printf("%s: ref vs double: worst error %.3f of the bound\n", fn, tl.worst_ref[f32]);
        for (int t = 0; t < ntab; t++)
            printf("%s: %s vs ref: worst error %.3f of the bound\n", fn, names[t], tl.worst[f32][t]);
    }
    printf("%d runs against ref; %d runs of attn_accum_f32 on widened f16 values compared bit for bit with "
           "attn_accum\n", tl.cases, tl.widened);
}

int main(void) {
    const char *env_seed = getenv("TCA_TEST_SEED");
    seed = env_seed && *env_seed ? strtoull(env_seed, NULL, 10) : 20251129u;
    rng_state = seed;
    printf("test_attention: seed %" PRIu64 "\n", seed);

    tca_kernels tabs[TCA_ISA_COUNT + 1];
    const char *names[TCA_ISA_COUNT + 1];
    int ntab = 0;
    if (tca_kernels_fill(TCA_ISA_REF, &tabs[0]) != 0 || !tabs[0].attn_accum || !tabs[0].attn_accum_f32 ||
        !tabs[0].attn_merge || !tabs[0].attn_finish) {
        fprintf(stderr, "FAIL: no reference attention kernels\n");
        return 1;
    }
    names[ntab++] = "ref";
    printf("levels tested:");
    for (int isa = TCA_ISA_REF + 1; isa < TCA_ISA_COUNT; isa++) {
        if (tca_kernels_fill((tca_isa)isa, &tabs[ntab]) != 0) continue;
        if (tabs[ntab].attn_merge != tabs[0].attn_merge || tabs[ntab].attn_finish != tabs[0].attn_finish) {
            printf(" (%s has its own merge/finish)", tca_isa_name((tca_isa)isa));
            for (int rep = 0; rep < 20; rep++) check_merge_finish(tca_isa_name((tca_isa)isa), &tabs[ntab], &tabs[0]);
        }
        /* a level with its own f16 kernel must have its own f32 one (else ref stands in untested) */
        if (tabs[ntab].attn_accum != tabs[0].attn_accum && tabs[ntab].attn_accum_f32 == tabs[0].attn_accum_f32) {
            failures++;
            fprintf(stderr, "FAIL %s: attn_accum is a variant but attn_accum_f32 is still ref's\n",
                    tca_isa_name((tca_isa)isa));
        }
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
    run_all(tabs, ntab, names);
    if (failures) {
        fprintf(stderr, "%d failure(s); seed %" PRIu64 "\n", failures, seed);
        return 1;
    }
    printf("all within bounds\n");
    return 0;
}
