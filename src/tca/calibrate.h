/* Offline calibration of TCA head budgets (../shared/docs/tca-spec.md section 5, docs/tca.md):
 * one dense forward pass over a text; at every layer, every candidate retain-count distribution
 * is run per KV head through the inference path's own selection and sparse attention, and its
 * error against dense attention measured on the last query rows; one candidate per head is then
 * chosen for a target keep ratio (Lagrangian bisection) or an error tolerance. */
#ifndef TCA_CALIBRATE_H
#define TCA_CALIBRATE_H

#include <stdint.h>

#include "tca/budget.h"
#include "tca/context.h"
#include "tca/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tca_calib_mode { TCA_CALIB_TARGET_KEEP = 0, TCA_CALIB_TOLERANCE = 1 } tca_calib_mode;

typedef struct tca_calib_params {
    int block, sink, window;   /* 32, 64, 512 */
    tca_scorer scorer;
    tca_redundancy redundancy;
    int rows;                  /* R: last query rows whose attention error is measured (512) */
    tca_calib_mode mode;
    double target;             /* TARGET_KEEP: token-weighted mean keep over heads (0.39) */
    double tolerance;          /* TOLERANCE: per head, the smallest keep with error <= it */
    int n_threads;             /* 0: all cores */
    const char *text_name;     /* recorded in the budget file */
} tca_calib_params;

/* Everything measured: per (layer, KV head) and candidate, the relative L2 error of the group's
 * attention outputs against dense and the whole-cache keep ratio at the calibration length. */
typedef struct tca_calib_report {
    int n_layer, n_head_kv, n_cand, block;
    double *cand_mu, *cand_sigma; /* n_cand; the last candidate is dense (sigma 0) */
    double *err, *keep;           /* [(layer * n_head_kv + kv_head) * n_cand + cand] */
    int *chosen;                  /* [layer * n_head_kv + kv_head] */
    double lambda;                /* TARGET_KEEP: the multiplier found (0 for TOLERANCE) */
    double mean_keep, mean_err;   /* of the chosen candidates */
    int64_t tokens;
    float *e;                     /* [layer * n_head_kv + kv_head][n_e]: block-last e of the
                                   * compressible blocks (decode thresholds are their quantiles) */
    int64_t n_e;
} tca_calib_report;

tca_calib_params tca_calib_default_params(void);

/* Calibrates on tokens[0..n) (n > sink + window). progress: per layer of the forward pass.
 * *budget: the chosen budget (with thresholds, keep, err and calibration fields); *report (may be
 * NULL): every measurement. */
tca_status tca_calibrate(const tca_model *m, const int32_t *tokens, int64_t n, const tca_calib_params *p,
                         tca_progress_fn progress, void *user, tca_budget **budget, tca_calib_report **report);
void tca_calib_report_free(tca_calib_report *r);

/* Chooses again from the same measurements for p's mode and target (e.g. a second keep ratio):
 * the budget tca_calibrate would have written with those parameters; r's choice fields updated. */
tca_status tca_calib_choose(const tca_model *m, tca_calib_report *r, const tca_calib_params *p, tca_budget **budget);

#ifdef __cplusplus
}
#endif
#endif
