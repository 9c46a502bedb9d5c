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
 * and after the last layer the logits of the final row only (never a T x vocab matrix; only
 * tca_eval_rows asks for every row's, n_batch rows at a time). */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "forward_internal.h"
#include "ops.h"
#include "status_internal.h"

/* RoPE on q and k, then k and v stored into the dense cache at positions pos0 + t (f16, or f32
 * with kv_type TCA_KV_F32). Under TCA (decode only) the rows go to the sparse cache afterwards. */
static void rope_and_store(tca_context *c, int layer, int64_t pos0, int64_t T) {
    const tca_hparams *hp = c->hp;
    const int d = hp->head_dim, G = hp->n_head_kv;
    const int64_t ldq = (int64_t)hp->n_head * d, ldk = (int64_t)G * d;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < T; t++) {
        const float *cs = c->rope_cos + t * (d / 2), *sn = c->rope_sin + t * (d / 2);
        c->k->rope(c->q + t * ldq, hp->n_head, d, cs, sn, hp->rope_neox);
        c->k->rope(c->kf + t * ldk, G, d, cs, sn, hp->rope_neox);
        if (c->sparse) continue;
        for (int g = 0; g < G; g++) {
            const float *kr = c->kf + t * ldk + g * d, *vr = c->vf + t * ldk + g * d;
            if (c->kv_type == TCA_KV_F32) {
                memcpy(tca_kv_k32(c, layer, g, pos0 + t), kr, (size_t)d * 4);
                memcpy(tca_kv_v32(c, layer, g, pos0 + t), vr, (size_t)d * 4);
            } else {
                c->k->f32_to_f16(kr, tca_kv_k(c, layer, g, pos0 + t), d);
                c->k->f32_to_f16(vr, tca_kv_v(c, layer, g, pos0 + t), d);
            }
        }
    }
}

static void forward_batch(tca_context *c, const int32_t *tokens, int64_t T, int want_logits, float *logits) {
    const tca_hparams *hp = c->hp;
    const int64_t e = hp->n_embd, qd = (int64_t)hp->n_head * hp->head_dim;
    const int64_t kvd = (int64_t)hp->n_head_kv * hp->head_dim, ff = hp->n_ff;
    const int64_t pos0 = c->pos;
    tca_timings *tm = &c->timings;
    double t0 = fw_now();
#pragma omp parallel num_threads(c->n_threads)
    {
        fw_rope_tables(c, pos0, T);
        fw_embed(c, tokens, c->x, T);
        fw_lap(&tm->other, &t0);
        for (int l = 0; l < hp->n_layer; l++) {
            const tca_layer *L = &c->model->layers[l];
            fw_rmsnorm_rows(c, c->x, &L->attn_norm, c->xn, T);
            fw_lap(&tm->other, &t0);
            {
                const tca_weight *ws[3] = {&L->wq, &L->wk, &L->wv};
                float *ys[3] = {c->q, c->kf, c->vf};
                const int64_t ld[3] = {qd, kvd, kvd};
                fw_project(c, 3, ws, ys, ld, c->xn, e, T);
            }
            fw_lap(&tm->matmul, &t0);
            fw_add_bias(c->q, qd, T, &L->bq);
            fw_add_bias(c->kf, kvd, T, &L->bk);
            fw_add_bias(c->vf, kvd, T, &L->bv);
            rope_and_store(c, l, pos0, T);
            fw_lap(&tm->other, &t0);
            if (c->sparse) { /* TCA decode: append, score a completed block, compress */
                tca_sparse_decode_append(c->sparse, c->k, l, pos0, c->q, c->kf, c->vf);
                fw_lap(&tm->select, &t0);
            }
            tca_attention(c, l, pos0, T, c->q, c->att);
            fw_lap(&tm->attn, &t0);
            fw_linear(c, &L->wo, c->att, qd, T, c->xn, e);
            fw_lap(&tm->matmul, &t0);
            fw_residual_add(c->x, c->xn, T * e);
            fw_rmsnorm_rows(c, c->x, &L->ffn_norm, c->xn, T);
            fw_lap(&tm->other, &t0);
            {
                const tca_weight *ws[2] = {&L->w_gate, &L->w_up};
                float *ys[2] = {c->gate, c->up};
                const int64_t ld[2] = {ff, ff};
                fw_project(c, 2, ws, ys, ld, c->xn, e, T);
            }
            fw_lap(&tm->matmul, &t0);
            fw_swiglu(c, T);
            fw_lap(&tm->other, &t0);
            fw_linear(c, &L->w_down, c->gate, ff, T, c->xn, e);
            fw_lap(&tm->matmul, &t0);
            fw_residual_add(c->x, c->xn, T * e);
        }
        fw_rows_logits(c, c->x, pos0, T);
        if (want_logits) {
            const float *last = c->x + (T - 1) * e;
#pragma omp single
            c->k->rmsnorm(last, (const float *)c->model->output_norm.data, c->xn, e, hp->rms_eps);
            fw_lap(&tm->other, &t0);
            fw_linear(c, &c->model->output, c->xn, e, 1, logits, hp->n_vocab);
            fw_lap(&tm->matmul, &t0);
        } else {
            fw_lap(&tm->other, &t0);
        }
    }
    if (c->sparse) tca_sparse_decode_done(c->sparse, pos0);
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
    double t0 = fw_now();
    for (int64_t done = 0; done < n;) {
        int64_t T = n - done < c->n_batch ? n - done : c->n_batch;
        int last = done + T == n;
        if (c->sparse && T > 1) { /* TCA prefill is layer-major over the whole rest */
            tca_prefill_layers(c, tokens + done, n - done, logits, done, n, progress, user);
            break;
        }
        forward_batch(c, tokens + done, T, last && logits != NULL, logits);
        done += T;
        if (progress) progress(done, n, user);
    }
    double dt = fw_now() - t0;
    if (n > 1) {
        c->timings.prefill += dt;
        c->timings.n_prefill_tokens += n;
    } else {
        c->timings.decode += dt;
        c->timings.n_decode_tokens += n;
    }
    return TCA_OK;
}

tca_status tca_eval_rows(tca_context *c, const int32_t *tokens, int64_t n, int64_t from, tca_rows_fn fn,
                         void *user) {
    if (!fn) return tca_fail(TCA_ERR_ARG, "eval_rows: no callback");
    c->rows_buf = malloc((size_t)c->n_batch * (size_t)c->hp->n_vocab * sizeof(float));
    if (!c->rows_buf)
        return tca_fail(TCA_ERR_NOMEM, "eval_rows: cannot allocate %d x %d logits", c->n_batch, c->hp->n_vocab);
    c->rows_fn = fn;
    c->rows_user = user;
    c->rows_from = from;
    tca_status s = tca_eval(c, tokens, n, NULL, NULL, NULL);
    c->rows_fn = NULL;
    free(c->rows_buf);
    c->rows_buf = NULL;
    return s;
}
