/* The building blocks of a forward step (ops.h). */
#include "ops.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

double fw_now(void) { return omp_get_wtime(); }

/* Quantizes T activation rows once for the weights' shared activation type into c->xq.
 * Every thread of the region must call it (work-sharing loop, implicit barrier). */
static void quantize_rows(tca_context *c, const tca_weight *w, const float *x, int64_t ldx, int64_t T) {
    const int at = tca_act_type((int)w->type);
    const size_t stride = (size_t)tca_type_row_bytes((uint32_t)at, w->cols);
#pragma omp for schedule(static)
    for (int64_t t = 0; t < T; t++)
        c->k->quantize_act[w->type](x + t * ldx, (char *)c->xq + (size_t)t * stride, w->cols);
}

/* ys[j] (T x ws[j]->rows) = x . ws[j]^T for n weights that read the same input x (q, k and v;
 * gate and up). The activation is quantized once when the weights share an activation type, and
 * the row slices of all n products form one work-shared loop, so small matrices (k, v) do not
 * each cost a barrier and a load imbalance. Slices of 16..64 rows keep each slice's weights hot
 * across the T activation rows. */
static void project_q(tca_context *c, int n, const tca_weight *const *ws, float *const *ys, const int64_t *ldys,
                    const float *x, int64_t ldx, int64_t T) {
    int same = 1;
    for (int j = 1; j < n; j++) same &= tca_act_type((int)ws[j]->type) == tca_act_type((int)ws[0]->type);
    if (!same) { /* rare (mixed types in one group): one product at a time */
        for (int j = 0; j < n; j++) project_q(c, 1, ws + j, ys + j, ldys + j, x, ldx, T);
        return;
    }
    quantize_rows(c, ws[0], x, ldx, T);
    const size_t xq_stride = (size_t)tca_type_row_bytes((uint32_t)tca_act_type((int)ws[0]->type), ws[0]->cols);
    int64_t total = 0;
    for (int j = 0; j < n; j++) total += ws[j]->rows;
    int64_t chunk = (total / (c->n_threads * 4) + 15) / 16 * 16;
    chunk = chunk < 16 ? 16 : chunk > 64 ? 64 : chunk;
    int64_t first[4], n_chunks = 0; /* first chunk index of each weight */
    for (int j = 0; j < n; j++) {
        first[j] = n_chunks;
        n_chunks += (ws[j]->rows + chunk - 1) / chunk;
    }
#pragma omp for schedule(static)
    for (int64_t ci = 0; ci < n_chunks; ci++) {
        int j = n - 1;
        while (ci < first[j]) j--;
        const tca_weight *w = ws[j];
        int64_t r0 = (ci - first[j]) * chunk, nr = w->rows - r0 < chunk ? w->rows - r0 : chunk;
        c->k->qgemm[w->type]((const char *)w->data + (size_t)r0 * w->row_bytes, w->row_bytes, c->xq, xq_stride,
                             ys[j] + r0, ldys[j], nr, T, w->cols);
    }
}

/* Prefill products as f32 GEMMs: each thread dequantizes a slice of TCA_SGEMM_ROWS weight rows into
 * its own scratch and multiplies it with OpenBLAS (single-threaded inside our region). For many
 * activation rows this beats the integer kernels on CPUs without VNNI (docs/benchmarks.md), and
 * the activations stay f32, so prefill logits are not perturbed by 8-bit activation rounding. */
static void project_sgemm(tca_context *c, int n, const tca_weight *const *ws, float *const *ys, const int64_t *ldys,
                          const float *x, int64_t ldx, int64_t T) {
    int64_t first[4], n_chunks = 0;
    for (int j = 0; j < n; j++) {
        first[j] = n_chunks;
        n_chunks += (ws[j]->rows + TCA_SGEMM_ROWS - 1) / TCA_SGEMM_ROWS;
    }
#pragma omp for schedule(dynamic, 1)
    for (int64_t ci = 0; ci < n_chunks; ci++) {
        int j = n - 1;
        while (ci < first[j]) j--;
        const tca_weight *w = ws[j];
        int64_t r0 = (ci - first[j]) * TCA_SGEMM_ROWS, nr = w->rows - r0 < TCA_SGEMM_ROWS ? w->rows - r0 : TCA_SGEMM_ROWS;
        float *wf = c->gemm_scratch + (int64_t)omp_get_thread_num() * c->gemm_scratch_floats;
        c->k->dequant[w->type]((const char *)w->data + (size_t)r0 * w->row_bytes, wf, nr * w->cols);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, (int)nr, (int)w->cols, 1.0f, x, (int)ldx, wf,
                    (int)w->cols, 0.0f, ys[j] + r0, (int)ldys[j]);
    }
}

void fw_project(tca_context *c, int n, const tca_weight *const *ws, float *const *ys, const int64_t *ldys,
                    const float *x, int64_t ldx, int64_t T) {
    /* Crossover measured by tools/bench/bench_matmul on AVX2 (docs/benchmarks.md): the integer
     * kernels of the K types hold their own up to ~256 rows, the legacy types' only to ~32. */
    const int k_type = tca_act_type((int)ws[0]->type) == TCA_TYPE_Q8_K;
    if (T >= (k_type ? 8 : 1) * c->sgemm_min_rows) /* sgemm_min_rows 0: always (TCA_GEMM=f32) */
        project_sgemm(c, n, ws, ys, ldys, x, ldx, T);
    else
        project_q(c, n, ws, ys, ldys, x, ldx, T);
}

void fw_linear(tca_context *c, const tca_weight *w, const float *x, int64_t ldx, int64_t T, float *y,
                   int64_t ldy) {
    fw_project(c, 1, &w, &y, &ldy, x, ldx, T);
}

void fw_rmsnorm_rows(tca_context *c, const float *x, const tca_weight *w, float *y, int64_t T) {
    const int64_t e = c->hp->n_embd;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < T; t++) c->k->rmsnorm(x + t * e, (const float *)w->data, y + t * e, e, c->hp->rms_eps);
}

void fw_add_bias(float *y, int64_t ld, int64_t T, const tca_weight *b) {
    if (b->data == NULL) return;
    const float *bv = b->data;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < T; t++)
        for (int64_t i = 0; i < b->cols; i++) y[t * ld + i] += bv[i];
}

void fw_rope_tables(tca_context *c, int64_t pos0, int64_t T) {
    const tca_hparams *hp = c->hp;
    const int half = hp->head_dim / 2;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < T; t++) {
        double p = (double)(pos0 + t) / hp->rope_scale;
        for (int i = 0; i < half; i++) {
            double a = p * c->rope_inv_freq[i];
            c->rope_cos[t * half + i] = (float)cos(a);
            c->rope_sin[t * half + i] = (float)sin(a);
        }
    }
}

void fw_embed(tca_context *c, const int32_t *tokens, float *x, int64_t T) {
    const tca_weight *e = &c->model->tok_embd;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < T; t++)
        c->k->dequant[e->type]((const char *)e->data + (size_t)tokens[t] * e->row_bytes, x + t * e->cols, e->cols);
}

void fw_residual_add(float *x, const float *y, int64_t n) {
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; i++) x[i] += y[i];
}

void fw_swiglu(tca_context *c, int64_t T) {
    const int64_t ff = c->hp->n_ff;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < T; t++) c->k->silu_mul(c->gate + t * ff, c->up + t * ff, c->gate + t * ff, ff);
}

/* Accumulates elapsed time since *t0 into *slot (master only) and restarts the clock. */
void fw_lap(double *slot, double *t0) {
#pragma omp barrier
#pragma omp master
    {
        double t = fw_now();
        *slot += t - *t0;
        *t0 = t;
    }
}


void fw_rows_logits(tca_context *c, const float *x, int64_t pos0, int64_t T) {
    if (!c->rows_fn) return;
    const int64_t e = c->hp->n_embd, V = c->hp->n_vocab;
    for (int64_t c0 = 0; c0 < T; c0 += c->n_batch) {
        const int64_t nb = T - c0 < c->n_batch ? T - c0 : c->n_batch, p = pos0 + c0;
        if (p + nb <= c->rows_from) continue;
        fw_rmsnorm_rows(c, x + c0 * e, &c->model->output_norm, c->xn, nb);
        fw_linear(c, &c->model->output, c->xn, e, nb, c->rows_buf, V);
        const int64_t skip = c->rows_from > p ? c->rows_from - p : 0;
#pragma omp master
        c->rows_fn(p + skip, nb - skip, c->rows_buf + skip * V, c->rows_user);
#pragma omp barrier
    }
}
