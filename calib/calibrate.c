/* Offline calibration of TCA head budgets (tca/calibrate.h; spec section 5).
 *
 * The dense pass is a TCA prefill whose budget keeps every token (bit-identical to dense
 * attention: tests/sparse/check_tca.py), so that at each layer the inference path has the
 * layer's queries (q_all), raw keys and values (staging) and every block's scores ready; a layer
 * hook then runs, per KV head and candidate p, tca_sparse_select_head (the inference selection)
 * into scratch rows and the flash-attention kernel over tca_sparse_segments (the inference
 * visibility) for the last R query rows, against the keep-all candidate's output. Only one
 * layer's Q, K, V exist at a time. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forward/forward_internal.h"
#include "select/policy.h"
#include "select/sparse.h"
#include "status_internal.h"
#include "tca/calibrate.h"

tca_calib_params tca_calib_default_params(void) {
    tca_calib_params p = {.block = TCA_DEFAULT_BLOCK, .sink = TCA_DEFAULT_SINK, .window = TCA_DEFAULT_WINDOW,
                          .scorer = TCA_DEFAULT_SCORER,
                          .redundancy = tca_default_redundancy(TCA_DEFAULT_SCORER), .rows = 512, .mode = TCA_CALIB_TARGET_KEEP,
                          .target = 0.39, .tolerance = 0.05};
    return p;
}

/* Per-thread scratch: one candidate's compact rows and selection bookkeeping, a query tile and
 * its softmax state, and the candidate's attention output for the R rows of the group. */
typedef struct calib_scratch {
    tca_f16 *k, *v;
    int32_t *pos, *counts;
    int64_t *cum, *order;
    float *red, *q, *m, *l, *acc, *out;
    int64_t qpos[64 * 64];
} calib_scratch;

typedef struct calib_state {
    const tca_calib_params *p;
    tca_calib_report *rep;
    int64_t n, r0;          /* tokens; first measured query row (block-aligned) */
    int n_threads, n_cand;
    calib_scratch *scratch; /* per thread */
    float *dense_out;       /* [G][(n - r0) * grp * d] keep-all outputs of the layer */
    double **cand_p;        /* n_cand distributions */
} calib_state;

/* Attention of query rows [r0, n) of head g's group through the candidate's compact rows in sc,
 * into out ((n - r0) x grp x d). */
static void candidate_attention(const tca_context *c, const calib_state *st, calib_scratch *sc, int g, float *out) {
    const tca_sparse *s = c->sparse;
    const int d = s->d, grp = s->grp, b = s->b;
    const int64_t qd = (int64_t)c->hp->n_head * d;
    const float scale = 1.0f / sqrtf((float)d);
    for (int64_t t0 = st->r0; t0 < st->n; t0 += b) {
        const int64_t t1 = t0 + b < st->n ? t0 + b : st->n, rows = (t1 - t0) * grp;
        for (int64_t t = t0; t < t1; t++)
            for (int h = 0; h < grp; h++) {
                memcpy(sc->q + ((t - t0) * grp + h) * d, s->q_all + t * qd + (int64_t)(g * grp + h) * d, (size_t)d * 4);
                sc->qpos[(t - t0) * grp + h] = t;
            }
        for (int64_t i = 0; i < rows; i++) sc->m[i] = -INFINITY, sc->l[i] = 0;
        memset(sc->acc, 0, (size_t)(rows * d) * sizeof(float));
        tca_kv_segment seg[2];
        const int nseg = tca_sparse_segments(s, g, sc->k, sc->v, 0, sc->cum, t0, t1, seg);
        c->k->attn_accum(sc->q, d, rows, sc->qpos, seg, nseg, d, scale, sc->m, sc->l, sc->acc, d);
        c->k->attn_finish(rows, d, sc->l, sc->acc, d, out + (t0 - st->r0) * grp * d, d);
    }
}

/* Runs candidate ci for head g: selection, then attention; returns its whole-cache keep. */
static double run_candidate(tca_context *c, const calib_state *st, calib_scratch *sc, int layer, int g, int ci,
                            float *out) {
    tca_sparse *s = c->sparse;
    tca_compact_dst dst = {sc->k, sc->v, sc->pos, 0, st->n, sc->cum, sc->counts, sc->red, sc->order};
    tca_sparse_select_head(s, c->k, layer, g, st->cand_p[ci], st->n, &dst);
    candidate_attention(c, st, sc, g, out);
    const int64_t jl = st->n >= s->w ? (st->n - s->w) / s->b : 0; /* raw tail starts at jl * b */
    return (double)(dst.n + st->n - jl * s->b) / (double)st->n;
}

static void layer_hook(tca_context *c, int layer, void *user) {
    calib_state *st = user;
    tca_calib_report *rep = st->rep;
    const int G = c->hp->n_head_kv, nc = rep->n_cand, dense = nc - 1;
    const int64_t out_floats = (st->n - st->r0) * c->sparse->grp * c->sparse->d;
#pragma omp for schedule(dynamic, 1)
    for (int g = 0; g < G; g++) {
        calib_scratch *sc = &st->scratch[omp_get_thread_num()];
        const int64_t h = (int64_t)layer * G + g;
        rep->keep[h * nc + dense] = run_candidate(c, st, sc, layer, g, dense, st->dense_out + g * out_floats);
        rep->err[h * nc + dense] = 0;
    }
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < (int64_t)G * dense; task++) {
        const int g = (int)(task / dense), ci = (int)(task % dense);
        calib_scratch *sc = &st->scratch[omp_get_thread_num()];
        const int64_t h = (int64_t)layer * G + g;
        rep->keep[h * nc + ci] = run_candidate(c, st, sc, layer, g, ci, sc->out);
        const float *ref = st->dense_out + g * out_floats;
        double num = 0, den = 0;
        for (int64_t i = 0; i < out_floats; i++) {
            const double e = (double)sc->out[i] - ref[i];
            num += e * e;
            den += (double)ref[i] * ref[i];
        }
        rep->err[h * nc + ci] = den > 0 ? sqrt(num / den) : 0;
    }
}

/* Per head, argmin err + lambda * keep (ties: the smaller keep); returns the mean keep. */
static double choose(tca_calib_report *r, double lambda) {
    double sum = 0;
    const int64_t n_heads = (int64_t)r->n_layer * r->n_head_kv;
    for (int64_t h = 0; h < n_heads; h++) {
        const double *err = r->err + h * r->n_cand, *keep = r->keep + h * r->n_cand;
        int best = 0;
        for (int ci = 1; ci < r->n_cand; ci++) {
            const double a = err[ci] + lambda * keep[ci], bst = err[best] + lambda * keep[best];
            if (a < bst || (a == bst && keep[ci] < keep[best])) best = ci;
        }
        r->chosen[h] = best;
        sum += keep[best];
    }
    return sum / (double)n_heads;
}

static tca_status choose_all(tca_calib_report *r, const tca_calib_params *p) {
    const int64_t n_heads = (int64_t)r->n_layer * r->n_head_kv;
    if (p->mode == TCA_CALIB_TOLERANCE) {
        for (int64_t h = 0; h < n_heads; h++) {
            const double *err = r->err + h * r->n_cand, *keep = r->keep + h * r->n_cand;
            int best = r->n_cand - 1; /* dense: error 0 */
            for (int ci = 0; ci < r->n_cand; ci++)
                if (err[ci] <= p->tolerance && (keep[ci] < keep[best] || (keep[ci] == keep[best] && err[ci] < err[best])))
                    best = ci;
            r->chosen[h] = best;
        }
        r->lambda = 0;
    } else {
        /* the mean keep falls as lambda grows; find the smallest lambda whose mean is <= target */
        double hi = 1.0;
        while (choose(r, hi) > p->target && hi < 1e12) hi *= 2;
        if (choose(r, hi) > p->target)
            return tca_fail(TCA_ERR_RANGE, "calibrate: no choice of candidates reaches keep %.3f at %lld tokens (the "
                            "smallest is %.3f: sink + window are too large a share; calibrate on more tokens)",
                            p->target, (long long)r->tokens, choose(r, hi));
        double lo = 0;
        for (int it = 0; it < 100; it++) {
            const double mid = 0.5 * (lo + hi);
            if (choose(r, mid) > p->target) lo = mid;
            else hi = mid;
        }
        choose(r, hi);
        r->lambda = hi;
    }
    double sk = 0, se = 0;
    for (int64_t h = 0; h < n_heads; h++) {
        sk += r->keep[h * r->n_cand + r->chosen[h]];
        se += r->err[h * r->n_cand + r->chosen[h]];
    }
    r->mean_keep = sk / (double)n_heads;
    r->mean_err = se / (double)n_heads;
    return TCA_OK;
}

void tca_calib_report_free(tca_calib_report *r) {
    if (!r) return;
    free(r->cand_mu);
    free(r->cand_sigma);
    free(r->err);
    free(r->keep);
    free(r->chosen);
    free(r->e);
    free(r);
}

static tca_calib_report *report_new(int n_layer, int G, int block) {
    static const double sigmas[] = {0.25, 0.5, 1, 2, 4};
    const int n_mu = 2 * (int)log2(block) + 1, n_cand = n_mu * 5 + 1;
    tca_calib_report *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->n_layer = n_layer;
    r->n_head_kv = G;
    r->n_cand = n_cand;
    r->block = block;
    const size_t cells = (size_t)n_layer * G * n_cand;
    r->cand_mu = malloc(n_cand * sizeof(double));
    r->cand_sigma = malloc(n_cand * sizeof(double));
    r->err = malloc(cells * sizeof(double));
    r->keep = malloc(cells * sizeof(double));
    r->chosen = malloc((size_t)n_layer * G * sizeof(int));
    if (!r->cand_mu || !r->cand_sigma || !r->err || !r->keep || !r->chosen) {
        tca_calib_report_free(r);
        return NULL;
    }
    for (int i = 0; i < n_mu; i++)
        for (int j = 0; j < 5; j++) {
            r->cand_mu[i * 5 + j] = 0.5 * i;
            r->cand_sigma[i * 5 + j] = sigmas[j];
        }
    r->cand_mu[n_cand - 1] = log2(block); /* dense: every block keeps b */
    r->cand_sigma[n_cand - 1] = 0;
    return r;
}

/* The p of candidate ci (the last is dense: every block keeps b). */
static void candidate_p(const tca_calib_report *r, int ci, double *p) {
    memset(p, 0, TCA_MAX_COUNTS * sizeof *p);
    if (ci == r->n_cand - 1) p[tca_n_counts(r->block) - 1] = 1.0;
    else tca_log_gaussian(r->block, r->cand_mu[ci], r->cand_sigma[ci], p);
}

static void scratch_free(calib_state *st) {
    if (st->scratch)
        for (int t = 0; t < st->n_threads; t++) {
            calib_scratch *sc = &st->scratch[t];
            void *bufs[] = {sc->k, sc->v, sc->pos, sc->counts, sc->cum, sc->order, sc->red, sc->q, sc->m, sc->l,
                            sc->acc, sc->out};
            for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
        }
    free(st->scratch);
    free(st->dense_out);
    if (st->cand_p)
        for (int i = 0; i < st->n_cand; i++) free(st->cand_p[i]);
    free(st->cand_p);
}

static int scratch_alloc(calib_state *st, const tca_hparams *hp, int block) {
    const size_t n = (size_t)st->n, d = (size_t)hp->head_dim, grp = (size_t)(hp->n_head / hp->n_head_kv);
    const size_t nb = n / (size_t)block + 1, tile = (size_t)block * grp, outf = (n - (size_t)st->r0) * grp * d;
    st->scratch = calloc((size_t)st->n_threads, sizeof *st->scratch);
    st->dense_out = malloc((size_t)hp->n_head_kv * outf * sizeof(float));
    st->n_cand = st->rep->n_cand;
    st->cand_p = calloc((size_t)st->n_cand, sizeof *st->cand_p);
    if (!st->scratch || !st->dense_out || !st->cand_p) return -1;
    for (int t = 0; t < st->n_threads; t++) {
        calib_scratch *sc = &st->scratch[t];
        sc->k = malloc(n * d * sizeof(tca_f16));
        sc->v = malloc(n * d * sizeof(tca_f16));
        sc->pos = malloc(n * sizeof(int32_t));
        sc->counts = malloc(nb * sizeof(int32_t));
        sc->cum = malloc((nb + 1) * sizeof(int64_t));
        sc->order = malloc(nb * sizeof(int64_t));
        sc->red = malloc(nb * sizeof(float));
        sc->q = malloc(tile * d * sizeof(float));
        sc->m = malloc(tile * sizeof(float));
        sc->l = malloc(tile * sizeof(float));
        sc->acc = malloc(tile * d * sizeof(float));
        sc->out = malloc(outf * sizeof(float));
        if (!sc->k || !sc->v || !sc->pos || !sc->counts || !sc->cum || !sc->order || !sc->red || !sc->q || !sc->m ||
            !sc->l || !sc->acc || !sc->out)
            return -1;
    }
    for (int i = 0; i < st->rep->n_cand; i++) {
        st->cand_p[i] = calloc(TCA_MAX_COUNTS, sizeof(double));
        if (!st->cand_p[i]) return -1;
        candidate_p(st->rep, i, st->cand_p[i]);
    }
    return 0;
}

tca_status tca_calib_choose(const tca_model *m, tca_calib_report *r, const tca_calib_params *p, tca_budget **budget) {
    *budget = NULL;
    tca_status s = choose_all(r, p);
    if (s) return s;
    tca_budget *b = NULL;
    if ((s = tca_budget_new_uniform(m, p->block, p->sink, p->window, p->scorer, 0.0, 1.0, &b))) return s;
    b->redundancy = p->redundancy;
    float *sorted = malloc((size_t)(r->n_e + 1) * sizeof(float));
    if (!sorted) {
        tca_budget_free(b);
        return tca_fail(TCA_ERR_NOMEM, "calibrate: out of memory");
    }
    /* per head: the chosen p, its measured keep and error, and decode thresholds at the quantiles
     * of the head's block redundancies */
    for (int64_t h = 0; h < (int64_t)r->n_layer * r->n_head_kv; h++) {
        const int ci = r->chosen[h];
        tca_head_budget *hb = &b->heads[h];
        candidate_p(r, ci, hb->p);
        hb->mu = r->cand_mu[ci];
        hb->sigma = r->cand_sigma[ci] > 0 ? r->cand_sigma[ci] : 1.0; /* dense: p is one-hot; mu, sigma nominal */
        hb->keep = r->keep[h * r->n_cand + ci];
        hb->err = r->err[h * r->n_cand + ci];
        hb->has_thresholds = r->n_e > 0;
        if (r->n_e > 0) tca_thresholds_from(r->block, hb->p, r->e + h * r->n_e, r->n_e, hb->thresholds, sorted);
    }
    free(sorted);
    snprintf(b->calib_text, sizeof b->calib_text, "%s", p->text_name ? p->text_name : "");
    snprintf(b->calib_mode, sizeof b->calib_mode, "%s", p->mode == TCA_CALIB_TOLERANCE ? "tolerance" : "target-keep");
    b->calib_tokens = r->tokens;
    b->calib_target = p->mode == TCA_CALIB_TOLERANCE ? p->tolerance : p->target;
    *budget = b;
    return TCA_OK;
}

/* The block-last e of every compressible block of every head, recorded by the pass. */
static int keep_redundancies(tca_calib_report *r, const tca_sparse *s, int sink, int64_t n) {
    int64_t first, last;
    tca_compressible_blocks(s->b, sink, s->w, n, &first, &last);
    r->n_e = last - first;
    r->e = malloc((size_t)((int64_t)r->n_layer * r->n_head_kv * r->n_e + 1) * sizeof(float));
    if (!r->e) return -1;
    for (int l = 0; l < r->n_layer; l++)
        for (int g = 0; g < r->n_head_kv; g++)
            for (int64_t j = first; j < last; j++)
                r->e[((int64_t)l * r->n_head_kv + g) * r->n_e + j - first] = tca_sparse_score(s, l, g, j)[s->b];
    return 0;
}

tca_status tca_calibrate(const tca_model *m, const int32_t *tokens, int64_t n, const tca_calib_params *p,
                         tca_progress_fn progress, void *user, tca_budget **budget, tca_calib_report **report) {
    *budget = NULL;
    if (report) *report = NULL;
    const tca_hparams *hp = tca_model_hparams(m);
    if (p->rows < 1) return tca_fail(TCA_ERR_ARG, "calibrate: rows must be at least 1");
    if (p->mode == TCA_CALIB_TARGET_KEEP && !(p->target > 0 && p->target <= 1))
        return tca_fail(TCA_ERR_ARG, "calibrate: target keep %g is not in (0, 1]", p->target);
    if (p->mode == TCA_CALIB_TOLERANCE && !(p->tolerance >= 0))
        return tca_fail(TCA_ERR_ARG, "calibrate: tolerance %g is negative", p->tolerance);
    if (n <= (int64_t)p->sink + p->window + p->block)
        return tca_fail(TCA_ERR_RANGE, "calibrate: %lld tokens leave no block to compress after sink %d and window %d",
                        (long long)n, p->sink, p->window);
    tca_budget *keep_all = NULL, *out = NULL;
    tca_status s = tca_budget_new_uniform(m, p->block, p->sink, p->window, p->scorer, 0.0, 1.0, &keep_all);
    if (s) return s;
    keep_all->redundancy = p->redundancy;
    for (int64_t h = 0; h < (int64_t)hp->n_layer * hp->n_head_kv; h++) {
        memset(keep_all->heads[h].p, 0, sizeof keep_all->heads[h].p);
        keep_all->heads[h].p[tca_n_counts(p->block) - 1] = 1.0;
    }
    calib_state st = {.p = p, .n = n};
    st.r0 = n > p->rows ? (n - p->rows) / p->block * p->block : 0;
    tca_context_params cp = tca_context_default_params();
    cp.n_ctx = (int)n;
    cp.n_threads = p->n_threads;
    cp.attn = TCA_ATTN_TCA;
    cp.budget = keep_all;
    tca_context *c = NULL;
    if ((s = tca_context_new(m, &cp, &c))) goto done;
    st.n_threads = tca_context_n_threads(c);
    if (!(st.rep = report_new(hp->n_layer, hp->n_head_kv, p->block)) || scratch_alloc(&st, hp, p->block)) {
        s = tca_fail(TCA_ERR_NOMEM, "calibrate: out of memory for %lld tokens", (long long)n);
        goto done;
    }
    st.rep->tokens = n;
    c->layer_hook = layer_hook;
    c->layer_hook_user = &st;
    if ((s = tca_eval(c, tokens, n, NULL, progress, user))) goto done;
    if (keep_redundancies(st.rep, c->sparse, p->sink, n)) {
        s = tca_fail(TCA_ERR_NOMEM, "calibrate: out of memory");
        goto done;
    }
    if ((s = tca_calib_choose(m, st.rep, p, &out))) goto done;
    *budget = out;
    out = NULL;
    if (report) {
        *report = st.rep;
        st.rep = NULL;
    }
done:
    scratch_free(&st);
    tca_calib_report_free(st.rep);
    tca_context_free(c);
    tca_budget_free(keep_all);
    tca_budget_free(out);
    return s;
}
