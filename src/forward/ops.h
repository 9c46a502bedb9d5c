/* The building blocks of a forward step, shared by the token-batch loop (forward.c) and TCA's
 * layer-major prefill (prefill_layers.c). Each is called by every thread of an OpenMP region
 * (work-shared loops with implicit barriers) unless it says otherwise. */
#ifndef TCA_FORWARD_OPS_H
#define TCA_FORWARD_OPS_H

#include "forward_internal.h"

double fw_now(void);
/* ys[j] (T x ws[j]->rows) = x . ws[j]^T for n <= 4 weights that read the same input x. */
void fw_project(tca_context *c, int n, const tca_weight *const *ws, float *const *ys, const int64_t *ldys,
                const float *x, int64_t ldx, int64_t T);
void fw_linear(tca_context *c, const tca_weight *w, const float *x, int64_t ldx, int64_t T, float *y, int64_t ldy);
void fw_rmsnorm_rows(tca_context *c, const float *x, const tca_weight *w, float *y, int64_t T);
void fw_add_bias(float *y, int64_t ld, int64_t T, const tca_weight *b);
/* cos/sin tables of T rows at positions pos0.. into c->rope_cos/sin (T <= n_batch). */
void fw_rope_tables(tca_context *c, int64_t pos0, int64_t T);
void fw_embed(tca_context *c, const int32_t *tokens, float *x, int64_t T);
void fw_residual_add(float *x, const float *y, int64_t n);
void fw_swiglu(tca_context *c, int64_t T);
/* tca_eval_rows: the logits of the T rows of x (final residuals) at positions pos0.. handed to
 * c->rows_fn in chunks of n_batch rows (no-op when it is not set). */
void fw_rows_logits(tca_context *c, const float *x, int64_t pos0, int64_t T);
/* Accumulates elapsed time since *t0 into *slot (master only) and restarts the clock. */
void fw_lap(double *slot, double *t0);

#endif
