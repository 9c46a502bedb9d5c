#include <math.h>
#include <stdlib.h>

#include "status_internal.h"
#include "tca/sample.h"

struct tca_sampler {
    tca_sampler_params p;
    int n_vocab;
    uint64_t state, inc;   /* PCG32 */
    struct cand { float logit; int32_t id; } *cand; /* (n_vocab) */
    float *prob;           /* (n_vocab) */
};

static uint32_t pcg32(tca_sampler *s) {
    uint64_t old = s->state;
    s->state = old * 6364136223846793005ULL + s->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

tca_sampler_params tca_sampler_default_params(void) {
    tca_sampler_params p = {0.0f, 40, 0.95f, 0};
    return p;
}

tca_status tca_sampler_new(const tca_sampler_params *p, int n_vocab, tca_sampler **out) {
    *out = NULL;
    if (!(p->temp >= 0.0f) || p->temp > 100.0f) return tca_fail(TCA_ERR_ARG, "sampler: temperature %g is not in [0, 100]", p->temp);
    if (p->top_k < 0) return tca_fail(TCA_ERR_ARG, "sampler: top-k %d is negative", p->top_k);
    if (!(p->top_p > 0.0f && p->top_p <= 1.0f)) return tca_fail(TCA_ERR_ARG, "sampler: top-p %g is not in (0, 1]", p->top_p);
    if (n_vocab <= 0) return tca_fail(TCA_ERR_ARG, "sampler: empty vocabulary");
    tca_sampler *s = calloc(1, sizeof *s);
    if (s) {
        s->cand = malloc((size_t)n_vocab * sizeof *s->cand);
        s->prob = malloc((size_t)n_vocab * sizeof *s->prob);
    }
    if (!s || !s->cand || !s->prob) {
        tca_sampler_free(s);
        return tca_fail(TCA_ERR_NOMEM, "sampler: out of memory");
    }
    s->p = *p;
    s->n_vocab = n_vocab;
    s->inc = (p->seed << 1u) | 1u;
    s->state = 0;
    pcg32(s);
    s->state += 0x853c49e6748fea9bULL ^ p->seed;
    pcg32(s);
    *out = s;
    return TCA_OK;
}

void tca_sampler_free(tca_sampler *s) {
    if (!s) return;
    free(s->cand);
    free(s->prob);
    free(s);
}

static int32_t argmax(const float *x, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

/* Descending by logit, ties by lower id: a total order, so results do not depend on qsort. */
static int by_logit_desc(const void *a, const void *b) {
    const struct cand *x = a, *y = b;
    if (x->logit != y->logit) return x->logit > y->logit ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

int32_t tca_sample(tca_sampler *s, const float *logits) {
    const int n = s->n_vocab;
    if (s->p.temp == 0.0f) return argmax(logits, n);
    /* Candidates: top-k by partial selection would be faster; a full sort of 150K ids costs
     * ~10 ms, small next to a forward step of the models we run. */
    int m = n;
    for (int i = 0; i < n; i++) s->cand[i] = (struct cand){logits[i], i};
    qsort(s->cand, (size_t)m, sizeof *s->cand, by_logit_desc);
    if (s->p.top_k > 0 && s->p.top_k < m) m = s->p.top_k;
    const float maxl = s->cand[0].logit;
    double sum = 0;
    for (int i = 0; i < m; i++) {
        s->prob[i] = expf((s->cand[i].logit - maxl) / s->p.temp);
        sum += s->prob[i];
    }
    double cum = 0;
    int keep = m;
    for (int i = 0; i < m; i++) {
        cum += s->prob[i] / sum;
        if (cum >= s->p.top_p) {
            keep = i + 1;
            break;
        }
    }
    double total = 0;
    for (int i = 0; i < keep; i++) total += s->prob[i];
    double r = (double)pcg32(s) / 4294967296.0 * total;
    for (int i = 0; i < keep; i++) {
        r -= s->prob[i];
        if (r < 0) return s->cand[i].id;
    }
    return s->cand[keep - 1].id;
}
