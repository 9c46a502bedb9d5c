/* Quantized products on the supported models' real shapes (a benchmark, not a test).
 *
 *   bench_matmul [--quick]
 *
 * For each shape (weight rows x row length, weight type) and each ISA level this build and CPU
 * have:
 *   decode,  m = 1:   GB/s of weights streamed, 1 thread and 2 threads (OpenMP, rows split in
 *                     multiples of 16 as the drivers do). The weights are cycled through enough
 *                     copies to exceed 256 MiB, so they come from DRAM as in a real decode step
 *                     (a whole model does not fit in the LLC). Includes quantize_act.
 *   prefill, m = 512: GFLOP/s (2 * rows * n * m per call), 1 and 2 threads, quantize_act of the
 *                     512 activation rows included (it is part of the cost). The ref level is
 *                     measured on the first 32 rows only, 2 threads (its rate does not depend
 *                     on the row count, and the full shape would take minutes).
 * and, per shape, the alternative prefill path: dequantise the weights to f32 in tiles of 256
 * rows (best dequant level) and multiply with OpenBLAS cblas_sgemm, 1 and 2 threads.
 * Each figure is the best of 12 trials of at least 40 ms (--quick: 1 trial of 50 ms): on a
 * machine shared with other jobs the best short trial is the one least disturbed by them.
 * 1-thread figures use the thread's CPU time, 2-thread figures wall time (see CLOCK_OF).
 * Then a crossover table (crossover()): ours against dequantise + sgemm for m = 1 ... 512.
 * Prints markdown tables with ratios, then one JSON line per row of the first (machine, level,
 * threads, commit). */
#include <cblas.h>
#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "quant.h"
#include "../wall_clock.h"

#ifndef TCA_BENCH_COMMIT
#define TCA_BENCH_COMMIT "unknown"
#endif

#define PREFILL_M 512
/* 1 thread: the thread's CPU time (what the kernel costs, robust on a machine shared with
 * other jobs); 2 threads: wall time (includes waiting for the slower thread) */
#define CLOCK_OF(nt) ((nt) == 1 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC)
#define REF_PREFILL_ROWS 32
#define DQ_TILE 256
#define COLD_BYTES (256ll << 20)

void openblas_set_num_threads(int num_threads);

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Random weights with plausible f16 scales: random bytes, then each block's f16 fields set. */
static void fill_weights(int type, uint8_t *w, int64_t bytes) {
    for (int64_t i = 0; i < bytes; i++) w[i] = (uint8_t)(rnd() >> 32);
    const tca_f16 s = tca_f32_to_f16(0.01f);
    int off[2] = {-1, -1}, bb = tca_type_info((uint32_t)type)->block_bytes;
    switch (type) {
    case TCA_TYPE_Q4_1: case TCA_TYPE_Q5_1: case TCA_TYPE_Q4_K: case TCA_TYPE_Q5_K: off[0] = 0, off[1] = 2; break;
    case TCA_TYPE_Q4_0: case TCA_TYPE_Q5_0: case TCA_TYPE_Q8_0: off[0] = 0; break;
    case TCA_TYPE_Q6_K: off[0] = 208; break;
    case TCA_TYPE_F16: case TCA_TYPE_F32: off[0] = 0; break; /* every element: a finite value */
    default: break;
    }
    if (type == TCA_TYPE_F32) {
        for (int64_t i = 0; i < bytes / 4; i++) {
            const float f = (float)((int)(rnd() % 255) - 127) / 128.0f;
            memcpy(w + 4 * i, &f, 4);
        }
        return;
    }
    for (int64_t b = 0; b < bytes / bb; b++)
        for (int k = 0; k < 2; k++)
            if (off[k] >= 0) memcpy(w + b * bb + off[k], &s, 2);
}

typedef struct {
    const char *model;
    int64_t rows, n;
    int type;
} shape;

static const shape shapes[] = {
    {"SmolLM2 q/o", 576, 576, TCA_TYPE_Q4_1},      {"SmolLM2 k/v", 192, 576, TCA_TYPE_Q4_1},
    {"SmolLM2 gate/up", 1536, 576, TCA_TYPE_Q4_1}, {"SmolLM2 down", 576, 1536, TCA_TYPE_Q4_1},
    {"SmolLM2 output", 49152, 576, TCA_TYPE_Q8_0}, {"Qwen1.5B q/o", 1536, 1536, TCA_TYPE_Q4_K},
    {"Qwen1.5B gate/up", 8960, 1536, TCA_TYPE_Q4_K}, {"Qwen1.5B down", 1536, 8960, TCA_TYPE_Q6_K},
    {"Qwen0.5B gate/up", 4864, 896, TCA_TYPE_Q5_0},
};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

static int quick;

/* Best seconds per call of body over trials (each repeating for at least min_s) on `clock`. */
#define MEASURE(result, clock, body)                                                              \
    do {                                                                                          \
        const int trials_ = quick ? 1 : 12;                                                       \
        const double min_s_ = quick ? 0.05 : 0.04;                                                \
        double best_ = 1e30;                                                                      \
        for (int trial_ = 0; trial_ < trials_; trial_++) {                                        \
            int64_t reps_ = 0;                                                                    \
            const double t0_ = clock_seconds(clock);                                                      \
            double t_;                                                                            \
            do {                                                                                  \
                body;                                                                             \
                reps_++;                                                                          \
                t_ = clock_seconds(clock) - t0_;                                                          \
            } while (t_ < min_s_);                                                                \
            if (t_ / (double)reps_ < best_) best_ = t_ / (double)reps_;                           \
        }                                                                                         \
        (result) = best_;                                                                         \
    } while (0)

/* rows [r0, r1) of thread `id` of `nt`: slices in multiples of 16 rows */
static void slice(int64_t rows, int id, int nt, int64_t *r0, int64_t *r1) {
    const int64_t per = ((rows + nt - 1) / nt + 15) / 16 * 16;
    *r0 = per * id < rows ? per * id : rows;
    *r1 = per * (id + 1) < rows ? per * (id + 1) : rows;
}

static void qgemm_threads(const tca_kernels *k, int type, const uint8_t *w, size_t ws, const float *x,
                          uint8_t *xq, size_t xs, float *y, int64_t rows, int64_t m, int64_t n, int nt) {
#pragma omp parallel num_threads(nt)
    {
        const int id = omp_get_thread_num(), cnt = omp_get_num_threads();
#pragma omp for schedule(static)
        for (int64_t i = 0; i < m; i++) k->quantize_act[type](x + i * n, xq + (size_t)i * xs, n);
        int64_t r0, r1;
        slice(rows, id, cnt, &r0, &r1);
        if (r1 > r0) k->qgemm[type](w + (size_t)r0 * ws, ws, xq, xs, y + r0, rows, r1 - r0, m, n);
    }
}

/* Y (m x rows) = X (m x n) . W^T with W dequantised to f32 DQ_TILE rows at a time. */
static void dequant_sgemm(const tca_kernels *k, int type, const uint8_t *w, size_t ws, const float *x,
                          float *wf, float *y, int64_t rows, int64_t m, int64_t n, int nt) {
    for (int64_t t0 = 0; t0 < rows; t0 += DQ_TILE) {
        const int64_t tr = rows - t0 < DQ_TILE ? rows - t0 : DQ_TILE;
#pragma omp parallel for num_threads(nt) schedule(static)
        for (int64_t r = 0; r < tr; r++) k->dequant[type](w + (size_t)(t0 + r) * ws, wf + r * n, n);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)tr, (int)n, 1.0f, x, (int)n, wf,
                    (int)n, 0.0f, y + t0, (int)rows);
    }
}

/* Where the prefill strategy changes: for one shape per type, GFLOP/s of the best level against
 * dequantise + sgemm at m = 1 ... 512, 1 thread (CPU time), weights cache-resident (the
 * prefill case: each weight tile is reused by many activation rows). */
static void crossover(const tca_kernels *k) {
    static const int ms[] = {1, 4, 16, 64, 512};
    static const size_t pick[] = {2, 4, 5, 7, 8}; /* one shape per weight type */
    printf("crossover, 1 thread (CPU time), level %s: GFLOP/s ours / dequant+sgemm (ratio)\n\n", tca_isa_name(k->isa));
    printf("| shape | type | m=1 | m=4 | m=16 | m=64 | m=512 |\n| --- | --- | --- | --- | --- | --- | --- |\n");
    openblas_set_num_threads(1);
    for (size_t p = 0; p < sizeof pick / sizeof pick[0]; p++) {
        const shape *sh = &shapes[pick[p]];
        const int64_t rows = sh->rows > 1536 ? 1536 : sh->rows; /* cache-resident */
        const size_t ws = (size_t)tca_type_row_bytes((uint32_t)sh->type, sh->n);
        const size_t xs = (size_t)tca_type_row_bytes((uint32_t)tca_act_type(sh->type), sh->n);
        uint8_t *w = malloc(ws * (size_t)rows), *xq = malloc(xs * PREFILL_M);
        float *x = malloc((size_t)PREFILL_M * sh->n * sizeof(float)), *y = malloc((size_t)PREFILL_M * rows * sizeof(float));
        float *wf = malloc((size_t)DQ_TILE * sh->n * sizeof(float));
        if (!w || !xq || !x || !y || !wf) {
            fprintf(stderr, "bench_matmul: out of memory\n");
            exit(1);
        }
        fill_weights(sh->type, w, (int64_t)(ws * (size_t)rows));
        for (int64_t j = 0; j < PREFILL_M * sh->n; j++) x[j] = (float)((int)(rnd() % 2001) - 1000) / 1000.0f;
        printf("| %s %" PRId64 " x %" PRId64 " | %s |", sh->model, rows, sh->n, tca_type_info((uint32_t)sh->type)->name);
        for (size_t j = 0; j < sizeof ms / sizeof ms[0]; j++) {
            double a, b;
            MEASURE(a, CLOCK_THREAD_CPUTIME_ID, qgemm_threads(k, sh->type, w, ws, x, xq, xs, y, rows, ms[j], sh->n, 1));
            MEASURE(b, CLOCK_THREAD_CPUTIME_ID, dequant_sgemm(k, sh->type, w, ws, x, wf, y, rows, ms[j], sh->n, 1));
            const double f = 2.0 * (double)rows * (double)sh->n * ms[j] / 1e9;
            printf(" %.0f / %.0f (%.2f) |", f / a, f / b, b / a);
        }
        printf("\n");
        fflush(stdout);
        free(w);
        free(xq);
        free(x);
        free(y);
        free(wf);
    }
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

int main(int argc, char **argv) {
    quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    tca_kernels levels[TCA_ISA_COUNT];
    int have[TCA_ISA_COUNT];
    for (int i = 0; i < TCA_ISA_COUNT; i++) have[i] = tca_kernels_fill((tca_isa)i, &levels[i]) == 0;
    const tca_kernels *best = tca_kernels_active();
    openblas_set_num_threads(2);

    char machine[128];
    cpu_name(machine, sizeof machine);
    printf("bench_matmul: %s, commit %s, best level %s%s\n\n", machine, TCA_BENCH_COMMIT,
           tca_isa_name(best->isa), quick ? " (quick: 1 short trial each)" : "");
    printf("| shape | rows x n | type | level | m=1 GB/s 1T | m=1 GB/s 2T | x ref (2T) | m=512 GFLOP/s 1T "
           "| m=512 GFLOP/s 2T | x ref (2T) | dq+sgemm GFLOP/s 1T | dq+sgemm GFLOP/s 2T | ours / dq+sgemm 1T "
           "| ours / dq+sgemm 2T |\n");
    printf("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");

    char json[N_SHAPES * TCA_ISA_COUNT][512];
    int njson = 0;
    for (size_t s = 0; s < N_SHAPES; s++) {
        const shape *sh = &shapes[s];
        const int at = tca_act_type(sh->type);
        const size_t ws = (size_t)tca_type_row_bytes((uint32_t)sh->type, sh->n);
        const size_t xs = (size_t)tca_type_row_bytes((uint32_t)at, sh->n);
        const int64_t wbytes = (int64_t)ws * sh->rows;
        const int copies = (int)((COLD_BYTES + wbytes - 1) / wbytes);
        uint8_t *w = malloc((size_t)wbytes * copies);
        float *x = malloc((size_t)PREFILL_M * sh->n * sizeof(float));
        uint8_t *xq = malloc((size_t)PREFILL_M * xs);
        float *y = malloc((size_t)PREFILL_M * sh->rows * sizeof(float));
        float *wf = malloc((size_t)DQ_TILE * sh->n * sizeof(float));
        if (!w || !x || !xq || !y || !wf) {
            fprintf(stderr, "bench_matmul: out of memory\n");
            return 1;
        }
        fill_weights(sh->type, w, wbytes);
        for (int c = 1; c < copies; c++) memcpy(w + (size_t)c * wbytes, w, (size_t)wbytes);
        for (int64_t j = 0; j < PREFILL_M * sh->n; j++) x[j] = (float)((int)(rnd() % 2001) - 1000) / 1000.0f;

        double t_dq[2];
        for (int nt = 1; nt <= 2; nt++) {
            openblas_set_num_threads(nt);
            MEASURE(t_dq[nt - 1], CLOCK_OF(nt), dequant_sgemm(best, sh->type, w, ws, x, wf, y, sh->rows, PREFILL_M, sh->n, nt));
        }
        const double flops = 2.0 * (double)sh->rows * (double)sh->n * PREFILL_M;
        const double gf_dq1 = flops / t_dq[0] / 1e9, gf_dq = flops / t_dq[1] / 1e9;

        double ref_dec2 = 0, ref_pre = 0;
        for (int l = 0; l < TCA_ISA_COUNT; l++) {
            if (!have[l]) continue;
            const tca_kernels *k = &levels[l];
            if (l != TCA_ISA_REF && k->qgemm[sh->type] == levels[TCA_ISA_REF].qgemm[sh->type]) continue;
            double dec[2];
            for (int nt = 1; nt <= 2; nt++) {
                int c = 0;
                MEASURE(dec[nt - 1], CLOCK_OF(nt), {
                    qgemm_threads(k, sh->type, w + (size_t)c * wbytes, ws, x, xq, xs, y, sh->rows, 1, sh->n, nt);
                    c = (c + 1) % copies;
                });
            }
            const int64_t prow = l == TCA_ISA_REF ? REF_PREFILL_ROWS : sh->rows;
            double t_pre, t_pre1 = 0;
            MEASURE(t_pre, CLOCK_MONOTONIC, qgemm_threads(k, sh->type, w, ws, x, xq, xs, y, prow, PREFILL_M, sh->n, 2));
            if (l != TCA_ISA_REF) MEASURE(t_pre1, CLOCK_THREAD_CPUTIME_ID, qgemm_threads(k, sh->type, w, ws, x, xq, xs, y, prow, PREFILL_M, sh->n, 1));
            const double gb1 = (double)wbytes / dec[0] / 1e9, gb2 = (double)wbytes / dec[1] / 1e9;
            const double gf = 2.0 * (double)prow * (double)sh->n * PREFILL_M / t_pre / 1e9;
            const double gf1 = l == TCA_ISA_REF ? 0.0 : 2.0 * (double)prow * (double)sh->n * PREFILL_M / t_pre1 / 1e9;
            if (l == TCA_ISA_REF) ref_dec2 = gb2, ref_pre = gf;
            char c1[32] = "-", r1[32] = "-";
            if (l != TCA_ISA_REF) {
                snprintf(c1, sizeof c1, "%.1f", gf1);
                snprintf(r1, sizeof r1, "%.2f", gf1 / gf_dq1);
            }
            printf("| %s | %" PRId64 " x %" PRId64 " | %s | %s | %.1f | %.1f | %.1f | %s | %.1f | %.1f | %.1f | %.1f | %s | %.2f |\n",
                   sh->model, sh->rows, sh->n, tca_type_info((uint32_t)sh->type)->name, tca_isa_name((tca_isa)l),
                   gb1, gb2, gb2 / ref_dec2, c1, gf, gf / ref_pre, gf_dq1, gf_dq, r1, gf / gf_dq);
            fflush(stdout);
            snprintf(json[njson++], sizeof json[0],
                     "{\"bench\":\"matmul\",\"machine\":\"%s\",\"commit\":\"%s\",\"shape\":\"%s\",\"rows\":%" PRId64
                     ",\"n\":%" PRId64 ",\"type\":\"%s\",\"level\":\"%s\",\"decode_gbs_1t\":%.2f,\"decode_gbs_2t\":%.2f,"
                     "\"prefill_m\":%d,\"prefill_gflops_1t\":%.2f,\"prefill_gflops_2t\":%.2f,\"dequant_sgemm_gflops_1t\":%.2f,"
                     "\"dequant_sgemm_gflops_2t\":%.2f}",
                     machine, TCA_BENCH_COMMIT, sh->model, sh->rows, sh->n, tca_type_info((uint32_t)sh->type)->name,
                     tca_isa_name((tca_isa)l), gb1, gb2, PREFILL_M, gf1, gf, gf_dq1, gf_dq);
        }
        free(w);
        free(x);
        free(xq);
        free(y);
        free(wf);
    }
    printf("\n");
    crossover(best);
    printf("\n");
    for (int j = 0; j < njson; j++) printf("%s\n", json[j]);
    return 0;
}
