/* The layer loop: the only place that knows the order of operations of a forward step.
 *
 * One tca_eval splits its tokens into batches of at most n_batch rows; each batch runs through
 * every layer inside ONE OpenMP parallel region (work-shared loops with their implicit barriers),
 * so a decode step costs no thread start-up per operation. Per layer, for T rows:
 *
 *   xn = rmsnorm(x) * attn_norm                     (T, n_embd)
 *   q, k, v = xn Wq^T (+bq), xn Wk^T (+bk), ...      (T, n_head*d), (T, n_kv*d) x2
 *   rope(q), rope(k); k, v -> f16 cache at pos..pos+T-1
 *   att = attention(q, cache)                        (T, n_head*d)
 *   x += att Wo^T
 *   xn = rmsnorm(x) * ffn_norm
 *   x += (silu(xn Wg^T) * (xn Wu^T)) Wd^T            via (T, n_ff)
 *
 * and after the last layer the logits of the final row only (never a T x vocab matrix). */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "forward_internal.h"
#include "status_internal.h"

static double now(void) { return omp_get_wtime(); }

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

static void project(tca_context *c, int n, const tca_weight *const *ws, float *const *ys, const int64_t *ldys,
                    const float *x, int64_t ldx, int64_t T) {
    /* Crossover measured by tools/bench/bench_matmul on AVX2 (docs/benchmarks.md): the integer
     * kernels of the K types hold their own up to ~256 rows, the legacy types' only to ~32. */
    const int k_type = tca_act_type((int)ws[0]->type) == TCA_TYPE_Q8_K;
    if (T >= (k_type ? 8 : 1) * c->sgemm_min_rows)
        project_sgemm(c, n, ws, ys, ldys, x, ldx, T);
    else
        project_q(c, n, ws, ys, ldys, x, ldx, T);
}

static void linear(tca_context *c, const tca_weight *w, const float *x, int64_t ldx, int64_t T, float *y,
                   int64_t ldy) {
    project(c, 1, &w, &y, &ldy, x, ldx, T);
}

static void rmsnorm_rows(tca_context *c, const float *x, const tca_weight *w, float *y, int64_t T) {
    const int64_t e = c->hp->n_embd;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < T; t++) c->k->rmsnorm(x + t * e, (const float *)w->data, y + t * e, e, c->hp->rms_eps);
}

static void add_bias(float *y, int64_t ld, int64_t T, const tca_weight *b) {
    if (b->data == NULL) return;
    const float *bv = b->data;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < T; t++)
        for (int64_t i = 0; i < b->cols; i++) y[t * ld + i] += bv[i];
}

/* RoPE on q and k, then k and v stored as f16 into the cache at positions pos0 + t. */
static void rope_and_store(tca_context *c, int layer, int64_t pos0, int64_t T) {
    const tca_hparams *hp = c->hp;
    const int d = hp->head_dim, G = hp->n_head_kv;
    const int64_t ldq = (int64_t)hp->n_head * d, ldk = (int64_t)G * d;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < T; t++) {
        const float *cs = c->rope_cos + t * (d / 2), *sn = c->rope_sin + t * (d / 2);
        c->k->rope(c->q + t * ldq, hp->n_head, d, cs, sn, hp->rope_neox);
        c->k->rope(c->kf + t * ldk, G, d, cs, sn, hp->rope_neox);
        for (int g = 0; g < G; g++) {
            c->k->f32_to_f16(c->kf + t * ldk + g * d, tca_kv_k(c, layer, g, pos0 + t), d);
            c->k->f32_to_f16(c->vf + t * ldk + g * d, tca_kv_v(c, layer, g, pos0 + t), d);
        }
    }
}

static void compute_rope_tables(tca_context *c, int64_t pos0, int64_t T) {
    const tca_hparams *hp = c->hp;
    const int half = hp->head_dim / 2;
    for (int64_t t = 0; t < T; t++) {
        double p = (double)(pos0 + t) / hp->rope_scale;
        for (int i = 0; i < half; i++) {
            double a = p * c->rope_inv_freq[i];
            c->rope_cos[t * half + i] = (float)cos(a);
            c->rope_sin[t * half + i] = (float)sin(a);
        }
    }
}

static void embed(tca_context *c, const int32_t *tokens, int64_t T) {
    const tca_weight *e = &c->model->tok_embd;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < T; t++)
        c->k->dequant[e->type]((const char *)e->data + (size_t)tokens[t] * e->row_bytes, c->x + t * e->cols, e->cols);
}

static void residual_add(float *x, const float *y, int64_t n) {
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; i++) x[i] += y[i];
}

static void swiglu(tca_context *c, int64_t T) {
    const int64_t ff = c->hp->n_ff;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < T; t++) c->k->silu_mul(c->gate + t * ff, c->up + t * ff, c->gate + t * ff, ff);
}

/* Accumulates elapsed time since *t0 into *slot (master only) and restarts the clock. */
static void lap(tca_context *c, double *slot, double *t0) {
#pragma omp barrier
#pragma omp master
    {
        double t = now();
        *slot += t - *t0;
        *t0 = t;
    }
    (void)c;
}

static void forward_batch(tca_context *c, const int32_t *tokens, int64_t T, int want_logits, float *logits) {
    const tca_hparams *hp = c->hp;
    const int64_t e = hp->n_embd, qd = (int64_t)hp->n_head * hp->head_dim;
    const int64_t kvd = (int64_t)hp->n_head_kv * hp->head_dim, ff = hp->n_ff;
    const int64_t pos0 = c->pos;
    tca_timings *tm = &c->timings;
    compute_rope_tables(c, pos0, T);
    double t0 = now();
#pragma omp parallel num_threads(c->n_threads)
    {
        embed(c, tokens, T);
        lap(c, &tm->other, &t0);
        for (int l = 0; l < hp->n_layer; l++) {
            const tca_layer *L = &c->model->layers[l];
            rmsnorm_rows(c, c->x, &L->attn_norm, c->xn, T);
            lap(c, &tm->other, &t0);
            {
                const tca_weight *ws[3] = {&L->wq, &L->wk, &L->wv};
                float *ys[3] = {c->q, c->kf, c->vf};
                const int64_t ld[3] = {qd, kvd, kvd};
                project(c, 3, ws, ys, ld, c->xn, e, T);
            }
            lap(c, &tm->matmul, &t0);
            add_bias(c->q, qd, T, &L->bq);
            add_bias(c->kf, kvd, T, &L->bk);
            add_bias(c->vf, kvd, T, &L->bv);
            rope_and_store(c, l, pos0, T);
            lap(c, &tm->other, &t0);
            tca_attention(c, l, pos0, T);
            lap(c, &tm->attn, &t0);
            linear(c, &L->wo, c->att, qd, T, c->xn, e);
            lap(c, &tm->matmul, &t0);
            residual_add(c->x, c->xn, T * e);
            rmsnorm_rows(c, c->x, &L->ffn_norm, c->xn, T);
            lap(c, &tm->other, &t0);
            {
                const tca_weight *ws[2] = {&L->w_gate, &L->w_up};
                float *ys[2] = {c->gate, c->up};
                const int64_t ld[2] = {ff, ff};
                project(c, 2, ws, ys, ld, c->xn, e, T);
            }
            lap(c, &tm->matmul, &t0);
            swiglu(c, T);
            lap(c, &tm->other, &t0);
            linear(c, &L->w_down, c->gate, ff, T, c->xn, e);
            lap(c, &tm->matmul, &t0);
            residual_add(c->x, c->xn, T * e);
        }
        if (want_logits) {
            const float *last = c->x + (T - 1) * e;
#pragma omp single
            c->k->rmsnorm(last, (const float *)c->model->output_norm.data, c->xn, e, hp->rms_eps);
            lap(c, &tm->other, &t0);
            linear(c, &c->model->output, c->xn, e, 1, logits, hp->n_vocab);
            lap(c, &tm->matmul, &t0);
        } else {
            lap(c, &tm->other, &t0);
        }
    }
    c->pos += T;
}

tca_status tca_eval(tca_context *c, const int32_t *tokens, int64_t n, float *logits, tca_progress_fn progress,
                    void *user) {
    if (n <= 0) return tca_fail(TCA_ERR_ARG, "eval: no tokens");
    if (c->pos + n > c->n_ctx)
        return tca_fail(TCA_ERR_RANGE, "eval: %lld tokens after %lld held exceed the context of %d tokens",
                        (long long)n, (long long)c->pos, c->n_ctx);
    for (int64_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= c->hp->n_vocab)
            return tca_fail(TCA_ERR_ARG, "eval: token id %d at index %lld is outside the vocabulary (%d)", tokens[i],
                            (long long)i, c->hp->n_vocab);
    double t0 = now();
    for (int64_t done = 0; done < n;) {
        int64_t T = n - done < c->n_batch ? n - done : c->n_batch;
        int last = done + T == n;
        forward_batch(c, tokens + done, T, last && logits != NULL, logits);
        done += T;
        if (progress) progress(done, n, user);
    }
    double dt = now() - t0;
    if (n > 1) {
        c->timings.prefill += dt;
        c->timings.n_prefill_tokens += n;
    } else {
        c->timings.decode += dt;
        c->timings.n_decode_tokens += n;
    }
    return TCA_OK;
}
