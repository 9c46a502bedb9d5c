/* Attention throughput per ISA level (a benchmark, not a test).
 *
 *   bench_attention [TRIALS [prefill|decode]]   (default 3, both; best of TRIALS per row)
 *
 * Prefill: one KV head, causal, L = 2048 and 8192 keys and queries, in the driver's shape: query
 * chunks of 32 positions x the GQA group (d = 64 with 3 query heads per KV head, SmolLM2; d = 128
 * with 6, Qwen2.5-1.5B), each chunk one attn_accum over keys [0, chunk end) then attn_finish.
 * GFLOP/s counts 4 d flops per visible (query, key) pair (q.k and p.v, a multiply-add each as 2).
 * The reference is far too slow for the whole L = 8192 run: it is timed on 8 chunks spread over
 * the sequence and its rate (flops of those chunks / time) is the one in the table.
 * Decode: the group's 3 or 6 rows at position L - 1 against L = 8192 keys, one call + finish.
 * GB/s counts the f16 K and V bytes read (2 * L * d * 2). "hot": the same head every call (cache
 * resident: compute bound); "cold": calls cycle over 64 heads (>= 128 MiB, beyond the LLC).
 * Single thread. Also prints this machine's FMA peak for one thread (a loop of independent FMAs)
 * so the GFLOP/s can be read as a fraction of it. Prints markdown tables, then one JSON line per
 * row with the machine, level, threads and commit. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "quant.h"

#ifndef TCA_BENCH_COMMIT
#define TCA_BENCH_COMMIT "unknown"
#endif

#define CHUNK 32    /* query positions per prefill call */
#define COLD_HEADS 64

static uint64_t rng = 0x2545f4914f6cdd1dull;
static float frand(void) { /* [-1, 1) */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) * 0x1p-52 - 1.0);
}

static void cpu_name(char *out, size_t size) {
    snprintf(out, size, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (colon && strncmp(line, "model name", 10) == 0) {
            snprintf(out, size, "%s", colon + 2);
            out[strcspn(out, "\n")] = '\0';
            break;
        }
    }
    fclose(f);
}

/* Single-thread FMA peak: 12 independent accumulator chains (enough to cover FMA latency x
 * throughput on current cores), GFLOP/s = 2 * lanes * FMAs / s. */
#if defined(__x86_64__)
#include <immintrin.h>
#include "../wall_clock.h"
__attribute__((target("avx2,fma"))) static double peak_avx2(void) {
    __m256 a[12];
    for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps((float)i);
    const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
    const int64_t iters = 20000000;
    const double t0 = now_s();
    for (int64_t n = 0; n < iters; n++)
        for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], x, y);
    const double t = now_s() - t0;
    float s = 0;
    for (int i = 0; i < 12; i++) s += _mm256_cvtss_f32(a[i]);
    if (s == 12345.0f) printf(" ");
    return 2.0 * 8 * 12 * (double)iters / t / 1e9;
}
__attribute__((target("avx512f"))) static double peak_avx512(void) {
    __m512 a[12];
    for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps((float)i);
    const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
    const int64_t iters = 10000000;
    const double t0 = now_s();
    for (int64_t n = 0; n < iters; n++)
        for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(a[i], x, y);
    const double t = now_s() - t0;
    float s = 0;
    for (int i = 0; i < 12; i++) s += _mm512_reduce_add_ps(a[i]);
    if (s == 12345.0f) printf(" ");
    return 2.0 * 16 * 12 * (double)iters / t / 1e9;
}
#endif

typedef struct {
    int d, heads;     /* head dimension, query heads per KV head */
    int64_t L;        /* keys (= query positions for prefill) */
    tca_f16 *k, *v;   /* L rows of d (one head) */
    float *q;         /* prefill: L * heads rows of d, chunk-major: chunk c, head h, position t */
    float *m, *l, *acc, *out; /* CHUNK * heads rows */
    int64_t *qpos;
} problem;

static void make(problem *p, int d, int heads, int64_t L) {
    p->d = d;
    p->heads = heads;
    p->L = L;
    p->k = malloc((size_t)(L * d) * sizeof *p->k);
    p->v = malloc((size_t)(L * d) * sizeof *p->v);
    p->q = malloc((size_t)(L * heads * d) * sizeof *p->q);
    const size_t rows = (size_t)CHUNK * (size_t)heads;
    p->m = malloc(rows * sizeof *p->m);
    p->l = malloc(rows * sizeof *p->l);
    p->acc = malloc(rows * (size_t)d * sizeof *p->acc);
    p->out = malloc(rows * (size_t)d * sizeof *p->out);
    p->qpos = malloc(rows * sizeof *p->qpos);
    for (int64_t i = 0; i < L * d; i++) {
        p->k[i] = tca_f32_to_f16(frand());
        p->v[i] = tca_f32_to_f16(frand());
    }
    for (int64_t i = 0; i < L * heads * d; i++) p->q[i] = frand();
}

static void unmake(problem *p) {
    free(p->k);
    free(p->v);
    free(p->q);
    free(p->m);
    free(p->l);
    free(p->acc);
    free(p->out);
    free(p->qpos);
}

/* One prefill chunk c: rows (head h, position c * CHUNK + t) against keys [0, chunk end).
 * Returns its flops. */
static double prefill_chunk(const tca_kernels *k, problem *p, int64_t c) {
    const int d = p->d;
    const int64_t rows = (int64_t)CHUNK * p->heads, first = c * CHUNK;
    for (int64_t r = 0; r < rows; r++) {
        p->qpos[r] = first + r % CHUNK;
        p->m[r] = -INFINITY;
        p->l[r] = 0.0f;
    }
    memset(p->acc, 0, (size_t)(rows * d) * sizeof *p->acc);
    const tca_kv_segment seg = {p->k, p->v, first + CHUNK, d, 0, 1};
    const float scale = 1.0f / sqrtf((float)d);
    k->attn_accum(p->q + first * p->heads * d, d, rows, p->qpos, &seg, 1, d, scale, p->m, p->l, p->acc, d);
    k->attn_finish(rows, d, p->l, p->acc, d, p->out, d);
    double pairs = 0;
    for (int64_t t = 0; t < CHUNK; t++) pairs += (double)(first + t + 1);
    return 4.0 * d * p->heads * pairs;
}

/* GFLOP/s over all chunks, or over `sample` chunks spread over the sequence. Best of trials. */
static double prefill_rate(const tca_kernels *k, problem *p, int sample, int trials) {
    const int64_t nchunks = p->L / CHUNK;
    double best = 0;
    for (int tr = 0; tr < trials; tr++) {
        double flops = 0;
        const double t0 = now_s();
        if (sample <= 0)
            for (int64_t c = 0; c < nchunks; c++) flops += prefill_chunk(k, p, c);
        else
            for (int s = 0; s < sample; s++) flops += prefill_chunk(k, p, (2 * s + 1) * nchunks / (2 * sample));
        const double r = flops / (now_s() - t0) / 1e9;
        best = r > best ? r : best;
    }
    return best;
}

/* Decode GB/s of K+V read: the group's rows at position L - 1 over all L keys; heads[]: the KV
 * heads to cycle over (1: hot). */
static double decode_rate(const tca_kernels *k, problem *p, tca_f16 *const *hk, tca_f16 *const *hv, int nheads,
                          int trials) {
    const int d = p->d;
    const int64_t rows = p->heads;
    const float scale = 1.0f / sqrtf((float)d);
    for (int64_t r = 0; r < rows; r++) p->qpos[r] = p->L - 1;
    double best = 0;
    const int calls = nheads > 1 ? 2 * nheads : 64;
    for (int tr = 0; tr < trials; tr++) {
        const double t0 = now_s();
        for (int c = 0; c < calls; c++) {
            for (int64_t r = 0; r < rows; r++) {
                p->m[r] = -INFINITY;
                p->l[r] = 0.0f;
            }
            memset(p->acc, 0, (size_t)(rows * d) * sizeof *p->acc);
            const tca_kv_segment seg = {hk[c % nheads], hv[c % nheads], p->L, d, 0, 1};
            k->attn_accum(p->q, d, rows, p->qpos, &seg, 1, d, scale, p->m, p->l, p->acc, d);
            k->attn_finish(rows, d, p->l, p->acc, d, p->out, d);
        }
        const double r = (double)calls * 2.0 * (double)p->L * d * 2.0 / (now_s() - t0) / 1e9;
        best = r > best ? r : best;
    }
    return best;
}

static const struct { int d, heads; const char *model; } cfg[] = {{64, 3, "SmolLM2"}, {128, 6, "Qwen2.5-1.5B"}};

typedef struct { /* what every table row needs */
    const tca_kernels *levels;
    const int *have;
    int trials;
    const char *machine;
    char (*json)[400];
    int njson;
} bench;

static void bench_prefill(bench *b) {
    static const int64_t Ls[] = {2048, 8192};
    printf("\n## prefill (causal, one KV head, chunks of %d positions x heads)\n\n", CHUNK);
    printf("| shape | L | level | GFLOP/s | x ref |\n|---|---|---|---|---|\n");
    for (size_t ci = 0; ci < 2; ci++)
        for (size_t li = 0; li < 2; li++) {
            problem p;
            make(&p, cfg[ci].d, cfg[ci].heads, Ls[li]);
            const double ref = prefill_rate(&b->levels[TCA_ISA_REF], &p, 8, 1);
            for (int isa = 0; isa < TCA_ISA_COUNT; isa++) {
                if (!b->have[isa]) continue;
                const double r = isa == TCA_ISA_REF ? ref : prefill_rate(&b->levels[isa], &p, 0, b->trials);
                printf("| d=%d, %d q heads (%s) | %" PRId64 " | %s%s | %.2f | %.1f |\n", cfg[ci].d, cfg[ci].heads,
                       cfg[ci].model, Ls[li], tca_isa_name((tca_isa)isa), isa == TCA_ISA_REF ? " (8 chunks)" : "", r,
                       r / ref);
                snprintf(b->json[b->njson++], sizeof b->json[0],
                         "{\"bench\":\"attention_prefill\",\"machine\":\"%s\",\"commit\":\"%s\",\"threads\":1,\"level\":\"%s\","
                         "\"d\":%d,\"heads\":%d,\"L\":%" PRId64 ",\"gflops\":%.3f,\"x_ref\":%.2f}",
                         b->machine, TCA_BENCH_COMMIT, tca_isa_name((tca_isa)isa), cfg[ci].d, cfg[ci].heads, Ls[li], r,
                         r / ref);
            }
            unmake(&p);
        }
}

static void bench_decode(bench *b) {
    printf("\n## decode (GQA group at position L - 1, L = 8192, GB/s of f16 K+V read)\n\n");
    printf("| shape | cache | level | GB/s | x ref |\n|---|---|---|---|---|\n");
    for (size_t ci = 0; ci < 2; ci++) {
        problem p;
        make(&p, cfg[ci].d, cfg[ci].heads, 8192);
        tca_f16 *hk[COLD_HEADS], *hv[COLD_HEADS];
        const size_t elems = (size_t)(p.L * p.d);
        for (int h = 0; h < COLD_HEADS; h++) {
            hk[h] = malloc(elems * sizeof **hk);
            hv[h] = malloc(elems * sizeof **hv);
            memcpy(hk[h], p.k, elems * sizeof **hk);
            memcpy(hv[h], p.v, elems * sizeof **hv);
        }
        for (int cold = 0; cold < 2; cold++) {
            const int nh = cold ? COLD_HEADS : 1;
            const double ref = decode_rate(&b->levels[TCA_ISA_REF], &p, hk, hv, nh, 1);
            for (int isa = 0; isa < TCA_ISA_COUNT; isa++) {
                if (!b->have[isa]) continue;
                const double r = isa == TCA_ISA_REF ? ref : decode_rate(&b->levels[isa], &p, hk, hv, nh, b->trials);
                printf("| d=%d, %d q heads (%s) | %s | %s | %.2f | %.1f |\n", cfg[ci].d, cfg[ci].heads, cfg[ci].model,
                       cold ? "cold (64 heads, 128/256 MiB)" : "hot (1 head)", tca_isa_name((tca_isa)isa), r, r / ref);
                snprintf(b->json[b->njson++], sizeof b->json[0],
                         "{\"bench\":\"attention_decode\",\"machine\":\"%s\",\"commit\":\"%s\",\"threads\":1,\"level\":\"%s\","
                         "\"d\":%d,\"heads\":%d,\"L\":8192,\"cache\":\"%s\",\"gbs\":%.3f,\"x_ref\":%.2f}",
                         b->machine, TCA_BENCH_COMMIT, tca_isa_name((tca_isa)isa), cfg[ci].d, cfg[ci].heads,
                         cold ? "cold" : "hot", r, r / ref);
            }
        }
        for (int h = 0; h < COLD_HEADS; h++) {
            free(hk[h]);
            free(hv[h]);
        }
        unmake(&p);
    }
}

int main(int argc, char **argv) {
    const int trials = argc > 1 ? atoi(argv[1]) : 3;
    const char *only = argc > 2 ? argv[2] : "";
    if (trials <= 0 || (*only && strcmp(only, "prefill") != 0 && strcmp(only, "decode") != 0)) {
        fprintf(stderr, "usage: bench_attention [TRIALS [prefill|decode]]\n");
        return 2;
    }
    char machine[128];
    cpu_name(machine, sizeof machine);
    tca_kernels levels[TCA_ISA_COUNT];
    int have[TCA_ISA_COUNT];
    for (int i = 0; i < TCA_ISA_COUNT; i++) have[i] = tca_kernels_fill((tca_isa)i, &levels[i]) == 0;
    printf("bench_attention: %s, commit %s, 1 thread, best of %d\n", machine, TCA_BENCH_COMMIT, trials);
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("fma")) printf("FMA peak, 1 thread: AVX2 %.1f GFLOP/s", peak_avx2());
    if (__builtin_cpu_supports("avx512f")) printf(", AVX-512 %.1f GFLOP/s", peak_avx512());
    printf("\n");
#endif
    char json[64][400];
    bench b = {levels, have, trials, machine, json, 0};
    if (strcmp(only, "decode") != 0) bench_prefill(&b);
    if (strcmp(only, "prefill") != 0) bench_decode(&b);
    printf("\n");
    for (int j = 0; j < b.njson; j++) printf("%s\n", json[j]);
    return 0;
}
