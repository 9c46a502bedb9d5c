/* Token sampling from logits: greedy when temp == 0, else temperature, then top-k, then top-p
 * (nucleus) over the survivors, drawn with a seeded PCG32 generator so that a seed reproduces a
 * run exactly. */
#ifndef TCA_SAMPLE_H
#define TCA_SAMPLE_H

#include <stdint.h>

#include "tca/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tca_sampler tca_sampler;

typedef struct tca_sampler_params {
    float temp;     /* 0: greedy (argmax, lowest id on ties) */
    int top_k;      /* 0: no limit */
    float top_p;    /* 1: no limit; in (0, 1] */
    uint64_t seed;
} tca_sampler_params;

tca_sampler_params tca_sampler_default_params(void); /* temp 0, top_k 40, top_p 0.95, seed 0 */
/* Validates the parameters (TCA_ERR_ARG naming the bad one) and allocates scratch for n_vocab. */
tca_status tca_sampler_new(const tca_sampler_params *p, int n_vocab, tca_sampler **out);
void tca_sampler_free(tca_sampler *s);
/* Picks a token from n_vocab logits (not modified). */
int32_t tca_sample(tca_sampler *s, const float *logits);

#ifdef __cplusplus
}
#endif
#endif
