/* TCA head budgets: the per-KV-head retain-count distributions that drive token selection, and
 * the JSON head-budget file that stores them (../shared/docs/tca-spec.md sections 2 and 6,
 * docs/tca.md). One reader and one writer, used by the runtime, calibration and the CUDA path. */
#ifndef TCA_BUDGET_H
#define TCA_BUDGET_H

#include <stddef.h>
#include <stdint.h>

#include "tca/model.h"
#include "tca/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TCA_MAX_COUNTS 7 /* retain counts 1, 2, 4, ..., 64: block sizes up to 64 */

typedef enum tca_scorer { TCA_SCORER_BLOCK_LAST = 0, TCA_SCORER_PROMPT_LAST = 1 } tca_scorer;
typedef enum tca_redundancy { TCA_REDUNDANCY_ENTROPY = 0, TCA_REDUNDANCY_MASS = 1 } tca_redundancy;

/* The selection settings used where neither a budget file nor an option gives one: uniform TCA
 * in the CLI (--tca-keep), the evaluation harness without a calibrated file, and calibration.
 * prompt-last answered more questions than block-last (docs/eval/README.md). */
#define TCA_DEFAULT_BLOCK 32
#define TCA_DEFAULT_SINK 64
#define TCA_DEFAULT_WINDOW 512
#define TCA_DEFAULT_SCORER TCA_SCORER_PROMPT_LAST

/* The ranking key (spec 4.2) where neither a budget file nor an option gives one: with the
 * prompt-last scorer a block's mass, which kept every needle that entropy ranking lost on Qwen
 * retrieval (docs/eval/README.md); with block-last the entropy (a block's own softmax has mass 1). */
static inline tca_redundancy tca_default_redundancy(tca_scorer scorer) {
    return scorer == TCA_SCORER_PROMPT_LAST ? TCA_REDUNDANCY_MASS : TCA_REDUNDANCY_ENTROPY;
}

/* What drives the selection. TCA is the product. The other two are the evaluation's baselines
 * (docs/eval/README.md), run by the same cache and kernels at the same KV budget; they exist
 * only in memory (tca_budget_baseline) and are never read from or written to a file:
 *  STREAMING: StreamingLLM, the sink and a recent window only (every block leaving the window
 *             keeps nothing);
 *  SNAPKV:    SnapKV-like, each head keeps the top core_frac of a prompt's compressible tokens
 *             by the prompt's last query (one top-k over all of them, the same fraction for
 *             every head, no per-block budget); tokens generated later are all kept. */
typedef enum tca_method { TCA_METHOD_TCA = 0, TCA_METHOD_STREAMING = 1, TCA_METHOD_SNAPKV = 2 } tca_method;

typedef struct tca_head_budget {
    int layer, kv_head;
    double mu, sigma;                     /* the log-Gaussian this head uses */
    double p[TCA_MAX_COUNTS];             /* n_counts entries: fraction of blocks keeping 1, 2, 4, .. b */
    double thresholds[TCA_MAX_COUNTS - 1];/* n_counts - 1 entries: decode retain-count cut points on e */
    int has_thresholds;                   /* 0: none stored (decode uses the sequence's own quantiles) */
    double keep, err;                     /* measured at calibration (keep ratio of the core; rel. L2 error); -1 unknown */
} tca_head_budget;

typedef struct tca_budget {
    /* model the file is for */
    char arch[32], name[128], fingerprint[17];
    int n_layer, n_head, n_head_kv, head_dim;
    /* selection parameters */
    int block, sink, window; /* b (power of two, 2..64), s, w (a multiple of b) */
    tca_scorer scorer;
    tca_redundancy redundancy; /* optional in the file ("redundancy"; absent: entropy, as in files written before mass) */
    tca_method method;         /* TCA for every file */
    double core_frac;          /* SNAPKV: fraction of each prompt's compressible tokens kept */
    /* raw tokens before its block that a prefill query sees, when more than the window (a
     * multiple of b; 0: the window). The cache keeps only the window; this widens what the
     * prompt's own rows attend to, for measuring where selection loses (tca eval's
     * prefill-window=). Not in the budget file: a runtime choice (tca --tca-prefill-window). */
    int prefill_window;
    /* calibration provenance (empty / 0 / -1 when not calibrated) */
    char calib_text[256], calib_mode[32];
    int64_t calib_tokens;
    double calib_target;
    /* n_layer * n_head_kv records, index layer * n_head_kv + kv_head */
    tca_head_budget *heads;
} tca_budget;

/* log2(block) + 1: the number of retain counts 1, 2, ..., block. */
int tca_budget_n_counts(const tca_budget *b);

/* A budget for model m with every head at the same p (from mu, sigma); thresholds none. */
tca_status tca_budget_new_uniform(const tca_model *m, int block, int sink, int window, tca_scorer scorer,
                                  double mu, double sigma, tca_budget **out);

/* The uniform configuration of `tca --tca-keep X`: every head the log-Gaussian with this sigma
 * whose whole-cache keep ratio (sink + kept + window over all tokens) at length L is keep.
 * TCA_ERR_RANGE when sink + window alone hold more than keep at L (the message says so). */
tca_status tca_budget_uniform_for_keep(const tca_model *m, int block, int sink, int window, tca_scorer scorer,
                                       int64_t L, double keep, double sigma, tca_budget **out);

/* The whole-cache keep ratio a prompt of L tokens gets under b: the mean over heads of each
 * head's keep (sink and window whole, the compressible blocks in the proportions of its p). */
double tca_budget_keep_at(const tca_budget *b, int64_t L);

/* Fits a TCA budget to a prompt shorter than it was calibrated for, by its core rather than its
 * window: moves every head's mu down by one common amount (p recomputed from mu and the head's
 * own sigma, so heads keep their order) to the largest shift whose tca_budget_keep_at(b, L) is
 * at most keep; stored decode thresholds, cut for the old p, are dropped. Nothing changes when
 * b already keeps at most keep. TCA_ERR_RANGE (b unchanged) when sink, window and one token per
 * compressible block already hold more than keep at L. */
tca_status tca_budget_lower_to_keep(tca_budget *b, int64_t L, double keep);

/* A baseline (method STREAMING or SNAPKV) whose whole-cache keep ratio at length L is keep,
 * uniform across heads. STREAMING keeps the sink and sets the window to the rest of the budget
 * (whole blocks; `window` is ignored); SNAPKV keeps sink and window and solves core_frac.
 * TCA_ERR_RANGE when the sink (and window) alone hold more than keep at L. */
tca_status tca_budget_baseline(const tca_model *m, tca_method method, int block, int sink, int window, int64_t L,
                               double keep, tca_budget **out);

/* Reads and validates a budget file against model m (m may be NULL: model checks skipped).
 * Everything of spec section 6 is checked; a bad file is TCA_ERR_FORMAT (or TCA_ERR_IO) with a
 * message naming the file and the field, and *out stays NULL. */
tca_status tca_budget_load(const char *path, const tca_model *m, tca_budget **out);
tca_status tca_budget_parse(const char *json, size_t len, const tca_model *m, tca_budget **out);

/* Deterministic JSON (same budget -> same bytes; numbers round-trip exactly through the reader).
 * tca_budget_to_json returns a malloc'ed string; tca_budget_save writes atomically. */
char *tca_budget_to_json(const tca_budget *b);
tca_status tca_budget_save(const tca_budget *b, const char *path);

void tca_budget_free(tca_budget *b);

/* The model's fingerprint: 16 lowercase hex digits of FNV-1a 64 over every tensor's name, shape
 * and type in file order (docs/tca.md gives the exact byte sequence). */
void tca_model_fingerprint(const tca_model *m, char out[17]);

#ifdef __cplusplus
}
#endif
#endif
