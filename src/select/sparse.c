/* The TCA cache: sizing from the budget, reset, accounting (sparse.h). */
#include "sparse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "status_internal.h"

static void *alloc(size_t bytes, uint64_t *total, int *failed) {
    void *p = NULL;
    size_t rounded = (bytes + 63) / 64 * 64;
    if (rounded == 0) rounded = 64;
    if (posix_memalign(&p, 64, rounded) != 0) {
        *failed = 1;
        return NULL;
    }
    *total += rounded;
    return p;
}

/* Rows the compact part of a head may need: the sink, and for the core the head's expected
 * share of every block that can ever be compressed with headroom for decode (whose thresholds
 * need not reproduce the prompt's proportions exactly), never less than one row per block. When
 * decode runs out of it, a block gets a smaller retain count (counted in capacity_clamps). */
static int64_t core_capacity(const tca_sparse *s, const double *p) {
    if (s->budget.method != TCA_METHOD_TCA) return s->n_ctx; /* baselines: sized for every token */
    const double rho = tca_core_ratio(s->b, p);
    const double share = fmin(1.0, 1.25 * rho + 0.02);
    int64_t core = (int64_t)ceil((double)s->n_blocks_max * s->b * share) + (int64_t)s->n_counts * s->b;
    if (core < s->n_blocks_max) core = s->n_blocks_max;
    int64_t cap = s->sink_end + core;
    return cap < s->n_ctx ? cap : s->n_ctx;
}

tca_status tca_sparse_new(const tca_hparams *hp, const tca_budget *budget, int64_t n_ctx, int n_threads,
                          tca_sparse **out, uint64_t *bytes) {
    *out = NULL;
    if (budget->n_layer != hp->n_layer || budget->n_head_kv != hp->n_head_kv || budget->head_dim != hp->head_dim ||
        budget->n_head != hp->n_head)
        return tca_fail(TCA_ERR_ARG, "tca: the budget is for a model of %d layers x %d KV heads of %d, not %d x %d of %d",
                        budget->n_layer, budget->n_head_kv, budget->head_dim, hp->n_layer, hp->n_head_kv, hp->head_dim);
    if (budget->prefill_window < 0 || budget->prefill_window % budget->block)
        return tca_fail(TCA_ERR_ARG, "tca: prefill window %d is not a non-negative multiple of the block size %d",
                        budget->prefill_window, budget->block);
    tca_sparse *s = calloc(1, sizeof *s);
    if (s == NULL) return tca_fail(TCA_ERR_NOMEM, "tca: out of memory");
    s->budget = *budget;
    const int64_t n_heads = (int64_t)hp->n_layer * hp->n_head_kv;
    s->budget.heads = malloc((size_t)n_heads * sizeof *s->budget.heads);
    if (s->budget.heads == NULL) {
        free(s);
        return tca_fail(TCA_ERR_NOMEM, "tca: out of memory");
    }
    memcpy(s->budget.heads, budget->heads, (size_t)n_heads * sizeof *s->budget.heads);
    s->b = budget->block;
    s->n_counts = tca_n_counts(s->b);
    s->w = budget->window;
    s->n_layer = hp->n_layer;
    s->G = hp->n_head_kv;
    s->grp = hp->n_head / hp->n_head_kv;
    s->d = hp->head_dim;
    s->n_ctx = n_ctx;
    s->sink_end = ((int64_t)budget->sink + s->b - 1) / s->b * s->b;
    if (s->sink_end > n_ctx) s->sink_end = n_ctx;
    s->n_blocks_max = n_ctx / s->b;
    s->stage_cap = n_ctx + s->w + s->b;

    int failed = 0;
    s->heads = calloc((size_t)n_heads, sizeof *s->heads);
    if (s->heads == NULL) failed = 1;
    int64_t total_rows = 0;
    for (int64_t h = 0; h < n_heads && !failed; h++) {
        tca_head_cache *hc = &s->heads[h];
        hc->core_cap = core_capacity(s, s->budget.heads[h].p);
        hc->cap = hc->core_cap + s->w + s->b;
        if (hc->cap > n_ctx) hc->cap = n_ctx;
        total_rows += hc->cap;
    }
    const size_t row_bytes = (size_t)s->d * sizeof(tca_f16);
    if (!failed) s->arena = alloc((size_t)total_rows * (2 * row_bytes + sizeof(int32_t)), bytes, &failed);
    if (!failed) {
        char *p = s->arena;
        for (int64_t h = 0; h < n_heads; h++) {
            tca_head_cache *hc = &s->heads[h];
            hc->k = (tca_f16 *)p;
            p += (size_t)hc->cap * row_bytes;
            hc->v = (tca_f16 *)p;
            p += (size_t)hc->cap * row_bytes;
            hc->pos = (int32_t *)p;
            p += (size_t)hc->cap * sizeof(int32_t);
        }
    }
    const size_t G = (size_t)s->G, nb = (size_t)s->n_blocks_max;
    s->scores = alloc((size_t)n_heads * nb * (size_t)(s->b + 1) * 4, bytes, &failed);
    s->q_all = alloc((size_t)n_ctx * (size_t)hp->n_head * (size_t)s->d * 4, bytes, &failed);
    s->x_all = alloc((size_t)n_ctx * (size_t)hp->n_embd * 4, bytes, &failed);
    s->stage_k = alloc(G * (size_t)s->stage_cap * row_bytes, bytes, &failed);
    s->stage_v = alloc(G * (size_t)s->stage_cap * row_bytes, bytes, &failed);
    s->counts = alloc(G * nb * sizeof(int32_t), bytes, &failed);
    s->cum = alloc(G * (nb + 1) * sizeof(int64_t), bytes, &failed);
    s->n_compact0 = alloc(G * sizeof(int64_t), bytes, &failed);
    s->red = alloc(G * nb * 4, bytes, &failed);
    s->order = alloc(G * nb * sizeof(int64_t), bytes, &failed);
    if (budget->scorer == TCA_SCORER_PROMPT_LAST) {
        s->pl_a = alloc(G * (size_t)(n_ctx + s->w + 2 * s->b) * 4, bytes, &failed);
        s->pl_scores = alloc((size_t)n_heads * nb * (size_t)(s->b + 1) * 4, bytes, &failed);
    }
    s->thread_scratch_floats = (int64_t)s->grp * (n_ctx + s->w + 2 * s->b) + 2 * (int64_t)nb + s->b;
    s->thread_scratch = alloc((size_t)n_threads * (size_t)s->thread_scratch_floats * 4, bytes, &failed);
    if (failed) {
        tca_sparse_free(s);
        return tca_fail(TCA_ERR_NOMEM, "tca: cannot allocate the TCA cache for %lld tokens", (long long)n_ctx);
    }
    tca_sparse_reset(s);
    *out = s;
    return TCA_OK;
}

void tca_sparse_free(tca_sparse *s) {
    if (s == NULL) return;
    void *bufs[] = {s->arena, s->scores, s->q_all, s->x_all, s->stage_k, s->stage_v, s->counts, s->cum,
                    s->n_compact0, s->red, s->order, s->pl_a, s->pl_scores, s->thread_scratch, s->heads, s->budget.heads};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    free(s);
}

void tca_sparse_reset(tca_sparse *s) {
    for (int64_t h = 0; h < (int64_t)s->n_layer * s->G; h++) s->heads[h].n = s->heads[h].n_compact = 0;
    s->raw_pos0 = 0;
    s->n_scored = 0;
    s->capacity_clamps = 0;
    if (s->pl_scores) /* every block unranked: NaN keys */
        for (int64_t blk = 0, n = (int64_t)s->n_layer * s->G * s->n_blocks_max; blk < n; blk++)
            s->pl_scores[blk * (s->b + 1) + s->b] = NAN;
}

void tca_sparse_stats(const tca_sparse *s, int64_t n_tokens, tca_cache_stats *out) {
    memset(out, 0, sizeof *out);
    int64_t rows = 0;
    out->layer_min = INFINITY;
    for (int l = 0; l < s->n_layer; l++) {
        int64_t lrows = 0;
        for (int g = 0; g < s->G; g++) lrows += tca_sparse_head(s, l, g)->n;
        double keep = n_tokens ? (double)lrows / ((double)n_tokens * s->G) : 1.0;
        out->layer_mean += keep / s->n_layer;
        out->layer_min = fmin(out->layer_min, keep);
        out->layer_max = fmax(out->layer_max, keep);
        rows += lrows;
    }
    out->rows_held = rows;
    out->rows_dense = n_tokens * s->n_layer * s->G;
    out->keep = out->rows_dense ? (double)rows / (double)out->rows_dense : 1.0;
    out->kv_bytes = (uint64_t)rows * (uint64_t)s->d * 2 * sizeof(tca_f16);
    out->kv_bytes_dense = (uint64_t)out->rows_dense * (uint64_t)s->d * 2 * sizeof(tca_f16);
    out->capacity_clamps = s->capacity_clamps;
}
