/* Budgets built in memory: the uniform configuration (every KV head the same log-Gaussian), and
 * the budget's lifetime. Reading and writing the file: budget_read.c, budget_write.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget_internal.h"
#include "select/policy.h"
#include "status_internal.h"

int tca_budget_n_counts(const tca_budget *b) { return tca_n_counts(b->block); }

int tca_budget_block_ok(int block) { return block >= 2 && block <= 64 && (block & (block - 1)) == 0; }

tca_budget *tca_budget_alloc(int n_layer, int n_head_kv) {
    tca_budget *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->heads = calloc((size_t)n_layer * (size_t)n_head_kv, sizeof *b->heads);
    if (!b->heads) {
        free(b);
        return NULL;
    }
    b->calib_target = -1;
    return b;
}

void tca_budget_free(tca_budget *b) {
    if (!b) return;
    free(b->heads);
    free(b);
}

static tca_status check_selection_args(int block, int sink, int window) {
    if (!tca_budget_block_ok(block))
        return tca_fail(TCA_ERR_ARG, "budget: block size %d is not a power of two in 2..64", block);
    if (sink < 0) return tca_fail(TCA_ERR_ARG, "budget: sink %d is negative", sink);
    if (window < 0 || window % block)
        return tca_fail(TCA_ERR_ARG, "budget: window %d is not a non-negative multiple of the block size %d",
                        window, block);
    return TCA_OK;
}

tca_status tca_budget_new_uniform(const tca_model *m, int block, int sink, int window, tca_scorer scorer,
                                  double mu, double sigma, tca_budget **out) {
    *out = NULL;
    if (!m) return tca_fail(TCA_ERR_ARG, "budget: a uniform budget needs the model");
    tca_status s = check_selection_args(block, sink, window);
    if (s) return s;
    if (!isfinite(mu)) return tca_fail(TCA_ERR_ARG, "budget: mu %g is not finite", mu);
    if (!(sigma > 0) || !isfinite(sigma))
        return tca_fail(TCA_ERR_ARG, "budget: sigma %g is not a positive number", sigma);
    if (scorer != TCA_SCORER_BLOCK_LAST && scorer != TCA_SCORER_PROMPT_LAST)
        return tca_fail(TCA_ERR_ARG, "budget: unknown scorer %d", (int)scorer);

    const tca_hparams *hp = tca_model_hparams(m);
    tca_budget *b = tca_budget_alloc(hp->n_layer, hp->n_head_kv);
    if (!b) return tca_fail(TCA_ERR_NOMEM, "budget: out of memory for %d x %d heads", hp->n_layer, hp->n_head_kv);
    snprintf(b->arch, sizeof b->arch, "%s", hp->arch_name);
    const char *name;
    size_t len;
    if (tca_gguf_get_str(tca_model_gguf(m), "general.name", &name, &len) == TCA_OK) {
        if (len >= sizeof b->name) len = sizeof b->name - 1;
        memcpy(b->name, name, len);
        b->name[len] = 0;
    }
    tca_model_fingerprint(m, b->fingerprint);
    b->n_layer = hp->n_layer;
    b->n_head = hp->n_head;
    b->n_head_kv = hp->n_head_kv;
    b->head_dim = hp->head_dim;
    b->block = block;
    b->sink = sink;
    b->window = window;
    b->scorer = scorer;
    b->redundancy = tca_default_redundancy(scorer);

    double p[TCA_MAX_COUNTS] = {0};
    tca_log_gaussian(block, mu, sigma, p);
    for (int l = 0; l < hp->n_layer; l++)
        for (int g = 0; g < hp->n_head_kv; g++) {
            tca_head_budget *h = &b->heads[l * hp->n_head_kv + g];
            h->layer = l;
            h->kv_head = g;
            h->mu = mu;
            h->sigma = sigma;
            memcpy(h->p, p, sizeof p);
            h->keep = -1;
            h->err = -1;
        }
    *out = b;
    return TCA_OK;
}

tca_status tca_budget_uniform_for_keep(const tca_model *m, int block, int sink, int window, tca_scorer scorer,
                                       int64_t L, double keep, double sigma, tca_budget **out) {
    *out = NULL;
    tca_status s = check_selection_args(block, sink, window);
    if (s) return s;
    double mu;
    if ((s = tca_uniform_mu(block, sink, window, L, keep, sigma, &mu))) return s;
    return tca_budget_new_uniform(m, block, sink, window, scorer, mu, sigma, out);
}

tca_status tca_budget_baseline(const tca_model *m, tca_method method, int block, int sink, int window, int64_t L,
                               double keep, tca_budget **out) {
    *out = NULL;
    tca_status s = check_selection_args(block, sink, window);
    if (s) return s;
    if (method != TCA_METHOD_STREAMING && method != TCA_METHOD_SNAPKV)
        return tca_fail(TCA_ERR_ARG, "budget: baseline method %d is neither streaming nor snapkv", (int)method);
    if (!(keep > 0.0 && keep <= 1.0)) return tca_fail(TCA_ERR_RANGE, "baseline: keep ratio %g is not in (0, 1]", keep);
    if (L < 1) return tca_fail(TCA_ERR_RANGE, "baseline: sequence length %lld < 1", (long long)L);
    const int64_t sink_end = ((int64_t)sink + block - 1) / block * block;
    const double held = keep * (double)L; /* rows every head may hold at L */
    double core_frac = 0;
    if (method == TCA_METHOD_STREAMING) {
        /* the raw part at L holds the window plus L % block tokens of the last, unfinished block */
        const int64_t w = (int64_t)floor((held - (double)sink_end - (double)(L % block)) / block) * block;
        if (w < block)
            return tca_fail(TCA_ERR_RANGE, "baseline streaming: keep %g at length %lld leaves no window after the sink %d",
                            keep, (long long)L, sink);
        window = (int)w;
    } else {
        int64_t first, last;
        tca_compressible_blocks(block, sink, window, L, &first, &last);
        const double n_comp = (double)(last - first) * block;
        if (n_comp > 0) core_frac = (held - ((double)L - n_comp)) / n_comp;
        if (core_frac < 0)
            return tca_fail(TCA_ERR_RANGE, "baseline snapkv: keep %g is below what sink %d + window %d hold at length %lld",
                            keep, sink, window, (long long)L);
        if (core_frac > 1) core_frac = 1;
    }
    /* p only names the retain counts here (the cache of a baseline is sized for every token) */
    if ((s = tca_budget_new_uniform(m, block, sink, window,
                                    method == TCA_METHOD_SNAPKV ? TCA_SCORER_PROMPT_LAST : TCA_SCORER_BLOCK_LAST, 0.0,
                                    1.0, out)))
        return s;
    (*out)->method = method;
    (*out)->core_frac = core_frac;
    return TCA_OK;
}

double tca_budget_keep_at(const tca_budget *b, int64_t L) {
    const int64_t n = (int64_t)b->n_layer * b->n_head_kv;
    double sum = 0;
    for (int64_t h = 0; h < n; h++) sum += tca_whole_cache_keep(b->block, b->sink, b->window, L, b->heads[h].p);
    return n > 0 ? sum / (double)n : 1.0;
}

/* every head's p from its own sigma and mu + shift */
static void shift_mu(tca_budget *b, const double *mu0, double shift) {
    const int64_t n = (int64_t)b->n_layer * b->n_head_kv;
    for (int64_t h = 0; h < n; h++) {
        b->heads[h].mu = mu0[h] + shift;
        tca_log_gaussian(b->block, b->heads[h].mu, b->heads[h].sigma, b->heads[h].p);
    }
}

tca_status tca_budget_lower_to_keep(tca_budget *b, int64_t L, double keep) {
    if (tca_budget_keep_at(b, L) <= keep) return TCA_OK;
    const int64_t n = (int64_t)b->n_layer * b->n_head_kv;
    double *mu0 = malloc((size_t)n * sizeof *mu0), *p0 = malloc((size_t)n * TCA_MAX_COUNTS * sizeof *p0);
    if (!mu0 || !p0) {
        free(mu0), free(p0);
        return tca_fail(TCA_ERR_NOMEM, "budget: out of memory");
    }
    for (int64_t h = 0; h < n; h++) {
        mu0[h] = b->heads[h].mu;
        memcpy(p0 + h * TCA_MAX_COUNTS, b->heads[h].p, sizeof b->heads[h].p);
    }
    /* keep_at grows with the shift; at lo every head sits on one token per block (the same
     * bracket as the uniform solver's, widened by the largest mu a file may hold) */
    double lo = -(log2((double)b->block) + 8.0), hi = 0.0;
    for (int64_t h = 0; h < n; h++)
        if (-(mu0[h] + 4.0) < lo) lo = -(mu0[h] + 4.0);
    shift_mu(b, mu0, lo);
    if (tca_budget_keep_at(b, L) > keep) {
        const double floor_keep = tca_budget_keep_at(b, L);
        for (int64_t h = 0; h < n; h++) {
            b->heads[h].mu = mu0[h];
            memcpy(b->heads[h].p, p0 + h * TCA_MAX_COUNTS, sizeof b->heads[h].p);
        }
        free(mu0), free(p0);
        return tca_fail(TCA_ERR_RANGE,
                        "budget: keep %g is below what sink %d + window %d and one token per block hold at "
                        "length %lld (%.4f)", keep, b->sink, b->window, (long long)L, floor_keep);
    }
    for (int it = 0; it < 60; it++) {
        const double mid = 0.5 * (lo + hi);
        shift_mu(b, mu0, mid);
        if (tca_budget_keep_at(b, L) <= keep) lo = mid;
        else hi = mid;
    }
    shift_mu(b, mu0, lo);
    for (int64_t h = 0; h < n; h++) b->heads[h].has_thresholds = 0;
    free(mu0), free(p0);
    return TCA_OK;
}
