/* Reference (scalar C) elementwise kernels: the specification of elementwise.h. Exported one by
 * one so that variants can hand tails (or whole kernels with nothing to vectorise) to them. */
#ifndef TCA_ELEMENTWISE_REF_H
#define TCA_ELEMENTWISE_REF_H

#include <stdint.h>

#include "elementwise.h"

struct tca_kernels;

void tca_rmsnorm_ref(const float *x, const float *w, float *y, int64_t n, float eps);
void tca_rope_ref(float *x, int64_t n_heads, int d, const float *cos, const float *sin, int neox);
void tca_silu_mul_ref(const float *g, const float *u, float *y, int64_t n);
void tca_softmax_ref(float *x, int64_t n);
void tca_f32_to_f16_ref(const float *x, tca_f16 *y, int64_t n);

/* The rmsnorm scale 1 / sqrt(sum_sq / n + eps), from the sum of squares accumulated in double.
 * Shared so that every variant rounds it identically. */
float tca_rmsnorm_scale(double sum_sq, int64_t n, float eps);

/* Fills the elementwise entries of the table. */
void tca_elementwise_ref_register(struct tca_kernels *k);

#endif
