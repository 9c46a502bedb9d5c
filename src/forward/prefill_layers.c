/* TCA's layer-major prefill (../shared/docs/tca-spec.md 4.3): at each layer, Q, K and V are
 * computed for the whole step (in row chunks of n_batch), every completed block is scored, the
 * leaving blocks are ranked and compacted, and only then does the layer's sparse attention run,
 * chunk by chunk, followed by the output projection and the FFN. So the selection is known
 * before any query needs it, for both scorers. The residual stream of the whole step (x_all)
 * and the layer's queries (q_all) are the only prompt-sized activations; the raw K, V rows of
 * the layer live in the staging buffer until the layer is done. */
#include <string.h>

#include "forward_internal.h"
#include "ops.h"

/* RoPE on the chunk's queries (in q_all) and keys; keys and values to the staging rows. */
static void rope_and_stage(tca_context *c, float *q, int64_t pos, int64_t nb) {
    const tca_hparams *hp = c->hp;
    const tca_sparse *s = c->sparse;
    const int d = hp->head_dim, G = hp->n_head_kv;
    const int64_t ldq = (int64_t)hp->n_head * d, ldk = (int64_t)G * d;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < nb; t++) {
        const float *cs = c->rope_cos + t * (d / 2), *sn = c->rope_sin + t * (d / 2);
        c->k->rope(q + t * ldq, hp->n_head, d, cs, sn, hp->rope_neox);
        c->k->rope(c->kf + t * ldk, G, d, cs, sn, hp->rope_neox);
        const int64_t row = pos + t - s->raw_pos0;
        for (int g = 0; g < G; g++) {
            c->k->f32_to_f16(c->kf + t * ldk + g * d, s->stage_k + ((int64_t)g * s->stage_cap + row) * d, d);
            c->k->f32_to_f16(c->vf + t * ldk + g * d, s->stage_v + ((int64_t)g * s->stage_cap + row) * d, d);
        }
    }
}

void tca_prefill_layers(tca_context *c, const int32_t *tokens, int64_t T, float *logits, int64_t done0,
                        int64_t total, tca_progress_fn progress, void *user) {
    const tca_hparams *hp = c->hp;
    tca_sparse *s = c->sparse;
    const int64_t e = hp->n_embd, qd = (int64_t)hp->n_head * hp->head_dim;
    const int64_t kvd = (int64_t)hp->n_head_kv * hp->head_dim, ff = hp->n_ff;
    const int64_t pos0 = c->pos, B = c->n_batch;
    tca_timings *tm = &c->timings;
    double t0 = fw_now();
#pragma omp parallel num_threads(c->n_threads)
    {
        fw_embed(c, tokens, s->x_all, T);
        fw_lap(&tm->other, &t0);
        for (int l = 0; l < hp->n_layer; l++) {
            const tca_layer *L = &c->model->layers[l];
            tca_sparse_stage_old(s, l);
            for (int64_t c0 = 0; c0 < T; c0 += B) {
                const int64_t nb = T - c0 < B ? T - c0 : B;
                float *x = s->x_all + c0 * e, *q = s->q_all + c0 * qd;
                fw_rope_tables(c, pos0 + c0, nb);
                fw_rmsnorm_rows(c, x, &L->attn_norm, c->xn, nb);
                fw_lap(&tm->other, &t0);
                {
                    const tca_weight *ws[3] = {&L->wq, &L->wk, &L->wv};
                    float *ys[3] = {q, c->kf, c->vf};
                    const int64_t ld[3] = {qd, kvd, kvd};
                    fw_project(c, 3, ws, ys, ld, c->xn, e, nb);
                }
                fw_lap(&tm->matmul, &t0);
                fw_add_bias(q, qd, nb, &L->bq);
                fw_add_bias(c->kf, kvd, nb, &L->bk);
                fw_add_bias(c->vf, kvd, nb, &L->bv);
                rope_and_stage(c, q, pos0 + c0, nb);
                fw_lap(&tm->other, &t0);
            }
            tca_sparse_prefill_select(s, c->k, l, pos0, T);
            if (c->layer_hook) c->layer_hook(c, l, c->layer_hook_user);
            fw_lap(&tm->select, &t0);
            for (int64_t c0 = 0; c0 < T; c0 += B) {
                const int64_t nb = T - c0 < B ? T - c0 : B;
                float *x = s->x_all + c0 * e;
                tca_attention_prefill(c, l, pos0 + c0, nb, s->q_all + c0 * qd, c->att);
                fw_lap(&tm->attn, &t0);
                fw_linear(c, &L->wo, c->att, qd, nb, c->xn, e);
                fw_lap(&tm->matmul, &t0);
                fw_residual_add(x, c->xn, nb * e);
                fw_rmsnorm_rows(c, x, &L->ffn_norm, c->xn, nb);
                fw_lap(&tm->other, &t0);
                {
                    const tca_weight *ws[2] = {&L->w_gate, &L->w_up};
                    float *ys[2] = {c->gate, c->up};
                    const int64_t ld[2] = {ff, ff};
                    fw_project(c, 2, ws, ys, ld, c->xn, e, nb);
                }
                fw_lap(&tm->matmul, &t0);
                fw_swiglu(c, nb);
                fw_lap(&tm->other, &t0);
                fw_linear(c, &L->w_down, c->gate, ff, nb, c->xn, e);
                fw_lap(&tm->matmul, &t0);
                fw_residual_add(x, c->xn, nb * e);
            }
            tca_sparse_prefill_finish(s, l, pos0, T);
            fw_lap(&tm->select, &t0);
#pragma omp master
            if (progress) progress(done0 + T * (l + 1) / hp->n_layer, total, user);
        }
        fw_rows_logits(c, s->x_all, pos0, T);
        fw_lap(&tm->matmul, &t0);
        if (logits) {
            const float *last = s->x_all + (T - 1) * e;
#pragma omp single
            c->k->rmsnorm(last, (const float *)c->model->output_norm.data, c->xn, e, hp->rms_eps);
            fw_lap(&tm->other, &t0);
            fw_linear(c, &c->model->output, c->xn, e, 1, logits, hp->n_vocab);
            fw_lap(&tm->matmul, &t0);
        }
    }
    tca_sparse_prefill_done(s, pos0, T);
    c->pos += T;
}
