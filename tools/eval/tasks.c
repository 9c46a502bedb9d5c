/* tca eval: running one prompt or one language-modelling window under one configuration. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

static int fail(const char *what) {
    fprintf(stderr, "tca eval: %s: %s\n", what, tca_last_error());
    return -1;
}

static int new_context(eval_run *r, const tca_budget *b, int64_t n_ctx, tca_context **c) {
    tca_context_params cp = tca_context_default_params();
    cp.n_ctx = (int)n_ctx;
    cp.n_threads = r->o->threads;
    if (b) cp.attn = TCA_ATTN_TCA, cp.budget = b;
    return tca_context_new(r->model, &cp, c) ? fail("context") : 0;
}

static int argmax_f(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) best = x[i] > x[best] ? i : best;
    return best;
}

static double cache_keep(const tca_context *c) {
    tca_cache_stats st;
    tca_context_cache_stats(c, &st);
    return st.keep;
}

int eval_answer(eval_run *r, const tca_budget *b, const eval_prompt *p, char **text, double *keep) {
    *text = NULL;
    tca_context *c = NULL;
    if (new_context(r, b, (int64_t)p->n + p->n_gen, &c)) return -1;
    const int V = r->hp->n_vocab;
    float *logits = malloc((size_t)V * sizeof *logits);
    size_t cap = 256, n = 0;
    char *out = malloc(cap);
    tca_detok *dt = NULL;
    int rc = !logits || !out || tca_detok_new(r->tok, true, &dt) ? fail("answer") : 0;
    if (!rc && tca_eval(c, p->ids, (int64_t)p->n, logits, NULL, NULL)) rc = fail("prefill");
    if (!rc) *keep = cache_keep(c);
    for (int i = 0; i < p->n_gen && !rc; i++) { /* greedy, as tca ask's default */
        const tca_token id = argmax_f(logits, V);
        if (tca_token_is_eog(r->tok, id)) break;
        const char *piece;
        size_t len;
        if (tca_detok_push(dt, id, &piece, &len)) rc = fail("detokenize");
        if (rc) break;
        if (n + len + 1 > cap) {
            char *g = realloc(out, cap = 2 * (n + len + 1));
            if (!g) {
                rc = -1;
                break;
            }
            out = g;
        }
        memcpy(out + n, piece, len);
        n += len;
        if (i + 1 < p->n_gen && tca_eval(c, &id, 1, logits, NULL, NULL)) rc = fail("decode");
    }
    if (out) out[n] = 0;
    tca_detok_free(dt);
    free(logits);
    tca_context_free(c);
    if (rc) {
        free(out);
        return -1;
    }
    *text = out;
    return 0;
}

/* Dense's next-token log-probabilities where KL is measured (every stride-th prefill position
 * from `from`, and every final-chunk position), and its argmax at every position. */
struct eval_dense_ref {
    int64_t from, stride, n_pre_slots, final0; /* final0: first position predicting a final-chunk token */
    float *logp;                               /* slots x n_vocab */
    int32_t *argmax;                           /* by position */
};

void eval_dense_ref_free(eval_dense_ref *d) {
    if (!d) return;
    free(d->logp), free(d->argmax), free(d);
}

static int64_t slot_of(const eval_dense_ref *d, int64_t pos) {
    if (pos >= d->final0) return d->n_pre_slots + (pos - d->final0);
    return (pos - d->from) % d->stride ? -1 : (pos - d->from) / d->stride;
}

typedef struct lm_state {
    eval_run *r;
    eval_dense_ref *ref;
    int is_dense;
    const tca_token *ids;
    eval_cell *cell;
    double *lp;
} lm_state;

/* One position's logits: its prediction of ids[pos + 1] against dense's. */
static void lm_row(lm_state *st, int64_t pos, const float *x) {
    const int V = st->r->hp->n_vocab;
    double mx = x[0], sum = 0;
    int am = 0;
    for (int v = 1; v < V; v++)
        if (x[v] > mx) mx = x[v], am = v;
    for (int v = 0; v < V; v++) sum += exp((double)x[v] - mx);
    const double lse = mx + log(sum);
    for (int v = 0; v < V; v++) st->lp[v] = (double)x[v] - lse;
    eval_dense_ref *d = st->ref;
    eval_cell *cell = st->cell;
    const int64_t slot = slot_of(d, pos);
    if (pos >= d->final0) cell->nll_final -= st->lp[st->ids[pos + 1]], cell->n_final++;
    if (st->is_dense) {
        d->argmax[pos] = am;
        if (slot >= 0)
            for (int v = 0; v < V; v++) d->logp[slot * V + v] = (float)st->lp[v];
        return;
    }
    cell->top1_ok += am == d->argmax[pos];
    cell->n_top1++;
    if (slot < 0) return;
    const float *ref = d->logp + slot * V;
    double kl = 0;
    for (int v = 0; v < V; v++) kl += exp((double)ref[v]) * ((double)ref[v] - st->lp[v]);
    cell->kl_sum += kl, cell->n_kl++;
    if (pos >= d->final0) cell->kl_final_sum += kl, cell->n_kl_final++;
}

static void lm_rows(int64_t pos, int64_t n, const float *logits, void *user) {
    lm_state *st = user;
    for (int64_t i = 0; i < n; i++) lm_row(st, pos + i, logits + i * st->r->hp->n_vocab);
}

int eval_lm(eval_run *r, const tca_budget *b, const tca_token *ids, int64_t L, eval_dense_ref **ref, eval_cell *cell,
            double *keep) {
    const int V = r->hp->n_vocab;
    const int64_t C = r->o->lm_final, from = r->o->lm_from, final0 = L - C - 1;
    const int is_dense = b == NULL;
    if (is_dense) { /* the reference for every other method on this window */
        eval_dense_ref *d = calloc(1, sizeof *d);
        if (!d) return -1;
        d->from = from;
        d->final0 = final0;
        /* at most ~2 GiB of stored distributions: every stride-th prefill position */
        const double budget = 2.0 * (1 << 30), per_row = (double)V * sizeof(float);
        d->stride = (int64_t)ceil((double)(final0 - from) * per_row / (budget - (double)C * per_row));
        if (d->stride < 1) d->stride = 1;
        d->n_pre_slots = (final0 - from + d->stride - 1) / d->stride;
        d->logp = malloc((size_t)(d->n_pre_slots + C) * (size_t)V * sizeof(float));
        d->argmax = malloc((size_t)L * sizeof(int32_t));
        if (!d->logp || !d->argmax) {
            eval_dense_ref_free(d);
            fprintf(stderr, "tca eval: out of memory for the dense reference\n");
            return -1;
        }
        eval_dense_ref_free(*ref);
        *ref = d;
    }
    tca_context *c = NULL;
    if (new_context(r, b, L, &c)) return -1;
    lm_state st = {r, *ref, is_dense, ids, cell, malloc((size_t)V * sizeof(double))};
    float *logits = malloc((size_t)V * sizeof *logits);
    int rc = !st.lp || !logits ? -1 : 0;
    /* prefill all but the final chunk (its first target is predicted by the last prompt row) */
    if (!rc && tca_eval_rows(c, ids, final0 + 1, from, lm_rows, &st)) rc = fail("prefill");
    if (!rc) *keep = cache_keep(c);
    for (int64_t pos = final0 + 1; pos < L - 1 && !rc; pos++) { /* the final chunk, one token at a time */
        if (tca_eval(c, ids + pos, 1, logits, NULL, NULL)) rc = fail("decode");
        else lm_row(&st, pos, logits);
    }
    free(st.lp), free(logits);
    tca_context_free(c);
    return rc;
}
