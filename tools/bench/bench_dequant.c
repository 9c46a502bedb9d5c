/* Dequantisation throughput per type and ISA level (a benchmark, not a test).
 *
 *   bench_dequant [N_ELEMENTS]     (default 16777216 = 64 MiB of f32 output: beyond the LLC)
 *
 * For every type and every level this build and CPU have, dequantises one buffer of N elements
 * (large: DRAM bound) and one of 65536 (256 KiB of output: cache resident, shows the compute
 * rate), single thread, best of 5 trials of at least 50 ms. Prints GB/s of f32 output and the
 * ratio to ref at the same size, as a markdown table, then one JSON line per row with the
 * machine, level, threads and commit. Levels without their own variant for a type run the ref
 * kernel and are not listed for it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "quant.h"
#include "../wall_clock.h"

#ifndef TCA_BENCH_COMMIT
#define TCA_BENCH_COMMIT "unknown"
#endif

#define SMALL_N 65536

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint8_t rnd8(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint8_t)(rng >> 32);
}

/* Random quants with plausible scales (0.01 and a small min), so no NaN/inf in the output. */
static void fill(int type, uint8_t *src, int64_t bytes) {
    for (int64_t i = 0; i < bytes; i++) src[i] = rnd8();
    const tca_type_traits *tr = tca_type_info((uint32_t)type);
    if (type == TCA_TYPE_F32 || type == TCA_TYPE_F16 || type == TCA_TYPE_BF16) {
        for (int64_t i = 0; i < bytes / tr->block_bytes; i++) {
            const float x = (float)((int)rnd8() - 128) / 64.0f;
            if (type == TCA_TYPE_F32) memcpy(src + 4 * i, &x, 4);
            else if (type == TCA_TYPE_F16) {
                const tca_f16 h = tca_f32_to_f16(x);
                memcpy(src + 2 * i, &h, 2);
            } else {
                uint32_t u;
                memcpy(&u, &x, 4);
                const uint16_t h = (uint16_t)(u >> 16);
                memcpy(src + 2 * i, &h, 2);
            }
        }
        return;
    }
    /* f16 scale fields: every f16 field of each block set to 0.01 (Q8_K: its f32 d) */
    const tca_f16 s = tca_f32_to_f16(0.01f);
    int off[2] = {-1, -1};
    switch (type) {
    case TCA_TYPE_Q4_1: case TCA_TYPE_Q5_1: case TCA_TYPE_Q8_1: case TCA_TYPE_Q4_K: case TCA_TYPE_Q5_K:
        off[0] = 0, off[1] = 2; break;
    case TCA_TYPE_Q4_0: case TCA_TYPE_Q5_0: case TCA_TYPE_Q8_0: off[0] = 0; break;
    case TCA_TYPE_Q2_K: off[0] = 80, off[1] = 82; break;
    case TCA_TYPE_Q3_K: off[0] = 108; break;
    case TCA_TYPE_Q6_K: off[0] = 208; break;
    default: break;
    }
    for (int64_t b = 0; b < bytes / tr->block_bytes; b++) {
        uint8_t *blk = src + b * tr->block_bytes;
        if (type == TCA_TYPE_Q8_K) {
            const float d = 0.01f;
            memcpy(blk, &d, 4);
        }
        for (int k = 0; k < 2; k++)
            if (off[k] >= 0) memcpy(blk + off[k], &s, 2);
    }
}

/* Best GB/s of f32 output over 5 trials, each repeating the kernel for at least 50 ms. */
static double measure(tca_dequant_fn fn, const uint8_t *src, float *dst, int64_t n) {
    double best = 0;
    for (int trial = 0; trial < 5; trial++) {
        int64_t reps = 0;
        const double t0 = now_s();
        double t;
        do {
            fn(src, dst, n);
            reps++;
            t = now_s() - t0;
        } while (t < 0.05);
        const double gbs = (double)reps * (double)n * 4.0 / t / 1e9;
        if (gbs > best) best = gbs;
    }
    return best;
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

typedef struct { int type; int isa; double big, small, big_ref, small_ref; } row;

int main(int argc, char **argv) {
    int64_t n = argc > 1 ? strtoll(argv[1], NULL, 10) : 16777216;
    if (n <= 0 || n % TCA_QK_K != 0 || n < SMALL_N) {
        fprintf(stderr, "bench_dequant: N_ELEMENTS must be a multiple of 256 and >= %d\n", SMALL_N);
        return 2;
    }
    tca_kernels ref, levels[TCA_ISA_COUNT];
    int have[TCA_ISA_COUNT] = {0};
    tca_kernels_fill(TCA_ISA_REF, &ref);
    for (int i = 0; i < TCA_ISA_COUNT; i++) have[i] = tca_kernels_fill((tca_isa)i, &levels[i]) == 0;

    uint8_t *src = malloc((size_t)n * 4); /* F32 is the widest input: 4 bytes per element */
    float *dst = malloc((size_t)n * sizeof(float));
    if (!src || !dst) {
        fprintf(stderr, "bench_dequant: out of memory for %" PRId64 " elements\n", n);
        return 1;
    }
    char machine[128];
    cpu_name(machine, sizeof machine);
    printf("dequant, 1 thread, %s, commit %s\n\n", machine, TCA_BENCH_COMMIT);
    printf("| type | level | GB/s out, %" PRId64 " elems | x ref | GB/s out, %d elems | x ref |\n", n, SMALL_N);
    printf("| --- | --- | ---: | ---: | ---: | ---: |\n");

    row rows[TCA_TYPE_COUNT * TCA_ISA_COUNT];
    int nrows = 0;
    for (int t = 0; t < TCA_TYPE_COUNT; t++) {
        const tca_type_traits *tr = tca_type_info((uint32_t)t);
        if (!tr || !ref.dequant[t]) continue;
        fill(t, src, tca_type_row_bytes((uint32_t)t, n));
        double big_ref = 0, small_ref = 0;
        for (int i = 0; i < TCA_ISA_COUNT; i++) {
            if (!have[i] || (i != TCA_ISA_REF && levels[i].dequant[t] == ref.dequant[t])) continue;
            row r = {t, i, measure(levels[i].dequant[t], src, dst, n),
                     measure(levels[i].dequant[t], src, dst, SMALL_N), 0, 0};
            if (i == TCA_ISA_REF) big_ref = r.big, small_ref = r.small;
            r.big_ref = big_ref, r.small_ref = small_ref;
            printf("| %s | %s | %.1f | %.2f | %.1f | %.2f |\n", tr->name, tca_isa_name((tca_isa)i), r.big,
                   r.big / big_ref, r.small, r.small / small_ref);
            fflush(stdout);
            rows[nrows++] = r;
        }
    }
    printf("\n");
    for (int k = 0; k < nrows; k++)
        printf("{\"bench\":\"dequant\",\"machine\":\"%s\",\"commit\":\"%s\",\"threads\":1,\"type\":\"%s\","
               "\"isa\":\"%s\",\"n\":%" PRId64 ",\"gbps_out\":%.2f,\"x_ref\":%.3f,\"n_small\":%d,"
               "\"gbps_out_small\":%.2f,\"x_ref_small\":%.3f}\n",
               machine, TCA_BENCH_COMMIT, tca_type_info((uint32_t)rows[k].type)->name,
               tca_isa_name((tca_isa)rows[k].isa), n, rows[k].big, rows[k].big / rows[k].big_ref, SMALL_N,
               rows[k].small, rows[k].small / rows[k].small_ref);
    free(src);
    free(dst);
    return 0;
}
